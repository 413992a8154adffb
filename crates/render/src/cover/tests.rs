#![allow(clippy::unwrap_used)]

use super::*;

#[test]
fn wrap_breaks_at_blanks_keeps_blank_lines_and_marks_a_cut() {
    let text = "one two three four\n\nfive";
    assert_eq!(
        wrap(Some(text.into()), 9, None),
        ["one two", "three", "four", "", "five"]
    );
    assert_eq!(wrap(Some(text.into()), 9, Some(2)), ["one two", "three…"]);
    assert!(wrap(None, 9, None).is_empty());
    assert!(wrap(Some("\n\n".into()), 9, None).is_empty());
    // Silly arguments are bounded, not obeyed.
    assert_eq!(wrap(Some("abc".into()), 0, None), ["a", "b", "c"]);
}

#[test]
fn values_lose_control_characters_and_are_bounded() {
    assert_eq!(clean(" a\tb\x01c\u{fffe}\n"), "a bc");
    assert_eq!(clean(&"x".repeat(2000)).len(), MAX_FIELD);
    assert_eq!(clean_body("a\x0cb\x1b[1mc\n"), "a\x0cb[1mc\n");
    let long = "é".repeat(MAX_BODY);
    assert!(clean_body(&long).len() <= MAX_BODY);
}

#[test]
fn names_are_file_stems_without_case() {
    assert!(valid_stem("standard"));
    assert!(valid_stem("de_mit-absender.2"));
    assert!(!valid_stem(".hidden"));
    assert!(!valid_stem("a b"));
    assert!(!valid_stem(""));
    assert_eq!(key(" Standard "), "standard");
}

#[test]
fn every_field_the_module_lists_is_in_the_context() {
    let ctx = context(&sample_fields());
    for name in DIRECTORY_FIELDS.iter().chain(&[
        "recipient_number",
        "recipient_name",
        "sender_name",
        "sender_address",
        "subject",
        "date",
        "pages",
        "body",
        "body_lines",
    ]) {
        assert!(!ctx.get_attr(name).unwrap().is_undefined(), "{name}");
    }
}

#[test]
fn covers_can_be_shared_between_tasks() {
    fn shared<T: Send + Sync>() {}
    shared::<Covers>();
    shared::<CoverError>();
}
