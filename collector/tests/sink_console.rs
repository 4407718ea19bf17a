//! ConsoleSink: control characters cannot drive the terminal; colour by level.

use std::io::Write;
use std::sync::{Arc, Mutex};

use logfunnel_collector::sink::{neutralise_controls, Colour, ConsoleSink, Sink};

#[test]
fn escapes_and_carriage_returns_become_visible() {
    assert_eq!(neutralise_controls("plain text"), "plain text");
    assert!(matches!(
        neutralise_controls("plain"),
        std::borrow::Cow::Borrowed(_)
    ));
    assert_eq!(neutralise_controls("\x1b[2J\x1b[Hgone"), "␛[2J␛[Hgone");
    assert_eq!(
        neutralise_controls("progress 10%\rdone"),
        "progress 10%␍done"
    );
    assert_eq!(neutralise_controls("nul\0bell\x07del\x7f"), "nul␀bell␇del␡");
    // The one-byte CSI (C1) some terminals honour.
    assert_eq!(neutralise_controls("a\u{9b}31mb"), "a\\u{9b}31mb");
    // Tracebacks stay readable: newlines and tabs are kept; other text untouched.
    assert_eq!(
        neutralise_controls("boom\nTraceback:\n\tat x — ünïcode"),
        "boom\nTraceback:\n\tat x — ünïcode"
    );
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[test]
fn console_sink_neutralises_and_buffers_until_flush() {
    let out = Shared::default();
    let mut sink = ConsoleSink::to_writer(Box::new(out.clone()));
    assert!(!sink.is_coloured());
    sink.write(40, "evil\x1b]0;title\x07\rline\nsecond")
        .unwrap();
    assert_eq!(out.text(), "");
    sink.flush().unwrap();
    assert_eq!(out.text(), "evil␛]0;title␇␍line\nsecond\n");
    assert!(!out.text().contains('\x1b'));
}

#[test]
fn colour_by_level_when_asked() {
    let out = Shared::default();
    let mut sink = ConsoleSink::to_writer(Box::new(out.clone())).colour(Colour::Always);
    assert!(sink.is_coloured());
    sink.write(40, "error \x1b[0m").unwrap();
    sink.write(20, "info").unwrap();
    sink.write(30, "warn").unwrap();
    sink.flush().unwrap();
    assert_eq!(
        out.text(),
        "\x1b[31merror ␛[0m\x1b[0m\ninfo\n\x1b[33mwarn\x1b[0m\n"
    );
    // Auto on a writer that is not a terminal: no colour.
    let sink = ConsoleSink::to_writer(Box::new(out.clone())).colour(Colour::Auto);
    assert!(!sink.is_coloured());
    let sink = ConsoleSink::stderr().colour(Colour::Never);
    assert!(!sink.is_coloured());
}
