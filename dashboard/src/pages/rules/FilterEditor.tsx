import { useId } from "react";
import type { Endpoint } from "../../api/types";
import { FoldBody, FoldTitle, useFold } from "../../components/Fold";
import { PriorityOptions } from "../../components/bits";
import { describeFilter, draftToFilter, type FilterDraft } from "./ruleDraft";

interface Props {
  value: FilterDraft;
  onChange(v: FilterDraft): void;
  endpoints: Endpoint[];
  /** Keyed by API path: "filter", "filter.body.regex", "filter.priority.max", … */
  errors: Record<string, string>;
  /** Changes whenever the form moves focus to its first error: unfolds the filter (narrow screens) if it has one. */
  reveal?: unknown;
}


function Err({ id, message }: { id: string; message?: string }) {
  if (!message) return null;
  return (
    <p className="field-error" id={id} role="alert">
      {message}
    </p>
  );
}

/** Field wiring: ids for the hint and error paragraphs, aria-invalid. */
function wiring(id: string, error?: string, hint?: boolean) {
  return {
    id,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": [hint ? `${id}-hint` : "", error ? `${id}-err` : ""].filter(Boolean).join(" ") || undefined,
  } as const;
}

/** The standard filter's dimensions; every one is optional and all that are set must hold. */
export function FilterEditor({ value, onChange, endpoints, errors, reveal }: Props) {
  const id = useId();
  const set = <K extends keyof FilterDraft>(k: K, v: FilterDraft[K]) => onChange({ ...value, [k]: v });
  const known = new Set(endpoints.map((e) => e.id));
  // Ids saved earlier for endpoints this list no longer shows are kept (and can be unticked).
  const unknownIds = value.endpointIds.filter((x) => !known.has(x));
  const e = (k: string) => errors[`filter.${k}`];
  const endpointErr = e("ingest_endpoint_ids");
  const invalid = Object.keys(errors).some((k) => k === "filter" || k.startsWith("filter."));
  const fold = useFold(true, { key: reveal, invalid });
  const endpointName = (x: string) => endpoints.find((ep) => ep.id === x)?.name ?? x;

  return (
    <fieldset className="filter-editor fold" aria-labelledby={fold.titleId}>
      <legend>
        <FoldTitle fold={fold} title="Filter" summary={describeFilter(draftToFilter(value), endpointName)} />
      </legend>
      <FoldBody fold={fold}>
        <p className="hint">A message must pass every condition you set. Leave everything empty to match all messages.</p>
        <Err id={`${id}-filter-err`} message={errors.filter} />

        <fieldset className="endpoint-picks" aria-describedby={endpointErr ? `${id}-ep-err` : `${id}-ep-hint`}>
          <legend>Only from these endpoints</legend>
          <p className="hint" id={`${id}-ep-hint`}>
            None ticked: messages from any endpoint.
          </p>
          {endpoints.length === 0 && unknownIds.length === 0 && <p className="muted">You have no endpoints yet.</p>}
          <div className="checks">
            {endpoints.map((ep) => (
              <label key={ep.id} className="checkbox">
                <input
                  type="checkbox"
                  checked={value.endpointIds.includes(ep.id)}
                  onChange={(ev) =>
                    set(
                      "endpointIds",
                      ev.target.checked ? [...value.endpointIds, ep.id] : value.endpointIds.filter((x) => x !== ep.id),
                    )
                  }
                />{" "}
                {ep.name}
                {ep.archived_at ? " (archived)" : ep.revoked_at ? " (revoked)" : ""}
              </label>
            ))}
            {unknownIds.map((x) => (
              <label key={x} className="checkbox">
                <input type="checkbox" checked onChange={() => set("endpointIds", value.endpointIds.filter((y) => y !== x))} />{" "}
                <span>
                  Unknown endpoint <code>{x}</code>
                </span>
              </label>
            ))}
          </div>
          <Err id={`${id}-ep-err`} message={endpointErr} />
        </fieldset>

        <div className="filter-grid">
          <div className="field">
            <label htmlFor={`${id}-contains`}>Body contains any of</label>
            <textarea
              rows={3}
              {...wiring(`${id}-contains`, e("body.contains"), true)}
              value={value.contains}
              onChange={(ev) => set("contains", ev.target.value)}
            />
            <p className="hint" id={`${id}-contains-hint`}>
              One text per line; case-insensitive.
            </p>
            <Err id={`${id}-contains-err`} message={e("body.contains")} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-regex`}>Body matches regular expression</label>
            <input
              type="text"
              spellCheck={false}
              autoComplete="off"
              className="mono"
              {...wiring(`${id}-regex`, e("body.regex") ?? e("body"), true)}
              value={value.regex}
              onChange={(ev) => set("regex", ev.target.value)}
            />
            <p className="hint" id={`${id}-regex-hint`}>
              Rust regex syntax, case-sensitive unless it starts with <code>(?i)</code>.
            </p>
            <Err id={`${id}-regex-err`} message={e("body.regex") ?? e("body")} />
          </div>
          <div className="field priority-field">
            <label htmlFor={`${id}-pmin`}>Lowest priority</label>
            <select
              {...wiring(`${id}-pmin`, e("priority.min"))}
              value={value.priorityMin}
              onChange={(ev) => set("priorityMin", ev.target.value)}
            >
              <PriorityOptions named />
            </select>
            <Err id={`${id}-pmin-err`} message={e("priority.min")} />
          </div>
          <div className="field priority-field">
            <label htmlFor={`${id}-pmax`}>Highest priority</label>
            <select
              {...wiring(`${id}-pmax`, e("priority.max") ?? e("priority"))}
              value={value.priorityMax}
              onChange={(ev) => set("priorityMax", ev.target.value)}
            >
              <PriorityOptions named />
            </select>
            <Err id={`${id}-pmax-err`} message={e("priority.max") ?? e("priority")} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-tags`}>Has any of these tags</label>
            <input
              type="text"
              autoComplete="off"
              {...wiring(`${id}-tags`, e("tags"), true)}
              value={value.tags}
              onChange={(ev) => set("tags", ev.target.value)}
            />
            <p className="hint" id={`${id}-tags-hint`}>
              Comma-separated; case-insensitive.
            </p>
            <Err id={`${id}-tags-err`} message={e("tags")} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-group`}>Group equals</label>
            <input
              type="text"
              autoComplete="off"
              {...wiring(`${id}-group`, e("group"))}
              value={value.group}
              onChange={(ev) => set("group", ev.target.value)}
            />
            <Err id={`${id}-group-err`} message={e("group")} />
          </div>
        </div>
      </FoldBody>
    </fieldset>
  );
}
