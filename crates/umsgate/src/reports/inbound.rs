//! The texts of the mails umsgate writes for received faxes, SMS and voice messages: the
//! subject from the strings (`<lang>/inbound.ftl`), the text body from the service's template
//! (`inbound/<service>.txt.j2`) and the HTML body from `inbound/<service>.html.j2` (which
//! extends `inbound/layout.html.j2`), all embedded and overridable exactly as the reports'
//! are.
//!
//! # Contract
//!
//! - [`InboundTexts::load`] renders the subject and body of every service in every language
//!   with sample facts (with and without the optional values) before it returns, so a broken
//!   override is a load error that names its file. A subject that would carry CR, LF or NUL
//!   (a multi-line message in an override) is a load error too: it would refuse every mail.
//! - [`InboundTexts::subject`] and [`InboundTexts::body`] are pure and either return the
//!   whole text or an error: no `{ $placeholder }` and no missing-message marker reaches a
//!   mail. Values are data, never template or Fluent syntax. They are not cleaned here: the
//!   inbound worker hands them over cleaned (`inbound::texts`).
//! - The text body is what the template outputs, its file's last newline included.
//! - [`InboundTexts::html`] renders the HTML body with the same facts plus the fax's preview
//!   images ([`PreviewRef`]: the `src` the `<img>` uses, a `cid:` URL of the mail's inline
//!   part) and the number of pages not shown; every value is HTML-escaped. It is checked at
//!   load time like the text (with and without previews, in every language).
//!
//! # Implementation summary
//!
//! One MiniJinja environment with the reports' settings ([`environment`]) plus
//! `keep_trailing_newline`, holding the three templates, over the `inbound` catalog of
//! [`Strings`]. `t()` passes `service`, `service_name`, `caller`, `called` and
//! `received_at` along. The subject is `subject-pages` for a fax whose pages were counted,
//! else `subject`. An error at load time is attributed as the reports' are
//! ([`attribute`]): to the language's `inbound.ftl` override when it comes from `t()`, else
//! to the template.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fluent_bundle::FluentArgs;
use minijinja::Environment;
use minijinja::value::Value;
use umsgate_domain::{Language, Service};

use super::error::{Origin, ReportError};
use super::strings::{LANGUAGES, Strings};
use super::templates::{add_templates, attribute, describe, environment, strings_error};

/// The templates, by name (below `inbound/`), with their embedded text.
pub(crate) const INBOUND_TEMPLATES: [(&str, &str); 7] = [
    (
        "fax.txt.j2",
        include_str!("../../templates/inbound/fax.txt.j2"),
    ),
    (
        "sms.txt.j2",
        include_str!("../../templates/inbound/sms.txt.j2"),
    ),
    (
        "voice.txt.j2",
        include_str!("../../templates/inbound/voice.txt.j2"),
    ),
    (
        "layout.html.j2",
        include_str!("../../templates/inbound/layout.html.j2"),
    ),
    (
        "fax.html.j2",
        include_str!("../../templates/inbound/fax.html.j2"),
    ),
    (
        "sms.html.j2",
        include_str!("../../templates/inbound/sms.html.j2"),
    ),
    (
        "voice.html.j2",
        include_str!("../../templates/inbound/voice.html.j2"),
    ),
];

/// Context variables passed to every `t()` call, as (context name, Fluent name).
const T_INBOUND: &[(&str, &str)] = &[
    ("service", "service"),
    ("service_name", "service_name"),
    ("caller", "caller"),
    ("called", "called"),
    ("received_at", "received_at"),
];

/// What the body of the mail for a received message states, as the mail shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboundFacts<'a> {
    pub service: Service,
    /// The calling number as shown; empty when the engine signalled none (the mail then
    /// says `unknown-caller`).
    pub calling: &'a str,
    /// The number called.
    pub called: &'a str,
    /// When the engine received the message, as the engine wrote it.
    pub received_at: &'a str,
    pub pages: Option<u32>,
    /// The length of a voice message (shown in whole seconds).
    pub duration: Option<Duration>,
    /// The SMS itself; `None` for a fax or voice message (attached).
    pub sms_text: Option<&'a str>,
}

/// One preview image of a fax page, as the HTML part shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviewRef<'a> {
    /// What the `<img src>` says: `cid:<Content-ID>` of the inline part.
    pub src: &'a str,
    /// The page it shows, from 1.
    pub page: u32,
    /// Size in pixels.
    pub width: u32,
    pub height: u32,
}

