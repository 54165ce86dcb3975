//! Stopping a request's solves early, when whoever asked for them has gone away.
//!
//! Every stage, explanation and sweep already asks [`remaining`](super::remaining)
//! (or [`expired`](super::expired)) how much of its time limit is left before each
//! solve. A [`CancelToken`] installed for the current thread with [`with_cancel`]
//! makes both answer "none" once it is cancelled, so a cancelled request stops
//! between two solves without a token being threaded through every signature. A
//! single solve already running ends at its own time limit (which the server
//! always sets).

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A flag asking the solves of one request to stop. Clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        CancelToken::default()
    }

    /// Asks every solve running under this token (or a clone) to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// A guard that cancels the token when dropped: held by an async call whose
    /// future the runtime drops when the client goes away.
    pub fn cancel_on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

/// Cancels its token when dropped (see [`CancelToken::cancel_on_drop`]).
#[derive(Debug)]
pub struct CancelOnDrop(CancelToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

thread_local! {
    static CURRENT: RefCell<Option<CancelToken>> = const { RefCell::new(None) };
}

/// Runs `work` on this thread with `token` as its cancellation token: once the
/// token is cancelled, every time check inside `work` finds no time left. The
/// previous token (if any) is restored afterwards, also when `work` panics.
pub fn with_cancel<T>(token: &CancelToken, work: impl FnOnce() -> T) -> T {
    struct Restore(Option<CancelToken>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT.with(|current| *current.borrow_mut() = previous);
        }
    }
    let previous = CURRENT.with(|current| current.borrow_mut().replace(token.clone()));
    let _restore = Restore(previous);
    work()
}

/// Whether the current thread's token (if any) has been cancelled.
pub(crate) fn cancelled() -> bool {
    CURRENT.with(|current| {
        current
            .borrow()
            .as_ref()
            .is_some_and(CancelToken::is_cancelled)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_seen_only_inside_its_scope_and_restored_after_a_panic() {
        let token = CancelToken::new();
        assert!(!cancelled());
        with_cancel(&token, || {
            assert!(!cancelled());
            token.cancel();
            assert!(cancelled());
            // A nested scope with a fresh token hides the outer one ...
            with_cancel(&CancelToken::new(), || assert!(!cancelled()));
            // ... and restores it.
            assert!(cancelled());
        });
        assert!(!cancelled(), "the token outlived its scope");

        let panicked = std::panic::catch_unwind(|| {
            with_cancel(&token, || panic!("solver bug"));
        });
        assert!(panicked.is_err());
        assert!(!cancelled(), "a panic left the token installed");
    }

    #[test]
    fn a_cancelled_request_has_no_time_left_and_starts_no_solve() {
        use crate::analysis::solve;
        use crate::solve::{expired, remaining, SolveOptions, Status};
        use std::time::{Duration, Instant};

        let plan = crate::model::fixtures::worked_example(0.2);
        let token = CancelToken::new();
        let far = Some(Instant::now() + Duration::from_secs(3600));
        with_cancel(&token, || {
            assert_eq!(remaining(None), None);
            assert!(!expired(far));
            let report = solve(&plan, &SolveOptions::default()).expect("solves");
            assert_eq!(report.status, Status::Optimal);

            token.cancel();
            assert_eq!(remaining(None), Some(Duration::ZERO));
            assert_eq!(remaining(far), Some(Duration::ZERO));
            assert!(expired(None) && expired(far));
            let report = solve(&plan, &SolveOptions::default()).expect("a result");
            assert_eq!(report.status, Status::TimeLimit, "{}", report.message);
        });
        assert_eq!(remaining(None), None);
    }

    #[test]
    fn dropping_the_guard_cancels() {
        let token = CancelToken::new();
        let guard = token.cancel_on_drop();
        assert!(!token.is_cancelled());
        drop(guard);
        assert!(token.is_cancelled());
    }
}
