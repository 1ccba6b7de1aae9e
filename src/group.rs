//! Grouping: the events of one tracking number become one shipment item.
//!
//! Shipments wait in a first-in, first-out window of `max_open_shipments`. When a new
//! tracking number arrives and the window is full, the oldest shipment is yielded. A
//! tracking number that appears again after its shipment left the window starts a new
//! shipment item. With `update_method: replace` that later item is sent as `append`,
//! because a replace would erase the events yielded before. Memory is bounded by the window, plus,
//! in replace mode only, eight bytes per yielded tracking number to recognise those.
//!
//! The shipment's status, carrier status code and description come from its latest event
//! whose status is not UN, so an informational scan after a delivery leaves it delivered.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use crate::model::{Event, Item, Shipment, ShipmentFields};
use crate::profile::{StandardizedStatus, UpdateMethod};

/// The maximum number of warnings on one shipment item; the rest are only counted.
const MAX_WARNINGS: usize = 50;

pub struct Grouper {
    max_open: usize,
    deduplicate: bool,
    update_method: UpdateMethod,
    carrier_name: Option<String>,
    open: VecDeque<Open>,
    index: HashMap<String, u64>,
    /// The sequence number of `open[0]`.
    first_sequence: u64,
    /// Hashes of the tracking numbers already yielded, kept in replace mode only.
    yielded: HashSet<u64>,
    pub duplicates: u64,
    /// Set when the import failed, so that partial histories never replace complete ones.
    failed: bool,
}

struct Open {
    events: Vec<Event>,
    reappeared: bool,
}

impl Grouper {
    pub fn new(
        max_open: usize,
        deduplicate: bool,
        update_method: UpdateMethod,
        carrier_name: Option<String>,
    ) -> Grouper {
        Grouper {
            max_open: max_open.max(1),
            deduplicate,
            update_method,
            carrier_name,
            open: VecDeque::new(),
            index: HashMap::new(),
            first_sequence: 0,
            yielded: HashSet::new(),
            duplicates: 0,
            failed: false,
        }
    }

    /// Adds an event; a shipment pushed out of the window goes to `out`.
    pub fn push(&mut self, event: Event, out: &mut Vec<Item>) {
        if let Some(&sequence) = self.index.get(event.tracking_number.as_str()) {
            let position = (sequence - self.first_sequence) as usize;
            self.open[position].events.push(event);
            return;
        }
        if self.open.len() >= self.max_open {
            self.flush_oldest(out);
        }
        let reappeared = self.update_method == UpdateMethod::Replace
            && self.yielded.contains(&hash(&event.tracking_number));
        let sequence = self.first_sequence + self.open.len() as u64;
        self.index.insert(event.tracking_number.clone(), sequence);
        self.open.push_back(Open {
            events: vec![event],
            reappeared,
        });
    }

    /// Yields every open shipment after a fatal error; in replace mode they go as `append`.
    pub fn finish_after_failure(&mut self, out: &mut Vec<Item>) {
        self.failed = true;
        self.finish(out);
    }

    /// Yields every open shipment, oldest first.
    pub fn finish(&mut self, out: &mut Vec<Item>) {
        while !self.open.is_empty() {
            self.flush_oldest(out);
        }
    }

    fn flush_oldest(&mut self, out: &mut Vec<Item>) {
        let Some(open) = self.open.pop_front() else {
            return;
        };
        self.first_sequence += 1;
        let tracking_number = open.events[0].tracking_number.clone();
        self.index.remove(&tracking_number);
        if self.update_method == UpdateMethod::Replace {
            self.yielded.insert(hash(&tracking_number));
        }
        out.push(Item::Shipment(self.build(tracking_number, open)));
    }

