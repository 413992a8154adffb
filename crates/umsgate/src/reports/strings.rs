//! Localized strings: one Fluent bundle per language for each catalog (the reports'
//! `reports.ftl`, the inbound mails' `inbound.ftl`), the embedded defaults overlaid with the
//! administrator's `<lang>/<catalog>.ftl`, and the few values formatted per language (date
//! and time, pages with plurals, durations).
//!
//! Contract: [`Strings::format`] either returns the whole formatted string or an error; a
//! string with an unresolved placeholder or a missing message never comes back. A message
//! missing in a language is taken from English (the reference set); missing in English too
//! is an error.

use std::path::Path;
use std::time::{Duration, SystemTime};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use umsgate_domain::Language;

use super::error::{Origin, ReportError};

type Bundle = FluentBundle<FluentResource>;

/// The languages, in the order of [`lang_index`].
pub(crate) const LANGUAGES: [Language; 7] = [
    Language::De,
    Language::En,
    Language::Fr,
    Language::It,
    Language::Es,
    Language::Pt,
    Language::Nl,
];

/// A set of string files, one per language: what a [`Strings`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Catalog {
    /// `<lang>/reports.ftl`: delivery and error reports.
    Reports,
    /// `<lang>/inbound.ftl`: the mails of received faxes, SMS and voice messages.
    Inbound,
}

impl Catalog {
    pub(crate) const ALL: [Catalog; 2] = [Catalog::Reports, Catalog::Inbound];

    /// The file name in every language folder, embedded and overriding.
    pub(crate) fn file_name(self) -> &'static str {
        match self {
            Catalog::Reports => "reports.ftl",
            Catalog::Inbound => "inbound.ftl",
        }
    }

    /// The embedded string files, in the order of [`LANGUAGES`].
    pub(crate) fn embedded(self) -> [&'static str; 7] {
        match self {
            Catalog::Reports => [
                include_str!("../../locales/de/reports.ftl"),
                include_str!("../../locales/en/reports.ftl"),
                include_str!("../../locales/fr/reports.ftl"),
                include_str!("../../locales/it/reports.ftl"),
                include_str!("../../locales/es/reports.ftl"),
                include_str!("../../locales/pt/reports.ftl"),
                include_str!("../../locales/nl/reports.ftl"),
            ],
            Catalog::Inbound => [
                include_str!("../../locales/de/inbound.ftl"),
                include_str!("../../locales/en/inbound.ftl"),
                include_str!("../../locales/fr/inbound.ftl"),
                include_str!("../../locales/it/inbound.ftl"),
                include_str!("../../locales/es/inbound.ftl"),
                include_str!("../../locales/pt/inbound.ftl"),
                include_str!("../../locales/nl/inbound.ftl"),
            ],
        }
    }

    /// Where the embedded file of `lang` came from, for error messages.
    pub(crate) fn embedded_origin(self, lang: Language) -> Origin {
        Origin::Embedded(format!("{lang}/{}", self.file_name()))
    }
}

pub(crate) fn lang_index(lang: Language) -> usize {
    match lang {
        Language::De => 0,
        Language::En => 1,
        Language::Fr => 2,
        Language::It => 3,
        Language::Es => 4,
        Language::Pt => 5,
        Language::Nl => 6,
    }
}

const ENGLISH: usize = 1;

/// The seven bundles of one catalog.
pub(crate) struct Strings {
    catalog: Catalog,
    bundles: Vec<Bundle>,
    /// Where each language's override came from, if any (for error messages).
    overrides: Vec<Option<Origin>>,
}

impl std::fmt::Debug for Strings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Strings")
            .field("catalog", &self.catalog)
            .field("languages", &LANGUAGES)
            .field("overrides", &self.overrides)
            .finish()
    }
}

/// Parses one `.ftl` text; the error names `origin` and the line.
fn parse(source: String, origin: &Origin) -> Result<FluentResource, ReportError> {
    FluentResource::try_new(source).map_err(|(resource, errors)| {
        let detail = match errors.first() {
            Some(e) => {
                let line = resource
                    .source()
                    .get(..e.pos.start)
                    .map_or(0, |head| head.matches('\n').count())
                    + 1;
                format!("line {line}: {e}")
            }
            None => "cannot parse".to_owned(),
        };
        ReportError::strings(origin.clone(), detail)
    })
}

