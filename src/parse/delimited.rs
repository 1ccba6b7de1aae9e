//! Delimited text (CSV and its relatives with `;`, `|` or tabs).
//!
//! Hand-written because carrier files need what general CSV readers do not report: a quote
//! left open at the end of a line is a bad record on that line, not a field that swallows
//! the rest of the file. A quoted field may span lines only when the profile allows it.

use super::RecordView;

/// The result of feeding one line.
pub enum Parsed<'a> {
    Record(RecordView<'a>),
    /// A quoted field continues on the next line.
    NeedMore,
    /// A quote is still open at the end of the line (or of the file).
    UnterminatedQuote { line: u64, column: usize },
    /// A record whose quoted field spans lines grew past `MAX_MULTILINE_RECORD`.
    RecordTooLong { line: u64 },
}

pub struct DelimitedParser {
    delimiter: u8,
    quote: Option<u8>,
    multiline: bool,
    /// Lines of a record whose quoted field spans lines, joined with `\n`.
    pending: String,
    pending_line: u64,
    scratch: String,
    ranges: Vec<(usize, usize)>,
}

/// The maximum size of a record whose quoted fields span lines.
pub const MAX_MULTILINE_RECORD: usize = 1 << 20;

impl DelimitedParser {
    pub fn new(delimiter: u8, quote: Option<u8>, multiline: bool) -> DelimitedParser {
        DelimitedParser {
            delimiter,
            quote,
            multiline,
            pending: String::new(),
            pending_line: 0,
            scratch: String::new(),
            ranges: Vec::with_capacity(64),
        }
    }

    /// Parses one line; with `multiline` a record may need the following lines too.
    pub fn push_line<'a>(&'a mut self, line: &'a str, number: u64) -> Parsed<'a> {
        if self.pending_line != 0 {
            let start = self.pending_line;
            self.pending.push('\n');
            self.pending.push_str(line);
            if self.pending.len() > MAX_MULTILINE_RECORD {
                self.pending.clear();
                self.pending_line = 0;
                return Parsed::RecordTooLong { line: start };
            }
            // The record ends inside an open quoted field, so only a quote in this line that
            // is not doubled can close it. Without one, splitting the whole record again
            // would only find it still open, and doing so for every line is quadratic.
            if !self.quote.is_some_and(|quote| closes_open_field(line.as_bytes(), quote)) {
                return Parsed::NeedMore;
            }
            let split_result = split(
                self.delimiter,
                self.quote,
                &self.pending,
                &mut self.scratch,
                &mut self.ranges,
            );
            if split_result.is_err() {
                return Parsed::NeedMore;
            }
            self.pending.clear();
            self.pending_line = 0;
            return Parsed::Record(RecordView {
                text: &self.scratch,
                ranges: &self.ranges,
                line: start,
            });
        }

        let has_quote = self
            .quote
            .is_some_and(|quote| memchr::memchr(quote, line.as_bytes()).is_some());
        if !has_quote {
            split_plain(self.delimiter, line, &mut self.ranges);
            return Parsed::Record(RecordView {
                text: line,
                ranges: &self.ranges,
                line: number,
            });
        }

        match split(self.delimiter, self.quote, line, &mut self.scratch, &mut self.ranges) {
            Ok(()) => Parsed::Record(RecordView {
                text: &self.scratch,
                ranges: &self.ranges,
                line: number,
            }),
            Err(column) if !self.multiline => Parsed::UnterminatedQuote { line: number, column },
            Err(_) => {
                self.pending.clear();
                self.pending.push_str(line);
                self.pending_line = number;
                Parsed::NeedMore
            }
        }
    }

    /// Returns whether a quoted field is open and waits for the next line.
    pub fn has_pending(&self) -> bool {
        self.pending_line != 0
    }

    /// Reports a record still waiting for its closing quote at the end of the file.
    pub fn finish(&mut self) -> Option<Parsed<'_>> {
        if self.pending_line == 0 {
            return None;
        }
        let line = self.pending_line;
        self.pending.clear();
        self.pending_line = 0;
        Some(Parsed::UnterminatedQuote { line, column: 0 })
    }
}

/// Splits a line that contains no quote character. Carrier fields are short, so a plain
/// byte loop beats a `memchr` call per field here.
fn split_plain(delimiter: u8, line: &str, ranges: &mut Vec<(usize, usize)>) {
    ranges.clear();
    let mut start = 0;
    for (position, byte) in line.bytes().enumerate() {
        if byte == delimiter {
            ranges.push((start, position));
            start = position + 1;
        }
    }
    ranges.push((start, line.len()));
}

/// Returns whether `line`, read inside an open quoted field, has a quote that closes it:
/// one that is not part of a doubled (escaped) quote.
fn closes_open_field(line: &[u8], quote: u8) -> bool {
    let mut position = 0;
    while let Some(offset) = memchr::memchr(quote, &line[position..]) {
        let found = position + offset;
        if line.get(found + 1) != Some(&quote) {
            return true;
        }
        position = found + 2;
    }
    false
}

