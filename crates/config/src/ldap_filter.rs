//! LDAP filter templates: compiled once when the configuration loads, filled per lookup.
//!
//! Implementation summary: a template such as
//! `(|(facsimileTelephoneNumber=${UMS})(facsimileTelephoneNumber=${UMS}_wHTSPC))` is split
//! into static text and placeholders. Compiling checks that only the placeholders of its key
//! occur, that parentheses balance, and that the template with sample values is a filter the
//! LDAP client can encode; so a broken template is a configuration error naming its key, not
//! a failure at the first message. Filling escapes **every** value per RFC 4515 (`*` `(` `)`
//! `\` NUL, plus the other control characters) at the point of interpolation: there is no
//! placeholder that is pushed unescaped.
//!
//! Placeholders: `${UMS}` is the called number in the site's spaced canonical form
//! (`+49 8142 4799123`), `${UMS}_wHTSPC` the same without white space (`+4981424799123`),
//! `${MAIL}` the sender address. Numbers are normalised with the site plan before they get here;
//! the spaced form is the called number as the engine signalled it when that was already spaced
//! canonically (another site's spacing), else this site's (`crate::directory::NumberQuery`).

use std::fmt;

/// Which values a template may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateKind {
    /// `number_filter`: `${UMS}` and `${UMS}_wHTSPC`.
    Number,
    /// `sender_filter`: `${MAIL}`.
    Sender,
}

impl TemplateKind {
    fn allowed(self) -> &'static [&'static str] {
        match self {
            TemplateKind::Number => &["${UMS}", "${UMS}_wHTSPC"],
            TemplateKind::Sender => &["${MAIL}"],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Static(String),
    /// `${UMS}`.
    Spaced,
    /// `${UMS}_wHTSPC`.
    Compact,
    /// `${MAIL}`.
    Mail,
}

/// The values a template is filled with; absent ones are refused at compile time.
#[derive(Debug, Clone, Copy)]
pub enum Values<'a> {
    Number { spaced: &'a str, compact: &'a str },
    Sender { mail: &'a str },
}

/// Why a template does not compile; `Display` names the template (the caller names the key).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FilterError {
    /// A `)` closes more than was opened.
    UnbalancedClose { template: String },
    /// The parentheses do not balance, or do not enclose the whole template.
    Unbalanced { template: String },
    /// A `${` has no `}`.
    UnclosedPlaceholder { template: String },
    /// A placeholder that this key does not take.
    UnknownPlaceholder {
        spelled: String,
        allowed: &'static [&'static str],
    },
    /// The filled template is not a filter the LDAP client can encode.
    Invalid { template: String },
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterError::UnbalancedClose { template } => {
                write!(f, "unbalanced `)` in filter `{template}`")
            }
            FilterError::Unbalanced { template } => {
                write!(f, "unbalanced parentheses in filter `{template}`")
            }
            FilterError::UnclosedPlaceholder { template } => {
                write!(f, "unclosed `${{` in filter `{template}`")
            }
            FilterError::UnknownPlaceholder { spelled, allowed } => write!(
                f,
                "unknown placeholder `{spelled}` in filter; allowed: {}",
                allowed.join(", ")
            ),
            FilterError::Invalid { template } => {
                write!(f, "`{template}` is not a valid LDAP filter (RFC 4515)")
            }
        }
    }
}

impl std::error::Error for FilterError {}

/// A compiled filter template.
#[derive(Clone, PartialEq, Eq)]
pub struct FilterTemplate {
    kind: TemplateKind,
    source: String,
    items: Vec<Item>,
}

impl fmt::Debug for FilterTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FilterTemplate({:?})", self.source)
    }
}

impl fmt::Display for FilterTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FilterTemplate {
    /// Compiles `template` for `kind`; the error says what is wrong (the caller names the key).
    pub fn compile(template: &str, kind: TemplateKind) -> Result<FilterTemplate, FilterError> {
        let owned = || template.to_owned();
        let mut depth = 0i32;
        for c in template.chars() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth < 0 {
                        return Err(FilterError::UnbalancedClose { template: owned() });
                    }
                }
                _ => {}
            }
        }
        if depth != 0 || !template.starts_with('(') || !template.ends_with(')') {
            return Err(FilterError::Unbalanced { template: owned() });
        }
        let mut items = Vec::new();
        let mut rest = template;
        while let Some(i) = rest.find("${") {
            if i > 0 {
                items.push(Item::Static(rest[..i].to_owned()));
            }
            let tail = &rest[i..];
            let end = tail
                .find('}')
                .ok_or_else(|| FilterError::UnclosedPlaceholder { template: owned() })?;
            let name = &tail[..=end];
            let (item, len) = match name {
                "${UMS}" if tail[end + 1..].starts_with("_wHTSPC") => (Item::Compact, end + 8),
                "${UMS}" => (Item::Spaced, end + 1),
                "${MAIL}" => (Item::Mail, end + 1),
                _ => (Item::Static(String::new()), 0),
            };
            let spelled = &tail[..len.max(end + 1)];
            if len == 0 || !kind.allowed().contains(&spelled) {
                return Err(FilterError::UnknownPlaceholder {
                    spelled: spelled.to_owned(),
                    allowed: kind.allowed(),
                });
            }
            items.push(item);
            rest = &tail[len..];
        }
        if !rest.is_empty() {
            items.push(Item::Static(rest.to_owned()));
        }
        let t = FilterTemplate {
            kind,
            source: template.to_owned(),
            items,
        };
        // The LDAP client encodes the filter itself: refuse what it would refuse at run time.
        let sample = match kind {
            TemplateKind::Number => t.fill(Values::Number {
                spaced: "+49 8142 4799123",
                compact: "+4981424799123",
            }),
            TemplateKind::Sender => t.fill(Values::Sender {
                mail: "check@example.com",
            }),
        };
        if ldap3::parse_filter(&sample).is_err() {
            return Err(FilterError::Invalid { template: owned() });
        }
        Ok(t)
    }

    /// Which values this template takes.
    pub fn kind(&self) -> TemplateKind {
        self.kind
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The filter with every placeholder replaced by its escaped value. A value of the other
    /// kind leaves its placeholders empty (compile refuses such templates, so it does not
    /// happen).
    pub fn fill(&self, values: Values<'_>) -> String {
        let mut out = String::with_capacity(self.source.len() + 32);
        for item in &self.items {
            match (item, values) {
                (Item::Static(s), _) => out.push_str(s),
                (Item::Spaced, Values::Number { spaced, .. }) => escape_into(spaced, &mut out),
                (Item::Compact, Values::Number { compact, .. }) => escape_into(compact, &mut out),
                (Item::Mail, Values::Sender { mail }) => escape_into(mail, &mut out),
                _ => {}
            }
        }
        out
    }
}

