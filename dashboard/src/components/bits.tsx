import type { ReactNode } from "react";
import { errorMessage } from "../api/client";
import type { DeliveryCounts } from "../api/types";
import { formatDateTime, formatShort, PRIORITY_LABELS } from "../lib/format";

export function PriorityBadge({ priority }: { priority: number }) {
  const label = PRIORITY_LABELS[priority] ?? String(priority);
  return (
    <span className={`badge priority-${priority}`} title={`Priority ${priority} (${label})`}>
      P{priority}
      <span className="visually-hidden"> {label}</span>
    </span>
  );
}

/** The options of a priority select: "any", then 1–5 (with their names when `named`). */
export function PriorityOptions({ named = false }: { named?: boolean }) {
  return (
    <>
      <option value="">any</option>
      {[1, 2, 3, 4, 5].map((p) => (
        <option key={p} value={String(p)}>
          {named ? `${p} (${PRIORITY_LABELS[p]})` : p}
        </option>
      ))}
    </>
  );
}

export function Tags({ tags }: { tags: string[] }) {
  if (tags.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="tags" aria-label="Tags">
      {tags.map((t, i) => (
        <li key={`${t}-${i}`} className="tag">
          {t}
        </li>
      ))}
    </ul>
  );
}

export function DeliverySummary({ d }: { d: DeliveryCounts }) {
  if (d.total === 0) return <span className="muted">none</span>;
  return (
    <span className="delivery-summary" title={`${d.sent} sent, ${d.failed} failed, ${d.pending} pending of ${d.total}`}>
      {d.sent > 0 && <span className="ok">{d.sent} sent</span>}
      {d.failed > 0 && <span className="bad">{d.failed} failed</span>}
      {d.pending > 0 && <span className="pending">{d.pending} pending</span>}
    </span>
  );
}

/** A message whose deliveries wait for their scheduled time: `Scheduled · Mar 3, 14:05` (local time). */
export function ScheduledBadge({ deliverAt }: { deliverAt: string }) {
  return (
    <span
      className="status status-info scheduled-badge"
      data-testid="scheduled-badge"
      title={`Scheduled: its deliveries leave at ${formatDateTime(deliverAt)}`}
    >
      Scheduled · <time dateTime={deliverAt}>{formatShort(deliverAt)}</time>
    </span>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div className="error-state" role="alert">
      <p>{errorMessage(error)}</p>
      {onRetry && (
        <button type="button" className="btn" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty-state">
      <h3>{title}</h3>
      {children}
    </div>
  );
}

const DELIVERY_STATUS: Record<string, { cls: string; hint: string }> = {
  queued: { cls: "status-muted", hint: "Waiting for the worker" },
  sending: { cls: "status-info", hint: "Being sent now" },
  retry: { cls: "status-warn", hint: "Failed for now; another attempt is scheduled" },
  sent: { cls: "status-ok", hint: "Delivered" },
  failed: { cls: "status-bad", hint: "Gave up; can be retried by hand" },
};

/** A delivery (or attempt) status as a coloured pill whose text is the status itself. */
export function DeliveryStatusBadge({ status, testId }: { status: string; testId?: string }) {
  const s = DELIVERY_STATUS[status] ?? { cls: "status-muted", hint: status };
  return (
    <span className={`status ${s.cls}`} title={s.hint} data-testid={testId}>
      {status}
    </span>
  );
}
