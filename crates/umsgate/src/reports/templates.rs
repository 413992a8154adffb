//! The MiniJinja environment of the reports: the ten templates (embedded or overridden), the
//! `t()` function over [`Strings`], and the context a report is rendered with; and what the
//! inbound mails' templates share with them: the environment's settings ([`environment`]),
//! `t()`, and the scan of the override folder ([`scan_overrides`]).
//!
//! Contract: [`Templates::load`] renders every kind of report in every language, text and
//! HTML, with sample data; an error names the template file (or string file) at fault.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use fluent_bundle::{FluentArgs, FluentValue};
use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{AutoEscape, Environment, State, UndefinedBehavior};
use umsgate_domain::{Language, NumberClass, Rights, Service};

use super::error::{Origin, ReportError};
use super::inbound::INBOUND_TEMPLATES;
use super::strings::{Catalog, LANGUAGES, Strings};
use super::{Rendered, ReportInput, ReportKind};
use umsgate_domain::Refusal;

/// The templates, by name, with their embedded text.
pub(crate) const TEMPLATES: [(&str, &str); 10] = [
    (
        "layout.txt.j2",
        include_str!("../../templates/reports/layout.txt.j2"),
    ),
    (
        "layout.html.j2",
        include_str!("../../templates/reports/layout.html.j2"),
    ),
    (
        "details.txt.j2",
        include_str!("../../templates/reports/details.txt.j2"),
    ),
    (
        "details.html.j2",
        include_str!("../../templates/reports/details.html.j2"),
    ),
    (
        "sent.txt.j2",
        include_str!("../../templates/reports/sent.txt.j2"),
    ),
    (
        "sent.html.j2",
        include_str!("../../templates/reports/sent.html.j2"),
    ),
    (
        "failed.txt.j2",
        include_str!("../../templates/reports/failed.txt.j2"),
    ),
    (
        "failed.html.j2",
        include_str!("../../templates/reports/failed.html.j2"),
    ),
    (
        "refused.txt.j2",
        include_str!("../../templates/reports/refused.txt.j2"),
    ),
    (
        "refused.html.j2",
        include_str!("../../templates/reports/refused.html.j2"),
    ),
];

pub(crate) struct Templates {
    env: Environment<'static>,
    strings: Arc<Strings>,
    /// Template name → where its text came from.
    origins: BTreeMap<&'static str, Origin>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("origins", &self.origins)
            .field("strings", &self.strings)
            .finish_non_exhaustive()
    }
}

/// HTML escaping of `&<>"'` — the characters that matter in text and quoted attributes.
/// (MiniJinja's own escaping also turns `/` into `&#x2f;`, which makes every date and URL
/// in a report unreadable in the source and gains nothing inside text or quoted values.)
fn escape_html(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// A template value as a Fluent argument: numbers stay numbers (for plural selection),
/// `none`/undefined are left out (so a message that needs them fails loudly).
fn to_fluent(v: &Value) -> Option<FluentValue<'static>> {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => None,
        ValueKind::Number => Some(match v.as_i64() {
            Some(i) => FluentValue::from(i),
            None => FluentValue::from(v.to_string()),
        }),
        _ => Some(FluentValue::from(v.to_string())),
    }
}

/// Context variables passed to every `t()` call of a report, as (context name, Fluent name).
const T_COMMON: &[(&str, &str)] = &[
    ("service", "service"),
    ("service_name", "service_name"),
    ("number", "number"),
    ("recipient_address", "address"),
    ("job_id", "job_id"),
];