    fn build(&mut self, tracking_number: String, open: Open) -> Shipment {
        let mut events = open.events;
        events.sort_by_key(|event| event.timestamp);
        if self.deduplicate {
            self.duplicates += remove_duplicates(&mut events) as u64;
        }

        let mut fields = ShipmentFields::default();
        let mut warnings = Vec::new();
        for event in &mut events {
            fields.merge_from(&event.shipment);
            for warning in event.warnings.drain(..) {
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
            }
        }
        let mut update_method = self.update_method;
        if self.failed && update_method == UpdateMethod::Replace {
            update_method = UpdateMethod::Append;
            warnings.push(format!(
                "the import failed before the end of the file, so the events of tracking number {tracking_number} may be incomplete and are sent with update_method append"
            ));
        } else if open.reappeared {
            update_method = UpdateMethod::Append;
            warnings.push(format!(
                "tracking number {tracking_number} appeared again after its earlier events were yielded (more than {} shipments apart), so these events are sent with update_method append; raise grouping.max_open_shipments or sort the file by tracking number",
                self.max_open
            ));
        }
        if warnings.len() > MAX_WARNINGS {
            let dropped = warnings.len() - MAX_WARNINGS;
            warnings.truncate(MAX_WARNINGS);
            warnings.push(format!("{dropped} more warnings for this shipment were left out"));
        }

        // Events with status UN, such as informational scans, leave the shipment status.
        let latest = events
            .iter()
            .rev()
            .find(|event| event.status != StandardizedStatus::UN)
            .or(events.last())
            .expect("a shipment has at least one event");
        let delivered = events
            .iter()
            .rev()
            .find(|event| event.status == StandardizedStatus::DE);
        let problem = latest.status == StandardizedStatus::EX;
        Shipment {
            tracking_number,
            carrier_name: self.carrier_name.clone(),
            update_method,
            standardized_status_code: latest.status,
            carrier_status_code: latest.event_code.clone(),
            carrier_status_description: latest.description.clone(),
            actual_delivery_datetime: delivered.map(|event| event.event_datetime.clone()),
            shipping_problem: problem,
            shipping_problem_code: problem.then(|| latest.event_code.clone()).flatten(),
            shipping_problem_description: problem.then(|| latest.description.clone()).flatten(),
            fields,
            events,
            warnings,
        }
    }
}

