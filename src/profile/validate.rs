//! Profile validation: every problem is reported with its JSON path and the fix.
//!
//! Validation has two steps. Reading parses the JSON text and fills the serde types through
//! `ValueReader`, a deserializer over `serde_json::Value` whose errors carry the JSON path
//! and a plain message. Reading stops at the first problem. The checks after it report
//! every problem they find.

use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, Expected, MapAccess, SeqAccess, Unexpected, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{ColumnRef, FieldOptions, FieldSpec, Format, Profile};

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
const ROOT_PATH: &str = "(root)";

/// The allowed range of `source.connect_timeout_seconds` and `source.read_timeout_seconds`.
/// The lower limit is 1 ms because Tokio timers have millisecond granularity, and it keeps
/// out values such as 1e-12 that become a zero `Duration`. The upper limit is one day, far
/// below the values for which `Duration::from_secs_f64` in `source::http` panics.
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

/// Parses the JSON text and fills the profile types, stopping at the first problem.
fn read_profile(json: &str) -> Result<Profile, Problem> {
    let value = parse_json(json)?;
    let root = JsonPath::Root;
    Profile::deserialize(ValueReader {
        value: &value,
        path: &root,
    })
    .map_err(|error| Problem {
        path: error.path.unwrap_or_else(|| ROOT_PATH.to_string()),
        message: error.message,
    })
}

/// Parses JSON text into a value. Errors give the line and column, because the text is the
/// user's, and an object that repeats a key is rejected instead of keeping the last value.
fn parse_json(json: &str) -> Result<Value, Problem> {
    if json.trim().is_empty() {
        return Err(Problem {
            path: ROOT_PATH.to_string(),
            message: "the profile is empty; pass a JSON object".to_string(),
        });
    }

    let mut deserializer = serde_json::Deserializer::from_str(json);
    let value = match serde_path_to_error::deserialize::<_, UniqueKeys>(&mut deserializer) {
        Ok(UniqueKeys(value)) => value,
        Err(error) if error.inner().is_data() => {
            // The only data error is a repeated key, reported at the object that repeats it.
            let path = error.path().to_string();
            let path = if path == "." { ROOT_PATH.to_string() } else { path };
            let (message, line, column) = split_position(error.inner());
            return Err(Problem {
                path,
                message: format!("{message} at line {line}, column {column}; keep only one"),
            });
        }
        Err(error) => return Err(syntax_problem(error.inner())),
    };
    deserializer.end().map_err(|error| syntax_problem(&error))?;
    Ok(value)
}

fn syntax_problem(error: &serde_json::Error) -> Problem {
    let (message, line, column) = split_position(error);
    let message = if let Some(what) = message.strip_prefix("EOF while parsing ") {
        format!("the text ends before {what} is complete")
    } else if message == "trailing characters" {
        "there is more text after the profile's closing }".to_string()
    } else {
        message
    };
    Problem {
        path: ROOT_PATH.to_string(),
        message: format!("the profile is not valid JSON: {message} at line {line}, column {column}"),
    }
}

/// Splits a serde_json error into its message without the position, the line and the column.
fn split_position(error: &serde_json::Error) -> (String, usize, usize) {
    let text = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    let message = text.strip_suffix(&position).unwrap_or(&text).to_string();
    (message, error.line(), error.column())
}

/// A JSON value read by serde_json with every object key checked for repeats.
struct UniqueKeys(Value);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<UniqueKeys, D::Error> {
        deserializer.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys(Value::Bool(value)))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys(Value::from(value)))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys(Value::from(value)))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys(Value::from(value)))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys(Value::String(value.to_string())))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys(Value::String(value)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(UniqueKeys(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "the field `{}` appears twice",
                    quote_text(&key)
                )));
            }
            let UniqueKeys(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(UniqueKeys(Value::Object(object)))
    }
}

/// A JSON path from the profile root, such as `fields.event_datetime.formats[1]`.
enum JsonPath<'a> {
    Root,
    Key(&'a JsonPath<'a>, &'a str),
    Index(&'a JsonPath<'a>, usize),
}

impl fmt::Display for JsonPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonPath::Root => f.write_str(ROOT_PATH),
            JsonPath::Key(JsonPath::Root, key) => f.write_str(key),
            JsonPath::Key(parent, key) => write!(f, "{parent}.{key}"),
            JsonPath::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// A reading error: a plain message, and the JSON path of the value it is about.
#[derive(Debug)]
struct ReadError {
    /// Set by the innermost `ValueReader` the error passes through.
    path: Option<String>,
    message: String,
}

