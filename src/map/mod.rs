//! Mapping: one parsed record to one `Event`, through the profile's fields and statuses.

pub mod status;
pub mod time;

use std::borrow::Cow;

use jiff::tz::TimeZone;

use crate::error::FatalError;
use crate::model::{Event, Extra, Text};
use crate::parse::RecordView;
use crate::profile::{ColumnRef, FieldSpec, Format, Profile, StandardizedStatus};
use status::StatusTable;
use time::{OffsetCache, TimeParser, ZoneCache};

/// A record that cannot become an event; it is yielded as an `error_messages` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    pub message: String,
}

/// The column names of a file: from its header, `format.columns`, or fixed-width ranges.
pub struct ColumnNames<'a> {
    pub names: &'a [String],
    /// The origin of the names for messages, such as "the header of FILE".
    pub origin: String,
}

/// How to read one value from a record.
#[derive(Debug, Clone)]
struct CompiledField {
    /// The profile field name, such as `event_datetime`.
    name: &'static str,
    parts: Vec<Part>,
    separator: String,
    trim: bool,
    default: Option<String>,
    /// The columns for messages, such as `column SCAN_DATE_TIME`.
    label: String,
}

#[derive(Debug, Clone)]
enum Part {
    Column(usize),
    Constant(String),
}

impl CompiledField {
    fn compile(
        name: &'static str,
        spec: &FieldSpec,
        columns: &ColumnNames<'_>,
        delimited: bool,
    ) -> Result<CompiledField, FatalError> {
        let options = spec.options();
        let mut parts = Vec::new();
        let mut labels = Vec::new();
        if let Some(value) = &options.value {
            parts.push(Part::Constant(value.clone()));
        }
        // Each reference is named by where it is written, as validation names it.
        let mut references = Vec::new();
        if let Some(column) = &options.column {
            let path = match spec {
                FieldSpec::Column(_) => format!("fields.{name}"),
                FieldSpec::Full(_) => format!("fields.{name}.column"),
            };
            references.push((column, path));
        }
        for (index, column) in options.columns.iter().flatten().enumerate() {
            references.push((column, format!("fields.{name}.columns[{index}]")));
        }
        for (reference, path) in references {
            let (index, label) = resolve(name, &path, reference, columns, delimited)?;
            parts.push(Part::Column(index));
            labels.push(label);
        }
        Ok(CompiledField {
            name,
            parts,
            separator: options.separator.unwrap_or_else(|| " ".to_string()),
            trim: options.trim.unwrap_or(true),
            default: options.default,
            label: if options.value.is_some() {
                "a constant value".to_string()
            } else {
                format!("column {}", labels.join(" + "))
            },
        })
    }

    /// Reads the value; an empty result gives the default or `None`.
    fn read<'a>(&'a self, record: &RecordView<'a>) -> Option<Cow<'a, str>> {
        let value = if let [single] = self.parts.as_slice() {
            self.part(single, record).map(Cow::Borrowed)
        } else {
            let mut joined = String::new();
            for part in &self.parts {
                if let Some(text) = self.part(part, record) {
                    if !joined.is_empty() {
                        joined.push_str(&self.separator);
                    }
                    joined.push_str(text);
                }
            }
            (!joined.is_empty()).then_some(Cow::Owned(joined))
        };
        value.or_else(|| self.default.as_deref().map(Cow::Borrowed))
    }

    /// Describes where the value of `read` came from, for messages: the columns, or the
    /// default when the columns are empty.
    fn source_label(&self, record: &RecordView<'_>) -> Cow<'_, str> {
        let columns_empty = self.parts.iter().all(|part| self.part(part, record).is_none());
        match &self.default {
            Some(_) if columns_empty => Cow::Owned(format!(
                "the default of fields.{}, because {} is empty",
                self.name, self.label
            )),
            _ => Cow::Borrowed(&self.label),
        }
    }

    fn part<'a>(&'a self, part: &'a Part, record: &RecordView<'a>) -> Option<&'a str> {
        let text = match part {
            Part::Constant(value) => value.as_str(),
            Part::Column(index) => record.get(*index).unwrap_or(""),
        };
        let text = if self.trim { text.trim() } else { text };
        (!text.is_empty()).then_some(text)
    }
}

