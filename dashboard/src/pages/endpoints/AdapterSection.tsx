/**
 * An endpoint's adapter: the plugin that turns its webhook requests (from
 * Alertmanager, GitHub, any JSON sender) into messages. Shows the saved
 * setting, lets the owner choose an installed adapter plugin, fill in its
 * config (drawn from the plugin's JSON Schema by the same `SchemaForm` the
 * channels use), pin a version, save (`PUT …/adapter`) or remove it
 * (`DELETE …/adapter`), and try the unsaved setting on a pasted sample
 * (`AdapterTestPanel`). The server's field errors (`plugin`,
 * `plugin_version`, `config.<path>`) are shown next to their inputs.
 */
import { useEffect, useId, useMemo, useState } from "react";
import { ApiError, errorMessage, errorWithField } from "../../api/client";
import { endpointsApi } from "../../api/endpoints";
import type { AdapterInput, Endpoint, EndpointAdapter, Plugin } from "../../api/types";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { FormError } from "../../components/Field";
import { PluginVersionSelect } from "../../components/PluginVersionSelect";
import { SchemaForm } from "../../features/schema-form/SchemaForm";
import { validateConfig, type JsonSchema } from "../../features/schema-form/schema";
import { fieldUnder, normalizeApiField } from "../../lib/forms";
import { AdapterTestPanel } from "./AdapterTest";

const EMPTY_SCHEMA: JsonSchema = { type: "object" };

/** The text shown when an endpoint has no adapter. */
export const NO_ADAPTER = "None — requests are Beacon's own JSON/text body.";

function schemaOf(plugin: Plugin | undefined): JsonSchema {
  return plugin?.config_schema && typeof plugin.config_schema === "object" ? (plugin.config_schema as JsonSchema) : EMPTY_SCHEMA;
}

/** The form's values: a plugin ("" = none chosen), a version ("" = the newest) and the config. */
interface Draft {
  plugin: string;
  version: string;
  config: Record<string, unknown>;
}

function draftOf(saved: EndpointAdapter | null | undefined): Draft {
  return { plugin: saved?.plugin ?? "", version: saved?.plugin_version ?? "", config: saved?.config ?? {} };
}

/** Where an API error about the setting belongs: an input of this form (`plugin`, `plugin_version`, `config.<path>`), or above it. */
export function placeAdapterError(err: unknown): { config?: [string, string]; plugin?: string; version?: string; other?: string } {
  if (err instanceof ApiError && err.field) {
    let field = normalizeApiField(err.field);
    // The test route may name the proposed setting's fields under `adapter`.
    field = fieldUnder(field, "adapter") || field;
    const under = fieldUnder(field, "config");
    if (under !== undefined) return { config: [under, err.message] };
    if (field === "plugin") return { plugin: err.message };
    if (field === "plugin_version") return { version: err.message };
    return { other: errorWithField(err) };
  }
  return { other: errorMessage(err) };
}

/** "JSON mapping (json-map), version 0.1.0 (pinned)" and, when it is not installed, why requests are refused. */
export function CurrentAdapter({ adapter, plugins }: { adapter: EndpointAdapter | null | undefined; plugins: Plugin[] }) {
  if (!adapter) {
    return (
      <p data-testid="adapter-current">
        <strong>Adapter:</strong> {NO_ADAPTER}
      </p>
    );
  }
  const plugin = plugins.find((p) => p.id === adapter.plugin);
  const name = plugin ? `${plugin.name} (${adapter.plugin})` : adapter.plugin;
  const running = adapter.running_version;
  return (
    <>
      <p data-testid="adapter-current">
        <strong>Adapter:</strong> {name}
        {running === null
          ? adapter.plugin_version
            ? `, pinned to version ${adapter.plugin_version}.`
            : "."
          : adapter.plugin_version
            ? `, version ${running} (pinned).`
            : `, version ${running} (follows the newest).`}
      </p>
      {running === null && (
        <p className="form-error broken-notice" role="alert" data-testid="adapter-broken">
          <strong>Not installed:</strong>{" "}
          {adapter.plugin_version
            ? `${adapter.plugin} ${adapter.plugin_version} is not installed`
            : `the adapter plugin ${adapter.plugin} is not installed`}
          , so requests to this endpoint are refused (422 adapter_unavailable) until an operator installs it, or you
          choose another {adapter.plugin_version ? "version or " : ""}adapter below.
        </p>
      )}
    </>
  );
}

