//! Wall-clock time as plain data: the crate never reads a clock (sans-IO).

use core::fmt;
use core::time::Duration;

/// A wall-clock instant: milliseconds since the Unix epoch (UTC).
///
/// The caller passes the current time into every `handle_*` call; the crate only compares and
/// adds. Arithmetic saturates, so a clock stepped backwards delays timers rather than panicking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The Unix epoch, 1970-01-01T00:00:00Z.
    pub const EPOCH: Self = Self(0);

    /// From milliseconds since the Unix epoch.
    pub const fn from_unix_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// From whole seconds since the Unix epoch.
    pub const fn from_unix_secs(secs: u64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// Milliseconds since the Unix epoch.
    pub const fn unix_millis(self) -> u64 {
        self.0
    }

    /// This instant plus `d` (saturating).
    pub fn plus(self, d: Duration) -> Self {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self(self.0.saturating_add(ms))
    }

    /// This instant minus `d` (saturating at the epoch).
    pub fn minus(self, d: Duration) -> Self {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self(self.0.saturating_sub(ms))
    }

    /// Time elapsed from `earlier` to `self`; zero if `earlier` is later.
    pub fn since(self, earlier: Self) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// The UTC calendar date and time of day.
    pub fn civil(self) -> Civil {
        let secs = self.0 / 1000;
        let days = secs / 86_400;
        let rem = secs % 86_400;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: (rem / 3600) as u8,
            minute: ((rem % 3600) / 60) as u8,
            second: (rem % 60) as u8,
            millis: (self.0 % 1000) as u16,
            weekday: ((days + 4) % 7) as u8,
        }
    }
}

impl core::ops::Add<Duration> for Timestamp {
    type Output = Self;

    /// Saturating, as [`Timestamp::plus`].
    fn add(self, d: Duration) -> Self {
        self.plus(d)
    }
}

impl core::ops::Sub<Duration> for Timestamp {
    type Output = Self;

    /// Saturating, as [`Timestamp::minus`].
    fn sub(self, d: Duration) -> Self {
        self.minus(d)
    }
}

/// A broken-down UTC date and time ([`Timestamp::civil`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year (1970 or later).
    pub year: u64,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of the month, 1..=31.
    pub day: u8,
    /// Hour, 0..=23.
    pub hour: u8,
    /// Minute, 0..=59.
    pub minute: u8,
    /// Second, 0..=59.
    pub second: u8,
    /// Milliseconds, 0..=999.
    pub millis: u16,
    /// Day of the week, 0 = Sunday.
    pub weekday: u8,
}

impl Civil {
    /// `DD.MM.YYYY`, the manual's date format.
    pub fn date_string(&self) -> String {
        format!("{:02}.{:02}.{:04}", self.day, self.month, self.year)
    }

    /// `HH:MM:SS`.
    pub fn time_string(&self) -> String {
        format!("{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }
}

/// RFC 3339 with milliseconds, e.g. `2026-11-22T22:20:56.000Z`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.civil();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second, c.millis
        )
    }
}

/// Days since 1970-01-01 to (year, month, day) — H. Hinnant's `civil_from_days`.
fn civil_from_days(days: u64) -> (u64, u8, u8) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_matches_known_dates() {
        // 2000-02-29T12:34:56Z = 951827696 (date -u -d @951827696).
        let c = Timestamp::from_unix_secs(951_827_696).civil();
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second),
            (2000, 2, 29, 12, 34, 56)
        );
        assert_eq!(c.weekday, 2); // a Tuesday
        assert_eq!(Timestamp::EPOCH.to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp::from_unix_millis(1_795_904_456_789).to_string(),
            "2026-11-28T22:20:56.789Z"
        );
    }

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_unix_secs(10);
        assert_eq!(t.minus(Duration::from_secs(20)), Timestamp::EPOCH);
        assert_eq!(Timestamp::EPOCH.since(t), Duration::ZERO);
        assert_eq!(
            Timestamp::from_unix_millis(u64::MAX)
                .plus(Duration::from_secs(1))
                .unix_millis(),
            u64::MAX
        );
    }
}
