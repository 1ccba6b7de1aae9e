//! The synchronous middle of the pipeline, in two halves that run as two tasks on the
//! record threads. `RecordStage` turns lines into records and records into events, and
//! `GroupStage` groups the events into shipments and encodes the batches.

use crate::error::FatalError;
use crate::group::Grouper;
use crate::lines::{cut_short_note, Line};
use crate::map::{ColumnNames, Mapper};
use crate::model::{Event, Item};
use crate::parse::delimited::{DelimitedParser, Parsed};
use crate::parse::fixed_width::FixedWidthParser;
use crate::parse::RecordView;
use crate::profile::{Format, Profile};
use crate::wire::BatchBuilder;

/// A line that makes unit tests panic inside the stage, to test panic handling.
#[cfg(test)]
pub const PANIC_FOR_TESTS: &str = "PANIC FOR TESTS";

/// A first field that makes unit tests panic while a record is mapped.
#[cfg(test)]
pub const PANIC_IN_MAPPING_FOR_TESTS: &str = "PANIC IN MAPPING";

/// A tracking number that makes unit tests panic while its event is grouped.
#[cfg(test)]
pub const PANIC_IN_GROUPING_FOR_TESTS: &str = "PANIC IN GROUPING";

/// U+FFFD in UTF-8, which the decoder writes for invalid bytes.
const REPLACEMENT_CHARACTER: &[u8] = "\u{FFFD}".as_bytes();

/// Counts for the import summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    /// Data records read, bad ones included.
    pub records: u64,
    /// Events yielded, after duplicates were removed.
    pub events: u64,
    pub shipments: u64,
    /// Bad records, each yielded as an `error_messages` item.
    pub errors: u64,
    pub warnings: u64,
    pub duplicates: u64,
}

enum Parser {
    Delimited(DelimitedParser),
    FixedWidth {
        parser: FixedWidthParser,
        record_length: Option<usize>,
    },
}

/// A record's outcome, passed from `RecordStage` to `GroupStage` in file order.
#[derive(Debug)]
pub enum Record {
    /// A mapped event and the line where its record starts.
    Event(Event, u64),
    /// A bad record: the message for its `error_messages` item.
    Bad(String),
}

/// Lines to records to events.
pub struct RecordStage<'p> {
    profile: &'p Profile,
    source_name: String,
    skip_lines: u64,
    parser: Parser,
    mapper: Option<Mapper>,
    /// The records handled so far, in file order, for `GroupStage`.
    pub records: Vec<Record>,
    /// Set once the decoder has replaced invalid bytes, so that lines are searched for
    /// U+FFFD only in files that need it.
    pub bytes_replaced: bool,
    /// The first line of the current record that contains U+FFFD, the mark of bytes that
    /// were invalid in the profile's encoding.
    replaced_line: Option<u64>,
    /// The number of the last line seen, for the message about a file without a header.
    lines_seen: u64,
    /// Set when the last line seen had no line break, which the file's last line lacks
    /// when the file was cut short.
    last_line_unterminated: bool,
    /// A fatal error found while processing lines; the pipeline stops at it.
    pub fatal: Option<FatalError>,
}

