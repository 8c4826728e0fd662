//! Time as the API shows it (RFC 3339 UTC, millisecond precision) and as the store keeps it
//! (milliseconds since the Unix epoch).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since the Unix epoch.
pub type EpochMillis = i64;

pub fn now_millis() -> EpochMillis {
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
}

/// RFC 3339 with milliseconds and a `Z`, e.g. `2026-11-22T14:21:11.042Z`.
pub fn rfc3339(ms: EpochMillis) -> String {
    let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let (y, mo, d) = (dt.year(), u8::from(dt.month()), dt.day());
    let (h, mi, s) = (dt.hour(), dt.minute(), dt.second());
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
        dt.millisecond()
    )
}

/// Parses an RFC 3339 timestamp (any offset) into epoch milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<EpochMillis> {
    let dt = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(dt.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_millis_and_parses_back() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_614_265_330_042), "2021-02-25T15:02:10.042Z");
        assert_eq!(
            parse_rfc3339("2021-02-25T15:02:10.042Z"),
            Some(1_614_265_330_042)
        );
        assert_eq!(
            parse_rfc3339("2021-02-25T16:02:10.042+01:00"),
            Some(1_614_265_330_042)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
