//! The plan for one recipient of a message: the job for the engine, or the refusal the sender
//! is told — decided without any I/O.
//!
//! Contract: [`plan`] is a pure function of the instance's configuration and number plan, the
//! sender (his directory entry and settings), the message's content, the recipient and the
//! sender's count of jobs today. It reads the service and number from the recipient address,
//! normalises and classifies the number, builds the payload, and asks the policy; the first
//! failing step is the refusal. A planned job carries everything the hand-over needs: the job
//! for the engine, the record kept until its delivery report is mailed, and the per-day limit
//! to reserve against. The caller asks the store for the count only when [`Target::per_day`]
//! says there is a limit.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use umsgate_render::Body;
use umsgate_render::cover::{CoverFields, Covers};

use umsgate_domain::{Language, PhoneNumber, Priority, Service, SitePlan};

use super::jobs::JobRecord;
use super::mime::{self, MessageContent, Payload};
use super::policy::{Decision, Effective, JobFacts, decide};
use super::refusal::Refusal;
use super::sender::Sender;
use crate::address::{AddressMismatch, ParsedAddress};
use crate::clock;
use crate::config::InstanceConfig;
use crate::gateway::Job;

/// What the plan reads besides the message: one instance's settings.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub config: &'a InstanceConfig,
    pub plan: &'a SitePlan,
    pub limits: &'a mime::Limits,
    /// Cover templates (names, SMS header texts).
    pub covers: &'a Covers,
}

/// A message's fax pages, rendered once for all its fax recipients, or why they could not be.
pub type FaxBody = Result<Arc<Body>, Refusal>;

/// The fax of a planned job: the rendered body and the cover page to put in front.
#[derive(Debug, Clone)]
pub struct PlannedFax {
    pub body: Arc<Body>,
    /// The cover template (`None` = no cover page) and its fields.
    pub cover: Option<(Option<String>, CoverFields)>,
    /// The message is on the cover (a short text-only mail and a cover that shows it): the
    /// cover is the whole fax, unless it cannot be drawn — then the body pages go instead.
    pub body_on_cover: bool,
}

/// Lines and columns of the message area the shipped covers give a message; a text-only mail
/// that fits goes on the cover instead of a page of its own.
const COVER_MESSAGE: umsgate_render::layout::Geometry = umsgate_render::layout::Geometry {
    columns: 92,
    lines: 28,
};

/// What the message says, read once for all its recipients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageFacts {
    pub subject: Option<String>,
    /// Without `<>`.
    pub message_id: Option<String>,
}

/// A recipient address as read once for its plan: what it says, the service it asks for and
/// the sender's settings for that service ([`target`]).
#[derive(Debug, Clone)]
pub struct Target {
    pub address: String,
    pub parsed: Result<ParsedAddress, AddressMismatch>,
    pub service: Service,
    pub effective: Effective,
}

impl Target {
    /// The sender's per-day limit for this service (`None` = unlimited: no count needed).
    pub fn per_day(&self) -> Option<u32> {
        self.effective.per_day
    }
}

/// How the sender wants to be told (language, HTML).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportPrefs {
    pub language: Language,
    pub html: bool,
}

/// A job ready to be handed over.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The job; a fax job's document is rendered at hand-over from [`Planned::fax`].
    pub job: Job,
    pub fax: Option<PlannedFax>,
    pub record: JobRecord,
    pub per_day: Option<u32>,
    pub prefs: ReportPrefs,
}

/// The outcome of [`plan`].
#[derive(Debug, Clone)]
pub enum Plan {
    Job(Box<Planned>),
    Refuse(Refusal, ReportPrefs),
}

/// The recipient `address` read through the address template, its service and the
/// sender's settings for it (a recipient that does not parse is taken as fax, for the
/// refusal's wording).
pub fn target(ctx: Context<'_>, sender: &Sender, address: &str) -> Target {
    let parsed = ctx
        .config
        .mail
        .sender_template
        .parse(address, &ctx.config.mail.domain);
    let service = parsed.as_ref().map_or(Service::Fax, |p| p.service);
    let effective = Effective::resolve(sender.settings.as_ref(), &ctx.config.defaults, service);
    Target {
        address: address.to_owned(),
        parsed,
        service,
        effective,
    }
}

