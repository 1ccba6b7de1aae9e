//! Line splitting over decoded text that arrives in chunks of any size.

/// The maximum length of one line, in UTF-8 bytes. A longer line is reported once, as
/// `too_long`, and the rest of it is skipped, so that a file without line feeds cannot
/// fill the memory.
pub const MAX_LINE: usize = 4 << 20;

/// The start of a too-long line that `Line::text` keeps for the error message.
const TOO_LONG_PREFIX: usize = 64;

/// One line without its line break.
pub struct Line<'a> {
    /// The line's text, or only its first bytes when `too_long` is set.
    pub text: &'a str,
    /// One-based line number in the decoded file.
    pub number: u64,
    /// True for a last line that ends the file without a line break.
    pub unterminated: bool,
    /// True for a line longer than `MAX_LINE`.
    pub too_long: bool,
    /// Set with `too_long` when the line contains carriage returns without line feeds.
    pub bare_carriage_returns: bool,
}

/// Returns the note that ends a bad-record message about a last line without a line break.
pub fn cut_short_note(unterminated: bool) -> &'static str {
    if unterminated {
        " (the last line has no line break, so the file may be cut short)"
    } else {
        ""
    }
}

/// The kind of line break a file uses, detected from its first one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineBreaks {
    /// No line break seen yet.
    Unknown,
    /// `\n` or `\r\n`. A `\r` alone stays part of the line.
    LineFeed,
    /// `\r` alone, as classic Mac OS wrote. `\r\n` and `\n` end lines too.
    CarriageReturn,
}

/// Buffers the partial last line between chunks.
pub struct LineBuffer {
    /// Decoded text not yet split; callers append to it.
    pub text: String,
    next_number: u64,
    /// True while the rest of a too-long line is being skipped.
    skipping: bool,
    breaks: LineBreaks,
}

impl Default for LineBuffer {
    fn default() -> LineBuffer {
        LineBuffer::new()
    }
}

impl LineBuffer {
    pub fn new() -> LineBuffer {
        LineBuffer {
            text: String::with_capacity(128 * 1024),
            next_number: 1,
            skipping: false,
            breaks: LineBreaks::Unknown,
        }
    }