fn hash(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// Removes events equal in time, code and place to an earlier one; returns how many.
fn remove_duplicates(events: &mut Vec<Event>) -> usize {
    let before = events.len();
    let mut kept: Vec<Event> = Vec::with_capacity(events.len());
    for event in events.drain(..) {
        let duplicate = kept
            .iter()
            .rev()
            .take_while(|earlier| earlier.timestamp == event.timestamp)
            .any(|earlier| same_event(earlier, &event));
        if !duplicate {
            kept.push(event);
        }
    }
    *events = kept;
    before - events.len()
}

fn same_event(a: &Event, b: &Event) -> bool {
    a.event_code == b.event_code
        && a.city == b.city
        && a.state == b.state
        && a.postal_code == b.postal_code
        && a.country == b.country
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(tracking_number: &str, second: i64, code: &str, status: StandardizedStatus) -> Event {
        let timestamp = jiff::Timestamp::from_second(1_650_000_000 + second).unwrap();
        Event {
            tracking_number: tracking_number.to_string(),
            timestamp,
            event_datetime: timestamp.to_string(),
            event_datetime_local: timestamp.to_string(),
            event_code: Some(code.to_string()),
            description: None,
            city: None,
            state: None,
            postal_code: Some("6845".to_string()),
            country: None,
            company: None,
            signer: None,
            geo: None,
            status,
            shipment: ShipmentFields::default(),
            warnings: Vec::new(),
        }
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
        let mut grouper = Grouper::new(10, true, UpdateMethod::Append, None);
        let mut out = Vec::new();
        grouper.push(event("A", 50, "13", StandardizedStatus::DE), &mut out);
        grouper.push(event("A", 10, "05", StandardizedStatus::AC), &mut out);
        grouper.push(event("A", 50, "13", StandardizedStatus::DE), &mut out);
        grouper.finish(&mut out);
        let shipments = shipments(out);
        assert_eq!(shipments.len(), 1);
        let codes: Vec<_> = shipments[0].events.iter().map(|e| e.event_code.clone().unwrap()).collect();
        assert_eq!(codes, vec!["05", "13"]);
        assert_eq!(shipments[0].standardized_status_code, StandardizedStatus::DE);
        assert_eq!(shipments[0].actual_delivery_datetime, Some(shipments[0].events[1].event_datetime.clone()));
        assert_eq!(grouper.duplicates, 1);
    }

    #[test]
    fn informational_event_after_delivery_keeps_delivered() {
        let mut grouper = Grouper::new(10, true, UpdateMethod::Append, None);
        let mut out = Vec::new();
        grouper.push(event("A", 10, "13", StandardizedStatus::DE), &mut out);
        grouper.push(event("A", 20, "18", StandardizedStatus::UN), &mut out);
        grouper.finish(&mut out);
        let shipment = &shipments(out)[0];
        assert_eq!(shipment.standardized_status_code, StandardizedStatus::DE);
        assert_eq!(shipment.carrier_status_code.as_deref(), Some("13"));
        assert_eq!(shipment.events.len(), 2);
    }

    #[test]
    fn same_time_different_code_is_kept() {
        let mut grouper = Grouper::new(10, true, UpdateMethod::Append, None);
        let mut out = Vec::new();
        grouper.push(event("A", 5, "13", StandardizedStatus::DE), &mut out);
        grouper.push(event("A", 5, "18", StandardizedStatus::IT), &mut out);
        grouper.push(event("A", 5, "13", StandardizedStatus::DE), &mut out);
        grouper.finish(&mut out);
        assert_eq!(shipments(out)[0].events.len(), 2);
    }

    #[test]
    fn full_window_yields_oldest_first() {
        let mut grouper = Grouper::new(2, true, UpdateMethod::Append, None);
        let mut out = Vec::new();
        grouper.push(event("A", 1, "x", StandardizedStatus::IT), &mut out);
        grouper.push(event("B", 2, "x", StandardizedStatus::IT), &mut out);
        grouper.push(event("A", 3, "y", StandardizedStatus::IT), &mut out);
        assert!(out.is_empty());
        grouper.push(event("C", 4, "x", StandardizedStatus::IT), &mut out);
        assert_eq!(out.len(), 1);
        grouper.finish(&mut out);
        let numbers: Vec<_> = shipments(out).into_iter().map(|s| (s.tracking_number, s.events.len())).collect();
        assert_eq!(numbers, vec![("A".to_string(), 2), ("B".to_string(), 1), ("C".to_string(), 1)]);
    }

    #[test]
    fn failure_in_replace_mode_sends_append() {
        let mut grouper = Grouper::new(10, true, UpdateMethod::Replace, None);
        let mut out = Vec::new();
        grouper.push(event("A", 1, "x", StandardizedStatus::IT), &mut out);
        grouper.finish_after_failure(&mut out);
        let shipment = &shipments(out)[0];
        assert_eq!(shipment.update_method, UpdateMethod::Append);
        assert!(shipment.warnings[0].contains("may be incomplete"), "{:?}", shipment.warnings);
    }

    #[test]
    fn replace_mode_sends_reappearance_as_append() {
        let mut grouper = Grouper::new(1, true, UpdateMethod::Replace, None);
        let mut out = Vec::new();
        grouper.push(event("A", 1, "x", StandardizedStatus::IT), &mut out);
        grouper.push(event("B", 2, "x", StandardizedStatus::IT), &mut out);
        grouper.push(event("A", 3, "y", StandardizedStatus::IT), &mut out);
        grouper.finish(&mut out);
        let shipments = shipments(out);
        let methods: Vec<_> = shipments.iter().map(|s| (s.tracking_number.as_str(), s.update_method)).collect();
        assert_eq!(
            methods,
            vec![("A", UpdateMethod::Replace), ("B", UpdateMethod::Replace), ("A", UpdateMethod::Append)]
        );
        assert!(shipments[2].warnings[0].contains("appeared again"), "{:?}", shipments[2].warnings);
    }
}
