//! Control characters from the input, shown as escapes. A diagnostic quotes the spec
//! (in its message and its source snippet); a NUL, a terminal escape sequence or a
//! lone carriage return passed through would corrupt or forge what the terminal shows.
//! They are written the way HCL writes them in a string: `\u0000`.

use std::borrow::Cow;
use std::ops::Range;

/// Every control character is below U+0100: `\u` and four hex digits.
const ESCAPE_LEN: usize = 6;

/// `text` with every control character but newline and tab escaped.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// A file's text escaped like [`escape_controls`] (a `\r\n` line end is kept), with the
/// means to find a byte offset of the original in the escaped text.
pub struct EscapedSource {
    pub text: String,
    /// `(offset in the original, bytes added up to and including it)`, per escape.
    added: Vec<(usize, usize)>,
}

impl EscapedSource {
    /// `None` when `text` has nothing to escape.
    pub fn new(text: &str) -> Option<EscapedSource> {
        let Cow::Owned(escaped) = escape(text, true) else {
            return None;
        };
        let mut added = Vec::new();
        let mut total = 0;
        for (i, c) in text.char_indices() {
            if needs_escape(
                c,
                text.get(i + c.len_utf8()..)
                    .and_then(|rest| rest.chars().next()),
            ) {
                total += ESCAPE_LEN - c.len_utf8();
                added.push((i, total));
            }
        }
        Some(EscapedSource {
            text: escaped,
            added,
        })
    }

    /// Where the original byte `offset` is in the escaped text.
    pub fn offset(&self, offset: usize) -> usize {
        let before = self.added.partition_point(|&(at, _)| at < offset);
        offset + before.checked_sub(1).map_or(0, |i| self.added[i].1)
    }

    pub fn span(&self, span: &Range<usize>) -> Range<usize> {
        self.offset(span.start)..self.offset(span.end)
    }
}

fn escape(text: &str, keep_crlf: bool) -> Cow<'_, str> {
    let mut chars = text.chars().peekable();
    let mut out: Option<String> = None;
    let mut at = 0;
    while let Some(c) = chars.next() {
        let next = if keep_crlf {
            chars.peek().copied()
        } else {
            None
        };
        if needs_escape(c, next) {
            let s = out.get_or_insert_with(|| text[..at].to_string());
            s.push_str(&format!("\\u{:04x}", c as u32));
        } else if let Some(s) = out.as_mut() {
            s.push(c);
        }
        at += c.len_utf8();
    }
    out.map_or(Cow::Borrowed(text), Cow::Owned)
}

/// `next` is the following character when a `\r\n` line end is kept, else `None`.
fn needs_escape(c: char, next: Option<char>) -> bool {
    c.is_control() && c != '\n' && c != '\t' && !(c == '\r' && next == Some('\n'))
}