/// `t(id, **args)`: message `id` of `strings` in the template's `lang`, with the context
/// variables `common` and `args` as Fluent arguments.
fn template_fn(
    strings: Arc<Strings>,
    common: &'static [(&'static str, &'static str)],
) -> impl Fn(&State<'_, '_>, &str, Kwargs) -> Result<String, minijinja::Error> + Send + Sync + 'static
{
    move |state, id, kwargs| {
        let lang = state
            .lookup("lang")
            .and_then(|v| v.as_str().and_then(|s| s.parse::<Language>().ok()))
            .unwrap_or(Language::En);
        let mut args = FluentArgs::new();
        for &(from, to) in common {
            if let Some(v) = state.lookup(from).as_ref().and_then(to_fluent) {
                args.set(to, v);
            }
        }
        let names: Vec<String> = kwargs.args().map(str::to_owned).collect();
        for name in names {
            let value: Value = kwargs.get(&name)?;
            if let Some(v) = to_fluent(&value) {
                args.set(name, v);
            }
        }
        strings.format(lang, id, &args).map_err(|e| {
            minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, "t()").with_source(e)
        })
    }
}

/// A MiniJinja error with its cause (the `t()` error inside a render error).
pub(super) fn describe(e: &minijinja::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The template files of the override folder, by template name.
#[derive(Debug, Default)]
pub(super) struct OverrideFiles {
    /// `<dir>/<name>.txt.j2`, `<dir>/<name>.html.j2`: report templates.
    pub(super) reports: BTreeMap<&'static str, PathBuf>,
    /// `<dir>/inbound/<service>.txt.j2`: the inbound mails' templates.
    pub(super) inbound: BTreeMap<&'static str, PathBuf>,
}

/// The `*.j2` files of the override folder, by template name. Unknown names are errors: a
/// `*.j2` or `*.ftl` file that umsgate would not read (`sent.txt.j2` in `inbound/`, a
/// `reports.ftl` in a folder that is not a language, a misspelt name).
pub(super) fn scan_overrides(dir: &Path) -> Result<OverrideFiles, ReportError> {
    let mut found = OverrideFiles::default();
    let entries = std::fs::read_dir(dir).map_err(|e| ReportError::io(dir.to_owned(), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ReportError::io(dir.to_owned(), e))?;
        let path = entry.path();
        let file_name = entry.file_name();
        let name = file_name.to_string_lossy();
        if path.is_dir() {
            let is_lang = LANGUAGES.iter().any(|l| l.as_str() == name);
            let is_inbound = name == "inbound";
            let inner = std::fs::read_dir(&path).map_err(|e| ReportError::io(path.clone(), e))?;
            for file in inner {
                let file = file.map_err(|e| ReportError::io(path.clone(), e))?;
                let file_name = file.file_name();
                let file_name = file_name.to_string_lossy();
                let strings = is_lang && Catalog::ALL.iter().any(|c| c.file_name() == file_name);
                let template = INBOUND_TEMPLATES
                    .iter()
                    .find(|(known, _)| is_inbound && *known == file_name);
                if let Some((known, _)) = template {
                    found.inbound.insert(*known, file.path());
                } else if !strings && (file_name.ends_with(".ftl") || file_name.ends_with(".j2")) {
                    return Err(ReportError::unknown_override(file.path()));
                }
            }
        } else if name.ends_with(".j2") {
            match TEMPLATES.iter().find(|(known, _)| *known == name) {
                Some((known, _)) => {
                    found.reports.insert(*known, path);
                }
                None => return Err(ReportError::unknown_override(path)),
            }
        }
    }
    Ok(found)
}

/// An environment with the settings every umsgate template is written for: `trim_blocks`,
/// `lstrip_blocks`, an undefined variable is an error, `.html.j2` is HTML-escaped (see
/// [`escape_html`]), and `t()` over `strings` with the context variables `common`. With
/// `keep_trailing_newline`, the last newline of a template file is output too.
pub(super) fn environment(
    strings: &Arc<Strings>,
    common: &'static [(&'static str, &'static str)],
    keep_trailing_newline: bool,
) -> Result<Environment<'static>, ReportError> {
    let mut env = Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(keep_trailing_newline)
        .build()
        .map_err(|e| ReportError::render(e.to_string()))?;
    env.set_syntax(syntax);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html.j2") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_formatter(|out, state, value| {
        if matches!(state.auto_escape(), AutoEscape::Html)
            && !value.is_safe()
            && !value.is_none()
            && !value.is_undefined()
        {
            let mut escaped = String::new();
            escape_html(&value.to_string(), &mut escaped);
            out.write_str(&escaped).map_err(minijinja::Error::from)
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    env.add_function("t", template_fn(Arc::clone(strings), common));
    Ok(env)
}

/// Adds `templates` (name, embedded source) to `env`, each from its file in `overrides` when
/// there is one, else the embedded text (named `<embedded_dir>/<name>` in errors); returns
/// where each came from. A file that cannot be read or does not parse names itself.
pub(crate) fn add_templates(
    env: &mut Environment<'static>,
    templates: &[(&'static str, &'static str)],
    overrides: &BTreeMap<&'static str, PathBuf>,
    embedded_dir: &str,
) -> Result<BTreeMap<&'static str, Origin>, ReportError> {
    let mut origins = BTreeMap::new();
    for &(name, embedded) in templates {
        let (source, origin) = match overrides.get(name) {
            Some(path) => (
                std::fs::read_to_string(path).map_err(|e| ReportError::io(path.clone(), e))?,
                Origin::File(path.clone()),
            ),
            None => (
                embedded.to_owned(),
                Origin::Embedded(format!("{embedded_dir}/{name}")),
            ),
        };
        env.add_template_owned(name, source)
            .map_err(|e| ReportError::template(origin.clone(), describe(&e)))?;
        origins.insert(name, origin);
    }
    Ok(origins)
}

