import { useEffect, useId, useState } from "react";
import { Link } from "react-router";
import { ApiError, errorMessage } from "../../api/client";
import type { Channel, Endpoint, Plugin, RuleInput } from "../../api/types";
import { FormError } from "../../components/Field";
import { FoldBody, FoldTitle, useFold } from "../../components/Fold";
import { PluginVersionSelect } from "../../components/PluginVersionSelect";
import { UNVERIFIED_HINT } from "../../components/VerifyBanner";
import { SchemaForm } from "../../features/schema-form/SchemaForm";
import { foldErrors, type JsonSchema } from "../../features/schema-form/schema";
import { fieldUnder, normalizeApiField } from "../../lib/forms";
import { FilterEditor } from "./FilterEditor";
import { RuleTestPanel } from "./RuleTest";
import { TemplateEditor } from "./TemplateEditor";
import {
  draftToInput,
  MAX_EXTRA_FILTERS,
  newKey,
  STANDARD_FILTER_ID,
  validateDraft,
  type ExtraFilterDraft,
  type RuleDraft,
} from "./ruleDraft";

/** Inputs the editor draws, by API path; errors elsewhere fold onto the nearest one or the form. */
const FIELD_PATHS = [
  "name",
  "channel_id",
  "filter",
  "filter.ingest_endpoint_ids",
  "filter.body",
  "filter.body.contains",
  "filter.body.regex",
  "filter.priority",
  "filter.priority.min",
  "filter.priority.max",
  "filter.tags",
  "filter.group",
  "extra_filters",
  "payload_template",
];

export interface RuleEditorProps {
  initial: RuleDraft;
  ruleId?: string;
  channels: Channel[];
  endpoints: Endpoint[];
  /** All installed plugins (filter-kind ones other than the standard filter are offered as extras). */
  plugins: Plugin[];
  canSubmit?: boolean;
  onSubmit(input: RuleInput): Promise<unknown>;
}

/** The name sent when a draft is tested before it has one (the server requires a name). */
export const UNNAMED_DRAFT = "Unnamed draft";

function clientErrors(draft: RuleDraft, plugins: Plugin[], mode: "test" | "submit"): Record<string, string> {
  const found = validateDraft(draft, plugins);
  if (mode === "test" && !draft.name.trim()) delete found.name;
  return found;
}

function Err({ id, message }: { id: string; message?: string }) {
  if (!message) return null;
  return (
    <p className="field-error" id={id} role="alert">
      {message}
    </p>
  );
}