/// One recipient's job or refusal; see the module contract.
#[allow(clippy::too_many_arguments)]
pub fn plan(
    ctx: Context<'_>,
    job_id: &str,
    target: &Target,
    sender: &Sender,
    content: &Result<MessageContent, Refusal>,
    fax: Option<&FaxBody>,
    facts: &MessageFacts,
    sent_today: u32,
    now: SystemTime,
) -> Plan {
    let address = target.address.as_str();
    let eff = &target.effective;
    let prefs = ReportPrefs {
        language: eff.report_lang,
        html: eff.report_html,
    };
    let refuse = |r: Refusal| Plan::Refuse(r, prefs);
    let parsed = match &target.parsed {
        Ok(p) => p,
        Err(e) => {
            return refuse(Refusal::BadNumber {
                number: address.to_owned(),
                detail: e.to_string(),
            });
        }
    };
    let number = match ctx.plan.normalise(&parsed.number) {
        Ok(n) => n,
        Err(e) => {
            return refuse(Refusal::BadNumber {
                number: parsed.number.clone(),
                detail: e.to_string(),
            });
        }
    };
    let content = match content {
        Ok(c) => c,
        Err(r) => return refuse(r.clone()),
    };
    let (payload, body) = match target.service {
        // The parts were rendered before planning (once for every fax recipient).
        Service::Fax => match fax {
            Some(Ok(body)) => (None, Some(body.clone())),
            Some(Err(r)) => return refuse(r.clone()),
            None => return refuse(Refusal::EmptyMessage),
        },
        service => match mime::build(content, service, ctx.limits) {
            Ok(Payload::Sms(sms)) => {
                let header = ctx.covers.sms_header(target.effective.cover.as_deref());
                match mime::with_sms_header(sms, header, ctx.limits) {
                    Ok(sms) => (Some(Payload::Sms(sms)), None),
                    Err(r) => return refuse(r),
                }
            }
            Ok(p) => (Some(p), None),
            Err(r) => return refuse(r),
        },
    };
    let pages = body.as_ref().map(|b| b.pages());
    let job_facts = JobFacts {
        service: target.service,
        class: ctx.plan.classify(&number),
        pages,
        requested_priority: content.priority,
    };
    let priority = match decide(eff, ctx.config.emergency_mode, &job_facts, sent_today) {
        Decision::Accept { priority } => priority,
        Decision::Refuse(r) => return refuse(r),
    };
    let job = job(
        ctx, job_id, target, &number, sender, priority, payload, content,
    );
    let fax = body.map(|body| {
        let template = job.cover.as_deref().filter(|n| *n != DEFAULT_COVER);
        let body_on_cover = job.cover.is_some()
            && content.attachments.is_empty()
            && content.html.is_none()
            && !content.text.is_empty()
            && ctx.covers.shows_body(template)
            && umsgate_render::layout::paginate(&content.text, COVER_MESSAGE).len() == 1;
        PlannedFax {
            body_on_cover,
            cover: job.cover.as_ref().map(|_| {
                let fields = CoverFields {
                    recipient_number: job.number.clone(),
                    recipient_name: content
                        .display_names
                        .get(&address.to_ascii_lowercase())
                        .cloned(),
                    sender_name: (!sender.user.name.is_empty()).then(|| sender.user.name.clone()),
                    sender_address: sender.user.mail.clone(),
                    sender_fields: job.cover_fields.clone(),
                    subject: content.subject.clone(),
                    date: clock::display_minute(now),
                    pages: if body_on_cover {
                        1
                    } else {
                        body.pages().saturating_add(1)
                    },
                    body: body_on_cover.then(|| content.text.clone()),
                };
                (template.map(str::to_owned), fields)
            }),
            body,
        }
    });
    let record = JobRecord {
        job_id: job_id.to_owned(),
        service: target.service,
        e164: number.e164(),
        rcpt_address: address.to_owned(),
        report_to: sender.report_to.clone(),
        user: sender.user.mail.clone(),
        language: eff.report_lang,
        html: eff.report_html,
        report_delete: eff.report_delete,
        subject: facts.subject.clone(),
        original_message_id: facts.message_id.clone(),
        pages,
        queued_at: clock::rfc3339(now),
    };
    Plan::Job(Box::new(Planned {
        job,
        fax,
        record,
        per_day: eff.per_day,
        prefs,
    }))
}

