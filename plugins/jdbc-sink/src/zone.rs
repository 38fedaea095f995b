//! `db.timezone`: the zone whose wall-clock time is written to timestamp columns without a
//! time zone (MySQL's DATETIME, PostgreSQL's TIMESTAMP WITHOUT TIME ZONE), as Confluent's
//! sink does. The host writes a timestamp parameter to such a column as a UTC wall time, so
//! an instant is turned into the wall time it has in the zone first.

use chrono::DateTime;
use chrono_tz::Tz;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Zone(Tz);

impl Zone {
    pub fn parse(name: &str) -> Option<Zone> {
        name.parse::<Tz>().ok().map(Zone)
    }

    pub fn is_utc(self) -> bool {
        matches!(self.0, Tz::UTC | Tz::Etc__UTC | Tz::Etc__UCT | Tz::UCT | Tz::Zulu | Tz::Etc__Zulu | Tz::GMT | Tz::Etc__GMT)
    }

    /// The wall-clock time in the zone (as UTC microseconds) of an instant.
    pub fn wall(self, instant_micros: i64) -> i64 {
        match DateTime::from_timestamp_micros(instant_micros) {
            Some(at) if !self.is_utc() => at.with_timezone(&self.0).naive_local().and_utc().timestamp_micros(),
            _ => instant_micros,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;

    #[test]
    fn instants_become_wall_times_with_daylight_saving() {
        let paris = Zone::parse("Europe/Paris").unwrap();
        // 2024-01-15 11:00Z is 12:00 in Paris (UTC+1); 2024-07-15 10:00Z is 12:00 (UTC+2).
        let winter = 1_705_316_400_000_000;
        assert_eq!(paris.wall(winter), winter + HOUR);
        let summer = 1_721_037_600_000_000;
        assert_eq!(paris.wall(summer), summer + 2 * HOUR);
        let utc = Zone::parse("UTC").unwrap();
        assert!(utc.is_utc() && !paris.is_utc());
        assert_eq!(utc.wall(42), 42);
        assert!(Zone::parse("Nowhere/Else").is_none());
    }
}
