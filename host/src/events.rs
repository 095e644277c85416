//! Live events for the dashboard (`GET /api/events`): a new message, a
//! delivery that changed state. Producers (ingest, worker, manual retry)
//! publish on an in-process broadcast bus after their commit; each stream
//! keeps only its own user's events.
//!
//! A worker running as its own process (`beacon worker` on PostgreSQL) has no
//! web clients; it relays its events through the database's signals and the
//! web processes republish what they hear on their bus.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use crate::storage::{Store, Topic};

/// Events buffered per subscriber before a slow one is told to resync.
const BUS_CAPACITY: usize = 1024;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A message was stored.
    Message {
        id: String,
        endpoint_id: String,
        received_at: String,
    },
    /// A delivery changed state (`queued`, `sending`, `retry`, `sent`, `failed`).
    Delivery {
        id: String,
        message_id: String,
        status: String,
    },
}

impl EventKind {
    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Message { .. } => "message",
            EventKind::Delivery { .. } => "delivery",
        }
    }

    /// The SSE `data:` JSON (without the tag; the event name carries it).
    pub fn data(&self) -> serde_json::Value {
        match self {
            EventKind::Message {
                id,
                endpoint_id,
                received_at,
            } => {
                serde_json::json!({"id": id, "endpoint_id": endpoint_id, "received_at": received_at})
            }
            EventKind::Delivery {
                id,
                message_id,
                status,
            } => serde_json::json!({"id": id, "message_id": message_id, "status": status}),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub user_id: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What a subscriber receives next.
pub enum Next {
    Event(Arc<Event>),
    /// Events were dropped because this subscriber fell behind.
    Lagged,
    /// The server is shutting down.
    Closed,
}

/// The process-wide event bus; cheap to clone.
#[derive(Clone)]
pub struct Events {
    bus: broadcast::Sender<Arc<Event>>,
    closing: watch::Sender<bool>,
    /// When set, events also go to other processes through this store.
    relay: Option<Store>,
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl Events {
    pub fn new() -> Self {
        let (bus, _) = broadcast::channel(BUS_CAPACITY);
        let (closing, _) = watch::channel(false);
        Events {
            bus,
            closing,
            relay: None,
        }
    }

    /// A bus whose events are relayed to other processes (a worker without a
    /// web server on PostgreSQL); on SQLite there is only one process.
    pub fn relaying_through(store: Store) -> Self {
        let mut events = Self::new();
        if store.is_shared() {
            events.relay = Some(store);
        }
        events
    }

    /// Whether anyone could receive an event now (lets hot paths skip building one).
    pub fn wanted(&self) -> bool {
        self.relay.is_some() || self.bus.receiver_count() > 0
    }

    pub fn publish(&self, user_id: &str, kind: EventKind) {
        let event = Arc::new(Event {
            user_id: user_id.to_string(),
            kind,
        });
        if let Some(store) = &self.relay {
            let store = store.clone();
            let event = event.clone();
            tokio::spawn(async move {
                if let Ok(payload) = serde_json::to_string(event.as_ref()) {
                    if let Err(err) = store.signal(Topic::LiveEvents, &payload).await {
                        tracing::debug!(error = %err, "could not relay a live event");
                    }
                }
            });
        }
        // No subscribers is the common case; that is not an error.
        let _ = self.bus.send(event);
    }

    /// Ends every open stream (graceful shutdown would otherwise wait for them).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    pub fn subscribe(&self, user_id: String) -> Subscription {
        Subscription {
            user_id,
            receiver: self.bus.subscribe(),
            closing: self.closing.subscribe(),
        }
    }

    /// Republishes events relayed by worker processes (PostgreSQL only)
    /// until the bus closes.
    pub fn listen_for_relayed(&self, store: &Store) {
        let bus = self.bus.clone();
        let Some(listener) =
            store.on_signal(
                Topic::LiveEvents,
                move |payload| match serde_json::from_str::<Event>(payload) {
                    Ok(event) => {
                        let _ = bus.send(Arc::new(event));
                    }
                    Err(err) => tracing::warn!(error = %err, "ignored a malformed relayed event"),
                },
            )
        else {
            return;
        };
        let mut closing = self.closing.subscribe();
        tokio::spawn(async move {
            let _ = closing.wait_for(|closed| *closed).await;
            listener.abort();
        });
    }
}

/// One user's view of the bus.
pub struct Subscription {
    user_id: String,
    receiver: broadcast::Receiver<Arc<Event>>,
    closing: watch::Receiver<bool>,
}

impl Subscription {
    pub async fn next(&mut self) -> Next {
        loop {
            if *self.closing.borrow() {
                return Next::Closed;
            }
            tokio::select! {
                received = self.receiver.recv() => match received {
                    Ok(event) if event.user_id == self.user_id => return Next::Event(event),
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(_)) => return Next::Lagged,
                    Err(broadcast::error::RecvError::Closed) => return Next::Closed,
                },
                changed = self.closing.changed() => {
                    if changed.is_err() {
                        return Next::Closed;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(id: &str) -> EventKind {
        EventKind::Delivery {
            id: id.into(),
            message_id: "m".into(),
            status: "sent".into(),
        }
    }

    #[tokio::test]
    async fn subscribers_see_only_their_own_events() {
        let events = Events::new();
        let mut alice = events.subscribe("alice".into());
        events.publish("bob", delivery("b1"));
        events.publish("alice", delivery("a1"));
        match alice.next().await {
            Next::Event(event) => assert_eq!(event.kind, delivery("a1")),
            _ => panic!("expected alice's event"),
        }
    }

    #[tokio::test]
    async fn close_ends_streams() {
        let events = Events::new();
        let mut alice = events.subscribe("alice".into());
        events.close();
        assert!(matches!(alice.next().await, Next::Closed));
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_told_to_resync() {
        let events = Events::new();
        let mut alice = events.subscribe("alice".into());
        for n in 0..BUS_CAPACITY + 10 {
            events.publish("alice", delivery(&n.to_string()));
        }
        assert!(matches!(alice.next().await, Next::Lagged));
    }

    #[test]
    fn relayed_events_round_trip_as_json() {
        let event = Event {
            user_id: "u".into(),
            kind: delivery("d"),
        };
        let text = serde_json::to_string(&event).expect("json");
        assert_eq!(serde_json::from_str::<Event>(&text).expect("parse"), event);
    }
}
