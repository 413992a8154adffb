//! Policy: may this sender send this job? A pure function of (settings, defaults, job, usage).
//!
//! Contract: [`Effective::resolve`] lays the user's UMS settings over the instance defaults
//! (a key the user does not have means "system default"; a malformed attribute is passed in
//! as `None` by the caller, so it grants nothing beyond the defaults). [`decide`] then checks,
//! in this order: emergency mode (VIP only), the send right for the service against the
//! number's class, the page limit (fax), and the per-day limit; the first failing check is
//! the refusal. The granted priority is the requested one (normal when the mail asks for
//! none) capped at the user's highest allowed priority — his own setting, else the
//! instance's `defaults.priority`, which only ever limits. The per-day check here uses the count passed in; the
//! worker then reserves the slot atomically in the store.

use umsgate_domain::{Language, NumberClass, PerDay, Priority, Rights, Service, UserSettings};

use super::refusal::Refusal;
use crate::config::{DefaultsConfig, UnknownSenderAction};

/// A user's settings for one service, after defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub rights: Rights,
    /// Per-day limit; `None` = unlimited.
    pub per_day: Option<u32>,
    /// Fax pages per job; `None` = unlimited.
    pub max_pages: Option<u32>,
    /// Highest priority the user may ask for: his own setting, else the instance's
    /// `defaults.priority`. It only limits; mail that asks for nothing goes at normal
    /// priority (or lower, when the limit is lower).
    pub priority_cap: Priority,
    pub vip: bool,
    pub report_lang: Language,
    pub report_html: bool,
    pub report_delete: bool,
    pub headline: Option<String>,
    pub origin: Option<String>,
    pub billing: Option<String>,
    pub cover: Option<String>,
    pub cover_force: bool,
    pub fax_sender: Option<String>,
}

impl Effective {
    /// `settings` = the user's parsed attribute, or `None` (no attribute, or a malformed one).
    pub fn resolve(
        settings: Option<&UserSettings>,
        defaults: &DefaultsConfig,
        service: Service,
    ) -> Effective {
        let (default_rights, default_per_day) = match service {
            Service::Fax => (defaults.fax.rights, defaults.fax.per_day),
            Service::Sms => (defaults.sms.rights, defaults.sms.per_day),
            Service::Voice => (defaults.voice.rights, defaults.voice.per_day),
        };
        let system = match service {
            Service::Fax => defaults.system_per_day.fax,
            Service::Sms => defaults.system_per_day.sms,
            Service::Voice => defaults.system_per_day.voice,
        };
        let per_day = match settings
            .and_then(|s| s.per_day(service))
            .unwrap_or(default_per_day)
        {
            PerDay::Unlimited => None,
            PerDay::Limit(n) => Some(n),
            PerDay::System => (system > 0).then_some(system),
        };
        let max_pages = settings
            .and_then(|s| s.fax_max_pages().map(|n| n.get()))
            .or((defaults.fax.max_pages > 0).then_some(defaults.fax.max_pages));
        let s = settings;
        Effective {
            rights: s.and_then(|s| s.rights(service)).unwrap_or(default_rights),
            per_day,
            max_pages,
            priority_cap: s
                .and_then(UserSettings::priority)
                .unwrap_or(defaults.priority),
            vip: s.and_then(UserSettings::vip).unwrap_or(false),
            report_lang: s
                .and_then(UserSettings::report_lang)
                .unwrap_or(defaults.reports.language),
            report_html: defaults.reports.html,
            report_delete: s.and_then(UserSettings::report_delete).unwrap_or(false),
            headline: s.and_then(|s| s.fax_headline().map(str::to_owned)),
            origin: s.and_then(|s| s.origin().map(str::to_owned)),
            billing: s.and_then(|s| s.billing().map(str::to_owned)),
            cover: s.and_then(|s| s.cover().map(str::to_owned)),
            cover_force: s.and_then(UserSettings::cover_force).unwrap_or(false),
            fax_sender: s.and_then(|s| s.fax_sender().map(str::to_owned)),
        }
    }
}

/// What is known about a job when it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobFacts {
    pub service: Service,
    pub class: NumberClass,
    /// Fax pages (cover page excluded); `None` for SMS and voice.
    pub pages: Option<u32>,
    /// From `X-Priority`, `Importance` or `Priority`.
    pub requested_priority: Option<Priority>,
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Accept { priority: Priority },
    Refuse(Refusal),
}

/// What happens to the mail of a sender the directory does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownSenderOutcome {
    /// Dropped (and archived if configured); nobody is told.
    Delete,
    /// Dropped (and archived if configured); the default recipient gets the error report.
    Notify,
    /// Sent with the settings of the configured user; reports still go to the sender.
    SendAs,
}

