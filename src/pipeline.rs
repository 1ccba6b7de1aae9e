//! The import pipeline, wired in one place:
//! source → decompression → text decoding → lines → parser → mapping → grouping → batches.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use crate::decode::TextDecoder;
use crate::decompress::{self, GzipClaim};
use crate::error::FatalError;
use crate::lines::LineBuffer;
use crate::profile::{Compression, Profile};
use crate::source::{self, Location};
use crate::stage::{Counts, GroupStage, Record, RecordStage};
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
    /// U+FFFD characters written for malformed bytes; see `TextDecoder::replacements`.
    pub replacements: u64,
}

/// One import to run.
pub struct Job {
    pub profile: Arc<Profile>,
    pub metadata: Map<String, Value>,
    /// Replaces the profile's source: the import's `source` option (`--source` in the CLI).
    pub source_override: Option<Location>,
    pub batch_items: usize,
}

/// Bytes asked for per read. 256 KiB reads raised the producer's peak RSS by 5 to 8 MB on the
/// benchmark file (`tests/throughput.rs`, 2-core benchmark machine), with no clear gain in speed.
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
        Err(Stop::InternalPanic(panic)) => Some(internal_error(panic.as_ref(), false)),
    };
    let _ = sender.send(Message::End { summary, error }).await;
}

enum Stop {
    Fatal(FatalError),
    ConsumerGone,
    /// A panic while the window was being yielded.
    InternalPanic(Box<dyn Any + Send>),
}

impl From<FatalError> for Stop {
    fn from(error: FatalError) -> Self {
        Stop::Fatal(error)
    }
}

/// Input from the reader task to the record stage.
enum Input {
    Bytes(Vec<u8>),
    /// The source ended normally.
    End,
    /// Reading failed; the record thread yields what it has, then reports the error.
    Failed(FatalError),
}

/// Chunks buffered between the reader task and the parsing task.
const CHUNKS_AHEAD: usize = 4;

/// Output from the parsing task to the grouping task, in file order.
enum Parsed {
    /// The records of one chunk.
    Records(Vec<Record>),
    /// The file was read to the end.
    End,
    /// A fatal error ended the import after the records sent before it.
    Failed(FatalError),
    /// Parsing panicked after the records sent before it.
    Panicked(Box<dyn Any + Send>),
}

/// Chunks of records buffered between the parsing task and the grouping task.
const RECORD_CHUNKS_AHEAD: usize = 2;

async fn produce(
    job: &Job,
    sender: &mpsc::Sender<Message>,
    bytes_read: &Arc<AtomicU64>,
    summary: &mut Summary,
) -> Result<(), Stop> {
    let profile = job.profile.clone();
    let location = match &job.source_override {
        Some(location) => location.clone(),
        None => source::resolve(&profile.source, &job.metadata)?,
    };
    let overridden = job.source_override.is_some();
    let opened = source::open(
        &location,
        &profile.source,
        &job.metadata,
        bytes_read.clone(),
        overridden,
    )
    .await?;
    let name = opened.name.clone();
    let redirected_to = opened.redirected_to.clone();
    let url_setting = source::setting_used("source.url", overridden);
    let mut reader = opened.reader;
    let mut gzip = false;
    // The transfer layers come off first, so a .csv.gz sent with Content-Encoding: gzip is
    // decompressed twice, once here and once by `compression`.
    for _ in 0..opened.content_gzip_layers {
        let claim = GzipClaim::ContentEncoding;
        // Nothing has come out of this layer's decompression yet, so no byte counts.
        (reader, _) = decompress::wrap(reader, Compression::Gzip, claim, &name, |error, _| {
            read_failed(&name, redirected_to.as_deref(), url_setting, error, gzip, 0)
        })
        .await?;
        gzip = true;
    }
    // With transfer layers, "gzip" is already met, so the file is decompressed again only
    // when it starts like gzip.
    let compression = match profile.compression {
        Compression::Gzip if gzip => Compression::Auto,
        compression => compression,
    };
    let (mut reader, file_gzip) = decompress::wrap(reader, compression, GzipClaim::Profile, &name, |error, read| {
        read_failed(&name, redirected_to.as_deref(), url_setting, error, gzip, read)
    })
    .await?;
    let gzip = gzip || file_gzip;

    // Parsing and mapping, and grouping and encoding, run as two tasks on the record
    // threads, so that they overlap with the download and decompression, and with each
    // other on machines with enough cores. See `record_threads` for why.
    let (input_sender, input_receiver) = mpsc::channel(CHUNKS_AHEAD);
    let (parsed_sender, parsed_receiver) = mpsc::channel(RECORD_CHUNKS_AHEAD);
    let parse = {
        let profile = profile.clone();
        let name = name.clone();
        async move { parse_records(&profile, &name, input_receiver, parsed_sender).await }
    };
    let group = {
        let sender = sender.clone();
        let name = name.clone();
        let batch_items = job.batch_items;
        async move { group_records(&profile, &name, batch_items, parsed_receiver, &sender).await }
    };
    let (parsing, grouping) = crate::record_threads::spawn_pair(parse, group);

    let mut decompressed_bytes: u64 = 0;
    loop {
        // read_buf fills the spare capacity, so the buffer is not zeroed first.
        let mut chunk = Vec::with_capacity(READ_CHUNK);
        let read = tokio::select! {
            read = reader.read_buf(&mut chunk) => read,
            // The parsing task stopped (the consumer went away, or it panicked), so a
            // stalled source must not keep this task waiting.
            () = input_sender.closed() => break,
        };
        let input = match read {
            Ok(0) => Input::End,
            Ok(read) => {
                decompressed_bytes += read as u64;
                Input::Bytes(chunk)
            }
            Err(error) => Input::Failed(read_failed(
                &name,
                redirected_to.as_deref(),
                url_setting,
                error,
                gzip,
                decompressed_bytes,
            )),
        };
        let more = matches!(input, Input::Bytes(_));
        if input_sender.send(input).await.is_err() || !more {
            // The parsing task has stopped or has everything it needs.
            break;
        }
    }
    drop(input_sender);

    let replacements = match parsing.await {
        Ok(replacements) => replacements,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => 0,
    };
    summary.replacements = replacements;
    match grouping.await {
        Ok((counts, result)) => {
            summary.counts = counts;
            result
        }
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => Err(Stop::ConsumerGone),
    }
}

