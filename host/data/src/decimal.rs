//! Connect's Decimal: an unscaled integer (here up to 38 digits, an `i128`) as big-endian
//! two's-complement bytes, with the scale in the schema.

/// The minimal big-endian two's-complement bytes of `unscaled`.
pub fn to_bytes(unscaled: i128) -> Vec<u8> {
    let bytes = unscaled.to_be_bytes();
    let sign = if unscaled < 0 { 0xff } else { 0x00 };
    // Drop leading sign bytes while the next byte still carries the sign bit.
    let mut start = 0;
    while start < bytes.len() - 1 && bytes[start] == sign && (bytes[start + 1] & 0x80 == sign & 0x80) {
        start += 1;
    }
    bytes[start..].to_vec()
}

/// The unscaled value of Decimal bytes, if it fits in an `i128`.
pub fn from_bytes(bytes: &[u8]) -> Option<i128> {
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0x00 };
    let mut full = [fill; 16];
    full[16 - bytes.len()..].copy_from_slice(bytes);
    Some(i128::from_be_bytes(full))
}

/// The unscaled integer of a decimal text ("-12.5", or with an exponent as JSON numbers and
/// Java's `BigDecimal` may print it: "1.234E-7") at `scale`, rounding half away from zero.
pub fn unscaled_from_text(text: &str, scale: u32) -> Option<i128> {
    let text = text.trim();
    if let Some((mantissa, exponent)) = text.split_once(['e', 'E']) {
        return unscaled_from_text(&shift_point(mantissa, exponent.parse().ok()?)?, scale);
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if int_part.is_empty() && frac_part.is_empty() || !int_part.chars().chain(frac_part.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let scale = scale as usize;
    let mut value: i128 = 0;
    for c in int_part.chars().chain(frac_part.chars().chain(std::iter::repeat('0')).take(scale)) {
        value = value.checked_mul(10)?.checked_add(i128::from(c as u8 - b'0'))?;
    }
    if frac_part.len() > scale && frac_part.as_bytes()[scale] >= b'5' {
        value = value.checked_add(1)?;
    }
    Some(if negative { -value } else { value })
}

/// `mantissa * 10^exponent` in plain notation; `None` for exponents too large for any `i128`.
fn shift_point(mantissa: &str, exponent: i32) -> Option<String> {
    if exponent.unsigned_abs() > 100 {
        return None;
    }
    let (sign, digits) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    let all = format!("{int_part}{frac_part}");
    if all.is_empty() {
        return None;
    }
    let point = int_part.len() as i32 + exponent;
    Some(if point <= 0 {
        format!("{sign}0.{}{all}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= all.len() {
        format!("{sign}{all}{}", "0".repeat(point as usize - all.len()))
    } else {
        let (int_part, frac_part) = all.split_at(point as usize);
        format!("{sign}{int_part}.{frac_part}")
    })
}

/// `unscaled / 10^scale` in plain notation ("-12.34").
pub fn to_text(unscaled: i128, scale: u32) -> String {
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if unscaled < 0 { "-" } else { "" };
    let scale = scale as usize;
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int_part, frac_part) = padded.split_at(padded.len() - scale);
    format!("{sign}{int_part}.{frac_part}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_minimal_twos_complement_and_round_trip() {
        assert_eq!(to_bytes(1234), vec![0x04, 0xD2]);
        assert_eq!(to_bytes(0), vec![0x00]);
        assert_eq!(to_bytes(127), vec![0x7f]);
        assert_eq!(to_bytes(128), vec![0x00, 0x80]);
        assert_eq!(to_bytes(-1), vec![0xff]);
        assert_eq!(to_bytes(-129), vec![0xff, 0x7f]);
        for v in [0, 1, -1, 1234, -1234, i64::MAX as i128, i128::MIN] {
            assert_eq!(from_bytes(&to_bytes(v)), Some(v));
        }
    }

    #[test]
    fn text_rescales_and_prints() {
        assert_eq!(unscaled_from_text("12.34", 2), Some(1234));
        assert_eq!(unscaled_from_text("-12.5000", 2), Some(-1250));
        assert_eq!(unscaled_from_text("7", 3), Some(7000));
        assert_eq!(unscaled_from_text("0.125", 2), Some(13));
        assert_eq!(unscaled_from_text("abc", 2), None);
        assert_eq!(unscaled_from_text("", 2), None);
        assert_eq!(unscaled_from_text("1.234E-7", 10), Some(1234));
        assert_eq!(unscaled_from_text("-1.5e3", 0), Some(-1500));
        assert_eq!(unscaled_from_text("12E+1", 1), Some(1200));
        assert_eq!(unscaled_from_text("1e999", 0), None);
        assert_eq!(unscaled_from_text("1e", 0), None);
        assert_eq!(unscaled_from_text(".e5", 0), None);
        assert_eq!(to_text(-1234, 2), "-12.34");
        assert_eq!(to_text(5, 3), "0.005");
        assert_eq!(to_text(42, 0), "42");
    }
}
