//! The carrier profile: a JSON document that says where a carrier's tracking files are, how
//! they are encoded and laid out, and how their columns map to Connect's tracking fields.
//!
//! `docs/profile.md` documents every option with an example. This module holds the serde
//! types; `validate` checks what serde cannot and reports each problem with its JSON path.
//!
//! The enums that accept several JSON shapes implement `Deserialize` by hand, so that a
//! wrong value gets a message that names it and the accepted shapes.

mod read;
mod validate;

use std::collections::BTreeMap;
use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

pub use validate::{parse_profile, ProfileError};

/// A parsed carrier profile, before validation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(rename = "$schema", default)]
    pub schema: Option<String>,
    /// A name for the profile, such as "DPD Germany SCANINFO". The importer does not use it.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The `carrier_name` put into every `tracking_info`.
    #[serde(default)]
    pub carrier_name: Option<String>,
    pub source: SourceSpec,
    #[serde(default)]
    pub compression: Compression,
    /// A WHATWG encoding label such as `utf-8`, `iso-8859-1` or `utf-16`.
    #[serde(default = "default_encoding")]
    pub encoding: String,
    pub format: Format,
    /// The IANA time zone the carrier writes local times in, such as `Europe/Berlin`.
    pub time_zone: String,
    pub fields: Fields,
    /// Carrier status codes mapped to Connect's standardized status codes.
    #[serde(default)]
    pub statuses: BTreeMap<String, StatusEntry>,
    #[serde(default)]
    pub grouping: Grouping,
    #[serde(default)]
    pub update_method: UpdateMethod,
}

fn default_encoding() -> String {
    "utf-8".to_string()
}

/// Where the file comes from: exactly one of `path` and `url`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    /// Extra HTTP request headers; values may contain `{metadata.NAME}` placeholders.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    /// A PEM file of extra root certificates for HTTPS, for a carrier server whose
    /// certificate comes from a private certificate authority.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Seconds allowed to open the TCP and TLS connection.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_seconds: f64,
    /// Seconds allowed between two reads of the response body before the import fails.
    #[serde(default = "default_read_timeout")]
    pub read_timeout_seconds: f64,
}

fn default_connect_timeout() -> f64 {
    10.0
}

fn default_read_timeout() -> f64 {
    60.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Gzip when the file starts with the gzip magic bytes, plain otherwise.
    #[default]
    Auto,
    None,
    Gzip,
}

/// The file layout, chosen by the JSON key `type`: `"delimited"` or `"fixed-width"`.
#[derive(Debug, Clone)]
pub enum Format {
    Delimited(DelimitedFormat),
    FixedWidth(FixedWidthFormat),
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum FormatType {
    Delimited,
    FixedWidth,
}

/// The keys of both format types, with `type` first. The profile reader visits an object's
/// keys in this order, so `type` is known before the other keys are read and their errors
/// keep their own JSON paths.
const FORMAT_KEYS: &[&str] = &[
    "type",
    "delimiter",
    "quote",
    "header",
    "columns",
    "skip_lines",
    "multiline_quotes",
    "record_length",
];

impl<'de> Deserialize<'de> for Format {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Format, D::Error> {
        deserializer.deserialize_struct("Format", FORMAT_KEYS, FormatVisitor)
    }
}

struct FormatVisitor;

impl<'de> Visitor<'de> for FormatVisitor {
    type Value = Format;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"an object with `type` "delimited" or "fixed-width""#)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Format, A::Error> {
        let Some(first_key) = map.next_key::<String>()? else {
            return Err(de::Error::missing_field("type"));
        };
        if first_key == "type" {
            let format_type: FormatType = map.next_value()?;
            let rest = MapAccessDeserializer::new(map);
            return match format_type {
                FormatType::Delimited => DelimitedFormat::deserialize(rest).map(Format::Delimited),
                FormatType::FixedWidth => FixedWidthFormat::deserialize(rest).map(Format::FixedWidth),
            };
        }

