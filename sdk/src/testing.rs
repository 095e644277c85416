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

use crate::values::{
    FetchError, KvError, Level, Mail, MailError, MqttError, Publish, Request, Response,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

type Handler = Box<dyn FnMut(&Request) -> Result<Response, FetchError>>;
type MailHandler = Box<dyn FnMut(&Mail) -> Result<String, MailError>>;
type MqttHandler = Box<dyn FnMut(&Publish) -> Result<(), MqttError>>;

thread_local! {
    static HANDLER: RefCell<Option<Handler>> = RefCell::new(None);
    static REQUESTS: RefCell<Vec<Request>> = const { RefCell::new(Vec::new()) };
    static LOGS: RefCell<Vec<(Level, String)>> = const { RefCell::new(Vec::new()) };
    static KV: RefCell<HashMap<(String, String), Entry>> = RefCell::new(HashMap::new());
    static KV_SCOPE: RefCell<String> = RefCell::new(String::from("default"));
    static MAIL: RefCell<Option<MailHandler>> = RefCell::new(None);
    static MAILS: RefCell<Vec<Mail>> = const { RefCell::new(Vec::new()) };
    static MQTT: RefCell<Option<MqttHandler>> = RefCell::new(None);
    static PUBLISHED: RefCell<Vec<Publish>> = const { RefCell::new(Vec::new()) };
}

/// Answer every [`mail::send`](crate::mail::send) on this thread with
/// `handler`; mails are recorded for [`mails`]. Without a mock, sending
/// answers [`MailError::NotConfigured`].
pub fn mock_mail(handler: impl FnMut(&Mail) -> Result<String, MailError> + 'static) {
    MAIL.with(|h| *h.borrow_mut() = Some(Box::new(handler)));
}

/// Mails sent on this thread since the last [`reset`].
pub fn mails() -> Vec<Mail> {
    MAILS.with(|m| m.borrow().clone())
}

/// Answer every [`mqtt::publish`](crate::mqtt::publish) on this thread with
/// `handler`; publishes are recorded for [`published`]. Without a mock,
/// publishing answers a connection error.
pub fn mock_mqtt(handler: impl FnMut(&Publish) -> Result<(), MqttError> + 'static) {
    MQTT.with(|h| *h.borrow_mut() = Some(Box::new(handler)));
}

/// Messages published on this thread since the last [`reset`].
pub fn published() -> Vec<Publish> {
    PUBLISHED.with(|p| p.borrow().clone())
}

pub(crate) fn mocked_mail(mail: &Mail) -> Result<String, MailError> {
    MAILS.with(|m| m.borrow_mut().push(mail.clone()));
    MAIL.with(|h| match h.borrow_mut().as_mut() {
        Some(handler) => handler(mail),
        None => Err(MailError::NotConfigured),
    })
}

pub(crate) fn mocked_publish(message: &Publish) -> Result<(), MqttError> {
    PUBLISHED.with(|p| p.borrow_mut().push(message.clone()));
    MQTT.with(|h| match h.borrow_mut().as_mut() {
        Some(handler) => handler(message),
        None => Err(MqttError::Connection(
            "no host on a native target: install a mock with beacon_plugin_sdk::testing::mock_mqtt"
                .into(),
        )),
    })
}

/// A stored key: bytes or a counter, and when it expires.
#[derive(Clone)]
struct Entry {
    value: Option<Vec<u8>>,
    counter: i64,
    expires_at: Option<Instant>,
}

impl Entry {
    fn is_live(&self) -> bool {
        self.expires_at.is_none_or(|at| at > Instant::now())
    }
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

/// Remove every mock and forget recorded requests, mails, publishes, logs
/// and key-value state (and go back to the `default` bucket).
pub fn reset() {
    HANDLER.with(|h| *h.borrow_mut() = None);
    REQUESTS.with(|r| r.borrow_mut().clear());
    LOGS.with(|l| l.borrow_mut().clear());
    KV.with(|kv| kv.borrow_mut().clear());
    KV_SCOPE.with(|scope| *scope.borrow_mut() = String::from("default"));
    MAIL.with(|h| *h.borrow_mut() = None);
    MAILS.with(|m| m.borrow_mut().clear());
    MQTT.with(|h| *h.borrow_mut() = None);
    PUBLISHED.with(|p| p.borrow_mut().clear());
}

/// Which bucket [`kv`](crate::kv) calls on this thread reach, e.g. one name
/// per rule when testing that two rules keep separate state. Starts as
/// `default`.
pub fn set_kv_scope(scope: &str) {
    KV_SCOPE.with(|s| *s.borrow_mut() = scope.to_owned());
}

/// Ends every key's expiry `by` earlier, as if that much time had passed
/// (for testing windows without sleeping).
pub fn advance_kv_clock(by: Duration) {
    KV.with(|kv| {
        for entry in kv.borrow_mut().values_mut() {
            if let Some(at) = entry.expires_at.as_mut() {
                *at = at.checked_sub(by).unwrap_or_else(Instant::now);
            }
        }
    });
}

fn with_kv<T>(
    key: &str,
    f: impl FnOnce(&mut HashMap<(String, String), Entry>, (String, String)) -> T,
) -> Result<T, KvError> {
    if key.is_empty() || key.len() > 256 {
        return Err(KvError::Invalid(format!(
            "a key must be 1 to 256 bytes (this one has {})",
            key.len()
        )));
    }
    let scope = KV_SCOPE.with(|s| s.borrow().clone());
    Ok(KV.with(|kv| f(&mut kv.borrow_mut(), (scope, key.to_owned()))))
}

fn check_value(value: &[u8]) -> Result<(), KvError> {
    if value.len() > 16 * 1024 {
        return Err(KvError::Invalid(format!(
            "a value may have at most 16384 bytes (this one has {})",
            value.len()
        )));
    }
    Ok(())
}

fn expiry(ttl_seconds: Option<u32>) -> Option<Instant> {
    ttl_seconds.map(|s| Instant::now() + Duration::from_secs(s.into()))
}

pub(crate) fn kv_get(key: &str) -> Result<Option<Vec<u8>>, KvError> {
    with_kv(key, |kv, k| {
        kv.get(&k).filter(|e| e.is_live()).map(|e| {
            e.value
                .clone()
                .unwrap_or_else(|| e.counter.to_string().into_bytes())
        })
    })
}

pub(crate) fn kv_set(key: &str, value: &[u8], ttl_seconds: Option<u32>) -> Result<(), KvError> {
    check_value(value)?;
    with_kv(key, |kv, k| {
        kv.insert(
            k,
            Entry {
                value: Some(value.to_vec()),
                counter: 0,
                expires_at: expiry(ttl_seconds),
            },
        );
    })
}

pub(crate) fn kv_add(key: &str, value: &[u8], ttl_seconds: Option<u32>) -> Result<bool, KvError> {
    check_value(value)?;
    with_kv(key, |kv, k| {
        if kv.get(&k).is_some_and(Entry::is_live) {
            return false;
        }
        kv.insert(
            k,
            Entry {
                value: Some(value.to_vec()),
                counter: 0,
                expires_at: expiry(ttl_seconds),
            },
        );
        true
    })
}

pub(crate) fn kv_increment(
    key: &str,
    delta: i64,
    ttl_seconds: Option<u32>,
) -> Result<i64, KvError> {
    with_kv(key, |kv, k| {
        let entry = match kv.get(&k).filter(|e| e.is_live()) {
            Some(live) => Entry {
                value: None,
                counter: live.counter.saturating_add(delta),
                expires_at: live.expires_at,
            },
            None => Entry {
                value: None,
                counter: delta,
                expires_at: expiry(ttl_seconds),
            },
        };
        let counter = entry.counter;
        kv.insert(k, entry);
        counter
    })
}

pub(crate) fn kv_delete(key: &str) -> Result<bool, KvError> {
    with_kv(key, |kv, k| kv.remove(&k).is_some())
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
