//! What the import produces: events, shipments and the items yielded to JavaScript.
//!
//! Field names follow Connect's `TrackEvent`, `TrackingInfo` and `ImportedTrackingEvent`.
//! An event keeps all of its text in one buffer, which is copied once to its exact size
//! before the event waits in the grouping window.

use std::sync::Arc;

use jiff::Timestamp;

use crate::profile::{StandardizedStatus, UpdateMethod};

/// The text fields an event carries, in storage order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    TrackingNumber,
    /// RFC 3339 in UTC, such as `2022-04-29T12:34:47Z`.
    EventDatetime,
    /// RFC 3339 with the carrier's local offset, such as `2022-04-29T14:34:47+02:00`.
    EventDatetimeLocal,
    EventCode,
    Description,
    City,
    State,
    PostalCode,
    Country,
    Company,
    Signer,
    ShippedDatetime,
    EstimatedDeliveryDatetime,
    ServiceCode,
    ServiceName,
    Packaging,
}

const TEXT_FIELDS: usize = Text::Packaging as usize + 1;

/// The shipment-level text fields, merged across a shipment's events.
pub const SHIPMENT_TEXT: [Text; 5] = [
    Text::ShippedDatetime,
    Text::EstimatedDeliveryDatetime,
    Text::ServiceCode,
    Text::ServiceName,
    Text::Packaging,
];

/// A span marking an unset field.
const UNSET: (u32, u32) = (u32::MAX, 0);

/// One tracking event mapped from one record.
///
/// Events wait in the grouping window, so the fields most feeds leave empty sit behind
/// one pointer that stays `None` for them.
#[derive(Debug, Clone)]
pub struct Event {
    pub timestamp: Timestamp,
    pub status: StandardizedStatus,
    /// Set when the carrier's local time fell into a daylight saving gap and was moved
    /// forward, so that it is never taken for a scan really written at the moved time.
    pub in_gap: bool,
    extra: Option<Box<Extra>>,
    text: String,
    spans: [(u32, u32); TEXT_FIELDS],
}

/// The rarely set parts of an event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extra {
    /// Latitude and longitude in signed degrees.
    pub geo: Option<(f64, f64)>,
    pub weight: Option<f64>,
    pub package_count: Option<i32>,
    pub warnings: Vec<String>,
}

impl Event {
    pub fn new(timestamp: Timestamp) -> Event {
        Event {
            timestamp,
            status: StandardizedStatus::UN,
            in_gap: false,
            extra: None,
            text: String::with_capacity(160),
            spans: [UNSET; TEXT_FIELDS],
        }
    }

    /// Stores the rarely set parts; an `extra` with nothing set takes no memory.
    pub fn set_extra(&mut self, extra: Extra) {
        self.extra = (extra != Extra::default()).then(|| Box::new(extra));
    }

    pub fn geo(&self) -> Option<(f64, f64)> {
        self.extra.as_ref().and_then(|extra| extra.geo)
    }

    pub fn weight(&self) -> Option<f64> {
        self.extra.as_ref().and_then(|extra| extra.weight)
    }

    pub fn package_count(&self) -> Option<i32> {
        self.extra.as_ref().and_then(|extra| extra.package_count)
    }

    pub fn add_warning(&mut self, warning: String) {
        self.extra.get_or_insert_with(Default::default).warnings.push(warning);
    }

    /// Removes and returns the event's warnings.
    pub fn take_warnings(&mut self) -> Vec<String> {
        self.extra
            .as_mut()
            .map(|extra| std::mem::take(&mut extra.warnings))
            .unwrap_or_default()
    }

    /// Moves the text into an allocation of its exact size, before the event waits in the
    /// window. A copy, not `shrink_to_fit`, because shrinking in place leaves small free
    /// fragments behind that no later event buffer fits in.
    pub fn compact(&mut self) {
        if self.text.capacity() > self.text.len() {
            self.text = String::from(self.text.as_str());
        }
    }

