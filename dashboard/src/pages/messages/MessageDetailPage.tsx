import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router";
import { ApiError } from "../../api/client";
import { messagesApi, qk } from "../../api/endpoints";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorState, Loading, PriorityBadge, Tags } from "../../components/bits";
import { Section } from "../../components/Section";
import type { MessageDetail } from "../../api/types";
import { formatBytes, formatDateTime, PRIORITY_LABELS, safeHttpUrl } from "../../lib/format";
import { formatTimeUntil, pendingRefetchInterval, scheduleOf, useNow } from "../../lib/schedule";
import { DeliveryList, PENDING_STATUSES } from "./Deliveries";
import { FilterReports, sortFilterReports } from "./FilterReports";

function KeyValues({ data, empty }: { data: Record<string, string>; empty: string }) {
  const entries = Object.entries(data);
  if (entries.length === 0) return <p className="muted">{empty}</p>;
  return (
    <dl className="kv">
      {entries.map(([k, v]) => (
        <div key={k} className="kv-row">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/**
 * When a scheduled message's deliveries leave: ahead, with a way to cancel
 * them (deleting the message cancels every delivery that has not left), or
 * past. Nothing for a message that was not scheduled.
 */
function Schedule({ message, now, onCancel }: { message: MessageDetail; now: number; onCancel(): Promise<void> }) {
  const s = scheduleOf(message.deliver_at, now);
  if (s.kind === "none") return null;
  const when = <time dateTime={s.iso}>{formatDateTime(s.iso)}</time>;
  if (s.kind === "past") {
    return (
      <p className="muted schedule-note" data-testid="message-schedule">
        Was scheduled for {when}.
      </p>
    );
  }
  return (
    <div className="schedule-panel" role="region" aria-label="Scheduled delivery" data-testid="message-schedule">
      <p>
        <span className="strong">
          Scheduled for {when} ({formatTimeUntil(s.inMs)})
        </span>
        . Its deliveries wait until then.
      </p>
      <ConfirmDialog
        trigger={
          <button type="button" className="btn btn-danger-outline">
            Cancel scheduled delivery
          </button>
        }
        title="Cancel the scheduled delivery?"
        description={`The message is deleted, so its deliveries due ${formatDateTime(s.iso)} do not leave. This cannot be undone.`}
        confirmLabel="Cancel delivery"
        cancelLabel="Keep it scheduled"
        destructive
        onConfirm={onCancel}
      />
    </div>
  );
}

export function MessageDetailPage() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  // For "in 14 min", and to notice when the scheduled time has come.
  const now = useNow(15_000);
  const q = useQuery({
    queryKey: qk.message(id),
    queryFn: ({ signal }) => messagesApi.get(id, signal),
    // Live updates (SSE) refresh this page; polling is the fallback while work is pending
    // (seldom while a scheduled message's deliveries wait for their time).
    refetchInterval: (query) =>
      query.state.data?.deliveries?.some((d) => PENDING_STATUSES.has(d.status))
        ? pendingRefetchInterval(query.state.data.deliver_at)
        : false,
  });

  if (q.isPending) return <Loading />;
  if (q.isError) {
    if (q.error instanceof ApiError && q.error.status === 404) {
      return (
        <section>
          <h1>Message not found</h1>
          <p>
            It may have been deleted. <Link to="/messages">Back to messages</Link>
          </p>
        </section>
      );
    }
    return <ErrorState error={q.error} onRetry={() => q.refetch()} />;
  }
  const m = q.data;
  const link = safeHttpUrl(m.url);

  /** Delete the message and go back to the list, which says what happened. A message already gone counts as deleted. */
  const deleteAndLeave = async (notice: string) => {
    try {
      await messagesApi.remove(m.id);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
    queryClient.removeQueries({ queryKey: qk.message(m.id) });
    await Promise.all([qk.messagesAll, qk.deliveriesAll, qk.statsAll].map((queryKey) => queryClient.invalidateQueries({ queryKey })));
    navigate("/messages", { replace: true, state: { notice } });
  };
  const name = m.title ? `“${m.title}”` : "the message";

  return (
    <article aria-labelledby="msg-h" className="message-detail">
      <p>
        <Link to="/messages">← Messages</Link>
      </p>
      <div className="page-head">
        <h1 id="msg-h" className="break">
          {m.title || "Message"}
        </h1>
        <ConfirmDialog
          trigger={
            <button type="button" className="btn btn-danger-outline">
              Delete
            </button>
          }
          title="Delete this message?"
          description="The message and its delivery history are removed. This cannot be undone."
          confirmLabel="Delete"
          destructive
          onConfirm={() => deleteAndLeave(`Deleted ${name}.`)}
        />
      </div>

      <Schedule
        message={m}
        now={now}
        onCancel={() => deleteAndLeave(`Cancelled the scheduled delivery of ${name}: the message was deleted.`)}
      />

      <dl className="fields">
        <div>
          <dt>Received</dt>
          <dd>
            <time dateTime={m.received_at}>{formatDateTime(m.received_at)}</time>
          </dd>
        </div>
        <div>
          <dt>Endpoint</dt>
          <dd>
            <Link to={`/messages?endpoint_id=${encodeURIComponent(m.endpoint.id)}`}>{m.endpoint.name}</Link>
          </dd>
        </div>
        <div>
          <dt>Priority</dt>
          <dd>
            <PriorityBadge priority={m.priority} /> {PRIORITY_LABELS[m.priority]}
          </dd>
        </div>
        <div>
          <dt>Group</dt>
          <dd>{m.group ?? <span className="muted">—</span>}</dd>
        </div>
        <div>
          <dt>Tags</dt>
          <dd>
            <Tags tags={m.tags} />
          </dd>
        </div>
        <div>
          <dt>URL</dt>
          <dd className="break">
            {link ? (
              <a href={link} target="_blank" rel="noopener noreferrer nofollow">
                {m.url}
              </a>
            ) : (
              (m.url ?? <span className="muted">—</span>)
            )}
          </dd>
        </div>
        <div>
          <dt>ID</dt>
          <dd>
            <code>{m.id}</code>
          </dd>
        </div>
      </dl>

      <h2>Body</h2>
      <pre className="body-text">{m.body}</pre>

      <Section title={`Extras (${Object.keys(m.extras).length})`} defaultOpen={Object.keys(m.extras).length > 0}>
        <KeyValues data={m.extras} empty="No extras." />
      </Section>

      <Section title="Request">
        <dl className="kv">
          <div className="kv-row">
            <dt>Content type</dt>
            <dd>{m.request.content_type}</dd>
          </div>
          <div className="kv-row">
            <dt>Remote IP</dt>
            <dd>{m.request.remote_ip ?? "—"}</dd>
          </div>
          <div className="kv-row">
            <dt>User agent</dt>
            <dd>{m.request.user_agent ?? "—"}</dd>
          </div>
          <div className="kv-row">
            <dt>Size</dt>
            <dd>{formatBytes(m.request.size_bytes)}</dd>
          </div>
        </dl>
      </Section>

      <Section title={`Request headers (${Object.keys(m.request.headers).length})`}>
        <p className="hint">Sensitive values were replaced by [REDACTED] before storing.</p>
        <KeyValues data={m.request.headers} empty="No headers." />
      </Section>

      <Section title={`Query parameters (${Object.keys(m.request.query).length})`}>
        <KeyValues data={m.request.query} empty="No query parameters." />
      </Section>

      <FilterReports items={m.filter_errors} />

      <section aria-labelledby="deliveries-h" className="deliveries">
        <h2 id="deliveries-h">Deliveries{m.deliveries ? ` (${m.deliveries.length})` : ""}</h2>
        {m.deliveries ? (
          <DeliveryList deliveries={m.deliveries} heldBack={sortFilterReports(m.filter_errors).heldBack.length} />
        ) : (
          <p className="muted">This server does not report deliveries.</p>
        )}
      </section>
    </article>
  );
}
