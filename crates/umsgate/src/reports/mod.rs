//! Report mails to the sender of an outbound job: a delivery report (the fax, SMS or voice
//! message was sent, or finally failed) or an error report (umsgate refused the job), in the
//! sender's report language, as HTML with a text alternative or as text only; and the texts
//! of the mails for received faxes, SMS and voice messages ([`InboundTexts`]), from strings
//! and templates loaded, overridden and checked the same way.
//!
//! # Contract
//!
//! - [`Reports::load`] builds everything once (per configuration snapshot): the embedded
//!   templates and strings, replaced by the files of an override folder. It renders every
//!   kind of report in every language with sample data before it returns, so a broken
//!   override is a load error that names its file, never a report that fails at 3 a.m.
//! - [`Reports::render`] is pure: the same [`ReportInput`] and language give the same bytes.
//!   No clock is read; times come from [`ReportInput::at`] and [`MailParts::date`]. Every
//!   string is resolved completely or rendering fails: no `{ $placeholder }` and no
//!   missing-message marker ever reaches a user. Values from the user's mail (subject,
//!   address, attachment names) are HTML-escaped in the HTML part.
//! - [`compose`] turns a rendered report into an RFC 5322 message with CRLF line ends
//!   (`multipart/alternative` with text and HTML, or `text/plain`), threaded to the user's
//!   mail with `In-Reply-To`/`References` and marked `Auto-Submitted: auto-replied`
//!   (RFC 3834) so that vacation responders do not answer it. A header value with CR, LF or
//!   NUL is refused with an error ([`ReportError::is_header_injection`]), never cleaned up
//!   silently — except the two that come from the user's mail, so that only a bad recipient
//!   address (or a broken configuration) can cost a report: a subject with CR, LF or NUL is
//!   left out when rendering (the report's own subject, and "no subject" in the details, in
//!   the report's language), an unusable original Message-ID leaves out the threading
//!   headers; both are logged. The MIME boundary is derived from the Message-ID, so the
//!   output is deterministic too.
//! - Whether a report is sent at all is the caller's decision (DESIGN.md §1 and §5: a
//!   refusal is always reported, delivery reports only unless the user chose
//!   `report.delete`), as is the language (`report.lang`, else `[instance.defaults]
//!   reports.language`) and HTML or text (`reports.html`).
//!
//! # Override folder
//!
//! Same layout as the embedded defaults (`crates/umsgate/templates/reports/`,
//! `crates/umsgate/templates/inbound/` and `crates/umsgate/locales/<lang>/`):
//!
//! ```text
//! <override_dir>/
//!   sent.txt.j2  sent.html.j2  failed.txt.j2  failed.html.j2  refused.txt.j2  refused.html.j2
//!   layout.txt.j2  layout.html.j2  details.txt.j2  details.html.j2   (shared parts)
//!   inbound/fax.txt.j2  inbound/sms.txt.j2  inbound/voice.txt.j2     (inbound mails: text,
//!   inbound/fax.html.j2 inbound/sms.html.j2 inbound/voice.html.j2     HTML,
//!   inbound/layout.html.j2                                            the HTML frame)
//!   de/reports.ftl  de/inbound.ftl  en/  fr/  it/  es/  pt/  nl/
//! ```
//!
//! A template file replaces the embedded template of that name. A `reports.ftl` or
//! `inbound.ftl` is laid over the embedded strings of its language: the messages it defines
//! replace the embedded ones, the others stay, so an administrator can change one sentence
//! without copying the file. Any other `*.j2` file (at the top or in `inbound/`), or a
//! `*.ftl` file that is not one of the two in one of the seven language folders, is an error
//! (a misspelt name would otherwise be ignored without a word).
//!
//! Templates are [MiniJinja](https://docs.rs/minijinja) (`trim_blocks`, `lstrip_blocks`;
//! `.html.j2` is auto-escaped; an undefined variable is an error). They see:
//!
//! | variable | value |
//! |---|---|
//! | `lang` | `de` `en` `fr` `it` `es` `pt` `nl` |
//! | `kind` | `sent`, `failed`, `refused` |
//! | `service`, `service_name` | `fax`/`sms`/`voice`, and its localized name |
//! | `number`, `recipient_address` | E.164 number; the address the user wrote |
//! | `subject`, `original_message_id` | of the user's mail, or `none` (also for a subject with CR, LF or NUL) |
//! | `job_id`, `at`, `at_rfc3339` | the job; when it ended, localized and as RFC 3339 |
//! | `pages`, `duration_seconds`, `attempts`, `remote_id` | numbers and text, or `none` |
//! | `heading` | the localized heading (`Fax sent`) |
//! | `reason` | `failed` only: the gateway's reason (or a localized "no reason given") |
//! | `refusal` | `refused` only: `code` ([`Refusal::code`]), `explanation`, `hint` (localized) |
//! | `details` | list of `{label, value}`: the localized rows of the details table |
//!
//! and a function `t(id, **args)` that formats the Fluent message `id` in the report's
//! language, with `service`, `service_name`, `number`, `address` (the recipient address)
//! and `job_id` passed along automatically. The inbound templates' variables are listed in
//! [`inbound`] (and the README).
//!
//! # Implementation summary
//!
//! `strings` holds the seven Fluent bundles of a catalog (embedded + override; English as
//! fallback per message), `templates` the MiniJinja environment with `t` and the report
//! context (and the override scan and environment settings that `inbound` shares),
//! `inbound` the inbound mails' environment, and `compose` the MIME writer on
//! `mail-builder`. The refusal explanations live in the string
//! files as `refusal-<code>` and `refusal-<code>-hint`, one pair per [`Refusal`] variant;
//! the match that gives each variant its localized arguments is exhaustive, so a new
//! variant does not compile until it has them (then add it to `templates::samples`, which
//! `load` renders, and to the string files).

