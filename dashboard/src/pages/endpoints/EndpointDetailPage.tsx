import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { ApiError } from "../../api/client";
import { endpointsApi, pluginsApi, qk } from "../../api/endpoints";
import { CopyValue } from "../../components/CopyButton";
import { ErrorState, Loading } from "../../components/bits";
import { formatDateTime, ingestUrlFor } from "../../lib/format";
import { AdapterSection } from "./AdapterSection";
import { endpointStatus } from "./EndpointsPage";

/** Stands in for the key in the URL forms shown: the key itself is shown only once, when the endpoint is created. */
const KEY_PLACEHOLDER = "<ingest key>";

/** One endpoint: its state, how senders reach it (URL, key as a header or in the query), and its adapter. */
export function EndpointDetailPage() {
  const { id = "" } = useParams();
  const queryClient = useQueryClient();
  const endpoint = useQuery({ queryKey: qk.endpoint(id), queryFn: ({ signal }) => endpointsApi.get(id, signal) });
  const plugins = useQuery({ queryKey: qk.plugins, queryFn: ({ signal }) => pluginsApi.list(signal), staleTime: 60_000 });

  if (endpoint.isPending || plugins.isPending) return <Loading />;
  if (endpoint.isError) {
    if (endpoint.error instanceof ApiError && endpoint.error.status === 404) {
      return (
        <section>
          <h1>Endpoint not found</h1>
          <p>
            It may have been deleted with its account, or it belongs to someone else. <Link to="/endpoints">Back to endpoints</Link>
          </p>
        </section>
      );
    }
    return <ErrorState error={endpoint.error} onRetry={() => endpoint.refetch()} />;
  }
  if (plugins.isError) return <ErrorState error={plugins.error} onRetry={() => plugins.refetch()} />;
  const e = endpoint.data;
  const st = endpointStatus(e);
  const url = ingestUrlFor(e.id);

  return (
    <section aria-labelledby="endpoint-h" className="endpoint-detail">
      <div className="narrow">
        <p>
          <Link to="/endpoints">← Endpoints</Link>
        </p>
        <div className="page-head">
          <h1 id="endpoint-h" className="break">
            {e.name}
          </h1>
          <span className={`status ${st.cls}`}>{st.label}</span>
        </div>
        {(e.revoked_at || e.archived_at) && (
          <p className="form-error" role="alert">
            This endpoint is {e.archived_at ? "archived" : "revoked"}: its key no longer works, so every request is refused
            with 401.
          </p>
        )}
        <dl className="fields">
          <div>
            <dt>Created</dt>
            <dd>{formatDateTime(e.created_at)}</dd>
          </div>
          <div>
            <dt>Last used</dt>
            <dd>{e.last_used_at ? formatDateTime(e.last_used_at) : "never"}</dd>
          </div>
          <div>
            <dt>Messages</dt>
            <dd>
              <Link to={`/messages?endpoint_id=${encodeURIComponent(e.id)}`}>Messages from {e.name}</Link>
            </dd>
          </div>
        </dl>

        <h2>Sending to it</h2>
        <div className="stack">
          <p className="muted">
            POST to the ingest URL with the endpoint's key. The key was shown once, when the endpoint was created: put it
            where these say {KEY_PLACEHOLDER}.
          </p>
          <CopyValue label="Ingest URL" value={url} />
          <CopyValue label="Key as a header" value={`Authorization: Bearer ${KEY_PLACEHOLDER}`} />
          <CopyValue label="URL with the key" value={`${url}?key=${KEY_PLACEHOLDER}`} />
          <p className="hint">
            The last form is for senders that can set no header, such as GitHub webhooks (the server stores the URL with the
            key redacted). <code>X-Beacon-Ingest-Key: {KEY_PLACEHOLDER}</code> works as a header too.
          </p>
        </div>
      </div>

      <AdapterSection
        endpoint={e}
        plugins={plugins.data.items}
        onSaved={(updated) => {
          queryClient.setQueryData(qk.endpoint(e.id), updated);
          void queryClient.invalidateQueries({ queryKey: qk.endpointsAll });
          // Who uses which adapter plugin changed.
          void queryClient.invalidateQueries({ queryKey: qk.plugins });
        }}
      />
    </section>
  );
}
