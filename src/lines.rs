//! Line splitting over decoded text that arrives in chunks of any size.

/// One line without its terminator (`\n` or `\r\n`).
pub struct Line<'a> {
    pub text: &'a str,
    /// One-based line number in the decoded file.
    pub number: u64,
    /// True for a last line that ends the file without a line break.
    pub unterminated: bool,
}

/// Buffers the partial last line between chunks.
#[derive(Default)]
pub struct LineBuffer {
    /// Decoded text not yet split; callers append to it.
    pub text: String,
    next_number: u64,
}

impl LineBuffer {
    pub fn new() -> LineBuffer {
        LineBuffer {
            text: String::with_capacity(128 * 1024),
            next_number: 1,
        }
    }

    /// Calls `on_line` for every complete line in the buffer and keeps the rest.
    pub fn split(&mut self, mut on_line: impl FnMut(Line<'_>)) {
        let mut start = 0;
        let bytes = self.text.as_bytes();
        for end in memchr::memchr_iter(b'\n', bytes) {
            let mut text = &self.text[start..end];
            if let Some(stripped) = text.strip_suffix('\r') {
                text = stripped;
            }
            on_line(Line {
                text,
                number: self.next_number,
                unterminated: false,
            });
            self.next_number += 1;
            start = end + 1;
        }
        self.text.drain(..start);
    }

    /// Calls `on_line` for the last line if the file does not end with a line break.
    pub fn finish(&mut self, mut on_line: impl FnMut(Line<'_>)) {
        if !self.text.is_empty() {
            let text = self.text.strip_suffix('\r').unwrap_or(&self.text);
            on_line(Line {
                text,
                number: self.next_number,
                unterminated: true,
            });
            self.next_number += 1;
        }
        self.text.clear();
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
}
