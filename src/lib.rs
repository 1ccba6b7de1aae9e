//! connect-tracking: `ImportTrackingEvents` and `Track` for ShipEngine Connect carrier apps.
//!
//! The import is a pipeline of plain Rust stages, wired in `pipeline::produce`.
//! The stages are `source` (file or HTTP), `decompress`, `decode` (text encoding),
//! `lines`, `parse` (delimited, fixed-width), `map` (profile fields and statuses),
//! `group` (one item per shipment) and `wire` (batches for JavaScript). `profile` defines and
//! validates the carrier profile. Only `binding` knows about JavaScript.

pub mod decode;
pub mod decompress;
pub mod error;
pub mod group;
pub mod lines;
pub mod map;
pub mod model;
pub mod parse;
pub mod pipeline;
pub mod profile;
pub mod record_threads;
pub mod source;
pub mod stage;
pub mod wire;

#[cfg_attr(test, allow(dead_code))]
mod binding;
