//! What the import produces: events, shipments and the items yielded to JavaScript.
//!
//! Field names follow Connect's `TrackEvent`, `TrackingInfo` and `ImportedTrackingEvent`.

use jiff::Timestamp;

use crate::profile::{StandardizedStatus, UpdateMethod};

/// One tracking event mapped from one record.
#[derive(Debug, Clone)]
pub struct Event {
    pub tracking_number: String,
    pub timestamp: Timestamp,
    /// RFC 3339 in UTC, such as `2022-04-29T12:34:47Z`.
    pub event_datetime: String,
    /// RFC 3339 with the carrier's local offset, such as `2022-04-29T14:34:47+02:00`.
    pub event_datetime_local: String,
    pub event_code: Option<String>,
    pub description: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub company: Option<String>,
    pub signer: Option<String>,
    /// Latitude and longitude in signed degrees.
    pub geo: Option<(f64, f64)>,
    pub status: StandardizedStatus,
    pub shipment: ShipmentFields,
    pub warnings: Vec<String>,
}

/// Shipment-level values that a record may carry.
#[derive(Debug, Clone, Default)]
pub struct ShipmentFields {
    pub shipped_datetime: Option<String>,
    pub estimated_delivery_datetime: Option<String>,
    pub service_code: Option<String>,
    pub service_name: Option<String>,
    pub weight: Option<f64>,
    pub package_count: Option<i32>,
    pub packaging: Option<String>,
}

impl ShipmentFields {
    /// Takes every value that `newer` has.
    pub fn merge_from(&mut self, newer: &ShipmentFields) {
        fn take<T: Clone>(target: &mut Option<T>, value: &Option<T>) {
            if value.is_some() {
                target.clone_from(value);
            }
        }
        take(&mut self.shipped_datetime, &newer.shipped_datetime);
        take(&mut self.estimated_delivery_datetime, &newer.estimated_delivery_datetime);
        take(&mut self.service_code, &newer.service_code);
        take(&mut self.service_name, &newer.service_name);
        take(&mut self.weight, &newer.weight);
        take(&mut self.package_count, &newer.package_count);
        take(&mut self.packaging, &newer.packaging);
    }
}

/// A shipment ready to be yielded: its events sorted by time and its latest status.
#[derive(Debug, Clone)]
pub struct Shipment {
    pub tracking_number: String,
    pub carrier_name: Option<String>,
    pub update_method: UpdateMethod,
    pub standardized_status_code: StandardizedStatus,
    pub carrier_status_code: Option<String>,
    pub carrier_status_description: Option<String>,
    pub actual_delivery_datetime: Option<String>,
    pub shipping_problem: bool,
    pub shipping_problem_code: Option<String>,
    pub shipping_problem_description: Option<String>,
    pub fields: ShipmentFields,
    pub events: Vec<Event>,
    pub warnings: Vec<String>,
}

/// One `ImportedTrackingEvent`: a shipment, or a bad record's error messages.
#[derive(Debug, Clone)]
pub enum Item {
    Shipment(Shipment),
    Error(Vec<String>),
}
