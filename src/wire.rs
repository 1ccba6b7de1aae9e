//! Batches for JavaScript: many items encoded as one string and one array of integers.
//!
//! Creating JavaScript objects through N-API takes a native call per field, so items cross
//! as text plus `slots`, and `lib/decode.js` builds the objects in JavaScript with
//! `String.prototype.substring`. A string is two slots: its start and end in UTF-16 code
//! units of `text`, or `-1, 0` for null. Layout, in slot order:
//!
//! - shipment: `0`, update method (`0` append, `1` replace), shipping_problem (`0`/`1`),
//!   then 15 strings, the event count, 13 strings per event, then the warning count and
//!   the warnings;
//!   - shipment strings: tracking_number, standardized_status_code, carrier_status_code,
//!     carrier_status_description, shipped_datetime, estimated_delivery_datetime,
//!     actual_delivery_datetime, carrier_name, service code, service name, packaging,
//!     shipping_problem_code, shipping_problem_description, weight, package_count;
//!   - event strings: event_datetime, event_datetime_local, event_code, description, city,
//!     state, postal_code, country, company, signer, status_code, geo latitude, geo
//!     longitude;
//! - bad record: `1`, the message count and the messages.
//!
//! `lib/decode.js` decodes this layout; change both together.

use crate::model::{Event, Item, Shipment, Text};
use crate::profile::UpdateMethod;

/// The event text fields in slot order, before `status_code` and `geo`.
const EVENT_TEXT: [Text; 10] = [
    Text::EventDatetime,
    Text::EventDatetimeLocal,
    Text::EventCode,
    Text::Description,
    Text::City,
    Text::State,
    Text::PostalCode,
    Text::Country,
    Text::Company,
    Text::Signer,
];

/// An encoded batch of items.
#[derive(Debug, Default)]
pub struct Batch {
    pub text: String,
    pub slots: Vec<i32>,
    pub items: usize,
    pub events: usize,
}

/// Builds batches of up to `max_items` items.
pub struct BatchBuilder {
    current: Batch,
    utf16_length: usize,
    max_items: usize,
    ready: Vec<Batch>,
}

/// Text size at which a batch is closed early, in UTF-8 bytes.
const MAX_TEXT: usize = 8 << 20;

impl BatchBuilder {
    pub fn new(max_items: usize) -> BatchBuilder {
        BatchBuilder {
            current: Batch::default(),
            utf16_length: 0,
            max_items: max_items.max(1),
            ready: Vec::new(),
        }
    }

    pub fn push(&mut self, item: &Item) {
        match item {
            Item::Shipment(shipment) => self.push_shipment(shipment),
            Item::Error(messages) => {
                self.current.slots.push(1);
                self.push_list(messages);
            }
        }
        self.current.items += 1;
        if self.current.items >= self.max_items || self.current.text.len() >= MAX_TEXT {
            self.close();
        }
    }

    /// Closes the batch being built, if it has items.
    pub fn close(&mut self) {
        if self.current.items > 0 {
            // The next batch is likely as large, so it starts with the same capacity.
            let next = Batch {
                text: String::with_capacity(self.current.text.len()),
                slots: Vec::with_capacity(self.current.slots.len()),
                items: 0,
                events: 0,
            };
            self.ready.push(std::mem::replace(&mut self.current, next));
            self.utf16_length = 0;
        }
    }

    /// Returns whether no closed batch waits to be taken.
    pub fn is_empty(&self) -> bool {
        self.ready.is_empty()
    }

    /// Takes the closed batches, oldest first.
    pub fn take_ready(&mut self) -> Vec<Batch> {
        std::mem::take(&mut self.ready)
    }

