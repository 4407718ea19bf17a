//! The `$` style (`string.Template`): `$name` and `${name}`, rendered with `str()`; `$$` is a
//! literal `$`.

use super::{target_of, FormatError, Piece, Render};

/// Parses a `$name` / `${name}` format.
pub(super) fn parse(fmt: &str) -> Result<Vec<Piece>, FormatError> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut rest = 0;
    let b = fmt.as_bytes();
    while let Some(off) = fmt[rest..].find('$') {
        let at = rest + off;
        lit.push_str(&fmt[rest..at]);
        let after = at + 1;
        let (name, end) = if b.get(after) == Some(&b'$') {
            lit.push('$');
            rest = after + 1;
            continue;
        } else if b.get(after) == Some(&b'{') {
            let close = fmt[after..].find('}').map(|c| after + c);
            match close {
                Some(c) if is_ascii_ident(&fmt[after + 1..c]) => (&fmt[after + 1..c], c + 1),
                _ => {
                    return Err(FormatError::Invalid {
                        pos: at,
                        problem: "`${` must be followed by an identifier and `}`".into(),
                    })
                }
            }
        } else {
            let len = fmt[after..]
                .bytes()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                .count();
            let name = &fmt[after..after + len];
            if !is_ascii_ident(name) {
                return Err(FormatError::Invalid {
                    pos: at,
                    problem: "bare `$` (write `$$` for a dollar sign)".into(),
                });
            }
            (name, after + len)
        };
        if !lit.is_empty() {
            pieces.push(Piece::Lit(std::mem::take(&mut lit)));
        }
        pieces.push(Piece::Field {
            target: target_of(name),
            render: Render::Str,
            raw: fmt[at..end].to_string(),
        });
        rest = end;
    }
    lit.push_str(&fmt[rest..]);
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    Ok(pieces)
}

/// `string.Template`'s identifier: `[_a-zA-Z][_a-zA-Z0-9]*`.
fn is_ascii_ident(s: &str) -> bool {
    let b = s.as_bytes();
    matches!(b.first(), Some(c) if *c == b'_' || c.is_ascii_alphabetic())
        && b.iter().all(|c| *c == b'_' || c.is_ascii_alphanumeric())
}
