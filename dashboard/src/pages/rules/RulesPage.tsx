import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useNavigate } from "react-router";
import { errorWithField } from "../../api/client";
import { channelsApi, endpointsApi, qk, rulesApi } from "../../api/endpoints";
import type { Endpoint } from "../../api/types";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { EmptyState, ErrorState, Loading } from "../../components/bits";
import { Section } from "../../components/Section";
import { UNVERIFIED_HINT, useCanCreate } from "../../components/VerifyBanner";
import { formatDateTime } from "../../lib/format";
import { DEFAULT_SAMPLE, describeFilter, parseSample } from "./ruleDraft";
import { SampleInput, ServerResults } from "./RuleTest";

export function RulesPage() {
  const canCreate = useCanCreate();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const list = useQuery({ queryKey: qk.rules, queryFn: ({ signal }) => rulesApi.list(signal) });
  const channels = useQuery({ queryKey: qk.channels, queryFn: ({ signal }) => channelsApi.list(signal) });
  const endpoints = useQuery({ queryKey: qk.endpoints(true), queryFn: () => endpointsApi.list(true) });
  const channelName = (id: string) => channels.data?.items.find((c) => c.id === id)?.name;
  const endpointName = (id: string) => endpoints.data?.items.find((e) => e.id === id)?.name ?? id;

  return (
    <section aria-labelledby="rules-h">
      <div className="page-head">
        <h1 id="rules-h">Rules</h1>
        <button
          type="button"
          className="btn btn-primary"
          disabled={!canCreate}
          title={canCreate ? undefined : UNVERIFIED_HINT}
          onClick={() => navigate("/rules/new")}
        >
          New rule
        </button>
      </div>
      <p className="muted">
        Every enabled rule whose filter passes sends the message to its channel, shaped by its payload template.
      </p>

      {list.isPending && <Loading />}
      {list.isError && <ErrorState error={list.error} onRetry={() => list.refetch()} />}
      {list.data && list.data.items.length === 0 && (
        <EmptyState title="No rules yet">
          <p>
            A rule picks messages (by endpoint, text, priority, tags or group) and sends them to a channel.
            {channels.data?.items.length === 0 && (
              <>
                {" "}
                You will need a <Link to="/channels/new">channel</Link> first.
              </>
            )}
          </p>
        </EmptyState>
      )}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table responsive">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Channel</th>
                <th scope="col">Status</th>
                <th scope="col">Matches</th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((r) => {
                const ch = channelName(r.channel_id);
                return (
                  <tr key={r.id}>
                    <td data-label="Name" className="strong break">
                      <Link to={`/rules/${encodeURIComponent(r.id)}`}>{r.name}</Link>
                    </td>
                    <td data-label="Channel">
                      {ch ? <Link to={`/channels/${encodeURIComponent(r.channel_id)}`}>{ch}</Link> : <span className="muted">—</span>}
                    </td>
                    <td data-label="Status">
                      <span className={`status ${r.enabled ? "status-ok" : "status-muted"}`}>{r.enabled ? "enabled" : "disabled"}</span>
                    </td>
                    <td data-label="Matches" className="break">
                      {describeFilter(r.filter, endpointName)}
                      {r.extra_filters.length > 0 && (
                        <span className="muted">
                          {" "}
                          + {r.extra_filters.map((x) => (x.version ? `${x.plugin} ${x.version} (pinned)` : x.plugin)).join(", ")}
                        </span>
                      )}
                    </td>
                    <td data-label="Updated">{formatDateTime(r.updated_at)}</td>
                    <td className="actions">
                      <Link to={`/rules/${encodeURIComponent(r.id)}`} className="btn btn-small" aria-label={`Edit ${r.name}`}>
                        Edit
                      </Link>
                      <ConfirmDialog
                        trigger={
                          <button type="button" className="btn btn-small btn-danger-outline" aria-label={`Delete ${r.name}`}>
                            Delete
                          </button>
                        }
                        title={`Delete “${r.name}”?`}
                        description="Messages stop being delivered by this rule. Past deliveries stay in the history. This cannot be undone."
                        confirmLabel="Delete rule"
                        destructive
                        onConfirm={async () => {
                          await rulesApi.remove(r.id);
                          await queryClient.invalidateQueries({ queryKey: qk.rules });
                        }}
                      />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {list.data && list.data.items.length > 0 && (
        <Section title="Test all rules against a sample message">
          <TestAllRules endpoints={endpoints.data?.items.filter((e) => !e.archived_at) ?? []} />
        </Section>
      )}
    </section>
  );
}

/** `POST /api/rules/test`: which saved rules match a sample, and what each would send. Nothing is sent. */
function TestAllRules({ endpoints }: { endpoints: Endpoint[] }) {
  const [text, setText] = useState(DEFAULT_SAMPLE);
  const [endpointId, setEndpointId] = useState("");
  const sample = useMemo(() => parseSample(text), [text]);
  const run = useMutation({
    mutationFn: () => {
      if (!sample.ok) throw new Error(sample.error);
      return rulesApi.testAll({ message: sample.raw, ingest_endpoint_id: endpointId || undefined });
    },
  });
  return (
    <div className="stack">
      <SampleInput
        text={text}
        onText={setText}
        endpointId={endpointId}
        onEndpoint={setEndpointId}
        endpoints={endpoints}
        error={sample.ok ? undefined : sample.error}
      />
      <div>
        <button type="button" className="btn btn-primary" onClick={() => run.mutate()} disabled={!sample.ok || run.isPending}>
          {run.isPending ? "Testing…" : "Run test"}
        </button>
      </div>
      <div role="status" aria-live="polite">
        {run.isError && <p className="field-error">{errorWithField(run.error)}</p>}
        {run.data && <ServerResults results={run.data.results} />}
      </div>
    </div>
  );
}
