//! Wall-clock time and its two written forms: RFC 3339 (sidecars, logs) and RFC 5322
//! (`Date:` and `Received:` headers).
//!
//! Contract: [`now`] is the only place umsgate reads the system clock (clippy's
//! `disallowed-methods` bans `SystemTime::now` elsewhere), so that tests can reason about
//! time and formatting is done in one place. Times are UTC; no time-zone database is needed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::{Month, OffsetDateTime, Weekday};

/// The current time.
#[allow(clippy::disallowed_methods)]
pub fn now() -> SystemTime {
    SystemTime::now()
}

/// Seconds since the epoch; times before 1970 count as the epoch.
pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// Days since 1970-01-01 → (year, month 1..=12, day 1..=31); H. Hinnant's civil_from_days.
#[cfg(test)]
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
struct Parts {
    year: i64,
    month: u32,
    day: u32,
    hour: u64,
    min: u64,
    sec: u64,
    weekday: usize,
}

#[cfg(test)]
fn parts(t: SystemTime) -> Parts {
    let secs = unix_seconds(t);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    Parts {
        year,
        month,
        day,
        hour: rem / 3600,
        min: rem % 3600 / 60,
        sec: rem % 60,
        // 1970-01-01 was a Thursday.
        weekday: ((days + 4).rem_euclid(7)) as usize,
    }
}

/// The hand-written `rfc3339`, kept until the property tests have compared it.
#[cfg(test)]
fn legacy_rfc3339(t: SystemTime) -> String {
    let p = parts(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        p.year, p.month, p.day, p.hour, p.min, p.sec
    )
}

/// The hand-written `rfc5322`, kept until the property tests have compared it.
#[cfg(test)]
fn legacy_rfc5322(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let p = parts(t);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
        DAYS[p.weekday % 7],
        p.day,
        MONTHS[(p.month as usize + 11) % 12],
        p.year,
        p.hour,
        p.min,
        p.sec
    )
}

/// The hand-written `parse_rfc3339`, kept until the property tests have compared it.
#[cfg(test)]
fn legacy_parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // days_from_civil
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    u64::try_from(secs)
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

/// The last second `time` represents without its `large-dates` feature: 9999-12-31T23:59:59Z.
const MAX_UNIX_SECONDS: i64 = 253_402_300_799;

/// `t` in UTC, to the whole second. Times before 1970 count as the epoch, times after the
/// year 9999 as its last second.
pub fn utc(t: SystemTime) -> OffsetDateTime {
    let secs = i64::try_from(unix_seconds(t))
        .unwrap_or(i64::MAX)
        .min(MAX_UNIX_SECONDS);
    // Cannot fail: 0..=MAX_UNIX_SECONDS is inside time's range.
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `2026-11-26T10:15:00Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let d = utc(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// `Thu, 26 Nov 2026 10:15:00 +0000`.
pub fn rfc5322(t: SystemTime) -> String {
    let d = utc(t);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
        weekday_name(d.weekday()),
        d.day(),
        month_name(d.month()),
        d.year(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// Parses the form [`rfc3339`] writes (UTC, `Z`, whole seconds); a date that does not
/// exist (`2026-02-30`) is refused.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    // RFC 3339 also allows fractions, offsets and a lowercase `t`/`z`; umsgate never writes
    // them, so a string of any other shape is not one of ours.
    let b = s.as_bytes();
    if b.len() != 20 || b.get(10) != Some(&b'T') || b.get(19) != Some(&b'Z') {
        return None;
    }
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    u64::try_from(t.unix_timestamp())
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

/// The English abbreviation RFC 5322 uses.
fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

/// The English abbreviation RFC 5322 uses.
fn month_name(m: Month) -> &'static str {
    match m {
        Month::January => "Jan",
        Month::February => "Feb",
        Month::March => "Mar",
        Month::April => "Apr",
        Month::May => "May",
        Month::June => "Jun",
        Month::July => "Jul",
        Month::August => "Aug",
        Month::September => "Sep",
        Month::October => "Oct",
        Month::November => "Nov",
        Month::December => "Dec",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_687_200);
        assert_eq!(rfc3339(t), "2026-11-26T10:00:00Z");
        assert_eq!(rfc5322(t), "Thu, 26 Nov 2026 10:00:00 +0000");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(parse_rfc3339("2026-11-26T10:00:00Z"), Some(t));
        assert_eq!(parse_rfc3339("2026-13-26T10:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn out_of_range_times_are_clamped() {
        let last = UNIX_EPOCH + Duration::from_secs(253_402_300_799);
        assert_eq!(rfc3339(last), "9999-12-31T23:59:59Z");
        assert_eq!(rfc5322(last), "Fri, 31 Dec 9999 23:59:59 +0000");
        assert_eq!(
            rfc3339(last + Duration::from_secs(86_400 * 400)),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_secs(1)),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_nanos(1_795_687_200_999_999_999)),
            "2026-11-26T10:00:00Z"
        );
    }

    #[test]
    fn parse_refuses_other_shapes_and_dates_that_do_not_exist() {
        for s in [
            "2026-11-26T10:00:00+00:00",
            "2026-11-26T10:00:00.5Z",
            "2026-11-26t10:00:00z",
            "2026-11-26 10:00:00Z",
            "2026-02-30T10:00:00Z",
            "2026-11-26T24:00:00Z",
            "1969-12-31T23:59:59Z",
            "+026-11-26T10:00:00Z",
            "",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s}");
        }
    }

    /// Every second from 1970 to the end of 9999 that the strategy picks, and the edges.
    fn any_second() -> impl Strategy<Value = u64> {
        prop_oneof![
            0u64..=253_402_300_799,
            // Around the turn of every year 1970..2200, where calendar code goes wrong.
            (0u64..230, 0u64..=172_800).prop_map(|(y, s)| {
                let days = (0..y)
                    .map(|i| if leap(1970 + i) { 366 } else { 365 })
                    .sum::<u64>();
                (days * 86_400 + s).saturating_sub(86_400)
            }),
            Just(0u64),
            Just(253_402_300_799),
        ]
    }

    fn leap(y: u64) -> bool {
        y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn formatting_matches_the_hand_written_civil_code(secs in any_second(), nanos in 0u32..1_000_000_000) {
            let t = UNIX_EPOCH + Duration::new(secs, nanos);
            prop_assert_eq!(rfc3339(t), legacy_rfc3339(t));
            prop_assert_eq!(rfc5322(t), legacy_rfc5322(t));
        }

        #[test]
        fn parsing_matches_the_hand_written_civil_code_on_real_dates(
            y in 1970i64..=9999, m in 1u32..=12, d in 1u32..=28, hh in 0u32..24, mm in 0u32..60, ss in 0u32..60
        ) {
            let s = format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z");
            prop_assert!(parse_rfc3339(&s).is_some(), "{}", s);
            prop_assert_eq!(parse_rfc3339(&s), legacy_parse_rfc3339(&s));
        }

        #[test]
        fn parsing_accepts_nothing_the_hand_written_code_refused(s in "[0-9+-]{4}-[0-9+ ]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z") {
            if let Some(t) = parse_rfc3339(&s) {
                prop_assert_eq!(Some(t), legacy_parse_rfc3339(&s));
            }
        }

        #[test]
        fn rfc3339_round_trips(secs in 0u64..8_000_000_000) {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            prop_assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        }
    }
}