export function AdapterSection({
  endpoint,
  plugins,
  onSaved,
}: {
  endpoint: Endpoint;
  /** Every installed plugin (adapter-kind ones are offered). */
  plugins: Plugin[];
  /** After a save or removal: the endpoint as the server now has it. */
  onSaved(updated: Endpoint): void;
}) {
  const id = useId();
  const saved = endpoint.adapter ?? null;
  const adapters = useMemo(() => plugins.filter((p) => p.kind === "adapter"), [plugins]);
  const [draft, setDraft] = useState<Draft>(() => draftOf(saved));
  // Client checks show after the first save attempt; server errors until what they are about changes.
  const [checked, setChecked] = useState(false);
  const [serverConfigErrors, setServerConfigErrors] = useState<Record<string, string>>({});
  const [pluginError, setPluginError] = useState<string>();
  const [versionError, setVersionError] = useState<string>();
  const [formError, setFormError] = useState<string>();
  const [saving, setSaving] = useState(false);
  const [notice, setNotice] = useState<string>();
  const [focusRequest, setFocusRequest] = useState(0);
  useEffect(() => {
    if (focusRequest) (document.querySelector('.adapter-form [aria-invalid="true"]') as HTMLElement | null)?.focus();
  }, [focusRequest]);

  const plugin = adapters.find((p) => p.id === draft.plugin);
  const schema = useMemo(() => schemaOf(plugin), [plugin]);
  const clientErrors = checked && draft.plugin ? validateConfig(schema, draft.config) : {};
  const configErrors = { ...clientErrors, ...serverConfigErrors };
  const installedVersions = plugin?.versions?.map((v) => v.version) ?? [];
  const newest = plugin?.versions?.find((v) => v.newest)?.version ?? plugin?.version;
  const showVersions = Boolean(draft.plugin) && (Boolean(plugin?.versions) || Boolean(draft.version));
  const dirty = JSON.stringify(draft) !== JSON.stringify(draftOf(saved));

  /** The setting as it is in the form now (what Save sends and Test tries), or undefined when none is chosen. */
  const proposed: AdapterInput | undefined = draft.plugin
    ? { plugin: draft.plugin, plugin_version: draft.version || null, config: draft.config }
    : undefined;

  const clearServerErrors = () => {
    setServerConfigErrors({});
    setPluginError(undefined);
    setVersionError(undefined);
    setFormError(undefined);
  };

  const choosePlugin = (next: string) => {
    // Back to the saved plugin: its saved settings; another plugin starts empty.
    setDraft(next && next === saved?.plugin ? draftOf(saved) : { plugin: next, version: "", config: {} });
    setChecked(false);
    clearServerErrors();
  };

  /** Show an API error about the setting next to the input it names; false when no input owns it. */
  const showOnInputs = (err: unknown): boolean => {
    const placed = placeAdapterError(err);
    if (placed.other) return false;
    if (placed.config) setServerConfigErrors({ [placed.config[0]]: placed.config[1] });
    if (placed.plugin) setPluginError(placed.plugin);
    if (placed.version) setVersionError(placed.version);
    setFocusRequest((n) => n + 1);
    return true;
  };

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!proposed) return;
    setChecked(true);
    clearServerErrors();
    if (Object.keys(validateConfig(schema, draft.config)).length > 0) {
      setFocusRequest((n) => n + 1);
      return;
    }
    setSaving(true);
    try {
      const updated = await endpointsApi.setAdapter(endpoint.id, proposed);
      setDraft(draftOf(updated.adapter));
      setChecked(false);
      const name = adapters.find((p) => p.id === proposed.plugin)?.name ?? proposed.plugin;
      onSaved(updated);
      setNotice(`Adapter saved: requests to this endpoint now go through ${name}.`);
    } catch (err) {
      if (!showOnInputs(err)) setFormError(placeAdapterError(err).other);
    } finally {
      setSaving(false);
    }
  };

  const remove = async () => {
    const updated = await endpointsApi.clearAdapter(endpoint.id);
    setDraft(draftOf(updated.adapter));
    setChecked(false);
    clearServerErrors();
    onSaved(updated);
    setNotice("Adapter removed: requests to this endpoint are read as Beacon's own JSON/text body again.");
  };

  return (
    <section aria-labelledby={`${id}-h`} className="adapter-section">
      <div className="narrow">
        <h2 id={`${id}-h`}>Adapter</h2>
        <p className="muted">
          An adapter reads the JSON another tool posts (Alertmanager, GitHub, Grafana, any webhook) and turns each
          request into messages. Without one, the endpoint expects Beacon's own body:{" "}
          <code>{'{"body": …, "title": …}'}</code> or plain text.
        </p>
        <CurrentAdapter adapter={saved} plugins={plugins} />
      </div>

      <div className="adapter-layout">
        <form onSubmit={save} noValidate className="form adapter-form" aria-label="Adapter settings">
          <FormError message={formError} />
          <div className="field">
            <label htmlFor={`${id}-plugin`}>Adapter plugin</label>
            <select
              id={`${id}-plugin`}
              value={draft.plugin}
              onChange={(e) => choosePlugin(e.target.value)}
              aria-invalid={pluginError ? true : undefined}
              aria-describedby={[plugin?.description ? `${id}-plugin-hint` : "", pluginError ? `${id}-plugin-err` : ""].filter(Boolean).join(" ") || undefined}
            >
              {!saved && <option value="">None (Beacon's own JSON/text body)</option>}
              {saved && !adapters.some((p) => p.id === saved.plugin) && (
                <option value={saved.plugin}>{saved.plugin} (not installed)</option>
              )}
              {adapters.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.id} {p.version})
                </option>
              ))}
            </select>
            {plugin?.description && (
              <p className="hint" id={`${id}-plugin-hint`}>
                {plugin.description}
              </p>
            )}
            {adapters.length === 0 && <p className="hint">No adapter plugins are installed.</p>}
            {pluginError && (
              <p className="field-error" id={`${id}-plugin-err`} role="alert">
                {pluginError}
              </p>
            )}
          </div>

          {showVersions && (
            <PluginVersionSelect
              id={`${id}-version`}
              label="Adapter version"
              value={draft.version}
              versions={installedVersions}
              newest={newest}
              error={versionError}
              hint="Newest: requests move to each new version an operator installs. A version: they stay on it until you change it here."
              onChange={(version) => {
                setDraft((d) => ({ ...d, version }));
                setVersionError(undefined);
              }}
            />
          )}

          {draft.plugin && (
            <fieldset className="config-fieldset">
              <legend>Settings for {plugin?.name ?? draft.plugin}</legend>
              {!plugin && (
                <p className="form-error" role="alert">
                  The adapter plugin “{draft.plugin}” is not installed, so its settings cannot be checked or drawn as a form.
                </p>
              )}
              <SchemaForm
                key={draft.plugin}
                schema={schema}
                value={draft.config}
                onChange={(config) => {
                  setDraft((d) => ({ ...d, config }));
                  setServerConfigErrors({});
                  setFormError(undefined);
                }}
                errors={configErrors}
                label="Adapter settings"
              />
            </fieldset>
          )}

          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={saving || !proposed}>
              {saving ? "Saving…" : "Save adapter"}
            </button>
            {saved && (
              <ConfirmDialog
                trigger={
                  <button type="button" className="btn btn-danger-outline">
                    Remove adapter
                  </button>
                }
                title="Remove the adapter?"
                description={`Requests to “${endpoint.name}” are read as Beacon's own JSON/text body again; the adapter's settings are deleted. Senders that post their own JSON will be refused.`}
                confirmLabel="Remove adapter"
                destructive
                onConfirm={remove}
              />
            )}
            {dirty && saved && <span className="hint">Unsaved changes.</span>}
            {notice && !dirty && (
              <p className="notice" role="status" data-testid="adapter-notice">
                {notice}
              </p>
            )}
          </div>
        </form>

        <AdapterTestPanel
          endpointId={endpoint.id}
          proposed={proposed}
          onSettingError={showOnInputs}
        />
      </div>
    </section>
  );
}
