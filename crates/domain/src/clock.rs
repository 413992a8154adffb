//! Wall-clock time and its two written forms: RFC 3339 (sidecars, logs) and RFC 5322
//! (`Date:` and `Received:` headers).
//!
//! Contract: [`now`] is the only place umsgate reads the system clock (clippy's
//! `disallowed-methods` bans `SystemTime::now` elsewhere), so that tests can reason about
//! time and formatting is done in one place. Times are UTC, to the whole second; no
//! time-zone database is needed for them. The one local notion is [`local_day`], the calendar
//! day of the per-day limits in the system's time zone (TZ, else `/etc/localtime`), so that
//! the limits reset at local midnight and every node that shares a store (and a time zone)
//! counts the same day.
//! Times before 1970 are written as the epoch, times after 9999 as its last second.
//! [`parse_rfc3339`] reads exactly what [`rfc3339`] writes and refuses dates that do not
//! exist.
//!
//! Implementation summary: the `time` crate does the calendar ([`utc`]); the two layouts are
//! spelled out with `format!` from its fields, so that writing cannot fail, and parsing is
//! `time`'s RFC 3339 parser behind a check of the one shape umsgate writes.

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

/// The calendar day of `t` in the system's time zone, `2026-11-26` (UTC when the zone
/// cannot be read).
pub fn local_day(t: SystemTime) -> String {
    static ZONE: std::sync::OnceLock<jiff::tz::TimeZone> = std::sync::OnceLock::new();
    day_in(t, ZONE.get_or_init(jiff::tz::TimeZone::system))
}

/// The calendar day of `t` in `zone`.
pub fn day_in(t: SystemTime, zone: &jiff::tz::TimeZone) -> String {
    let secs = i64::try_from(unix_seconds(t))
        .unwrap_or(i64::MAX)
        .min(MAX_UNIX_SECONDS);
    let d = jiff::Timestamp::from_second(secs)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(zone.clone())
        .date();
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
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

/// `2026-11-26 10:15 UTC`: a date and time for people (cover pages), the same in every
/// language.
pub fn display_minute(t: SystemTime) -> String {
    let d = utc(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute()
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
    fn the_local_day_follows_the_zone() {
        // 2026-11-26T03:00:00Z
        let t = UNIX_EPOCH + Duration::from_secs(1_795_687_200 - 7 * 3600);
        let west = jiff::tz::TimeZone::fixed(jiff::tz::offset(-5));
        let east = jiff::tz::TimeZone::fixed(jiff::tz::offset(5));
        assert_eq!(day_in(t, &west), "2026-11-25");
        assert_eq!(day_in(t, &east), "2026-11-26");
        assert_eq!(day_in(t, &jiff::tz::TimeZone::UTC), "2026-11-26");
        assert_eq!(local_day(t).len(), 10);
    }

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

    /// Leap days, century years and the ends of the range, as GNU `date -u` writes them.
    #[test]
    fn dates_across_the_calendar() {
        for (secs, iso, mail) in [
            (
                951_782_400,
                "2000-02-29T00:00:00Z",
                "Tue, 29 Feb 2000 00:00:00 +0000",
            ),
            (
                951_868_799,
                "2000-02-29T23:59:59Z",
                "Tue, 29 Feb 2000 23:59:59 +0000",
            ),
            (
                4_107_542_400,
                "2100-03-01T00:00:00Z",
                "Mon, 01 Mar 2100 00:00:00 +0000",
            ),
            (
                4_102_444_799,
                "2099-12-31T23:59:59Z",
                "Thu, 31 Dec 2099 23:59:59 +0000",
            ),
            (
                68_256_000,
                "1972-03-01T00:00:00Z",
                "Wed, 01 Mar 1972 00:00:00 +0000",
            ),
            (
                1_709_164_800,
                "2024-02-29T00:00:00Z",
                "Thu, 29 Feb 2024 00:00:00 +0000",
            ),
            (
                946_684_799,
                "1999-12-31T23:59:59Z",
                "Fri, 31 Dec 1999 23:59:59 +0000",
            ),
            (
                253_402_300_799,
                "9999-12-31T23:59:59Z",
                "Fri, 31 Dec 9999 23:59:59 +0000",
            ),
        ] {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(rfc3339(t), iso);
            assert_eq!(rfc5322(t), mail);
            assert_eq!(parse_rfc3339(iso), Some(t));
        }
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

    proptest! {
        #[test]
        fn rfc3339_round_trips(secs in 0u64..=253_402_300_799) {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            prop_assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        }
    }
}