impl ReadError {
    fn new(message: String) -> ReadError {
        ReadError { path: None, message }
    }

    fn at(mut self, path: &JsonPath<'_>) -> ReadError {
        if self.path.is_none() {
            self.path = Some(path.to_string());
        }
        self
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ReadError {}

impl de::Error for ReadError {
    fn custom<T: fmt::Display>(message: T) -> ReadError {
        ReadError::new(message.to_string())
    }

    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn Expected) -> ReadError {
        ReadError::new(format!("must be {expected}, not {}", describe_unexpected(unexpected)))
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn Expected) -> ReadError {
        Self::invalid_type(unexpected, expected)
    }

    fn invalid_length(length: usize, expected: &dyn Expected) -> ReadError {
        let items = if length == 1 { "item" } else { "items" };
        ReadError::new(format!("must be {expected}, not a list of {length} {items}"))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> ReadError {
        ReadError::new(format!(
            "`{}` is not allowed; use one of {}",
            quote_text(variant),
            name_list(expected)
        ))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> ReadError {
        ReadError::new(format!(
            "unknown field `{}`; expected one of {}",
            quote_text(field),
            name_list(expected)
        ))
    }

    fn missing_field(field: &'static str) -> ReadError {
        ReadError::new(format!("the required field `{field}` is missing; add it"))
    }

    fn duplicate_field(field: &'static str) -> ReadError {
        ReadError::new(format!("the field `{field}` appears twice; keep only one"))
    }
}

/// A deserializer over a JSON value that carries the value's path in the profile.
///
/// Object keys named in a struct's field list are visited first, in that order. The
/// `Format` reader relies on this to read `type` before the other keys.
#[derive(Clone, Copy)]
struct ValueReader<'p, 'de> {
    value: &'de Value,
    path: &'p JsonPath<'p>,
}

impl ValueReader<'_, '_> {
    /// Returns the error for a value of the wrong JSON type.
    fn mismatch(&self, expected: &str) -> ReadError {
        ReadError::new(format!("must be {expected}, not {}", describe_value(self.value))).at(self.path)
    }
}

impl<'de> Deserializer<'de> for ValueReader<'_, 'de> {
    type Error = ReadError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        let path = self.path;
        let result = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(value) => visitor.visit_bool(*value),
            Value::Number(number) => {
                if let Some(value) = number.as_u64() {
                    visitor.visit_u64(value)
                } else if let Some(value) = number.as_i64() {
                    visitor.visit_i64(value)
                } else {
                    // serde_json's arbitrary_precision feature is off, so a non-integer is an f64.
                    visitor.visit_f64(number.as_f64().unwrap_or_default())
                }
            }
            Value::String(text) => visitor.visit_borrowed_str(text),
            Value::Array(items) => visitor.visit_seq(ArrayAccess::new(items, path)),
            Value::Object(object) => visitor.visit_map(ObjectAccess::new(object, &[], path)),
        };
        result.map_err(|error: ReadError| error.at(path))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match self.value {
            Value::Bool(value) => visitor.visit_bool(*value).map_err(|error: ReadError| error.at(self.path)),
            _ => Err(self.mismatch("true or false")),
        }
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        let Value::Number(number) = self.value else {
            return Err(self.mismatch("a whole number >= 0"));
        };
        let whole = number.as_u64().or_else(|| number.as_f64().and_then(whole_number));
        match whole {
            Some(value) => visitor.visit_u64(value).map_err(|error: ReadError| error.at(self.path)),
            None => {
                let value = number.as_f64().unwrap_or_default();
                let message = if value > 0.0 && value.fract() == 0.0 {
                    format!("must be a whole number from 0 to {}, not {}", u64::MAX, format_number(value))
                } else {
                    format!("must be a whole number >= 0, not {}", describe_value(self.value))
                };
                Err(ReadError::new(message).at(self.path))
            }
        }
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match self.value {
            Value::Number(number) => visitor
                .visit_f64(number.as_f64().unwrap_or_default())
                .map_err(|error: ReadError| error.at(self.path)),
            _ => Err(self.mismatch("a number")),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match self.value {
            Value::String(text) => visitor.visit_borrowed_str(text).map_err(|error: ReadError| error.at(self.path)),
            _ => Err(self.mismatch("text")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match self.value {
            Value::Null => visitor.visit_none().map_err(|error: ReadError| error.at(self.path)),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match self.value {
            Value::Array(items) => visitor
                .visit_seq(ArrayAccess::new(items, self.path))
                .map_err(|error: ReadError| error.at(self.path)),
            _ => Err(self.mismatch("a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _length: usize, visitor: V) -> Result<V::Value, ReadError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match self.value {
            Value::Object(object) => visitor
                .visit_map(ObjectAccess::new(object, &[], self.path))
                .map_err(|error: ReadError| error.at(self.path)),
            _ => Err(self.mismatch("an object")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        match self.value {
            Value::Object(object) => visitor
                .visit_map(ObjectAccess::new(object, fields, self.path))
                .map_err(|error: ReadError| error.at(self.path)),
            _ if matches!(self.path, JsonPath::Root) => Err(ReadError::new(format!(
                "the profile must be a JSON object, not {}",
                describe_value(self.value)
            ))
            .at(self.path)),
            _ => Err(self.mismatch("an object")),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        match self.value {
            Value::String(text) => visitor
                .visit_enum(BorrowedStrDeserializer::new(text))
                .map_err(|error: ReadError| error.at(self.path)),
            _ => Err(self.mismatch(&format!("one of {}", name_list(variants)))),
        }
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u128 char bytes byte_buf unit unit_struct tuple_struct
        identifier ignored_any
    }
}

struct ArrayAccess<'p, 'de> {
    items: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
    length: usize,
    path: &'p JsonPath<'p>,
}

impl<'p, 'de> ArrayAccess<'p, 'de> {
    fn new(items: &'de [Value], path: &'p JsonPath<'p>) -> ArrayAccess<'p, 'de> {
        ArrayAccess {
            items: items.iter().enumerate(),
            length: items.len(),
            path,
        }
    }
}

impl<'de> SeqAccess<'de> for ArrayAccess<'_, 'de> {
    type Error = ReadError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, ReadError> {
        let Some((index, value)) = self.items.next() else {
            return Ok(None);
        };
        let path = JsonPath::Index(self.path, index);
        seed.deserialize(ValueReader { value, path: &path }).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.length)
    }
}

struct ObjectAccess<'p, 'de> {
    entries: std::vec::IntoIter<(&'de str, &'de Value)>,
    /// The entry whose key was read last and whose value is read next.
    current: Option<(&'de str, &'de Value)>,
    path: &'p JsonPath<'p>,
}

impl<'p, 'de> ObjectAccess<'p, 'de> {
    /// Visits the keys in `first` in that order, then the other keys in the object's order.
    fn new(object: &'de Map<String, Value>, first: &[&str], path: &'p JsonPath<'p>) -> ObjectAccess<'p, 'de> {
        let mut entries: Vec<(&str, &Value)> = first
            .iter()
            .filter_map(|key| object.get_key_value(*key))
            .map(|(key, value)| (key.as_str(), value))
            .collect();
        entries.extend(
            object
                .iter()
                .filter(|(key, _)| !first.contains(&key.as_str()))
                .map(|(key, value)| (key.as_str(), value)),
        );
        ObjectAccess {
            entries: entries.into_iter(),
            current: None,
            path,
        }
    }
}

impl<'de> MapAccess<'de> for ObjectAccess<'_, 'de> {
    type Error = ReadError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, ReadError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.current = Some((key, value));
        // An unknown key is reported at its own path, such as `fields.tracking_nr`.
        let key_path = JsonPath::Key(self.path, key);
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
            .map_err(|error: ReadError| error.at(&key_path))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, ReadError> {
        let Some((key, value)) = self.current.take() else {
            return Err(ReadError::new("a value was read before its key".to_string()).at(self.path));
        };
        let path = JsonPath::Key(self.path, key);
        seed.deserialize(ValueReader { value, path: &path })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

fn describe_value(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(value) => value.to_string(),
        Value::Number(number) => match (number.as_u64(), number.as_i64()) {
            (Some(value), _) => value.to_string(),
            (None, Some(value)) => value.to_string(),
            (None, None) => format_number(number.as_f64().unwrap_or_default()),
        },
        Value::String(text) => format!("the text `{}`", quote_text(text)),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

fn describe_unexpected(unexpected: Unexpected<'_>) -> String {
    match unexpected {
        Unexpected::Bool(value) => value.to_string(),
        Unexpected::Unsigned(value) => value.to_string(),
        Unexpected::Signed(value) => value.to_string(),
        Unexpected::Float(value) => format_number(value),
        Unexpected::Char(value) => format!("the text `{}`", value.escape_debug()),
        Unexpected::Str(text) => format!("the text `{}`", quote_text(text)),
        Unexpected::Unit | Unexpected::Option => "null".to_string(),
        Unexpected::Seq => "a list".to_string(),
        Unexpected::Map => "an object".to_string(),
        other => other.to_string(),
    }
}

/// Formats names as `a`, `b`, `c`.
fn name_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes control characters and shortens long text, for quoting a value in a message.
pub(super) fn quote_text(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    let mut quoted: String = text.chars().take(MAX_CHARS).flat_map(char::escape_debug).collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        quoted.push('…');
    }
    quoted
}

/// Formats a number as JSON text would show it: `1.5`, `-1`, `1e300`, `1e-12`.
pub(super) fn format_number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-6..1e21).contains(&magnitude) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

/// Returns the value as a u64 when it is a whole number from 0 to `u64::MAX`.
pub(super) fn whole_number(value: f64) -> Option<u64> {
    // 2^64 as an f64; `u64::MAX as f64` rounds up to it, so the comparison must be strict.
    const TWO_TO_THE_64: f64 = 18_446_744_073_709_551_616.0;
    (value >= 0.0 && value.fract() == 0.0 && value < TWO_TO_THE_64).then_some(value as u64)
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

/// Names in the time zone database that are not the time zone of a place. `localtime` and
/// `posixrules` are links to zones chosen when the database was built (zic -l and -p), and
/// `Factory` means that no time zone was set.
const NOT_PLACE_TIME_ZONES: [&str; 3] = ["localtime", "posixrules", "Factory"];

fn check_time_zone(profile: &Profile, problems: &mut Vec<Problem>) {
    let name = profile.time_zone.as_str();
    let advice = "use an IANA name such as Europe/Berlin or UTC";
    let message = if name.trim().is_empty() {
        format!("must not be empty; {advice}")
    } else if NOT_PLACE_TIME_ZONES
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        assert!(message.starts_with("sourse: unknown field `sourse`; expected one of `$schema`, "), "{message}");
        assert!(message.contains("`source`"), "{message}");
    }

    #[test]
    fn unknown_field_in_status_object() {
        let message = only_problem(&with(|p| p["statuses"] = json!({ "13": { "status": "DE", "desc": "x" } })));
        assert_eq!(message, "statuses.13.desc: unknown field `desc`; expected one of `status`, `description`");
    }

    #[test]
    fn unknown_field_of_other_format_type() {
        let message = only_problem(&with(|p| {
            p["format"] = json!({ "type": "fixed-width", "delimiter": ";", "columns": { "PARCELNO": [0, 14] } })
        }));
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
        assert_eq!(message, "fields: the required field `tracking_number` is missing; add it");
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
        assert!(message.starts_with("fields.tracking_number: 1.5 is not a column; "), "{message}");
    }

    #[test]
    fn column_index_in_columns_list_has_index_path() {
        let message = only_problem(&with(|p| p["fields"]["city"] = json!({ "columns": ["CITY", -2] })));
        assert!(message.starts_with("fields.city.columns[1]: -2 is not a column; "), "{message}");
    }

    #[test]
    fn whole_float_column_index_is_an_index() {
        let profile = assert_accepted(r#"{"source": {"path": "/x"}, "time_zone": "UTC",
            "format": {"type": "delimited", "delimiter": ";", "header": false},
            "fields": {"tracking_number": 2.0, "event_datetime": {"column": 0, "format": "%Y"}}}"#);
        assert_eq!(profile.fields.tracking_number.options().column, Some(ColumnRef::Index(2)));
    }

    #[test]
    fn field_of_wrong_type_lists_accepted_shapes() {
        let message = only_problem(&with(|p| p["fields"]["tracking_number"] = json!(true)));
        assert!(message.starts_with("fields.tracking_number: must be a column name (text), a 0-based column index"), "{message}");
        assert!(message.ends_with(", not true"), "{message}");
    }

    #[test]
    fn trim_must_be_boolean() {
        let message = only_problem(&with(|p| p["fields"]["city"] = json!({ "column": "CITY", "trim": "yes" })));
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
        assert_eq!(message, "statuses.1: `XX` is not a Connect status; use one of UN, AC, IT, DE, EX, AT, NY, SP");
    }

    #[test]
    fn lower_case_status_code_gets_hint() {
        let message = only_problem(&with(|p| p["statuses"] = json!({ "1": "de" })));
        assert!(message.ends_with("; the codes are upper case"), "{message}");
    }

    #[test]
    fn status_object_with_unknown_code() {
        let message = only_problem(&with(|p| p["statuses"] = json!({ "N*": { "status": "XX" } })));
        assert!(message.starts_with("statuses.N*.status: `XX` is not a Connect status; "), "{message}");
    }

    #[test]
    fn status_entry_of_wrong_type() {
        let message = only_problem(&with(|p| p["statuses"] = json!({ "1": 13 })));
        assert!(message.starts_with("statuses.1: must be a Connect status such as \"DE\", or an object"), "{message}");
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
        assert_eq!(message, "update_method: `merge` is not allowed; use one of `append`, `replace`");
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
        assert_eq!(message, "format.type: `json` is not allowed; use one of `delimited`, `fixed-width`");
    }

    #[test]
    fn format_reads_type_in_any_key_order() {
        let format: Format = serde_json::from_str(r#"{"delimiter": "|", "skip_lines": 2, "type": "delimited"}"#).unwrap();
        let Format::Delimited(format) = format else {
            panic!("expected a delimited format");
        };
        assert_eq!(format.delimiter, "|");
        assert_eq!(format.skip_lines, 2);
    }

    #[test]
    fn profile_must_be_an_object() {
        assert_eq!(only_problem("[]"), "(root): the profile must be a JSON object, not a list");
        assert_eq!(only_problem("42"), "(root): the profile must be a JSON object, not 42");
        assert_eq!(only_problem("null"), "(root): the profile must be a JSON object, not null");
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
            "grouping.max_open_shipments: must be a whole number from 0 to 18446744073709551615, not 1e21"
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
            only_problem(&with(|p| {
                p["format"] = json!({ "type": "fixed-width", "columns": { "PARCELNO": value, "SCAN_DATE": [0, 8] } })
            }))
        };
        let expected = "format.columns.PARCELNO: must be a range [start, end] of 0-based character positions, such as [0, 20]";
        assert_eq!(range(json!([1])), format!("{expected}, not a list of 1 item"));
        assert_eq!(range(json!([1, 2, 3])), format!("{expected}, not a list of 3 items"));
        assert_eq!(range(json!("0-20")), format!("{expected}, not the text `0-20`"));
        assert_eq!(range(json!([-1, 2])), "format.columns.PARCELNO[0]: must be a whole number >= 0, not -1");
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
        assert!(message.starts_with("(root): the profile is not valid JSON: there is more text after"), "{message}");
    }

    #[test]
    fn empty_text_is_reported() {
        assert_eq!(only_problem(" \n"), "(root): the profile is empty; pass a JSON object");
    }

    #[test]
    fn repeated_key_is_reported_with_position() {
        let message = only_problem(r#"{"source": {"path": "/a"}, "source": {"path": "/b"}}"#);
        assert_eq!(message, "(root): the field `source` appears twice at line 1, column 35; keep only one");
        let message = only_problem(r#"{"source": {"path": "/a", "path": "/b"}}"#);
        assert!(message.starts_with("source: the field `path` appears twice at line 1"), "{message}");
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
        for (value, shown) in [(json!(1e300), "1e300"), (json!(86_401), "86401"), (json!(-5), "-5"), (json!(0), "0")] {
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
        assert!(message.starts_with("source.connect_timeout_seconds: must be a number of seconds from 0.001"), "{message}");
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
            assert!(message.contains("; use one of UTF-8, UTF-16LE, UTF-16BE, windows-1250, "), "{message}");
        }
    }

    #[test]
    fn unknown_encoding_lists_supported() {
        let message = only_problem(&with(|p| p["encoding"] = json!("utf-9")));
        assert!(message.starts_with("encoding: `utf-9` is not a known encoding label; use one of UTF-8, "), "{message}");
        assert!(message.contains("ISO-2022-JP"), "{message}");
        assert!(!message.contains("replacement,"), "{message}");
    }

    #[test]
    fn text_encodings_are_accepted() {
        for label in ["utf-8", "UTF-16BE", "utf-16le", "utf-16", "latin1", "iso-2022-jp", "shift_jis"] {
            assert_accepted(&with(|p| p["encoding"] = json!(label)));
        }
    }

    #[test]
    fn supported_encodings_are_distinct_and_known() {
        let names: std::collections::HashSet<&str> = SUPPORTED_ENCODINGS.iter().map(|encoding| encoding.name()).collect();
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
        assert!(message.contains("is a UTC offset, which is only accepted per record in fields.time_zone"), "{message}");
        let message = only_problem(&with(|p| p["time_zone"] = json!("")));
        assert_eq!(message, "time_zone: must not be empty; use an IANA name such as Europe/Berlin or UTC");
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
        assert!(message.starts_with(&format!("update_method: `{}…` is not allowed", "x".repeat(60))), "{message}");
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
