import { Link } from "react-router";
import type { MessageSummary } from "../api/types";
import { formatDateTime, formatShort } from "../lib/format";
import { isScheduledAhead, useNow } from "../lib/schedule";
import { DeliverySummary, PriorityBadge, ScheduledBadge, Tags } from "./bits";

/** Messages as a table on wide screens and stacked cards on narrow ones (pure CSS). */
export function MessageTable({ items, compact }: { items: MessageSummary[]; compact?: boolean }) {
  // Re-rendered now and then so a badge goes once its time has come.
  const now = useNow(30_000);
  return (
    <div className="table-wrap">
      <table className="table responsive messages-table">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Endpoint</th>
            <th scope="col">Message</th>
            <th scope="col">Priority</th>
            {!compact && <th scope="col">Tags</th>}
            {!compact && <th scope="col">Group</th>}
            <th scope="col">Deliveries</th>
          </tr>
        </thead>
        <tbody>
          {items.map((m) => (
            <tr key={m.id}>
              <td data-label="Time" className="nowrap">
                <time dateTime={m.received_at} title={formatDateTime(m.received_at)}>
                  {formatShort(m.received_at)}
                </time>
              </td>
              <td data-label="Endpoint">{m.endpoint_name}</td>
              <td data-label="Message" className="message-cell">
                <Link to={`/messages/${encodeURIComponent(m.id)}`} className="message-link">
                  {m.title ? <span className="strong">{m.title}</span> : null}
                  <span className="preview">{m.body_preview}</span>
                </Link>
              </td>
              <td data-label="Priority">
                <PriorityBadge priority={m.priority} />
              </td>
              {!compact && (
                <td data-label="Tags">
                  <Tags tags={m.tags} />
                </td>
              )}
              {!compact && <td data-label="Group">{m.group ?? <span className="muted">—</span>}</td>}
              <td data-label="Deliveries">
                {m.deliver_at && isScheduledAhead(m.deliver_at, now) ? (
                  <span className="delivery-cell">
                    <ScheduledBadge deliverAt={m.deliver_at} />
                    <DeliverySummary d={m.deliveries} />
                  </span>
                ) : (
                  <DeliverySummary d={m.deliveries} />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
