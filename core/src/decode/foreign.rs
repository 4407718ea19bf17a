//! The forms other senders write, normalised to the v1 record: pyzmq's `PUBHandler` (two frames,
//! the level in the topic), and the Python logging cookbook's `LogRecord.__dict__` (no `v`; its
//! `msg` may still need merging with `args`, as `LogRecord.getMessage()` does).

use super::general::{Extras, Msg};
use super::{
    check_size, utf8, DecodeError, DecodeLimits, FieldSet, FORMAT_ERROR_KEY,
    PUBHANDLER_DEFAULT_NAME,
};
use crate::pyfmt::{percent, repr};
use crate::record::{now_seconds, RecordView};
use crate::schema::{Field, Level};
use serde_json::Value;
use std::borrow::Cow;

/// The PUBHandler form: level from the topic, text as the message, receive time as `created`.
pub(super) fn decode_pubhandler<'a>(
    topic: &'a [u8],
    text: &'a [u8],
    limits: &DecodeLimits,
) -> Result<RecordView<'a>, DecodeError> {
    check_size(topic.len() + text.len(), limits)?;
    let topic = utf8(topic, 0)?;
    let text = utf8(text, 1)?;
    let mut level = None;
    let mut offset = 0;
    for token in topic.split('.') {
        if let Some(n) = Level::from_record_name(token) {
            level = Some((n, offset));
            break;
        }
        offset += token.len() + 1;
    }
    let Some((levelno, at)) = level else {
        let mut cut = topic.len().min(200);
        while !topic.is_char_boundary(cut) {
            cut -= 1;
        }
        return Err(DecodeError::BadTopic {
            topic: topic[..cut].to_string(),
        });
    };
    let name = if at == 0 {
        PUBHANDLER_DEFAULT_NAME
    } else {
        &topic[..at - 1]
    };
    let msg = text.strip_suffix('\n').unwrap_or(text);
    let mut record = RecordView {
        name: Cow::Borrowed(name),
        msg: Cow::Borrowed(msg),
        levelno,
        created: now_seconds(),
        ..RecordView::default()
    };
    record.extra.push((
        Cow::Borrowed("topic"),
        Cow::Owned(Value::String(topic.to_string())),
    ));
    Ok(record)
}

/// The cookbook form's checks and defaults: recognised by `msg` plus a level or a name; a missing
/// `levelno` comes from `levelname`, a missing `name` is `root`, a missing `created` is now, and a
/// `msg` that is not a string becomes its Python `str()`.
pub(super) fn cookbook<'a>(
    record: &mut RecordView<'a>,
    msg: Option<Msg<'a>>,
    seen: FieldSet,
) -> Result<(), DecodeError> {
    let missing = |field: Field| DecodeError::MissingField { field: field.key() };
    let Some(msg) = msg else {
        return Err(missing(Field::V));
    };
    let (has_name, has_levelno) = (seen.contains(Field::Name), seen.contains(Field::Levelno));
    if !has_levelno && record.levelname.is_none() && !has_name {
        return Err(missing(Field::V));
    }
    if !has_levelno {
        match record
            .levelname
            .as_deref()
            .and_then(Level::from_record_name)
        {
            Some(n) => record.levelno = n,
            None => return Err(missing(Field::Levelno)),
        }
    }
    if !has_name {
        record.name = Cow::Borrowed("root");
    }
    if !seen.contains(Field::Created) {
        record.created = now_seconds();
    }
    record.msg = match msg {
        Msg::Str(s) => s,
        Msg::Other(other) => {
            let mut s = String::new();
            repr::py_str(&mut s, &other);
            Cow::Owned(s)
        }
    };
    Ok(())
}

/// `LogRecord.getMessage()`: `msg % args` when `args` is non-empty. A `message` from the sender's
/// formatter is Python's own merge and wins; a failed merge keeps `msg` and says why in
/// [`FORMAT_ERROR_KEY`].
pub(super) fn merge_args<'a>(
    record: &mut RecordView<'a>,
    args: Option<Value>,
    message: Option<Cow<'a, str>>,
) {
    let needs_merge = match &args {
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(m)) => !m.is_empty(),
        Some(Value::Bool(false)) | Some(Value::Null) | None => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::Bool(true)) => true,
    };
    if let (true, Some(args)) = (needs_merge, args) {
        match message {
            Some(m) => record.msg = m,
            None => match percent::merge(&record.msg, &args) {
                Ok(merged) => record.msg = Cow::Owned(merged),
                Err(e) => set_extra(
                    &mut record.extra,
                    FORMAT_ERROR_KEY,
                    Value::String(e.to_string()),
                ),
            },
        }
    }
}

/// Sets a user field, replacing one the frame already had (keys stay unique).
fn set_extra(extra: &mut Extras<'_>, key: &'static str, value: Value) {
    match extra.iter_mut().find(|(k, _)| k == key) {
        Some((_, v)) => *v = Cow::Owned(value),
        None => extra.push((Cow::Borrowed(key), Cow::Owned(value))),
    }
}