/// The fax sender number (TSI) and the ISDN originating number of a job, as the manual has
/// them: the user's `fax.sender` is an extension combined with the site's number
/// ([`SitePlan::own_number`]; an already full number stays what it is), in spaced form
/// (`+49 8142 4799123`); `origin` is the user's setting as written, else that number. A
/// `fax.sender` that makes no valid number is logged and left out: the engine then uses its
/// own, and the job still goes.
fn sender_numbers(
    plan: &SitePlan,
    eff: &Effective,
    user: &str,
) -> (Option<String>, Option<String>) {
    let fax_sender = eff
        .fax_sender
        .as_deref()
        .and_then(|setting| match plan.own_number(setting) {
            Ok(n) => Some(plan.spaced(&n)),
            Err(e) => {
                tracing::warn!(event = "outbound.bad_fax_sender", user, setting, error = %e, "the job goes without a fax sender number");
                None
            }
        });
    let origin = eff.origin.clone().or_else(|| fax_sender.clone());
    (fax_sender, origin)
}

/// The number an SMS is sent from: the sender's mobile number (the directory attribute
/// `gateway.kannel.sender_attribute`, read as the site's own numbers are), else the site's
/// number.
fn sms_sender(ctx: Context<'_>, sender: &Sender) -> Option<String> {
    let attr = &ctx.config.gateway.kannel.sender_attribute;
    if let Some(mobile) = sender.user.attribute(attr) {
        match ctx.plan.own_number(mobile) {
            Ok(n) => return Some(n.e164()),
            Err(e) => {
                tracing::warn!(event = "outbound.bad_sms_sender", user = %sender.user.mail, attribute = %attr, error = %e, "the SMS goes from the site's number");
            }
        }
    }
    let p = ctx.plan;
    let site = format!("+{}{}{}", p.country_code(), p.area_code(), p.subscriber());
    ctx.plan.normalise(&site).ok().map(|n| n.e164())
}

/// The cover-page fields the directory holds for the sender, by field name.
fn cover_fields(ctx: Context<'_>, sender: &Sender) -> BTreeMap<String, String> {
    let map = &ctx.config.directory.coverpage;
    let mut fields = BTreeMap::new();
    for (field, attr) in [
        ("company", &map.company),
        ("street", &map.street),
        ("zip", &map.zip),
        ("city", &map.city),
        ("department", &map.department),
        ("office", &map.office),
        ("phone", &map.phone),
        ("fax", &map.fax),
        ("custom1", &map.custom1),
        ("custom2", &map.custom2),
        ("custom3", &map.custom3),
    ] {
        if let Some(v) = sender.user.attribute(attr) {
            fields.insert(field.to_owned(), v.to_owned());
        }
    }
    if !sender.user.name.is_empty() {
        fields.insert("name".to_owned(), sender.user.name.clone());
    }
    fields
}

/// The cover name a job records when the user forced a cover without naming one.
const DEFAULT_COVER: &str = "default";

/// A document for the engine: its generated file name and bytes.
type Document = (String, Vec<u8>);