/// Turns the decompressed bytes into records, one chunk at a time, until the input ends or
/// fails or the grouping task goes away. Returns the number of U+FFFD characters the
/// decoder wrote.
///
/// The last message sent is the end, the fatal error or the caught panic, so the records
/// sent before it are still yielded.
async fn parse_records(
    profile: &Profile,
    name: &str,
    mut input: mpsc::Receiver<Input>,
    output: mpsc::Sender<Parsed>,
) -> u64 {
    // Validation rejects every profile that RecordStage::new would reject, so this error
    // is a guard against a gap between the two, reported like any fatal error.
    let mut stage = match RecordStage::new(profile, name) {
        Ok(stage) => stage,
        Err(error) => {
            let _ = output.send(Parsed::Failed(error)).await;
            return 0;
        }
    };
    let mut decoder = TextDecoder::new(&profile.encoding);
    let mut lines = LineBuffer::new();
    loop {
        let Some(input) = input.recv().await else {
            // The reader was dropped without an end because the import was closed. The
            // grouping task finds `output` closed without an end and stops too.
            return decoder.replacements;
        };
        let step = catch_unwind(AssertUnwindSafe(|| {
            process_input(input, &mut stage, &mut decoder, &mut lines)
        }));

        // The next chunk likely has as many records.
        let capacity = stage.records.len();
        let records = std::mem::replace(&mut stage.records, Vec::with_capacity(capacity));
        if !records.is_empty() && output.send(Parsed::Records(records)).await.is_err() {
            return decoder.replacements;
        }
        let end = match step {
            Ok(Ok(true)) => None,
            Ok(Ok(false)) => Some(Parsed::End),
            Ok(Err(error)) => Some(Parsed::Failed(error)),
            Err(panic) => Some(Parsed::Panicked(panic)),
        };
        if let Some(end) = end {
            let _ = output.send(end).await;
            return decoder.replacements;
        }
        // Other imports on this record thread get a turn after every chunk, so a file that
        // is slow to parse delays them by one chunk at most.
        tokio::task::yield_now().await;
    }
}

/// Groups the records into shipments and sends their batches until the parsing task's
/// input ends or fails, or the consumer goes away. After a fatal error or a panic, the
/// shipments waiting in the window are yielded before the error.
async fn group_records(
    profile: &Profile,
    name: &str,
    batch_items: usize,
    mut input: mpsc::Receiver<Parsed>,
    sender: &mpsc::Sender<Message>,
) -> (Counts, Result<(), Stop>) {
    let mut stage = GroupStage::new(profile, name, batch_items);
    let result = loop {
        let Some(parsed) = input.recv().await else {
            // The parsing task ended without saying how: the import was closed.
            break Err(Stop::ConsumerGone);
        };
        match parsed {
            Parsed::Records(records) => {
                let step = catch_unwind(AssertUnwindSafe(|| {
                    for record in records {
                        stage.push(record);
                    }
                }));
                if let Err(panic) = step {
                    break Err(after_panic(panic, &mut stage, sender).await);
                }
                if let Err(stop) = send_all(&mut stage, sender).await {
                    break Err(stop);
                }
                tokio::task::yield_now().await;
            }
            Parsed::End => {
                stage.finish();
                break send_all(&mut stage, sender).await;
            }
            Parsed::Failed(error) => {
                // Everything parsed so far is yielded before the error.
                stage.fail();
                break match send_all(&mut stage, sender).await {
                    Ok(()) => Err(Stop::Fatal(error)),
                    Err(stop) => Err(stop),
                };
            }
            Parsed::Panicked(panic) => break Err(after_panic(panic, &mut stage, sender).await),
        }
    };
    // A panic while the window was being yielded stays InternalPanic, which `run` reports.
    (stage.counts, result)
}

