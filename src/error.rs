//! Errors that end an import, each with the status the Connect host expects.
//!
//! A bad record does not end an import: it becomes an `error_messages` item (see
//! `map::RecordError`). Everything here is fatal and rejects the JavaScript generator.

use std::fmt;

use serde_json::{Map, Value};

/// The class of a fatal error, which fixes the status code sent to the Connect host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is wrong and a retry does not help until it changes (400): the profile, the
    /// metadata, the source location or its CA file.
    BadRequest,
    /// The carrier rejected the connection's credentials (401).
    Unauthorized,
    /// The carrier asks the caller to slow down (429).
    RateLimited { retry_after_seconds: Option<u64> },
    /// The carrier's server failed or sent a broken file (520).
    CarrierServer,
    /// A bug in this library, such as a panic (500).
    Internal,
}

impl ErrorKind {
    /// Returns the HTTP-like status code the Connect host recognises.
    pub fn status_code(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::RateLimited { .. } => 429,
            ErrorKind::CarrierServer => 520,
            ErrorKind::Internal => 500,
        }
    }
}

/// A fatal import error: a message for the person who must act, and structured details.
#[derive(Debug, Clone)]
pub struct FatalError {
    pub kind: ErrorKind,
    /// A short machine-readable name, such as `SOURCE_NOT_FOUND`.
    pub code: &'static str,
    pub message: String,
    pub details: Map<String, Value>,
}

impl FatalError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        FatalError {
            kind,
            code,
            message: message.into(),
            details: Map::new(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, code, message)
    }

    pub fn carrier(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::CarrierServer, code, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, "INTERNAL", message)
    }

    /// Adds one entry to `details`.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }

    pub fn status_code(&self) -> u16 {
        self.kind.status_code()
    }

    /// Returns the details object sent to JavaScript, including `code`.
    pub fn details_json(&self) -> Value {
        let mut details = self.details.clone();
        details.insert("code".into(), Value::from(self.code));
        if let ErrorKind::RateLimited {
            retry_after_seconds: Some(seconds),
        } = self.kind
        {
            details.insert("retry_after_seconds".into(), Value::from(seconds));
        }
        Value::Object(details)
    }
}

impl fmt::Display for FatalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FatalError {}
