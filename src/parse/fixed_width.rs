//! Fixed-width records: named character ranges on each line.

use super::RecordView;

pub struct FixedWidthParser {
    /// Column ranges in characters, in the order the mapping refers to them.
    columns: Vec<(usize, usize)>,
    ranges: Vec<(usize, usize)>,
    char_offsets: Vec<usize>,
}

impl FixedWidthParser {
    pub fn new(columns: Vec<(usize, usize)>) -> FixedWidthParser {
        FixedWidthParser {
            ranges: Vec::with_capacity(columns.len()),
            columns,
            char_offsets: Vec::new(),
        }
    }

    /// Returns the line's length in characters.
    pub fn char_len(line: &str) -> usize {
        if line.is_ascii() {
            line.len()
        } else {
            line.chars().count()
        }
    }

    /// Cuts the columns out of a line; ranges past the end of a short line are empty.
    pub fn parse<'a>(&'a mut self, line: &'a str, number: u64) -> RecordView<'a> {
        self.ranges.clear();
        if line.is_ascii() {
            for &(start, end) in &self.columns {
                let start = start.min(line.len());
                let end = end.min(line.len());
                self.ranges.push((start, end));
            }
        } else {
            self.char_offsets.clear();
            self.char_offsets.extend(line.char_indices().map(|(offset, _)| offset));
            self.char_offsets.push(line.len());
            let last = self.char_offsets.len() - 1;
            for &(start, end) in &self.columns {
                let start = self.char_offsets[start.min(last)];
                let end = self.char_offsets[end.min(last)];
                self.ranges.push((start, end));
            }
        }
        RecordView {
            text: line,
            ranges: &self.ranges,
            line: number,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_count_characters_not_bytes() {
        let mut parser = FixedWidthParser::new(vec![(0, 3), (3, 6), (6, 20)]);
        let record = parser.parse("MüllerAB", 1);
        assert_eq!(record.get(0), Some("Mül"));
        assert_eq!(record.get(1), Some("ler"));
        assert_eq!(record.get(2), Some("AB"));
    }

    #[test]
    fn short_line_gives_empty_fields() {
        let mut parser = FixedWidthParser::new(vec![(0, 2), (10, 12)]);
        let record = parser.parse("abc", 1);
        assert_eq!(record.get(0), Some("ab"));
        assert_eq!(record.get(1), Some(""));
    }
}
