//! `GET /api/events`: the signed-in user's live events as Server-Sent Events.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::CurrentUser;
use crate::app::App;
use crate::error::ErrorBody;
use crate::events::{Next, Subscription};

/// Idle streams get a comment this often so proxies keep them open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(events))
}

/// Live events: `message` (`{id, endpoint_id, received_at}`) when a message is
/// stored, `delivery` (`{id, message_id, status}`) when a delivery changes
/// state, and `resync` when events were dropped (refetch everything).
#[utoipa::path(get, path = "/api/events", tag = "events", security(("bearer" = [])),
    responses((status = 200, description = "text/event-stream", content_type = "text/event-stream", body = String),
              (status = 401, body = ErrorBody)))]
async fn events(
    State(state): State<App>,
    CurrentUser(user): CurrentUser,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let subscription = state.events.subscribe(user.id);
    Sse::new(stream::unfold(subscription, next_frame))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

async fn next_frame(
    mut subscription: Subscription,
) -> Option<(Result<SseEvent, Infallible>, Subscription)> {
    let frame = match subscription.next().await {
        Next::Event(event) => SseEvent::default()
            .event(event.kind.name())
            .data(event.kind.data().to_string()),
        Next::Lagged => SseEvent::default().event("resync").data("{}"),
        Next::Closed => return None,
    };
    Some((Ok(frame), subscription))
}