/// RFC 4515 value escaping: `*` `(` `)` `\` and NUL become `\2a` `\28` `\29` `\5c` `\00`;
/// other control characters are escaped too so a value never carries a line break into logs.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    escape_into(value, &mut out);
    out
}

fn escape_into(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '*' | '(' | ')' | '\\' | '\0' => push_hex(c as u8, out),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => push_hex(c as u8, out),
            c => out.push(c),
        }
    }
}

fn push_hex(b: u8, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('\\');
    out.push(HEX[usize::from(b >> 4)] as char);
    out.push(HEX[usize::from(b & 15)] as char);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    const DESIGN_NUMBER: &str = "(|(facsimileTelephoneNumber=${UMS})(facsimileTelephoneNumber=${UMS}_wHTSPC)(otherFacsimileTelephoneNumber=${UMS})(otherFacsimileTelephoneNumber=${UMS}_wHTSPC)(proxyAddresses=IXI:${UMS})(proxyAddresses=IXI:${UMS}_wHTSPC))";

    #[test]
    fn the_design_filters_compile_and_fill() {
        let t = FilterTemplate::compile(DESIGN_NUMBER, TemplateKind::Number).unwrap();
        let f = t.fill(Values::Number {
            spaced: "+49 8142 4799123",
            compact: "+4981424799123",
        });
        assert!(f.starts_with(
            "(|(facsimileTelephoneNumber=+49 8142 4799123)(facsimileTelephoneNumber=+4981424799123)"
        ));
        assert!(f.ends_with("(proxyAddresses=IXI:+4981424799123))"));
        let s = FilterTemplate::compile(
            "(|(mail=${MAIL})(proxyAddresses=smtp:${MAIL}))",
            TemplateKind::Sender,
        )
        .unwrap();
        assert_eq!(
            s.fill(Values::Sender { mail: "*)(uid=*" }),
            "(|(mail=\\2a\\29\\28uid=\\2a)(proxyAddresses=smtp:\\2a\\29\\28uid=\\2a))"
        );
    }

    #[test]
    fn broken_templates_are_refused_with_a_reason() {
        let n = TemplateKind::Number;
        for (t, why) in [
            ("(|(fax=${UMS})", "unbalanced"),
            ("(fax=${UMS}))", "unbalanced `)`"),
            ("fax=${UMS}", "unbalanced"),
            ("(fax=${NUMBER})", "unknown placeholder `${NUMBER}`"),
            ("(mail=${MAIL})", "unknown placeholder `${MAIL}`"),
            ("(fax=${UMS)", "unclosed"),
            ("(fax=${UMS}_wHTSPCX)", ""),
            ("(&(fax=${UMS})(=x))", "not a valid LDAP filter"),
            ("(fax=${UMS})(x=1)", "not a valid LDAP filter"),
        ] {
            match FilterTemplate::compile(t, n) {
                Err(e) => assert!(e.to_string().contains(why), "{t}: {e}"),
                // `_wHTSPCX`: `${UMS}_wHTSPC` followed by a literal X is a valid template
                Ok(_) => assert_eq!(t, "(fax=${UMS}_wHTSPCX)"),
            }
        }
        assert!(FilterTemplate::compile("(mail=${UMS})", TemplateKind::Sender).is_err());
    }

    #[test]
    fn escapes_the_rfc_4515_specials() {
        assert_eq!(escape("*"), "\\2a");
        assert_eq!(escape("\\"), "\\5c");
        assert_eq!(escape("a\0b"), "a\\00b");
        assert_eq!(escape("+49*"), "+49\\2a");
        assert_eq!(escape("Yılmaz"), "Yılmaz");
        assert_eq!(escape("x\r\ny"), "x\\0d\\0ay");
    }

    fn unescape(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    proptest! {
        /// Whatever the value, the filled filter is one well-formed filter of the template's
        /// shape: no special character survives unescaped, and unescaping gives the value back.
        #[test]
        fn escaped_values_never_change_the_filter_shape(v in "\\PC*|[*()\\\\\\x00a-z+]{0,12}") {
            let e = escape(&v);
            prop_assert!(!e.contains(['*', '(', ')', '\0']));
            prop_assert!(!e.replace("\\", "").contains(|c: char| (c as u32) < 0x20));
            prop_assert_eq!(unescape(&e), v.clone());
            let t = FilterTemplate::compile("(|(mail=${MAIL})(uid=${MAIL}))", TemplateKind::Sender).unwrap();
            let f = t.fill(Values::Sender { mail: &v });
            prop_assert!(ldap3::parse_filter(&f).is_ok(), "{}", f);
            prop_assert_eq!(f.matches('(').count(), 3);
        }
    }
}
