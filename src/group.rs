//! Grouping: the events of one tracking number become one shipment item.
//!
//! Shipments wait in a first-in, first-out window of `max_open_shipments`. When a new
//! tracking number arrives and the window is full, the oldest shipment is yielded. A
//! tracking number that appears again after its shipment left the window starts a new
//! shipment item. With `update_method: replace` that later item is sent as `append`,
//! because a replace would erase the events yielded before. Memory is bounded by the window, plus,
//! in replace mode only, an 8-byte hash per yielded tracking number to recognise those (an
//! estimated 10 to 21 bytes with the hash set's overhead).
//!
//! The shipment's status, carrier status code and description come from its latest event
//! whose status is not UN, so an informational scan after a delivery leaves it delivered.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;
use std::sync::Arc;

use foldhash::fast::RandomState;

use crate::model::{Event, Item, Shipment, SHIPMENT_TEXT};
use crate::profile::{StandardizedStatus, UpdateMethod};

/// The maximum number of events in one shipment item. A tracking number with more events
/// in the window is yielded in parts, so that one tracking number cannot fill the memory
/// (a profile that maps the tracking number to a constant column would do that).
pub const MAX_SHIPMENT_EVENTS: usize = 1000;

/// Up to this many events, a shipment's event list grows by exactly one.
const SMALL_SHIPMENT_EVENTS: usize = 8;

/// The maximum number of warnings on one shipment item; the rest are only counted.
const MAX_WARNINGS: usize = 50;

pub struct Grouper {
    max_open: usize,
    deduplicate: bool,
    update_method: UpdateMethod,
    carrier_name: Option<Arc<str>>,
    open: VecDeque<Open>,
    index: HashMap<Box<str>, u64, RandomState>,
    /// The sequence number of `open[0]`.
    first_sequence: u64,
    /// Hashes of the tracking numbers already yielded, kept in replace mode only.
    yielded: HashSet<u64>,
    hasher: RandomState,
    pub duplicates: u64,
    /// Set when the import failed, so that partial histories never replace complete ones.
    failed: bool,
    /// The source's name, which starts every warning the grouper writes.
    source_name: Box<str>,
}

struct Open {
    events: Vec<Event>,
    /// The line of the first record in `events`, which the shipment's warnings name.
    first_line: u64,
    reappeared: bool,
    /// How many parts of this shipment were yielded already, because it reached
    /// `MAX_SHIPMENT_EVENTS`.
    parts: u32,
}

impl Grouper {
    pub fn new(
        max_open: usize,
        deduplicate: bool,
        update_method: UpdateMethod,
        carrier_name: Option<String>,
        source_name: &str,
    ) -> Grouper {
        Grouper {
            max_open: max_open.max(1),
            deduplicate,
            update_method,
            carrier_name: carrier_name.map(Arc::from),
            open: VecDeque::new(),
            index: HashMap::default(),
            first_sequence: 0,
            yielded: HashSet::new(),
            hasher: RandomState::default(),
            duplicates: 0,
            failed: false,
            source_name: Box::from(source_name),
        }
    }

    /// Adds an event read from the record at `line`; a shipment pushed out of the window
    /// goes to `out`.
    pub fn push(&mut self, event: Event, line: u64, out: &mut Vec<Item>) {
        if let Some(&sequence) = self.index.get(event.tracking_number()) {
            let position = (sequence - self.first_sequence) as usize;
            if self.open[position].events.len() >= MAX_SHIPMENT_EVENTS {
                self.yield_part(position, out);
                self.open[position].first_line = line;
            }
            let events = &mut self.open[position].events;
            // Most shipments have a handful of events, so grow one at a time at first
            // instead of doubling, which would leave a quarter of the window unused.
            if events.len() < SMALL_SHIPMENT_EVENTS {
                events.reserve_exact(1);
            }
            events.push(event);
            return;
        }
        if self.open.len() >= self.max_open {
            self.flush_oldest(out);
        }
        let reappeared = self.update_method == UpdateMethod::Replace
            && self.yielded.contains(&self.hasher.hash_one(event.tracking_number()));
        let sequence = self.first_sequence + self.open.len() as u64;
        self.index.insert(Box::from(event.tracking_number()), sequence);
        self.open.push_back(Open {
            events: vec![event],
            first_line: line,
            reappeared,
            parts: 0,
        });
    }

