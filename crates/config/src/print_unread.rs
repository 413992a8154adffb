//! Print-unread rules (`[[instance.print_unread]]`), compiled: which called fax numbers a rule
//! covers, how long a fax waits for its read receipt, and the printer it goes to.
//!
//! Contract: [`PrintRules::compile`] accepts a rule list only when every rule has a name, a
//! queue time of at least one second, at least one number pattern and an `ipp://` or
//! `ipps://` printer URI with a host; every pattern is `*`, one number, or a range
//! `FIRST-LAST` whose LAST is written internationally (`+49 30 1000-+49 30 1099`, the `-`
//! before the `+` separates the bounds, any other `-` is formatting). Numbers are normalised
//! with the site's plan, so `030 1000` and `+49 30 1000` are the same number; a range's bounds
//! must have the same number of digits and FIRST must not be after LAST. Anything else is a
//! [`RuleError`] naming the rule and the pattern. [`PrintRules::first_match`] is pure: the
//! rules are tried top-down and the first rule with a matching pattern wins; a number is in a
//! range when it has the bounds' number of digits and lies between them.

use std::fmt;
use std::time::Duration;

use umsgate_domain::{NumberError, PhoneNumber, SitePlan};

use crate::PrintUnreadRule;

/// One number pattern of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberPattern {
    /// `*`: every number.
    Any,
    /// One number.
    Exact(PhoneNumber),
    /// Every number with the bounds' digit count between them, both included.
    Range(PhoneNumber, PhoneNumber),
}

impl NumberPattern {
    /// Whether `number` is covered.
    pub fn covers(&self, number: &PhoneNumber) -> bool {
        match self {
            NumberPattern::Any => true,
            NumberPattern::Exact(n) => n == number,
            NumberPattern::Range(lo, hi) => {
                // Same digit count: comparing the digit strings compares the numbers.
                let d = number.digits();
                d.len() == lo.digits().len() && lo.digits() <= d && d <= hi.digits()
            }
        }
    }
}

impl fmt::Display for NumberPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberPattern::Any => f.write_str("*"),
            NumberPattern::Exact(n) => write!(f, "{}", n.e164()),
            NumberPattern::Range(lo, hi) => write!(f, "{}-{}", lo.e164(), hi.e164()),
        }
    }
}

/// An `ipp://` or `ipps://` printer URI, checked for its form (not for reachability).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterUri(String);

impl PrinterUri {
    pub fn parse(s: &str) -> Result<PrinterUri, String> {
        let rest = s
            .strip_prefix("ipp://")
            .or_else(|| s.strip_prefix("ipps://"))
            .ok_or_else(|| format!("`{s}` is not an ipp:// or ipps:// URI"))?;
        if s.bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || !b.is_ascii())
        {
            return Err(format!(
                "`{s}` contains white space, control or non-ASCII characters"
            ));
        }
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        if host.is_empty() || host.starts_with(':') {
            return Err(format!("`{s}` names no host"));
        }
        Ok(PrinterUri(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PrinterUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One compiled rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintRule {
    pub name: String,
    pub patterns: Vec<NumberPattern>,
    pub queue_time: Duration,
    pub printer: PrinterUri,
}

/// The rules of one instance, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrintRules(Vec<PrintRule>);

/// Why a rule cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// Position of the rule in the file, from 1.
    pub rule: usize,
    pub name: String,
    pub what: RuleProblem,
}

/// What is wrong with a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleProblem {
    NoName,
    NoNumbers,
    QueueTimeTooShort(Duration),
    Printer(String),
    Number {
        pattern: String,
        error: NumberError,
    },
    /// The bounds have different digit counts, or FIRST is after LAST.
    Range {
        pattern: String,
        why: &'static str,
    },
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {} (`{}`): ", self.rule, self.name)?;
        match &self.what {
            RuleProblem::NoName => f.write_str("needs a name"),
            RuleProblem::NoNumbers => f.write_str("needs at least one number, range or `*`"),
            RuleProblem::QueueTimeTooShort(d) => {
                write!(f, "queue_time {d:?} is shorter than one second")
            }
            RuleProblem::Printer(why) => write!(f, "printer: {why}"),
            RuleProblem::Number { pattern, error } => write!(f, "`{pattern}`: {error}"),
            RuleProblem::Range { pattern, why } => write!(f, "range `{pattern}`: {why}"),
        }
    }
}

