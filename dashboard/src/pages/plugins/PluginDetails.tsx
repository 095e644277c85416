/**
 * The parts of a plugin card that come with versions and grants: the table
 * of installed versions (operators may remove one), the grants and the
 * limits in force (operators edit them: `PUT /api/plugins/{id}/grants`), and
 * the channels and rules that use the plugin (`GET /api/plugins/{id}`).
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { Link } from "react-router";
import { ApiError, errorMessage } from "../../api/client";
import { pluginsApi, qk } from "../../api/endpoints";
import type { Grants, Plugin, PluginVersion, UsedBy } from "../../api/types";
import { FormError } from "../../components/Field";
import { ErrorState, Loading } from "../../components/bits";
import { formatBytes } from "../../lib/format";
import { normalizeApiField } from "../../lib/forms";
import { RemoveVersionDialog } from "./PluginAdmin";

/** Capabilities a grant can name, in the order the form offers them. */
export const GRANTABLE_CAPABILITIES = ["log", "http", "kv", "smtp-send", "mqtt-publish"] as const;


/** What each grantable capability lets a plugin do. */
const GRANT_LABELS: Record<string, string> = {
  log: "log — write to the server log",
  http: "http — outgoing HTTP requests",
  kv: "kv — keep small state between messages",
  mail: "mail — send e-mail through the server's SMTP settings",
  mqtt: "mqtt — publish to MQTT brokers",
};

