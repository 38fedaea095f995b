//! `java.text.SimpleDateFormat` patterns (`yyyyMMdd`, `yyyy-MM-dd'T'HH:mm:ss.SSSZ`, …) in UTC,
//! as TimestampRouter and TimestampConverter use them, over the proleptic Gregorian calendar.
//!
//! Formatting follows Java. Parsing follows Java's rules for widths (adjacent numeric fields
//! take exactly their pattern width, others any number of digits), two-digit years (within
//! 80 years before and 20 after now) and trailing text (ignored), but is strict where Java is
//! lenient: a month 13 or a minute 75 is an error, not a roll-over into the next unit.

const MILLIS_PER_DAY: i64 = 86_400_000;
const MONTHS: [&str; 12] =
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
/// From Sunday, as 1970-01-01 (a Thursday) is day 4.
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

#[derive(Clone, Debug)]
pub struct DateFormat {
    pattern: String,
    items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
enum Item {
    Literal(String),
    Field(Letter, usize),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Letter {
    Era,
    Year,
    Month,
    Day,
    DayOfYear,
    DayName,
    DayNumber,
    AmPm,
    Hour0To23,
    Hour1To24,
    Hour0To11,
    Hour1To12,
    Minute,
    Second,
    Millisecond,
    ZoneName,
    ZoneRfc822,
    ZoneIso8601,
}

impl Letter {
    fn of(c: char) -> Result<Letter, String> {
        Ok(match c {
            'G' => Letter::Era,
            'y' => Letter::Year,
            'M' | 'L' => Letter::Month,
            'd' => Letter::Day,
            'D' => Letter::DayOfYear,
            'E' => Letter::DayName,
            'u' => Letter::DayNumber,
            'a' => Letter::AmPm,
            'H' => Letter::Hour0To23,
            'k' => Letter::Hour1To24,
            'K' => Letter::Hour0To11,
            'h' => Letter::Hour1To12,
            'm' => Letter::Minute,
            's' => Letter::Second,
            'S' => Letter::Millisecond,
            'z' => Letter::ZoneName,
            'Z' => Letter::ZoneRfc822,
            'X' => Letter::ZoneIso8601,
            'Y' | 'w' | 'W' | 'F' => return Err(format!("uses '{c}' (week-based fields), which is not supported")),
            _ => return Err(format!("uses '{c}', which is not a SimpleDateFormat pattern letter; quote literal text like 'T'")),
        })
    }