/// What the HTML part of a fax mail shows besides the facts: the previews of its first pages
/// (none if they could not be made) and how many pages follow that are not shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Previews<'a> {
    pub images: &'a [PreviewRef<'a>],
    pub more_pages: u32,
}

/// Templates and strings of the inbound mails in the seven languages.
pub struct InboundTexts {
    env: Environment<'static>,
    strings: Arc<Strings>,
    /// Template name → where its text came from.
    origins: BTreeMap<&'static str, Origin>,
}

impl std::fmt::Debug for InboundTexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundTexts")
            .field("origins", &self.origins)
            .field("strings", &self.strings)
            .finish_non_exhaustive()
    }
}

fn template_name(service: Service) -> &'static str {
    match service {
        Service::Fax => "fax.txt.j2",
        Service::Sms => "sms.txt.j2",
        Service::Voice => "voice.txt.j2",
    }
}

fn html_template_name(service: Service) -> &'static str {
    match service {
        Service::Fax => "fax.html.j2",
        Service::Sms => "sms.html.j2",
        Service::Voice => "voice.html.j2",
    }
}

impl InboundTexts {
    /// The embedded templates, or the files of `overrides` (`<dir>/inbound/<name>`), over
    /// `strings` (the `inbound` catalog); checked with sample facts.
    pub(crate) fn load(
        overrides: &BTreeMap<&'static str, PathBuf>,
        strings: Strings,
    ) -> Result<InboundTexts, ReportError> {
        let strings = Arc::new(strings);
        let mut env = environment(&strings, T_INBOUND, true)?;
        let origins = add_templates(&mut env, &INBOUND_TEMPLATES, overrides, "templates/inbound")?;
        let texts = InboundTexts {
            env,
            strings,
            origins,
        };
        texts.check()?;
        Ok(texts)
    }

    /// `Fax from +49 30 9876543 20 (3 pages)`: the subject of the mail. `calling` empty →
    /// `unknown-caller`; the page count only for a fax.
    pub fn subject(
        &self,
        lang: Language,
        service: Service,
        calling: &str,
        pages: Option<u32>,
    ) -> Result<String, ReportError> {
        let mut args = self.common_args(lang, service, calling)?;
        match (service, pages) {
            (Service::Fax, Some(pages)) => {
                args.set("pages", pages);
                self.strings.format(lang, "subject-pages", &args)
            }
            _ => self.strings.format(lang, "subject", &args),
        }
    }

    /// The text body: the service's template rendered with `facts`.
    pub fn body(&self, lang: Language, facts: &InboundFacts<'_>) -> Result<String, ReportError> {
        let ctx = self.context(lang, facts, &Previews::default())?;
        self.env
            .get_template(template_name(facts.service))
            .and_then(|t| t.render(&ctx))
            .map_err(|e| ReportError::render(describe(&e)))
    }

    /// The HTML body: the service's HTML template rendered with `facts` and, for a fax,
    /// `previews`.
    pub fn html(
        &self,
        lang: Language,
        facts: &InboundFacts<'_>,
        previews: &Previews<'_>,
    ) -> Result<String, ReportError> {
        let ctx = self.context(lang, facts, previews)?;
        self.env
            .get_template(html_template_name(facts.service))
            .and_then(|t| t.render(&ctx))
            .map_err(|e| ReportError::render(describe(&e)))
    }

    fn caller(&self, lang: Language, calling: &str) -> Result<String, ReportError> {
        if calling.is_empty() {
            self.strings.plain(lang, "unknown-caller")
        } else {
            Ok(calling.to_owned())
        }
    }

