import { Link } from "react-router";
import type { DeliverySummary } from "../api/types";
import { formatDateTime, formatShort } from "../lib/format";
import { DeliveryStatusBadge } from "./bits";
import { RetryButton } from "./RetryButton";

/** Deliveries from `GET /api/deliveries` (home failures, the deliveries page). */
export function DeliveryTable({ items, compact }: { items: DeliverySummary[]; compact?: boolean }) {
  return (
    <div className="table-wrap">
      <table className="table responsive">
        <thead>
          <tr>
            <th scope="col">Updated</th>
            <th scope="col">Message</th>
            <th scope="col">Channel</th>
            {!compact && <th scope="col">Rule</th>}
            <th scope="col">Status</th>
            {!compact && <th scope="col">Attempts</th>}
            {!compact && <th scope="col">Last error</th>}
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.id}>
              <td data-label="Updated" className="nowrap">
                <time dateTime={d.updated_at} title={formatDateTime(d.updated_at)}>
                  {formatShort(d.updated_at)}
                </time>
              </td>
              <td data-label="Message" className="message-cell">
                <div>
                  <Link to={`/messages/${encodeURIComponent(d.message_id)}`} className="message-link">
                    {d.message_title ? <span className="strong">{d.message_title}</span> : null}
                    <span className="preview">{d.message_preview}</span>
                  </Link>
                  {compact && d.last_error && <span className="delivery-error compact-error" title={d.last_error}>{d.last_error}</span>}
                </div>
              </td>
              <td data-label="Channel">{d.channel_name ?? <span className="muted">deleted</span>}</td>
              {!compact && <td data-label="Rule">{d.rule_name ?? <span className="muted">deleted</span>}</td>}
              <td data-label="Status">
                <DeliveryStatusBadge status={d.status} />
              </td>
              {!compact && <td data-label="Attempts">{d.attempt_count}</td>}
              {!compact && (
                <td data-label="Last error" className="error-cell">
                  {d.last_error ?? <span className="muted">—</span>}
                </td>
              )}
              <td className="actions">
                {d.status === "failed" && (
                  <RetryButton deliveryId={d.id} messageId={d.message_id} target={d.channel_name ?? "a deleted channel"} />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