/// Processes one input into `stage.records`; returns whether more input is expected, or
/// the error that ends the import.
fn process_input(
    input: Input,
    stage: &mut RecordStage<'_>,
    decoder: &mut TextDecoder,
    lines: &mut LineBuffer,
) -> Result<bool, FatalError> {
    let (bytes, last) = match input {
        Input::Bytes(bytes) => (bytes, false),
        Input::End => (Vec::new(), true),
        Input::Failed(error) => return Err(error),
    };
    decoder.decode_into(&bytes, &mut lines.text, last);
    stage.bytes_replaced = decoder.replacements > 0;
    lines.split(|line| stage.on_line(line));
    if last {
        lines.finish(|line| stage.on_line(line));
        stage.finish();
    }
    match stage.fatal.take() {
        Some(error) => Err(error),
        None => Ok(!last),
    }
}

/// Yields the shipments waiting in the window after a panic, if that works, and describes the panic.
async fn after_panic(panic: Box<dyn Any + Send>, stage: &mut GroupStage, sender: &mpsc::Sender<Message>) -> Stop {
    if catch_unwind(AssertUnwindSafe(|| stage.fail())).is_err() {
        return Stop::Fatal(internal_error(panic.as_ref(), false));
    }
    match send_all(stage, sender).await {
        Ok(()) => Stop::Fatal(internal_error(panic.as_ref(), true)),
        Err(Stop::InternalPanic(_)) => Stop::Fatal(internal_error(panic.as_ref(), false)),
        Err(stop) => stop,
    }
}

/// Describes a panic in the record stage; `flushed` is set when the window was yielded
/// before the error.
fn internal_error(panic: &(dyn Any + Send), flushed: bool) -> FatalError {
    let outcome = if flushed {
        "the events parsed before it were yielded"
    } else {
        "events still waiting to be grouped were lost"
    };
    FatalError::internal(format!(
        "connect-tracking failed internally ({}); {outcome}. Please report this with the input file",
        panic_reason(panic)
    ))
}