impl<'p> RecordStage<'p> {
    pub fn new(profile: &'p Profile, source_name: &str) -> Result<RecordStage<'p>, FatalError> {
        let (parser, skip_lines, mapper) = match &profile.format {
            Format::Delimited(format) => {
                let delimiter = format.delimiter.as_bytes()[0];
                let quote = format.quote.as_ref().map(|quote| quote.as_bytes()[0]);
                let parser = DelimitedParser::new(delimiter, quote, format.multiline_quotes);
                let mapper = if format.header {
                    None
                } else {
                    let names = format.columns.clone().unwrap_or_default();
                    let columns = ColumnNames {
                        names: &names,
                        origin: "format.columns".to_string(),
                    };
                    let mapper = Mapper::new(profile, &columns, source_name)
                        .map_err(|error| error.with("source", source_name))?;
                    Some(mapper)
                };
                (Parser::Delimited(parser), format.skip_lines, mapper)
            }
            Format::FixedWidth(format) => {
                let names: Vec<String> = format.columns.keys().cloned().collect();
                let ranges = format.columns.values().map(|[start, end]| (*start, *end)).collect();
                let columns = ColumnNames {
                    names: &names,
                    origin: "format.columns".to_string(),
                };
                let mapper =
                    Mapper::new(profile, &columns, source_name).map_err(|error| error.with("source", source_name))?;
                let parser = Parser::FixedWidth {
                    parser: FixedWidthParser::new(ranges),
                    record_length: format.record_length,
                };
                (parser, format.skip_lines, Some(mapper))
            }
        };
        Ok(RecordStage {
            profile,
            source_name: source_name.to_string(),
            skip_lines: skip_lines as u64,
            parser,
            mapper,
            records: Vec::new(),
            lines_seen: 0,
            last_line_unterminated: false,
            bytes_replaced: false,
            replaced_line: None,
            fatal: None,
        })
    }

    /// Processes one line of the file.
    pub fn on_line(&mut self, line: Line<'_>) {
        self.lines_seen = line.number;
        self.last_line_unterminated = line.unterminated;
        if self.fatal.is_some() || line.number <= self.skip_lines {
            return;
        }
        #[cfg(test)]
        if line.text.starts_with(PANIC_FOR_TESTS) {
            panic!("a test asked for a panic at line {}", line.number);
        }
        if line.too_long {
            self.reject_too_long(&line);
            return;
        }
        let blank = line.text.trim().is_empty();
        let in_quoted_field = matches!(&self.parser, Parser::Delimited(parser) if parser.has_pending());
        if blank && !in_quoted_field {
            return;
        }
        if self.mapper.is_none() {
            self.read_header(line.text, line.number);
            return;
        }
        if self.bytes_replaced && memchr::memmem::find(line.text.as_bytes(), REPLACEMENT_CHARACTER).is_some() {
            self.replaced_line = Some(self.replaced_line.unwrap_or(line.number));
        }

        match &mut self.parser {
            Parser::Delimited(parser) => match parser.push_line(line.text, line.number) {
                Parsed::Record(record) => {
                    let record_line = record.line;
                    let result = map_record(self.mapper.as_mut(), &record, line.unterminated, &self.source_name);
                    self.accept(result, record_line);
                }
                Parsed::NeedMore => return,
                Parsed::RecordTooLong { line: start } => {
                    let message = format!(
                        "{}:{start}: a quoted field opened on this line is still open after {} bytes; close the quote. The record was skipped",
                        self.source_name,
                        crate::parse::delimited::MAX_MULTILINE_RECORD
                    );
                    self.reject(message);
                }
                Parsed::UnterminatedQuote { line: start, column } => {
                    let message = unterminated_quote(&self.source_name, start, column, line.unterminated);
                    self.reject(message);
                }
            },
            Parser::FixedWidth { parser, record_length } => {
                let length = FixedWidthParser::char_len(line.text);
                if let Some(expected) = *record_length {
                    if length < expected {
                        let hint = cut_short_note(line.unterminated);
                        let message = format!(
                            "{}:{}: record is {length} characters long, expected {expected}; the record was skipped{hint}",
                            self.source_name, line.number
                        );
                        self.reject(message);
                        self.replaced_line = None;
                        return;
                    }
                }
                let record = parser.parse(line.text, line.number);
                let record_line = record.line;
                let result = map_record(self.mapper.as_mut(), &record, line.unterminated, &self.source_name);
                self.accept(result, record_line);
            }
        }
        self.replaced_line = None;
    }

    /// Ends the file: reports a quoted field that is still open, and `EMPTY_FILE` when no
    /// header row was found.
    pub fn finish(&mut self) {
        if let Parser::Delimited(parser) = &mut self.parser {
            if let Some(Parsed::UnterminatedQuote { line, .. }) = parser.finish() {
                let hint = cut_short_note(self.last_line_unterminated);
                let message = format!(
                    "{}:{line}: a quoted field opened on this line is never closed before the end of the file; close the quote. The record and the lines after it were skipped{hint}",
                    self.source_name
                );
                self.reject(message);
            }
        }
        if self.mapper.is_none() && self.fatal.is_none() {
            let reason = if self.lines_seen == 0 {
                "the file is empty".to_string()
            } else if self.lines_seen <= self.skip_lines {
                format!(
                    "all of its {} lines are skipped by format.skip_lines ({})",
                    self.lines_seen, self.skip_lines
                )
            } else {
                format!("its {} lines are all blank", self.lines_seen)
            };
            self.fatal = Some(
                FatalError::carrier(
                    "EMPTY_FILE",
                    format!(
                        "{} has no header row because {reason}; check that the carrier delivered the complete file and that format.skip_lines is right, then retry",
                        self.source_name
                    ),
                )
                .with("source", self.source_name.as_str())
                .with("lines", self.lines_seen),
            );
        }
    }

    fn reject_too_long(&mut self, line: &Line<'_>) {
        let hint = if line.bare_carriage_returns {
            " The line contains carriage returns (CR) without line feeds, which do not end lines because the file's first line break is LF or CRLF: use one kind of line break in the whole file."
        } else {
            ""
        };
        let message = format!(
            "{}:{}: the line is longer than {} bytes (it starts with {:?}), so it was skipped; check format.delimiter, the file's line breaks and encoding.{hint}",
            self.source_name,
            line.number,
            crate::lines::MAX_LINE,
            line.text
        );
        if self.mapper.is_none() {
            self.fatal = Some(
                FatalError::carrier(
                    "HEADER_INVALID",
                    format!("{message} It was expected to be the header row."),
                )
                .with("source", self.source_name.as_str())
                .with("line", line.number),
            );
        } else {
            self.reject(message);
        }
    }

    fn read_header(&mut self, text: &str, number: u64) {
        let Parser::Delimited(parser) = &mut self.parser else {
            return;
        };
        if text.contains('\r') {
            // Line splitting removed the CR of every CRLF. A file whose first line break is a
            // CR alone is split at every CR. So this CR has no line feed after it, and the
            // lines before the header end with LF or CRLF.
            self.fatal = Some(self.header_invalid(
                number,
                "the header row contains a carriage return (CR) without a line feed, but the lines before it end with LF or CRLF, so the CR does not end the header: use one kind of line break in the whole file",
            ));
            return;
        }
        // A byte order mark left inside the text (a file saved with two of them) is not
        // part of the first column name.
        let name_padding = |c: char| c.is_whitespace() || c == '\u{feff}';
        let mut header: Vec<String> = match parser.push_line(text, number) {
            Parsed::Record(record) => (0..record.len())
                .map(|index| record.get(index).unwrap_or("").trim_matches(name_padding).to_string())
                .collect(),
            _ => {
                self.fatal = Some(self.header_invalid(
                    number,
                    "the header row opens a quote that is not closed on the same line; fix the header row, or set format.quote to the quote character the file uses",
                ));
                return;
            }
        };
        while header.last().is_some_and(String::is_empty) {
            header.pop();
        }
        let columns = ColumnNames {
            names: &header,
            origin: format!("the header of {}", self.source_name),
        };
        match Mapper::new(self.profile, &columns, &self.source_name) {
            Ok(mapper) => self.mapper = Some(mapper),
            Err(error) => self.fatal = Some(error.with("source", self.source_name.as_str())),
        }
    }

    /// Returns the fatal error for a header row at `line` that cannot be read.
    fn header_invalid(&self, line: u64, problem: &str) -> FatalError {
        FatalError::carrier("HEADER_INVALID", format!("{}:{line}: {problem}", self.source_name))
            .with("source", self.source_name.as_str())
            .with("line", line)
    }

    /// Passes a mapped record on; `line` is where the record starts.
    fn accept(&mut self, result: Result<Event, String>, line: u64) {
        match result {
            Ok(mut event) => {
                // Named by the line where the record starts, like every message about it.
                if self.replaced_line.is_some() {
                    // Invalid UTF-8 is most often a Latin-1 file read with the default encoding.
                    let is_utf8 =
                        encoding_rs::Encoding::for_label(self.profile.encoding.as_bytes()) == Some(encoding_rs::UTF_8);
                    let latin1_hint = if is_utf8 {
                        " (windows-1252 for Latin-1 files)"
                    } else {
                        ""
                    };
                    event.add_warning(format!(
                        "{}:{line}: the record contains bytes that are not valid {}, which were replaced by U+FFFD; set encoding to the file's real encoding{latin1_hint}",
                        self.source_name, self.profile.encoding
                    ));
                }
                // The event waits in the window in an allocation of its exact size, made
                // on this thread like the rest of the event.
                event.compact();
                self.records.push(Record::Event(event, line));
            }
            Err(message) => self.reject(message),
        }
    }

    fn reject(&mut self, message: String) {
        self.records.push(Record::Bad(message));
    }
}

/// Events to shipments to batches.
pub struct GroupStage {
    grouper: Grouper,
    items: Vec<Item>,
    pub batches: BatchBuilder,
    batch_items: usize,
    /// Set by `finish` and `fail`: no more records, the window is being emptied.
    finishing: bool,
    pub counts: Counts,
}

impl GroupStage {
    pub fn new(profile: &Profile, source_name: &str, batch_items: usize) -> GroupStage {
        GroupStage {
            grouper: Grouper::new(
                profile.grouping.max_open_shipments,
                profile.grouping.deduplicate,
                profile.update_method,
                profile.carrier_name.clone(),
                source_name,
            ),
            items: Vec::new(),
            batches: BatchBuilder::new(batch_items),
            batch_items: batch_items.max(1),
            finishing: false,
            counts: Counts::default(),
        }
    }