/// The unknown-sender rule; `send_as_found` = the configured `send_as` user exists. A
/// `send_as` user who is missing from the directory turns the rule into `notify`, so the
/// administrator learns of the broken setting instead of mail vanishing.
pub fn unknown_sender(action: UnknownSenderAction, send_as_found: bool) -> UnknownSenderOutcome {
    match action {
        UnknownSenderAction::Delete => UnknownSenderOutcome::Delete,
        UnknownSenderAction::Notify => UnknownSenderOutcome::Notify,
        UnknownSenderAction::SendAs if send_as_found => UnknownSenderOutcome::SendAs,
        UnknownSenderAction::SendAs => UnknownSenderOutcome::Notify,
    }
}

/// Decides one job; `sent_today` is the user's count for the service today.
pub fn decide(eff: &Effective, emergency_mode: bool, job: &JobFacts, sent_today: u32) -> Decision {
    if emergency_mode && !eff.vip {
        return Decision::Refuse(Refusal::EmergencyMode);
    }
    if !eff.rights.permits(job.class) {
        return Decision::Refuse(Refusal::NoRight {
            service: job.service,
            class: job.class,
            right: eff.rights,
        });
    }
    if let (Some(pages), Some(max)) = (job.pages, eff.max_pages)
        && pages > max
    {
        return Decision::Refuse(Refusal::TooManyPages { pages, max });
    }
    if let Some(limit) = eff.per_day
        && sent_today >= limit
    {
        return Decision::Refuse(Refusal::DailyLimit {
            service: job.service,
            limit,
        });
    }
    let wanted = job.requested_priority.unwrap_or(Priority::Normal);
    Decision::Accept {
        priority: wanted.min(eff.priority_cap),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const RIGHTS: [Rights; 5] = [
        Rights::None,
        Rights::Internal,
        Rights::Local,
        Rights::National,
        Rights::International,
    ];
    const CLASSES: [NumberClass; 4] = [
        NumberClass::Internal,
        NumberClass::Local,
        NumberClass::National,
        NumberClass::International,
    ];

    fn settings(s: &str) -> UserSettings {
        UserSettings::parse(s).unwrap()
    }

    /// Whose settings decide, as the worker resolves it: a known sender, or an unknown
    /// sender under each `unknown_sender` action (with `send_as`, the named user's).
    #[derive(Debug, Clone, Copy)]
    enum SenderCase {
        Known,
        Unknown(UnknownSenderAction),
    }

    /// Every right × every number class × emergency/VIP × unknown-sender mode, per service.
    #[test]
    fn policy_matrix() {
        let defaults = DefaultsConfig::default();
        let cases = [
            SenderCase::Known,
            SenderCase::Unknown(UnknownSenderAction::Delete),
            SenderCase::Unknown(UnknownSenderAction::Notify),
            SenderCase::Unknown(UnknownSenderAction::SendAs),
        ];
        let mut checked = 0;
        for service in Service::ALL {
            for right in RIGHTS {
                for class in CLASSES {
                    for (emergency, vip) in
                        [(false, false), (false, true), (true, false), (true, true)]
                    {
                        for case in cases {
                            // The settings of the known sender, or of the send_as user.
                            let attr =
                                format!("ums1;{service}.rights={right};vip={}", u8::from(vip));
                            let job = JobFacts {
                                service,
                                class,
                                pages: None,
                                requested_priority: None,
                            };
                            let decision = match case {
                                SenderCase::Known => Some(decide(
                                    &Effective::resolve(Some(&settings(&attr)), &defaults, service),
                                    emergency,
                                    &job,
                                    0,
                                )),
                                SenderCase::Unknown(action) => match unknown_sender(action, true) {
                                    UnknownSenderOutcome::SendAs => Some(decide(
                                        &Effective::resolve(
                                            Some(&settings(&attr)),
                                            &defaults,
                                            service,
                                        ),
                                        emergency,
                                        &job,
                                        0,
                                    )),
                                    UnknownSenderOutcome::Delete | UnknownSenderOutcome::Notify => {
                                        None
                                    }
                                },
                            };
                            let expected = match case {
                                SenderCase::Unknown(
                                    UnknownSenderAction::Delete | UnknownSenderAction::Notify,
                                ) => None,
                                _ if emergency && !vip => {
                                    Some(Decision::Refuse(Refusal::EmergencyMode))
                                }
                                _ if right < class.required_rights() || right == Rights::None => {
                                    Some(Decision::Refuse(Refusal::NoRight {
                                        service,
                                        class,
                                        right,
                                    }))
                                }
                                _ => Some(Decision::Accept {
                                    priority: Priority::Normal,
                                }),
                            };
                            assert_eq!(
                                decision, expected,
                                "{service} {right} {class} emergency={emergency} vip={vip} {case:?}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 3 * 5 * 4 * 4 * 4);
        // A send_as user missing from the directory: the administrator is told.
        assert_eq!(
            unknown_sender(UnknownSenderAction::SendAs, false),
            UnknownSenderOutcome::Notify
        );
    }

    #[test]
    fn defaults_apply_where_the_user_has_nothing_and_malformed_grants_nothing_more() {
        let defaults = DefaultsConfig::default();
        // defaults: fax international, sms national, voice none
        let none = Effective::resolve(None, &defaults, Service::Voice);
        assert_eq!(none.rights, Rights::None);
        let sms = Effective::resolve(None, &defaults, Service::Sms);
        let job = JobFacts {
            service: Service::Sms,
            class: NumberClass::International,
            pages: None,
            requested_priority: None,
        };
        assert!(matches!(
            decide(&sms, false, &job, 0),
            Decision::Refuse(Refusal::NoRight { .. })
        ));
        // a malformed attribute does not parse, the caller passes None: only defaults
        assert!(UserSettings::parse("ums1;sms.rights=international;sms.rights=none").is_err());
    }

    #[test]
    fn pages_daily_limit_and_priority_cap() {
        let mut defaults = DefaultsConfig::default();
        defaults.system_per_day.fax = 3;
        let eff = Effective::resolve(
            Some(&settings("ums1;fax.max_pages=5;priority=normal")),
            &defaults,
            Service::Fax,
        );
        let mut job = JobFacts {
            service: Service::Fax,
            class: NumberClass::National,
            pages: Some(6),
            requested_priority: Some(Priority::High),
        };
        assert_eq!(
            decide(&eff, false, &job, 0),
            Decision::Refuse(Refusal::TooManyPages { pages: 6, max: 5 })
        );
        job.pages = Some(5);
        assert_eq!(
            decide(&eff, false, &job, 0),
            Decision::Accept {
                priority: Priority::Normal
            }
        );
        assert_eq!(
            decide(&eff, false, &job, 3),
            Decision::Refuse(Refusal::DailyLimit {
                service: Service::Fax,
                limit: 3
            })
        );
        let own = Effective::resolve(
            Some(&settings("ums1;fax.per_day=5;priority=high")),
            &defaults,
            Service::Fax,
        );
        assert_eq!(
            decide(&own, false, &job, 4),
            Decision::Accept {
                priority: Priority::High
            }
        );
        assert!(matches!(
            decide(&own, false, &job, 5),
            Decision::Refuse(Refusal::DailyLimit { limit: 5, .. })
        ));
        let unlimited = Effective::resolve(
            Some(&settings("ums1;fax.per_day=unlimited")),
            &defaults,
            Service::Fax,
        );
        assert!(matches!(
            decide(&unlimited, false, &job, 10_000),
            Decision::Accept { .. }
        ));
    }

    /// The instance's priority only limits (the allowed send priority): mail that asks for
    /// nothing goes at normal priority — lower only when the limit is lower — and a user's own
    /// setting replaces the limit.
    #[test]
    fn the_default_priority_limits_and_never_raises() {
        let job = |requested| JobFacts {
            service: Service::Fax,
            class: NumberClass::National,
            pages: Some(1),
            requested_priority: requested,
        };
        let granted = |defaults: Priority, user: Option<&str>, requested| {
            let d = DefaultsConfig {
                priority: defaults,
                ..DefaultsConfig::default()
            };
            let s = user.map(settings);
            match decide(
                &Effective::resolve(s.as_ref(), &d, Service::Fax),
                false,
                &job(requested),
                0,
            ) {
                Decision::Accept { priority } => priority,
                other => panic!("{other:?}"),
            }
        };
        use Priority::{High, Low, Normal};
        assert_eq!(
            granted(High, None, None),
            Normal,
            "unmarked mail is not raised"
        );
        assert_eq!(granted(High, None, Some(High)), High);
        assert_eq!(granted(Normal, None, Some(High)), Normal);
        assert_eq!(
            granted(Low, None, None),
            Low,
            "the limit lowers unmarked mail"
        );
        assert_eq!(granted(Low, None, Some(High)), Low);
        assert_eq!(granted(Low, Some("ums1;priority=high"), Some(High)), High);
        assert_eq!(granted(High, Some("ums1;priority=high"), None), Normal);
        assert_eq!(granted(High, Some("ums1;priority=low"), Some(High)), Low);
    }
}