/// Finds a column reference of the field `field`, written at `path` in the profile.
fn resolve(
    field: &str,
    path: &str,
    reference: &ColumnRef,
    columns: &ColumnNames<'_>,
    delimited: bool,
) -> Result<(usize, String), FatalError> {
    match reference {
        ColumnRef::Index(index) if delimited && !columns.names.is_empty() && *index >= columns.names.len() => {
            Err(FatalError::bad_request(
                "COLUMN_NOT_FOUND",
                format!(
                    "{path}: column index {index} is past the {} columns of {} (indexes start at 0); fix the index in the profile",
                    columns.names.len(),
                    columns.origin
                ),
            )
            .with("field", format!("fields.{field}"))
            .with("path", path)
            .with("value", *index as u64))
        }
        ColumnRef::Index(index) if delimited => Ok((*index, index.to_string())),
        ColumnRef::Index(index) => Err(FatalError::bad_request(
            "PROFILE_INVALID",
            format!("{path}: fixed-width columns are referenced by name, not by index {index}"),
        )),
        ColumnRef::Name(name) => match columns.names.iter().position(|known| known == name) {
            Some(index) => Ok((index, name.clone())),
            None => Err(FatalError::bad_request(
                "COLUMN_NOT_FOUND",
                format!(
                    "{path}: column `{name}` is not in {}; the columns are: {}. Fix the column name in the profile{}",
                    columns.origin,
                    list_columns(columns.names),
                    header_hint(columns.names)
                ),
            )
            .with("field", format!("fields.{field}"))
            .with("path", path)
            .with("value", name.as_str())),
        },
    }
}

/// Returns a zone's IANA name, or its offset for a fixed zone.
fn zone_name(zone: &TimeZone) -> String {
    match zone.iana_name() {
        Some(name) => name.to_string(),
        None => zone.to_offset(jiff::Timestamp::UNIX_EPOCH).to_string(),
    }
}

/// The maximum length of a column name, and the maximum number of names, that a message lists.
const LISTED_NAME_CHARS: usize = 60;
const LISTED_NAMES: usize = 40;

/// Lists column names for a message, shortening long names and long lists.
fn list_columns(names: &[String]) -> String {
    let mut listed: Vec<String> = names
        .iter()
        .take(LISTED_NAMES)
        .map(|name| {
            if name.chars().count() > LISTED_NAME_CHARS {
                let start: String = name.chars().take(LISTED_NAME_CHARS).collect();
                format!("{start:?}... ({} bytes)", name.len())
            } else {
                format!("{name:?}")
            }
        })
        .collect();
    if names.len() > LISTED_NAMES {
        listed.push(format!("and {} more", names.len() - LISTED_NAMES));
    }
    listed.join(", ")
}

/// Suggests a fix when the header row looks misread: NUL characters come from UTF-16 read
/// as a single-byte encoding, and a single column from the wrong delimiter.
fn header_hint(names: &[String]) -> String {
    // The gzip magic bytes 1f 8b, decoded as UTF-8 (8b is invalid alone) or windows-1252.
    let starts_like_gzip = names.first().is_some_and(|name| {
        let mut chars = name.chars();
        chars.next() == Some('\u{1f}') && matches!(chars.next(), Some('\u{fffd}' | '\u{2039}' | '\u{8b}'))
    });
    if starts_like_gzip {
        return ". The file starts with the gzip magic bytes 1f 8b, so it is still compressed: set compression to \"auto\" or \"gzip\"".to_string();
    }
    if names.iter().any(|name| name.contains('\0')) {
        return ". The column names contain NUL characters, so the file is probably UTF-16 without a byte order mark: set encoding to utf-16le or utf-16be".to_string();
    }
    let [only] = names else {
        return String::new();
    };
    match [';', ',', '\t', '|']
        .into_iter()
        .find(|candidate| only.contains(*candidate))
    {
        Some(candidate) => format!(
            ". The header was read as a single column although it contains {candidate:?}: check format.delimiter"
        ),
        None => String::new(),
    }
}

