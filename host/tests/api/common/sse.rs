//! A minimal Server-Sent Events reader for `GET /api/events`.

use std::time::Duration;

use serde_json::Value;

pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// Opens `url` with the bearer token; panics unless it answers 200 text/event-stream.
    pub async fn open(url: &str, token: &str) -> Self {
        let response = reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .header("accept", "text/event-stream")
            .send()
            .await
            .expect("open event stream");
        assert_eq!(response.status().as_u16(), 200);
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        EventStream {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (name, JSON data) within `timeout`, skipping keep-alive
    /// comments; None on timeout or end of stream.
    pub async fn next(&mut self, timeout: Duration) -> Option<(String, Value)> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let mut name = String::from("message");
                let mut data = String::new();
                let mut any = false;
                for line in frame.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        name = value.trim().to_string();
                        any = true;
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                        any = true;
                    }
                }
                if any {
                    let json = serde_json::from_str(&data).expect("event data is JSON");
                    return Some((name, json));
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Reads until an event named `name` whose data satisfies `wanted`.
    pub async fn wait_for(
        &mut self,
        name: &str,
        timeout: Duration,
        wanted: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some((event, data)) if event == name && wanted(&data) => return data,
                Some(_) => continue,
                None => panic!("no `{name}` event arrived in time"),
            }
        }
    }
}