    /// Yields the events a shipment has so far as one item, when it reached
    /// `MAX_SHIPMENT_EVENTS`; its later events go in further items.
    fn yield_part(&mut self, position: usize, out: &mut Vec<Item>) {
        let open = &mut self.open[position];
        let part = Open {
            events: std::mem::take(&mut open.events),
            first_line: open.first_line,
            reappeared: open.reappeared,
            parts: open.parts,
        };
        open.parts += 1;
        out.push(Item::Shipment(self.build(part, true)));
    }

    /// Marks the import as failed: shipments yielded from now on go as `append` in
    /// replace mode, because their histories may be incomplete.
    pub fn mark_failed(&mut self) {
        self.failed = true;
    }

    /// Yields every open shipment, oldest first.
    #[cfg(test)]
    pub fn finish(&mut self, out: &mut Vec<Item>) {
        while self.finish_some(usize::MAX, out) {}
    }

    /// Yields up to `max` open shipments, oldest first; returns whether any remain.
    pub fn finish_some(&mut self, max: usize, out: &mut Vec<Item>) -> bool {
        for _ in 0..max {
            if self.open.is_empty() {
                break;
            }
            self.flush_oldest(out);
        }
        !self.open.is_empty()
    }

    fn flush_oldest(&mut self, out: &mut Vec<Item>) {
        let Some(open) = self.open.pop_front() else {
            return;
        };
        self.first_sequence += 1;
        let tracking_number = open.events[0].tracking_number();
        self.index.remove(tracking_number);
        if self.update_method == UpdateMethod::Replace {
            self.yielded.insert(self.hasher.hash_one(tracking_number));
        }
        out.push(Item::Shipment(self.build(open, false)));
    }

    /// Builds a shipment item; `more_follow` is set when further parts of the same
    /// shipment will be yielded.
    fn build(&mut self, open: Open, more_follow: bool) -> Shipment {
        let mut events = open.events;
        if !events.is_sorted_by_key(|event| event.timestamp) {
            events.sort_by_key(|event| event.timestamp);
        }
        if self.deduplicate {
            self.duplicates += remove_duplicates(&mut events) as u64;
        }

        let mut text_sources = [None; SHIPMENT_TEXT.len()];
        let mut weight = None;
        let mut package_count = None;
        let mut warnings: Vec<String> = Vec::new();
        for (index, event) in events.iter_mut().enumerate() {
            for (slot, field) in text_sources.iter_mut().zip(SHIPMENT_TEXT) {
                if event.get(field).is_some() {
                    *slot = Some(index);
                }
            }
            weight = event.weight().or(weight);
            package_count = event.package_count().or(package_count);
            for warning in event.take_warnings() {
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
            }
        }

        let tracking_number = events[0].tracking_number();
        // Formatted only when a warning is written, so most shipments allocate nothing here.
        let position = SourceLine(&self.source_name, open.first_line);
        let replace = self.update_method == UpdateMethod::Replace;
        let mut update_method = self.update_method;
        // Warnings about the shipment as a whole, one per reason, which explain a change of
        // update_method. They go first, so that the limit on warnings never drops them.
        let mut shipment_warnings = Vec::new();
        if open.parts > 0 || more_follow {
            let mut warning = format!(
                "{position}: tracking number {tracking_number} has more than {MAX_SHIPMENT_EVENTS} events, so they are yielded in parts; this is part {}",
                open.parts + 1
            );
            if open.parts > 0 && replace {
                update_method = UpdateMethod::Append;
                warning.push_str(
                    " and is sent with update_method append, because replace would erase the parts before it",
                );
            }
            shipment_warnings.push(warning);
        }
        if open.reappeared {
            update_method = UpdateMethod::Append;
            shipment_warnings.push(format!(
                "{position}: tracking number {tracking_number} appeared again after its earlier events were yielded, because more other shipments than grouping.max_open_shipments ({}) came between, so these events are sent with update_method append; raise grouping.max_open_shipments or sort the file by tracking number",
                self.max_open
            ));
        }
        if self.failed && replace {
            update_method = UpdateMethod::Append;
            shipment_warnings.push(format!(
                "{position}: the import failed before the end of the file, so the events of tracking number {tracking_number} may be incomplete and are sent with update_method append"
            ));
        }
        warnings.splice(0..0, shipment_warnings);
        let warning_count = warnings.len() as u64;
        if warnings.len() > MAX_WARNINGS {
            let dropped = warnings.len() - MAX_WARNINGS;
            warnings.truncate(MAX_WARNINGS);
            warnings.push(format!(
                "{position}: {dropped} more warnings for this shipment were left out"
            ));
        }

        // Events with status UN, such as informational scans, leave the shipment status.
        let latest = events
            .iter()
            .rposition(|event| event.status != StandardizedStatus::UN)
            .unwrap_or(events.len() - 1);
        let delivered = events.iter().rposition(|event| event.status == StandardizedStatus::DE);
        Shipment {
            carrier_name: self.carrier_name.clone(),
            update_method,
            events,
            latest,
            delivered,
            text_sources,
            weight,
            package_count,
            warnings,
            warning_count,
        }
    }
}

