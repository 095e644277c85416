import { useMutation } from "@tanstack/react-query";
import { useId, useMemo, useState } from "react";
import { errorWithField } from "../../api/client";
import { rulesApi } from "../../api/endpoints";
import type { Endpoint, RuleTestResult } from "../../api/types";
import { renderTemplate } from "../../features/templates/variables";
import { DEFAULT_SAMPLE, draftToFilter, parseJsonObject, parseSample, previewStandardFilter, sampleContext, type RuleDraft } from "./ruleDraft";

/** The sample message (JSON, as sent to ingest) and the endpoint it arrives on. */
export function SampleInput({
  text,
  onText,
  endpointId,
  onEndpoint,
  endpoints,
  error,
}: {
  text: string;
  onText(v: string): void;
  endpointId: string;
  onEndpoint(v: string): void;
  endpoints: Endpoint[];
  error?: string;
}) {
  const id = useId();
  return (
    <div className="sample-input">
      <div className="field">
        <label htmlFor={`${id}-sample`}>Sample message (JSON)</label>
        <textarea
          id={`${id}-sample`}
          rows={8}
          spellCheck={false}
          value={text}
          onChange={(e) => onText(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={[`${id}-sample-hint`, error ? `${id}-sample-err` : ""].filter(Boolean).join(" ")}
        />
        <p className="hint" id={`${id}-sample-hint`}>
          As you would POST it to ingest: <code>body</code> (required), <code>title</code>, <code>group</code>,{" "}
          <code>priority</code> 1–5, <code>tags</code>, <code>url</code>, <code>extras</code>.
        </p>
        {error && (
          <p className="field-error" id={`${id}-sample-err`} role="alert">
            {error}
          </p>
        )}
      </div>
      <div className="field">
        <label htmlFor={`${id}-ep`}>Arrives on endpoint</label>
        <select id={`${id}-ep`} value={endpointId} onChange={(e) => onEndpoint(e.target.value)}>
          <option value="">(none)</option>
          {endpoints.map((e) => (
            <option key={e.id} value={e.id}>
              {e.name}
            </option>
          ))}
        </select>
      </div>
    </div>
  );
}

export function MatchBadge({ matched }: { matched: boolean | null }) {
  if (matched === null) return <span className="status status-muted">undecided</span>;
  return <span className={`status ${matched ? "status-ok" : "status-bad"}`}>{matched ? "matches" : "no match"}</span>;
}

/** Server results of `POST /api/rules/test` or `/api/rules/{id}/test`. */
export function ServerResults({ results }: { results: RuleTestResult[] }) {
  if (results.length === 0) return <p className="muted">You have no rules yet.</p>;
  return (
    <ul className="test-results" aria-label="Test results">
      {results.map((r) => (
        <li key={r.rule_id} className="card" aria-label={`Result for ${r.name}`}>
          <div className="delivery-head">
            <span className="delivery-title strong">{r.name}</span>
            <span>
              Match: <strong>{r.matched ? "yes" : "no"}</strong>
            </span>
            <MatchBadge matched={r.matched} />
            {!r.enabled && <span className="status status-muted">disabled</span>}
          </div>
          {r.error && (
            <p className="bad">
              Filter error: <span className="break">{r.error}</span>
            </p>
          )}
          <p className="hint">Rendered payload{r.matched ? "" : " (would be sent if it matched)"}:</p>
          <pre className="code">{JSON.stringify(r.payload, null, 2)}</pre>
        </li>
      ))}
    </ul>
  );
}

/**
 * Live test for the rule editor: an instant in-browser preview of the draft
 * (standard filter + template), and for a saved rule the server's verdict
 * (`POST /api/rules/{id}/test`, extra filter plugins included).
 */
export function RuleTestPanel({
  draft,
  ruleId,
  dirty,
  endpoints,
}: {
  draft: RuleDraft;
  ruleId?: string;
  dirty: boolean;
  endpoints: Endpoint[];
}) {
  const [text, setText] = useState(DEFAULT_SAMPLE);
  const [endpointId, setEndpointId] = useState("");
  const sample = useMemo(() => parseSample(text), [text]);
  const endpoint = endpoints.find((e) => e.id === endpointId);

  const preview = useMemo(() => {
    if (!sample.ok) return undefined;
    const tpl = parseJsonObject(draft.template);
    return {
      filter: previewStandardFilter(draftToFilter(draft.filter), sample.value, endpointId),
      payload: tpl.ok ? renderTemplate(tpl.value, sampleContext(sample.value, endpoint ?? { id: "", name: "" })) : undefined,
    };
  }, [sample, draft.filter, draft.template, endpointId, endpoint]);

  const server = useMutation({
    mutationFn: () => {
      if (!sample.ok || !ruleId) throw new Error("Fix the sample message first.");
      return rulesApi.test(ruleId, { message: sample.raw, ingest_endpoint_id: endpointId || undefined });
    },
  });

  return (
    <section aria-labelledby="rule-test-h" className="card rule-test">
      <h2 id="rule-test-h">Test against a sample message</h2>
      <SampleInput
        text={text}
        onText={(v) => {
          setText(v);
          server.reset();
        }}
        endpointId={endpointId}
        onEndpoint={(v) => {
          setEndpointId(v);
          server.reset();
        }}
        endpoints={endpoints}
        error={sample.ok ? undefined : sample.error}
      />

      <div role="region" aria-label="Preview of the draft" className="preview-result" aria-live="polite">
        <h3>Preview (in your browser, as you type)</h3>
        {preview && (
          <>
            <p>
              Standard filter: <MatchBadge matched={preview.filter.matched} />
            </p>
            {preview.filter.reasons.length > 0 && (
              <ul className="reasons">
                {preview.filter.reasons.map((r) => (
                  <li key={r}>{r}</li>
                ))}
              </ul>
            )}
            {draft.extraFilters.length > 0 && (
              <p className="hint">Extra filter plugins run only on the server{ruleId ? "" : " — save the rule to test them"}.</p>
            )}
            <p className="hint">Rendered payload:</p>
            {preview.payload !== undefined ? (
              <pre className="code" data-testid="preview-payload">
                {JSON.stringify(preview.payload, null, 2)}
              </pre>
            ) : (
              <p className="muted">Fix the template JSON to see the payload.</p>
            )}
          </>
        )}
      </div>

      <div className="server-test">
        <h3>Server test</h3>
        {ruleId ? (
          <>
            {dirty && <p className="hint">You have unsaved changes: the server tests the saved version of this rule.</p>}
            <button
              type="button"
              className="btn"
              onClick={() => server.mutate()}
              disabled={!sample.ok || server.isPending}
            >
              {server.isPending ? "Testing…" : "Test saved rule on the server"}
            </button>
            <div role="status" aria-live="polite">
              {server.isError && <p className="field-error">{errorWithField(server.error)}</p>}
              {server.data && <ServerResults results={server.data.results} />}
            </div>
          </>
        ) : (
          <p className="muted">Save the rule to test it on the server, with every filter plugin. Nothing is sent by a test.</p>
        )}
      </div>
    </section>
  );
}
