/**
 * "Test with a sample": what a pasted request would become through the
 * adapter settings as they are in the form now, saved or not
 * (`POST /api/ingest-endpoints/{id}/adapter/test`; nothing is stored). Shows
 * the messages (every field as plain text) or the refusal the sender would
 * get: its HTTP status, error code and message.
 */
import { useMutation } from "@tanstack/react-query";
import { useId, useMemo, useState, type ReactNode } from "react";
import { ApiError, errorMessage } from "../../api/client";
import { endpointsApi } from "../../api/endpoints";
import type { AdapterInput, AdapterMessage, AdapterTestResult } from "../../api/types";
import { PriorityBadge, Tags } from "../../components/bits";
import { PRIORITY_LABELS, safeHttpUrl } from "../../lib/format";

/** "Name: value" lines → headers; blank lines are skipped. */
export function parseHeaderLines(text: string): { ok: true; headers: Record<string, string> } | { ok: false; error: string } {
  const headers: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon).trim() : "";
    if (!name || /\s/.test(name)) return { ok: false, error: `Line ${i + 1}: write each header as “Name: value”.` };
    headers[name] = line.slice(colon + 1).trim();
  }
  return { ok: true, headers };
}

function Item({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

const none = <span className="muted">—</span>;

/** One message the adapter made, every field as text. */
function MessageCard({ m, n }: { m: AdapterMessage; n: number }) {
  const link = safeHttpUrl(m.url);
  const extras = Object.entries(m.extras ?? {});
  const priority = typeof m.priority === "number" ? m.priority : null;
  return (
    <li className="card adapter-message" aria-label={`Message ${n}`}>
      <dl className="fields compact">
        <Item label="Title">{m.title ? <span className="break">{m.title}</span> : none}</Item>
        <Item label="Priority">
          {priority === null ? (
            none
          ) : (
            <>
              <PriorityBadge priority={priority} /> {PRIORITY_LABELS[priority] ?? ""}
            </>
          )}
        </Item>
        <Item label="Group">{m.group ? <span className="break">{m.group}</span> : none}</Item>
        <Item label="Tags">
          <Tags tags={m.tags ?? []} />
        </Item>
        <Item label="Link">
          {link ? (
            <a href={link} target="_blank" rel="noopener noreferrer nofollow" className="break">
              {m.url}
            </a>
          ) : m.url ? (
            <span className="break">{m.url}</span>
          ) : (
            none
          )}
        </Item>
      </dl>
      <p className="hint">Body</p>
      <pre className="body-text">{m.body}</pre>
      {extras.length > 0 && (
        <>
          <p className="hint">Extras</p>
          <dl className="kv">
            {extras.map(([k, v]) => (
              <div key={k} className="kv-row">
                <dt>{k}</dt>
                <dd>{typeof v === "string" ? v : JSON.stringify(v)}</dd>
              </div>
            ))}
          </dl>
        </>
      )}
    </li>
  );
}

/** The messages, or the refusal the sender would get. */
export function AdapterTestOutcome({ result }: { result: AdapterTestResult }) {
  if (result.ok) {
    const n = result.messages.length;
    if (n === 0) {
      return (
        <p className="ok" data-testid="adapter-test-summary">
          Accepted, but it becomes no message: nothing would be stored (the sender would get HTTP 200 with no message ids).
        </p>
      );
    }
    return (
      <>
        <p className="ok" data-testid="adapter-test-summary">
          Accepted: the sender would get HTTP {result.status}, and {n === 1 ? "1 message" : `${n} messages`} would be stored.
        </p>
        <ol className="test-results adapter-messages" aria-label="Messages it would become">
          {result.messages.map((m, i) => (
            <MessageCard key={i} m={m} n={i + 1} />
          ))}
        </ol>
      </>
    );
  }
  const e = result.error?.error;
  return (
    <div className="adapter-refusal" data-testid="adapter-test-error">
      <p className="bad">Refused: the sender would get HTTP {result.status}.</p>
      <p>
        <code>{e?.code ?? "unknown_error"}</code>
        {e?.field ? ` (${e.field})` : ""}: <span className="break">{e?.message ?? "no reason given"}</span>
      </p>
      <p className="hint">Nothing would be stored.</p>
    </div>
  );
}

export function AdapterTestPanel({
  endpointId,
  proposed,
  onSettingError,
}: {
  endpointId: string;
  /** The adapter setting in the form now (unsaved changes included); undefined when none is chosen. */
  proposed: AdapterInput | undefined;
  /** The server found fault with the setting itself: show it at the form's input; false when no input owns it. */
  onSettingError(err: unknown): boolean;
}) {
  const id = useId();
  const [body, setBody] = useState("");
  const [headerText, setHeaderText] = useState("");
  const headers = useMemo(() => parseHeaderLines(headerText), [headerText]);
  // What the shown result was computed for, to say when it is out of date.
  const current = JSON.stringify([proposed, body, headerText]);
  const [testedFor, setTestedFor] = useState<string>();
  const [settingRefused, setSettingRefused] = useState(false);

  const test = useMutation({
    mutationFn: () => {
      if (!proposed || !headers.ok) throw new Error("Nothing to test.");
      setTestedFor(current);
      setSettingRefused(false);
      return endpointsApi.testAdapter(endpointId, {
        adapter: proposed,
        body,
        ...(Object.keys(headers.headers).length > 0 ? { headers: headers.headers } : {}),
      });
    },
    onError: (err) => {
      if (err instanceof ApiError && err.field) setSettingRefused(onSettingError(err));
    },
  });
  const stale = testedFor !== current;

  return (
    <section aria-labelledby={`${id}-h`} className="card adapter-test">
      <h3 id={`${id}-h`}>Test with a sample</h3>
      <p className="hint">
        Paste a request as the sender would post it. The test runs the adapter settings above as they are now — unsaved
        changes included — and shows what the request would become. Nothing is stored.
      </p>
      <div className="field">
        <label htmlFor={`${id}-body`}>Sample request body</label>
        <textarea
          id={`${id}-body`}
          rows={10}
          spellCheck={false}
          placeholder={'{"service": "db", "msg": "disk full"}'}
          value={body}
          onChange={(e) => setBody(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-headers`}>Headers (optional)</label>
        <textarea
          id={`${id}-headers`}
          rows={3}
          spellCheck={false}
          placeholder="X-GitHub-Event: push"
          value={headerText}
          onChange={(e) => setHeaderText(e.target.value)}
          aria-invalid={headers.ok ? undefined : true}
          aria-describedby={[`${id}-headers-hint`, headers.ok ? "" : `${id}-headers-err`].filter(Boolean).join(" ")}
        />
        <p className="hint" id={`${id}-headers-hint`}>
          One per line, as <code>Name: value</code> — e.g. <code>X-GitHub-Event</code> and <code>X-Hub-Signature-256</code>{" "}
          from a GitHub delivery.
        </p>
        {!headers.ok && (
          <p className="field-error" id={`${id}-headers-err`} role="alert">
            {headers.error}
          </p>
        )}
      </div>
      <div className="form-actions">
        <button type="button" className="btn" onClick={() => test.mutate()} disabled={!proposed || !headers.ok || test.isPending}>
          {test.isPending ? "Testing…" : "Test"}
        </button>
        {!proposed && <span className="hint">Choose an adapter above first.</span>}
      </div>
      <div role="status" aria-live="polite" className="adapter-test-result">
        {test.isError &&
          !stale &&
          (settingRefused ? (
            <p className="field-error">The server refused the adapter settings: see the highlighted field above.</p>
          ) : (
            <p className="field-error" data-testid="adapter-test-failed">
              Could not run the test: {errorMessage(test.error)}
            </p>
          ))}
        {test.isSuccess && stale && <p className="hint">The settings or the sample changed since this result: test again.</p>}
        {test.isSuccess && (
          <div className={stale ? "stale" : undefined}>
            <AdapterTestOutcome result={test.data} />
          </div>
        )}
      </div>
    </section>
  );
}