impl Templates {
    /// The report templates: embedded, or the files of `overrides` (see [`scan_overrides`]).
    pub(crate) fn load(
        overrides: &BTreeMap<&'static str, PathBuf>,
        strings: Strings,
    ) -> Result<Templates, ReportError> {
        let strings = Arc::new(strings);
        let mut env = environment(&strings, T_COMMON, false)?;

        let origins = add_templates(&mut env, &TEMPLATES, overrides, "templates/reports")?;

        let templates = Templates {
            env,
            strings,
            origins,
        };
        templates.check()?;
        Ok(templates)
    }

    /// Renders every sample in every language, text and HTML; the first error names the
    /// file it comes from.
    fn check(&self) -> Result<(), ReportError> {
        for input in samples() {
            for lang in LANGUAGES {
                let ctx = self
                    .context(&input, lang)
                    .map_err(|e| self.strings_error(lang, e))?;
                for ext in ["txt", "html"] {
                    let name = format!("{}.{ext}.j2", input.kind.stem());
                    if let Err(e) = self.env.get_template(&name).and_then(|t| t.render(&ctx)) {
                        return Err(self.attribute(&e, &name, lang));
                    }
                }
                self.subject(&input, lang)
                    .map_err(|e| self.strings_error(lang, e))?;
            }
        }
        Ok(())
    }

    fn attribute(&self, e: &minijinja::Error, name: &str, lang: Language) -> ReportError {
        attribute(e, name, lang, &self.origins, &self.strings)
    }

    fn strings_error(&self, lang: Language, e: ReportError) -> ReportError {
        strings_error(&self.strings, lang, &e)
    }

    pub(crate) fn render(
        &self,
        input: &ReportInput,
        lang: Language,
        html: bool,
    ) -> Result<Rendered, ReportError> {
        let ctx = self.context(input, lang)?;
        let stem = input.kind.stem();
        let run = |ext: &str| -> Result<String, ReportError> {
            let name = format!("{stem}.{ext}.j2");
            let out = self
                .env
                .get_template(&name)
                .and_then(|t| t.render(&ctx))
                .map_err(|e| ReportError::render(describe(&e)))?;
            Ok(format!("{}\n", out.trim_end()))
        };
        if input.subject.is_some() && usable_subject(input).is_none() {
            tracing::warn!(event = "report.subject_left_out", job_id = %input.job_id, "the subject of the user's mail holds CR, LF or NUL; the report is sent without it");
        }
        let text = run("txt")?;
        let html = if html { Some(run("html")?) } else { None };
        Ok(Rendered {
            subject: self.subject(input, lang)?,
            text,
            html,
        })
    }

