//! Profile validation: every problem is reported with its JSON path and the fix.

use std::fmt;

use super::{ColumnRef, FieldOptions, FieldSpec, Format, Profile};

/// An invalid profile: one line per problem, each naming the JSON path.
#[derive(Debug, Clone)]
pub struct ProfileError {
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone)]
pub struct Problem {
    /// A JSON path such as `format.delimiter` or `fields.event_datetime.format`.
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

/// Parses and validates a profile from JSON text.
pub fn parse_profile(json: &str) -> Result<Profile, ProfileError> {
    let profile = deserialize(json)?;

    let mut problems = Vec::new();
    check_source(&profile, &mut problems);
    check_encoding(&profile, &mut problems);
    check_time_zone(&profile, &mut problems);
    check_format(&profile, &mut problems);
    check_fields(&profile, &mut problems);
    check_statuses(&profile, &mut problems);
    if profile.grouping.max_open_shipments == 0 {
        push(
            &mut problems,
            "grouping.max_open_shipments",
            "must be at least 1",
        );
    }

    if problems.is_empty() {
        Ok(profile)
    } else {
        Err(ProfileError { problems })
    }
}

fn deserialize(json: &str) -> Result<Profile, ProfileError> {
    let deserializer = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let path = if path == "." { "(root)".to_string() } else { path };
        let inner = error.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("the profile is not valid JSON: {inner}")
        } else {
            format!("{inner}; see docs/profile.md for the allowed values")
        };
        ProfileError {
            problems: vec![Problem { path, message }],
        }
    })
}

fn push(problems: &mut Vec<Problem>, path: &str, message: impl Into<String>) {
    problems.push(Problem {
        path: path.to_string(),
        message: message.into(),
    });
}

fn check_source(profile: &Profile, problems: &mut Vec<Problem>) {
    let source = &profile.source;
    match (&source.path, &source.url) {
        (Some(_), Some(_)) => push(
            problems,
            "source",
            "set either `path` or `url`, not both",
        ),
        (None, None) => push(
            problems,
            "source",
            "set `path` (a local file) or `url` (an http or https address)",
        ),
        (Some(path), None) => check_placeholders(path, "source.path", problems),
        (None, Some(url)) => {
            check_placeholders(url, "source.url", problems);
            let probe = crate::source::template::replace_for_check(url);
            match url::Url::parse(&probe) {
                Ok(parsed) if parsed.scheme() == "http" || parsed.scheme() == "https" => {}
                Ok(parsed) => push(
                    problems,
                    "source.url",
                    format!(
                        "scheme `{}` is not supported; use http or https",
                        parsed.scheme()
                    ),
                ),
                Err(error) => push(
                    problems,
                    "source.url",
                    format!("`{url}` is not a valid URL: {error}"),
                ),
            }
        }
    }
    for (name, value) in &source.headers {
        check_placeholders(value, &format!("source.headers.{name}"), problems);
    }
    if let Some(auth) = &source.basic_auth {
        check_placeholders(&auth.username, "source.basic_auth.username", problems);
        check_placeholders(&auth.password, "source.basic_auth.password", problems);
    }
    for (path, seconds) in [
        ("source.connect_timeout_seconds", source.connect_timeout_seconds),
        ("source.read_timeout_seconds", source.read_timeout_seconds),
    ] {
        if !(seconds > 0.0 && seconds.is_finite()) {
            push(problems, path, format!("must be a positive number of seconds, not {seconds}"));
        }
    }
}

fn check_placeholders(template: &str, path: &str, problems: &mut Vec<Problem>) {
    if let Err(message) = crate::source::template::check_syntax(template) {
        push(problems, path, message);
    }
}

fn check_encoding(profile: &Profile, problems: &mut Vec<Problem>) {
    if encoding_rs::Encoding::for_label(profile.encoding.as_bytes()).is_none() {
        push(
            problems,
            "encoding",
            format!(
                "`{}` is not a known encoding label; use for example utf-8, iso-8859-1, windows-1252 or utf-16",
                profile.encoding
            ),
        );
    }
}

fn check_time_zone(profile: &Profile, problems: &mut Vec<Problem>) {
    if let Err(error) = jiff::tz::TimeZone::get(&profile.time_zone) {
        push(
            problems,
            "time_zone",
            format!(
                "`{}` is not an IANA time zone name ({error}); use for example Europe/Berlin or UTC",
                profile.time_zone
            ),
        );
    }
}

fn single_ascii_char(value: &str) -> Option<u8> {
    match value.as_bytes() {
        [byte] if byte.is_ascii() && *byte != b'\n' && *byte != b'\r' => Some(*byte),
        _ => None,
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
                        "`{}` must be one ASCII character such as `;`, `|`, `,` or a tab",
                        format.delimiter.escape_default()
                    ),
                );
            }
            if let Some(quote) = &format.quote {
                match single_ascii_char(quote) {
                    None => push(
                        problems,
                        "format.quote",
                        format!("`{quote}` must be one ASCII character, or null to turn quoting off"),
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
                        &format!("format.columns.{name}"),
                        format!("range [{start}, {end}] is empty; write [start, end] with start < end, end excluded"),
                    );
                }
                if let Some(length) = format.record_length {
                    if *end > length {
                        push(
                            problems,
                            &format!("format.columns.{name}"),
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
const DATETIME_FIELDS: [&str; 3] = [
    "event_datetime",
    "shipped_datetime",
    "estimated_delivery_datetime",
];

fn check_fields(profile: &Profile, problems: &mut Vec<Problem>) {
    for (name, spec) in profile.fields.iter() {
        let path = format!("fields.{name}");
        check_field(profile, name, spec, &path, problems);
    }
}

fn check_field(
    profile: &Profile,
    name: &str,
    spec: &FieldSpec,
    path: &str,
    problems: &mut Vec<Problem>,
) {
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

    let references = options
        .column
        .iter()
        .chain(options.columns.iter().flatten());
    for column in references {
        check_column_ref(profile, column, &format!("{path}.column"), problems);
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
    for format in formats {
        if let Err(message) = crate::map::time::check_format(format) {
            push(problems, &format!("{path}.format"), message);
        }
    }
}

fn check_column_ref(profile: &Profile, column: &ColumnRef, path: &str, problems: &mut Vec<Problem>) {
    match (&profile.format, column) {
        (Format::FixedWidth(format), ColumnRef::Name(name)) => {
            if !format.columns.contains_key(name) {
                let known: Vec<&str> = format.columns.keys().map(String::as_str).collect();
                push(
                    problems,
                    path,
                    format!(
                        "column `{name}` is not defined in format.columns; defined: {}",
                        known.join(", ")
                    ),
                );
            }
        }
        (Format::FixedWidth(_), ColumnRef::Index(index)) => push(
            problems,
            path,
            format!("fixed-width columns are referenced by name, not by index {index}; name the range in format.columns"),
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
        (Format::Delimited(_), ColumnRef::Index(_)) => {}
    }
}

fn check_statuses(profile: &Profile, problems: &mut Vec<Problem>) {
    for code in profile.statuses.keys() {
        let star = code.find('*');
        if code.is_empty() || code == "*" {
            push(
                problems,
                &format!("statuses.{code}"),
                "a status code must not be empty; unmapped codes already give UN with a warning",
            );
        } else if star.is_some_and(|position| position != code.len() - 1) {
            push(
                problems,
                &format!("statuses.{code}"),
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