impl Strings {
    /// The embedded strings of `catalog`, each language overlaid with
    /// `<dir>/<lang>/<catalog>.ftl` if that file exists. Messages of an override file replace
    /// the embedded messages of the same id; ids it does not mention keep their embedded text.
    pub(crate) fn load(
        override_dir: Option<&Path>,
        catalog: Catalog,
    ) -> Result<Strings, ReportError> {
        let mut bundles = Vec::with_capacity(LANGUAGES.len());
        let mut overrides = Vec::with_capacity(LANGUAGES.len());
        for (lang, embedded) in LANGUAGES.iter().zip(catalog.embedded()) {
            let origin = catalog.embedded_origin(*lang);
            let langid: unic_langid::LanguageIdentifier = lang
                .as_str()
                .parse()
                .map_err(|_| ReportError::strings(origin.clone(), "not a language tag"))?;
            let mut bundle = Bundle::new_concurrent(vec![langid]);
            bundle.set_use_isolating(false);
            let resource = parse(embedded.to_owned(), &origin)?;
            bundle.add_resource(resource).map_err(|errors| {
                let detail = errors
                    .first()
                    .map_or_else(|| "cannot add".to_owned(), ToString::to_string);
                ReportError::strings(origin.clone(), detail)
            })?;
            let mut overridden = None;
            if let Some(dir) = override_dir {
                let path = dir.join(lang.as_str()).join(catalog.file_name());
                if path.is_file() {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| ReportError::io(path.clone(), e))?;
                    let origin = Origin::File(path);
                    bundle.add_resource_overriding(parse(text, &origin)?);
                    overridden = Some(origin);
                }
            }
            bundles.push(bundle);
            overrides.push(overridden);
        }
        Ok(Strings {
            catalog,
            bundles,
            overrides,
        })
    }

    /// The catalog these strings are.
    pub(crate) fn catalog(&self) -> Catalog {
        self.catalog
    }

    /// Where the strings of `lang` were overridden from, if they were.
    pub(crate) fn override_origin(&self, lang: Language) -> Option<&Origin> {
        self.overrides
            .get(lang_index(lang))
            .and_then(Option::as_ref)
    }

    /// Formats message `id` in `lang` (falling back to English) with `args`.
    pub(crate) fn format(
        &self,
        lang: Language,
        id: &str,
        args: &FluentArgs<'_>,
    ) -> Result<String, ReportError> {
        let own = self.bundles.get(lang_index(lang));
        let english = self.bundles.get(ENGLISH);
        let found = own
            .and_then(|b| b.get_message(id).map(|m| (b, m)))
            .or_else(|| english.and_then(|b| b.get_message(id).map(|m| (b, m))));
        let Some((bundle, message)) = found else {
            return Err(ReportError::message(id, "no such message"));
        };
        let Some(pattern) = message.value() else {
            return Err(ReportError::message(id, "message has no value"));
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(args), &mut errors);
        if let Some(e) = errors.first() {
            return Err(ReportError::message(id, format!("in {lang}: {e}")));
        }
        Ok(text.into_owned())
    }

    /// [`format`](Self::format) without arguments.
    pub(crate) fn plain(&self, lang: Language, id: &str) -> Result<String, ReportError> {
        self.format(lang, id, &FluentArgs::new())
    }

    /// `at` in UTC as the language writes it (message `datetime`).
    pub(crate) fn datetime(&self, lang: Language, at: SystemTime) -> Result<String, ReportError> {
        let c = crate::clock::utc(at);
        let mut args = FluentArgs::new();
        args.set("year", format!("{:04}", c.year()));
        args.set("month", format!("{:02}", u8::from(c.month())));
        args.set("day", format!("{:02}", c.day()));
        args.set("hour", format!("{:02}", c.hour()));
        args.set("minute", format!("{:02}", c.minute()));
        self.format(lang, "datetime", &args)
    }

    /// A page count with the language's plural rule (message `pages`).
    pub(crate) fn pages(&self, lang: Language, pages: u32) -> Result<String, ReportError> {
        let mut args = FluentArgs::new();
        args.set("pages", pages);
        self.format(lang, "pages", &args)
    }

    /// A duration in whole minutes and seconds, rounded to the second (message `duration`).
    pub(crate) fn duration(&self, lang: Language, d: Duration) -> Result<String, ReportError> {
        let secs = rounded_seconds(d);
        let mut args = FluentArgs::new();
        args.set("minutes", secs / 60);
        args.set("seconds", secs % 60);
        self.format(lang, "duration", &args)
    }
}