    /// Groups an event, or yields a bad record's item at once.
    pub fn push(&mut self, record: Record) {
        #[cfg(test)]
        if let Record::Event(event, line) = &record {
            if event.tracking_number() == PANIC_IN_GROUPING_FOR_TESTS {
                panic!("a test asked for a panic while grouping line {line}");
            }
        }
        self.counts.records += 1;
        match record {
            Record::Event(event, line) => self.grouper.push(event, line, &mut self.items),
            Record::Bad(message) => self.items.push(Item::Error(vec![message])),
        }
        self.drain_items();
    }

    /// Ends the input: the waiting shipments are yielded next.
    pub fn finish(&mut self) {
        self.finishing = true;
    }

    /// Stops after a fatal error; the waiting shipments are yielded next, sent as `append`
    /// in replace mode.
    pub fn fail(&mut self) {
        self.grouper.mark_failed();
        self.finishing = true;
    }

    /// After `finish` or `fail`, encodes the next batch of waiting shipments; returns
    /// whether more remain. The window is emptied a batch at a time, so that its shipments
    /// and their encoded batches are never all in memory at once.
    pub fn flush_some(&mut self) -> bool {
        if !self.finishing {
            return false;
        }
        let more = self.grouper.finish_some(self.batch_items, &mut self.items);
        self.drain_items();
        if !more {
            self.batches.close();
            self.counts.duplicates = self.grouper.duplicates;
        }
        more
    }