    fn push_shipment(&mut self, shipment: &Shipment) {
        let slots = &mut self.current.slots;
        slots.push(0);
        slots.push(match shipment.update_method {
            UpdateMethod::Append => 0,
            UpdateMethod::Replace => 1,
        });
        let problem = shipment.shipping_problem();
        slots.push(i32::from(problem));

        let latest = &shipment.events[shipment.latest];
        self.push_str(Some(shipment.tracking_number()));
        self.push_str(Some(shipment.standardized_status_code().as_str()));
        self.push_str(shipment.carrier_status_code());
        self.push_str(shipment.carrier_status_description());
        self.push_str(shipment.text(Text::ShippedDatetime));
        self.push_str(shipment.text(Text::EstimatedDeliveryDatetime));
        self.push_str(shipment.actual_delivery_datetime());
        self.push_str(shipment.carrier_name.as_deref());
        self.push_str(shipment.text(Text::ServiceCode));
        self.push_str(shipment.text(Text::ServiceName));
        self.push_str(shipment.text(Text::Packaging));
        self.push_str(if problem { latest.get(Text::EventCode) } else { None });
        self.push_str(if problem { latest.get(Text::Description) } else { None });
        self.push_number(shipment.weight);
        self.push_number(shipment.package_count.map(f64::from));

        self.current.slots.push(shipment.events.len() as i32);
        for event in &shipment.events {
            self.push_event(event);
        }
        self.current.events += shipment.events.len();
        self.push_list(&shipment.warnings);
    }

    fn push_event(&mut self, event: &Event) {
        let (text, _) = event.text_and_spans();
        if text.is_ascii() {
            self.push_ascii_event(event);
            return;
        }
        for field in EVENT_TEXT {
            self.push_str(event.get(field));
        }
        self.push_str(Some(event.status.as_str()));
        self.push_number(event.geo().map(|(latitude, _)| latitude));
        self.push_number(event.geo().map(|(_, longitude)| longitude));
    }

    /// Appends an ASCII event's whole text at once; its byte offsets are UTF-16 offsets.
    fn push_ascii_event(&mut self, event: &Event) {
        let (text, spans) = event.text_and_spans();
        let base = self.utf16_length;
        self.current.text.push_str(text);
        self.utf16_length += text.len();

        let spans: Vec<Option<(usize, usize)>> = spans.collect();
        let slots = &mut self.current.slots;
        for field in EVENT_TEXT {
            match spans[field as usize] {
                Some((start, end)) => {
                    slots.push((base + start) as i32);
                    slots.push((base + end) as i32);
                }
                None => {
                    slots.push(-1);
                    slots.push(0);
                }
            }
        }
        self.push_str(Some(event.status.as_str()));
        self.push_number(event.geo().map(|(latitude, _)| latitude));
        self.push_number(event.geo().map(|(_, longitude)| longitude));
    }

    fn push_list(&mut self, messages: &[String]) {
        self.current.slots.push(messages.len() as i32);
        for message in messages {
            self.push_str(Some(message));
        }
    }

    fn push_number(&mut self, value: Option<f64>) {
        match value {
            Some(number) => self.push_str(Some(&number.to_string())),
            None => self.push_str(None),
        }
    }

    fn push_str(&mut self, value: Option<&str>) {
        let Some(text) = value else {
            self.current.slots.push(-1);
            self.current.slots.push(0);
            return;
        };
        let start = self.utf16_length;
        self.current.text.push_str(text);
        self.utf16_length += if text.is_ascii() {
            text.len()
        } else {
            text.encode_utf16().count()
        };
        self.current.slots.push(start as i32);
        self.current.slots.push(self.utf16_length as i32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_utf16_units() {
        let mut builder = BatchBuilder::new(10);
        builder.push(&Item::Error(vec!["a€𝄞".to_string(), "b".to_string()]));
        builder.close();
        let batch = builder.take_ready().remove(0);
        assert_eq!(batch.slots, vec![1, 2, 0, 4, 4, 5]);
        let units: Vec<u16> = batch.text.encode_utf16().collect();
        assert_eq!(String::from_utf16(&units[4..5]).unwrap(), "b");
    }

    #[test]
    fn batch_closes_at_max_items() {
        let mut builder = BatchBuilder::new(2);
        for _ in 0..5 {
            builder.push(&Item::Error(vec!["x".to_string()]));
        }
        builder.close();
        let sizes: Vec<usize> = builder.take_ready().iter().map(|batch| batch.items).collect();
        assert_eq!(sizes, vec![2, 2, 1]);
    }
}