/// A position such as `scans.csv:12`, for the start of a warning.
struct SourceLine<'a>(&'a str, u64);

impl std::fmt::Display for SourceLine<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}:{}", self.0, self.1)
    }
}

/// Removes events equal in time, code and place to an earlier one; returns how many.
/// Events must be sorted by time, so duplicates sit in the same run of equal times.
fn remove_duplicates(events: &mut Vec<Event>) -> usize {
    let before = events.len();
    let mut kept = 0;
    let mut run_start = 0;
    for index in 0..events.len() {
        if kept > 0 && events[kept - 1].timestamp != events[index].timestamp {
            run_start = kept;
        }
        let duplicate = events[run_start..kept]
            .iter()
            .any(|earlier| earlier.same_scan(&events[index]));
        if !duplicate {
            if kept != index {
                events.swap(kept, index);
            }
            kept += 1;
        }
    }
    events.truncate(kept);
    before - kept
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::Text;

    fn event(tracking_number: &str, second: i64, code: &str, status: StandardizedStatus) -> Event {
        let timestamp = jiff::Timestamp::from_second(1_650_000_000 + second).unwrap();
        let mut event = Event::new(timestamp);
        event.status = status;
        event.set(Text::TrackingNumber, tracking_number);
        event.set(Text::EventDatetime, &timestamp.to_string());
        event.set(Text::EventCode, code);
        event.set(Text::PostalCode, "6845");
        event
    }

    fn shipments(items: Vec<Item>) -> Vec<Shipment> {
        items
            .into_iter()
            .map(|item| match item {
                Item::Shipment(shipment) => shipment,
                Item::Error(_) => panic!("unexpected error item"),
            })
            .collect()
    }

    #[test]
    fn sorts_dedupes_and_takes_latest_status() {
        let mut grouper = Grouper::new(10, true, UpdateMethod::Append, None, "test.csv");
        let mut out = Vec::new();
        grouper.push(event("A", 50, "13", StandardizedStatus::DE), 2, &mut out);
        grouper.push(event("A", 10, "05", StandardizedStatus::AC), 3, &mut out);
        grouper.push(event("A", 50, "13", StandardizedStatus::DE), 4, &mut out);
        grouper.finish(&mut out);
        let shipments = shipments(out);
        assert_eq!(shipments.len(), 1);
        let codes: Vec<_> = shipments[0]
            .events
            .iter()
            .map(|e| e.get(Text::EventCode).unwrap())
            .collect();
        assert_eq!(codes, vec!["05", "13"]);
        assert_eq!(shipments[0].standardized_status_code(), StandardizedStatus::DE);
        assert_eq!(
            shipments[0].actual_delivery_datetime(),
            shipments[0].events[1].get(Text::EventDatetime)
        );
        assert_eq!(grouper.duplicates, 1);
    }

    #[test]
    fn warnings_are_capped_but_counted() {
        let mut grouper = Grouper::new(10, true, UpdateMethod::Append, None, "test.csv");
        let mut out = Vec::new();
        for second in 0..72 {
            let mut scan = event("A", second, "05", StandardizedStatus::AC);
            scan.add_warning(format!("warning {second}"));
            // The same warning twice is listed and counted once.
            scan.add_warning(format!("warning {second}"));
            grouper.push(scan, second as u64 + 2, &mut out);
        }
        grouper.finish(&mut out);
        let shipment = &shipments(out)[0];
        assert_eq!(shipment.warnings.len(), MAX_WARNINGS + 1);
        assert_eq!(shipment.warnings[MAX_WARNINGS - 1], "warning 49");
        assert_eq!(
            shipment.warnings[MAX_WARNINGS],
            "test.csv:2: 22 more warnings for this shipment were left out"
        );
        assert_eq!(shipment.warning_count, 72);
    }

    #[test]
    fn warning_cap_keeps_reappearance_warning() {
        let mut grouper = Grouper::new(1, true, UpdateMethod::Replace, None, "test.csv");
        let mut out = Vec::new();
        grouper.push(event("A", 1, "x", StandardizedStatus::IT), 2, &mut out);
        grouper.push(event("B", 2, "x", StandardizedStatus::IT), 3, &mut out);
        for second in 3..63 {
            let mut scan = event("A", second, "y", StandardizedStatus::IT);
            scan.add_warning(format!("warning {second}"));
            grouper.push(scan, second as u64 + 1, &mut out);
        }
        grouper.finish(&mut out);
        let again = &shipments(out)[2];
        assert_eq!(again.update_method, UpdateMethod::Append);
        assert!(
            again.warnings[0].starts_with("test.csv:4: tracking number A appeared again"),
            "{:?}",
            again.warnings
        );
        assert_eq!(again.warnings[1], "warning 3");
        assert_eq!(again.warnings.len(), MAX_WARNINGS + 1);
        assert_eq!(
            again.warnings[MAX_WARNINGS],
            "test.csv:4: 11 more warnings for this shipment were left out"
        );
        assert_eq!(again.warning_count, 61);
    }

    #[test]
    fn informational_event_after_delivery_keeps_delivered() {
        let mut grouper = Grouper::new(10, true, UpdateMethod::Append, None, "test.csv");
        let mut out = Vec::new();
        grouper.push(event("A", 10, "13", StandardizedStatus::DE), 2, &mut out);
        grouper.push(event("A", 20, "18", StandardizedStatus::UN), 3, &mut out);
        grouper.finish(&mut out);
        let shipment = &shipments(out)[0];
        assert_eq!(shipment.standardized_status_code(), StandardizedStatus::DE);
        assert_eq!(shipment.carrier_status_code(), Some("13"));
        assert_eq!(shipment.events.len(), 2);
    }

    #[test]
    fn same_time_different_code_is_kept() {
        let mut grouper = Grouper::new(10, true, UpdateMethod::Append, None, "test.csv");
        let mut out = Vec::new();
        grouper.push(event("A", 5, "13", StandardizedStatus::DE), 2, &mut out);
        grouper.push(event("A", 5, "18", StandardizedStatus::IT), 3, &mut out);
        grouper.push(event("A", 5, "13", StandardizedStatus::DE), 4, &mut out);
        grouper.finish(&mut out);
        assert_eq!(shipments(out)[0].events.len(), 2);
    }

    #[test]
    fn full_window_yields_oldest_first() {
        let mut grouper = Grouper::new(2, true, UpdateMethod::Append, None, "test.csv");
        let mut out = Vec::new();
        grouper.push(event("A", 1, "x", StandardizedStatus::IT), 2, &mut out);
        grouper.push(event("B", 2, "x", StandardizedStatus::IT), 3, &mut out);
        grouper.push(event("A", 3, "y", StandardizedStatus::IT), 4, &mut out);
        assert!(out.is_empty());
        grouper.push(event("C", 4, "x", StandardizedStatus::IT), 5, &mut out);
        assert_eq!(out.len(), 1);
        grouper.finish(&mut out);
        let numbers: Vec<_> = shipments(out)
            .iter()
            .map(|s| (s.tracking_number().to_string(), s.events.len()))
            .collect();
        assert_eq!(
            numbers,
            vec![("A".to_string(), 2), ("B".to_string(), 1), ("C".to_string(), 1)]
        );
    }

    #[test]
    fn failure_in_replace_mode_sends_append() {
        let mut grouper = Grouper::new(10, true, UpdateMethod::Replace, None, "test.csv");
        let mut out = Vec::new();
        grouper.push(event("A", 1, "x", StandardizedStatus::IT), 2, &mut out);
        grouper.mark_failed();
        grouper.finish(&mut out);
        let shipment = &shipments(out)[0];
        assert_eq!(shipment.update_method, UpdateMethod::Append);
        assert!(
            shipment.warnings[0].contains("may be incomplete"),
            "{:?}",
            shipment.warnings
        );
    }

    #[test]
    fn replace_mode_sends_reappearance_as_append() {
        let mut grouper = Grouper::new(1, true, UpdateMethod::Replace, None, "test.csv");
        let mut out = Vec::new();
        grouper.push(event("A", 1, "x", StandardizedStatus::IT), 2, &mut out);
        grouper.push(event("B", 2, "x", StandardizedStatus::IT), 3, &mut out);
        grouper.push(event("A", 3, "y", StandardizedStatus::IT), 4, &mut out);
        grouper.finish(&mut out);
        let shipments = shipments(out);
        let methods: Vec<_> = shipments
            .iter()
            .map(|s| (s.tracking_number(), s.update_method))
            .collect();
        assert_eq!(
            methods,
            vec![
                ("A", UpdateMethod::Replace),
                ("B", UpdateMethod::Replace),
                ("A", UpdateMethod::Append)
            ]
        );
        assert!(
            shipments[2].warnings[0].starts_with("test.csv:4: tracking number A appeared again"),
            "{:?}",
            shipments[2].warnings
        );
    }

    #[test]
    fn reappeared_long_shipment_explains_append() {
        let mut grouper = Grouper::new(1, true, UpdateMethod::Replace, None, "test.csv");
        let mut out = Vec::new();
        grouper.push(event("A", 0, "x", StandardizedStatus::IT), 2, &mut out);
        grouper.push(event("B", 0, "x", StandardizedStatus::IT), 3, &mut out);
        for second in 1..=1001 {
            grouper.push(
                event("A", second, "y", StandardizedStatus::IT),
                second as u64 + 3,
                &mut out,
            );
        }
        grouper.finish(&mut out);

        let shipments = shipments(out);
        let parts: Vec<_> = shipments[2..]
            .iter()
            .map(|s| (s.update_method, s.events.len()))
            .collect();
        assert_eq!(parts, vec![(UpdateMethod::Append, 1000), (UpdateMethod::Append, 1)]);

        let first = &shipments[2].warnings;
        assert_eq!(first.len(), 2, "{first:?}");
        assert_eq!(
            first[0],
            "test.csv:4: tracking number A has more than 1000 events, so they are yielded in parts; this is part 1"
        );
        assert!(
            first[1].starts_with("test.csv:4: tracking number A appeared again after its earlier events were yielded"),
            "{first:?}"
        );

        let second = &shipments[3].warnings;
        assert!(
            second[0].ends_with(
                "this is part 2 and is sent with update_method append, because replace would erase the parts before it"
            ),
            "{second:?}"
        );
        assert!(second[1].contains("appeared again"), "{second:?}");
    }

    #[test]
    fn failed_import_keeps_reappearance_warning() {
        let mut grouper = Grouper::new(1, true, UpdateMethod::Replace, None, "test.csv");
        let mut out = Vec::new();
        grouper.push(event("A", 1, "x", StandardizedStatus::IT), 2, &mut out);
        grouper.push(event("B", 2, "x", StandardizedStatus::IT), 3, &mut out);
        grouper.push(event("A", 3, "y", StandardizedStatus::IT), 4, &mut out);
        grouper.mark_failed();
        grouper.finish(&mut out);
        let again = &shipments(out)[2];
        assert_eq!(again.update_method, UpdateMethod::Append);
        assert_eq!(again.warnings.len(), 2, "{:?}", again.warnings);
        assert!(again.warnings[0].contains("appeared again"), "{:?}", again.warnings);
        assert!(again.warnings[1].contains("the import failed"), "{:?}", again.warnings);
    }

    #[test]
    fn long_shipment_is_yielded_in_parts() {
        let mut grouper = Grouper::new(10, false, UpdateMethod::Replace, None, "test.csv");
        let mut out = Vec::new();
        for second in 0..2500 {
            // One record per line after a header on line 1.
            grouper.push(
                event("A", second, "20", StandardizedStatus::IT),
                second as u64 + 2,
                &mut out,
            );
        }
        grouper.finish(&mut out);
        let parts = shipments(out);

        let sizes: Vec<usize> = parts.iter().map(|part| part.events.len()).collect();
        assert_eq!(sizes, vec![1000, 1000, 500]);
        let methods: Vec<UpdateMethod> = parts.iter().map(|part| part.update_method).collect();
        assert_eq!(
            methods,
            vec![UpdateMethod::Replace, UpdateMethod::Append, UpdateMethod::Append]
        );
        assert!(
            parts[0].warnings[0].starts_with("test.csv:2: tracking number A has more than"),
            "{:?}",
            parts[0].warnings
        );
        assert!(
            parts[0].warnings[0].contains("this is part 1"),
            "{:?}",
            parts[0].warnings
        );
        assert!(
            parts[1].warnings[0].starts_with("test.csv:1002: "),
            "{:?}",
            parts[1].warnings
        );
        assert!(
            parts[2].warnings[0].starts_with("test.csv:2002: "),
            "{:?}",
            parts[2].warnings
        );
        assert!(
            parts[2].warnings[0].contains("this is part 3 and is sent with update_method append"),
            "{:?}",
            parts[2].warnings
        );
        assert_eq!(parts[1].events[0].timestamp.as_second(), 1_650_001_000);
    }
}