    fn drain_items(&mut self) {
        for item in self.items.drain(..) {
            match &item {
                Item::Shipment(shipment) => {
                    self.counts.shipments += 1;
                    self.counts.events += shipment.events.len() as u64;
                    self.counts.warnings += shipment.warning_count;
                }
                Item::Error(_) => self.counts.errors += 1,
            }
            self.batches.push(&item);
        }
    }
}

/// Maps one record. A panic while mapping is a bug in connect-tracking. It makes the record
/// a bad record instead of ending the import, which is safe because mapping changes no
/// state of the stage that a panic could leave half done.
fn map_record(
    mapper: Option<&mut Mapper>,
    record: &RecordView<'_>,
    unterminated: bool,
    source_name: &str,
) -> Result<Event, String> {
    let mapper = mapper.expect("records are mapped only after the header");
    let mapped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        #[cfg(test)]
        if record.get(0) == Some(PANIC_IN_MAPPING_FOR_TESTS) {
            panic!("a test asked for a panic while mapping");
        }
        mapper.map(record, unterminated)
    }));
    match mapped {
        Ok(result) => result.map_err(|error| error.message),
        Err(panic) => Err(format!(
            "{source_name}:{}: connect-tracking failed internally while mapping this record ({}), so the record was skipped; please report this with the line",
            record.line,
            crate::pipeline::panic_reason(panic.as_ref())
        )),
    }
}

fn unterminated_quote(source: &str, line: u64, column: usize, last_line: bool) -> String {
    let hint = cut_short_note(last_line);
    format!(
        "{source}:{line}: field {column} (counting from 1) opens a quote that is not closed on this line; close the quote, or set format.multiline_quotes if fields may contain line breaks. The record was skipped{hint}"
    )
}
