//! `db.timezone`: the zone in which columns without a time zone (MySQL's DATETIME,
//! PostgreSQL's TIMESTAMP WITHOUT TIME ZONE) hold their wall-clock times. The host reads such
//! a value as if it were UTC; this turns it into the instant it means, and back for the
//! parameters compared with it.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Zone(Tz);

impl Zone {
    pub fn parse(name: &str) -> Option<Zone> {
        name.parse::<Tz>().ok().map(Zone)
    }

    fn is_utc(self) -> bool {
        matches!(self.0, Tz::UTC | Tz::Etc__UTC | Tz::Etc__UCT | Tz::UCT | Tz::Zulu | Tz::Etc__Zulu | Tz::GMT | Tz::Etc__GMT)
    }

    /// The instant (UTC microseconds) of a wall-clock time read as UTC microseconds. A wall
    /// time skipped by a daylight-saving change is taken an hour later; one that happens
    /// twice, the first time.
    pub fn instant(self, wall_micros: i64) -> i64 {
        if self.is_utc() {
            return wall_micros;
        }
        let Some(wall) = DateTime::from_timestamp_micros(wall_micros).map(|d| d.naive_utc()) else {
            return wall_micros;
        };
        let local = match self.0.from_local_datetime(&wall) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t,
            LocalResult::None => match self.0.from_local_datetime(&(wall + chrono::Duration::hours(1))) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t,
                LocalResult::None => return wall_micros,
            },
        };
        local.timestamp_micros()
    }

    /// The wall-clock time (as UTC microseconds) of an instant.
    pub fn wall(self, instant_micros: i64) -> i64 {
        if self.is_utc() {
            return instant_micros;
        }
        match DateTime::from_timestamp_micros(instant_micros) {
            Some(at) => naive_micros(at.with_timezone(&self.0).naive_local()),
            None => instant_micros,
        }
    }
}

fn naive_micros(naive: NaiveDateTime) -> i64 {
    naive.and_utc().timestamp_micros()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;

    #[test]
    fn wall_times_convert_both_ways_with_daylight_saving() {
        let paris = Zone::parse("Europe/Paris").unwrap();
        // 2024-01-15 12:00 in Paris (UTC+1) is 11:00Z; 2024-07-15 12:00 (UTC+2) is 10:00Z.
        let winter_wall = 1_705_320_000_000_000;
        assert_eq!(paris.instant(winter_wall), winter_wall - HOUR);
        assert_eq!(paris.wall(winter_wall - HOUR), winter_wall);
        let summer_wall = 1_721_044_800_000_000;
        assert_eq!(paris.instant(summer_wall), summer_wall - 2 * HOUR);
        let utc = Zone::parse("UTC").unwrap();
        assert_eq!((utc.instant(42), utc.wall(42)), (42, 42));
        assert!(Zone::parse("Nowhere/Else").is_none());
    }
}
