//! The threads that run the record stages (parsing and mapping, grouping and encoding) of
//! all imports.
//!
//! Each thread drives a single-threaded tokio runtime. Each half of an import's record
//! stage is a task on one of them. A stage that waits for its consumer is a suspended
//! task, so imports that are open but not read hold no thread, and any number of them can
//! be open at once.
//!
//! The two halves of one import get a thread each on machines with at least
//! `CORES_FOR_TWO_THREADS` cores. With fewer, they share one thread: on the 2-core
//! benchmark machine, an import whose halves ran on two threads, next to the JavaScript
//! thread that decodes the batches, took as long as or longer than one on a single thread.
//! NOTE: two threads are expected to help on machines with more cores, because the
//! producer alone (no JavaScript) was about 20% faster on two threads on that machine.
//! That gain was not measured with the JavaScript thread on a machine with 3 or more cores.
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

/// The cores an import's two halves need to run on two threads: one for each half and
/// one for the JavaScript thread.
const CORES_FOR_TWO_THREADS: usize = 3;

struct RecordThreads {
    handles: Vec<Handle>,
    next: AtomicUsize,
    /// Whether the two halves of an import go to two threads.
    two_per_import: bool,
}

static THREADS: OnceLock<RecordThreads> = OnceLock::new();

/// Runs `first` and `second`, the two halves of one import, on a record thread chosen
/// round-robin, or on it and the next one when the machine has the cores for that.
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
    let step = if threads.two_per_import { 2 } else { 1 };
    let index = threads.next.fetch_add(step, Ordering::Relaxed) % count;
    let first = threads.handles[index].spawn(first);
    let second = threads.handles[(index + step - 1) % count].spawn(second);
    (first, second)
}

fn start_threads() -> RecordThreads {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let count = cores.clamp(1, MAX_THREADS);
    let handles = (0..count).map(start_thread).collect();
    RecordThreads {
        handles,
        next: AtomicUsize::new(0),
        two_per_import: cores >= CORES_FOR_TWO_THREADS,
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
    fn pair_halves_placed_by_core_count() {
        // Pairs started at once from several threads are placed alike.
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
        let threads = THREADS.get().expect("the record threads are started");
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!(threads.two_per_import, cores >= CORES_FOR_TWO_THREADS);
        for (first, second) in pairs {
            assert!(first.starts_with("connect-tracking-records-"), "{first}");
            if threads.two_per_import {
                assert_ne!(first, second);
            } else {
                assert_eq!(first, second);
            }
        }
    }
}