    /// Whether the field is written as digits for this count, so an adjacent one bounds it.
    fn numeric(self, count: usize) -> bool {
        match self {
            Letter::Month => count < 3,
            Letter::Era | Letter::DayName | Letter::AmPm | Letter::ZoneName | Letter::ZoneRfc822 | Letter::ZoneIso8601 => false,
            _ => true,
        }
    }
}

impl DateFormat {
    pub fn new(pattern: &str) -> Result<DateFormat, String> {
        let mut items = Vec::new();
        let mut chars = pattern.chars().peekable();
        let mut literal = String::new();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    literal.push('\'');
                    continue;
                }
                loop {
                    match chars.next() {
                        None => return Err("has a quote that is not closed".into()),
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            literal.push('\'');
                        }
                        Some('\'') => break,
                        Some(c) => literal.push(c),
                    }
                }
            } else if c.is_ascii_alphabetic() {
                let letter = Letter::of(c)?;
                let mut count = 1;
                while chars.peek() == Some(&c) {
                    chars.next();
                    count += 1;
                }
                if letter == Letter::ZoneIso8601 && count > 3 {
                    return Err("uses XXXX, but X allows at most three letters".into());
                }
                if !literal.is_empty() {
                    items.push(Item::Literal(std::mem::take(&mut literal)));
                }
                items.push(Item::Field(letter, count));
            } else {
                literal.push(c);
            }
        }
        if !literal.is_empty() {
            items.push(Item::Literal(literal));
        }
        Ok(DateFormat { pattern: pattern.to_owned(), items })
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Epoch milliseconds as text, in UTC.
    pub fn format(&self, millis: i64) -> String {
        let days = millis.div_euclid(MILLIS_PER_DAY);
        let of_day = millis.rem_euclid(MILLIS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let hour = of_day / 3_600_000;
        let weekday = (days + 4).rem_euclid(7) as usize;
        let mut out = String::new();
        for item in &self.items {
            let (letter, count) = match item {
                Item::Literal(text) => {
                    out.push_str(text);
                    continue;
                }
                Item::Field(letter, count) => (*letter, *count),
            };
            let number = |n: i64| format!("{n:0count$}");
            let text = match letter {
                Letter::Era => if year > 0 { "AD" } else { "BC" }.to_owned(),
                Letter::Year => {
                    let year_of_era = if year > 0 { year } else { 1 - year };
                    if count == 2 { format!("{:02}", year_of_era % 100) } else { number(year_of_era) }
                }
                Letter::Month => name_or_number(MONTHS[month as usize - 1], count, i64::from(month)),
                Letter::Day => number(i64::from(day)),
                Letter::DayOfYear => number(days - days_from_civil(year, 1, 1) + 1),
                Letter::DayName => name_or_number(DAYS[weekday], count.max(3), 0),
                Letter::DayNumber => number(if weekday == 0 { 7 } else { weekday as i64 }),
                Letter::AmPm => if hour < 12 { "AM" } else { "PM" }.to_owned(),
                Letter::Hour0To23 => number(hour),
                Letter::Hour1To24 => number(if hour == 0 { 24 } else { hour }),
                Letter::Hour0To11 => number(hour % 12),
                Letter::Hour1To12 => number(if hour % 12 == 0 { 12 } else { hour % 12 }),
                Letter::Minute => number(of_day / 60_000 % 60),
                Letter::Second => number(of_day / 1000 % 60),
                Letter::Millisecond => number(of_day % 1000),
                Letter::ZoneName => if count >= 4 { "Coordinated Universal Time" } else { "UTC" }.to_owned(),
                Letter::ZoneRfc822 => "+0000".to_owned(),
                Letter::ZoneIso8601 => "Z".to_owned(),
            };
            out.push_str(&text);
        }
        out
    }

    /// Text in this pattern as epoch milliseconds; a zone in the text wins over UTC.
    pub fn parse(&self, text: &str) -> Result<i64, String> {
        let mut input = Input { text, at: 0 };
        let mut fields = Parsed::default();
        for (i, item) in self.items.iter().enumerate() {
            match item {
                Item::Literal(literal) => {
                    if !input.rest().starts_with(literal.as_str()) {
                        return Err(input.expected(&format!("{literal:?}")));
                    }
                    input.at += literal.len();
                }
                Item::Field(letter, count) => {
                    let abutting = matches!(self.items.get(i + 1), Some(Item::Field(next, n)) if next.numeric(*n));
                    let width = if abutting { Some(*count) } else { None };
                    parse_field(&mut input, &mut fields, *letter, *count, width)?;
                }
            }
        }
        fields.resolve()
    }
}

fn name_or_number(name: &str, count: usize, number: i64) -> String {
    match count {
        4.. => name.to_owned(),
        3 => name[..3].to_owned(),
        _ => format!("{number:0count$}"),
    }
}

struct Input<'a> {
    text: &'a str,
    at: usize,
}