    /// `subject-<kind>`, followed by the user's subject if he gave one.
    fn subject(&self, input: &ReportInput, lang: Language) -> Result<String, ReportError> {
        let args = self.common_args(input, lang)?;
        let report = self
            .strings
            .format(lang, &format!("subject-{}", input.kind.stem()), &args)?;
        match usable_subject(input) {
            Some(subject) => {
                let mut args = FluentArgs::new();
                args.set("report", report);
                args.set("subject", subject.to_owned());
                self.strings.format(lang, "subject-with-original", &args)
            }
            None => Ok(report),
        }
    }

    fn service_name(&self, lang: Language, service: Service) -> Result<String, ReportError> {
        self.strings.plain(lang, &format!("service-{service}"))
    }

    /// The arguments every message may use.
    fn common_args(
        &self,
        input: &ReportInput,
        lang: Language,
    ) -> Result<FluentArgs<'static>, ReportError> {
        let mut args = FluentArgs::new();
        args.set("service", input.service.as_str());
        args.set("service_name", self.service_name(lang, input.service)?);
        args.set("number", input.number.clone());
        args.set("address", input.recipient_address.clone());
        args.set("job_id", input.job_id.clone());
        Ok(args)
    }

    fn class_name(&self, lang: Language, class: NumberClass) -> Result<String, ReportError> {
        self.strings.plain(lang, &format!("class-{class}"))
    }

    fn right_name(&self, lang: Language, right: Rights) -> Result<String, ReportError> {
        self.strings.plain(lang, &format!("right-{right}"))
    }

    /// Explanation and hint of a refusal, with its fields localized.
    fn refusal_texts(
        &self,
        input: &ReportInput,
        refusal: &Refusal,
        lang: Language,
    ) -> Result<(String, String), ReportError> {
        let mut args = self.common_args(input, lang)?;
        let id = match refusal {
            Refusal::UnknownSender { sender } => {
                args.set("sender", sender.clone());
                "refusal-unknown-sender"
            }
            Refusal::NoRight {
                service,
                class,
                right,
            } => {
                args.set("service", service.as_str());
                args.set("service_name", self.service_name(lang, *service)?);
                args.set("class", self.class_name(lang, *class)?);
                args.set("right", self.right_name(lang, *right)?);
                args.set("needed", self.right_name(lang, class.required_rights())?);
                "refusal-no-right"
            }
            Refusal::EmergencyMode => "refusal-emergency-mode",
            Refusal::DailyLimit { service, limit } => {
                args.set("service", service.as_str());
                args.set("service_name", self.service_name(lang, *service)?);
                args.set("limit", *limit);
                "refusal-daily-limit"
            }
            Refusal::TooManyPages { pages, max } => {
                args.set("pages", *pages);
                args.set("max", *max);
                "refusal-too-many-pages"
            }
            Refusal::UnsupportedAttachment { name, content_type } => {
                let name = match name.as_deref().map(str::trim) {
                    Some(name) if !name.is_empty() => name.to_owned(),
                    _ => self.strings.plain(lang, "unnamed-attachment")?,
                };
                args.set("name", name);
                args.set("content_type", content_type.clone());
                "refusal-unsupported-attachment"
            }
            Refusal::EmptyMessage => "refusal-empty-message",
            Refusal::SmsTooLong { segments, max } => {
                args.set("segments", *segments);
                args.set("max", *max);
                "refusal-sms-too-long"
            }
            Refusal::NoVoiceContent => "refusal-no-voice-content",
            Refusal::BadNumber { number, detail } => {
                args.set("bad_number", number.clone());
                args.set("detail", detail.clone());
                "refusal-bad-number"
            }
            Refusal::Malformed { detail } => {
                args.set("detail", detail.clone());
                "refusal-malformed"
            }
        };
        let explanation = self.strings.format(lang, id, &args)?;
        let hint = self.strings.format(lang, &format!("{id}-hint"), &args)?;
        Ok((explanation, hint))
    }

    /// The template context (see the module documentation for the variables).
    fn context(&self, input: &ReportInput, lang: Language) -> Result<Value, ReportError> {
        let s = &self.strings;
        let args = self.common_args(input, lang)?;
        let service_name = self.service_name(lang, input.service)?;
        let at = s.datetime(lang, input.at)?;
        let pages_text = input.pages.map(|p| s.pages(lang, p)).transpose()?;
        let duration_text = input.duration.map(|d| s.duration(lang, d)).transpose()?;
        let subject = usable_subject(input);

        let mut details: Vec<Value> = Vec::new();
        let mut row = |id: &str, value: Option<String>| -> Result<(), ReportError> {
            if let Some(value) = value {
                let label = s.format(lang, id, &args)?;
                details.push(Value::from_pairs([
                    ("label", Value::from(label)),
                    ("value", Value::from(value)),
                ]));
            }
            Ok(())
        };
        row("label-service", Some(service_name.clone()))?;
        row("label-number", Some(input.number.clone()))?;
        row("label-address", Some(input.recipient_address.clone()))?;
        row(
            "label-subject",
            Some(match subject {
                Some(t) => t.to_owned(),
                None => s.plain(lang, "no-subject")?,
            }),
        )?;
        row("label-time", Some(at.clone()))?;
        row("label-pages", pages_text.clone())?;
        row("label-duration", duration_text)?;
        row("label-attempts", input.attempts.map(|a| a.to_string()))?;
        row("label-remote-id", input.remote_id.clone())?;
        row("label-job", Some(input.job_id.clone()))?;

        let mut ctx: BTreeMap<&str, Value> = BTreeMap::new();
        ctx.insert("lang", Value::from(lang.as_str()));
        ctx.insert("kind", Value::from(input.kind.stem()));
        ctx.insert("service", Value::from(input.service.as_str()));
        ctx.insert("service_name", Value::from(service_name));
        ctx.insert("number", Value::from(input.number.clone()));
        ctx.insert(
            "recipient_address",
            Value::from(input.recipient_address.clone()),
        );
        ctx.insert("subject", Value::from(subject.map(str::to_owned)));
        ctx.insert(
            "original_message_id",
            Value::from(input.original_message_id.clone()),
        );
        ctx.insert("job_id", Value::from(input.job_id.clone()));
        ctx.insert("at", Value::from(at));
        ctx.insert("at_rfc3339", Value::from(crate::clock::rfc3339(input.at)));
        ctx.insert("pages", Value::from(input.pages));
        ctx.insert(
            "duration_seconds",
            Value::from(input.duration.map(super::strings::rounded_seconds)),
        );
        ctx.insert("attempts", Value::from(input.attempts));
        ctx.insert("remote_id", Value::from(input.remote_id.clone()));
        ctx.insert(
            "heading",
            Value::from(s.format(lang, &format!("heading-{}", input.kind.stem()), &args)?),
        );
        ctx.insert("details", Value::from(details));
        let (reason, refusal) = match &input.kind {
            ReportKind::Sent => (None, Value::from(())),
            ReportKind::Failed { reason } => {
                let reason = match reason.trim() {
                    "" => s.plain(lang, "unknown-reason")?,
                    r => r.to_owned(),
                };
                (Some(reason), Value::from(()))
            }
            ReportKind::Refused(refusal) => {
                let (explanation, hint) = self.refusal_texts(input, refusal, lang)?;
                (
                    None,
                    Value::from_pairs([
                        ("code", Value::from(refusal.code())),
                        ("explanation", Value::from(explanation)),
                        ("hint", Value::from(hint)),
                    ]),
                )
            }
        };
        ctx.insert("reason", Value::from(reason));
        ctx.insert("refusal", refusal);
        Ok(Value::from(ctx))
    }
}

