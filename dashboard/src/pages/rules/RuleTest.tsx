import { useMutation } from "@tanstack/react-query";
import { useId, useMemo, useState } from "react";
import { ApiError, errorWithField } from "../../api/client";
import { rulesApi } from "../../api/endpoints";
import type { Endpoint, RuleInput, RuleTestResult } from "../../api/types";
import { FoldBody, FoldTitle, useFold } from "../../components/Fold";
import { fieldUnder, normalizeApiField } from "../../lib/forms";
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
  endpointError,
}: {
  text: string;
  onText(v: string): void;
  endpointId: string;
  onEndpoint(v: string): void;
  endpoints: Endpoint[];
  error?: string;
  /** The server's complaint about the chosen endpoint. */
  endpointError?: string;
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
        <select
          id={`${id}-ep`}
          value={endpointId}
          onChange={(e) => onEndpoint(e.target.value)}
          aria-invalid={endpointError ? true : undefined}
          aria-describedby={endpointError ? `${id}-ep-err` : undefined}
        >
          <option value="">(none)</option>
          {endpoints.map((e) => (
            <option key={e.id} value={e.id}>
              {e.name}
            </option>
          ))}
        </select>
        {endpointError && (
          <p className="field-error" id={`${id}-ep-err`} role="alert">
            {endpointError}
          </p>
        )}
      </div>
    </div>
  );
}

/** Where an error of `POST /api/rules/test` belongs: the draft's inputs, the sample, the endpoint, or the panel. */
export interface TestErrorPlacement {
  /** Normalised path inside the rule (`rule.filter.body.regex` → `filter.body.regex`). */
  rule?: { field: string; message: string };
  sample?: string;
  endpoint?: string;
  other?: string;
}

export function placeTestError(err: unknown): TestErrorPlacement {
  if (err instanceof ApiError && err.field) {
    const field = normalizeApiField(err.field);
    const inRule = fieldUnder(field, "rule");
    if (inRule !== undefined && inRule !== "") return { rule: { field: inRule, message: err.message } };
    const inMessage = fieldUnder(field, "message");
    if (inMessage !== undefined) return { sample: inMessage ? `${inMessage}: ${err.message}` : err.message };
    if (field === "ingest_endpoint_id") return { endpoint: err.message };
  }
  return { other: errorWithField(err) };
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
      {results.map((r, i) => (
        <li key={`${r.rule_id}-${i}`} className="card" aria-label={`Result for ${r.name}`}>
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

/** Thrown when the draft has errors the editor now shows next to its inputs. */
class DraftInvalid extends Error {}

/**
 * Live test for the rule editor: an instant in-browser preview of the draft
 * (standard filter + template), and the server's verdict on the current,
 * unsaved draft (`POST /api/rules/test` with `rule`, extra filter plugins
 * included). The server validates the draft like a save; its field errors
 * (`rule.<path>`) are handed to the editor to show next to the inputs.
 */
export function RuleTestPanel({
  draft,
  endpoints,
  prepareDraft,
  onRuleError,
}: {
  draft: RuleDraft;
  endpoints: Endpoint[];
  /** Checks the draft (errors shown in the editor) and returns the API body, or undefined when it is not valid. */
  prepareDraft(): RuleInput | undefined;
  /** A server error about the draft, by its path inside the rule. */
  onRuleError(field: string, message: string): void;
}) {
  const [text, setText] = useState(DEFAULT_SAMPLE);
  const [endpointId, setEndpointId] = useState("");
  const sample = useMemo(() => parseSample(text), [text]);
  const endpoint = endpoints.find((e) => e.id === endpointId);
  // What the shown server result was computed for, to say when it is out of date.
  const [testedFor, setTestedFor] = useState<string>();
  const current = JSON.stringify([draft, text, endpointId]);

  const preview = useMemo(() => {
    if (!sample.ok) return undefined;
    const tpl = parseJsonObject(draft.template);
    return {
      filter: previewStandardFilter(draftToFilter(draft.filter), sample.value, endpointId),
      payload: tpl.ok ? renderTemplate(tpl.value, sampleContext(sample.value, endpoint ?? { id: "", name: "" })) : undefined,
    };
  }, [sample, draft.filter, draft.template, endpointId, endpoint]);

  const server = useMutation({
    mutationFn: async () => {
      if (!sample.ok) throw new Error("Fix the sample message first.");
      setTestedFor(current);
      const rule = prepareDraft();
      if (!rule) throw new DraftInvalid("Fix the highlighted fields of the rule first.");
      return rulesApi.testDraft(rule, { message: sample.raw, ingest_endpoint_id: endpointId || undefined });
    },
    onError: (err) => {
      const placed = placeTestError(err);
      if (placed.rule) onRuleError(placed.rule.field, placed.rule.message);
    },
  });
  const stale = testedFor !== current;
  // Errors are about what was tested: once the draft or sample changes they no longer apply.
  const placed = server.isError && !stale && !(server.error instanceof DraftInvalid) ? placeTestError(server.error) : {};
  // Narrow screens: folded below the form at first; its button tells the preview's verdict meanwhile.
  const fold = useFold(false);
  const verdict = !preview
    ? "fix the sample message"
    : `preview: ${preview.filter.matched === null ? "undecided" : preview.filter.matched ? "matches" : "no match"}`;

  return (
    <section aria-labelledby={fold.titleId} className="card rule-test fold">
      <h2>
        <FoldTitle fold={fold} title="Test against a sample message" summary={verdict} />
      </h2>
      <FoldBody fold={fold}>
        <SampleInput
          text={text}
          onText={setText}
          endpointId={endpointId}
          onEndpoint={setEndpointId}
          endpoints={endpoints}
          error={sample.ok ? placed.sample : sample.error}
          endpointError={placed.endpoint}
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
                <p className="hint">Extra filter plugins run only on the server: use the server test below.</p>
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
          <p className="hint">
            Runs this draft as it is now — unsaved changes included — on the server, with every filter plugin. Nothing is
            sent.
          </p>
          <button type="button" className="btn" onClick={() => server.mutate()} disabled={!sample.ok || server.isPending}>
            {server.isPending ? "Testing…" : "Test draft on the server"}
          </button>
          <div role="status" aria-live="polite">
            {server.isError &&
              !stale &&
              (server.error instanceof DraftInvalid ? (
                <p className="field-error">{server.error.message}</p>
              ) : placed.rule ? (
                <p className="field-error">The server refused the draft: see the highlighted field.</p>
              ) : placed.other ? (
                <p className="field-error">{placed.other}</p>
              ) : null)}
            {server.isSuccess && stale && <p className="hint">The draft or the sample changed since this result: test again.</p>}
            {server.data && (
              <div className={server.isSuccess && stale ? "stale" : undefined}>
                <ServerResults results={server.data.results} />
              </div>
            )}
          </div>
        </div>
      </FoldBody>
    </section>
  );
}
