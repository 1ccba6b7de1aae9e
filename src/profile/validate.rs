//! Profile validation: every problem is reported with its JSON path and the fix.
//!
//! Validation has two steps. Reading (`super::read`) parses the JSON text and fills the
//! serde types, stopping at the first problem. The checks after it report every problem
//! they find.

use std::fmt;

use super::read::{format_number, key_path, quote_text, read_profile};
use super::{ColumnRef, FieldOptions, FieldSpec, Format, Profile};
use crate::map::time::NOT_PLACE_ZONES;

/// An invalid profile: one line per problem, each naming the JSON path.
#[derive(Debug, Clone)]
pub struct ProfileError {
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone)]
pub struct Problem {
    /// A JSON path such as `format.delimiter` or `fields.event_datetime.format`, or
    /// `(root)` for the whole profile.
    pub path: String,
    pub message: String,
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid carrier profile:")?;
        for problem in &self.problems {
            write!(f, "\n  {}: {}", problem.path, problem.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ProfileError {}

/// The path shown for a problem with the whole profile, such as a JSON syntax error.
pub(super) const ROOT_PATH: &str = "(root)";

/// The allowed range of `source.connect_timeout_seconds` and `source.read_timeout_seconds`.
/// The lower limit is 1 ms because Tokio timers have millisecond granularity, and it keeps
/// out values such as 1e-12 that become a zero `Duration`. The upper limit is one day,
/// because a longer wait for a connection or a read is a mistake in the profile, not a slow
/// server.
const MIN_TIMEOUT_SECONDS: f64 = 0.001;
const MAX_TIMEOUT_SECONDS: f64 = 86_400.0;

/// Parses and validates a profile from JSON text.
pub fn parse_profile(json: &str) -> Result<Profile, ProfileError> {
    let profile = read_profile(json).map_err(|problem| ProfileError {
        problems: vec![problem],
    })?;

    let mut problems = Vec::new();
    check_source(&profile, &mut problems);
    check_encoding(&profile, &mut problems);
    check_time_zone(&profile, &mut problems);
    check_format(&profile, &mut problems);
    check_fields(&profile, &mut problems);
    check_statuses(&profile, &mut problems);

    if problems.is_empty() {
        Ok(profile)
    } else {
        Err(ProfileError { problems })
    }
}

fn push(problems: &mut Vec<Problem>, path: &str, message: impl Into<String>) {
    problems.push(Problem {
        path: path.to_string(),
        message: message.into(),
    });
}

/// Headers that describe the message framing or the connection, which the HTTP client
/// sets itself.
const CLIENT_HEADERS: [&str; 7] = [
    "Connection",
    "Content-Length",
    "Keep-Alive",
    "TE",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
];

fn check_source(profile: &Profile, problems: &mut Vec<Problem>) {
    let source = &profile.source;
    match (&source.path, &source.url) {
        (Some(_), Some(_)) => push(problems, "source", "set either `path` or `url`, not both"),
        (None, None) => push(
            problems,
            "source",
            "set `path` (a local file) or `url` (an http or https address)",
        ),
        (Some(path), None) if path.trim().is_empty() => {
            push(problems, "source.path", "is empty; give the path of the carrier's file")
        }
        (Some(path), None) => check_placeholders(path, "source.path", problems),
        (None, Some(url)) => {
            check_placeholders(url, "source.url", problems);
            let probe = crate::source::template::replace_for_check(url);
            match url::Url::parse(&probe) {
                Ok(parsed) if parsed.scheme() == "http" || parsed.scheme() == "https" => {}
                Ok(parsed) => push(
                    problems,
                    "source.url",
                    format!("scheme `{}` is not supported; use http or https", parsed.scheme()),
                ),
                Err(error) => push(problems, "source.url", format!("`{url}` is not a valid URL: {error}")),
            }
        }
    }
    match source.ca_file.as_deref() {
        Some(file) if file.trim().is_empty() => {
            push(problems, "source.ca_file", "is empty; give the path of a PEM file of CA certificates, or remove it")
        }
        Some(file) if file.contains("{metadata.") => push(
            problems,
            "source.ca_file",
            "placeholders are not filled in source.ca_file, because the certificates a connection trusts belong to the app; give a fixed path",
        ),
        _ => {}
    }
    for (name, value) in &source.headers {
        let path = key_path("source.headers", name);
        if name.is_empty() {
            push(
                problems,
                &path,
                "a header name is empty; give the name, such as X-Api-Key",
            );
        } else if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            push(
                problems,
                &path,
                format!(
                    "`{}` is not a valid HTTP header name; use letters, digits and `-`",
                    quote_text(name)
                ),
            );
        } else if CLIENT_HEADERS.iter().any(|managed| managed.eq_ignore_ascii_case(name)) {
            // A Content-Length on a GET without a body, for one, makes a server wait for
            // bytes that never come.
            push(
                problems,
                &path,
                format!(
                    "`{name}` is set by the HTTP client, because it frames the message or the connection; remove it"
                ),
            );
        }
        if value.contains(['\r', '\n']) {
            push(
                problems,
                &path,
                "contains a line break, which an HTTP header value cannot hold; remove it",
            );
        } else if value.contains(crate::source::template::is_header_control) {
            push(
                problems,
                &path,
                "contains a control character, which an HTTP header value cannot hold; remove it",
            );
        }
        check_placeholders(value, &path, problems);
    }
    if let Some(auth) = &source.basic_auth {
        if auth.username.contains(':') {
            push(
                problems,
                "source.basic_auth.username",
                "contains `:`, which Basic authentication uses to separate the user name from the password (RFC 7617); remove it",
            );
        }
        // Base64 would carry a control character, but no real credential has one, and a
        // metadata value with one is rejected as well.
        for (path, value) in [
            ("source.basic_auth.username", &auth.username),
            ("source.basic_auth.password", &auth.password),
        ] {
            if value.contains(crate::source::template::is_header_control) {
                push(
                    problems,
                    path,
                    "contains a control character (a line break, for example), which is not part of any credential; remove it",
                );
            }
        }
        check_placeholders(&auth.username, "source.basic_auth.username", problems);
        check_placeholders(&auth.password, "source.basic_auth.password", problems);
    }
    for (path, seconds) in [
        ("source.connect_timeout_seconds", source.connect_timeout_seconds),
        ("source.read_timeout_seconds", source.read_timeout_seconds),
    ] {
        if !(MIN_TIMEOUT_SECONDS..=MAX_TIMEOUT_SECONDS).contains(&seconds) {
            push(
                problems,
                path,
                format!(
                    "must be a number of seconds from {MIN_TIMEOUT_SECONDS} to {MAX_TIMEOUT_SECONDS} (one day), not {}",
                    format_number(seconds)
                ),
            );
        }
    }
}

fn check_placeholders(template: &str, path: &str, problems: &mut Vec<Problem>) {
    if let Err(message) = crate::source::template::check_syntax(template) {
        push(problems, path, message);
    }
}

/// The encodings that encoding_rs decodes, without `replacement` and `x-user-defined`.
const SUPPORTED_ENCODINGS: [&encoding_rs::Encoding; 38] = [
    encoding_rs::UTF_8,
    encoding_rs::UTF_16LE,
    encoding_rs::UTF_16BE,
    encoding_rs::WINDOWS_1250,
    encoding_rs::WINDOWS_1251,
    encoding_rs::WINDOWS_1252,
    encoding_rs::WINDOWS_1253,
    encoding_rs::WINDOWS_1254,
    encoding_rs::WINDOWS_1255,
    encoding_rs::WINDOWS_1256,
    encoding_rs::WINDOWS_1257,
    encoding_rs::WINDOWS_1258,
    encoding_rs::WINDOWS_874,
    encoding_rs::ISO_8859_2,
    encoding_rs::ISO_8859_3,
    encoding_rs::ISO_8859_4,
    encoding_rs::ISO_8859_5,
    encoding_rs::ISO_8859_6,
    encoding_rs::ISO_8859_7,
    encoding_rs::ISO_8859_8,
    encoding_rs::ISO_8859_8_I,
    encoding_rs::ISO_8859_10,
    encoding_rs::ISO_8859_13,
    encoding_rs::ISO_8859_14,
    encoding_rs::ISO_8859_15,
    encoding_rs::ISO_8859_16,
    encoding_rs::IBM866,
    encoding_rs::KOI8_R,
    encoding_rs::KOI8_U,
    encoding_rs::MACINTOSH,
    encoding_rs::X_MAC_CYRILLIC,
    encoding_rs::SHIFT_JIS,
    encoding_rs::EUC_JP,
    encoding_rs::ISO_2022_JP,
    encoding_rs::EUC_KR,
    encoding_rs::GBK,
    encoding_rs::GB18030,
    encoding_rs::BIG5,
];

fn check_encoding(profile: &Profile, problems: &mut Vec<Problem>) {
    let label = &profile.encoding;
    let problem = match encoding_rs::Encoding::for_label(label.as_bytes()) {
        None => "is not a known encoding label",
        // `replacement` and its aliases, such as iso-2022-kr, decode every file to one U+FFFD.
        Some(encoding) if encoding == encoding_rs::REPLACEMENT => {
            "names the WHATWG replacement encoding, which decodes every file to a single U+FFFD"
        }
        // x-user-defined maps bytes 0x80-0xFF to private-use characters, never to letters.
        Some(encoding) if encoding == encoding_rs::X_USER_DEFINED => {
            "names x-user-defined, which decodes bytes 0x80-0xFF to private-use characters, not text"
        }
        Some(_) => return,
    };
    let names: Vec<&str> = SUPPORTED_ENCODINGS.iter().map(|encoding| encoding.name()).collect();
    push(
        problems,
        "encoding",
        format!(
            "`{}` {problem}; use one of {} (labels are not case-sensitive, and utf-16 means UTF-16LE)",
            quote_text(label),
            names.join(", ")
        ),
    );
}

fn check_time_zone(profile: &Profile, problems: &mut Vec<Problem>) {
    let name = profile.time_zone.as_str();
    let advice = "use an IANA name such as Europe/Berlin or UTC";
    let message = if name.trim().is_empty() {
        format!("must not be empty; {advice}")
    } else if NOT_PLACE_ZONES
        .iter()
        .any(|reserved| reserved.eq_ignore_ascii_case(name))
    {
        format!("`{}` is not the time zone of a place; {advice}", quote_text(name))
    } else if name.starts_with(['+', '-']) {
        format!(
            "`{}` is a UTC offset, which is only accepted per record in fields.time_zone; {advice}",
            quote_text(name)
        )
    } else if jiff::tz::TimeZone::get(name).is_err() {
        format!("`{}` is not an IANA time zone name; {advice}", quote_text(name))
    } else {
        return;
    };
    push(problems, "time_zone", message);
}

fn single_ascii_char(value: &str) -> Option<u8> {
    match value.as_bytes() {
        [byte] if byte.is_ascii() && *byte != b'\n' && *byte != b'\r' => Some(*byte),
        _ => None,
    }
}

/// Says why a delimiter or quote is not one ASCII character other than a line break.
fn describe_bad_character(value: &str, role: &str) -> String {
    let count = value.chars().count();
    if value.is_empty() {
        format!("the {role} is empty")
    } else if value == "\n" || value == "\r" {
        format!("a line break cannot be the {role}")
    } else if count == 1 {
        format!(
            "`{}` is not an ASCII character, so it cannot be the {role}",
            quote_text(value)
        )
    } else {
        format!(
            "`{}` is {count} characters, but the {role} is one character",
            quote_text(value)
        )
    }
}

fn check_format(profile: &Profile, problems: &mut Vec<Problem>) {
    match &profile.format {
        Format::Delimited(format) => {
            let delimiter = single_ascii_char(&format.delimiter);
            if delimiter.is_none() {
                push(
                    problems,
                    "format.delimiter",
                    format!(
                        "{}; use one ASCII character other than a line break, such as `;`, `|`, `,` or a tab",
                        describe_bad_character(&format.delimiter, "delimiter")
                    ),
                );
            }
            if let Some(quote) = &format.quote {
                match single_ascii_char(quote) {
                    None => push(
                        problems,
                        "format.quote",
                        format!(
                            "{}; use one ASCII character other than a line break, such as `\"`, or null to turn quoting off",
                            describe_bad_character(quote, "quote")
                        ),
                    ),
                    Some(byte) if Some(byte) == delimiter => push(
                        problems,
                        "format.quote",
                        "the quote character must differ from the delimiter",
                    ),
                    Some(_) => {}
                }
            }
            if format.header && format.columns.is_some() {
                push(
                    problems,
                    "format.columns",
                    "column names come from the header row; remove `columns` or set `header` to false",
                );
            }
            if let Some(columns) = &format.columns {
                check_unique(columns.iter().map(String::as_str), "format.columns", problems);
            }
        }
        Format::FixedWidth(format) => {
            if format.columns.is_empty() {
                push(problems, "format.columns", "name at least one column range");
            }
            for (name, [start, end]) in &format.columns {
                if start >= end {
                    push(
                        problems,
                        &key_path("format.columns", name),
                        format!("range [{start}, {end}] is empty; write [start, end] with start < end, end excluded"),
                    );
                }
                if let Some(length) = format.record_length {
                    if *end > length {
                        push(
                            problems,
                            &key_path("format.columns", name),
                            format!("range [{start}, {end}] ends after record_length {length}"),
                        );
                    }
                }
            }
        }
    }
}

fn check_unique<'a>(names: impl Iterator<Item = &'a str>, path: &str, problems: &mut Vec<Problem>) {
    let mut seen = std::collections::HashSet::new();
    for name in names {
        if !name.is_empty() && !seen.insert(name) {
            push(problems, path, format!("column name `{name}` appears twice"));
        }
    }
}

/// The date-time fields, which need `format` or `formats`.
const DATETIME_FIELDS: [&str; 3] = ["event_datetime", "shipped_datetime", "estimated_delivery_datetime"];

fn check_fields(profile: &Profile, problems: &mut Vec<Problem>) {
    for (name, spec) in profile.fields.iter() {
        let path = format!("fields.{name}");
        check_field(profile, name, spec, &path, problems);
    }
}

fn check_field(profile: &Profile, name: &str, spec: &FieldSpec, path: &str, problems: &mut Vec<Problem>) {
    let options: FieldOptions = spec.options();
    let sources = [
        options.column.is_some(),
        options.columns.is_some(),
        options.value.is_some(),
    ]
    .iter()
    .filter(|set| **set)
    .count();
    if sources != 1 {
        push(
            problems,
            path,
            "set exactly one of `column`, `columns` (joined with `separator`) and `value`",
        );
    }
    if let Some(columns) = &options.columns {
        if columns.is_empty() {
            push(problems, &format!("{path}.columns"), "list at least one column");
        }
    }
    if name == "tracking_number" && options.value.is_some() {
        push(
            problems,
            &format!("{path}.value"),
            "a constant tracking number would put every record into one shipment; map the tracking number from a column",
        );
    }

    if name == "time_zone" {
        let constants = [("value", &options.value), ("default", &options.default)];
        for (key, constant) in constants {
            let Some(zone) = constant else { continue };
            if let Err(reason) = crate::map::time::parse_zone(zone.trim()) {
                push(problems, &format!("{path}.{key}"), reason);
            }
        }
    }

    // Each reference is named by where it is written, so that a problem in a list of
    // columns points to its entry.
    if let Some(column) = &options.column {
        let column_path = match spec {
            FieldSpec::Column(_) => path.to_string(),
            FieldSpec::Full(_) => format!("{path}.column"),
        };
        check_column_ref(profile, column, &column_path, problems);
    }
    for (index, column) in options.columns.iter().flatten().enumerate() {
        check_column_ref(profile, column, &format!("{path}.columns[{index}]"), problems);
    }

    let is_datetime = DATETIME_FIELDS.contains(&name);
    let formats = options.format.iter().chain(options.formats.iter().flatten());
    let format_count = formats.clone().count();
    if !is_datetime && format_count > 0 {
        push(
            problems,
            &format!("{path}.format"),
            "only date-time fields take a format; remove it",
        );
    }
    if is_datetime && format_count == 0 {
        push(
            problems,
            &format!("{path}.format"),
            "a date-time field needs `format` (strftime style, for example %Y%m%d%H%M%S) or `formats`",
        );
    }
    if options.format.is_some() && options.formats.is_some() {
        push(
            problems,
            &format!("{path}.formats"),
            "set `format` or `formats`, not both",
        );
    }
    let paths = options
        .format
        .iter()
        .map(|format| (format, format!("{path}.format")))
        .chain(
            options
                .formats
                .iter()
                .flatten()
                .enumerate()
                .map(|(index, format)| (format, format!("{path}.formats[{index}]"))),
        );
    for (format, format_path) in paths {
        if let Err(message) = crate::map::time::check_format(format) {
            push(problems, &format_path, message);
        }
    }
}

fn check_column_ref(profile: &Profile, column: &ColumnRef, path: &str, problems: &mut Vec<Problem>) {
    if let ColumnRef::Name(name) = column {
        if name.trim().is_empty() {
            push(
                problems,
                path,
                "the column name is empty; give a column name or a 0-based column index",
            );
            return;
        }
    }
    match (&profile.format, column) {
        (Format::FixedWidth(format), ColumnRef::Name(name)) => {
            if !format.columns.contains_key(name) {
                let known: Vec<&str> = format.columns.keys().map(String::as_str).collect();
                let message = if known.is_empty() {
                    format!("column `{name}` is not defined, because format.columns is empty; add its range there")
                } else {
                    format!(
                        "column `{name}` is not defined in format.columns; defined: {}",
                        known.join(", ")
                    )
                };
                push(problems, path, message);
            }
        }
        (Format::FixedWidth(_), ColumnRef::Index(index)) => push(
            problems,
            path,
            format!(
                "fixed-width columns are referenced by name, not by index {index}; name the range in format.columns"
            ),
        ),
        (Format::Delimited(format), ColumnRef::Name(name)) => {
            if format.header {
                return; // Checked against the header row when the file is read.
            }
            match &format.columns {
                Some(columns) if columns.contains(name) => {}
                Some(columns) => push(
                    problems,
                    path,
                    format!(
                        "column `{name}` is not in format.columns ({})",
                        columns.join(", ")
                    ),
                ),
                None => push(
                    problems,
                    path,
                    format!("the file has no header, so `{name}` cannot be found; use a zero-based index or list names in format.columns"),
                ),
            }
        }
        (Format::Delimited(format), ColumnRef::Index(index)) => {
            if let Some(columns) = &format.columns {
                if *index >= columns.len() {
                    push(
                        problems,
                        path,
                        format!(
                            "column index {index} is past the {} names in format.columns (indexes start at 0); fix the index or add the column to format.columns",
                            columns.len()
                        ),
                    );
                }
            }
        }
    }
}

fn check_statuses(profile: &Profile, problems: &mut Vec<Problem>) {
    for code in profile.statuses.keys() {
        let star = code.find('*');
        if code.is_empty() {
            push(
                problems,
                &key_path("statuses", code),
                "a status code must not be empty; unmapped codes already give UN with a warning",
            );
        } else if code == "*" {
            push(
                problems,
                &key_path("statuses", code),
                "`*` alone would match every code; map the codes one by one or by a prefix such as `N*`, because unmapped codes give UN with a warning that names them",
            );
        } else if star.is_some_and(|position| position != code.len() - 1) {
            push(
                problems,
                &key_path("statuses", code),
                "`*` is allowed only at the end, as a prefix match such as `N*`",
            );
        }
    }
}

impl super::Fields {
    /// Lists the mapped fields with their profile names, in a fixed order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &FieldSpec)> + Clone {
        let optional = [
            ("event_code", &self.event_code),
            ("description", &self.description),
            ("city", &self.city),
            ("state", &self.state),
            ("postal_code", &self.postal_code),
            ("country", &self.country),
            ("company", &self.company),
            ("signer", &self.signer),
            ("latitude", &self.latitude),
            ("longitude", &self.longitude),
            ("time_zone", &self.time_zone),
            ("shipped_datetime", &self.shipped_datetime),
            ("estimated_delivery_datetime", &self.estimated_delivery_datetime),
            ("service_code", &self.service_code),
            ("service_name", &self.service_name),
            ("weight", &self.weight),
            ("package_count", &self.package_count),
            ("packaging", &self.packaging),
        ];
        [
            ("tracking_number", &self.tracking_number),
            ("event_datetime", &self.event_datetime),
        ]
        .into_iter()
        .chain(
            optional
                .into_iter()
                .filter_map(|(name, spec)| spec.as_ref().map(|spec| (name, spec))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    use crate::profile::read::whole_number;

    fn valid() -> Value {
        json!({
            "source": { "path": "/data/scans.csv" },
            "time_zone": "Europe/Berlin",
            "format": { "type": "delimited", "delimiter": ";" },
            "fields": {
                "tracking_number": "PARCELNO",
                "event_datetime": { "column": "SCAN_DATE", "format": "%Y%m%d" }
            }
        })
    }

    /// Returns the valid profile with `change` applied, as JSON text.
    fn with(change: impl FnOnce(&mut Value)) -> String {
        let mut profile = valid();
        change(&mut profile);
        profile.to_string()
    }

    /// Returns the problems of an invalid profile as `path: message` lines.
    fn problems(json: &str) -> Vec<String> {
        match parse_profile(json) {
            Ok(_) => panic!("the profile was accepted: {json}"),
            Err(error) => error
                .problems
                .iter()
                .map(|problem| format!("{}: {}", problem.path, problem.message))
                .collect(),
        }
    }

    fn only_problem(json: &str) -> String {
        let problems = problems(json);
        assert_eq!(problems.len(), 1, "{problems:?}");
        problems.into_iter().next().unwrap_or_default()
    }

    fn assert_accepted(json: &str) -> Profile {
        match parse_profile(json) {
            Ok(profile) => profile,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn valid_profile_is_accepted() {
        assert_accepted(&valid().to_string());
    }

    #[test]
    fn shipped_profiles_are_accepted() {
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir("examples/profiles")
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        files.push("bench/profile.json".into());
        assert!(files.len() > 1);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            if let Err(error) = parse_profile(&text) {
                panic!("{}: {error}", file.display());
            }
        }
    }

    #[test]
    fn unknown_nested_field_names_key_and_choices() {
        let message = only_problem(&with(|p| p["fields"]["event_datetime"]["fromat"] = json!("%Y")));
        assert_eq!(
            message,
            "fields.event_datetime.fromat: unknown field `fromat`; expected one of `column`, `columns`, `separator`, `value`, `default`, `trim`, `format`, `formats`"
        );
    }

    #[test]
    fn unknown_top_level_field() {
        let message = only_problem(&with(|p| p["sourse"] = json!({})));
        assert!(
            message.starts_with("sourse: unknown field `sourse`; expected one of `$schema`, "),
            "{message}"
        );
        assert!(message.contains("`source`"), "{message}");
    }

    #[test]
    fn unknown_field_in_status_object() {
        let message = only_problem(&with(|p| {
            p["statuses"] = json!({ "13": { "status": "DE", "desc": "x" } })
        }));
        assert_eq!(
            message,
            "statuses.13.desc: unknown field `desc`; expected one of `status`, `description`"
        );
    }

    #[test]
    fn unknown_field_of_other_format_type() {
        let message =
            only_problem(&with(
                |p| {
                    p["format"] = json!({ "type": "fixed-width", "delimiter": ";", "columns": { "PARCELNO": [0, 14] } })
                },
            ));
        assert_eq!(
            message,
            "format.delimiter: unknown field `delimiter`; expected one of `columns`, `skip_lines`, `record_length`"
        );
    }

    #[test]
    fn missing_field_names_parent_and_key() {
        let message = only_problem(&with(|p| {
            p["fields"].as_object_mut().unwrap().remove("tracking_number");
        }));
        assert_eq!(
            message,
            "fields: the required field `tracking_number` is missing; add it"
        );
    }

    #[test]
    fn negative_column_index_is_not_a_column() {
        let message = only_problem(&with(|p| p["fields"]["tracking_number"] = json!(-1)));
        assert_eq!(
            message,
            "fields.tracking_number: -1 is not a column; use a column name (text) or a 0-based column index (whole number >= 0)"
        );
    }

    #[test]
    fn fractional_column_index_is_not_a_column() {
        let message = only_problem(&with(|p| p["fields"]["tracking_number"] = json!(1.5)));
        assert!(
            message.starts_with("fields.tracking_number: 1.5 is not a column; "),
            "{message}"
        );
    }

    #[test]
    fn constant_time_zone_field_is_checked() {
        let message = only_problem(&with(|p| p["fields"]["time_zone"] = json!({ "value": "Mars/Base" })));
        assert!(message.starts_with("fields.time_zone.value: "), "{message}");
        assert!(message.contains("Mars/Base"), "{message}");
        let message = only_problem(&with(|p| {
            p["fields"]["time_zone"] = json!({ "column": "TZ", "default": "+25:00" })
        }));
        assert!(message.starts_with("fields.time_zone.default: "), "{message}");
        assert_accepted(
            &with(|p| p["fields"]["time_zone"] = json!({ "column": "TZ", "default": "Europe/Vienna" })).to_string(),
        );
    }

    #[test]
    fn column_index_past_format_columns() {
        let message = only_problem(&with(|p| {
            p["format"] = json!({ "type": "delimited", "delimiter": ";", "header": false, "columns": ["PARCELNO", "SCAN_CODE", "SCAN_DATE_TIME"] });
            p["fields"] = json!({ "tracking_number": "PARCELNO", "event_datetime": { "column": 2, "format": "%Y%m%d%H%M%S" }, "city": 3 });
        }));
        assert_eq!(
            message,
            "fields.city: column index 3 is past the 3 names in format.columns (indexes start at 0); fix the index or add the column to format.columns"
        );
    }

    #[test]
    fn unusual_keys_quoted_in_paths() {
        let statuses = |table: Value| with(|p| p["statuses"] = table);
        assert!(only_problem(&statuses(json!({ "": "DE" }))).starts_with(r#"statuses[""]: "#));
        assert!(only_problem(&statuses(json!({ "a.b*c": "DE" }))).starts_with(r#"statuses["a.b*c"]: "#));
        assert!(only_problem(&statuses(json!({ "*": "DE" }))).starts_with("statuses.*: "));
        // A reading error: the status is neither text nor an object.
        assert!(only_problem(&statuses(json!({ "x y": 5 }))).starts_with(r#"statuses["x y"]: "#));
        let header = only_problem(&with(|p| {
            p["source"] = json!({ "url": "https://127.0.0.1/scans.csv", "headers": { "X Key": "v" } })
        }));
        assert!(header.starts_with(r#"source.headers["X Key"]: "#), "{header}");
        let unknown_top_level = only_problem(&with(|p| p["time zone"] = json!("UTC")));
        assert!(
            unknown_top_level.starts_with(r#"["time zone"]: "#),
            "{unknown_top_level}"
        );
    }

    #[test]
    fn key_path_quotes_and_escapes() {
        let cases = [
            ("N1", "statuses.N1"),
            ("*", "statuses.*"),
            ("Zustellung-ä", "statuses.Zustellung-ä"),
            ("", r#"statuses[""]"#),
            ("N 1", r#"statuses["N 1"]"#),
            ("a.b", r#"statuses["a.b"]"#),
            ("say \"hi\"", r#"statuses["say \"hi\""]"#),
            ("back\\slash", r#"statuses["back\\slash"]"#),
            ("a\u{85}b", r#"statuses["a\u0085b"]"#),
            ("a\u{feff}b", r#"statuses["a\ufeffb"]"#),
            ("a\u{202e}b", r#"statuses["a\u202eb"]"#),
            ("a\u{1}b", r#"statuses["a\u0001b"]"#),
            ("a\u{e0001}b", r#"statuses["a\udb40\udc01b"]"#),
            ("€", r#"statuses["\u20ac"]"#),
            ("A\u{3164}B", r#"statuses["A\u3164B"]"#),
        ];
        for (key, expected) in cases {
            assert_eq!(key_path("statuses", key), expected, "{key:?}");
        }
        assert_eq!(key_path("", "time zone"), r#"["time zone"]"#);
        assert_eq!(key_path("", "fields"), "fields");
    }

    #[test]
    fn repeated_key_path_quotes_keys() {
        let json = |statuses: &str| {
            let mut profile = valid().to_string();
            profile.pop();
            format!(r#"{profile},"statuses":{statuses}}}"#)
        };
        let message = only_problem(&json(r#"{"N 1": {"status": "DE", "status": "IT"}}"#));
        assert!(
            message.starts_with(r#"statuses["N 1"]: the field `status` appears twice"#),
            "{message}"
        );
        let message = only_problem(&json(r#"{"a.b": {"status": "DE", "status": "IT"}}"#));
        assert!(message.starts_with(r#"statuses["a.b"]: "#), "{message}");
        let message = only_problem(&json(r#"{"N1": "DE", "N1": "IT"}"#));
        assert!(
            message.starts_with("statuses: the field `N1` appears twice"),
            "{message}"
        );
    }

    #[test]
    fn column_problem_paths_name_the_reference() {
        let set_columns = |p: &mut Value, city: Value| {
            p["format"] = json!({ "type": "delimited", "delimiter": ";", "header": false, "columns": ["PARCELNO", "SCAN_DATE_TIME", "CITY"] });
            p["fields"] =
                json!({ "tracking_number": "PARCELNO", "event_datetime": { "column": 1, "format": "%Y%m%d%H%M%S" } });
            p["fields"]["city"] = city;
        };
        let cases = [
            (json!("TOWN"), "fields.city: "),
            (json!({ "column": "TOWN" }), "fields.city.column: "),
            (json!({ "columns": ["CITY", "TOWN"] }), "fields.city.columns[1]: "),
            (json!({ "columns": ["TOWN", "CITY"] }), "fields.city.columns[0]: "),
        ];
        for (city, expected_start) in cases {
            let message = only_problem(&with(|p| set_columns(p, city.clone())));
            assert!(message.starts_with(expected_start), "{city}: {message}");
            assert!(message.contains("`TOWN`"), "{city}: {message}");
        }
    }

    #[test]
    fn column_index_in_columns_list_has_index_path() {
        let message = only_problem(&with(|p| p["fields"]["city"] = json!({ "columns": ["CITY", -2] })));
        assert!(
            message.starts_with("fields.city.columns[1]: -2 is not a column; "),
            "{message}"
        );
    }

    #[test]
    fn whole_float_column_index_is_an_index() {
        let profile = assert_accepted(
            r#"{"source": {"path": "/x"}, "time_zone": "UTC",
            "format": {"type": "delimited", "delimiter": ";", "header": false},
            "fields": {"tracking_number": 2.0, "event_datetime": {"column": 0, "format": "%Y%m%d"}}}"#,
        );
        assert_eq!(
            profile.fields.tracking_number.options().column,
            Some(ColumnRef::Index(2))
        );
    }

    #[test]
    fn field_of_wrong_type_lists_accepted_shapes() {
        let message = only_problem(&with(|p| p["fields"]["tracking_number"] = json!(true)));
        assert!(
            message.starts_with("fields.tracking_number: must be a column name (text), a 0-based column index"),
            "{message}"
        );
        assert!(message.ends_with(", not true"), "{message}");
    }

    #[test]
    fn trim_must_be_boolean() {
        let message = only_problem(&with(|p| {
            p["fields"]["city"] = json!({ "column": "CITY", "trim": "yes" })
        }));
        assert_eq!(message, "fields.city.trim: must be true or false, not the text `yes`");
    }

    #[test]
    fn text_field_of_wrong_type() {
        let message = only_problem(&with(|p| p["format"]["delimiter"] = json!(59)));
        assert_eq!(message, "format.delimiter: must be text, not 59");
    }

    #[test]
    fn unknown_status_code_lists_connect_statuses() {
        let message = only_problem(&with(|p| p["statuses"] = json!({ "1": "XX" })));
        assert_eq!(
            message,
            "statuses.1: `XX` is not a Connect status; use one of UN, AC, IT, DE, EX, AT, NY, SP"
        );
    }

    #[test]
    fn lower_case_status_code_gets_hint() {
        let message = only_problem(&with(|p| p["statuses"] = json!({ "1": "de" })));
        assert!(message.ends_with("; the codes are upper case"), "{message}");
    }

    #[test]
    fn status_object_with_unknown_code() {
        let message = only_problem(&with(|p| p["statuses"] = json!({ "N*": { "status": "XX" } })));
        assert!(
            message.starts_with("statuses.N*.status: `XX` is not a Connect status; "),
            "{message}"
        );
    }

    #[test]
    fn status_entry_of_wrong_type() {
        let message = only_problem(&with(|p| p["statuses"] = json!({ "1": 13 })));
        assert!(
            message.starts_with("statuses.1: must be a Connect status such as \"DE\", or an object"),
            "{message}"
        );
        assert!(message.ends_with(", not 13"), "{message}");
    }

    #[test]
    fn status_entries_keep_description() {
        let profile = assert_accepted(&with(|p| {
            p["statuses"] = json!({ "13": "DE", "14": { "status": "AT", "description": "Attempted" } })
        }));
        assert_eq!(profile.statuses["13"].status(), super::super::StandardizedStatus::DE);
        assert_eq!(profile.statuses["14"].description(), Some("Attempted"));
    }

    #[test]
    fn unknown_enum_value_lists_choices() {
        let message = only_problem(&with(|p| p["update_method"] = json!("merge")));
        assert_eq!(
            message,
            "update_method: `merge` is not allowed; use one of `append`, `replace`"
        );
        let message = only_problem(&with(|p| p["compression"] = json!(5)));
        assert_eq!(message, "compression: must be one of `auto`, `none`, `gzip`, not 5");
    }

    #[test]
    fn format_type_missing_or_unknown() {
        let message = only_problem(&with(|p| {
            p["format"].as_object_mut().unwrap().remove("type");
        }));
        assert_eq!(message, "format: the required field `type` is missing; add it");
        let message = only_problem(&with(|p| p["format"]["type"] = json!("json")));
        assert_eq!(
            message,
            "format.type: `json` is not allowed; use one of `delimited`, `fixed-width`"
        );
    }

    #[test]
    fn format_reads_type_in_any_key_order() {
        let format: Format =
            serde_json::from_str(r#"{"delimiter": "|", "skip_lines": 2, "type": "delimited"}"#).unwrap();
        let Format::Delimited(format) = format else {
            panic!("expected a delimited format");
        };
        assert_eq!(format.delimiter, "|");
        assert_eq!(format.skip_lines, 2);
    }

    #[test]
    fn profile_must_be_an_object() {
        assert_eq!(
            only_problem("[]"),
            "(root): the profile must be a JSON object, not a list"
        );
        assert_eq!(only_problem("42"), "(root): the profile must be a JSON object, not 42");
        assert_eq!(
            only_problem("null"),
            "(root): the profile must be a JSON object, not null"
        );
    }

    #[test]
    fn negative_count_must_be_whole_number() {
        let message = only_problem(&with(|p| p["format"]["skip_lines"] = json!(-1)));
        assert_eq!(message, "format.skip_lines: must be a whole number >= 0, not -1");
        let message = only_problem(&with(|p| p["format"]["skip_lines"] = json!(1.5)));
        assert_eq!(message, "format.skip_lines: must be a whole number >= 0, not 1.5");
    }

    #[test]
    fn too_large_count_names_maximum() {
        let message = only_problem(&with(|p| p["grouping"] = json!({ "max_open_shipments": 1e21 })));
        assert_eq!(
            message,
            "grouping.max_open_shipments: must be a whole number from 1 to 18446744073709551615, not 1e21"
        );
    }

    #[test]
    fn window_size_must_be_positive() {
        let window = |value: Value| only_problem(&with(|p| p["grouping"] = json!({ "max_open_shipments": value })));
        assert_eq!(
            window(json!(0)),
            "grouping.max_open_shipments: must be a whole number >= 1, not 0"
        );
        assert_eq!(
            window(json!(-1)),
            "grouping.max_open_shipments: must be a whole number >= 1, not -1"
        );
        assert_eq!(
            window(json!(2.5)),
            "grouping.max_open_shipments: must be a whole number >= 1, not 2.5"
        );
        assert_eq!(
            window(json!("10")),
            "grouping.max_open_shipments: must be a whole number >= 1, not the text `10`"
        );
    }

    #[test]
    fn large_counts_and_positions_are_accepted() {
        let profile = assert_accepted(&with(|p| {
            p["grouping"] = json!({ "max_open_shipments": 1_000_000_000_000u64 });
            p["format"] = json!({ "type": "fixed-width", "columns": {
                "PARCELNO": [0, 1_000_000_000_000_000u64], "SCAN_DATE": [0, 8] } });
        }));
        assert_eq!(profile.grouping.max_open_shipments, 1_000_000_000_000);
    }

    #[test]
    fn fixed_width_range_shape() {
        let range = |value: Value| {
            only_problem(&with(
                |p| {
                    p["format"] =
                        json!({ "type": "fixed-width", "columns": { "PARCELNO": value, "SCAN_DATE": [0, 8] } })
                },
            ))
        };
        let expected =
            "format.columns.PARCELNO: must be a range [start, end] of 0-based character positions, such as [0, 20]";
        assert_eq!(range(json!([1])), format!("{expected}, not a list of 1 item"));
        assert_eq!(range(json!([1, 2, 3])), format!("{expected}, not a list of 3 items"));
        assert_eq!(range(json!("0-20")), format!("{expected}, not the text `0-20`"));
        assert_eq!(
            range(json!([-1, 2])),
            "format.columns.PARCELNO[0]: must be a whole number >= 0, not -1"
        );
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        assert_eq!(
            only_problem(r#"{"a":"#),
            "(root): the profile is not valid JSON: the text ends before a value is complete at line 1, column 5"
        );
        assert_eq!(
            only_problem("{\n  \"time_zone\": \"UTC\"\n  \"format\": {}\n}"),
            "(root): the profile is not valid JSON: expected `,` or `}` at line 3, column 3"
        );
    }

    #[test]
    fn text_after_profile_is_syntax_error() {
        let message = only_problem(&format!("{} x", valid()));
        assert!(
            message.starts_with("(root): the profile is not valid JSON: there is more text after"),
            "{message}"
        );
    }

    #[test]
    fn empty_text_is_reported() {
        assert_eq!(only_problem(" \n"), "(root): the profile is empty; pass a JSON object");
    }

    #[test]
    fn repeated_key_is_reported_with_position() {
        let message = only_problem(r#"{"source": {"path": "/a"}, "source": {"path": "/b"}}"#);
        assert_eq!(
            message,
            "(root): the field `source` appears twice at line 1, column 35; keep only one"
        );
        let message = only_problem(r#"{"source": {"path": "/a", "path": "/b"}}"#);
        assert!(
            message.starts_with("source: the field `path` appears twice at line 1"),
            "{message}"
        );
    }

    #[test]
    fn type_errors_have_no_text_position() {
        for json in [
            with(|p| p["fields"]["tracking_number"] = json!(-1)),
            with(|p| p["sourse"] = json!(1)),
            "[]".to_string(),
        ] {
            let message = only_problem(&json);
            assert!(!message.contains("line"), "{message}");
            assert!(!message.contains("column 1"), "{message}");
        }
    }

    #[test]
    fn timeouts_must_be_within_one_day() {
        for (value, shown) in [
            (json!(1e300), "1e300"),
            (json!(86_401), "86401"),
            (json!(-5), "-5"),
            (json!(0), "0"),
        ] {
            let message = only_problem(&with(|p| p["source"]["read_timeout_seconds"] = value.clone()));
            assert_eq!(
                message,
                format!("source.read_timeout_seconds: must be a number of seconds from 0.001 to 86400 (one day), not {shown}")
            );
        }
    }

    #[test]
    fn timeout_that_rounds_to_zero_is_rejected() {
        let message = only_problem(&with(|p| p["source"]["connect_timeout_seconds"] = json!(1e-12)));
        assert!(
            message.starts_with("source.connect_timeout_seconds: must be a number of seconds from 0.001"),
            "{message}"
        );
        assert!(message.ends_with(", not 1e-12"), "{message}");
    }

    #[test]
    fn timeout_limits_are_accepted_and_convert() {
        for seconds in [MIN_TIMEOUT_SECONDS, 0.5, MAX_TIMEOUT_SECONDS] {
            let profile = assert_accepted(&with(|p| {
                p["source"]["connect_timeout_seconds"] = json!(seconds);
                p["source"]["read_timeout_seconds"] = json!(seconds);
            }));
            let duration = std::time::Duration::try_from_secs_f64(profile.source.read_timeout_seconds).unwrap();
            assert!(!duration.is_zero());
        }
    }

    #[test]
    fn encodings_that_are_not_text_are_rejected() {
        for label in ["replacement", "iso-2022-kr", "x-user-defined"] {
            let message = only_problem(&with(|p| p["encoding"] = json!(label)));
            assert!(message.starts_with(&format!("encoding: `{label}` names ")), "{message}");
            assert!(
                message.contains("; use one of UTF-8, UTF-16LE, UTF-16BE, windows-1250, "),
                "{message}"
            );
        }
    }

    #[test]
    fn unknown_encoding_lists_supported() {
        let message = only_problem(&with(|p| p["encoding"] = json!("utf-9")));
        assert!(
            message.starts_with("encoding: `utf-9` is not a known encoding label; use one of UTF-8, "),
            "{message}"
        );
        assert!(message.contains("ISO-2022-JP"), "{message}");
        assert!(!message.contains("replacement,"), "{message}");
    }

    #[test]
    fn text_encodings_are_accepted() {
        for label in [
            "utf-8",
            "UTF-16BE",
            "utf-16le",
            "utf-16",
            "latin1",
            "iso-2022-jp",
            "shift_jis",
        ] {
            assert_accepted(&with(|p| p["encoding"] = json!(label)));
        }
    }

    #[test]
    fn supported_encodings_are_distinct_and_known() {
        let names: std::collections::HashSet<&str> =
            SUPPORTED_ENCODINGS.iter().map(|encoding| encoding.name()).collect();
        assert_eq!(names.len(), SUPPORTED_ENCODINGS.len());
        for name in names {
            assert!(encoding_rs::Encoding::for_label(name.as_bytes()).is_some(), "{name}");
        }
    }

    #[test]
    fn time_zones_that_are_not_places_are_rejected() {
        for name in ["localtime", "Factory", "FACTORY", "posixrules"] {
            let message = only_problem(&with(|p| p["time_zone"] = json!(name)));
            assert_eq!(
                message,
                format!("time_zone: `{name}` is not the time zone of a place; use an IANA name such as Europe/Berlin or UTC")
            );
        }
    }

    #[test]
    fn unknown_time_zone_and_offset() {
        let message = only_problem(&with(|p| p["time_zone"] = json!("Europe/Berlinn")));
        assert_eq!(
            message,
            "time_zone: `Europe/Berlinn` is not an IANA time zone name; use an IANA name such as Europe/Berlin or UTC"
        );
        let message = only_problem(&with(|p| p["time_zone"] = json!("+02:00")));
        assert!(
            message.contains("is a UTC offset, which is only accepted per record in fields.time_zone"),
            "{message}"
        );
        let message = only_problem(&with(|p| p["time_zone"] = json!("")));
        assert_eq!(
            message,
            "time_zone: must not be empty; use an IANA name such as Europe/Berlin or UTC"
        );
    }

    #[test]
    fn real_time_zones_are_accepted() {
        for name in ["UTC", "Europe/Berlin", "europe/berlin", "America/Chicago", "Etc/GMT+2"] {
            assert_accepted(&with(|p| p["time_zone"] = json!(name)));
        }
    }

    #[test]
    fn long_values_are_shortened() {
        let message = only_problem(&with(|p| p["update_method"] = json!("x".repeat(200))));
        assert!(
            message.starts_with(&format!("update_method: `{}…` is not allowed", "x".repeat(60))),
            "{message}"
        );
    }

    #[test]
    fn numbers_are_formatted_like_json() {
        assert_eq!(format_number(1.5), "1.5");
        assert_eq!(format_number(-1.0), "-1");
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(1e300), "1e300");
        assert_eq!(format_number(1e-12), "1e-12");
    }

    #[test]
    fn whole_number_bounds() {
        assert_eq!(whole_number(3.0), Some(3));
        assert_eq!(whole_number(-1.0), None);
        assert_eq!(whole_number(0.5), None);
        assert_eq!(whole_number(18_446_744_073_709_551_616.0), None);
        assert_eq!(whole_number(f64::INFINITY), None);
    }
}