#[allow(clippy::too_many_arguments)]
fn job(
    ctx: Context<'_>,
    job_id: &str,
    target: &Target,
    number: &PhoneNumber,
    sender: &Sender,
    priority: Priority,
    payload: Option<Payload>,
    content: &MessageContent,
) -> Job {
    let eff = &target.effective;
    let (text, files): (Option<String>, Vec<Document>) = match payload {
        // A fax's one document is rendered at hand-over.
        None | Some(Payload::Fax(_)) => (None, Vec::new()),
        Some(Payload::Sms(s)) => (Some(s.text), Vec::new()),
        Some(Payload::Voice(v)) => (
            v.text,
            v.wav.into_iter().map(|d| (d.name, d.data)).collect(),
        ),
    };
    let pages = None;
    let cover = match (&eff.cover, eff.cover_force) {
        (Some(c), _) => Some(c.clone()),
        (None, true) => Some(DEFAULT_COVER.to_owned()),
        (None, false) => None,
    };
    let (fax_sender, origin) = sender_numbers(ctx.plan, eff, &sender.user.mail);
    Job {
        job_id: job_id.to_owned(),
        service: target.service,
        number: ctx.plan.spaced(number),
        e164: number.e164(),
        sender: sender.user.mail.clone(),
        priority,
        pages,
        cover: if target.service == Service::Fax {
            cover
        } else {
            None
        },
        headline: eff.headline.clone(),
        origin,
        billing: eff.billing.clone(),
        text,
        attachments: files.iter().map(|(n, _)| n.clone()).collect(),
        fax_sender,
        cover_fields: cover_fields(ctx, sender),
        sms_sender: if target.service == Service::Sms {
            sms_sender(ctx, sender)
        } else {
            None
        },
        subject: content.subject.clone(),
        files,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::UNIX_EPOCH;

    use umsgate_domain::UserSettings;

    use super::*;
    use crate::config::Config;
    use crate::directory::User;
    use crate::outbound::tests::CONFIG;

    fn sender(ums: &str) -> Sender {
        Sender {
            user: User {
                id: "jane@example.com".into(),
                mail: "jane@example.com".into(),
                name: "Jane Doe".into(),
                ums: Some(ums.into()),
                attributes: Default::default(),
            },
            settings: Some(UserSettings::parse(ums).unwrap()),
            report_to: Some("jane@example.com".into()),
        }
    }

    /// The plan of one recipient of `eml` for a sender with `ums`, with no I/O at all.
    fn plan_of(ums: &str, address: &str, eml: &[u8], sent_today: u32) -> Plan {
        plan_with(ums, address, eml, sent_today, &Covers::load(None).unwrap())
    }

    /// [`plan_of`] with the cover templates `covers`.
    fn plan_with(ums: &str, address: &str, eml: &[u8], sent_today: u32, covers: &Covers) -> Plan {
        let config = Config::parse(CONFIG, std::path::Path::new("/umsgate.toml")).unwrap();
        let sender = sender(ums);
        let inst = &config.instances[0];
        let site = config.site.plan().unwrap();
        let limits = mime::Limits::default();
        let ctx = Context {
            config: inst,
            plan: &site,
            limits: &limits,
            covers,
        };
        let content = mime::parse(eml, &limits);
        // What the worker renders before planning: the body's pages.
        let fax: Option<FaxBody> = content.as_ref().ok().map(|c| {
            let Ok(mime::Payload::Fax(f)) = mime::build(c, Service::Fax, &limits) else {
                return Err(Refusal::EmptyMessage);
            };
            let renderer = umsgate_render::Renderer::new(Default::default(), std::env::temp_dir());
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            Ok(Arc::new(rt.block_on(renderer.render(&f.parts)).unwrap()))
        });
        let facts = MessageFacts {
            subject: Some("offer".into()),
            message_id: Some("m1@example.com".into()),
        };
        plan(
            ctx,
            "Q1-3",
            &target(ctx, &sender, address),
            &sender,
            &content,
            fax.as_ref(),
            &facts,
            sent_today,
            UNIX_EPOCH,
        )
    }

    #[test]
    fn an_sms_goes_from_the_users_mobile_else_the_sites_number() {
        let config = Config::parse(CONFIG, std::path::Path::new("/umsgate.toml")).unwrap();
        let site = config.site.plan().unwrap();
        let limits = mime::Limits::default();
        let covers = Covers::load(None).unwrap();
        let ctx = Context {
            config: &config.instances[0],
            plan: &site,
            limits: &limits,
            covers: &covers,
        };
        let mut jane = sender("ums1");
        let own = format!(
            "+{}{}{}",
            site.country_code(),
            site.area_code(),
            site.subscriber()
        );
        assert_eq!(sms_sender(ctx, &jane).as_deref(), Some(own.as_str()));
        jane.user
            .attributes
            .insert("Mobile".into(), "0170 1234567".into());
        assert_eq!(sms_sender(ctx, &jane).as_deref(), Some("+491701234567"));
        jane.user
            .attributes
            .insert("Mobile".into(), "call me".into());
        assert_eq!(sms_sender(ctx, &jane).as_deref(), Some(own.as_str()));
    }

    const TEXT: &[u8] =
        b"From: jane@example.com\r\nSubject: offer\r\nX-Priority: 1\r\n\r\nPlease call.\r\n";

    #[test]
    fn a_fax_the_sender_may_send_becomes_a_job_and_its_record() {
        let ums = "ums1;fax.rights=national;priority=high;report.lang=de;fax.per_day=5";
        let Plan::Job(p) = plan_of(ums, "0301234567@fax.example.com", TEXT, 4) else {
            panic!("refused");
        };
        assert_eq!(p.job.job_id, "Q1-3");
        assert_eq!(p.job.e164, "+49301234567");
        assert_eq!(p.job.number, "+49 30 1234567");
        assert_eq!(
            p.job.priority,
            Priority::High,
            "X-Priority 1 within the user's cap"
        );
        assert_eq!(p.fax.as_ref().map(|f| f.body.pages()), Some(1));
        assert_eq!(
            p.record.pages,
            Some(1),
            "the record counts the rendered pages"
        );
        assert_eq!(
            p.job.cover_fields.get("name").map(String::as_str),
            Some("Jane Doe")
        );
        assert_eq!(p.per_day, Some(5));
        assert_eq!(p.prefs.language, Language::De);
        assert_eq!(p.record.report_to.as_deref(), Some("jane@example.com"));
        assert_eq!(p.record.queued_at, "1970-01-01T00:00:00Z");
        assert_eq!(p.record.subject.as_deref(), Some("offer"));
    }

    #[test]
    fn every_refusal_comes_with_the_senders_report_preferences() {
        let ums = "ums1;fax.rights=national;report.lang=fr;fax.per_day=5";
        let refused = |address: &str, sent: u32| match plan_of(ums, address, TEXT, sent) {
            Plan::Refuse(r, prefs) => {
                assert_eq!(prefs.language, Language::Fr);
                r.code()
            }
            Plan::Job(_) => "planned",
        };
        assert_eq!(refused("0041441234567@fax.example.com", 0), "no_right");
        assert_eq!(refused("0301234567@fax.example.com", 5), "daily_limit");
        assert_eq!(refused("not-a-number@fax.example.com", 0), "bad_number");
        assert_eq!(refused("jane@elsewhere.example", 0), "bad_number");
        assert_eq!(refused("0301234567@fax.example.com", 4), "planned");
    }

    /// `fax.sender` is an extension of the site's number; `origin` falls back to it.
    #[test]
    fn the_fax_sender_number_combines_the_extension_with_the_site_number() {
        let numbers = |ums: &str, address: &str| match plan_of(ums, address, TEXT, 0) {
            Plan::Job(p) => (p.job.fax_sender, p.job.origin),
            Plan::Refuse(r, _) => panic!("{ums}: refused: {r:?}"),
        };
        let fax = "0301234567@fax.example.com";
        let full = |s: &str| Some(s.to_owned());
        let rights = "ums1;fax.rights=national;sms.rights=national";
        // An extension.
        assert_eq!(
            numbers(&format!("{rights};fax.sender=123"), fax),
            (full("+49 8142 4799123"), full("+49 8142 4799123"))
        );
        // An already full number, in any spelling.
        assert_eq!(
            numbers(&format!("{rights};fax.sender=08142 4799-200"), fax),
            (full("+49 8142 4799200"), full("+49 8142 4799200"))
        );
        assert_eq!(
            numbers(&format!("{rights};fax.sender=+49 30 555 1234"), fax).0,
            full("+49 30 5551234")
        );
        // An origin of its own stays as written; the fax sender number is still combined.
        assert_eq!(
            numbers(&format!("{rights};fax.sender=123;origin=5678"), fax),
            (full("+49 8142 4799123"), full("5678"))
        );
        // None: neither is set, the engine uses its own.
        assert_eq!(numbers(rights, fax), (None, None));
        assert_eq!(
            numbers(&format!("{rights};origin=+49 8142 4799 0"), fax),
            (None, full("+49 8142 4799 0"))
        );
        // One that makes no number (16 digits) is left out; the job still goes.
        assert_eq!(
            numbers(&format!("{rights};fax.sender=123456"), fax),
            (None, None)
        );
        // Every service signals the origin: an SMS falls back to the fax sender number too.
        assert_eq!(
            numbers(
                &format!("{rights};fax.sender=123"),
                "01701234567@sms.example.com"
            )
            .1,
            full("+49 8142 4799123")
        );
    }

    #[test]
    fn an_sms_starts_with_the_header_text_of_the_senders_cover() {
        let dir = std::env::temp_dir().join(format!("umsgate-plan-covers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("firma.sms.txt"), "Example Corp:\n").unwrap();
        let covers = Covers::load(Some(&dir)).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let sms = |ums: &str| {
            let Plan::Job(p) = plan_with(ums, "01701234567@sms.example.com", TEXT, 0, &covers)
            else {
                panic!("refused");
            };
            p.job.text.unwrap()
        };
        let rights = "ums1;sms.rights=international";
        assert_eq!(
            sms(&format!("{rights};cover=firma")),
            "Example Corp:\nPlease call."
        );
        // A cover without a header text leaves the SMS as written.
        assert_eq!(sms(&format!("{rights};cover=standard")), "Please call.");
        assert_eq!(sms(rights), "Please call.");
    }
}
