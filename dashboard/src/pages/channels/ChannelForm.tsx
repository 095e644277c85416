import { zodResolver } from "@hookform/resolvers/zod";
import { useId, useMemo, useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { ApiError } from "../../api/client";
import type { Channel, ChannelInput, Plugin } from "../../api/types";
import { Field, FormError } from "../../components/Field";
import { UNVERIFIED_HINT } from "../../components/VerifyBanner";
import { SchemaForm } from "../../features/schema-form/SchemaForm";
import { validateConfig, type JsonSchema } from "../../features/schema-form/schema";
import { applyApiError, fieldUnder, normalizeApiField } from "../../lib/forms";

const channelSchema = z.object({
  name: z.string().trim().min(1, "Give the channel a name.").max(100, "Use at most 100 characters."),
  plugin: z.string().min(1, "Choose a plugin."),
  /** "" follows the newest version; a version pins it. */
  plugin_version: z.string(),
  enabled: z.boolean(),
});
type ChannelValues = z.infer<typeof channelSchema>;

const EMPTY_SCHEMA: JsonSchema = { type: "object" };

export interface ChannelFormProps {
  /** Channel-kind plugins the user can pick from. */
  plugins: Plugin[];
  /** Editing this channel (its plugin cannot change); creating when absent. */
  channel?: Channel;
  /** Create is refused for unverified users. */
  canSubmit?: boolean;
  /**
   * `plugin_version` is present only when it changes: on create when pinned,
   * on edit when it differs from the channel's (null unpins).
   */
  onSubmit(values: ChannelInput): Promise<unknown>;
}

function schemaOf(plugin: Plugin | undefined): JsonSchema {
  return plugin?.config_schema && typeof plugin.config_schema === "object" ? (plugin.config_schema as JsonSchema) : EMPTY_SCHEMA;
}

/**
 * Name, plugin, enabled flag and the plugin's config (a form drawn from its
 * JSON Schema, or raw JSON that keeps unknown keys). Errors the API names are
 * shown next to their input: `name`, `plugin`, `config.<path>`.
 */
export function ChannelForm({ plugins, channel, canSubmit = true, onSubmit }: ChannelFormProps) {
  const id = useId();
  const editing = Boolean(channel);
  const defaultPlugin = channel?.plugin ?? (plugins.find((p) => p.id === "bark") ?? plugins[0])?.id ?? "";
  const {
    register,
    handleSubmit,
    setError,
    setValue,
    watch,
    formState: { errors, isSubmitting },
  } = useForm<ChannelValues>({
    resolver: zodResolver(channelSchema),
    defaultValues: {
      name: channel?.name ?? "",
      plugin: defaultPlugin,
      plugin_version: channel?.plugin_version ?? "",
      enabled: channel?.enabled ?? true,
    },
  });
  const pluginId = watch("plugin");
  const pinned = watch("plugin_version");
  const plugin = plugins.find((p) => p.id === pluginId);
  const installedVersions = plugin?.versions?.map((v) => v.version) ?? [];
  // Older servers know no versions: no selector unless the channel is pinned already.
  const showVersions = Boolean(plugin?.versions) || Boolean(channel?.plugin_version);
  const schema = useMemo(() => schemaOf(plugin), [plugin]);

  const [config, setConfig] = useState<Record<string, unknown>>(() => channel?.config ?? {});
  const [configPlugin, setConfigPlugin] = useState(defaultPlugin);
  // Client checks show after the first submit; server errors until the config changes.
  const [checked, setChecked] = useState(false);
  const [serverConfigErrors, setServerConfigErrors] = useState<Record<string, string>>({});

  // A different plugin needs a different config: start it empty.
  if (!editing && pluginId !== configPlugin) {
    setConfigPlugin(pluginId);
    setConfig({});
    setServerConfigErrors({});
  }

  const clientErrors = checked ? validateConfig(schema, config) : {};
  const configErrors = { ...clientErrors, ...serverConfigErrors };

  const submit = handleSubmit(async (values) => {
    setChecked(true);
    if (Object.keys(validateConfig(schema, config)).length > 0) return;
    try {
      const input: ChannelInput = { name: values.name.trim(), plugin: values.plugin, enabled: values.enabled, config };
      const version = values.plugin_version || null;
      if (editing ? version !== (channel!.plugin_version ?? null) : version !== null) input.plugin_version = version;
      await onSubmit(input);
    } catch (err) {
      const field = err instanceof ApiError && err.field ? normalizeApiField(err.field) : undefined;
      const under = field !== undefined ? fieldUnder(field, "config") : undefined;
      if (under !== undefined) {
        setServerConfigErrors({ [under]: err instanceof Error ? err.message : String(err) });
      } else {
        applyApiError(err, setError, ["name", "plugin", "plugin_version", "enabled"]);
      }
    }
  }, () => setChecked(true));

  const pluginError = errors.plugin?.message;
  const versionError = errors.plugin_version?.message;
  const newest = plugin?.versions?.find((v) => v.newest)?.version ?? plugin?.version;
  return (
    <form onSubmit={submit} noValidate className="form channel-form" aria-label={editing ? "Edit channel" : "New channel"}>
      <FormError message={errors.root?.server?.message} />
      <Field label="Name" placeholder="e.g. My iPhone" autoComplete="off" error={errors.name} {...register("name")} />

      <div className="field">
        <label htmlFor={`${id}-plugin`}>Plugin</label>
        <select
          id={`${id}-plugin`}
          disabled={editing}
          aria-invalid={pluginError ? true : undefined}
          aria-describedby={[plugin?.description ? `${id}-plugin-hint` : "", pluginError ? `${id}-plugin-err` : ""].filter(Boolean).join(" ") || undefined}
          {...register("plugin", { onChange: () => setValue("plugin_version", "") })}
        >
          {plugins.length === 0 && !editing && <option value="">No channel plugins installed</option>}
          {editing && !plugin && <option value={channel!.plugin}>{channel!.plugin} (not installed)</option>}
          {plugins.map((p) => (
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
        {editing && <p className="hint">The plugin of an existing channel cannot change; create a new channel instead.</p>}
        {pluginError && (
          <p className="field-error" id={`${id}-plugin-err`} role="alert">
            {pluginError}
          </p>
        )}
      </div>

      {showVersions && (
        <div className="field">
          <label htmlFor={`${id}-version`}>Plugin version</label>
          <select
            id={`${id}-version`}
            aria-invalid={versionError ? true : undefined}
            aria-describedby={[`${id}-version-hint`, versionError ? `${id}-version-err` : ""].filter(Boolean).join(" ")}
            {...register("plugin_version")}
          >
            <option value="">Newest (follows upgrades){newest ? ` — now ${newest}` : ""}</option>
            {installedVersions.map((v) => (
              <option key={v} value={v}>
                {v}
                {v === newest ? " (newest)" : ""}
              </option>
            ))}
            {pinned && !installedVersions.includes(pinned) && <option value={pinned}>{pinned} (not installed)</option>}
          </select>
          <p className="hint" id={`${id}-version-hint`}>
            Newest: deliveries move to each new version an operator installs. A version: they stay on it until you change
            it here.
          </p>
          {versionError && (
            <p className="field-error" id={`${id}-version-err`} role="alert">
              {versionError}
            </p>
          )}
        </div>
      )}

      <label className="checkbox">
        <input type="checkbox" {...register("enabled")} /> Enabled
      </label>

      <fieldset className="config-fieldset">
        <legend>Settings{plugin ? ` for ${plugin.name}` : ""}</legend>
        {editing && !plugin && (
          <p className="form-error" role="alert">
            The plugin “{channel!.plugin}” is not installed, so its settings cannot be checked or drawn as a form.
          </p>
        )}
        <SchemaForm
          key={configPlugin}
          schema={schema}
          value={config}
          onChange={(v) => {
            setConfig(v);
            setServerConfigErrors({});
          }}
          errors={configErrors}
          label="Settings"
        />
      </fieldset>

      <div className="form-actions">
        <button
          type="submit"
          className="btn btn-primary"
          disabled={isSubmitting || !canSubmit || (!editing && plugins.length === 0)}
          title={canSubmit ? undefined : UNVERIFIED_HINT}
        >
          {isSubmitting ? "Saving…" : editing ? "Save changes" : "Create channel"}
        </button>
      </div>
    </form>
  );
}
