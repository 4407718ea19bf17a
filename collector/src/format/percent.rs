//! The `%` style (Python's default): `%(name)-8s`, parsed with the core's printf-style directive
//! parser so widths, flags and conversions mean exactly what they mean in Python's `%` operator.

use super::{target_of, FormatError, Piece, Render};
use logfunnel_core::pyfmt::percent::{self, Count};

/// Parses a `%(name)s` format; `%%` is a literal `%`.
pub(super) fn parse(fmt: &str) -> Result<Vec<Piece>, FormatError> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut rest = 0;
    while let Some(off) = fmt[rest..].find('%') {
        let at = rest + off;
        lit.push_str(&fmt[rest..at]);
        let d = percent::parse_directive(fmt, at)
            .map_err(|source| FormatError::Directive { pos: at, source })?;
        rest = d.end;
        if d.spec.conv == '%' {
            lit.push('%');
            continue;
        }
        if d.width == Some(Count::Star) || d.precision == Some(Count::Star) {
            return Err(FormatError::Invalid {
                pos: at,
                problem: "`*` width or precision needs positional arguments".into(),
            });
        }
        let Some(key) = d.key else {
            return Err(FormatError::Invalid {
                pos: at,
                problem: format!("directive {:?} has no (name)", &fmt[at..d.end]),
            });
        };
        if !lit.is_empty() {
            pieces.push(Piece::Lit(std::mem::take(&mut lit)));
        }
        pieces.push(Piece::Field {
            target: target_of(key),
            render: Render::Percent(d.spec),
            raw: fmt[at..d.end].to_string(),
        });
    }
    lit.push_str(&fmt[rest..]);
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    Ok(pieces)
}
