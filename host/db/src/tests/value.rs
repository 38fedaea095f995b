use super::*;

#[test]
fn temporal_values_convert_both_ways() {
    for days in [-1, 0, 19_700] {
        assert_eq!(crate::value::days_from_date(crate::value::to_date(days).unwrap()), days);
    }
    for micros in [0, 1, 86_399_999_999] {
        assert_eq!(crate::value::micros_from_time(crate::value::to_time(micros).unwrap()), micros);
    }
    for micros in [-1_000_000, 0, 1_700_000_000_123_456] {
        assert_eq!(crate::value::micros_from_datetime(crate::value::to_datetime(micros).unwrap()), micros);
    }
    assert!(matches!(crate::value::to_time(86_400_000_000), Err(SqlError::Database { code: None, .. })));
    assert!(crate::value::to_time(-1).is_err());
    assert!(crate::value::to_date(i32::MAX).is_err());
    assert!(crate::value::to_datetime(i64::MAX).is_err());
}

#[test]
fn decimals_must_be_plain_numbers() {
    assert_eq!(crate::value::to_decimal(" -12.50 ").unwrap().to_plain_string(), "-12.50");
    let err = crate::value::to_decimal("twelve").unwrap_err().to_string();
    assert!(err.contains("\"twelve\""), "{err}");
}