/// A compiled date-time field.
#[derive(Debug, Clone)]
struct TimeField {
    field: CompiledField,
    parser: TimeParser,
}

impl TimeField {
    fn compile(
        name: &'static str,
        spec: &FieldSpec,
        columns: &ColumnNames<'_>,
        delimited: bool,
    ) -> Result<TimeField, FatalError> {
        let options = spec.options();
        let formats: Vec<String> = options
            .format
            .iter()
            .chain(options.formats.iter().flatten())
            .cloned()
            .collect();
        Ok(TimeField {
            field: CompiledField::compile(name, spec, columns, delimited)?,
            parser: TimeParser::new(&formats),
        })
    }
}

/// Maps records to events; built once the column names are known.
pub struct Mapper {
    source_name: String,
    carrier_zone: TimeZone,
    /// The offset cache for `carrier_zone`, the zone of most records.
    carrier_offsets: OffsetCache,
    /// Per-record zones by their text, behind a `RefCell` so mapping can borrow `self`.
    zones: std::cell::RefCell<ZoneCache>,
    statuses: StatusTable,
    has_status_column: bool,
    /// The number of fields every delimited record must have, when names are known.
    expected_fields: Option<usize>,
    tracking_number: CompiledField,
    event_datetime: TimeField,
    event_code: Option<CompiledField>,
    description: Option<CompiledField>,
    city: Option<CompiledField>,
    state: Option<CompiledField>,
    postal_code: Option<CompiledField>,
    country: Option<CompiledField>,
    company: Option<CompiledField>,
    signer: Option<CompiledField>,
    latitude: Option<CompiledField>,
    longitude: Option<CompiledField>,
    time_zone: Option<CompiledField>,
    shipped_datetime: Option<TimeField>,
    estimated_delivery_datetime: Option<TimeField>,
    service_code: Option<CompiledField>,
    service_name: Option<CompiledField>,
    weight: Option<CompiledField>,
    package_count: Option<CompiledField>,
    packaging: Option<CompiledField>,
}