/// Whole seconds, half a second rounds up.
pub(crate) fn rounded_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_millis() >= 500)
}

/// The message ids defined in an `.ftl` text: lines that start with an identifier followed
/// by `=` (Fluent messages start in the first column; terms start with `-`, comments with
/// `#`, continuation lines are indented).
#[cfg(test)]
pub(crate) fn message_ids(source: &str) -> std::collections::BTreeSet<String> {
    source
        .lines()
        .filter_map(|line| {
            let (id, _) = line.split_once('=')?;
            let id = id.trim_end();
            let mut chars = id.chars();
            let first = chars.next()?;
            (first.is_ascii_alphabetic()
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .then(|| id.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeSet;
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    /// The `$variables` a message uses, per message id.
    fn variables(source: &str) -> std::collections::BTreeMap<String, BTreeSet<String>> {
        let mut out = std::collections::BTreeMap::<String, BTreeSet<String>>::new();
        let mut current = None::<String>;
        for line in source.lines() {
            if line.starts_with('#') {
                continue;
            }
            if let Some(id) = message_ids(line).into_iter().next() {
                current = Some(id);
            }
            let Some(id) = &current else { continue };
            let vars = out.entry(id.clone()).or_default();
            let mut rest = line;
            while let Some(at) = rest.find('$') {
                let tail = &rest[at + 1..];
                let end = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                    .unwrap_or(tail.len());
                vars.insert(tail[..end].to_owned());
                rest = &tail[end..];
            }
        }
        out
    }

    #[test]
    fn every_language_has_exactly_the_english_ids() {
        for (catalog, at_least) in [(Catalog::Reports, 40), (Catalog::Inbound, 12)] {
            let embedded = catalog.embedded();
            let english = message_ids(embedded[ENGLISH]);
            assert!(english.len() >= at_least, "{catalog:?}: {english:?}");
            let strings = Strings::load(None, catalog).unwrap();
            for (i, (lang, source)) in LANGUAGES.iter().zip(embedded).enumerate() {
                let ids = message_ids(source);
                let missing: Vec<_> = english.difference(&ids).collect();
                let extra: Vec<_> = ids.difference(&english).collect();
                assert!(
                    missing.is_empty(),
                    "{catalog:?} {lang}: missing {missing:?}"
                );
                assert!(
                    extra.is_empty(),
                    "{catalog:?} {lang}: not in English {extra:?}"
                );
                // The line scan agrees with Fluent's own parser.
                for id in &ids {
                    assert!(strings.bundles[i].has_message(id), "{lang}: {id}");
                }
            }
        }
    }

    #[test]
    fn no_language_uses_a_variable_english_does_not_know() {
        for catalog in Catalog::ALL {
            let embedded = catalog.embedded();
            let english = variables(embedded[ENGLISH]);
            let known: BTreeSet<String> = english.values().flatten().cloned().collect();
            for (lang, source) in LANGUAGES.iter().zip(embedded) {
                for (id, vars) in variables(source) {
                    for var in vars {
                        assert!(
                            known.contains(&var),
                            "{catalog:?} {lang} {id}: unknown ${var}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn dates_per_language() {
        let strings = Strings::load(None, Catalog::Reports).unwrap();
        // 2026-11-26T10:15:00Z
        let at = UNIX_EPOCH + Duration::from_secs(1_795_688_100);
        assert_eq!(crate::clock::rfc3339(at), "2026-11-26T10:15:00Z");
        assert_eq!(
            strings.datetime(Language::De, at).unwrap(),
            "26.11.2026 10:15 UTC"
        );
        assert_eq!(
            strings.datetime(Language::En, at).unwrap(),
            "2026-11-26 10:15 UTC"
        );
        assert_eq!(
            strings.datetime(Language::Fr, at).unwrap(),
            "26/11/2026 10:15 UTC"
        );
        assert_eq!(
            strings.datetime(Language::Nl, at).unwrap(),
            "26-11-2026 10:15 UTC"
        );
        // Leap day and year boundary.
        let leap = crate::clock::parse_rfc3339("2024-02-29T23:59:59Z").unwrap();
        assert_eq!(
            strings.datetime(Language::De, leap).unwrap(),
            "29.02.2024 23:59 UTC"
        );
        let new_year = crate::clock::parse_rfc3339("2027-01-01T00:00:00Z").unwrap();
        assert_eq!(
            strings.datetime(Language::En, new_year).unwrap(),
            "2027-01-01 00:00 UTC"
        );
    }

    #[test]
    fn page_plurals() {
        let strings = Strings::load(None, Catalog::Reports).unwrap();
        let cases = [
            (Language::En, 1, "1 page"),
            (Language::En, 3, "3 pages"),
            (Language::De, 1, "1 Seite"),
            (Language::De, 3, "3 Seiten"),
            (Language::Fr, 1, "1 page"),
            (Language::Fr, 2, "2 pages"),
            (Language::It, 1, "1 pagina"),
            (Language::It, 2, "2 pagine"),
            (Language::Es, 1, "1 página"),
            (Language::Es, 5, "5 páginas"),
            (Language::Pt, 1, "1 página"),
            (Language::Pt, 5, "5 páginas"),
            (Language::Nl, 1, "1 pagina"),
            (Language::Nl, 4, "4 pagina's"),
        ];
        for (lang, n, want) in cases {
            assert_eq!(strings.pages(lang, n).unwrap(), want, "{lang} {n}");
        }
    }

    #[test]
    fn durations() {
        let strings = Strings::load(None, Catalog::Reports).unwrap();
        let d = |s, ms| Duration::from_secs(s) + Duration::from_millis(ms);
        assert_eq!(strings.duration(Language::En, d(42, 0)).unwrap(), "42 s");
        assert_eq!(
            strings.duration(Language::En, d(125, 600)).unwrap(),
            "2 min 6 s"
        );
        assert_eq!(
            strings.duration(Language::De, d(59, 500)).unwrap(),
            "1 min 0 s"
        );
    }

    #[test]
    fn missing_message_and_missing_argument_are_errors() {
        let strings = Strings::load(None, Catalog::Reports).unwrap();
        assert!(strings.plain(Language::De, "no-such-message").is_err());
        // `pages` needs $pages.
        let e = strings.plain(Language::En, "pages").unwrap_err();
        assert!(e.to_string().contains("`pages`"), "{e}");
    }

    #[test]
    fn override_file_replaces_some_messages_and_keeps_the_rest() {
        let dir =
            std::env::temp_dir().join(format!("umsgate-reports-strings-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("de")).unwrap();
        std::fs::write(dir.join("de/reports.ftl"), "service-fax = Telefax\n").unwrap();
        let strings = Strings::load(Some(&dir), Catalog::Reports).unwrap();
        assert_eq!(
            strings.plain(Language::De, "service-fax").unwrap(),
            "Telefax"
        );
        assert_eq!(strings.plain(Language::De, "service-sms").unwrap(), "SMS");
        assert!(strings.override_origin(Language::De).is_some());
        assert!(strings.override_origin(Language::En).is_none());

        std::fs::write(dir.join("de/reports.ftl"), "ok = fine\nbroken = { $\n").unwrap();
        let e = Strings::load(Some(&dir), Catalog::Reports).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("de/reports.ftl") && text.contains("line 2"),
            "{text}"
        );
        assert!(e.is_load_error());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
