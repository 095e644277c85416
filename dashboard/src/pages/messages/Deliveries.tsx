import { Link } from "react-router";
import type { Attempt, Delivery } from "../../api/types";
import { DeliveryStatusBadge, EmptyState } from "../../components/bits";
import { RetryButton } from "../../components/RetryButton";
import { formatDateTime } from "../../lib/format";

/** Statuses the worker will still act on (the page polls while any is present). */
export const PENDING_STATUSES = new Set(["queued", "sending", "retry"]);

function AttemptsTable({ attempts }: { attempts: Attempt[] }) {
  if (attempts.length === 0) return <p className="muted">No attempts yet.</p>;
  return (
    <div className="table-wrap">
      <table className="table responsive attempts-table">
        <caption className="visually-hidden">Attempts</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Outcome</th>
            <th scope="col">HTTP</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {attempts.map((a) => (
            <tr key={a.attempt_no}>
              <td data-label="#">{a.attempt_no}</td>
              <td data-label="Started" className="nowrap">
                <time dateTime={a.started_at}>{formatDateTime(a.started_at)}</time>
              </td>
              <td data-label="Duration">{a.duration_ms} ms</td>
              <td data-label="Outcome">
                <DeliveryStatusBadge status={a.outcome} />
              </td>
              <td data-label="HTTP">{a.http_status ?? <span className="muted">—</span>}</td>
              <td data-label="Details" className="break">
                {a.error && <p className="attempt-error">{a.error}</p>}
                {a.response_snippet && (
                  <details>
                    <summary>Response</summary>
                    <pre className="code">{a.response_snippet}</pre>
                  </details>
                )}
                {!a.error && !a.response_snippet && <span className="muted">—</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DeliveryItem({ d }: { d: Delivery }) {
  const channel = d.channel_name ?? "a deleted channel";
  const rule = d.rule_name ?? "a deleted rule";
  return (
    <li className="delivery card" aria-label={`Delivery to ${channel}`}>
      <div className="delivery-head">
        <h3 className="delivery-title">
          {d.channel_id && d.channel_name ? <Link to={`/channels/${encodeURIComponent(d.channel_id)}`}>{d.channel_name}</Link> : channel}
          <span className="muted">
            {" "}
            via rule{" "}
            {d.rule_id && d.rule_name ? <Link to={`/rules/${encodeURIComponent(d.rule_id)}`}>{d.rule_name}</Link> : rule}
          </span>
        </h3>
        <DeliveryStatusBadge status={d.status} testId="delivery-status" />
        {d.status === "failed" && <RetryButton deliveryId={d.id} messageId={d.message_id} target={channel} />}
      </div>
      <dl className="fields compact">
        <div>
          <dt>Attempts</dt>
          <dd>{d.attempt_count}</dd>
        </div>
        <div>
          <dt>Queued</dt>
          <dd>
            <time dateTime={d.created_at}>{formatDateTime(d.created_at)}</time>
          </dd>
        </div>
        {d.sent_at && (
          <div>
            <dt>Sent</dt>
            <dd>
              <time dateTime={d.sent_at}>{formatDateTime(d.sent_at)}</time>
            </dd>
          </div>
        )}
        {d.next_attempt_at && (
          <div>
            <dt>Next attempt</dt>
            <dd>
              <time dateTime={d.next_attempt_at}>{formatDateTime(d.next_attempt_at)}</time>
            </dd>
          </div>
        )}
      </dl>
      {d.last_error && d.status !== "sent" && (
        <p className="delivery-error">
          <span className="strong">Last error:</span> {d.last_error}
        </p>
      )}
      <AttemptsTable attempts={d.attempts} />
    </li>
  );
}

/** A message's deliveries, one card each with its attempts. */
export function DeliveryList({ deliveries, heldBack = 0 }: { deliveries: Delivery[]; heldBack?: number }) {
  if (deliveries.length === 0) {
    return (
      <EmptyState title="No deliveries">
        <p>
          No enabled rule matched this message when it arrived
          {heldBack > 0 ? ` (filters held it back from ${heldBack === 1 ? "one rule" : `${heldBack} rules`}: see above)` : ""}.{" "}
          <Link to="/rules">Rules</Link> decide which channel a message goes to.
        </p>
      </EmptyState>
    );
  }
  return (
    <ul className="delivery-list" aria-label="Deliveries">
      {deliveries.map((d) => (
        <DeliveryItem key={d.id} d={d} />
      ))}
    </ul>
  );
}