    /// Calls `on_line` for every complete line in the buffer and keeps the rest.
    pub fn split(&mut self, mut on_line: impl FnMut(Line<'_>)) {
        if self.breaks == LineBreaks::Unknown {
            self.breaks = detect_line_breaks(self.text.as_bytes());
        }
        let mut start = 0;
        let bytes = self.text.as_bytes();
        while let Some((end, next)) = next_line_break(bytes, start, self.breaks) {
            if self.skipping {
                // The end of a too-long line, which was reported already.
                self.skipping = false;
                self.next_number += 1;
                start = next;
                continue;
            }
            let mut text = &self.text[start..end];
            if let Some(stripped) = text.strip_suffix('\r') {
                text = stripped;
            }
            text = strip_byte_order_mark(text);
            if text.len() > MAX_LINE {
                on_line(too_long(text, self.next_number, self.breaks == LineBreaks::LineFeed));
            } else {
                on_line(Line {
                    text,
                    number: self.next_number,
                    unterminated: false,
                    too_long: false,
                    bare_carriage_returns: false,
                });
            }
            self.next_number += 1;
            start = next;
        }

        let rest = &self.text[start..];
        // A `\r` at the end may be a line break, or the start of a `\r\n`, whose end is still
        // to come. So it does not count toward the line's length, and unless the file
        // breaks lines with LF, it stays in the buffer when the rest is dropped.
        let unfinished = rest.strip_suffix('\r');
        let pending_carriage_return = self.breaks != LineBreaks::LineFeed && unfinished.is_some();
        let line = strip_byte_order_mark(unfinished.unwrap_or(rest));
        if self.skipping {
            self.text.clear();
        } else if line.len() > MAX_LINE {
            on_line(too_long(line, self.next_number, self.breaks == LineBreaks::LineFeed));
            self.skipping = true;
            self.text.clear();
        } else {
            self.text.drain(..start);
            return;
        }
        if pending_carriage_return {
            self.text.push('\r');
        }
    }

    /// Calls `on_line` for a last line still in the buffer: one without a line break, or
    /// one whose final `\r` could still have been the start of a `\r\n`.
    pub fn finish(&mut self, mut on_line: impl FnMut(Line<'_>)) {
        if !self.text.is_empty() && !self.skipping {
            let (text, unterminated) = match self.text.strip_suffix('\r') {
                // In a file that breaks lines with CR alone, a final CR ends the last line.
                Some(text) => (text, self.breaks == LineBreaks::LineFeed),
                None => (self.text.as_str(), true),
            };
            on_line(Line {
                text: strip_byte_order_mark(text),
                number: self.next_number,
                unterminated,
                too_long: false,
                bare_carriage_returns: false,
            });
            self.next_number += 1;
        }
        self.skipping = false;
        self.text.clear();
    }
}

/// Removes a byte order mark from the start of a line. The decoder removes the file's own,
/// so this one comes from a second file joined to the first (`cat a.csv b.csv`).
fn strip_byte_order_mark(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Detects the line breaks from the first `\r` or `\n` in `bytes`. A `\r` at the end of
/// `bytes` may be the start of a `\r\n`, so it returns `Unknown` until more text arrives.
fn detect_line_breaks(bytes: &[u8]) -> LineBreaks {
    let Some(position) = memchr::memchr2(b'\r', b'\n', bytes) else {
        return LineBreaks::Unknown;
    };
    match (bytes[position], bytes.get(position + 1)) {
        (b'\n', _) | (_, Some(b'\n')) => LineBreaks::LineFeed,
        (_, Some(_)) => LineBreaks::CarriageReturn,
        (_, None) => LineBreaks::Unknown,
    }
}

/// Finds the first line break at or after `from`; returns where the line ends and where the
/// next line starts. In `LineFeed` mode the line keeps the `\r` of a `\r\n`, which
/// `split` removes.
fn next_line_break(bytes: &[u8], from: usize, breaks: LineBreaks) -> Option<(usize, usize)> {
    let rest = &bytes[from..];
    if breaks != LineBreaks::CarriageReturn {
        let end = from + memchr::memchr(b'\n', rest)?;
        return Some((end, end + 1));
    }
    let end = from + memchr::memchr2(b'\r', b'\n', rest)?;
    match (bytes[end], bytes.get(end + 1)) {
        (b'\r', Some(b'\n')) => Some((end, end + 2)),
        // A `\r` at the end of the text may be followed by a `\n` in the next chunk.
        (b'\r', None) => None,
        _ => Some((end, end + 1)),
    }
}

/// Describes a too-long line by its start. `line_feed_breaks` is set when the file breaks
/// lines with LF, where a `\r` in the line is a carriage return without a line feed.
fn too_long(text: &str, number: u64, line_feed_breaks: bool) -> Line<'_> {
    let mut prefix_end = TOO_LONG_PREFIX.min(text.len());
    while !text.is_char_boundary(prefix_end) {
        prefix_end -= 1;
    }
    Line {
        text: &text[..prefix_end],
        number,
        unterminated: false,
        too_long: true,
        bare_carriage_returns: line_feed_breaks && memchr::memchr(b'\r', text.as_bytes()).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_in_chunks(input: &str, chunk: usize) -> Vec<(String, u64, bool)> {
        let mut buffer = LineBuffer::new();
        let mut lines = Vec::new();
        let bytes = input.as_bytes();
        let mut pos = 0;
        while pos < bytes.len() {
            let mut end = (pos + chunk).min(bytes.len());
            while !input.is_char_boundary(end) {
                end += 1;
            }
            buffer.text.push_str(&input[pos..end]);
            buffer.split(|line| lines.push((line.text.to_string(), line.number, line.unterminated)));
            assert!(buffer.text.len() <= MAX_LINE + chunk + 4);
            pos = end;
        }
        buffer.finish(|line| lines.push((line.text.to_string(), line.number, line.unterminated)));
        lines
    }

    #[test]
    fn crlf_and_missing_final_newline() {
        for chunk in 1..12 {
            let lines = split_in_chunks("a;b\r\nc;ä\n\nlast", chunk);
            assert_eq!(
                lines,
                vec![
                    ("a;b".to_string(), 1, false),
                    ("c;ä".to_string(), 2, false),
                    (String::new(), 3, false),
                    ("last".to_string(), 4, true),
                ],
                "chunk size {chunk}"
            );
        }
    }

    #[test]
    fn carriage_return_alone_breaks_lines_when_first() {
        for chunk in 1..12 {
            let lines = split_in_chunks("a;b\rc;ä\r\rd\r\ne\nlast\r", chunk);
            assert_eq!(
                lines,
                vec![
                    ("a;b".to_string(), 1, false),
                    ("c;ä".to_string(), 2, false),
                    (String::new(), 3, false),
                    ("d".to_string(), 4, false),
                    ("e".to_string(), 5, false),
                    ("last".to_string(), 6, false),
                ],
                "chunk size {chunk}"
            );
        }
    }

    #[test]
    fn too_long_line_with_cr_at_chunk_end() {
        // CR-only breaks; the CR after the long line is the last byte of a chunk.
        let long = "x".repeat(MAX_LINE + 10);
        let head = format!("a\r{long}\r");
        let mut buffer = LineBuffer::new();
        let mut lines = Vec::new();
        let mut push = |buffer: &mut LineBuffer, text: &str| {
            buffer.text.push_str(text);
            buffer.split(|line| {
                lines.push((
                    line.text.to_string(),
                    line.number,
                    line.too_long,
                    line.bare_carriage_returns,
                ))
            });
        };
        push(&mut buffer, &head);
        push(&mut buffer, "b\rc");
        buffer.finish(|line| {
            lines.push((
                line.text.to_string(),
                line.number,
                line.too_long,
                line.bare_carriage_returns,
            ))
        });
        assert_eq!(
            lines,
            vec![
                ("a".to_string(), 1, false, false),
                ("x".repeat(64), 2, true, false),
                ("b".to_string(), 3, false, false),
                ("c".to_string(), 4, false, false),
            ]
        );
    }

    #[test]
    fn max_length_line_at_chunk_end() {
        for line_break in ["\r\n", "\r", "\n"] {
            for prefix in ["", "\u{feff}"] {
                let line = format!("{prefix}{}", "x".repeat(MAX_LINE));
                // The first chunk ends right after the first byte of the line break.
                let mut buffer = LineBuffer::new();
                let mut lengths = Vec::new();
                buffer
                    .text
                    .push_str(&format!("a{line_break}{line}{}", &line_break[..1]));
                buffer.split(|line| lengths.push((line.text.len(), line.too_long)));
                buffer.text.push_str(&format!("{}b{line_break}", &line_break[1..]));
                buffer.split(|line| lengths.push((line.text.len(), line.too_long)));
                buffer.finish(|line| lengths.push((line.text.len(), line.too_long)));
                assert_eq!(
                    lengths,
                    [(1, false), (MAX_LINE, false), (1, false)],
                    "{line_break:?} {prefix:?}"
                );
            }
        }
    }

    #[test]
    fn byte_order_mark_at_line_start_is_removed() {
        let lines = split_in_chunks("a\n\u{feff}b;\u{feff}\n\u{feff}c", 3);
        let texts: Vec<&str> = lines.iter().map(|(text, _, _)| text.as_str()).collect();
        assert_eq!(texts, ["a", "b;\u{feff}", "c"]);
    }

    #[test]
    fn carriage_return_alone_stays_in_line_feed_files() {
        for chunk in 1..12 {
            let lines = split_in_chunks("a;b\r\nc\rd\nlast\r", chunk);
            assert_eq!(
                lines,
                vec![
                    ("a;b".to_string(), 1, false),
                    ("c\rd".to_string(), 2, false),
                    ("last".to_string(), 3, true),
                ],
                "chunk size {chunk}"
            );
        }
    }

    #[test]
    fn too_long_line_is_reported_once_and_skipped() {
        let long = "x".repeat(MAX_LINE + 10);
        let carriage_returns = "ab\r".repeat(MAX_LINE / 3 + 10);
        let input = format!("a\n{long}\nb\n{carriage_returns}");
        let mut buffer = LineBuffer::new();
        let mut lines = Vec::new();
        for chunk in input.as_bytes().chunks(64 * 1024) {
            buffer.text.push_str(std::str::from_utf8(chunk).unwrap());
            buffer.split(|line| {
                lines.push((
                    line.text.to_string(),
                    line.number,
                    line.too_long,
                    line.bare_carriage_returns,
                ))
            });
            assert!(buffer.text.len() <= MAX_LINE + 64 * 1024);
        }
        buffer.finish(|line| {
            lines.push((
                line.text.to_string(),
                line.number,
                line.too_long,
                line.bare_carriage_returns,
            ))
        });
        let x64 = "x".repeat(64);
        assert_eq!(
            lines,
            vec![
                ("a".to_string(), 1, false, false),
                (x64, 2, true, false),
                ("b".to_string(), 3, false, false),
                ("ab\r".repeat(22)[..64].to_string(), 4, true, true),
            ]
        );
    }
}