/// A render error at load time, attributed to the file at fault: the language's string
/// override if the error comes from `t()` and there is one, else the template (`origins`:
/// template name → where its text came from).
pub(super) fn attribute(
    e: &minijinja::Error,
    name: &str,
    lang: Language,
    origins: &BTreeMap<&'static str, Origin>,
    strings: &Strings,
) -> ReportError {
    let template = e
        .name()
        .and_then(|n| origins.get(n))
        .or_else(|| origins.get(name))
        .cloned()
        .unwrap_or_else(|| Origin::Embedded(name.to_owned()));
    let mut from_strings = false;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        from_strings |= s.downcast_ref::<ReportError>().is_some();
        source = s.source();
    }
    let detail = format!("{} (rendering in {lang})", describe(e));
    match strings.override_origin(lang) {
        Some(strings) if from_strings => {
            ReportError::strings(strings.clone(), format!("{detail}, used by {template}"))
        }
        _ => ReportError::template(template, detail),
    }
}

/// A string error at load time, attributed to the language's override file if it has one
/// (the embedded strings are tested; an override is the likely culprit).
pub(super) fn strings_error(
    strings: &Strings,
    lang: Language,
    e: &dyn std::fmt::Display,
) -> ReportError {
    let origin = match strings.override_origin(lang) {
        Some(origin) => origin.clone(),
        None => strings.catalog().embedded_origin(lang),
    };
    ReportError::strings(origin, e.to_string())
}

