//! The one tokio runtime the SDK uses, and cooperative cancellation.
//!
//! Core's logic is synchronous: a wallet call is a sequence of SQLite work,
//! key-store signatures and (for a few calls) HTTP exchanges. Async callers
//! (the Kotlin and Swift bindings) run such a call on this runtime's
//! blocking pool with [`run_blocking`], so the caller's thread never waits;
//! the built-in HTTPS transport drives its connections on the same
//! runtime's workers.
//!
//! A caller that stops waiting (a cancelled coroutine or task) cannot stop
//! the blocking work mid-instruction, but it can ask it to stop at the next
//! safe point: [`run_blocking`] hands the work a [`CancelToken`], and every
//! key-store signature and HTTP exchange checks it before and after. The
//! wallet writes each operation in one SQLite transaction after its last
//! signature, so a cancelled call either commits whole or leaves no trace.

use std::{
    cell::RefCell,
    future::Future,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, OnceLock,
    },
};

/// Worker threads of the shared runtime: network I/O only, so few.
const WORKERS: usize = 2;
/// Blocking-pool threads: wallet calls, some waiting for a user to confirm
/// a signature.
const MAX_BLOCKING: usize = 64;

static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();

/// The shared runtime, started on first use.
pub fn shared() -> Result<&'static tokio::runtime::Runtime, RuntimeError> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(WORKERS)
                .max_blocking_threads(MAX_BLOCKING)
                .thread_name("satchel")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| RuntimeError::Start(e.clone()))
}

/// Why work could not run or finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// The runtime's threads could not be started.
    #[error("cannot start the SDK's runtime: {0}")]
    Start(String),
    /// The work panicked (a bug); nothing it had not committed was written.
    #[error("the operation failed unexpectedly")]
    Panicked,
    /// The caller cancelled the operation.
    #[error("the operation was cancelled")]
    Cancelled,
}

/// A flag the caller raises to ask running work to stop at its next safe
/// point. Cloning shares the flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the work to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Runs `f` on this thread with this token as the current one, so
    /// [`check_cancelled`] inside it sees it.
    pub fn scope<T>(&self, f: impl FnOnce() -> T) -> T {
        struct Restore(Option<CancelToken>);
        impl Drop for Restore {
            fn drop(&mut self) {
                CURRENT.with(|c| *c.borrow_mut() = self.0.take());
            }
        }
        let _restore = Restore(CURRENT.with(|c| c.borrow_mut().replace(self.clone())));
        f()
    }
}

thread_local! {
    static CURRENT: RefCell<Option<CancelToken>> = const { RefCell::new(None) };
}

/// `Err(Cancelled)` if the work running on this thread was cancelled.
pub fn check_cancelled() -> Result<(), RuntimeError> {
    if CURRENT.with(|c| c.borrow().as_ref().is_some_and(CancelToken::is_cancelled)) {
        Err(RuntimeError::Cancelled)
    } else {
        Ok(())
    }
}

/// Cancels its token when dropped: held by the awaiting future, so a caller
/// that stops waiting cancels the work.
struct CancelOnDrop(CancelToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Runs blocking work `f` on the shared runtime's blocking pool and waits
/// for it without blocking the caller's thread. Dropping the returned
/// future (a cancelled coroutine or task) cancels the work's token.
///
/// The future may be polled by any executor (the bindings' foreign
/// executors included).
pub fn run_blocking<T, E, F>(f: F) -> impl Future<Output = Result<T, E>> + Send
where
    T: Send + 'static,
    E: From<RuntimeError> + Send + 'static,
    F: FnOnce() -> Result<T, E> + Send + 'static,
{
    let token = CancelToken::new();
    let guard = CancelOnDrop(token.clone());
    let spawned = shared().map(|rt| rt.spawn_blocking(move || token.scope(f)));
    async move {
        let _guard = guard;
        match spawned {
            Ok(handle) => handle.await.map_err(|_| RuntimeError::Panicked)?,
            Err(e) => Err(e.into()),
        }
    }
}

/// Runs `future` on the shared runtime and blocks this thread until it ends.
/// For synchronous code (never an async worker thread) that needs an async
/// library, such as the HTTPS transport.
pub fn block_on<T: Send + 'static>(
    future: impl Future<Output = T> + Send + 'static,
) -> Result<T, RuntimeError> {
    let rt = shared()?;
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    rt.spawn(async move {
        let _ = tx.send(future.await);
    });
    rx.recv().map_err(|_| RuntimeError::Panicked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_sees_its_token_and_only_inside_the_scope() {
        let token = CancelToken::new();
        token.cancel();
        assert_eq!(token.scope(check_cancelled), Err(RuntimeError::Cancelled));
        assert_eq!(check_cancelled(), Ok(()));
    }

    #[test]
    fn dropping_the_future_cancels_the_work() {
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let (seen_tx, seen_rx) = std::sync::mpsc::channel();
        let fut = run_blocking(move || {
            started_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            seen_tx.send(check_cancelled()).unwrap();
            Ok::<_, RuntimeError>(())
        });
        let handle = shared().unwrap().spawn(fut);
        started_rx.recv().unwrap();
        handle.abort();
        while !handle.is_finished() {
            std::thread::yield_now();
        }
        // The work goes on to its next check and finds itself cancelled.
        go_tx.send(()).unwrap();
        assert_eq!(seen_rx.recv().unwrap(), Err(RuntimeError::Cancelled));
        let done = run_blocking(|| Ok::<_, RuntimeError>(7));
        assert_eq!(block_on(done).unwrap(), Ok(7));
    }

    #[test]
    fn a_panic_is_an_error_not_a_crash() {
        let r = block_on(run_blocking(|| -> Result<(), RuntimeError> {
            panic!("bug")
        }));
        assert_eq!(r.unwrap(), Err(RuntimeError::Panicked));
    }
}