impl Input<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn expected(&self, what: &str) -> String {
        format!("expected {what} at position {} of {:?}", self.at, self.text)
    }

    /// Digits, at most `width` of them if given.
    fn digits(&mut self, width: Option<usize>, what: &str) -> Result<(i64, usize), String> {
        let rest = self.rest();
        let available = rest.bytes().take_while(u8::is_ascii_digit).count();
        let len = width.map_or(available, |w| w.min(available));
        if len == 0 || len > 18 {
            return Err(self.expected(what));
        }
        let value = rest[..len].parse().map_err(|_| self.expected(what))?;
        self.at += len;
        Ok((value, len))
    }

    /// The index of the longest of `names` the text continues with, ignoring case.
    fn one_of(&mut self, names: &[&str], what: &str) -> Result<usize, String> {
        let rest = self.rest();
        let found = names
            .iter()
            .enumerate()
            .filter(|(_, n)| rest.len() >= n.len() && rest.is_char_boundary(n.len()) && rest[..n.len()].eq_ignore_ascii_case(n))
            .max_by_key(|(_, n)| n.len());
        let (index, name) = found.ok_or_else(|| self.expected(what))?;
        self.at += name.len();
        Ok(index)
    }

    fn sign(&mut self) -> Option<i64> {
        let sign = match self.rest().chars().next()? {
            '+' => 1,
            '-' => -1,
            _ => return None,
        };
        self.at += 1;
        Some(sign)
    }

    /// `±hh`, `±hhmm` or `±hh:mm` after a sign, as milliseconds.
    fn offset(&mut self, sign: i64) -> Result<i64, String> {
        let (hours, len) = self.digits(Some(2), "an offset hour")?;
        let mut minutes = 0;
        if len == 2 {
            if self.rest().starts_with(':') {
                self.at += 1;
                minutes = self.digits(Some(2), "offset minutes")?.0;
            } else if self.rest().bytes().take_while(u8::is_ascii_digit).count() >= 2 {
                minutes = self.digits(Some(2), "offset minutes")?.0;
            }
        }
        if hours > 23 || minutes > 59 {
            return Err(format!("the offset {hours:02}:{minutes:02} in {:?} is out of range", self.text));
        }
        Ok(sign * (hours * 3_600_000 + minutes * 60_000))
    }
}

#[derive(Default)]
struct Parsed {
    bc: bool,
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    day_of_year: Option<i64>,
    pm: Option<bool>,
    hour: Option<i64>,
    hour12: Option<i64>,
    minute: i64,
    second: i64,
    millisecond: i64,
    offset: i64,
}