impl Mapper {
    /// Compiles the profile's fields against the file's column names.
    pub fn new(profile: &Profile, columns: &ColumnNames<'_>, source_name: &str) -> Result<Mapper, FatalError> {
        let delimited = matches!(profile.format, Format::Delimited(_));
        let fields = &profile.fields;
        let plain = |name: &'static str, spec: &Option<FieldSpec>| {
            spec.as_ref()
                .map(|spec| CompiledField::compile(name, spec, columns, delimited))
                .transpose()
        };
        let timed = |name: &'static str, spec: &Option<FieldSpec>| {
            spec.as_ref()
                .map(|spec| TimeField::compile(name, spec, columns, delimited))
                .transpose()
        };
        let expected_fields = (delimited && !columns.names.is_empty()).then_some(columns.names.len());
        Ok(Mapper {
            source_name: source_name.to_string(),
            carrier_zone: TimeZone::get(&profile.time_zone)
                .map_err(|error| FatalError::bad_request("PROFILE_INVALID", format!("time_zone: {error}")))?,
            carrier_offsets: OffsetCache::default(),
            zones: std::cell::RefCell::new(ZoneCache::default()),
            statuses: StatusTable::new(&profile.statuses),
            has_status_column: fields.event_code.is_some(),
            expected_fields,
            tracking_number: CompiledField::compile("tracking_number", &fields.tracking_number, columns, delimited)?,
            event_datetime: TimeField::compile("event_datetime", &fields.event_datetime, columns, delimited)?,
            event_code: plain("event_code", &fields.event_code)?,
            description: plain("description", &fields.description)?,
            city: plain("city", &fields.city)?,
            state: plain("state", &fields.state)?,
            postal_code: plain("postal_code", &fields.postal_code)?,
            country: plain("country", &fields.country)?,
            company: plain("company", &fields.company)?,
            signer: plain("signer", &fields.signer)?,
            latitude: plain("latitude", &fields.latitude)?,
            longitude: plain("longitude", &fields.longitude)?,
            time_zone: plain("time_zone", &fields.time_zone)?,
            shipped_datetime: timed("shipped_datetime", &fields.shipped_datetime)?,
            estimated_delivery_datetime: timed("estimated_delivery_datetime", &fields.estimated_delivery_datetime)?,
            service_code: plain("service_code", &fields.service_code)?,
            service_name: plain("service_name", &fields.service_name)?,
            weight: plain("weight", &fields.weight)?,
            package_count: plain("package_count", &fields.package_count)?,
            packaging: plain("packaging", &fields.packaging)?,
        })
    }

    fn position(&self, line: u64) -> String {
        format!("{}:{}", self.source_name, line)
    }

    fn error(&self, record: &RecordView<'_>, unterminated: bool, message: String) -> RecordError {
        let hint = crate::lines::cut_short_note(unterminated);
        RecordError {
            message: format!("{}: {message}{hint}", self.position(record.line)),
        }
    }

    /// Maps one record; `unterminated` marks a last line without a line break.
    pub fn map(&mut self, record: &RecordView<'_>, unterminated: bool) -> Result<Event, RecordError> {
        if let Some(expected) = self.expected_fields {
            let found = count_fields(record, expected);
            if found != expected {
                // A bare CR is part of the line in a file whose first line break is LF or
                // CRLF, so two records joined by one show up here as too many fields. A CR
                // in a record with too few fields is data, so it gets no hint.
                let hint = if found > expected && record.text.contains('\r') {
                    " The line contains a carriage return (CR) without a line feed, which does not end a line in this file: if it separates two records, use one kind of line break in the whole file."
                } else {
                    ""
                };
                return Err(self.error(
                    record,
                    unterminated,
                    format!(
                        "expected {expected} fields, found {found}; check the line for a missing or unquoted delimiter.{hint} The record was skipped"
                    ),
                ));
            }
        }

        let Some(tracking_number) = self.tracking_number.read(record) else {
            return Err(self.error(
                record,
                unterminated,
                format!(
                    "field tracking_number ({}) is empty; the record was skipped",
                    self.tracking_number.label
                ),
            ));
        };

        let record_zone = self.record_zone(record, unterminated, &tracking_number)?;
        let zone = record_zone.as_ref().unwrap_or(&self.carrier_zone);
        let stamp = self.read_event_time(record, unterminated, &tracking_number, zone)?;

        let mut event = Event::new(stamp.timestamp);
        event.set(Text::TrackingNumber, &tracking_number);
        event.set_with(Text::EventDatetime, |text| stamp.write_utc(text));
        event.set_with(Text::EventDatetimeLocal, |text| stamp.write_local(text));

        let code = self.event_code.as_ref().and_then(|field| field.read(record));
        let mut extra = Extra::default();
        if stamp.in_gap {
            event.in_gap = true;
            extra.warnings.push(format!(
                "{}: event_datetime {:?} does not exist in the time zone {}, because the clocks were moved forward then; it was read as {}",
                self.position(record.line),
                self.event_datetime.field.read(record).unwrap_or_default(),
                zone_name(stamp.zone_in_value.as_ref().unwrap_or(zone)),
                stamp.local_rfc3339()
            ));
        }
        let (status, table_description) = self.status_of(code.as_deref(), record.line, &mut extra.warnings);
        event.status = status;
        if let Some(code) = &code {
            event.set(Text::EventCode, code);
        }
        match self.description.as_ref().and_then(|field| field.read(record)) {
            Some(description) => event.set(Text::Description, &description),
            None => {
                if let Some(description) = table_description {
                    event.set(Text::Description, description);
                }
            }
        }

        let plain = [
            (&self.city, Text::City),
            (&self.state, Text::State),
            (&self.postal_code, Text::PostalCode),
            (&self.country, Text::Country),
            (&self.company, Text::Company),
            (&self.signer, Text::Signer),
            (&self.service_code, Text::ServiceCode),
            (&self.service_name, Text::ServiceName),
            (&self.packaging, Text::Packaging),
        ];
        for (field, text) in plain {
            if let Some(value) = field.as_ref().and_then(|field| field.read(record)) {
                event.set(text, &value);
            }
        }

        self.set_optional_time(
            &self.shipped_datetime,
            Text::ShippedDatetime,
            record,
            zone,
            &mut event,
            &mut extra.warnings,
        );
        self.set_optional_time(
            &self.estimated_delivery_datetime,
            Text::EstimatedDeliveryDatetime,
            record,
            zone,
            &mut event,
            &mut extra.warnings,
        );
        extra.weight = self.number(&self.weight, record, &mut extra.warnings);
        extra.package_count = self.package_count(record, &mut extra.warnings);
        extra.geo = self.geo(record, &mut extra.warnings);
        event.set_extra(extra);
        Ok(event)
    }

    /// Returns the offset cache for `zone` when `zone` is the profile's `time_zone`. `map`
    /// passes that zone as a reference to `carrier_zone`, so the addresses are compared.
    fn offset_cache(&self, zone: &TimeZone) -> Option<&OffsetCache> {
        std::ptr::eq(zone, &self.carrier_zone).then_some(&self.carrier_offsets)
    }

    /// Reads the per-record time zone; `None` means the profile's `time_zone` applies.
    fn record_zone(
        &self,
        record: &RecordView<'_>,
        unterminated: bool,
        tracking_number: &str,
    ) -> Result<Option<TimeZone>, RecordError> {
        let Some(field) = &self.time_zone else {
            return Ok(None);
        };
        let Some(value) = field.read(record) else {
            return Ok(None);
        };
        let label = field.label.clone();
        let zone = self.zones.borrow_mut().get(&value);
        match zone {
            Ok(zone) => Ok(Some(zone)),
            Err(problem) => Err(self.error(
                record,
                unterminated,
                format!(
                    "tracking number {tracking_number}: invalid time_zone ({label}): {problem}; the record was skipped"
                ),
            )),
        }
    }

    fn read_event_time(
        &self,
        record: &RecordView<'_>,
        unterminated: bool,
        tracking_number: &str,
        zone: &TimeZone,
    ) -> Result<time::Stamp, RecordError> {
        let field = &self.event_datetime;
        let Some(value) = field.field.read(record) else {
            return Err(self.error(
                record,
                unterminated,
                format!(
                    "tracking number {tracking_number}: field event_datetime ({}) is empty; the record was skipped",
                    field.field.label
                ),
            ));
        };
        field.parser.parse(&value, zone, self.offset_cache(zone)).map_err(|problem| {
            self.error(
                record,
                unterminated,
                format!(
                    "tracking number {tracking_number}: invalid event_datetime {value:?} ({}): expected format {} ({problem}); fix the file or fields.event_datetime.format. The record was skipped",
                    field.field.label,
                    field.parser.describe()
                ),
            )
        })
    }

    /// Looks the status code up; returns the status and the table's description.
    fn status_of(
        &self,
        code: Option<&str>,
        line: u64,
        warnings: &mut Vec<String>,
    ) -> (StandardizedStatus, Option<&str>) {
        match code {
            Some(code) => match self.statuses.lookup(code) {
                Some((status, description)) => (status, description),
                None => {
                    warnings.push(format!(
                        "{}: carrier status code {code:?} is not in the profile's statuses table, so the event has status UN; add the code to statuses",
                        self.position(line)
                    ));
                    (StandardizedStatus::UN, None)
                }
            },
            None if self.has_status_column => {
                let label = self.event_code.as_ref().map_or("", |field| field.label.as_str());
                warnings.push(format!(
                    "{}: the carrier status code ({label}) is empty, so the event has status UN; set fields.event_code.default for records without a code",
                    self.position(line)
                ));
                (StandardizedStatus::UN, None)
            }
            None => (StandardizedStatus::UN, None),
        }
    }

    fn set_optional_time(
        &self,
        field: &Option<TimeField>,
        text: Text,
        record: &RecordView<'_>,
        zone: &TimeZone,
        event: &mut Event,
        warnings: &mut Vec<String>,
    ) {
        let Some(field) = field.as_ref() else {
            return;
        };
        let Some(value) = field.field.read(record) else {
            return;
        };
        match field.parser.parse(&value, zone, self.offset_cache(zone)) {
            Ok(stamp) => event.set_with(text, |out| stamp.write_utc(out)),
            Err(problem) => warnings.push(format!(
                "{}: invalid {} {value:?} ({}): expected format {} ({problem}); the value was left out",
                self.position(record.line),
                field.field.name,
                field.field.label,
                field.parser.describe()
            )),
        }
    }

    fn package_count(&self, record: &RecordView<'_>, warnings: &mut Vec<String>) -> Option<i32> {
        let count = self.number(&self.package_count, record, warnings)?;
        let whole = count.fract() == 0.0 && count >= 0.0 && count <= f64::from(i32::MAX);
        if !whole {
            let field = self.package_count.as_ref()?;
            let value = field.read(record).unwrap_or_default();
            warnings.push(format!(
                "{}: package_count {value:?} ({}) is not a whole number from 0 to {} and was left out",
                self.position(record.line),
                field.source_label(record),
                i32::MAX
            ));
        }
        whole.then_some(count as i32)
    }

    /// Reads a decimal number; a decimal comma is accepted when there is no point.
    fn number(
        &self,
        field: &Option<CompiledField>,
        record: &RecordView<'_>,
        warnings: &mut Vec<String>,
    ) -> Option<f64> {
        let field = field.as_ref()?;
        let value = field.read(record)?;
        let normalized: Cow<'_, str> = if value.contains(',') && !value.contains('.') {
            Cow::Owned(value.replace(',', "."))
        } else {
            Cow::Borrowed(value.as_ref())
        };
        // Rust reads "1e400" as infinity and "1e-400" as 0, and also accepts the words inf,
        // infinity and NaN.
        let mantissa = normalized.split(['e', 'E']).next().unwrap_or_default();
        let has_digit = mantissa.bytes().any(|byte| byte.is_ascii_digit());
        let problem = match normalized.parse::<f64>() {
            Ok(number) if number == 0.0 && mantissa.bytes().any(|byte| matches!(byte, b'1'..=b'9')) => {
                "is too close to 0 for a number"
            }
            Ok(number) if number.is_finite() => return Some(number),
            Ok(number) if number.is_infinite() && has_digit => "is outside the range of a number",
            Ok(_) => "is not a finite number",
            Err(_) => "is not a number",
        };
        warnings.push(format!(
            "{}: {} {value:?} ({}) {problem} and was left out",
            self.position(record.line),
            field.name,
            field.source_label(record)
        ));
        None
    }

    fn geo(&self, record: &RecordView<'_>, warnings: &mut Vec<String>) -> Option<(f64, f64)> {
        let latitude = self.number(&self.latitude, record, warnings);
        let longitude = self.number(&self.longitude, record, warnings);
        let (latitude, longitude) = (latitude?, longitude?);
        let mut out_of_range = Vec::new();
        // The message quotes the text as written, and names where it came from.
        let describe = |field: &Option<CompiledField>| match field {
            Some(field) => (
                field.read(record).map(Cow::into_owned).unwrap_or_default(),
                field.source_label(record).into_owned(),
            ),
            None => (String::new(), String::new()),
        };
        if !(-90.0..=90.0).contains(&latitude) {
            let (text, label) = describe(&self.latitude);
            out_of_range.push(format!("latitude {text:?} ({label}) is outside -90 to 90"));
        }
        if !(-180.0..=180.0).contains(&longitude) {
            let (text, label) = describe(&self.longitude);
            out_of_range.push(format!("longitude {text:?} ({label}) is outside -180 to 180"));
        }
        if !out_of_range.is_empty() {
            warnings.push(format!(
                "{}: {}, so the position was left out",
                self.position(record.line),
                out_of_range.join(" and ")
            ));
            return None;
        }
        Some((latitude, longitude))
    }
}

/// Counts fields, ignoring empty fields past `expected` (trailing delimiters).
fn count_fields(record: &RecordView<'_>, expected: usize) -> usize {
    let mut count = record.len();
    while count > expected && record.get(count - 1).is_some_and(|field| field.trim().is_empty()) {
        count -= 1;
    }
    count
}