/** The grantable capabilities `plugin` imports (any version), plus any its grant names already. */
export function grantableCapabilities(plugin: Plugin): string[] {
  const imports = new Set<string>();
  for (const c of plugin.capabilities ?? []) imports.add(c);
  for (const v of plugin.versions ?? []) for (const c of v.capabilities) imports.add(c);
  for (const c of plugin.grants?.capabilities ?? []) imports.add(c);
  return GRANTABLE_CAPABILITIES.filter((c) => imports.has(c));
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * "2 channels, 1 rule" from the versions' counts; undefined on servers without versions. The counts
 * leave out endpoints, so an adapter's usage is only known from its details: "endpoints".
 */
export function usageSummary(plugin: Plugin): string | undefined {
  if (!plugin.versions) return undefined;
  if (plugin.kind === "adapter") return "endpoints";
  const channels = plugin.versions.reduce((n, v) => n + v.channels, 0);
  const rules = plugin.versions.reduce((n, v) => n + v.rules, 0);
  if (channels === 0 && rules === 0) return "none";
  return [channels ? plural(channels, "channel") : "", rules ? plural(rules, "rule") : ""].filter(Boolean).join(", ");
}

// ---------------------------------------------------------------- versions

export function VersionsTable({
  plugin,
  onRemoved,
}: {
  plugin: Plugin;
  /** Set for operators: offers *Remove this version* (not on built-in plugins). */
  onRemoved?: (message: string) => void;
}) {
  const versions: PluginVersion[] = plugin.versions ?? [];
  const removable = Boolean(onRemoved) && !plugin.builtin;
  return (
    <div className="table-wrap versions-table">
      <table className="table responsive" aria-label={`Versions of ${plugin.name}`}>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">WIT version</th>
            <th scope="col">Capabilities</th>
            <th scope="col">Size</th>
            <th scope="col">Newest</th>
            <th scope="col">Channels</th>
            <th scope="col">Rules</th>
            {removable && (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version} data-testid={`version-${v.version}`}>
              <td data-label="Version" className="strong">
                {v.version}
              </td>
              <td data-label="WIT version">{v.wit_version}</td>
              <td data-label="Capabilities">{v.capabilities.length ? v.capabilities.join(", ") : <span className="muted">none</span>}</td>
              <td data-label="Size" title={`sha256 ${v.sha256}`}>
                {formatBytes(v.size_bytes)}
              </td>
              <td data-label="Newest">
                {v.newest ? <span className="status status-ok">newest</span> : <span className="muted">—</span>}
              </td>
              <td data-label="Channels">{v.channels}</td>
              <td data-label="Rules">{v.rules}</td>
              {removable && (
                <td className="version-actions">
                  <RemoveVersionDialog plugin={plugin} version={v.version} onRemoved={onRemoved!} />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// ---------------------------------------------------------------- grants

/** The grants and limits in force, as text (every user sees these). */
export function GrantsSummary({ plugin }: { plugin: Plugin }) {
  const g = plugin.grants;
  const limits = plugin.limits;
  if (!g && !limits) return null;
  const channel = plugin.kind === "channel";
  return (
    <dl className="fields compact grants" aria-label={`Grants of ${plugin.name}`}>
      {g && channel && (
        <div>
          <dt>Allowed hosts</dt>
          <dd data-testid="grant-hosts">
            {g.allowed_hosts === null ? (
              <span className="muted">any the server's outbound policy allows (default)</span>
            ) : g.allowed_hosts.length === 0 ? (
              "none"
            ) : (
              <ul className="tags">
                {g.allowed_hosts.map((h) => (
                  <li key={h} className="tag">
                    <code>{h}</code>
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </div>
      )}
      {g && channel && (
        <div>
          <dt>Private networks</dt>
          <dd data-testid="grant-private">
            {g.allow_private_networks === null ? (
              <span className="muted">as the server's outbound policy says (default)</span>
            ) : g.allow_private_networks ? (
              "allowed"
            ) : (
              "blocked"
            )}
          </dd>
        </div>
      )}
      {limits && (
        <div>
          <dt>Memory limit</dt>
          <dd data-testid="limit-memory">
            {limits.memory_mib} MiB {g?.memory_mib == null ? <span className="muted">(default)</span> : <span className="muted">(granted)</span>}
          </dd>
        </div>
      )}
      {limits && (
        <div>
          <dt>Time limit per call</dt>
          <dd data-testid="limit-timeout">
            {limits.timeout_ms.toLocaleString("en-GB")} ms{" "}
            {g?.timeout_ms == null ? <span className="muted">(default)</span> : <span className="muted">(granted)</span>}
          </dd>
        </div>
      )}
      {g && (
        <div>
          <dt>Granted capabilities</dt>
          <dd data-testid="grant-capabilities">
            {g.capabilities === null ? (
              <span className="muted">all its kind may have (default)</span>
            ) : g.capabilities.length === 0 ? (
              "none"
            ) : (
              g.capabilities.join(", ")
            )}
          </dd>
        </div>
      )}
    </dl>
  );
}

type Tri = "" | "allow" | "block";

interface GrantsDraft {
  hostsMode: "default" | "only";
  hosts: string;
  privateNetworks: Tri;
  memory: string;
  timeout: string;
  allCapabilities: boolean;
  capabilities: string[];
}

function toDraft(g: Grants | undefined, offered: string[]): GrantsDraft {
  return {
    hostsMode: g?.allowed_hosts == null ? "default" : "only",
    hosts: (g?.allowed_hosts ?? []).join("\n"),
    privateNetworks: g?.allow_private_networks == null ? "" : g.allow_private_networks ? "allow" : "block",
    memory: g?.memory_mib == null ? "" : String(g.memory_mib),
    timeout: g?.timeout_ms == null ? "" : String(g.timeout_ms),
    allCapabilities: g?.capabilities == null,
    capabilities: g?.capabilities ?? offered,
  };
}

/** The host lines that are sent, with the textarea line each came from (1-based). */
function hostLines(text: string): { host: string; line: number }[] {
  return text
    .split(/\r?\n/)
    .map((l, i) => ({ host: l.trim(), line: i + 1 }))
    .filter((x) => x.host !== "");
}

/** The request body for a draft (call after {@link checkGrants} found nothing). */
export function draftToGrants(d: GrantsDraft, channel: boolean): Grants {
  return {
    allowed_hosts: channel && d.hostsMode === "only" ? hostLines(d.hosts).map((x) => x.host) : null,
    allow_private_networks: channel && d.privateNetworks ? d.privateNetworks === "allow" : null,
    memory_mib: d.memory.trim() === "" ? null : Number(d.memory),
    timeout_ms: d.timeout.trim() === "" ? null : Number(d.timeout),
    capabilities: d.allCapabilities ? null : GRANTABLE_CAPABILITIES.filter((c) => d.capabilities.includes(c)),
  };
}

type GrantErrors = Partial<Record<"allowed_hosts" | "allow_private_networks" | "memory_mib" | "timeout_ms" | "capabilities", string>>;

const wholeNumber = (s: string) => /^\d+$/.test(s.trim()) && Number(s) >= 1;

function checkGrants(d: GrantsDraft): GrantErrors {
  const e: GrantErrors = {};
  if (d.memory.trim() !== "" && !wholeNumber(d.memory)) e.memory_mib = "A whole number of MiB, at least 1 (or empty for the default).";
  if (d.timeout.trim() !== "" && !wholeNumber(d.timeout))
    e.timeout_ms = "A whole number of milliseconds, at least 1 (or empty for the default).";
  return e;
}

/** Where a `422 invalid_grant` belongs: the field it names (`allowed_hosts[0]` → the hosts, naming the line). */
function serverError(err: ApiError, d: GrantsDraft): { field?: keyof GrantErrors; message: string } {
  const field = normalizeApiField(err.field ?? "");
  const [head, index] = field.split(".");
  switch (head) {
    case "allowed_hosts": {
      const at = index !== undefined ? hostLines(d.hosts)[Number(index)] : undefined;
      return { field: head, message: at ? `Line ${at.line} (${at.host}): ${err.message}` : err.message };
    }
    case "allow_private_networks":
    case "memory_mib":
    case "timeout_ms":
    case "capabilities":
      return { field: head, message: err.message };
    default:
      return { message: errorMessage(err) };
  }
}

/** Operators: the grants of one plugin as a form; every field empty or "default" sends `null`. */
export function GrantsForm({ plugin }: { plugin: Plugin }) {
  const id = useId();
  const queryClient = useQueryClient();
  const offered = grantableCapabilities(plugin);
  const channel = plugin.kind === "channel";
  const [draft, setDraft] = useState<GrantsDraft>(() => toDraft(plugin.grants, offered));
  const [errors, setErrors] = useState<GrantErrors>({});
  const [formError, setFormError] = useState<string>();
  const [saved, setSaved] = useState<string>();
  const save = useMutation({ mutationFn: (grants: Grants) => pluginsApi.setGrants(plugin.id, grants) });

  const update = (patch: Partial<GrantsDraft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    setErrors({});
    setFormError(undefined);
    setSaved(undefined);
  };

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setSaved(undefined);
    setFormError(undefined);
    const found = checkGrants(draft);
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    try {
      const updated = await save.mutateAsync(draftToGrants(draft, channel));
      // The server normalises (lower-case hosts, sorted capabilities): show what it stored.
      if (updated?.grants) setDraft(toDraft(updated.grants, offered));
      setSaved(`Grants of ${plugin.name} saved; they apply to its next calls.`);
      await queryClient.invalidateQueries({ queryKey: qk.plugins });
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && err.field) {
        const { field, message } = serverError(err, draft);
        if (field) setErrors({ [field]: message });
        else setFormError(message);
      } else {
        setFormError(errorMessage(err));
      }
    }
  }

  const wire = (key: keyof GrantErrors, hint?: boolean) => ({
    "aria-invalid": errors[key] ? true : undefined,
    "aria-describedby": [hint ? `${id}-${key}-hint` : "", errors[key] ? `${id}-${key}-err` : ""].filter(Boolean).join(" ") || undefined,
  });
  const err = (key: keyof GrantErrors) =>
    errors[key] ? (
      <p className="field-error" id={`${id}-${key}-err`} role="alert">
        {errors[key]}
      </p>
    ) : null;

  return (
    <form className="form grants-form" onSubmit={submit} noValidate aria-label={`Grants of ${plugin.name}`}>
      <FormError message={formError} />
      {channel && (
        <fieldset>
          <legend>Outbound hosts</legend>
          <div className="radio-stack">
            <label className="checkbox">
              <input
                type="radio"
                name={`${id}-hosts-mode`}
                checked={draft.hostsMode === "default"}
                onChange={() => update({ hostsMode: "default" })}
              />{" "}
              Any host the server's outbound policy allows (default)
            </label>
            <label className="checkbox">
              <input
                type="radio"
                name={`${id}-hosts-mode`}
                checked={draft.hostsMode === "only"}
                onChange={() => update({ hostsMode: "only" })}
              />{" "}
              Only these hosts
            </label>
          </div>
          <div className="field">
            <label htmlFor={`${id}-hosts`}>Allowed hosts</label>
            <textarea
              id={`${id}-hosts`}
              rows={3}
              spellCheck={false}
              className="mono"
              disabled={draft.hostsMode !== "only"}
              value={draft.hosts}
              onChange={(e) => update({ hosts: e.target.value })}
              {...wire("allowed_hosts", true)}
            />
            <p className="hint" id={`${id}-allowed_hosts-hint`}>
              One per line: a host name (<code>api.example.com</code>), a wildcard (<code>*.example.com</code>) or an IP
              address; no scheme, port or path. None listed: it may reach no host.
            </p>
            {err("allowed_hosts")}
          </div>
          <div className="field">
            <label htmlFor={`${id}-private`}>Private networks</label>
            <select
              id={`${id}-private`}
              value={draft.privateNetworks}
              onChange={(e) => update({ privateNetworks: e.target.value as Tri })}
              {...wire("allow_private_networks", true)}
            >
              <option value="">Default (the server's outbound policy)</option>
              <option value="allow">Allow</option>
              <option value="block">Block</option>
            </select>
            <p className="hint" id={`${id}-allow_private_networks-hint`}>
              Addresses on loopback and private networks (<code>10.0.0.0/8</code>, <code>192.168.0.0/16</code>, …).
            </p>
            {err("allow_private_networks")}
          </div>
        </fieldset>
      )}
      <div className="grants-limits">
        <div className="field">
          <label htmlFor={`${id}-memory`}>Memory limit (MiB)</label>
          <input
            id={`${id}-memory`}
            type="text"
            inputMode="numeric"
            autoComplete="off"
            placeholder="default"
            value={draft.memory}
            onChange={(e) => update({ memory: e.target.value })}
            {...wire("memory_mib", true)}
          />
          <p className="hint" id={`${id}-memory_mib-hint`}>
            Empty: the host default.{plugin.limits ? ` Now ${plugin.limits.memory_mib} MiB.` : ""}
          </p>
          {err("memory_mib")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-timeout`}>Time limit per call (ms)</label>
          <input
            id={`${id}-timeout`}
            type="text"
            inputMode="numeric"
            autoComplete="off"
            placeholder="default"
            value={draft.timeout}
            onChange={(e) => update({ timeout: e.target.value })}
            {...wire("timeout_ms", true)}
          />
          <p className="hint" id={`${id}-timeout_ms-hint`}>
            Empty: the host default.{plugin.limits ? ` Now ${plugin.limits.timeout_ms.toLocaleString("en-GB")} ms.` : ""}
          </p>
          {err("timeout_ms")}
        </div>
      </div>
      <fieldset {...wire("capabilities", true)}>
        <legend>Capabilities</legend>
        <p className="hint" id={`${id}-capabilities-hint`}>
          A capability withheld fails when the plugin calls it; the plugin itself stays installed.
        </p>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={draft.allCapabilities}
            onChange={(e) => update({ allCapabilities: e.target.checked, capabilities: e.target.checked ? offered : draft.capabilities })}
          />{" "}
          All (default)
        </label>
        {offered.length === 0 ? (
          <p className="muted">{plugin.name} imports no host capabilities.</p>
        ) : (
          <div className="checks">
            {offered.map((c) => (
              <label key={c} className="checkbox">
                <input
                  type="checkbox"
                  disabled={draft.allCapabilities}
                  checked={draft.allCapabilities || draft.capabilities.includes(c)}
                  onChange={(e) =>
                    update({
                      capabilities: e.target.checked ? [...draft.capabilities, c] : draft.capabilities.filter((x) => x !== c),
                    })
                  }
                />{" "}
                {GRANT_LABELS[c] ?? c}
              </label>
            ))}
          </div>
        )}
        {err("capabilities")}
      </fieldset>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save grants"}
        </button>
        {saved && (
          <p role="status" className="notice" data-testid="grants-saved">
            {saved}
          </p>
        )}
      </div>
    </form>
  );
}

// ---------------------------------------------------------------- used by

function usedByState(u: UsedBy) {
  if (u.running_version === null) {
    return (
      <span className="status status-bad">
        broken: {u.pinned_version ? `version ${u.pinned_version}` : "plugin"} not installed
      </span>
    );
  }
  return (
    <span className="muted">
      runs {u.running_version}
      {u.pinned_version ? ` (pinned to ${u.pinned_version})` : " (follows the newest)"}
    </span>
  );
}

/** Where a user of a plugin is edited. */
function usedByPath(u: UsedBy): string {
  const base = u.kind === "rule" ? "rules" : u.kind === "endpoint" ? "endpoints" : "channels";
  return `/${base}/${encodeURIComponent(u.id)}`;
}

/** The channels, rules and endpoints (adapters) that use a plugin (`GET /api/plugins/{id}`), loaded when shown. */
export function UsedByList({ plugin }: { plugin: Plugin }) {
  const detail = useQuery({ queryKey: qk.plugin(plugin.id), queryFn: ({ signal }) => pluginsApi.get(plugin.id, signal) });
  if (detail.isPending) return <Loading label="Loading who uses it…" />;
  if (detail.isError) return <ErrorState error={detail.error} onRetry={() => detail.refetch()} />;
  const used = detail.data.used_by ?? [];
  if (used.length === 0) {
    return <p className="muted">{plugin.kind === "adapter" ? `No endpoint uses ${plugin.name}.` : `No channel or rule uses ${plugin.name}.`}</p>;
  }
  return (
    <ul className="used-by" aria-label={`Used by (${plugin.name})`}>
      {used.map((u) => (
        <li key={`${u.kind}-${u.id}`}>
          <span className="status status-muted">{u.kind}</span>{" "}
          <Link to={usedByPath(u)} className="break">
            {u.name}
          </Link>{" "}
          {usedByState(u)}
        </li>
      ))}
    </ul>
  );
}
