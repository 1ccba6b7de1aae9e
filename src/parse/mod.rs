//! Format parsers: one line (or, for quoted line breaks, several) in, one record out.
//!
//! Parsers do no I/O. They borrow the line and return a `RecordView` over their own
//! buffers, so the mapping stage reads fields without allocating.

pub mod delimited;
pub mod fixed_width;

/// The fields of one record, as byte ranges into `text`.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    pub text: &'a str,
    pub ranges: &'a [(usize, usize)],
    /// The one-based line number where the record starts.
    pub line: u64,
}

impl<'a> RecordView<'a> {
    /// Returns field `index`, or `None` when the record has fewer fields.
    pub fn get(&self, index: usize) -> Option<&'a str> {
        self.ranges.get(index).map(|&(start, end)| &self.text[start..end])
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}
