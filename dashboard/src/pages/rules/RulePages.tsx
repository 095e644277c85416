import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { ApiError } from "../../api/client";
import { channelsApi, endpointsApi, pluginsApi, qk, rulesApi } from "../../api/endpoints";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorState, Loading } from "../../components/bits";
import { UNVERIFIED_HINT, useCanCreate } from "../../components/VerifyBanner";
import { RuleEditor } from "./RuleEditor";
import { emptyDraft, ruleToDraft } from "./ruleDraft";

/** Channels, endpoints (archived too: old rules may name them) and plugins the editor needs. */
function useEditorData() {
  const channels = useQuery({ queryKey: qk.channels, queryFn: ({ signal }) => channelsApi.list(signal) });
  const endpoints = useQuery({ queryKey: qk.endpoints(true), queryFn: () => endpointsApi.list(true) });
  const plugins = useQuery({ queryKey: qk.plugins, queryFn: ({ signal }) => pluginsApi.list(signal), staleTime: 60_000 });
  const all = [channels, endpoints, plugins];
  return {
    pending: all.some((q) => q.isPending),
    error: all.find((q) => q.isError),
    channels: channels.data?.items ?? [],
    // Revoked/archived endpoints stay selectable only when a rule already names them.
    endpoints: endpoints.data?.items ?? [],
    plugins: plugins.data?.items ?? [],
  };
}

export function NewRulePage() {
  const canCreate = useCanCreate();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const data = useEditorData();

  return (
    <section aria-labelledby="new-rule-h">
      <p>
        <Link to="/rules">← Rules</Link>
      </p>
      <h1 id="new-rule-h">New rule</h1>
      {!canCreate && (
        <p className="form-error" role="alert">
          {UNVERIFIED_HINT}
        </p>
      )}
      {data.pending && <Loading />}
      {data.error && <ErrorState error={data.error.error} onRetry={() => data.error?.refetch()} />}
      {!data.pending && !data.error && (
        <RuleEditor
          initial={emptyDraft(data.channels.length === 1 ? data.channels[0].id : "")}
          channels={data.channels}
          endpoints={data.endpoints.filter((e) => !e.archived_at)}
          plugins={data.plugins}
          canSubmit={canCreate}
          onSubmit={async (input) => {
            const created = await rulesApi.create(input);
            queryClient.setQueryData(qk.rule(created.id), created);
            void queryClient.invalidateQueries({ queryKey: qk.rules });
            navigate(`/rules/${encodeURIComponent(created.id)}`, { state: { created: true } });
          }}
        />
      )}
    </section>
  );
}

export function RuleDetailPage() {
  const { id = "" } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const data = useEditorData();
  const rule = useQuery({ queryKey: qk.rule(id), queryFn: ({ signal }) => rulesApi.get(id, signal) });
  const [notice, setNotice] = useState<string | undefined>(() =>
    (location.state as { created?: boolean } | null)?.created
      ? "Rule created. Messages that match from now on are delivered to its channel."
      : undefined,
  );

  if (rule.isPending || data.pending) return <Loading />;
  if (rule.isError) {
    if (rule.error instanceof ApiError && rule.error.status === 404) {
      return (
        <section>
          <h1>Rule not found</h1>
          <p>
            It may have been deleted. <Link to="/rules">Back to rules</Link>
          </p>
        </section>
      );
    }
    return <ErrorState error={rule.error} onRetry={() => rule.refetch()} />;
  }
  if (data.error) return <ErrorState error={data.error.error} onRetry={() => data.error?.refetch()} />;
  const r = rule.data;
  const named = new Set(r.filter?.ingest_endpoint_ids ?? []);

  return (
    <section aria-labelledby="rule-h">
      <p>
        <Link to="/rules">← Rules</Link>
      </p>
      <div className="page-head">
        <h1 id="rule-h" className="break">
          {r.name}
        </h1>
        <ConfirmDialog
          trigger={
            <button type="button" className="btn btn-danger-outline">
              Delete rule
            </button>
          }
          title={`Delete “${r.name}”?`}
          description="Messages stop being delivered by this rule. Past deliveries stay in the history. This cannot be undone."
          confirmLabel="Delete rule"
          destructive
          onConfirm={async () => {
            await rulesApi.remove(r.id);
            queryClient.removeQueries({ queryKey: qk.rule(r.id) });
            await queryClient.invalidateQueries({ queryKey: qk.rules });
            navigate("/rules", { replace: true });
          }}
        />
      </div>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <RuleEditor
        key={r.updated_at}
        ruleId={r.id}
        initial={ruleToDraft(r)}
        channels={data.channels}
        endpoints={data.endpoints.filter((e) => !e.archived_at || named.has(e.id))}
        plugins={data.plugins}
        onSubmit={async (input) => {
          const updated = await rulesApi.replace(r.id, input);
          queryClient.setQueryData(qk.rule(r.id), updated);
          void queryClient.invalidateQueries({ queryKey: qk.rules });
          setNotice("Changes saved.");
        }}
      />
    </section>
  );
}