export function RuleEditor({ initial, ruleId, channels, endpoints, plugins, canSubmit = true, onSubmit }: RuleEditorProps) {
  const id = useId();
  const [draft, setDraft] = useState<RuleDraft>(initial);
  const [saved, setSaved] = useState<RuleDraft>(initial);
  // After a save attempt every client check is shown; after a server test all but the name
  // (a draft may be tested before it is named).
  const [checked, setChecked] = useState<false | "test" | "submit">(false);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string>();
  const [submitting, setSubmitting] = useState(false);
  const filterPlugins = plugins.filter((p) => p.kind === "filter" && p.id !== STANDARD_FILTER_ID);
  // Focus the first invalid input so keyboard and screen-reader users land on it — after the
  // render that marks it (an effect, not a timer: the errors may come from a later render).
  const [focusRequest, setFocusRequest] = useState(0);
  const focusFirstInvalid = () => setFocusRequest((n) => n + 1);
  useEffect(() => {
    if (focusRequest) (document.querySelector('.rule-form [aria-invalid="true"]') as HTMLElement | null)?.focus();
  }, [focusRequest]);

  const update = (patch: Partial<RuleDraft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    setServerErrors({});
    setFormError(undefined);
  };

  const allErrors = { ...(checked ? clientErrors(draft, plugins, checked) : {}), ...serverErrors };
  // Extra filter config errors go to that filter's form; the rest to the inputs here.
  const extraConfigErrors = draft.extraFilters.map((_, i) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(allErrors)) {
      const under = fieldUnder(k, `extra_filters.${i}.config`);
      if (under !== undefined) out[under] = v;
    }
    return out;
  });
  const rest = Object.fromEntries(Object.entries(allErrors).filter(([k]) => !/^extra_filters\.\d+\.config(\.|$)/.test(k)));
  const extraPaths = draft.extraFilters.flatMap((_, i) => [`extra_filters.${i}.plugin`, `extra_filters.${i}.version`]);
  const { byField: errors, other } = foldErrors(rest, [...FIELD_PATHS, ...extraPaths]);
  const dirty = JSON.stringify(draft) !== JSON.stringify(saved);
  // Narrow screens: extra filters fold away unless the rule has some (or one of them needs fixing).
  const extrasFold = useFold(initial.extraFilters.length > 0, {
    key: focusRequest,
    invalid:
      Object.keys(rest).some((k) => k === "extra_filters" || k.startsWith("extra_filters.")) ||
      extraConfigErrors.some((x) => Object.keys(x).length > 0),
  });

  /** For the server test: the draft as an API body, or undefined after showing what to fix. */
  function prepareDraft(): RuleInput | undefined {
    const mode = checked === "submit" ? "submit" : "test";
    setChecked(mode);
    if (Object.keys(clientErrors(draft, plugins, "test")).length > 0) {
      focusFirstInvalid();
      return undefined;
    }
    const input = draftToInput(draft);
    return input.name ? input : { ...input, name: UNNAMED_DRAFT };
  }

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setChecked("submit");
    const found = validateDraft(draft, plugins);
    if (Object.keys(found).length > 0) {
      focusFirstInvalid();
      return;
    }
    setSubmitting(true);
    try {
      await onSubmit(draftToInput(draft));
      setSaved(draft);
    } catch (err) {
      if (err instanceof ApiError && err.field) {
        setServerErrors({ [normalizeApiField(err.field)]: err.message });
        focusFirstInvalid();
      } else {
        setFormError(errorMessage(err));
      }
    } finally {
      setSubmitting(false);
    }
  }

  function setExtra(i: number, patch: Partial<ExtraFilterDraft>) {
    update({ extraFilters: draft.extraFilters.map((x, j) => (j === i ? { ...x, ...patch } : x)) });
  }

  const channelErr = errors.channel_id;
  const nameErr = errors.name;
  return (
    <div className="rule-layout">
      <form onSubmit={submit} noValidate className="form rule-form" aria-label={ruleId ? "Edit rule" : "New rule"}>
        <FormError message={formError} />
        {other.length > 0 && (
          <div className="form-error" role="alert">
            {other.join(" ")}
          </div>
        )}
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input
            id={`${id}-name`}
            type="text"
            autoComplete="off"
            placeholder="e.g. Disk alerts to my phone"
            value={draft.name}
            onChange={(e) => update({ name: e.target.value })}
            aria-invalid={nameErr ? true : undefined}
            aria-describedby={nameErr ? `${id}-name-err` : undefined}
          />
          <Err id={`${id}-name-err`} message={nameErr} />
        </div>

        <div className="field">
          <label htmlFor={`${id}-channel`}>Channel</label>
          <select
            id={`${id}-channel`}
            value={draft.channelId}
            onChange={(e) => update({ channelId: e.target.value })}
            aria-invalid={channelErr ? true : undefined}
            aria-describedby={[channelErr ? `${id}-channel-err` : "", channels.length === 0 ? `${id}-channel-hint` : ""].filter(Boolean).join(" ") || undefined}
          >
            <option value="">Choose a channel…</option>
            {channels.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} ({c.plugin}){c.enabled ? "" : " — disabled"}
              </option>
            ))}
            {draft.channelId && !channels.some((c) => c.id === draft.channelId) && (
              <option value={draft.channelId}>Unknown channel</option>
            )}
          </select>
          {channels.length === 0 && (
            <p className="hint" id={`${id}-channel-hint`}>
              You have no channels yet. <Link to="/channels/new">Create a channel</Link> first.
            </p>
          )}
          <Err id={`${id}-channel-err`} message={channelErr} />
        </div>

        <label className="checkbox">
          <input type="checkbox" checked={draft.enabled} onChange={(e) => update({ enabled: e.target.checked })} /> Enabled
        </label>

        <FilterEditor
          value={draft.filter}
          onChange={(filter) => update({ filter })}
          endpoints={endpoints}
          errors={errors}
          reveal={focusRequest}
        />

        <fieldset className="extra-filters fold" aria-labelledby={extrasFold.titleId}>
          <legend>
            <FoldTitle
              fold={extrasFold}
              title="Extra filter plugins"
              summary={draft.extraFilters.length === 0 ? "none" : draft.extraFilters.map((x) => x.plugin || "not chosen").join(", ")}
            />
          </legend>
          <FoldBody fold={extrasFold}>
            <p className="hint">Further filters that must all pass too (run as plugins on the server).</p>
            <Err id={`${id}-extras-err`} message={errors.extra_filters} />
            {draft.extraFilters.map((x, i) => {
              const plugin = filterPlugins.find((p) => p.id === x.plugin);
              const pluginErr = errors[`extra_filters.${i}.plugin`];
              const selId = `${id}-xf-${x.key}`;
              return (
                <fieldset key={x.key} className="extra-filter">
                  <legend>Extra filter {i + 1}</legend>
                  <div className="field">
                    <label htmlFor={selId}>Filter plugin</label>
                    <select
                      id={selId}
                      value={x.plugin}
                      onChange={(e) => setExtra(i, { plugin: e.target.value, version: "", config: {} })}
                      aria-invalid={pluginErr ? true : undefined}
                      aria-describedby={pluginErr ? `${selId}-err` : undefined}
                    >
                      <option value="">Choose…</option>
                      {filterPlugins.map((p) => (
                        <option key={p.id} value={p.id}>
                          {p.name} ({p.id} {p.version})
                        </option>
                      ))}
                      {x.plugin && !plugin && <option value={x.plugin}>{x.plugin} (not installed)</option>}
                    </select>
                    {plugin?.description && <p className="hint">{plugin.description}</p>}
                    <Err id={`${selId}-err`} message={pluginErr} />
                  </div>
                  {x.plugin && (plugin?.versions || x.version) && (
                    <PluginVersionSelect
                      id={`${selId}-version`}
                      label="Filter plugin version"
                      value={x.version}
                      versions={plugin?.versions?.map((v) => v.version) ?? []}
                      newest={plugin?.versions?.find((v) => v.newest)?.version ?? plugin?.version}
                      error={errors[`extra_filters.${i}.version`]}
                      onChange={(version) => setExtra(i, { version })}
                    />
                  )}
                  {x.plugin && (
                    <SchemaForm
                      key={`${x.key}-${x.plugin}`}
                      schema={(plugin?.config_schema as JsonSchema | undefined) ?? { type: "object" }}
                      value={x.config}
                      onChange={(config) => setExtra(i, { config })}
                      errors={extraConfigErrors[i]}
                      label={`Extra filter ${i + 1} settings`}
                    />
                  )}
                  <div>
                    <button
                      type="button"
                      className="btn btn-small btn-danger-outline"
                      onClick={() => update({ extraFilters: draft.extraFilters.filter((_, j) => j !== i) })}
                    >
                      Remove extra filter {i + 1}
                    </button>
                  </div>
                </fieldset>
              );
            })}
            {filterPlugins.length === 0 ? (
              <p className="muted">No other filter plugins are installed.</p>
            ) : (
              <div>
                <button
                  type="button"
                  className="btn btn-small"
                  disabled={draft.extraFilters.length >= MAX_EXTRA_FILTERS}
                  onClick={() =>
                    update({
                      extraFilters: [
                        ...draft.extraFilters,
                        { key: newKey(), plugin: filterPlugins.length === 1 ? filterPlugins[0].id : "", version: "", config: {} },
                      ],
                    })
                  }
                >
                  Add extra filter
                </button>
              </div>
            )}
          </FoldBody>
        </fieldset>

        <TemplateEditor
          value={draft.template}
          onChange={(template) => update({ template })}
          error={errors.payload_template}
          reveal={focusRequest}
        />

        <div className="form-actions">
          <button
            type="submit"
            className="btn btn-primary"
            disabled={submitting || !canSubmit}
            title={canSubmit ? undefined : UNVERIFIED_HINT}
          >
            {submitting ? "Saving…" : ruleId ? "Save changes" : "Create rule"}
          </button>
          {ruleId && dirty && <span className="muted">Unsaved changes</span>}
        </div>
      </form>
      <RuleTestPanel
        draft={draft}
        endpoints={endpoints}
        prepareDraft={prepareDraft}
        onRuleError={(field, message) => {
          setServerErrors({ [field]: message });
          focusFirstInvalid();
        }}
      />
    </div>
  );
}