        // This deserializer does not put `type` first, so buffer the object. Errors of the
        // other keys then name only `format`, not their own paths.
        let mut object = Map::new();
        object.insert(first_key, map.next_value::<Value>()?);
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            object.insert(key, value);
        }
        let format_type = object.remove("type").ok_or_else(|| de::Error::missing_field("type"))?;
        let format_type = FormatType::deserialize(format_type).map_err(de::Error::custom)?;
        let rest = Value::Object(object);
        match format_type {
            FormatType::Delimited => DelimitedFormat::deserialize(rest).map(Format::Delimited),
            FormatType::FixedWidth => FixedWidthFormat::deserialize(rest).map(Format::FixedWidth),
        }
        .map_err(de::Error::custom)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelimitedFormat {
    /// One character, such as `;`, `|`, `,` or `\t`.
    pub delimiter: String,
    /// The quote character, or `null` for files that never quote.
    #[serde(default = "default_quote")]
    pub quote: Option<String>,
    /// Whether the first line after `skip_lines` names the columns.
    #[serde(default = "default_true")]
    pub header: bool,
    /// Column names in file order, for files without a header row.
    #[serde(default)]
    pub columns: Option<Vec<String>>,
    /// Lines to skip before the header or the first record.
    #[serde(default)]
    pub skip_lines: usize,
    /// Whether a quoted field may contain line breaks. When false, a quote still open at
    /// the end of a line makes that line a bad record.
    #[serde(default)]
    pub multiline_quotes: bool,
}

fn default_quote() -> Option<String> {
    Some("\"".to_string())
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedWidthFormat {
    /// Named column ranges `[start, end]`: zero-based character positions, end excluded.
    #[serde(deserialize_with = "column_ranges")]
    pub columns: BTreeMap<String, [usize; 2]>,
    #[serde(default)]
    pub skip_lines: usize,
    /// The expected length of a record in characters; a shorter line is a bad record.
    #[serde(default)]
    pub record_length: Option<usize>,
}

fn column_ranges<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, [usize; 2]>, D::Error> {
    let ranges = BTreeMap::<String, ColumnRange>::deserialize(deserializer)?;
    Ok(ranges.into_iter().map(|(name, range)| (name, range.0)).collect())
}

/// A fixed-width range `[start, end]`, read with a message that shows the expected form.
struct ColumnRange([usize; 2]);

impl<'de> Deserialize<'de> for ColumnRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ColumnRange, D::Error> {
        deserializer.deserialize_any(ColumnRangeVisitor)
    }
}

struct ColumnRangeVisitor;

impl<'de> Visitor<'de> for ColumnRangeVisitor {
    type Value = ColumnRange;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a range [start, end] of 0-based character positions, such as [0, 20]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ColumnRange, A::Error> {
        let Some(start) = seq.next_element::<usize>()? else {
            return Err(de::Error::invalid_length(0, &self));
        };
        let Some(end) = seq.next_element::<usize>()? else {
            return Err(de::Error::invalid_length(1, &self));
        };
        let mut length = 2;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            length += 1;
        }
        if length != 2 {
            return Err(de::Error::invalid_length(length, &self));
        }
        Ok(ColumnRange([start, end]))
    }
}

/// How profile fields map to Connect's `TrackingInfo` and `TrackEvent` fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fields {
    pub tracking_number: FieldSpec,
    pub event_datetime: FieldSpec,
    /// The carrier's status or scan code, looked up in `statuses`.
    #[serde(default)]
    pub event_code: Option<FieldSpec>,
    #[serde(default)]
    pub description: Option<FieldSpec>,
    #[serde(default)]
    pub city: Option<FieldSpec>,
    #[serde(default)]
    pub state: Option<FieldSpec>,
    #[serde(default)]
    pub postal_code: Option<FieldSpec>,
    #[serde(default)]
    pub country: Option<FieldSpec>,
    #[serde(default)]
    pub company: Option<FieldSpec>,
    #[serde(default)]
    pub signer: Option<FieldSpec>,
    #[serde(default)]
    pub latitude: Option<FieldSpec>,
    #[serde(default)]
    pub longitude: Option<FieldSpec>,
    /// A per-record time zone: an IANA name or a UTC offset such as `+02:00`.
    #[serde(default)]
    pub time_zone: Option<FieldSpec>,
    #[serde(default)]
    pub shipped_datetime: Option<FieldSpec>,
    #[serde(default)]
    pub estimated_delivery_datetime: Option<FieldSpec>,
    #[serde(default)]
    pub service_code: Option<FieldSpec>,
    #[serde(default)]
    pub service_name: Option<FieldSpec>,
    #[serde(default)]
    pub weight: Option<FieldSpec>,
    #[serde(default)]
    pub package_count: Option<FieldSpec>,
    #[serde(default)]
    pub packaging: Option<FieldSpec>,
}

/// One mapped field: a column name or index, or an object with options.
#[derive(Debug, Clone)]
pub enum FieldSpec {
    Column(ColumnRef),
    Full(FieldOptions),
}

impl<'de> Deserialize<'de> for FieldSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FieldSpec, D::Error> {
        deserializer.deserialize_any(FieldSpecVisitor)
    }
}