mod compose;
mod error;
pub mod inbound;
pub(crate) mod strings;
mod templates;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::time::{Duration, SystemTime};

use umsgate_domain::{Language, Service};

use umsgate_domain::Refusal;

pub(crate) use compose::boundary;
pub use compose::{MailParts, compose};
pub use error::ReportError;
pub use inbound::{InboundFacts, InboundTexts, PreviewRef, Previews};

/// What happened to the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportKind {
    /// umsgate did not accept the job: an error report (always sent).
    Refused(Refusal),
    /// The gateway delivered the job.
    Sent,
    /// The gateway gave up on the job; `reason` is the gateway's text (may be empty).
    Failed { reason: String },
}

impl ReportKind {
    /// The template name stem: `sent`, `failed`, `refused`.
    pub(crate) fn stem(&self) -> &'static str {
        match self {
            ReportKind::Refused(_) => "refused",
            ReportKind::Sent => "sent",
            ReportKind::Failed { .. } => "failed",
        }
    }
}

/// Everything a report says about one job to one number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportInput {
    pub kind: ReportKind,
    pub service: Service,
    /// E.164, e.g. `+4930123456`.
    pub number: String,
    /// The address the user wrote, e.g. `+49 30 123456@fax.example.com`.
    pub recipient_address: String,
    /// Subject of the user's mail.
    pub subject: Option<String>,
    /// Message-ID of the user's mail (with or without `<>`), for threading.
    pub original_message_id: Option<String>,
    pub job_id: String,
    pub pages: Option<u32>,
    pub duration: Option<Duration>,
    pub attempts: Option<u32>,
    /// The remote station id (fax CSID) or the engine's message reference.
    pub remote_id: Option<String>,
    /// When the job ended (sent, failed or refused).
    pub at: SystemTime,
}

/// A rendered report, ready for [`compose`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    /// Plain text, LF line ends, ending in one newline.
    pub text: String,
    /// The HTML alternative, if asked for.
    pub html: Option<String>,
}

/// Templates and strings for all seven languages, of the reports and of the inbound mails.
/// Cheap to share (`Send + Sync`); build once per configuration snapshot.
#[derive(Debug)]
pub struct Reports {
    templates: templates::Templates,
    inbound: InboundTexts,
}

impl Reports {
    /// Embedded defaults; files in `override_dir` (same layout: `<lang>/reports.ftl`,
    /// `<lang>/inbound.ftl`, `<name>.html.j2`, `<name>.txt.j2`, `inbound/<service>.txt.j2`,
    /// `inbound/<service>.html.j2`, `inbound/layout.html.j2`)
    /// replace them. Errors name the file.
    pub fn load(override_dir: Option<&Path>) -> Result<Reports, ReportError> {
        let overrides = match override_dir {
            Some(dir) => templates::scan_overrides(dir)?,
            None => templates::OverrideFiles::default(),
        };
        let strings = strings::Strings::load(override_dir, strings::Catalog::Reports)?;
        let templates = templates::Templates::load(&overrides.reports, strings)?;
        let strings = strings::Strings::load(override_dir, strings::Catalog::Inbound)?;
        let inbound = InboundTexts::load(&overrides.inbound, strings)?;
        Ok(Reports { templates, inbound })
    }

    /// The texts of the mails for received faxes, SMS and voice messages.
    pub fn inbound(&self) -> &InboundTexts {
        &self.inbound
    }

    /// Renders the report for `input` in `lang`; the HTML alternative only if `html`.
    pub fn render(
        &self,
        input: &ReportInput,
        lang: Language,
        html: bool,
    ) -> Result<Rendered, ReportError> {
        self.templates.render(input, lang, html)
    }
}
