//! stderr/stdout with optional colour by level. A terminal interprets control characters, so they
//! are made visible first ([`neutralise_controls`]): a record cannot move the cursor, clear the
//! screen, overwrite earlier lines with `\r`, or change the terminal's title.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

use super::Sink;

/// When to colour console lines by level: the config's `colour` key, `tail --colour` and the sink's
/// own setting are this one type.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    /// Colour only if the stream is a terminal, `NO_COLOR` is unset or empty and `TERM` is not
    /// `dumb`.
    #[default]
    Auto,
    /// Always colour (for `less -R` or a CI log viewer).
    Always,
    /// Never colour.
    Never,
}

/// Bytes buffered before the console sink writes without waiting for `flush`.
const CONSOLE_BUF: usize = 64 * 1024;

/// Writes lines to stderr, stdout or any writer, neutralising control characters. Lines are
/// buffered and written at [`Sink::flush`] (the runtime's flush interval) or when 64 KiB are
/// pending.
pub struct ConsoleSink {
    out: Box<dyn Write + Send>,
    /// The descriptor behind `out`, for [`Colour::Auto`]; `None` for arbitrary writers.
    fd: Option<libc::c_int>,
    colour: bool,
    buf: Vec<u8>,
}

impl ConsoleSink {
    /// Writes to standard error with [`Colour::Auto`].
    pub fn stderr() -> ConsoleSink {
        ConsoleSink::with_fd(Box::new(io::stderr()), libc::STDERR_FILENO)
    }

    /// Writes to standard output with [`Colour::Auto`].
    pub fn stdout() -> ConsoleSink {
        ConsoleSink::with_fd(Box::new(io::stdout()), libc::STDOUT_FILENO)
    }

    /// Writes to any writer (a pipe, a buffer in tests), without colour unless
    /// [`ConsoleSink::colour`] says [`Colour::Always`].
    pub fn to_writer(out: Box<dyn Write + Send>) -> ConsoleSink {
        ConsoleSink {
            out,
            fd: None,
            colour: false,
            buf: Vec::new(),
        }
    }

    /// Chooses the colour setting (default [`Colour::Auto`]).
    pub fn colour(mut self, colour: Colour) -> ConsoleSink {
        self.colour = match colour {
            Colour::Always => true,
            Colour::Never => false,
            Colour::Auto => self.fd.is_some_and(auto_colour),
        };
        self
    }

    /// Whether lines are coloured.
    pub fn is_coloured(&self) -> bool {
        self.colour
    }

    fn with_fd(out: Box<dyn Write + Send>, fd: libc::c_int) -> ConsoleSink {
        ConsoleSink {
            out,
            fd: Some(fd),
            colour: auto_colour(fd),
            buf: Vec::new(),
        }
    }
}

impl fmt::Debug for ConsoleSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleSink")
            .field("fd", &self.fd)
            .field("colour", &self.colour)
            .field("buffered", &self.buf.len())
            .finish()
    }
}

fn auto_colour(fd: libc::c_int) -> bool {
    // SAFETY: isatty only inspects the descriptor number; an invalid one yields 0.
    let tty = unsafe { libc::isatty(fd) } == 1;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    tty && !no_color && !dumb
}

/// The SGR colour that starts a line of this level (Python level numbers), if any.
fn level_colour(levelno: i64) -> Option<&'static str> {
    match levelno {
        50.. => Some("\x1b[1;31m"),  // CRITICAL: bold red
        40..=49 => Some("\x1b[31m"), // ERROR: red
        30..=39 => Some("\x1b[33m"), // WARNING: yellow
        20..=29 => None,             // INFO: the terminal's colour
        _ => Some("\x1b[2m"),        // DEBUG and below: dim
    }
}

impl Sink for ConsoleSink {
    fn write(&mut self, levelno: i64, line: &str) -> io::Result<()> {
        let colour = if self.colour {
            level_colour(levelno)
        } else {
            None
        };
        if let Some(start) = colour {
            self.buf.extend_from_slice(start.as_bytes());
        }
        self.buf
            .extend_from_slice(neutralise_controls(line).as_bytes());
        if colour.is_some() {
            self.buf.extend_from_slice(b"\x1b[0m");
        }
        self.buf.push(b'\n');
        if self.buf.len() >= CONSOLE_BUF {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let result = self.out.write_all(&self.buf);
            // A failed console write (EPIPE after `| head`) must not make the buffer grow forever.
            self.buf.clear();
            result?;
        }
        self.out.flush()
    }

    fn reopen(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// A terminal or a pipe has nothing to make durable: a flush is all `fsync = "on_flush"` needs.
    fn sync(&mut self) -> io::Result<()> {
        self.flush()
    }
}

impl Drop for ConsoleSink {
    fn drop(&mut self) {
        // Nothing to report an error to at this point.
        let _ = self.flush();
    }
}

/// Makes control characters visible so a line cannot drive the terminal.
///
/// - `\n` (between a message and its traceback) and `\t` are kept.
/// - Other C0 controls (U+0000-U+001F, including ESC and `\r`) become their Unicode "control
///   picture" (U+2400 + code): ESC shows as `␛`, `\r` as `␍`, NUL as `␀`.
/// - DEL (U+007F) becomes `␡`.
/// - C1 controls (U+0080-U+009F, e.g. the one-byte CSI U+009B) become the text `\u{9b}`.
///
/// Returns the input unchanged (borrowed) when there is nothing to replace.
///
/// ```
/// use logfunnel_collector::sink::neutralise_controls;
///
/// assert_eq!(neutralise_controls("a\x1b[2Jb\rc\n\td"), "a␛[2Jb␍c\n\td");
/// ```
pub fn neutralise_controls(line: &str) -> Cow<'_, str> {
    let needs = |c: char| c.is_control() && c != '\n' && c != '\t';
    let Some(first) = line.find(needs) else {
        return Cow::Borrowed(line);
    };
    let mut out = String::with_capacity(line.len() + 16);
    out.push_str(&line[..first]);
    for c in line[first..].chars() {
        match c {
            '\n' | '\t' => out.push(c),
            '\u{0}'..='\u{1f}' => {
                out.push(char::from_u32(0x2400 + c as u32).expect("U+2400-U+241F are chars"))
            }
            '\u{7f}' => out.push('\u{2421}'),
            '\u{80}'..='\u{9f}' => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}
