//! The N-API binding: converts JavaScript values and delegates to the pipeline.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use napi::bindgen_prelude::Int32Array;
use napi_derive::napi;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, Mutex};

use crate::error::{ErrorKind, FatalError};
use crate::pipeline::{self, Job, Message, Summary};
use crate::profile::{self, Profile};
use crate::source::Location;

/// Batches buffered ahead of the consumer.
const READ_AHEAD_BATCHES: usize = 2;
const DEFAULT_BATCH_ITEMS: u32 = 256;

#[napi(object)]
pub struct ProfileProblem {
    pub path: String,
    pub message: String,
}

/// Validates a profile given as JSON text; returns no problems when it is valid.
#[napi]
pub fn check_profile(json: String) -> Vec<ProfileProblem> {
    match profile::parse_profile(&json) {
        Ok(_) => Vec::new(),
        Err(error) => error
            .problems
            .into_iter()
            .map(|problem| ProfileProblem {
                path: problem.path,
                message: problem.message,
            })
            .collect(),
    }
}

/// A validated profile, ready to start imports.
#[napi]
pub struct NativeProfile {
    profile: Arc<Profile>,
}

#[napi]
impl NativeProfile {
    #[napi(constructor)]
    pub fn new(json: String) -> napi::Result<NativeProfile> {
        let profile = profile::parse_profile(&json).map_err(|error| napi::Error::from_reason(error.to_string()))?;
        Ok(NativeProfile {
            profile: Arc::new(profile),
        })
    }

    /// Starts an import; `request_json` is the `ImportTrackingEventsRequest` as JSON.
    #[napi]
    pub fn start_import(
        &self,
        request_json: String,
        source: Option<String>,
        batch_items: Option<u32>,
    ) -> napi::Result<NativeImport> {
        let request: Value = serde_json::from_str(&request_json)
            .map_err(|error| napi::Error::from_reason(format!("the request is not valid JSON: {error}")))?;
        let metadata = match request.get("metadata") {
            Some(Value::Object(metadata)) => metadata.clone(),
            _ => Map::new(),
        };
        let job = Job {
            profile: self.profile.clone(),
            metadata,
            source_override: source.as_deref().map(Location::parse),
            batch_items: batch_items.unwrap_or(DEFAULT_BATCH_ITEMS).max(1) as usize,
        };

        let (sender, receiver) = mpsc::channel(READ_AHEAD_BATCHES);
        let panic_sender = sender.clone();
        let task = napi::bindgen_prelude::spawn(async move {
            let outcome = AssertUnwindSafe(pipeline::run(job, sender)).catch_unwind().await;
            if let Err(panic) = outcome {
                let reason = pipeline::panic_reason(panic.as_ref());
                let error = FatalError::internal(format!(
                    "connect-tracking failed internally ({reason}); batches sent before the failure were yielded, but events still waiting to be grouped were lost. Please report this with the input file"
                ));
                let _ = panic_sender
                    .send(Message::End {
                        summary: Summary::default(),
                        error: Some(error),
                    })
                    .await;
            }
        });
        Ok(NativeImport {
            receiver: Arc::new(Mutex::new(receiver)),
            task: task.abort_handle(),
        })
    }
}

/// A running import; JavaScript pulls batches with `next()`.
#[napi]
pub struct NativeImport {
    receiver: Arc<Mutex<mpsc::Receiver<Message>>>,
    task: tokio::task::AbortHandle,
}

#[napi(object)]
pub struct JsBatch {
    pub text: String,
    pub slots: Int32Array,
    /// Set on the last batch.
    pub end: Option<JsEnd>,
}

#[napi(object)]
pub struct JsEnd {
    pub summary: JsSummary,
    pub error: Option<JsError>,
}

#[napi(object)]
pub struct JsSummary {
    pub records: f64,
    pub events: f64,
    pub shipments: f64,
    pub errors: f64,
    pub warnings: f64,
    pub duplicates: f64,
    pub bytes: f64,
    pub replacements: f64,
}

#[napi(object)]
pub struct JsError {
    pub status_code: u32,
    pub is_intentional: bool,
    pub code: String,
    pub message: String,
    /// The details object as JSON text.
    pub details: String,
    pub retry_after_seconds: Option<u32>,
}

#[napi]
impl NativeImport {
    /// Resolves to the next batch, or to `null` once the import was closed.
    #[napi]
    pub async fn next(&self) -> napi::Result<Option<JsBatch>> {
        let receiver = self.receiver.clone();
        let message = receiver.lock().await.recv().await;
        Ok(message.map(to_js))
    }

    /// Stops the producer and closes the source; safe to call more than once.
    #[napi]
    pub fn close(&self) {
        self.task.abort();
        if let Ok(mut receiver) = self.receiver.try_lock() {
            receiver.close();
        }
    }
}

fn to_js(message: Message) -> JsBatch {
    match message {
        Message::Batch(batch) => JsBatch {
            text: batch.text,
            slots: Int32Array::new(batch.slots),
            end: None,
        },
        Message::End { summary, error } => JsBatch {
            text: String::new(),
            slots: Int32Array::new(Vec::new()),
            end: Some(JsEnd {
                summary: summary_to_js(&summary),
                error: error.map(error_to_js),
            }),
        },
    }
}

fn summary_to_js(summary: &Summary) -> JsSummary {
    let counts = &summary.counts;
    JsSummary {
        records: counts.records as f64,
        events: counts.events as f64,
        shipments: counts.shipments as f64,
        errors: counts.errors as f64,
        warnings: counts.warnings as f64,
        duplicates: counts.duplicates as f64,
        bytes: summary.bytes as f64,
        replacements: summary.replacements as f64,
    }
}

fn error_to_js(error: FatalError) -> JsError {
    let retry_after_seconds = match error.kind {
        ErrorKind::RateLimited { retry_after_seconds } => retry_after_seconds.map(|s| s.min(u32::MAX as u64) as u32),
        _ => None,
    };
    JsError {
        status_code: u32::from(error.status_code()),
        is_intentional: error.kind != ErrorKind::Internal,
        code: error.code.to_string(),
        details: error.details_json().to_string(),
        message: error.message,
        retry_after_seconds,
    }
}

/// A generator dropped without `return()` is collected by the garbage collector, which
/// drops its import: this stops the producer and closes the source.
impl Drop for NativeImport {
    fn drop(&mut self) {
        self.task.abort();
    }
}
