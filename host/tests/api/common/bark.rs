//! A Bark-compatible receiver on loopback: records every push and answers
//! with scripted responses (then 200 `{"code":200}` once the script runs out).

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

#[derive(Clone, Default)]
struct Shared {
    received: Arc<Mutex<Vec<Value>>>,
    script: Arc<Mutex<Vec<(u16, Value)>>>,
    /// How many of the first requests hang (never answer).
    hang_first: Arc<Mutex<usize>>,
    /// How long every answer takes.
    delay: std::time::Duration,
}

pub struct BarkReceiver {
    pub base_url: String,
    shared: Shared,
}

impl BarkReceiver {
    pub async fn start(script: Vec<(u16, Value)>) -> Self {
        Self::start_hanging(script, 0).await
    }

    /// Like `start`, but the first `hang` requests are recorded and never answered.
    pub async fn start_hanging(script: Vec<(u16, Value)>, hang: usize) -> Self {
        Self::serve(Shared {
            received: Arc::default(),
            script: Arc::new(Mutex::new(script)),
            hang_first: Arc::new(Mutex::new(hang)),
            delay: std::time::Duration::ZERO,
        })
        .await
    }

    /// Records each push at once and answers 200 after `delay`.
    pub async fn start_slow(delay: std::time::Duration) -> Self {
        Self::serve(Shared {
            delay,
            ..Shared::default()
        })
        .await
    }

    async fn serve(shared: Shared) -> Self {
        let app = Router::new()
            .route("/push", post(push))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        BarkReceiver { base_url, shared }
    }

    pub fn received(&self) -> Vec<Value> {
        self.shared
            .received
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }
}

async fn push(State(shared): State<Shared>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    if let Ok(mut received) = shared.received.lock() {
        received.push(body);
    }
    let hang = shared.hang_first.lock().map(|mut left| {
        let hang = *left > 0;
        *left = left.saturating_sub(1);
        hang
    });
    if hang.unwrap_or(false) {
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(shared.delay).await;
    let next = shared
        .script
        .lock()
        .ok()
        .and_then(|mut script| (!script.is_empty()).then(|| script.remove(0)));
    let (status, answer) = next.unwrap_or((
        200,
        json!({"code": 200, "message": "success", "timestamp": 1}),
    ));
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        Json(answer),
    )
}
