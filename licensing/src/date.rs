//! Calendar dates (UTC) for expiry fields, converted to and from [`SystemTime`].
//!
//! The crate never reads the clock: callers pass `now: SystemTime`. Licence files carry
//! plain dates (`2027-06-30`); a date means midnight UTC at the start of that day.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A proleptic Gregorian calendar date, years 1970–9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

const SECS_PER_DAY: u64 = 86_400;

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Date {
    /// Builds a date, or `None` if it does not exist or lies outside 1970–9999.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Self { year, month, day })
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u16> {
            let s = text.get(r)?;
            if !s.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        let year = num(0..4)?;
        let month = u8::try_from(num(5..7)?).ok()?;
        let day = u8::try_from(num(8..10)?).ok()?;
        Self::new(year, month, day)
    }

    /// The year.
    pub const fn year(self) -> u16 {
        self.year
    }
    /// The month (1–12).
    pub const fn month(self) -> u8 {
        self.month
    }
    /// The day of the month (1–31).
    pub const fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01.
    fn days_since_epoch(self) -> u64 {
        // Howard Hinnant's days_from_civil, restricted to years >= 1970.
        let y = u64::from(self.year) - u64::from(self.month <= 2);
        let m = u64::from(self.month);
        let d = u64::from(self.day);
        let era = y / 400;
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Midnight UTC at the start of this date.
    pub fn start(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.days_since_epoch() * SECS_PER_DAY)
    }

    /// The UTC date containing `time` (`None` before 1970 or after 9999).
    pub fn of(time: SystemTime) -> Option<Self> {
        let secs = time.duration_since(UNIX_EPOCH).ok()?.as_secs();
        let z = secs / SECS_PER_DAY + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + u64::from(month <= 2);
        Self::new(
            u16::try_from(year).ok()?,
            u8::try_from(month).ok()?,
            u8::try_from(day).ok()?,
        )
    }

    /// The seed's display form `DD.MM.YYYY` (used by the temporary-activation reminder).
    pub fn dotted(self) -> String {
        format!("{:02}.{:02}.{:04}", self.day, self.month, self.year)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_epochs() {
        // 2000-03-01 is day 11017 (POSIX: 951868800 s).
        let d = Date::parse("2000-03-01").unwrap();
        assert_eq!(
            d.start().duration_since(UNIX_EPOCH).unwrap().as_secs(),
            951_868_800
        );
        // 2038-01-19 (2^31 s = 2147483648 s lies on that day).
        let t = UNIX_EPOCH + Duration::from_secs(2_147_483_648);
        assert_eq!(Date::of(t).unwrap().to_string(), "2038-01-19");
        assert_eq!(Date::of(UNIX_EPOCH).unwrap().to_string(), "1970-01-01");
    }

    #[test]
    fn round_trip_every_day_for_decades() {
        let mut t = Date::parse("1970-01-01").unwrap().start();
        for _ in 0..(366 * 60) {
            let d = Date::of(t).unwrap();
            assert_eq!(d.start(), t);
            assert_eq!(Date::parse(&d.to_string()), Some(d));
            t += Duration::from_secs(SECS_PER_DAY);
        }
    }

    #[test]
    fn rejects_bad_dates() {
        for s in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-1-01",
            "1969-12-31",
            "2024-04-31",
            "+024-01-01",
            "2024-01-0a",
        ] {
            assert_eq!(Date::parse(s), None, "{s}");
        }
        assert!(Date::parse("2024-02-29").is_some());
        assert_eq!(Date::parse("2024-06-05").unwrap().dotted(), "05.06.2024");
    }
}
