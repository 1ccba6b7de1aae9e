//! The threads that run the record stages (parsing and mapping, grouping and encoding) of
//! all imports.
//!
//! Each thread drives a single-threaded tokio runtime. Each half of an import's record
//! stage is a task on one of them, and the two halves of one import go to two threads when
//! there are two. A stage that waits for its consumer is a suspended task, so imports that
//! are open but not read hold no thread, and any number of them can be open at once.
//!
//! A task never moves between threads, which keeps glibc from spreading the grouping
//! window over many per-thread arenas. An event's text comes from the parsing thread's
//! arena, and the window's lists of events come from the grouping thread's arena.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle};
use tokio::task::JoinHandle;

/// The maximum number of record threads; fewer on machines with fewer cores.
const MAX_THREADS: usize = 4;

struct RecordThreads {
    handles: Vec<Handle>,
    next: AtomicUsize,
}

static THREADS: OnceLock<RecordThreads> = OnceLock::new();

/// Runs `first` and `second` on two neighbouring record threads, chosen round-robin, so
/// that they run on two threads whenever there are two.
///
/// # Panics
///
/// Panics when no record thread can be started, for example when the process is out of
/// threads. The binding turns that panic into an INTERNAL error.
pub fn spawn_pair<F, G>(first: F, second: G) -> (JoinHandle<F::Output>, JoinHandle<G::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    G: Future + Send + 'static,
    G::Output: Send + 'static,
{
    let threads = THREADS.get_or_init(start_threads);
    let count = threads.handles.len();
    let index = threads.next.fetch_add(2, Ordering::Relaxed) % count;
    let first = threads.handles[index].spawn(first);
    let second = threads.handles[(index + 1) % count].spawn(second);
    (first, second)
}

fn start_threads() -> RecordThreads {
    let count = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, MAX_THREADS);
    let handles = (0..count).map(start_thread).collect();
    RecordThreads {
        handles,
        next: AtomicUsize::new(0),
    }
}

fn start_thread(index: usize) -> Handle {
    let runtime = Builder::new_current_thread()
        .build()
        .expect("a single-threaded tokio runtime can be built");
    let handle = runtime.handle().clone();
    std::thread::Builder::new()
        .name(format!("connect-tracking-records-{index}"))
        .spawn(move || runtime.block_on(std::future::pending::<()>()))
        .expect("a record thread can be started");
    handle
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread_name() -> String {
        std::thread::current().name().unwrap_or_default().to_string()
    }

    #[test]
    fn pair_halves_run_on_two_threads() {
        // Pairs started at once from several threads still get two threads each.
        let starters: Vec<_> = (0..8)
            .map(|_| {
                std::thread::spawn(|| {
                    let (first, second) = spawn_pair(async { thread_name() }, async { thread_name() });
                    let runtime = Builder::new_current_thread().build().unwrap();
                    runtime.block_on(async { (first.await.unwrap(), second.await.unwrap()) })
                })
            })
            .collect();
        let pairs: Vec<(String, String)> = starters.into_iter().map(|starter| starter.join().unwrap()).collect();
        let threads = THREADS.get().expect("the record threads are started").handles.len();
        for (first, second) in pairs {
            assert!(first.starts_with("connect-tracking-records-"), "{first}");
            if threads >= 2 {
                assert_ne!(first, second);
            }
        }
    }
}
