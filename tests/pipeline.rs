//! The whole pipeline on real files, without JavaScript.

use std::io::Write;
use std::sync::Arc;

use connect_tracking::error::FatalError;
use connect_tracking::pipeline::{self, Job, Message, Summary};
use connect_tracking::profile::parse_profile;
use connect_tracking::source::Location;
use tokio::sync::mpsc;

const DPD_FILE: &str = "__test__/fixtures/real/dpd-de_scaninfo_semicolon-header-double-trailing-sep.csv";

struct Outcome {
    items: usize,
    events: usize,
    summary: Summary,
    error: Option<FatalError>,
}

async fn run(profile_file: &str, source: &str) -> Outcome {
    let profile = parse_profile(&std::fs::read_to_string(profile_file).unwrap()).unwrap();
    let job = Job {
        profile: Arc::new(profile),
        metadata: serde_json::Map::new(),
        source_override: Some(Location::parse(source)),
        batch_items: 4,
    };
    let (sender, mut receiver) = mpsc::channel(2);
    tokio::spawn(pipeline::run(job, sender));

    let mut outcome = Outcome {
        items: 0,
        events: 0,
        summary: Summary::default(),
        error: None,
    };
    while let Some(message) = receiver.recv().await {
        match message {
            Message::Batch(batch) => {
                assert!(batch.items <= 4);
                outcome.items += batch.items;
                outcome.events += batch.events;
            }
            Message::End { summary, error } => {
                outcome.summary = summary;
                outcome.error = error;
            }
        }
    }
    outcome
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn temp_file(name: &str, bytes: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("connect-tracking-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

#[tokio::test]
async fn dpd_file_in_small_batches() {
    let outcome = run("examples/profiles/dpd-scaninfo.json", DPD_FILE).await;
    assert!(outcome.error.is_none());
    assert_eq!(outcome.items, 21);
    assert_eq!(outcome.events, 26);
    assert_eq!(outcome.summary.counts.records, 26);
    assert_eq!(outcome.summary.bytes, 5216);
}

#[tokio::test]
async fn multi_member_gzip_is_read_whole() {
    let text = std::fs::read(DPD_FILE).unwrap();
    let split = text.iter().position(|byte| *byte == b'\n').unwrap() + 400;
    let mut bytes = gzip(&text[..split]);
    bytes.extend(gzip(&text[split..]));
    let file = temp_file("multi.csv.gz", &bytes);
    let outcome = run("examples/profiles/dpd-scaninfo.json", &file).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.events, 26);
    assert_eq!(outcome.summary.bytes, bytes.len() as u64);
}

#[tokio::test]
async fn truncated_gzip_yields_parsed_events_then_fails() {
    let text = std::fs::read(DPD_FILE).unwrap();
    let bytes = gzip(&text);
    let file = temp_file("cut.csv.gz", &bytes[..bytes.len() - 12]);
    let outcome = run("examples/profiles/dpd-scaninfo.json", &file).await;
    let error = outcome.error.expect("a truncated gzip stream must fail");
    assert_eq!(error.code, "GZIP_INVALID");
    assert_eq!(error.status_code(), 520);
    assert!(error.message.contains(&file), "{}", error.message);
    assert!(outcome.events > 0, "events before the cut are yielded");
    assert_eq!(outcome.events as u64, outcome.summary.counts.events);
}

#[tokio::test]
async fn missing_file_is_bad_request() {
    let outcome = run("examples/profiles/dpd-scaninfo.json", "/nonexistent/scaninfo.csv").await;
    let error = outcome.error.unwrap();
    assert_eq!(error.code, "SOURCE_NOT_FOUND");
    assert_eq!(error.status_code(), 400);
    assert_eq!(outcome.items, 0);
}

#[tokio::test]
async fn dropped_consumer_stops_the_producer() {
    let profile = parse_profile(&std::fs::read_to_string("examples/profiles/gls-pakstat.json").unwrap()).unwrap();
    let job = Job {
        profile: Arc::new(profile),
        metadata: serde_json::Map::new(),
        source_override: Some(Location::parse(
            "__test__/fixtures/real/gls-at_pakstat_pipe-trailing-sep_mixed-codes.txt",
        )),
        batch_items: 1,
    };
    let (sender, mut receiver) = mpsc::channel(1);
    let task = tokio::spawn(pipeline::run(job, sender));
    assert!(matches!(receiver.recv().await, Some(Message::Batch(_))));
    drop(receiver);
    tokio::time::timeout(std::time::Duration::from_secs(5), task)
        .await
        .expect("the producer ends once the consumer is gone")
        .unwrap();
}