    fn common_args(
        &self,
        lang: Language,
        service: Service,
        calling: &str,
    ) -> Result<FluentArgs<'static>, ReportError> {
        let mut args = FluentArgs::new();
        args.set("service", service.as_str());
        args.set(
            "service_name",
            self.strings.plain(lang, &format!("service-{service}"))?,
        );
        args.set("caller", self.caller(lang, calling)?);
        Ok(args)
    }

    /// The template context (see the README, "Templates", for the variables).
    fn context(
        &self,
        lang: Language,
        f: &InboundFacts<'_>,
        previews: &Previews<'_>,
    ) -> Result<Value, ReportError> {
        let service_name = self
            .strings
            .plain(lang, &format!("service-{}", f.service))?;
        let mut ctx: BTreeMap<&str, Value> = BTreeMap::new();
        ctx.insert("lang", Value::from(lang.as_str()));
        ctx.insert("service", Value::from(f.service.as_str()));
        ctx.insert("service_name", Value::from(service_name));
        ctx.insert("caller", Value::from(self.caller(lang, f.calling)?));
        ctx.insert("called", Value::from(f.called));
        ctx.insert("received_at", Value::from(f.received_at));
        ctx.insert("pages", Value::from(f.pages));
        ctx.insert(
            "duration_seconds",
            Value::from(f.duration.map(|d| d.as_secs())),
        );
        ctx.insert("text", Value::from(f.sms_text));
        ctx.insert(
            "text_lines",
            Value::from(
                f.sms_text
                    .map(|t| t.split('\n').map(str::to_owned).collect::<Vec<_>>())
                    .unwrap_or_default(),
            ),
        );
        let images: Vec<Value> = previews
            .images
            .iter()
            .map(|p| {
                Value::from_pairs([
                    ("src", Value::from(p.src)),
                    ("page", Value::from(p.page)),
                    ("width", Value::from(p.width)),
                    ("height", Value::from(p.height)),
                ])
            })
            .collect();
        ctx.insert("previews", Value::from(images));
        ctx.insert("more_pages", Value::from(previews.more_pages));
        Ok(Value::from(ctx))
    }

    /// Renders every sample in every language; the first error names the file it comes
    /// from.
    fn check(&self) -> Result<(), ReportError> {
        let images = [
            PreviewRef {
                src: "cid:page1.sample@example.com",
                page: 1,
                width: 864,
                height: 1146,
            },
            PreviewRef {
                src: "cid:page2.sample@example.com",
                page: 2,
                width: 864,
                height: 1146,
            },
        ];
        let with_previews = [
            Previews::default(),
            Previews {
                images: &images,
                more_pages: 0,
            },
            Previews {
                images: &images[..1],
                more_pages: 1,
            },
            Previews {
                images: &images,
                more_pages: 5,
            },
        ];
        for facts in samples() {
            for lang in LANGUAGES {
                for (name, previews) in [(template_name(facts.service), &Previews::default())]
                    .into_iter()
                    .chain(
                        with_previews
                            .iter()
                            .map(|p| (html_template_name(facts.service), p)),
                    )
                {
                    let ctx = self
                        .context(lang, &facts, previews)
                        .map_err(|e| self.strings_error(lang, &e))?;
                    if let Err(e) = self.env.get_template(name).and_then(|t| t.render(&ctx)) {
                        return Err(self.attribute(&e, name, lang));
                    }
                }
                let subject = self
                    .subject(lang, facts.service, facts.calling, facts.pages)
                    .map_err(|e| self.strings_error(lang, &e))?;
                if subject.contains(['\r', '\n', '\0']) {
                    return Err(self.strings_error(
                        lang,
                        &format!(
                            "the subject of a {} mail would contain a line break or NUL: {subject:?}",
                            facts.service
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn attribute(&self, e: &minijinja::Error, name: &str, lang: Language) -> ReportError {
        attribute(e, name, lang, &self.origins, &self.strings)
    }

    fn strings_error(&self, lang: Language, e: &dyn std::fmt::Display) -> ReportError {
        strings_error(&self.strings, lang, e)
    }
}

/// Facts for every service, with and without the optional values: what
/// [`InboundTexts::load`] renders to prove the templates and strings work.
pub(crate) fn samples() -> Vec<InboundFacts<'static>> {
    let full = InboundFacts {
        service: Service::Fax,
        calling: "+49 30 9876543 20",
        called: "+49 8142 4799123",
        received_at: "2026-11-26T10:15:00Z",
        pages: Some(2),
        duration: Some(Duration::from_secs(75)),
        sms_text: None,
    };
    let bare = InboundFacts {
        calling: "",
        pages: None,
        duration: None,
        ..full
    };
    let mut out = Vec::new();
    for service in Service::ALL {
        let sms_text = (service == Service::Sms).then_some("Sample");
        out.push(InboundFacts {
            service,
            sms_text,
            ..full
        });
        out.push(InboundFacts {
            service,
            sms_text: None,
            ..bare
        });
        out.push(InboundFacts {
            service,
            pages: Some(1),
            sms_text,
            ..bare
        });
    }
    out
}