struct FieldSpecVisitor;

impl<'de> Visitor<'de> for FieldSpecVisitor {
    type Value = FieldSpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a column name (text), a 0-based column index (whole number >= 0) or an object with options such as `column` and `format`",
        )
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<FieldSpec, E> {
        ColumnRefVisitor.visit_u64(value).map(FieldSpec::Column)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<FieldSpec, E> {
        ColumnRefVisitor.visit_i64(value).map(FieldSpec::Column)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<FieldSpec, E> {
        ColumnRefVisitor.visit_f64(value).map(FieldSpec::Column)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<FieldSpec, E> {
        Ok(FieldSpec::Column(ColumnRef::Name(value.to_string())))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FieldSpec, A::Error> {
        FieldOptions::deserialize(MapAccessDeserializer::new(map)).map(FieldSpec::Full)
    }
}

/// A column named in the header or in `format.columns`, or a zero-based index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRef {
    Index(usize),
    Name(String),
}

impl<'de> Deserialize<'de> for ColumnRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ColumnRef, D::Error> {
        deserializer.deserialize_any(ColumnRefVisitor)
    }
}

struct ColumnRefVisitor;

impl ColumnRefVisitor {
    fn not_a_column<E: de::Error>(value: impl fmt::Display) -> E {
        E::custom(format_args!(
            "{value} is not a column; use a column name (text) or a 0-based column index (whole number >= 0)"
        ))
    }
}

impl<'de> Visitor<'de> for ColumnRefVisitor {
    type Value = ColumnRef;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a column name (text) or a 0-based column index (whole number >= 0)")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<ColumnRef, E> {
        usize::try_from(value)
            .map(ColumnRef::Index)
            .map_err(|_| Self::not_a_column(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<ColumnRef, E> {
        match u64::try_from(value) {
            Ok(value) => self.visit_u64(value),
            Err(_) => Err(Self::not_a_column(value)),
        }
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<ColumnRef, E> {
        match read::whole_number(value) {
            Some(index) => self.visit_u64(index),
            None => Err(Self::not_a_column(read::format_number(value))),
        }
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<ColumnRef, E> {
        Ok(ColumnRef::Name(value.to_string()))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldOptions {
    #[serde(default)]
    pub column: Option<ColumnRef>,
    /// Several columns joined with `separator`, such as a date and a time column.
    #[serde(default)]
    pub columns: Option<Vec<ColumnRef>>,
    #[serde(default)]
    pub separator: Option<String>,
    /// A constant value instead of a column.
    #[serde(default)]
    pub value: Option<String>,
    /// The value used when the column is empty.
    #[serde(default)]
    pub default: Option<String>,
    /// Whether to strip surrounding whitespace (default true).
    #[serde(default)]
    pub trim: Option<bool>,
    /// A strftime-style format for date-time fields, such as `%Y%m%d%H%M%S`.
    #[serde(default)]
    pub format: Option<String>,
    /// Several formats tried in order, for columns that vary (a date with or without time).
    #[serde(default)]
    pub formats: Option<Vec<String>>,
}

impl FieldSpec {
    pub fn options(&self) -> FieldOptions {
        match self {
            FieldSpec::Column(column) => FieldOptions {
                column: Some(column.clone()),
                ..FieldOptions::default()
            },
            FieldSpec::Full(options) => options.clone(),
        }
    }
}

/// A status table entry: a standardized code, or an object with a description.
#[derive(Debug, Clone)]
pub enum StatusEntry {
    Code(StandardizedStatus),
    Full {
        status: StandardizedStatus,
        description: Option<String>,
    },
}

/// The object form of a status entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusOptions {
    status: StandardizedStatus,
    #[serde(default)]
    description: Option<String>,
}

impl<'de> Deserialize<'de> for StatusEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<StatusEntry, D::Error> {
        deserializer.deserialize_any(StatusEntryVisitor)
    }
}

struct StatusEntryVisitor;

impl<'de> Visitor<'de> for StatusEntryVisitor {
    type Value = StatusEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            r#"a Connect status such as "DE", or an object such as {"status": "DE", "description": "Delivered"}"#,
        )
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<StatusEntry, E> {
        StandardizedStatusVisitor.visit_str(value).map(StatusEntry::Code)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<StatusEntry, A::Error> {
        let options = StatusOptions::deserialize(MapAccessDeserializer::new(map))?;
        Ok(StatusEntry::Full {
            status: options.status,
            description: options.description,
        })
    }
}

impl StatusEntry {
    pub fn status(&self) -> StandardizedStatus {
        match self {
            StatusEntry::Code(status) | StatusEntry::Full { status, .. } => *status,
        }
    }

    pub fn description(&self) -> Option<&str> {
        match self {
            StatusEntry::Code(_) => None,
            StatusEntry::Full { description, .. } => description.as_deref(),
        }
    }
}

/// Connect's `StandardizedStatusCodes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StandardizedStatus {
    /// Unknown.
    UN,
    /// Accepted.
    AC,
    /// In transit.
    IT,
    /// Delivered.
    DE,
    /// Exception.
    EX,
    /// Delivery attempted.
    AT,
    /// Not yet in system.
    NY,
    /// Delivered to the collection location.
    SP,
}

impl StandardizedStatus {
    pub const ALL: [StandardizedStatus; 8] = [
        StandardizedStatus::UN,
        StandardizedStatus::AC,
        StandardizedStatus::IT,
        StandardizedStatus::DE,
        StandardizedStatus::EX,
        StandardizedStatus::AT,
        StandardizedStatus::NY,
        StandardizedStatus::SP,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StandardizedStatus::UN => "UN",
            StandardizedStatus::AC => "AC",
            StandardizedStatus::IT => "IT",
            StandardizedStatus::DE => "DE",
            StandardizedStatus::EX => "EX",
            StandardizedStatus::AT => "AT",
            StandardizedStatus::NY => "NY",
            StandardizedStatus::SP => "SP",
        }
    }
}

impl<'de> Deserialize<'de> for StandardizedStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<StandardizedStatus, D::Error> {
        deserializer.deserialize_any(StandardizedStatusVisitor)
    }
}

struct StandardizedStatusVisitor;

impl<'de> Visitor<'de> for StandardizedStatusVisitor {
    type Value = StandardizedStatus;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Connect status: one of UN, AC, IT, DE, EX, AT, NY, SP")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<StandardizedStatus, E> {
        if let Some(status) = StandardizedStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
        {
            return Ok(status);
        }
        let hint = if StandardizedStatus::ALL
            .iter()
            .any(|status| status.as_str().eq_ignore_ascii_case(value))
        {
            "; the codes are upper case"
        } else {
            ""
        };
        Err(E::custom(format_args!(
            "`{}` is not a Connect status; use one of UN, AC, IT, DE, EX, AT, NY, SP{hint}",
            read::quote_text(value)
        )))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grouping {
    /// How many shipments wait in memory for more events before the oldest is yielded.
    #[serde(
        default = "default_max_open_shipments",
        deserialize_with = "deserialize_positive_count"
    )]
    pub max_open_shipments: usize,
    /// Whether an event repeated within a shipment is yielded once.
    #[serde(default = "default_true")]
    pub deduplicate: bool,
}

fn default_max_open_shipments() -> usize {
    10_000
}

/// Reads a whole number of at least 1, so that 0 and negative numbers get one message.
fn deserialize_positive_count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<usize, D::Error> {
    struct PositiveCount;

    impl<'de> Visitor<'de> for PositiveCount {
        type Value = usize;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("a whole number >= 1")
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<usize, E> {
            match usize::try_from(value) {
                Ok(0) => Err(E::custom("must be a whole number >= 1, not 0")),
                Ok(count) => Ok(count),
                Err(_) => Err(E::custom(format_args!(
                    "must be a whole number from 1 to {}, not {value}",
                    usize::MAX
                ))),
            }
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<usize, E> {
            match u64::try_from(value) {
                Ok(value) => self.visit_u64(value),
                Err(_) => Err(E::custom(format_args!("must be a whole number >= 1, not {value}"))),
            }
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<usize, E> {
            match read::whole_number(value) {
                Some(value) => self.visit_u64(value),
                None if value > 0.0 && value.fract() == 0.0 => Err(E::custom(format_args!(
                    "must be a whole number from 1 to {}, not {}",
                    usize::MAX,
                    read::format_number(value)
                ))),
                None => Err(E::custom(format_args!(
                    "must be a whole number >= 1, not {}",
                    read::format_number(value)
                ))),
            }
        }
    }

    deserializer.deserialize_any(PositiveCount)
}

impl Default for Grouping {
    fn default() -> Self {
        Grouping {
            max_open_shipments: default_max_open_shipments(),
            deduplicate: true,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateMethod {
    /// The file carries new events; the platform adds them to what it has.
    #[default]
    Append,
    /// The file carries each shipment's full history; the platform replaces what it has.
    Replace,
}
