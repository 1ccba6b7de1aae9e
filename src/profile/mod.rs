//! The carrier profile: a JSON document that says where a carrier's tracking files are, how
//! they are encoded and laid out, and how their columns map to Connect's tracking fields.
//!
//! `docs/profile.md` documents every option with an example. This module holds the serde
//! types; `validate` checks what serde cannot and reports each problem with its JSON path.

mod validate;

use std::collections::BTreeMap;

use serde::Deserialize;

pub use validate::{parse_profile, ProfileError};

/// A parsed carrier profile, before validation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(rename = "$schema", default)]
    pub schema: Option<String>,
    /// A name for messages and summaries, such as "DPD Germany SCANINFO".
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

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Format {
    Delimited(DelimitedFormat),
    FixedWidth(FixedWidthFormat),
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
    pub columns: BTreeMap<String, [usize; 2]>,
    #[serde(default)]
    pub skip_lines: usize,
    /// The expected length of a record in characters; a shorter line is a bad record.
    #[serde(default)]
    pub record_length: Option<usize>,
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

/// One mapped field: a column name, or an object with options.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FieldSpec {
    Column(ColumnRef),
    Full(FieldOptions),
}

/// A column named in the header or in `format.columns`, or a zero-based index.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ColumnRef {
    Index(usize),
    Name(String),
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
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StatusEntry {
    Code(StandardizedStatus),
    Full {
        status: StandardizedStatus,
        #[serde(default)]
        description: Option<String>,
    },
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grouping {
    /// How many shipments wait in memory for more events before the oldest is yielded.
    #[serde(default = "default_max_open_shipments")]
    pub max_open_shipments: usize,
    /// Whether an event repeated within a shipment is yielded once.
    #[serde(default = "default_true")]
    pub deduplicate: bool,
}

fn default_max_open_shipments() -> usize {
    10_000
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

impl UpdateMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateMethod::Append => "append",
            UpdateMethod::Replace => "replace",
        }
    }
}
