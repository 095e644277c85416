import { useLayoutEffect, useRef, useState, type RefObject } from "react";
import type { Activity } from "../api/types";

const HEIGHT = 200;
const M = { top: 10, right: 28, bottom: 26, left: 34 };

const hourFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayHourFmt = new Intl.DateTimeFormat(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit" });

/** Width of an element, following resizes (falls back where ResizeObserver is missing, e.g. tests). */
function useWidth(ref: RefObject<HTMLElement | null>, fallback: number): number {
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      const w = el.clientWidth;
      if (w > 0) setWidth(w);
    };
    measure();
    if (typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return width;
}

/** A round axis maximum and tick step for values up to `max`. */
export function niceScale(max: number): { top: number; step: number } {
  if (max <= 4) return { top: Math.max(1, max), step: 1 };
  const rough = max / 4;
  const mag = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= rough) ?? 10 * mag;
  return { top: Math.ceil(max / step) * step, step };
}

export interface ActivityTotals {
  messages: number;
  sent: number;
  failed: number;
}

export function activityTotals(a: Activity): ActivityTotals {
  return a.buckets.reduce(
    (t, b) => ({ messages: t.messages + b.messages, sent: t.sent + b.sent, failed: t.failed + b.failed }),
    { messages: 0, sent: 0, failed: 0 },
  );
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * Messages and delivery outcomes per hour, as an SVG bar chart: for each hour
 * a messages bar and a deliveries bar (sent stacked under failed). Text
 * alternatives: the SVG's title/description, a <title> per bar, and the data
 * as a table.
 */
export function ActivityChart({ activity, title = "Activity" }: { activity: Activity; title?: string }) {
  const wrap = useRef<HTMLDivElement>(null);
  const width = useWidth(wrap, 640);
  const { buckets } = activity;
  const totals = activityTotals(activity);
  const peak = Math.max(0, ...buckets.map((b) => Math.max(b.messages, b.sent + b.failed)));
  const { top, step } = niceScale(peak);
  const plotW = Math.max(1, width - M.left - M.right);
  const plotH = HEIGHT - M.top - M.bottom;
  const band = plotW / Math.max(1, buckets.length);
  const barW = Math.max(1, (band * 0.8) / 2);
  const y = (v: number) => M.top + plotH - (v / top) * plotH;
  const h = (v: number) => (v / top) * plotH;
  const labelEvery = Math.max(1, Math.ceil(buckets.length / Math.max(1, Math.floor(plotW / 68))));
  const ticks: number[] = [];
  for (let t = 0; t <= top; t += step) ticks.push(t);
  const busiest = buckets.reduce<(typeof buckets)[number] | undefined>((b, x) => (!b || x.messages > b.messages ? x : b), undefined);
  const label = (iso: string) => hourFmt.format(new Date(iso));
  const uid = useRef(`chart-${Math.random().toString(36).slice(2)}`).current;

  const summary =
    `${plural(totals.messages, "message", "messages")}, ${plural(totals.sent, "delivery", "deliveries")} sent and ` +
    `${totals.failed} failed over ${plural(buckets.length, "hour", "hours")}.` +
    (busiest && busiest.messages > 0 ? ` Busiest hour: ${label(busiest.start)} with ${plural(busiest.messages, "message", "messages")}.` : "");

  return (
    <figure className="chart">
      <div ref={wrap} className="chart-canvas">
        <svg
          width={width}
          height={HEIGHT}
          viewBox={`0 0 ${width} ${HEIGHT}`}
          role="img"
          aria-labelledby={`${uid}-t ${uid}-d`}
          className="chart-svg"
        >
          <title id={`${uid}-t`}>{title}</title>
          <desc id={`${uid}-d`}>{summary}</desc>
          <g className="chart-grid" aria-hidden="true">
            {ticks.map((t) => (
              <g key={t}>
                <line x1={M.left} x2={width - M.right} y1={y(t)} y2={y(t)} className={t === 0 ? "axis-line" : "grid-line"} />
                <text x={M.left - 6} y={y(t)} dy="0.32em" textAnchor="end" className="axis-text">
                  {t}
                </text>
              </g>
            ))}
          </g>
          {buckets.map((b, i) => {
            const x0 = M.left + i * band + band * 0.1;
            const when = dayHourFmt.format(new Date(b.start));
            return (
              <g key={b.start} className="chart-bucket">
                {b.messages > 0 && (
                  <rect className="bar bar-messages" x={x0} y={y(b.messages)} width={barW} height={h(b.messages)}>
                    <title>{`${when}: ${plural(b.messages, "message", "messages")}`}</title>
                  </rect>
                )}
                {b.sent > 0 && (
                  <rect className="bar bar-sent" x={x0 + barW} y={y(b.sent)} width={barW} height={h(b.sent)}>
                    <title>{`${when}: ${b.sent} sent`}</title>
                  </rect>
                )}
                {b.failed > 0 && (
                  <rect className="bar bar-failed" x={x0 + barW} y={y(b.sent + b.failed)} width={barW} height={h(b.failed)}>
                    <title>{`${when}: ${b.failed} failed`}</title>
                  </rect>
                )}
                {(buckets.length - 1 - i) % labelEvery === 0 && (
                  <text x={M.left + i * band + band / 2} y={HEIGHT - 8} textAnchor="middle" className="axis-text" aria-hidden="true">
                    {label(b.start)}
                  </text>
                )}
              </g>
            );
          })}
          {peak === 0 && (
            <text x={M.left + plotW / 2} y={M.top + plotH / 2} textAnchor="middle" className="chart-empty">
              No activity in this period
            </text>
          )}
        </svg>
      </div>
      <figcaption>
        <ul className="chart-legend" aria-label="Legend">
          <li>
            <span className="swatch swatch-messages" aria-hidden="true" /> Messages
          </li>
          <li>
            <span className="swatch swatch-sent" aria-hidden="true" /> Deliveries sent
          </li>
          <li>
            <span className="swatch swatch-failed" aria-hidden="true" /> Deliveries failed
          </li>
        </ul>
        <p className="muted chart-summary">{summary}</p>
      </figcaption>
      <details className="chart-table">
        <summary>Show the numbers</summary>
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">{title} per hour</caption>
            <thead>
              <tr>
                <th scope="col">Hour</th>
                <th scope="col">Messages</th>
                <th scope="col">Sent</th>
                <th scope="col">Failed</th>
              </tr>
            </thead>
            <tbody>
              {buckets.map((b) => (
                <tr key={b.start}>
                  <th scope="row">
                    <time dateTime={b.start}>{dayHourFmt.format(new Date(b.start))}</time>
                  </th>
                  <td>{b.messages}</td>
                  <td>{b.sent}</td>
                  <td>{b.failed}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