/// Splits a line with quotes into `scratch`; returns the field number of an open quote.
fn split(
    delimiter: u8,
    quote: Option<u8>,
    line: &str,
    scratch: &mut String,
    ranges: &mut Vec<(usize, usize)>,
) -> Result<(), usize> {
    scratch.clear();
    ranges.clear();
    let bytes = line.as_bytes();
    let quote = quote.unwrap_or(0);
    let mut i = 0;
    loop {
        let field_start = scratch.len();
        if i < bytes.len() && bytes[i] == quote {
            i += 1;
            loop {
                let Some(offset) = memchr::memchr(quote, &bytes[i..]) else {
                    return Err(ranges.len() + 1);
                };
                let close = i + offset;
                scratch.push_str(&line[i..close]);
                if bytes.get(close + 1) == Some(&quote) {
                    scratch.push(quote as char);
                    i = close + 2;
                } else {
                    i = close + 1;
                    break;
                }
            }
        }
        // Unquoted text, or text after a closing quote, runs to the next delimiter.
        let end = memchr::memchr(delimiter, &bytes[i..]).map_or(bytes.len(), |offset| i + offset);
        scratch.push_str(&line[i..end]);
        ranges.push((field_start, scratch.len()));
        if end == bytes.len() {
            return Ok(());
        }
        i = end + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(parser: &mut DelimitedParser, line: &str) -> Option<Vec<String>> {
        match parser.push_line(line, 7) {
            Parsed::Record(record) => Some(
                (0..record.len())
                    .map(|i| record.get(i).unwrap().to_string())
                    .collect(),
            ),
            _ => None,
        }
    }

    #[test]
    fn plain_fields_with_trailing_delimiter() {
        let mut parser = DelimitedParser::new(b';', Some(b'"'), false);
        assert_eq!(
            fields(&mut parser, "01865046755363;13;;x;").unwrap(),
            vec!["01865046755363", "13", "", "x", ""]
        );
    }

    #[test]
    fn quoted_fields_with_escaped_quotes_and_delimiters() {
        let mut parser = DelimitedParser::new(b',', Some(b'"'), false);
        assert_eq!(
            fields(&mut parser, r##"a,"b,c","say ""hi""","""##).unwrap(),
            vec!["a", "b,c", r#"say "hi""#, ""]
        );
    }

    #[test]
    fn unterminated_quote_is_reported_on_its_line() {
        let mut parser = DelimitedParser::new(b';', Some(b'"'), false);
        match parser.push_line("1;\"open;2", 9) {
            Parsed::UnterminatedQuote { line, column } => {
                assert_eq!(line, 9);
                assert_eq!(column, 2);
            }
            _ => panic!("expected an unterminated quote"),
        }
        assert_eq!(fields(&mut parser, "next;line").unwrap(), vec!["next", "line"]);
    }

    #[test]
    fn multiline_quoted_field_joins_lines() {
        let mut parser = DelimitedParser::new(b';', Some(b'"'), true);
        assert!(matches!(parser.push_line("1;\"two", 3), Parsed::NeedMore));
        match parser.push_line("lines\";3", 4) {
            Parsed::Record(record) => {
                assert_eq!(record.line, 3);
                assert_eq!(record.get(1), Some("two\nlines"));
                assert_eq!(record.get(2), Some("3"));
            }
            _ => panic!("expected a record"),
        }
    }

    #[test]
    fn multiline_field_stays_open_over_doubled_quotes() {
        let mut parser = DelimitedParser::new(b';', Some(b'"'), true);
        assert!(matches!(parser.push_line("1;\"a", 3), Parsed::NeedMore));
        assert!(matches!(parser.push_line("no quote here", 4), Parsed::NeedMore));
        assert!(matches!(parser.push_line("say \"\"hi\"\"", 5), Parsed::NeedMore));
        match parser.push_line("end\";\"x\"\"y\"", 6) {
            Parsed::Record(record) => {
                assert_eq!(record.line, 3);
                assert_eq!(record.get(1), Some("a\nno quote here\nsay \"hi\"\nend"));
                assert_eq!(record.get(2), Some("x\"y"));
            }
            _ => panic!("expected a record"),
        }
        assert!(closes_open_field(b"a\"", b'"'));
        assert!(closes_open_field(b"\"\"\"", b'"'));
        assert!(!closes_open_field(b"\"\"", b'"'));
        assert!(!closes_open_field(b"", b'"'));
    }

    #[test]
    fn multiline_open_at_end_of_file() {
        let mut parser = DelimitedParser::new(b';', Some(b'"'), true);
        assert!(matches!(parser.push_line("1;\"never closed", 5), Parsed::NeedMore));
        assert!(matches!(
            parser.finish(),
            Some(Parsed::UnterminatedQuote { line: 5, .. })
        ));
    }

    #[test]
    fn quote_disabled_keeps_quotes_literal() {
        let mut parser = DelimitedParser::new(b'|', None, false);
        assert_eq!(fields(&mut parser, "5\" box|x").unwrap(), vec!["5\" box", "x"]);
    }
}
