import { useQuery } from "@tanstack/react-query";
import { pluginsApi, qk } from "../api/endpoints";
import type { Plugin } from "../api/types";
import { EmptyState, ErrorState, Loading } from "../components/bits";
import { Section } from "../components/Section";

function PluginCard({ p }: { p: Plugin }) {
  return (
    <li className="card plugin" aria-labelledby={`plugin-${p.id}`}>
      <div className="plugin-head">
        <h3 id={`plugin-${p.id}`} className="break">
          {p.name}
        </h3>
        <span className={`status ${p.kind === "channel" ? "status-info" : "status-muted"}`}>{p.kind}</span>
        {p.builtin && <span className="status status-ok">built in</span>}
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
          <dt>Kind</dt>
          <dd>{p.kind === "channel" ? "Channel (sends deliveries)" : p.kind === "filter" ? "Filter (decides matches)" : p.kind}</dd>
        </div>
      </dl>
      {p.description && <p>{p.description}</p>}
      <Section title={`Config schema of ${p.name}`} level={3}>
        <pre className="code schema-code">{JSON.stringify(p.config_schema, null, 2)}</pre>
      </Section>
    </li>
  );
}

export function PluginsPage() {
  const list = useQuery({ queryKey: qk.plugins, queryFn: ({ signal }) => pluginsApi.list(signal) });
  const items = list.data?.items ?? [];
  const channels = items.filter((p) => p.kind === "channel");
  const filters = items.filter((p) => p.kind !== "channel");
  return (
    <section aria-labelledby="plugins-h">
      <h1 id="plugins-h">Plugins</h1>
      <p className="muted">
        Channel plugins send deliveries; filter plugins decide whether a rule matches. Each runs sandboxed as WebAssembly.
        Operators install more from <code>.wasm</code> files (see the operator docs).
      </p>
      {list.isPending && <Loading />}
      {list.isError && <ErrorState error={list.error} onRetry={() => list.refetch()} />}
      {list.data && items.length === 0 && <EmptyState title="No plugins installed" />}
      {channels.length > 0 && (
        <>
          <h2>Channel plugins</h2>
          <ul className="plugin-list">
            {channels.map((p) => (
              <PluginCard key={`${p.id}@${p.version}`} p={p} />
            ))}
          </ul>
        </>
      )}
      {filters.length > 0 && (
        <>
          <h2>Filter plugins</h2>
          <ul className="plugin-list">
            {filters.map((p) => (
              <PluginCard key={`${p.id}@${p.version}`} p={p} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
