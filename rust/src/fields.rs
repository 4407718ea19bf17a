//! User fields: how `log` key-values, `tracing` fields and span fields become the record's extra keys.

// Not re-exported at the crate root (yet): the one path into `core` besides the root.
use logfunnel_core::schema::is_reserved_key;
use serde_json::Value;
use std::borrow::Cow;

/// The record's user fields, as [`logfunnel_core::RecordView`] holds them.
pub(crate) type Extra<'a> = Vec<(Cow<'a, str>, Cow<'a, Value>)>;

/// Adds a user field unless one of that name is already there: the first one given wins, so an event's
/// own field hides a span's, and an inner span's hides an outer one's. A schema key (`name`, `msg`,
/// ...) is renamed `extra.<key>`, as every binding does, so it can never overwrite a schema field.
pub(crate) fn push_field<'a>(extra: &mut Extra<'a>, key: Cow<'a, str>, value: Cow<'a, Value>) {
    let key = if is_reserved_key(&key) {
        Cow::Owned(format!("extra.{key}"))
    } else {
        key
    };
    if extra.iter().all(|(k, _)| *k != key) {
        extra.push((key, value));
    }
}

/// A float as JSON; NaN and the infinities, which JSON lacks, as their Rust spelling.
pub(crate) fn float(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or_else(|| Value::String(v.to_string()), Value::Number)
}

/// A 128-bit integer as a JSON number when it fits 64 bits, else as its decimal text.
pub(crate) fn wide_int<T: Copy + ToString + TryInto<i64> + TryInto<u64>>(v: T) -> Value {
    if let Ok(n) = TryInto::<i64>::try_into(v) {
        Value::from(n)
    } else if let Ok(n) = TryInto::<u64>::try_into(v) {
        Value::from(n)
    } else {
        Value::String(v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_field_wins_and_schema_keys_are_renamed() {
        let mut extra = Extra::new();
        push_field(&mut extra, "user".into(), Cow::Owned(Value::from(1)));
        push_field(&mut extra, "user".into(), Cow::Owned(Value::from(2)));
        push_field(&mut extra, "name".into(), Cow::Owned(Value::from("x")));
        assert_eq!(extra.len(), 2);
        assert_eq!((&*extra[0].0, &*extra[0].1), ("user", &Value::from(1)));
        assert_eq!(&*extra[1].0, "extra.name");
    }

    #[test]
    fn numbers_json_lacks_become_text() {
        assert_eq!(float(1.5), Value::from(1.5));
        assert_eq!(float(f64::NAN), Value::from("NaN"));
        assert_eq!(wide_int(-3_i128), Value::from(-3));
        assert_eq!(wide_int(u64::MAX as u128), Value::from(u64::MAX));
        assert_eq!(
            wide_int(u128::MAX),
            Value::from("340282366920938463463374607431768211455")
        );
    }
}