impl std::error::Error for RuleError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.what {
            RuleProblem::Number { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Parses one pattern (see the module contract).
pub fn parse_pattern(s: &str, plan: &SitePlan) -> Result<NumberPattern, RuleProblem> {
    let t = s.trim();
    if t == "*" {
        return Ok(NumberPattern::Any);
    }
    let number = |part: &str| {
        plan.normalise(part).map_err(|error| RuleProblem::Number {
            pattern: s.to_owned(),
            error,
        })
    };
    // The range separator is a `-` whose next non-space character is `+`.
    let split = t
        .char_indices()
        .find(|&(i, c)| c == '-' && i > 0 && t[i + 1..].trim_start().starts_with('+'));
    match split {
        None => Ok(NumberPattern::Exact(number(t)?)),
        Some((i, _)) => {
            let (lo, hi) = (number(&t[..i])?, number(&t[i + 1..])?);
            let why = if lo.digits().len() != hi.digits().len() {
                Some("the bounds have different numbers of digits")
            } else if lo.digits() > hi.digits() {
                Some("the first number is after the last")
            } else {
                None
            };
            match why {
                Some(why) => Err(RuleProblem::Range {
                    pattern: s.to_owned(),
                    why,
                }),
                None => Ok(NumberPattern::Range(lo, hi)),
            }
        }
    }
}

impl PrintRules {
    /// Compiles the rules of one instance; every problem is returned, in file order.
    pub fn compile(
        rules: &[PrintUnreadRule],
        plan: &SitePlan,
    ) -> Result<PrintRules, Vec<RuleError>> {
        let mut errors = Vec::new();
        let mut out = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            let mut fail = |what| {
                errors.push(RuleError {
                    rule: i + 1,
                    name: r.name.clone(),
                    what,
                })
            };
            if r.name.trim().is_empty() || r.name.chars().any(char::is_control) {
                fail(RuleProblem::NoName);
            }
            if r.numbers.is_empty() {
                fail(RuleProblem::NoNumbers);
            }
            if r.queue_time < Duration::from_secs(1) {
                fail(RuleProblem::QueueTimeTooShort(r.queue_time));
            }
            let printer = PrinterUri::parse(&r.printer).map_err(|e| fail(RuleProblem::Printer(e)));
            let mut patterns = Vec::new();
            for n in &r.numbers {
                match parse_pattern(n, plan) {
                    Ok(p) => patterns.push(p),
                    Err(e) => fail(e),
                }
            }
            if let Ok(printer) = printer {
                out.push(PrintRule {
                    name: r.name.clone(),
                    patterns,
                    queue_time: r.queue_time,
                    printer,
                });
            }
        }
        if errors.is_empty() {
            Ok(PrintRules(out))
        } else {
            Err(errors)
        }
    }

    /// The first rule, top-down, that covers `called`.
    pub fn first_match(&self, called: &PhoneNumber) -> Option<&PrintRule> {
        self.0
            .iter()
            .find(|r| r.patterns.iter().any(|p| p.covers(called)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn rules(&self) -> &[PrintRule] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;
    use umsgate_domain::SitePlanFields;

    fn plan() -> SitePlan {
        SitePlan::new(SitePlanFields {
            country_code: "49".into(),
            area_code: "8142".into(),
            subscriber: "4799".into(),
            extension_digits: 3,
            international_prefix: "00".into(),
            national_prefix: "0".into(),
            outside_line: String::new(),
        })
        .unwrap()
    }

    fn rule(name: &str, numbers: &[&str], printer: &str) -> PrintUnreadRule {
        PrintUnreadRule {
            name: name.into(),
            numbers: numbers.iter().map(|s| (*s).to_owned()).collect(),
            queue_time: Duration::from_secs(30),
            printer: printer.into(),
        }
    }

    fn n(s: &str) -> PhoneNumber {
        PhoneNumber::from_e164(s).unwrap()
    }

    #[test]
    fn first_match_wins_top_down_and_star_catches_the_rest() {
        let rules = PrintRules::compile(
            &[
                rule("one", &["+49 8142 4799 123"], "ipp://p/printers/one"),
                rule(
                    "range",
                    &["+49 8142 4799100-+49 8142 4799199"],
                    "ipp://p/printers/range",
                ),
                rule("rest", &["*"], "ipps://p:631/printers/rest"),
            ],
            &plan(),
        )
        .unwrap();
        let name = |s: &str| rules.first_match(&n(s)).map(|r| r.name.as_str());
        assert_eq!(
            name("+4981424799123"),
            Some("one"),
            "exact before the range"
        );
        assert_eq!(name("+4981424799150"), Some("range"));
        assert_eq!(
            name("+4981424799100"),
            Some("range"),
            "lower bound included"
        );
        assert_eq!(
            name("+4981424799199"),
            Some("range"),
            "upper bound included"
        );
        assert_eq!(name("+4981424799200"), Some("rest"));
        assert_eq!(name("+49814247991500"), Some("rest"), "longer number");
        let no_star = PrintRules::compile(&[rule("one", &["123"], "ipp://p/x")], &plan()).unwrap();
        assert_eq!(
            no_star
                .first_match(&n("+4981424799123"))
                .map(|r| r.name.as_str()),
            Some("one"),
            "an extension is normalised with the site plan"
        );
        assert!(no_star.first_match(&n("+4930123456")).is_none());
    }

    #[test]
    fn bad_rules_are_reported_each_with_its_rule() {
        let errs = PrintRules::compile(
            &[
                rule("a", &["+4930 1099-+4930 1000"], "ipp://p/x"),
                rule("b", &["+4930 100-+4930 10000"], "http://p/x"),
                rule("", &[], "ipp:///x"),
                rule("d", &["abc"], "ipp://p/x"),
            ],
            &plan(),
        )
        .unwrap_err();
        let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
        let has =
            |rule: &str, what: &str| text.iter().any(|t| t.starts_with(rule) && t.contains(what));
        assert!(has("rule 1 ", "after the last"), "{text:?}");
        assert!(has("rule 2 ", "different numbers of digits"), "{text:?}");
        assert!(has("rule 2 ", "not an ipp://"), "{text:?}");
        assert!(has("rule 3 ", "names no host"), "{text:?}");
        assert!(
            errs.iter()
                .any(|e| e.rule == 3 && e.what == RuleProblem::NoName)
        );
        assert!(
            errs.iter()
                .any(|e| e.rule == 3 && e.what == RuleProblem::NoNumbers)
        );
        assert!(
            errs.iter()
                .any(|e| e.rule == 3 && matches!(e.what, RuleProblem::Printer(_)))
        );
        assert!(
            errs.iter()
                .any(|e| e.rule == 4 && matches!(e.what, RuleProblem::Number { .. }))
        );
        let mut short = rule("s", &["*"], "ipp://p/x");
        short.queue_time = Duration::from_millis(500);
        assert!(PrintRules::compile(&[short], &plan()).is_err());
    }

    proptest! {
        /// A range covers exactly the numbers of its digit count between its bounds.
        #[test]
        fn range_covers_what_lies_between(lo in 1_000_000u64..9_000_000, span in 0u64..1000, x in 1_000_000u64..9_999_999) {
            let hi = (lo + span).min(9_999_999);
            let p = parse_pattern(&format!("+4930{lo}-+4930{hi}"), &plan()).unwrap();
            let inside = lo <= x && x <= hi;
            prop_assert_eq!(p.covers(&n(&format!("+4930{x}"))), inside);
            let longer = n(&format!("+4930{x}1"));
            prop_assert!(!p.covers(&longer));
        }

        /// The first rule that covers a number is the one chosen, whatever follows it.
        #[test]
        fn the_first_covering_rule_wins(exact in proptest::collection::vec(1_000u64..1_010, 1..6), x in 1_000u64..1_010) {
            let rules: Vec<PrintUnreadRule> = exact
                .iter()
                .enumerate()
                .map(|(i, e)| rule(&format!("r{i}"), &[&format!("+49301234{e}")], "ipp://p/x"))
                .chain([rule("star", &["*"], "ipp://p/x")])
                .collect();
            let compiled = PrintRules::compile(&rules, &plan()).unwrap();
            let want = exact.iter().position(|e| *e == x).map_or("star".to_owned(), |i| format!("r{i}"));
            let got = compiled.first_match(&n(&format!("+49301234{x}"))).map(|r| r.name.clone());
            prop_assert_eq!(got, Some(want));
        }
    }
}
