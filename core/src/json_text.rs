//! JSON string text, shared by the frame encoder and the fast decoder: both look for the few bytes
//! JSON strings treat specially, eight bytes at a time, and copy the runs between them whole.

/// Offset of the first `"`, `\` or control character (< 0x20) in `b`, eight bytes at a time.
pub(crate) fn find_special(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while i + 8 <= b.len() {
        let mut chunk = [0u8; 8];
        chunk.copy_from_slice(&b[i..i + 8]);
        let x = u64::from_le_bytes(chunk);
        let quote = x ^ (ONES * u64::from(b'"'));
        let slash = x ^ (ONES * u64::from(b'\\'));
        // A byte of zero in `quote`/`slash`, or a byte below 0x20 in `x`, sets its high bit here
        // (bytes after the first hit may be flagged falsely; the first one is exact).
        let hits = (quote.wrapping_sub(ONES) & !quote
            | slash.wrapping_sub(ONES) & !slash
            | x.wrapping_sub(ONES * 0x20) & !x)
            & HIGH;
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b[i..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|n| i + n)
}

/// Appends `s` as a JSON string, escaped byte for byte as `serde_json` escapes it (`\"`, `\\`,
/// `\b \f \n \r \t`, other control characters as `\u00xx`; nothing else), so frames stay the same
/// whichever encoder wrote them.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rest = s.as_bytes();
    out.reserve(rest.len() + 2);
    out.push(b'"');
    while let Some(at) = find_special(rest) {
        out.extend_from_slice(&rest[..at]);
        let c = rest[at];
        let short = match c {
            b'"' => b'"',
            b'\\' => b'\\',
            0x08 => b'b',
            0x0c => b'f',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            _ => 0,
        };
        if short != 0 {
            out.extend_from_slice(&[b'\\', short]);
        } else {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(c >> 4)],
                HEX[usize::from(c & 0xf)],
            ]);
        }
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_special_finds_the_first_quote_backslash_or_control_byte() {
        for (s, want) in [
            (&b"abc\"def"[..], Some(3)),
            (b"abcdefgh\\ijk", Some(8)),
            (b"abcdefghijklmno\x01", Some(15)),
            (b"\xe6\x97\xa5\xe6\x9c\xac\"", Some(6)),
            (b"abcdefghijklmnop", None),
            (b"", None),
            (b"\x7f\x80\xff\"", Some(3)),
        ] {
            assert_eq!(find_special(s), want, "{s:?}");
        }
    }

    #[test]
    fn write_str_escapes_as_serde_json_does() {
        let mut every_byte = String::new();
        for c in 0u8..0x80 {
            every_byte.push(char::from(c));
        }
        for s in [
            "",
            "plain ascii text that is longer than eight bytes",
            "quote \" backslash \\ slash / tab \t newline \n",
            "\u{0}\u{1}\u{1f}\u{7f}\u{8}\u{c}\r",
            "日本語 🎉 café \u{2028}\u{2029}",
            &every_byte,
            "ends with a quote\"",
            "\"",
        ] {
            let mut ours = Vec::new();
            write_str(&mut ours, s);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(s).unwrap(),
                "{s:?}"
            );
        }
    }
}
