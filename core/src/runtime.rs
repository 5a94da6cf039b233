//! The one tokio runtime the SDK uses, and cooperative cancellation.
//!
//! Core's logic is synchronous: a wallet call is a sequence of SQLite work,
//! key-store signatures and (for a few calls) HTTP exchanges. Async callers
//! (the Kotlin and Swift bindings) run such a call on this runtime's
//! blocking pool with [`run_blocking`], so the caller's thread never waits;
//! the built-in HTTPS transport drives its connections on the same
//! runtime's I/O thread.
//!
//! A caller that stops waiting (a cancelled coroutine or task) cannot stop
//! the blocking work mid-instruction, but it can ask it to stop at the next
//! safe point: [`run_blocking`] hands the work a [`CancelToken`], and every
//! key-store signature and HTTP exchange checks it before and after. The
//! wallet writes each operation in one SQLite transaction after its last
//! signature, so a cancelled call either commits whole or leaves no trace.

use std::{
    any::Any,
    cell::RefCell,
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, OnceLock,
    },
};

/// Blocking-pool threads: wallet calls, some waiting for a user to confirm
/// a signature.
const MAX_BLOCKING: usize = 64;

static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
static DRIVER: std::sync::Once = std::sync::Once::new();

/// The shared runtime, started on first use: a current-thread scheduler
/// driven by one `satchel-io` thread (the SDK's network I/O is light), and
/// a blocking pool for wallet work.
pub fn shared() -> Result<&'static tokio::runtime::Runtime, RuntimeError> {
    let rt = RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .max_blocking_threads(MAX_BLOCKING)
                .thread_name("satchel")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| RuntimeError::Start(e.clone()))?;
    DRIVER.call_once(|| {
        // The driver runs spawned tasks and the I/O and timer drivers for
        // the life of the process.
        let spawned = std::thread::Builder::new()
            .name("satchel-io".into())
            .spawn(move || rt.block_on(std::future::pending::<()>()));
        if spawned.is_err() {
            // Without a driver, spawned tasks would never run: fail loudly
            // at the first network call instead of hanging.
            DRIVER_FAILED.store(true, Ordering::SeqCst);
        }
    });
    if DRIVER_FAILED.load(Ordering::SeqCst) {
        return Err(RuntimeError::Start("cannot start the I/O thread".into()));
    }
    Ok(rt)
}

static DRIVER_FAILED: AtomicBool = AtomicBool::new(false);

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

/// Type-erased work and results: every call shares one instantiation of
/// the runtime's task machinery instead of one per closure type, which
/// keeps the FFI library small (see docs/PERFORMANCE.md).
type AnyResult = Box<dyn Any + Send>;
type Work = Box<dyn FnOnce() -> AnyResult + Send>;
type AnyFuture = Pin<Box<dyn Future<Output = AnyResult> + Send>>;

fn spawn_work(work: Work) -> Result<tokio::task::JoinHandle<AnyResult>, RuntimeError> {
    Ok(shared()?.spawn_blocking(work))
}

fn spawn_future(future: AnyFuture) -> Result<tokio::task::JoinHandle<AnyResult>, RuntimeError> {
    Ok(shared()?.spawn(future))
}

fn downcast<T: 'static>(out: AnyResult) -> Result<T, RuntimeError> {
    out.downcast::<T>()
        .map(|b| *b)
        .map_err(|_| RuntimeError::Panicked)
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
    let spawned = spawn_work(Box::new(move || Box::new(token.scope(f)) as AnyResult));
    async move {
        let _guard = guard;
        let out = spawned?.await.map_err(|_| RuntimeError::Panicked)?;
        downcast::<Result<T, E>>(out)?
    }
}

/// Runs `future` on the shared runtime and blocks this thread until it ends.
/// For synchronous code (never an async worker thread) that needs an async
/// library, such as the HTTPS transport or an app's async key store. If
/// the work running on this thread is cancelled meanwhile, the future is
/// dropped (an app's coroutine or task is cancelled with it) and this
/// returns [`RuntimeError::Cancelled`] within [`CANCEL_POLL`].
pub fn block_on<T: Send + 'static>(
    future: impl Future<Output = T> + Send + 'static,
) -> Result<T, RuntimeError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<AnyResult>(1);
    let erased: AnyFuture = Box::pin(async move {
        let _ = tx.send(Box::new(future.await) as AnyResult);
        Box::new(()) as AnyResult
    });
    let task = spawn_future(erased)?;
    loop {
        match rx.recv_timeout(CANCEL_POLL) {
            Ok(out) => return downcast::<T>(out),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if check_cancelled().is_err() {
                    task.abort();
                    return Err(RuntimeError::Cancelled);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(RuntimeError::Panicked)
            }
        }
    }
}

/// Polls `future` on this thread until it is ready, parking in between (a
/// future completed by someone else: an app's coroutine or task through
/// uniffi, a task on the shared runtime). Nothing runs on the SDK's I/O
/// thread. If the work running on this thread is cancelled meanwhile, the
/// future is dropped (cancelling the app's coroutine or task) and this
/// returns [`RuntimeError::Cancelled`] within [`CANCEL_POLL`].
pub fn wait_here<T>(future: impl Future<Output = T>) -> Result<T, RuntimeError> {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Ok(out);
        }
        std::thread::park_timeout(CANCEL_POLL);
        check_cancelled()?;
    }
}

/// How often a blocked wait looks for cancellation.
pub const CANCEL_POLL: std::time::Duration = std::time::Duration::from_millis(50);

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
    fn a_cancelled_wait_drops_the_future() {
        struct Dropped(std::sync::mpsc::Sender<()>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                let _ = self.0.send(());
            }
        }
        let (dropped_tx, dropped_rx) = std::sync::mpsc::channel();
        let token = CancelToken::new();
        let waiting = {
            let token = token.clone();
            std::thread::spawn(move || {
                token.scope(|| {
                    block_on(async move {
                        let _guard = Dropped(dropped_tx);
                        std::future::pending::<()>().await
                    })
                })
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        token.cancel();
        assert_eq!(waiting.join().unwrap(), Err(RuntimeError::Cancelled));
        dropped_rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("the future was dropped");
    }

    #[test]
    fn waiting_here_sees_cancellation_and_completion() {
        let token = CancelToken::new();
        token.cancel();
        let r = token.scope(|| wait_here(std::future::pending::<()>()));
        assert_eq!(r, Err(RuntimeError::Cancelled));
        // A future completed from another thread wakes the waiter.
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(10));
            let _ = tx.send(5);
        });
        assert_eq!(wait_here(rx).unwrap(), Ok(5));
    }

    #[test]
    fn a_panic_is_an_error_not_a_crash() {
        let r = block_on(run_blocking(|| -> Result<(), RuntimeError> {
            panic!("bug")
        }));
        assert_eq!(r.unwrap(), Err(RuntimeError::Panicked));
    }
}
