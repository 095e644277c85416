//! Native test helpers (not available inside a component).
//!
//! On a native target the SDK has no host to talk to, so `fetch` goes to a
//! per-thread mock you install, and log lines are captured per thread:
//!
//! ```
//! use beacon_plugin_sdk::http::{Request, Response};
//! use beacon_plugin_sdk::testing;
//!
//! testing::mock_fetch(|req| {
//!     assert_eq!(req.url, "https://example.com/hook");
//!     Ok(Response::new(200, br#"{"ok":true}"#.to_vec()))
//! });
//! let resp = Request::post("https://example.com/hook").send().unwrap();
//! assert_eq!(resp.status, 200);
//! assert_eq!(testing::requests().len(), 1);
//! testing::reset();
//! ```

use crate::values::{FetchError, Level, Request, Response};
use std::cell::RefCell;

type Handler = Box<dyn FnMut(&Request) -> Result<Response, FetchError>>;

thread_local! {
    static HANDLER: RefCell<Option<Handler>> = RefCell::new(None);
    static REQUESTS: RefCell<Vec<Request>> = const { RefCell::new(Vec::new()) };
    static LOGS: RefCell<Vec<(Level, String)>> = const { RefCell::new(Vec::new()) };
}

/// Answer every `fetch` on this thread with `handler` (replacing any
/// previous mock). Requests are recorded for [`requests`].
pub fn mock_fetch(handler: impl FnMut(&Request) -> Result<Response, FetchError> + 'static) {
    HANDLER.with(|h| *h.borrow_mut() = Some(Box::new(handler)));
}

/// Requests made on this thread since the last [`reset`].
pub fn requests() -> Vec<Request> {
    REQUESTS.with(|r| r.borrow().clone())
}

/// Log lines written on this thread since the last call (or [`reset`]).
pub fn take_logs() -> Vec<(Level, String)> {
    LOGS.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// Remove the mock and forget recorded requests and logs.
pub fn reset() {
    HANDLER.with(|h| *h.borrow_mut() = None);
    REQUESTS.with(|r| r.borrow_mut().clear());
    LOGS.with(|l| l.borrow_mut().clear());
}

pub(crate) fn record_log(level: Level, message: &str) {
    LOGS.with(|l| l.borrow_mut().push((level, message.to_owned())));
}

pub(crate) fn mocked_fetch(request: &Request) -> Result<Response, FetchError> {
    REQUESTS.with(|r| r.borrow_mut().push(request.clone()));
    HANDLER.with(|h| {
        match h.borrow_mut().as_mut() {
        Some(handler) => handler(request),
        None => Err(FetchError::Connection(
            "no host on a native target: install a mock with beacon_plugin_sdk::testing::mock_fetch"
                .into(),
        )),
    }
    })
}
