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
    UnterminatedQuote {
        line: u64,
        column: usize,
    },
    /// A record whose quoted field spans lines grew past `MAX_MULTILINE_RECORD`.
    RecordTooLong {
        line: u64,
    },
}

pub struct DelimitedParser {
    delimiter: u8,
    quote: Option<u8>,
    multiline: bool,
    /// The first line of a record whose quoted field spans lines; 0 when none is open.
    pending_line: u64,
    /// The size of that record so far, in bytes of input.
    pending_bytes: usize,
    /// The start of the open quoted field in `scratch`, which contains the record so far.
    open_field: usize,
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
            pending_line: 0,
            pending_bytes: 0,
            open_field: 0,
            scratch: String::new(),
            ranges: Vec::with_capacity(64),
        }
    }

    /// Parses one line; with `multiline` a record may need the following lines too.
    pub fn push_line<'a>(&'a mut self, line: &'a str, number: u64) -> Parsed<'a> {
        if self.pending_line != 0 {
            let start = self.pending_line;
            self.pending_bytes += 1 + line.len();
            if self.pending_bytes > MAX_MULTILINE_RECORD {
                self.pending_line = 0;
                return Parsed::RecordTooLong { line: start };
            }
            // The line continues the open quoted field after the line break, so only the new
            // line is split, which keeps a long record linear in its size.
            self.scratch.push('\n');
            let split_result = split_from(
                self.delimiter,
                self.quote,
                line,
                Some(self.open_field),
                &mut self.scratch,
                &mut self.ranges,
            );
            if let Err(open_field) = split_result {
                self.open_field = open_field;
                return Parsed::NeedMore;
            }
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

        self.scratch.clear();
        self.ranges.clear();
        match split_from(
            self.delimiter,
            self.quote,
            line,
            None,
            &mut self.scratch,
            &mut self.ranges,
        ) {
            Ok(()) => Parsed::Record(RecordView {
                text: &self.scratch,
                ranges: &self.ranges,
                line: number,
            }),
            Err(_) if !self.multiline => Parsed::UnterminatedQuote {
                line: number,
                column: self.ranges.len() + 1,
            },
            Err(open_field) => {
                self.open_field = open_field;
                self.pending_line = number;
                self.pending_bytes = line.len();
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

/// Splits text with quotes, appending field values to `scratch` and their ranges to
/// `ranges`. `open_field` continues a quoted field that starts at that offset of `scratch`.
/// When the text ends inside a quoted field, returns where that field starts in `scratch`.
/// The field's text so far stays in `scratch`, so the next line can continue it.
fn split_from(
    delimiter: u8,
    quote: Option<u8>,
    text: &str,
    mut open_field: Option<usize>,
    scratch: &mut String,
    ranges: &mut Vec<(usize, usize)>,
) -> Result<(), usize> {
    let bytes = text.as_bytes();
    let quote = quote.unwrap_or(0);
    let mut i = 0;
    loop {
        let (field_start, quoted) = match open_field.take() {
            Some(start) => (start, true),
            None if i < bytes.len() && bytes[i] == quote => {
                i += 1;
                (scratch.len(), true)
            }
            None => (scratch.len(), false),
        };
        if quoted {
            loop {
                let Some(offset) = memchr::memchr(quote, &bytes[i..]) else {
                    scratch.push_str(&text[i..]);
                    return Err(field_start);
                };
                let close = i + offset;
                scratch.push_str(&text[i..close]);
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
        scratch.push_str(&text[i..end]);
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
            Parsed::Record(record) => Some((0..record.len()).map(|i| record.get(i).unwrap().to_string()).collect()),
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
    }

    #[test]
    fn multiline_record_limit_counts_joined_bytes() {
        // The record is `"` + filler, a line break, then filler and the closing `"`. Its
        // size with the line break is `MAX_MULTILINE_RECORD` plus `extra`.
        let outcome = |extra: usize| {
            let mut parser = DelimitedParser::new(b';', Some(b'"'), true);
            let first = format!("\"{}", "a".repeat(1000));
            let second_length = MAX_MULTILINE_RECORD + extra - first.len() - 1;
            let second = format!("{}\"", "b".repeat(second_length - 1));
            assert!(matches!(parser.push_line(&first, 1), Parsed::NeedMore));
            describe(parser.push_line(&second, 2))
                .chars()
                .take(20)
                .collect::<String>()
        };
        assert_eq!(outcome(0), "record from line 1: ");
        assert_eq!(outcome(1), "too long from line 1");
    }

    /// Describes what the parser returned for one line, for comparisons.
    fn describe(parsed: Parsed<'_>) -> String {
        match parsed {
            Parsed::Record(record) => {
                let values: Vec<&str> = (0..record.len()).map(|i| record.get(i).unwrap()).collect();
                format!("record from line {}: {values:?}", record.line)
            }
            Parsed::NeedMore => "need more".to_string(),
            Parsed::UnterminatedQuote { line, column } => format!("open quote at {line}:{column}"),
            Parsed::RecordTooLong { line } => format!("too long from line {line}"),
        }
    }

    /// Splits a multiline record by joining its lines and splitting the whole text again
    /// for every line, which is simple and slow.
    fn split_joined(lines: &[&str]) -> Vec<String> {
        let mut results = Vec::new();
        let mut joined: Option<(String, u64)> = None;
        for (index, line) in lines.iter().enumerate() {
            let number = index as u64 + 1;
            let (text, first) = match joined.take() {
                Some((text, first)) => (format!("{text}\n{line}"), first),
                None => (line.to_string(), number),
            };
            let mut scratch = String::new();
            let mut ranges = Vec::new();
            match split_from(b';', Some(b'"'), &text, None, &mut scratch, &mut ranges) {
                Ok(()) => {
                    let values: Vec<&str> = ranges.iter().map(|&(start, end)| &scratch[start..end]).collect();
                    results.push(format!("record from line {first}: {values:?}"));
                }
                Err(_) => {
                    results.push("need more".to_string());
                    joined = Some((text, first));
                }
            }
        }
        results
    }

    #[test]
    fn multiline_split_matches_joined_split() {
        // A xorshift generator makes the cases the same on every run.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        let pieces = ["\"", "\"\"", ";", "a", "b;", "\";\""];
        for _ in 0..20_000 {
            let lines: Vec<String> = (0..1 + next(6))
                .map(|_| {
                    (0..next(6))
                        .map(|_| pieces[next(pieces.len() as u64) as usize])
                        .collect()
                })
                .collect();
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            let mut parser = DelimitedParser::new(b';', Some(b'"'), true);
            let results: Vec<String> = lines
                .iter()
                .enumerate()
                .map(|(index, line)| describe(parser.push_line(line, index as u64 + 1)))
                .collect();
            assert_eq!(results, split_joined(&lines), "lines {lines:?}");
        }
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
