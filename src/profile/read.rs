//! Reading a profile: JSON text to the profile types, with errors that carry the JSON
//! path and a plain message.
//!
//! `ValueReader` is a deserializer over `serde_json::Value` that tracks each value's path,
//! so a type error names `fields.city.trim` instead of a position in text the user may
//! never have seen. Reading stops at the first problem.

use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, Expected, MapAccess, SeqAccess, Unexpected, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use serde_path_to_error::Segment;

use super::validate::{Problem, ROOT_PATH};
use super::Profile;
/// Parses the JSON text and fills the profile types, stopping at the first problem.
pub(super) fn read_profile(json: &str) -> Result<Profile, Problem> {
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
            let mut path = String::new();
            for segment in error.path().iter() {
                path = match segment {
                    Segment::Seq { index } => format!("{path}[{index}]"),
                    Segment::Map { key } => key_path(&path, key),
                    Segment::Enum { variant } => key_path(&path, variant),
                    Segment::Unknown => key_path(&path, "?"),
                };
            }
            let path = if path.is_empty() { ROOT_PATH.to_string() } else { path };
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

/// Appends an object key to a JSON path: `parent.key` for a plain key, else
/// `parent["key"]`. A key is plain when it is not empty and each character is printable
/// ASCII other than space, `.`, brackets, quotes and backslash, or a non-ASCII letter or
/// digit. Inside the quotes, every character that is neither printable ASCII nor a letter
/// or digit is written as `\uXXXX`, so that invisible characters show. The Hangul fillers
/// count as invisible although Unicode calls them letters, because fonts draw them blank.
/// `lib/arguments.js` writes paths by the same rule.
pub(super) fn key_path(parent: &str, key: &str) -> String {
    let visible_letter_or_digit =
        |c: char| c.is_alphanumeric() && !matches!(c, '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}');
    let plain_char = |c: char| {
        if c.is_ascii() {
            c.is_ascii_graphic() && !matches!(c, '.' | '[' | ']' | '"' | '\'' | '\\')
        } else {
            visible_letter_or_digit(c)
        }
    };
    if !key.is_empty() && key.chars().all(plain_char) {
        return if parent.is_empty() {
            key.to_string()
        } else {
            format!("{parent}.{key}")
        };
    }
    let mut quoted = String::with_capacity(key.len() + 2);
    for c in key.chars() {
        match c {
            '"' | '\\' => {
                quoted.push('\\');
                quoted.push(c);
            }
            ' '..='~' => quoted.push(c),
            c if !c.is_ascii() && visible_letter_or_digit(c) => quoted.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    quoted.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    format!("{parent}[\"{quoted}\"]")
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
            JsonPath::Key(JsonPath::Root, key) => f.write_str(&key_path("", key)),
            JsonPath::Key(parent, key) => f.write_str(&key_path(&parent.to_string(), key)),
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
            Value::Bool(value) => visitor
                .visit_bool(*value)
                .map_err(|error: ReadError| error.at(self.path)),
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
                    format!(
                        "must be a whole number from 0 to {}, not {}",
                        u64::MAX,
                        format_number(value)
                    )
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
            Value::String(text) => visitor
                .visit_borrowed_str(text)
                .map_err(|error: ReadError| error.at(self.path)),
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
