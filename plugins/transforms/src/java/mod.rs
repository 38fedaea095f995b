//! Java's text conventions that Kafka's transforms expose to users: `SimpleDateFormat`
//! patterns, `java.util.regex` replacements, and how Java prints numbers.

pub mod date_format;
pub mod regex;

/// Java's `Double.toString`: plain between 10^-3 and 10^7, else `1.0E10` style, and always
/// with a fractional digit.
pub fn double_to_string(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    java_style(v == 0.0 || (1e-3..1e7).contains(&v.abs()), format!("{v}"), format!("{v:e}"))
}

/// Java's `Float.toString`, with the float's own shortest digits.
pub fn float_to_string(v: f32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    java_style(v == 0.0 || (1e-3..1e7).contains(&v.abs()), format!("{v}"), format!("{v:e}"))
}

fn java_style(plain_range: bool, plain: String, scientific: String) -> String {
    if plain_range {
        return if plain.contains('.') { plain } else { format!("{plain}.0") };
    }
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let mantissa = if mantissa.contains('.') { mantissa.to_owned() } else { format!("{mantissa}.0") };
    format!("{mantissa}E{exponent}")
}

/// Java's `BigDecimal.toString` for a non-negative scale: plain unless the adjusted exponent
/// is below -6, then `1.23E-8` style.
pub fn big_decimal_to_string(unscaled: i128, scale: u32) -> String {
    let digits = unscaled.unsigned_abs().to_string();
    let adjusted = digits.len() as i64 - 1 - i64::from(scale);
    if adjusted >= -6 {
        return wasmconnect_sdk::decimal::to_text(unscaled, scale);
    }
    let sign = if unscaled < 0 { "-" } else { "" };
    let (first, rest) = digits.split_at(1);
    let fraction = if rest.is_empty() { String::new() } else { format!(".{rest}") };
    format!("{sign}{first}{fraction}E{adjusted}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_java_does() {
        assert_eq!(double_to_string(1.0), "1.0");
        assert_eq!(double_to_string(-42.5), "-42.5");
        assert_eq!(double_to_string(0.0), "0.0");
        assert_eq!(double_to_string(0.001), "0.001");
        assert_eq!(double_to_string(1e7), "1.0E7");
        assert_eq!(double_to_string(1.5e-5), "1.5E-5");
        assert_eq!(double_to_string(1234567.0), "1234567.0");
        assert_eq!(double_to_string(f64::NAN), "NaN");
        assert_eq!(double_to_string(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(float_to_string(1.1), "1.1");
        assert_eq!(float_to_string(3e10), "3.0E10");
    }

    #[test]
    fn big_decimals_print_as_java_does() {
        assert_eq!(big_decimal_to_string(1234, 2), "12.34");
        assert_eq!(big_decimal_to_string(-5, 3), "-0.005");
        assert_eq!(big_decimal_to_string(1, 6), "0.000001");
        assert_eq!(big_decimal_to_string(1, 7), "1E-7");
        assert_eq!(big_decimal_to_string(-123, 10), "-1.23E-8");
        assert_eq!(big_decimal_to_string(42, 0), "42");
    }
}