/// One input per kind of report, every refusal variant included: what [`Templates::load`]
/// renders to prove the templates and strings work.
pub(crate) fn samples() -> Vec<ReportInput> {
    let base = ReportInput {
        kind: ReportKind::Sent,
        service: Service::Fax,
        number: "+4930123456".to_owned(),
        recipient_address: "+49 30 123456@fax.example.com".to_owned(),
        subject: Some("Sample".to_owned()),
        original_message_id: Some("sample@example.com".to_owned()),
        job_id: "sample".to_owned(),
        pages: Some(2),
        duration: Some(Duration::from_secs(75)),
        attempts: Some(1),
        remote_id: Some("+49 30 123456".to_owned()),
        at: SystemTime::UNIX_EPOCH,
    };
    let refused = |refusal: Refusal| ReportInput {
        kind: ReportKind::Refused(refusal),
        subject: None,
        pages: None,
        duration: None,
        attempts: None,
        remote_id: None,
        ..base.clone()
    };
    let mut out = vec![
        base.clone(),
        ReportInput {
            kind: ReportKind::Failed {
                reason: String::new(),
            },
            ..base.clone()
        },
    ];
    for service in Service::ALL {
        out.push(ReportInput {
            service,
            ..base.clone()
        });
        out.push(refused(Refusal::NoRight {
            service,
            class: NumberClass::International,
            right: Rights::National,
        }));
        out.push(refused(Refusal::DailyLimit { service, limit: 1 }));
        out.push(ReportInput {
            service,
            ..refused(Refusal::EmptyMessage)
        });
        out.push(ReportInput {
            service,
            ..refused(Refusal::UnsupportedAttachment {
                name: None,
                content_type: "application/zip".to_owned(),
            })
        });
    }
    out.extend(
        [
            Refusal::UnknownSender {
                sender: "x@example.com".to_owned(),
            },
            Refusal::EmergencyMode,
            Refusal::TooManyPages { pages: 2, max: 1 },
            Refusal::SmsTooLong {
                segments: 2,
                max: 1,
            },
            Refusal::NoVoiceContent,
            Refusal::BadNumber {
                number: "x".to_owned(),
                detail: "x".to_owned(),
            },
            Refusal::Malformed {
                detail: "x".to_owned(),
            },
        ]
        .into_iter()
        .map(refused),
    );
    out
}

/// The subject of the user's mail as the report may use it: trimmed, not empty, and without
/// CR, LF or NUL. It came from outside; one that would break the report's `Subject:` header
/// is left out (the report says "no subject") so that the report is still sent.
fn usable_subject(input: &ReportInput) -> Option<&str> {
    input
        .subject
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.contains(['\r', '\n', '\0']))
}