    /// Returns a field, or `None` when it is unset.
    pub fn get(&self, field: Text) -> Option<&str> {
        let (start, end) = self.spans[field as usize];
        (start != u32::MAX).then(|| &self.text[start as usize..end as usize])
    }

    /// Returns the tracking number, which every event has.
    pub fn tracking_number(&self) -> &str {
        self.get(Text::TrackingNumber).unwrap_or("")
    }

    pub fn set(&mut self, field: Text, value: &str) {
        self.set_with(field, |text| text.push_str(value));
    }

    /// Sets a field to whatever `write` appends to the event's text.
    pub fn set_with(&mut self, field: Text, write: impl FnOnce(&mut String)) {
        let start = self.text.len();
        write(&mut self.text);
        self.spans[field as usize] = (start as u32, self.text.len() as u32);
    }

    /// Returns the event's text buffer and each field's byte range in it (`None` if unset).
    pub fn text_and_spans(&self) -> (&str, impl Iterator<Item = Option<(usize, usize)>> + '_) {
        let spans = self
            .spans
            .iter()
            .map(|&(start, end)| (start != u32::MAX).then_some((start as usize, end as usize)));
        (&self.text, spans)
    }

    /// Returns whether two events are the same scan: equal time, code and place, and the
    /// same kind of written time (in a daylight saving gap or not).
    pub fn same_scan(&self, other: &Event) -> bool {
        self.timestamp == other.timestamp
            && self.in_gap == other.in_gap
            && [
                Text::EventCode,
                Text::City,
                Text::State,
                Text::PostalCode,
                Text::Country,
            ]
            .iter()
            .all(|field| self.get(*field) == other.get(*field))
    }
}

/// A shipment ready to be yielded: its events sorted by time and its latest status.
#[derive(Debug, Clone)]
pub struct Shipment {
    pub carrier_name: Option<Arc<str>>,
    pub update_method: UpdateMethod,
    pub events: Vec<Event>,
    /// The event that gives the shipment its status: the latest one whose status is not UN.
    pub latest: usize,
    /// The latest delivered event.
    pub delivered: Option<usize>,
    /// For each field of `SHIPMENT_TEXT`, the latest event that has it.
    pub text_sources: [Option<usize>; SHIPMENT_TEXT.len()],
    pub weight: Option<f64>,
    pub package_count: Option<i32>,
    /// At most 50 warnings, then a line that counts the rest.
    pub warnings: Vec<String>,
    /// The number of distinct warnings, including those left out of `warnings`.
    pub warning_count: u64,
}

impl Shipment {
    pub fn tracking_number(&self) -> &str {
        self.events[0].tracking_number()
    }

    pub fn standardized_status_code(&self) -> StandardizedStatus {
        self.events[self.latest].status
    }

    pub fn carrier_status_code(&self) -> Option<&str> {
        self.events[self.latest].get(Text::EventCode)
    }

    pub fn carrier_status_description(&self) -> Option<&str> {
        self.events[self.latest].get(Text::Description)
    }

    pub fn actual_delivery_datetime(&self) -> Option<&str> {
        self.delivered
            .and_then(|index| self.events[index].get(Text::EventDatetime))
    }

    /// Returns whether the shipment's latest status is an exception.
    pub fn shipping_problem(&self) -> bool {
        self.standardized_status_code() == StandardizedStatus::EX
    }

    /// Returns a shipment-level field such as `Text::ShippedDatetime`.
    pub fn text(&self, field: Text) -> Option<&str> {
        let position = SHIPMENT_TEXT.iter().position(|known| *known == field)?;
        self.text_sources[position].and_then(|index| self.events[index].get(field))
    }
}

/// One `ImportedTrackingEvent`: a shipment, or a bad record's error messages.
#[derive(Debug, Clone)]
pub enum Item {
    Shipment(Shipment),
    Error(Vec<String>),
}
