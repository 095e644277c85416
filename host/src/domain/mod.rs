//! The domain: Beacon Spear's types and decisions, pure (no I/O, nothing
//! from the rest of the host). Storage turns rows into these types at its
//! edge; `app` and the worker decide with them.

pub mod channel;
pub mod compat;
pub mod config_cipher;
pub mod delivery;
pub mod ids;
pub mod message;
pub mod payload;
pub mod redact;
pub mod retry;
pub mod rule;
pub mod secrets;
pub mod template;
pub mod time;

pub use delivery::{DeliveryStatus, NextState};
pub use ids::{canonical_id, new_id, new_id_with_time};
pub use message::{Message, RequestFacts};
pub use payload::{BodyKind, Payload};
pub use rule::{ExtraFilter, Rule, Verdict};
pub use time::{now_ms, rfc3339};

/// Input the domain refuses, and why; the API edge maps each kind to one status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// One field breaks a rule (422); `field` is its JSON path.
    #[error("{message}")]
    Field { field: String, message: String },
    /// The input cannot be read at all (400).
    #[error("{message}")]
    Malformed { code: &'static str, message: String },
    /// A content type the input is not accepted in (415).
    #[error("{message}")]
    MediaType { message: String },
}

impl Invalid {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid::Field {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn malformed(code: &'static str, message: impl Into<String>) -> Self {
        Invalid::Malformed {
            code,
            message: message.into(),
        }
    }
}
