//! The console's templates: embedded in the binary, each replaceable by a file
//! `templates_dir/web/<name>` (as the reports' templates are).
//!
//! Contract: [`Templates::load`] parses every template (embedded or overridden) and fails
//! with the file at fault; HTML auto-escaping is on for every template (they are all HTML),
//! an undefined variable is an error, and `t("key")` gives the console's word in the page's
//! language (`lang` in the context).

use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, State, UndefinedBehavior};

use super::i18n;

/// The templates, by name, with their embedded text.
pub const TEMPLATES: [(&str, &str); 13] = [
    ("base.html", include_str!("../../templates/web/base.html")),
    ("login.html", include_str!("../../templates/web/login.html")),
    ("error.html", include_str!("../../templates/web/error.html")),
    (
        "dashboard.html",
        include_str!("../../templates/web/dashboard.html"),
    ),
    (
        "queues.html",
        include_str!("../../templates/web/queues.html"),
    ),
    (
        "message.html",
        include_str!("../../templates/web/message.html"),
    ),
    ("logs.html", include_str!("../../templates/web/logs.html")),
    ("info.html", include_str!("../../templates/web/info.html")),
    (
        "portal.html",
        include_str!("../../templates/web/portal.html"),
    ),
    (
        "instances.html",
        include_str!("../../templates/web/instances.html"),
    ),
    (
        "instance.html",
        include_str!("../../templates/web/instance.html"),
    ),
    ("test.html", include_str!("../../templates/web/test.html")),
    ("users.html", include_str!("../../templates/web/users.html")),
];

/// A template that cannot be used.
#[derive(Debug)]
pub struct TemplateError {
    pub file: PathBuf,
    pub source: TemplateCause,
}

/// What went wrong with a template file.
#[derive(Debug)]
pub enum TemplateCause {
    Read(std::io::Error),
    Parse(minijinja::Error),
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.source {
            TemplateCause::Read(e) => write!(f, "cannot read {}: {e}", self.file.display()),
            TemplateCause::Parse(e) => write!(f, "template {}: {e}", self.file.display()),
        }
    }
}

impl std::error::Error for TemplateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.source {
            TemplateCause::Read(e) => Some(e),
            TemplateCause::Parse(e) => Some(e),
        }
    }
}

/// The message journal's pages (console and portal), beside [`TEMPLATES`].
pub const JOURNAL_TEMPLATES: [(&str, &str); 2] = [
    (
        "journal.html",
        include_str!("../../templates/web/journal.html"),
    ),
    (
        "journal_entry.html",
        include_str!("../../templates/web/journal_entry.html"),
    ),
];

/// The loaded templates.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The embedded templates, each replaced by `overrides/web/<name>` where that exists.
    pub fn load(overrides: Option<&Path>) -> Result<Templates, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| TemplateError {
                file: PathBuf::from("templates/web"),
                source: TemplateCause::Parse(e),
            })?;
        env.set_syntax(syntax);
        env.add_function("t", |state: &State<'_, '_>, key: &str| -> String {
            let lang = state
                .lookup("lang")
                .and_then(|v| v.as_str().and_then(i18n::from_code))
                .unwrap_or(umsgate_domain::Language::En);
            i18n::text(lang, key).to_owned()
        });
        env.add_filter("urlencode_path", |s: &str| super::urlencode(s));
        for (name, text) in TEMPLATES.into_iter().chain(JOURNAL_TEMPLATES) {
            let file = overrides.map(|d| d.join("web").join(name));
            let (source, origin) = match file.as_ref().filter(|f| f.exists()) {
                Some(f) => (
                    std::fs::read_to_string(f).map_err(|e| TemplateError {
                        file: f.clone(),
                        source: TemplateCause::Read(e),
                    })?,
                    f.clone(),
                ),
                None => (text.to_owned(), PathBuf::from("templates/web").join(name)),
            };
            env.add_template_owned(name, source)
                .map_err(|e| TemplateError {
                    file: origin,
                    source: TemplateCause::Parse(e),
                })?;
        }
        Ok(Templates { env })
    }

    pub fn render(&self, name: &str, ctx: minijinja::Value) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(ctx)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_word_a_template_asks_for_exists() {
        for (name, text) in TEMPLATES.into_iter().chain(JOURNAL_TEMPLATES) {
            for quote in ['"', '\''] {
                let open = format!("t({quote}");
                let mut rest = text;
                while let Some(i) = rest.find(&open) {
                    let after = &rest[i + 3..];
                    let end = after.find(quote).unwrap();
                    let key = &after[..end];
                    // `t("queue." ~ state)`: the prefix of a computed key (checked below).
                    if !key.ends_with('.') {
                        assert!(i18n::known(key), "{name} asks for unknown string `{key}`");
                    }
                    rest = &after[end..];
                }
            }
        }
    }

    #[test]
    fn every_computed_word_exists() {
        for tab in crate::web::pages::queues::Tab::ALL {
            assert!(i18n::known(&format!("queue.{}", tab.as_str())));
        }
        for state in ["running", "held", "disabled", "none"] {
            assert!(i18n::known(&format!("word.{state}")));
        }
    }

    #[test]
    fn values_are_escaped_and_overrides_replace_templates() {
        let t = Templates::load(None).unwrap();
        let html = t
            .render(
                "error.html",
                minijinja::context! { lang => "de", message => "<script>alert(1)</script>" },
            )
            .unwrap();
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>alert"));

        let dir = crate::web::testing::temp_dir("tpl");
        std::fs::create_dir_all(dir.join("web")).unwrap();
        std::fs::write(dir.join("web/error.html"), "custom {{ message }}").unwrap();
        let t = Templates::load(Some(&dir)).unwrap();
        let html = t
            .render("error.html", minijinja::context! { message => "<b>" })
            .unwrap();
        assert_eq!(html, "custom &lt;b&gt;");
        std::fs::write(dir.join("web/error.html"), "{% if %}").unwrap();
        let e = Templates::load(Some(&dir)).err().unwrap();
        assert!(e.to_string().contains("web/error.html"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