/// Returns a panic's message.
pub fn panic_reason(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Sends the finished batches and, once the stage is finishing, the rest of the window.
async fn send_all(stage: &mut GroupStage, sender: &mpsc::Sender<Message>) -> Result<(), Stop> {
    loop {
        for batch in stage.batches.take_ready() {
            sender
                .send(Message::Batch(batch))
                .await
                .map_err(|_| Stop::ConsumerGone)?;
        }
        let more = catch_unwind(AssertUnwindSafe(|| stage.flush_some())).map_err(Stop::InternalPanic)?;
        if !more && stage.batches.is_empty() {
            return Ok(());
        }
    }
}

/// Writes a byte count for a message, such as "1 byte" or "512 decompressed bytes".
fn count_bytes(count: u64, decompressed: bool) -> String {
    let unit = if count == 1 { "byte" } else { "bytes" };
    if decompressed {
        format!("{count} decompressed {unit}")
    } else {
        format!("{count} {unit}")
    }
}

/// Classifies a read error: a source timeout, a broken gzip stream, or another failure.
/// `redirected_to` is the URL that a redirect led to, which the error names too, and
/// `url_setting` names where the URL came from.
fn read_failed(
    name: &str,
    redirected_to: Option<&str>,
    url_setting: &str,
    error: std::io::Error,
    gzip: bool,
    decompressed_bytes: u64,
) -> FatalError {
    // The public detail is named decoded_bytes; it counts bytes after decompression.
    let error = match error.downcast::<reqwest::Error>() {
        Ok(transport) => {
            let received = count_bytes(decompressed_bytes, gzip);
            return source::http_request_failed(
                name,
                transport,
                redirected_to.map(String::from),
                url_setting,
                Some(&received),
            )
            .with("decoded_bytes", decompressed_bytes);
        }
        Err(error) => error,
    };
    let failure = if gzip {
        FatalError::carrier(
            "GZIP_INVALID",
            format!(
                "{name} is not a complete gzip stream ({error}) after {}; the download was cut short or the file is damaged, so retry or ask the carrier to send it again",
                count_bytes(decompressed_bytes, true)
            ),
        )
    } else {
        FatalError::carrier(
            "SOURCE_READ_FAILED",
            format!(
                "reading {name} failed after {}: {error}; retry the import",
                count_bytes(decompressed_bytes, false)
            ),
        )
    };
    let failure = failure.with("source", name).with("decoded_bytes", decompressed_bytes);
    match redirected_to {
        Some(target) => failure.with("redirected_to", target),
        None => failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::profile::parse_profile;
    use crate::stage::{PANIC_FOR_TESTS, PANIC_IN_GROUPING_FOR_TESTS, PANIC_IN_MAPPING_FOR_TESTS};

    /// Imports `text` with a small `;` profile; returns the item count, the summary and the error.
    async fn import_text(name: &str, text: &str) -> (usize, Summary, Option<FatalError>) {
        let path = std::env::temp_dir().join(format!("connect-tracking-{name}-{}.csv", std::process::id()));
        std::fs::write(&path, text).unwrap();
        let profile = parse_profile(
            r#"{"source": {"path": "unused.csv"}, "time_zone": "UTC",
                "format": {"type": "delimited", "delimiter": ";", "header": true},
                "fields": {"tracking_number": "tn", "event_code": "code",
                           "event_datetime": {"column": "dt", "format": "%Y-%m-%d %H:%M"}}}"#,
        )
        .unwrap();
        let job = Job {
            profile: Arc::new(profile),
            metadata: Map::new(),
            source_override: Some(Location::parse(path.to_str().unwrap())),
            batch_items: 256,
        };
        let (sender, mut receiver) = mpsc::channel(2);
        tokio::spawn(run(job, sender));

        let mut items = 0;
        let mut end = None;
        while let Some(message) = receiver.recv().await {
            match message {
                Message::Batch(batch) => items += batch.items,
                Message::End { summary, error } => end = Some((summary, error)),
            }
        }
        std::fs::remove_file(&path).unwrap();
        let (summary, error) = end.expect("the import ends with an End message");
        (items, summary, error)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn panic_while_mapping_is_a_bad_record() {
        let text = format!(
            "tn;dt;code\nA;2024-01-02 10:00;1\n{PANIC_IN_MAPPING_FOR_TESTS};2024-01-02 11:00;1\nC;2024-01-02 13:00;1\n"
        );
        let (items, summary, error) = import_text("mapping-panic", &text).await;

        assert!(error.is_none(), "{error:?}");
        assert_eq!(items, 3);
        assert_eq!(summary.counts.errors, 1);
        assert_eq!(summary.counts.events, 2);
    }

    /// Checks that a panic ended the import with an INTERNAL error that names `reason`
    /// and reports that the waiting shipments were yielded.
    fn assert_internal_after_flush(error: Option<FatalError>, reason: &str) {
        let error = error.expect("a panic is reported as an error");
        assert_eq!(error.status_code(), 500);
        assert_eq!(error.code, "INTERNAL");
        assert!(error.message.contains(reason), "{}", error.message);
        assert!(
            error.message.contains("the events parsed before it were yielded"),
            "{}",
            error.message
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn panic_yields_waiting_shipments_then_fails() {
        let text = format!("tn;dt;code\nA;2024-01-02 10:00;1\nB;2024-01-02 11:00;1\nA;2024-01-02 12:00;2\n{PANIC_FOR_TESTS}\nC;2024-01-02 13:00;1\n");
        let (items, summary, error) = import_text("stage-panic", &text).await;

        // Shipments A and B were waiting in the window when line 5 panicked.
        assert_eq!(items, 2);
        assert_eq!(summary.counts.events, 3);
        assert_internal_after_flush(error, "a test asked for a panic at line 5");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn grouping_panic_yields_then_fails() {
        let text = format!(
            "tn;dt;code\nA;2024-01-02 10:00;1\nB;2024-01-02 11:00;1\nA;2024-01-02 12:00;2\n{PANIC_IN_GROUPING_FOR_TESTS};2024-01-02 12:30;1\nC;2024-01-02 13:00;1\n"
        );
        let (items, summary, error) = import_text("grouping-panic", &text).await;

        // Shipments A and B were waiting in the window when the event of line 5 was grouped.
        assert_eq!(items, 2);
        assert_eq!(summary.counts.events, 3);
        assert_internal_after_flush(error, "a test asked for a panic while grouping line 5");
    }
}
