//! Cover pages as a recipient sees them: the text `pdftotext` finds on the page, one A4 page,
//! the fall-back to the default cover, and templates that fail named by their file. Needs
//! `poppler-utils` (in `.ci/run`); a missing tool fails the test, naming its package.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use umsgate_render::cover::{CoverError, CoverFields, Covers, DEFAULT_COVER};

/// A fresh scratch folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "umsgate-cover-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.0.join(name), text).unwrap();
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a poppler tool on a PDF given on stdin; its absence fails the test.
fn poppler(name: &str, args: &[&str], pdf: &[u8]) -> String {
    let mut child = Command::new(name)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {name} ({e}): apt-get install poppler-utils"));
    child.stdin.take().unwrap().write_all(pdf).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn text_of(pdf: &[u8]) -> String {
    poppler("pdftotext", &["-layout", "-", "-"], pdf)
}

/// Page count and size from `pdfinfo`.
fn page_facts(pdf: &[u8]) -> (u32, String) {
    let info = poppler("pdfinfo", &["-"], pdf);
    let field = |k: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no {k} in {info}"))
    };
    (field("Pages:").parse().unwrap(), field("Page size:"))
}

fn fields() -> CoverFields {
    CoverFields {
        recipient_number: "+49 89 1234 5678".into(),
        recipient_name: Some("Maria Schneider".into()),
        sender_name: Some("Jonas Weber".into()),
        sender_address: "jonas.weber@example.com".into(),
        sender_fields: [
            ("company", "Example Logistics"),
            ("street", "Hafenstrasse 12"),
            ("zip", "20457"),
            ("city", "Hamburg"),
            ("department", "Customer Service"),
            ("office", "Building C"),
            ("phone", "+49 40 555 0100"),
            ("fax", "+49 40 555 0199"),
            ("custom1", "VAT DE123456789"),
            ("custom2", "Register HRB 4711"),
            ("custom3", "Open Mon-Fri"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        subject: Some("Delivery schedule".into()),
        date: "4 December 2026".into(),
        pages: 3,
        body: Some("Dear Ms Schneider,\n\nthe pallets leave on Monday.\n\nKind regards".into()),
    }
}

#[test]
fn both_built_in_covers_show_the_fields_on_one_a4_page() {
    let covers = Covers::load(None).unwrap();
    assert!(covers.problems().is_empty(), "{:?}", covers.problems());
    assert_eq!(covers.names().collect::<Vec<_>>(), ["compact", "standard"]);
    assert_eq!(covers.default_name(), DEFAULT_COVER);
    for name in ["standard", "compact"] {
        let cover = covers.render(Some(name), &fields()).unwrap();
        assert_eq!((cover.used.as_str(), cover.fell_back), (name, false));
        let (pages, size) = page_facts(&cover.pdf);
        assert_eq!(pages, 1);
        assert!(size.starts_with("595.276 x 841.89"), "{size}");
        let text = text_of(&cover.pdf);
        let mut want = vec![
            "Maria Schneider",
            "+49 89 1234 5678",
            "Jonas Weber",
            "Example Logistics",
            "+49 40 555 0199",
            "Delivery schedule",
            "4 December 2026",
            "3 pages",
            "the pallets leave on Monday.",
            "Kind regards",
        ];
        if name == "standard" {
            want.extend([
                "Hafenstrasse 12",
                "20457 Hamburg",
                "Customer Service, Building C",
                "jonas.weber@example.com",
                "+49 40 555 0100",
                "VAT DE123456789",
                "Register HRB 4711",
                "Open Mon-Fri",
            ]);
        }
        for w in want {
            assert!(text.contains(w), "{name}: {w:?} missing in\n{text}");
        }
    }
}

#[test]
fn markup_in_values_is_shown_literally_and_cannot_change_the_page() {
    let covers = Covers::load(None).unwrap();
    let mut f = fields();
    f.subject = Some(r#"Q&A <b>bold</b> "quoted" 'single'"#.into());
    f.sender_fields.insert(
        "company".into(),
        r#"</text><text x="0" y="0">INJECTED</text><text>"#.into(),
    );
    f.body = Some("]]><!-- & --> <svg onload=\"x\">\x01\x1b".into());
    let pdf = covers.render(Some("standard"), &f).unwrap().pdf;
    let text = text_of(&pdf);
    assert!(
        text.contains(r#"Q&A <b>bold</b> "quoted" 'single'"#),
        "{text}"
    );
    assert!(
        text.contains(r#"</text><text x="0" y="0">INJECTED</text><text>"#),
        "{text}"
    );
    assert!(text.contains("]]><!-- & --> <svg onload=\"x\">"), "{text}");
    // Nothing escaped twice.
    assert!(!text.contains("&amp;") && !text.contains("&lt;"), "{text}");
}

#[test]
fn values_too_long_for_their_place_are_cut_visibly() {
    let covers = Covers::load(None).unwrap();
    let mut f = fields();
    f.subject = Some(format!("Quarterly report {}", "and more ".repeat(30)));
    for name in ["standard", "compact"] {
        let text = text_of(&covers.render(Some(name), &f).unwrap().pdf);
        let line = text
            .lines()
            .find(|l| l.contains("Quarterly report"))
            .unwrap_or_else(|| panic!("{name}: no subject in\n{text}"));
        // The subject stops with an ellipsis within its box (the page count may follow).
        let shown = line.trim_start().split('…').next().unwrap_or_default();
        assert!(line.contains('…'), "{name}: {line:?}");
        assert!(shown.chars().count() < 60, "{name}: {line:?}");
    }
}

#[test]
fn an_unknown_name_draws_the_default_and_says_so() {
    let covers = Covers::load(None).unwrap();
    let cover = covers.render(Some("no-such-cover"), &fields()).unwrap();
    assert_eq!(cover.used, DEFAULT_COVER);
    assert!(cover.fell_back);
    let named = covers.render(Some("Compact"), &fields()).unwrap();
    assert_eq!((named.used.as_str(), named.fell_back), ("compact", false));
    let none = covers.render(None, &fields()).unwrap();
    assert_eq!((none.used.as_str(), none.fell_back), (DEFAULT_COVER, false));
}

const MINI: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" width="300" height="150" viewBox="0 0 300 150"><text x="5" y="20" font-size="8">{{ recipient_number }} {{ custom1 }}</text></svg>"#;

#[test]
fn folder_covers_join_the_built_in_ones_and_broken_ones_are_named() {
    let dir = Scratch::new("folder");
    dir.write("Letter.svg", MINI);
    dir.write("standard.sms.txt", "ACME: \n");
    dir.write("syntax.svg", "<svg>{% if %}</svg>");
    dir.write("typo.svg", &MINI.replace("custom1", "costum1"));
    dir.write("notsvg.svg", "{{ subject }} is not an SVG");
    dir.write("readme.txt", "ignored");
    let covers = Covers::load(Some(&dir.0)).unwrap();
    assert_eq!(
        covers.names().collect::<Vec<_>>(),
        ["compact", "letter", "standard"]
    );
    let mut named: Vec<String> = covers
        .problems()
        .iter()
        .map(|p| {
            let text = p.to_string();
            assert!(text.contains(&dir.0.display().to_string()), "{text}");
            match p {
                CoverError::Template { file, .. } | CoverError::Svg { file, .. } => {
                    file.file_name().unwrap().to_string_lossy().into_owned()
                }
                other => panic!("{other}"),
            }
        })
        .collect();
    named.sort();
    assert_eq!(named, ["notsvg.svg", "syntax.svg", "typo.svg"]);
    assert_eq!(covers.sms_header(None), Some("ACME:"));
    assert_eq!(covers.sms_header(Some("Standard")), Some("ACME:"));
    assert_eq!(covers.sms_header(Some("letter")), None);

    // A template of any size ends up on an A4 page, scaled to fit.
    let cover = covers.render(Some("LETTER"), &fields()).unwrap();
    assert_eq!(cover.used, "letter");
    let (pages, size) = page_facts(&cover.pdf);
    assert_eq!(
        (pages, size.starts_with("595.276 x 841.89")),
        (1, true),
        "{size}"
    );
    let text = text_of(&cover.pdf);
    assert!(text.contains("+49 89 1234 5678 VAT DE123456789"), "{text}");
}

#[test]
fn a_folder_that_cannot_be_listed_is_an_error_naming_it() {
    let missing = Path::new("/nonexistent/umsgate-covers");
    match Covers::load(Some(missing)) {
        Err(e @ CoverError::Folder { .. }) => {
            assert!(e.to_string().contains("/nonexistent/umsgate-covers"));
        }
        other => panic!("{other:?}"),
    }
}

mod any_values {
    use std::sync::LazyLock;

    use proptest::prelude::*;

    use super::*;

    static COVERS: LazyLock<Covers> = LazyLock::new(|| Covers::load(None).unwrap());

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        /// Whatever the values (markup, control characters, any script, very long), both
        /// covers draw one page.
        #[test]
        fn any_field_values_give_one_page(
            subject in "\\PC{0,80}|[<>&\"'\\]\\x00-\\x1f]{0,40}",
            name in "\\PC{0,40}",
            body in "(\\PC{0,120}\n){0,60}",
            long in 0usize..3,
            pages in any::<u32>(),
        ) {
            let covers = &*COVERS;
            let mut f = fields();
            f.subject = Some(subject.repeat(1 + long * 20));
            f.recipient_name = Some(name);
            f.body = Some(body);
            f.pages = pages;
            for cover in ["standard", "compact"] {
                let pdf = covers.render(Some(cover), &f).unwrap().pdf;
                prop_assert_eq!(umsgate_fax::page_count(&pdf).unwrap(), 1);
            }
        }
    }
}

#[test]
fn a_raster_logo_next_to_the_template_is_drawn() {
    let dir = Scratch::new("logo");
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, 8, 4);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&[0u8; 32]).unwrap();
    }
    std::fs::write(dir.0.join("logo.png"), &png).unwrap();
    dir.write(
        "brand.svg",
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="210mm" height="297mm" viewBox="0 0 595.276 841.89"><image x="56" y="40" width="80" height="40" xlink:href="logo.png"/><text x="56" y="120">{{ subject }}</text></svg>"#,
    );
    let covers = Covers::load(Some(&dir.0)).unwrap();
    assert!(covers.problems().is_empty(), "{:?}", covers.problems());
    let pdf = covers.render(Some("brand"), &fields()).unwrap().pdf;
    let images = poppler("pdfimages", &["-list", "-"], &pdf);
    assert!(images.lines().any(|l| l.contains(" 8     4 ")), "{images}");
}
