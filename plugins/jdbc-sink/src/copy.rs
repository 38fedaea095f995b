//! PostgreSQL's `COPY ... FROM STDIN` in its text format: a segment's rows as the bytes one
//! copy step carries. Text rather than binary, because the server then parses each field as
//! its column's type, whatever that is (an existing table's `jsonb`, `uuid` or enum column
//! takes the same value a parameter would), so the sink needs no column types. Binary is
//! faster for the server to read (100,000 rows of the bench's four columns loaded in ~95 ms
//! binary, ~150 ms text, with psql), but that is a small part of what a record costs the sink.
//!
//! One line per row, fields separated by tabs, `\N` for null; a backslash, tab, newline or
//! carriage return in a value is escaped with a backslash. Values are written as PostgreSQL
//! reads them back exactly: floats in their shortest round-trip form, bytea as `\x` hex,
//! dates in ISO form with `BC` before year 1, timestamps (UTC microseconds) with `+00`,
//! which a `timestamptz` column reads as UTC and a `timestamp` column ignores.

use std::io::Write;

use wasmconnect_sdk::sql::SqlValue;

use crate::values::civil_from_days;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// `COPY t (a, b) FROM STDIN`, the text format being COPY's default.
pub fn statement(table: &str, columns: &[String]) -> String {
    format!("COPY {table} ({}) FROM STDIN", columns.join(", "))
}

/// The rows as COPY text data.
pub fn encode<'a>(rows: impl IntoIterator<Item = &'a [SqlValue]>) -> Vec<u8> {
    let mut out = Vec::new();
    for row in rows {
        for (i, value) in row.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            field(&mut out, value);
        }
        out.push(b'\n');
    }
    out
}

fn field(out: &mut Vec<u8>, value: &SqlValue) {
    // Writing to a Vec cannot fail.
    let _ = match value {
        SqlValue::Null => write!(out, "\\N"),
        SqlValue::Boolean(b) => write!(out, "{}", if *b { 't' } else { 'f' }),
        SqlValue::Int(i) => write!(out, "{i}"),
        SqlValue::Uint(u) => write!(out, "{u}"),
        SqlValue::Float(f) => float(out, *f),
        SqlValue::Decimal(d) => write!(out, "{d}"),
        SqlValue::Text(s) => {
            text(out, s);
            Ok(())
        }
        SqlValue::Bytes(b) => bytes(out, b),
        SqlValue::Date(days) => date(out, i64::from(*days)),
        SqlValue::Time(micros) => time(out, *micros),
        SqlValue::Timestamp(micros) => timestamp(out, *micros),
    };
}

/// Rust's `Display` gives the shortest digits that read back as the same double, and
/// PostgreSQL's input is exact, so the value arrives unchanged.
fn float(out: &mut Vec<u8>, f: f64) -> std::io::Result<()> {
    match f {
        f if f.is_nan() => write!(out, "NaN"),
        f if f == f64::INFINITY => write!(out, "Infinity"),
        f if f == f64::NEG_INFINITY => write!(out, "-Infinity"),
        f => write!(out, "{f}"),
    }
}

fn text(out: &mut Vec<u8>, s: &str) {
    let mut rest = s.as_bytes();
    while let Some(at) = rest.iter().position(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r')) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(match rest[at] {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            _ => b"\\r",
        });
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
}

/// bytea's hex form `\x0aff`, its backslash escaped for COPY.
fn bytes(out: &mut Vec<u8>, b: &[u8]) -> std::io::Result<()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\\\x");
    for byte in b {
        out.push(HEX[usize::from(byte >> 4)]);
        out.push(HEX[usize::from(byte & 0xf)]);
    }
    Ok(())
}

/// `YYYY-MM-DD`, or for years before 1 `YYYY-MM-DD BC` (1 BC being ISO's year 0).
fn date(out: &mut Vec<u8>, days: i64) -> std::io::Result<()> {
    let bc = calendar_day(out, days)?;
    era(out, bc);
    Ok(())
}

