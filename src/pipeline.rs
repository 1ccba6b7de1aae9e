//! The import pipeline, wired in one place:
//! source → decompression → text decoding → lines → parser → mapping → grouping → batches.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use crate::decode::TextDecoder;
use crate::decompress;
use crate::error::FatalError;
use crate::lines::LineBuffer;
use crate::profile::Profile;
use crate::source::{self, Location};
use crate::stage::{Counts, RecordStage};
use crate::wire::Batch;

/// A message from the producer to the consumer. Batches come first, then one `End`.
#[derive(Debug)]
pub enum Message {
    Batch(Batch),
    End {
        summary: Summary,
        error: Option<FatalError>,
    },
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub counts: Counts,
    /// Bytes read from the source, before decompression.
    pub bytes: u64,
    /// Decoded chunks in which malformed bytes were replaced by U+FFFD.
    pub replacements: u64,
}

/// One import to run.
pub struct Job {
    pub profile: Arc<Profile>,
    pub metadata: Map<String, Value>,
    /// Replaces the profile's source, as the CLI's `--source` does.
    pub source_override: Option<Location>,
    pub batch_items: usize,
}

const READ_CHUNK: usize = 64 * 1024;

/// Runs the import and sends its batches; ends with exactly one `Message::End`.
pub async fn run(job: Job, sender: mpsc::Sender<Message>) {
    let bytes_read = Arc::new(AtomicU64::new(0));
    let mut summary = Summary::default();
    let result = produce(&job, &sender, &bytes_read, &mut summary).await;
    summary.bytes = bytes_read.load(Ordering::Relaxed);
    let error = match result {
        Ok(()) => None,
        Err(Stop::ConsumerGone) => return,
        Err(Stop::Fatal(error)) => Some(error),
    };
    let _ = sender.send(Message::End { summary, error }).await;
}

enum Stop {
    Fatal(FatalError),
    ConsumerGone,
}

impl From<FatalError> for Stop {
    fn from(error: FatalError) -> Self {
        Stop::Fatal(error)
    }
}

async fn produce(
    job: &Job,
    sender: &mpsc::Sender<Message>,
    bytes_read: &Arc<AtomicU64>,
    summary: &mut Summary,
) -> Result<(), Stop> {
    let profile = &job.profile;
    let location = match &job.source_override {
        Some(location) => location.clone(),
        None => source::resolve(&profile.source, &job.metadata)?,
    };
    let opened = source::open(&location, &profile.source, &job.metadata, bytes_read.clone()).await?;
    let name = opened.name.clone();
    let (mut reader, gzip) = decompress::wrap(opened.reader, profile.compression)
        .await
        .map_err(|error| read_failed(&name, error, false, 0))?;

    let mut decoder = TextDecoder::new(&profile.encoding);
    let mut lines = LineBuffer::new();
    let mut stage = RecordStage::new(profile, &name, job.batch_items)?;
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut decoded_bytes: u64 = 0;

    loop {
        let read = match reader.read(&mut chunk).await {
            Ok(read) => read,
            Err(error) => {
                // Everything parsed so far is yielded before the error.
                stage.flush_after_failure();
                send_ready(&mut stage, sender).await?;
                summary.counts = stage.counts;
                return Err(read_failed(&name, error, gzip, decoded_bytes).into());
            }
        };
        decoded_bytes += read as u64;
        let last = read == 0;
        decoder.decode_into(&chunk[..read], &mut lines.text, last);
        lines.split(|line| stage.on_line(line));
        if last {
            lines.finish(|line| stage.on_line(line));
            stage.finish();
        }

        if let Some(error) = stage.fatal.take() {
            stage.flush_after_failure();
            send_ready(&mut stage, sender).await?;
            summary.counts = stage.counts;
            summary.replacements = decoder.replacements;
            return Err(error.into());
        }
        send_ready(&mut stage, sender).await?;
        summary.counts = stage.counts;
        summary.replacements = decoder.replacements;
        if last {
            return Ok(());
        }
    }
}

async fn send_ready(stage: &mut RecordStage<'_>, sender: &mpsc::Sender<Message>) -> Result<(), Stop> {
    for batch in stage.batches.take_ready() {
        sender
            .send(Message::Batch(batch))
            .await
            .map_err(|_| Stop::ConsumerGone)?;
    }
    Ok(())
}

/// Classifies a read error: a source timeout, a broken gzip stream, or another failure.
fn read_failed(name: &str, error: std::io::Error, gzip: bool, decoded_bytes: u64) -> FatalError {
    let is_transport = error.get_ref().is_some_and(|inner| inner.is::<reqwest::Error>());
    if is_transport {
        if let Some(Ok(transport)) = error.into_inner().map(|inner| inner.downcast::<reqwest::Error>()) {
            return source::http_request_failed(name, &transport.without_url())
                .with("decoded_bytes", decoded_bytes);
        }
        return FatalError::carrier("SOURCE_READ_FAILED", format!("reading {name} failed; retry the import"))
            .with("source", name);
    }
    if gzip {
        return FatalError::carrier(
            "GZIP_INVALID",
            format!(
                "{name} is not a complete gzip stream ({error}) after {decoded_bytes} decompressed bytes; the download was cut short or the file is damaged, so retry or ask the carrier to send it again"
            ),
        )
        .with("source", name)
        .with("decoded_bytes", decoded_bytes);
    }
    FatalError::carrier(
        "SOURCE_READ_FAILED",
        format!("reading {name} failed after {decoded_bytes} bytes: {error}; retry the import"),
    )
    .with("source", name)
    .with("decoded_bytes", decoded_bytes)
}