fn parse_field(input: &mut Input, fields: &mut Parsed, letter: Letter, count: usize, width: Option<usize>) -> Result<(), String> {
    let text = input.text;
    let ranged = |value: i64, range: std::ops::RangeInclusive<i64>, what: &str| {
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(format!("{what} {value} in {text:?} is out of range ({}..{})", range.start(), range.end()))
        }
    };
    match letter {
        Letter::Era => fields.bc = input.one_of(&["AD", "BC"], "AD or BC")? == 1,
        Letter::Year => {
            let (year, len) = input.digits(width, "a year")?;
            fields.year = Some(if count <= 2 && len == 2 { two_digit_year(year) } else { year });
        }
        Letter::Month if count >= 3 => {
            let short: Vec<&str> = MONTHS.iter().map(|m| &m[..3]).collect();
            let names: Vec<&str> = MONTHS.iter().copied().chain(short).collect();
            fields.month = Some((input.one_of(&names, "a month name")? % 12) as i64 + 1);
        }
        Letter::Month => fields.month = Some(ranged(input.digits(width, "a month")?.0, 1..=12, "month")?),
        Letter::Day => fields.day = Some(ranged(input.digits(width, "a day")?.0, 1..=31, "day")?),
        Letter::DayOfYear => {
            fields.day_of_year = Some(ranged(input.digits(width, "a day of the year")?.0, 1..=366, "day of year")?)
        }
        // The weekday follows from the date; like Java, parsing checks only its form.
        Letter::DayName => {
            let short: Vec<&str> = DAYS.iter().map(|d| &d[..3]).collect();
            let names: Vec<&str> = DAYS.iter().copied().chain(short).collect();
            input.one_of(&names, "a day name")?;
        }
        Letter::DayNumber => {
            ranged(input.digits(width, "a day number")?.0, 1..=7, "day number")?;
        }
        Letter::AmPm => fields.pm = Some(input.one_of(&["AM", "PM"], "AM or PM")? == 1),
        Letter::Hour0To23 => fields.hour = Some(ranged(input.digits(width, "an hour")?.0, 0..=23, "hour")?),
        Letter::Hour1To24 => fields.hour = Some(ranged(input.digits(width, "an hour")?.0, 1..=24, "hour")? % 24),
        Letter::Hour0To11 => fields.hour12 = Some(ranged(input.digits(width, "an hour")?.0, 0..=11, "hour")?),
        Letter::Hour1To12 => fields.hour12 = Some(ranged(input.digits(width, "an hour")?.0, 1..=12, "hour")? % 12),
        Letter::Minute => fields.minute = ranged(input.digits(width, "minutes")?.0, 0..=59, "minute")?,
        Letter::Second => fields.second = ranged(input.digits(width, "seconds")?.0, 0..=59, "second")?,
        Letter::Millisecond => fields.millisecond = ranged(input.digits(width, "milliseconds")?.0, 0..=999, "millisecond")?,
        Letter::ZoneIso8601 => {
            fields.offset = if input.rest().starts_with(['Z', 'z']) {
                input.at += 1;
                0
            } else {
                let sign = input.sign().ok_or_else(|| input.expected("Z or an offset like +01:00"))?;
                input.offset(sign)?
            };
        }
        Letter::ZoneName | Letter::ZoneRfc822 => {
            if let Some(sign) = input.sign() {
                fields.offset = input.offset(sign)?;
            } else {
                input.one_of(&["UTC", "GMT", "UT"], "a time zone (UTC, GMT or an offset like +0100)")?;
                fields.offset = match input.sign() {
                    Some(sign) => input.offset(sign)?,
                    None => 0,
                };
            }
        }
    }
    Ok(())
}

/// Java's reading of "yy": the year within 80 years before and 20 years after now.
fn two_digit_year(two_digits: i64) -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let start = civil_from_days(now.div_euclid(MILLIS_PER_DAY)).0 - 80;
    let year = start / 100 * 100 + two_digits;
    if year < start { year + 100 } else { year }
}