fn time(out: &mut Vec<u8>, micros: i64) -> std::io::Result<()> {
    let (seconds, fraction) = (micros.div_euclid(1_000_000), micros.rem_euclid(1_000_000));
    write!(out, "{:02}:{:02}:{:02}.{fraction:06}", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

/// The era comes last in PostgreSQL's form: `0044-03-15 12:00:00.000000+00 BC`.
fn timestamp(out: &mut Vec<u8>, micros: i64) -> std::io::Result<()> {
    let bc = calendar_day(out, micros.div_euclid(MICROS_PER_DAY))?;
    out.push(b' ');
    time(out, micros.rem_euclid(MICROS_PER_DAY))?;
    out.extend_from_slice(b"+00");
    era(out, bc);
    Ok(())
}

/// The day's `YYYY-MM-DD` with the year counted from 1 in its era; whether it is BC.
fn calendar_day(out: &mut Vec<u8>, days: i64) -> std::io::Result<bool> {
    let (year, month, day) = civil_from_days(days);
    let bc = year < 1;
    write!(out, "{:04}-{month:02}-{day:02}", if bc { 1 - year } else { year })?;
    Ok(bc)
}

fn era(out: &mut Vec<u8>, bc: bool) {
    if bc {
        out.extend_from_slice(b" BC");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: SqlValue) -> String {
        let data = encode([std::slice::from_ref(&value)]);
        String::from_utf8(data).unwrap().strip_suffix('\n').unwrap().to_owned()
    }

    #[test]
    fn rows_are_lines_of_tab_separated_fields() {
        let rows = [vec![SqlValue::Int(1), SqlValue::Text("a".into()), SqlValue::Null], vec![SqlValue::Int(2), SqlValue::Text(String::new()), SqlValue::Boolean(true)]];
        assert_eq!(encode(rows.iter().map(Vec::as_slice)), b"1\ta\t\\N\n2\t\tt\n");
        assert_eq!(statement("\"t\"", &["\"a\"".into(), "\"b\"".into()]), "COPY \"t\" (\"a\", \"b\") FROM STDIN");
    }

    #[test]
    fn text_escapes_what_copy_reads_specially() {
        assert_eq!(one(SqlValue::Text("a\tb\nc\rd\\e".into())), "a\\tb\\nc\\rd\\\\e");
        assert_eq!(one(SqlValue::Text("\\N".into())), "\\\\N", "a text \\N is not a null");
        assert_eq!(one(SqlValue::Text("grüß 🎉 'q' \"d\"".into())), "grüß 🎉 'q' \"d\"");
        assert_eq!(one(SqlValue::Decimal("-12.50".into())), "-12.50");
    }

    #[test]
    fn bytes_are_hex_with_the_backslash_escaped() {
        assert_eq!(one(SqlValue::Bytes(vec![0, 0x0a, 0xff, b'\\'])), "\\\\x000aff5c");
        assert_eq!(one(SqlValue::Bytes(vec![])), "\\\\x");
    }

    #[test]
    fn numbers_keep_every_digit() {
        assert_eq!(one(SqlValue::Int(i64::MIN)), "-9223372036854775808");
        assert_eq!(one(SqlValue::Uint(u64::MAX)), "18446744073709551615");
        assert_eq!(one(SqlValue::Float(0.1)), "0.1");
        assert_eq!(one(SqlValue::Float(f64::from(0.1f32))), "0.10000000149011612");
        assert_eq!(one(SqlValue::Float(-2.5e-300)).parse::<f64>().unwrap(), -2.5e-300);
        assert_eq!(one(SqlValue::Float(f64::NAN)), "NaN");
        assert_eq!(one(SqlValue::Float(f64::NEG_INFINITY)), "-Infinity");
        assert_eq!(one(SqlValue::Boolean(false)), "f");
    }

    #[test]
    fn dates_times_and_timestamps_in_iso_form() {
        assert_eq!(one(SqlValue::Date(0)), "1970-01-01");
        assert_eq!(one(SqlValue::Date(11_016)), "2000-02-29");
        assert_eq!(one(SqlValue::Date(-719_163)), "0001-12-31 BC", "the day before 0001-01-01");
        assert_eq!(one(SqlValue::Date(-719_528)), "0001-01-01 BC", "year 0 is 1 BC, a leap year");
        assert_eq!(one(SqlValue::Time(45_296_789_000)), "12:34:56.789000");
        assert_eq!(one(SqlValue::Time(0)), "00:00:00.000000");
        assert_eq!(one(SqlValue::Timestamp(1_700_000_000_123_456)), "2023-11-14 22:13:20.123456+00");
        assert_eq!(one(SqlValue::Timestamp(-1)), "1969-12-31 23:59:59.999999+00");
        assert_eq!(one(SqlValue::Timestamp(-62_135_596_800_000_000 - 1)), "0001-12-31 23:59:59.999999+00 BC");
    }
}
