import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router";
import { ApiError } from "../../api/client";
import { messagesApi, qk } from "../../api/endpoints";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorState, Loading, PriorityBadge, Tags } from "../../components/bits";
import { Section } from "../../components/Section";
import { formatBytes, formatDateTime, PRIORITY_LABELS, safeHttpUrl } from "../../lib/format";
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

export function MessageDetailPage() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const q = useQuery({
    queryKey: qk.message(id),
    queryFn: ({ signal }) => messagesApi.get(id, signal),
    // Live updates (SSE) refresh this page; polling is the fallback while work is pending.
    refetchInterval: (query) =>
      query.state.data?.deliveries?.some((d) => PENDING_STATUSES.has(d.status)) ? 5_000 : false,
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
          onConfirm={async () => {
            await messagesApi.remove(m.id);
            queryClient.removeQueries({ queryKey: qk.message(m.id) });
            await queryClient.invalidateQueries({ queryKey: qk.messagesAll });
            navigate("/messages", { replace: true });
          }}
        />
      </div>

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