impl Parsed {
    fn resolve(self) -> Result<i64, String> {
        let year = self.year.unwrap_or(1970);
        let year = if self.bc { 1 - year } else { year };
        let days = match (self.month, self.day, self.day_of_year) {
            (None, None, Some(day_of_year)) => {
                let days = days_from_civil(year, 1, 1) + day_of_year - 1;
                if civil_from_days(days).0 != year {
                    return Err(format!("day {day_of_year} of the year does not exist in {year}"));
                }
                days
            }
            (month, day, _) => {
                let (month, day) = (month.unwrap_or(1), day.unwrap_or(1));
                if day > days_in_month(year, month) {
                    return Err(format!("{year}-{month:02} has no day {day}"));
                }
                days_from_civil(year, month as u32, day as u32)
            }
        };
        let hour = match (self.hour, self.hour12) {
            (Some(hour), _) => hour,
            (None, Some(hour12)) => hour12 + if self.pm == Some(true) { 12 } else { 0 },
            (None, None) => {
                if self.pm == Some(true) {
                    12
                } else {
                    0
                }
            }
        };
        let of_day = hour * 3_600_000 + self.minute * 60_000 + self.second * 1000 + self.millisecond;
        days.checked_mul(MILLIS_PER_DAY)
            .and_then(|ms| ms.checked_add(of_day - self.offset))
            .ok_or_else(|| format!("the year {year} is out of range"))
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian (year, month, day) of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2017-02-03T04:05:06.007Z, a Friday.
    const SAMPLE: i64 = 1_486_094_706_007;

    fn format(pattern: &str, millis: i64) -> String {
        DateFormat::new(pattern).unwrap().format(millis)
    }

    fn parse(pattern: &str, text: &str) -> Result<i64, String> {
        DateFormat::new(pattern).unwrap().parse(text)
    }

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for days in [-800_000, -1, 0, 59, 11_016, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn formats_as_simple_date_format_in_utc() {
        assert_eq!(format("yyyyMMdd", SAMPLE), "20170203");
        assert_eq!(format("yyyy-MM-dd'T'HH:mm:ss.SSSZ", SAMPLE), "2017-02-03T04:05:06.007+0000");
        assert_eq!(format("yy-M-d H:m:s.S", SAMPLE), "17-2-3 4:5:6.7");
        assert_eq!(format("EEE, d MMM yyyy hh:mm a z", SAMPLE), "Fri, 3 Feb 2017 04:05 AM UTC");
        assert_eq!(format("EEEE MMMM D u k K XXX G", SAMPLE), "Friday February 34 5 4 4 Z AD");
        assert_eq!(format("'o''clock' ''h''", SAMPLE), "o'clock '4'");
        assert_eq!(format("yyyy-MM-dd HH:mm:ss", -1), "1969-12-31 23:59:59");
        assert_eq!(format("kk hh a", 0), "24 12 AM");
    }

    #[test]
    fn rejects_what_it_cannot_do() {
        assert!(DateFormat::new("yyyy-ww").unwrap_err().contains("week"));
        assert!(DateFormat::new("yyyy-MM-ddTHH").unwrap_err().contains("'T'"));
        assert!(DateFormat::new("yyyy 'x").unwrap_err().contains("quote"));
        assert!(DateFormat::new("XXXX").is_err());
    }

    #[test]
    fn parses_fixed_and_free_widths() {
        assert_eq!(parse("yyyyMMdd", "20170203"), Ok(1_486_080_000_000));
        assert_eq!(parse("yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2017-02-03T04:05:06.007+0000"), Ok(SAMPLE));
        assert_eq!(parse("yyyy-M-d H:m:s.S", "2017-2-3 4:5:6.7"), Ok(SAMPLE));
        assert_eq!(parse("yyyy-MM-dd HH:mm:ss.SSSXXX", "2017-02-03 05:05:06.007+01:00"), Ok(SAMPLE));
        assert_eq!(parse("yyyy-MM-dd HH:mm:ss.SSSX", "2017-02-03 04:05:06.007Z"), Ok(SAMPLE));
        assert_eq!(parse("yyyy-MM-dd HH:mm:ss.SSS z", "2017-02-03 00:05:06.007 GMT-04:00"), Ok(SAMPLE));
        assert_eq!(parse("EEE, d MMM yyyy hh:mm:ss.SSS a", "Fri, 3 february 2017 04:05:06.007 am"), Ok(SAMPLE));
        assert_eq!(parse("yyyy-DDD", "2017-034"), Ok(1_486_080_000_000));
        assert_eq!(parse("HH:mm", "04:05"), Ok(14_700_000));
        // Trailing text is ignored, as by Java's DateFormat.parse.
        assert_eq!(parse("yyyy-MM-dd", "2017-02-03T04:05:06Z"), Ok(1_486_080_000_000));
        assert_eq!(parse("yy-MM-dd", "17-02-03"), Ok(1_486_080_000_000));
    }

    #[test]
    fn parse_errors_say_where() {
        assert_eq!(parse("yyyy-MM-dd", "2017/02/03").unwrap_err(), "expected \"-\" at position 4 of \"2017/02/03\"");
        assert!(parse("yyyy-MM-dd", "2017-13-03").unwrap_err().contains("month 13"));
        assert!(parse("yyyy-MM-dd", "2017-02-29").unwrap_err().contains("has no day 29"));
        assert!(parse("yyyy-MM-dd", "2016-02-29").is_ok());
        assert!(parse("HH:mm z", "10:00 PST").unwrap_err().contains("time zone"));
        assert!(parse("yyyy", "").is_err());
    }
}
