//! Producer throughput without JavaScript, for profiling: run with
//! `cargo test --release --test throughput -- --ignored --nocapture` after `npm run bench`
//! has generated bench/data.

use std::sync::Arc;
use std::time::Instant;

use connect_tracking::pipeline::{self, Job, Message};
use connect_tracking::profile::parse_profile;
use tokio::sync::mpsc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the generated benchmark file"]
async fn producer_throughput() {
    let profile = parse_profile(&std::fs::read_to_string("bench/profile.json").unwrap()).unwrap();
    let job = Job {
        profile: Arc::new(profile),
        metadata: serde_json::Map::new(),
        source_override: None,
        batch_items: 256,
    };
    let (sender, mut receiver) = mpsc::channel(2);
    let started = Instant::now();
    tokio::spawn(pipeline::run(job, sender));
    let mut records = 0;
    while let Some(message) = receiver.recv().await {
        if let Message::End { summary, error } = message {
            assert!(error.is_none(), "{error:?}");
            records = summary.counts.records;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{records} records in {seconds:.3} s: {:.2} M records/s",
        records as f64 / seconds / 1e6
    );
}
