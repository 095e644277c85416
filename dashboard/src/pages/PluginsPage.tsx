import { useQuery } from "@tanstack/react-query";
import { Fragment, useState } from "react";
import { pluginsApi, qk } from "../api/endpoints";
import type { Plugin } from "../api/types";
import { useAuth } from "../auth/AuthProvider";
import { EmptyState, ErrorState, Loading } from "../components/bits";
import { Section } from "../components/Section";
import { InstallPluginForm, RemovePluginDialog } from "./plugins/PluginAdmin";
import { GrantsForm, GrantsSummary, UsedByList, usageSummary, VersionsTable } from "./plugins/PluginDetails";

/** What each host capability lets a plugin do (shown as a tooltip on its badge). */
const CAPABILITY_HINTS: Record<string, string> = {
  http: "Makes outgoing HTTP requests (through the host, within its allowlist)",
  kv: "Keeps small state between messages (key-value store)",
  log: "Writes to the server log",
  "smtp-send": "Sends e-mail through the server's SMTP settings",
  "mqtt-publish": "Publishes to MQTT brokers",
};

/** Compare dotted versions numerically ("0.10.0" > "0.3.0"); non-numbers compare as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** What each kind of plugin does, for the card's *Kind*. */
const KIND_LABELS: Record<string, string> = {
  channel: "Channel (sends deliveries)",
  filter: "Filter (decides matches)",
  adapter: "Adapter (turns an endpoint's webhook requests into messages)",
};

/** The groups of the page, in order; plugins of a kind the dashboard does not know go under *Other plugins*. */
const GROUPS: { kind: string; title: string }[] = [
  { kind: "channel", title: "Channel plugins" },
  { kind: "filter", title: "Filter plugins" },
  { kind: "adapter", title: "Adapter plugins" },
];

function Capabilities({ list }: { list?: string[] }) {
  if (!list) return <span className="muted">not reported</span>;
  if (list.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="tags" aria-label="Capabilities">
      {list.map((c) => (
        <li key={c} className="tag capability" title={CAPABILITY_HINTS[c]}>
          {c}
        </li>
      ))}
    </ul>
  );
}

interface CardProps {
  p: Plugin;
  newestWit?: string;
  /** Set for operators: offers *Remove* (and *Remove this version*) on plugins that are not built in. */
  onRemoved?: (message: string) => void;
  /** Operators edit the grants. */
  operator?: boolean;
}

function PluginCard({ p, newestWit, onRemoved, operator }: CardProps) {
  const usage = usageSummary(p);
  const olderWit = Boolean(p.wit_version && newestWit && compareVersions(p.wit_version, newestWit) < 0);
  return (
    <li className="card plugin" aria-labelledby={`plugin-${p.id}`}>
      <div className="plugin-head">
        <h3 id={`plugin-${p.id}`} className="break">
          {p.name}
        </h3>
        <span className={`status ${p.kind === "channel" ? "status-info" : p.kind === "adapter" ? "status-warn" : "status-muted"}`}>
          {p.kind}
        </span>
        {p.builtin && <span className="status status-ok">built in</span>}
        {onRemoved && !p.builtin && <RemovePluginDialog plugin={p} onRemoved={onRemoved} />}
      </div>
      <dl className="fields compact">
        <div>
          <dt>ID</dt>
          <dd>
            <code>{p.id}</code>
          </dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{p.version}</dd>
        </div>
        <div>
          <dt>WIT version</dt>
          <dd>
            {p.wit_version ?? <span className="muted">not reported</span>}
            {olderWit && (
              <span className="muted" title={`Built against an older plugin interface than ${newestWit}; it still runs.`}>
                {" "}
                (older interface)
              </span>
            )}
          </dd>
        </div>
        <div>
          <dt>Capabilities</dt>
          <dd>
            <Capabilities list={p.capabilities} />
          </dd>
        </div>
        <div>
          <dt>Kind</dt>
          <dd>{KIND_LABELS[p.kind] ?? p.kind}</dd>
        </div>
      </dl>
      {p.description && <p>{p.description}</p>}
      {p.versions && p.versions.length > 0 && (
        <>
          <h4 className="plugin-sub">Installed versions</h4>
          <VersionsTable plugin={p} onRemoved={onRemoved} />
        </>
      )}
      {(p.grants || p.limits) && (
        <>
          <h4 className="plugin-sub">Grants and limits</h4>
          <GrantsSummary plugin={p} />
        </>
      )}
      {operator && p.grants && (
        <Section title={`Edit grants of ${p.name}`} level={4}>
          <GrantsForm plugin={p} />
        </Section>
      )}
      {usage !== undefined && (
        <Section title={`Used by: ${usage}`} level={4}>
          <UsedByList plugin={p} />
        </Section>
      )}
      <Section title={`Config schema of ${p.name}`} level={4}>
        <pre className="code schema-code">{JSON.stringify(p.config_schema, null, 2)}</pre>
      </Section>
    </li>
  );
}

export function PluginsPage() {
  const { user } = useAuth();
  const operator = Boolean(user?.is_admin);
  const [removed, setRemoved] = useState<string>();
  const list = useQuery({ queryKey: qk.plugins, queryFn: ({ signal }) => pluginsApi.list(signal) });
  const items = list.data?.items ?? [];
  const groups = [
    ...GROUPS.map((g) => ({ ...g, plugins: items.filter((p) => p.kind === g.kind) })),
    { kind: "other", title: "Other plugins", plugins: items.filter((p) => !GROUPS.some((g) => g.kind === p.kind)) },
  ].filter((g) => g.plugins.length > 0);
  const newestWit = items
    .map((p) => p.wit_version)
    .filter((v): v is string => typeof v === "string")
    .sort(compareVersions)
    .at(-1);
  return (
    <section aria-labelledby="plugins-h">
      <h1 id="plugins-h">Plugins</h1>
      <p className="muted">
        Channel plugins send deliveries; filter plugins decide whether a rule matches; adapter plugins turn the webhook
        requests of other tools (Alertmanager, GitHub, any JSON) into messages, for the endpoints that choose one. Each
        runs sandboxed as WebAssembly.{" "}
        {operator ? (
          <>
            As an operator you can install more from <code>.wasm</code> files and remove those that are not built in,
            for every user.
          </>
        ) : (
          <>
            Operators install more from <code>.wasm</code> files (see the operator docs).
          </>
        )}{" "}
        <em>WIT version</em> is the plugin interface a plugin was built against; <em>capabilities</em> are the host
        services it may use. Several versions of a plugin can be installed side by side: channels, rules and endpoints
        run the newest unless they are pinned to a version.
      </p>
      {operator && <InstallPluginForm installed={items} />}
      {removed && (
        <p role="status" className="notice" data-testid="plugin-removed">
          {removed}
        </p>
      )}
      {list.isPending && <Loading />}
      {list.isError && <ErrorState error={list.error} onRetry={() => list.refetch()} />}
      {list.data && items.length === 0 && <EmptyState title="No plugins installed" />}
      {groups.map((g) => (
        <Fragment key={g.kind}>
          <h2>{g.title}</h2>
          <ul className="plugin-list">
            {g.plugins.map((p) => (
              <PluginCard
                key={p.id}
                p={p}
                newestWit={newestWit}
                onRemoved={operator ? setRemoved : undefined}
                operator={operator}
              />
            ))}
          </ul>
        </Fragment>
      ))}
    </section>
  );
}
