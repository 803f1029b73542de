//! Wall-clock helpers of the binaries (the protocol crates read no clock).

use pa_tnc::DateTime20;
use posture_repository::UnixTime;

/// Seconds since the Unix epoch now.
pub fn now() -> UnixTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    UnixTime(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// A pseudo-random number from the clock (the agent's fresh EID epoch, backoff jitter; no
/// security depends on it).
#[must_use]
pub fn noise() -> u32 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| {
            d.subsec_nanos()
                ^ u32::try_from(d.as_secs() % (1 << 32))
                    .unwrap_or(0)
                    .rotate_left(13)
        });
    n ^ std::process::id().rotate_left(7)
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// `t` as an RFC 3339 `YYYY-MM-DDTHH:MM:SSZ` string.
pub fn rfc3339(t: UnixTime) -> String {
    let (days, secs) = (t.0.div_euclid(86_400), t.0.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `t` as a SWIMA timestamp.
pub fn datetime20(t: UnixTime) -> DateTime20 {
    DateTime20::new(&rfc3339(t)).unwrap_or_else(|| {
        DateTime20::new("1970-01-01T00:00:00Z").unwrap_or_else(|| unreachable!())
    })
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` (a SWIMA timestamp, or an API parameter).
pub fn parse_rfc3339(s: &str) -> Option<UnixTime> {
    let b = s.as_bytes();
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if b.len() != 20
        || !(at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':'))
        || !at(19, b'Z')
    {
        return None;
    }
    let num = |r: core::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(UnixTime(
        days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_known_dates() {
        assert_eq!(rfc3339(UnixTime(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(UnixTime(951_782_400)), "2000-02-29T00:00:00Z");
        for t in [0, 1, 951_782_399, 1_700_000_000, 4_102_444_800] {
            assert_eq!(parse_rfc3339(&rfc3339(UnixTime(t))), Some(UnixTime(t)));
        }
        assert_eq!(parse_rfc3339("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2026-01-01 00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2026-01-01T00:00:00"), None);
    }
}
