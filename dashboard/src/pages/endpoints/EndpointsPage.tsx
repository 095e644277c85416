import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { endpointsApi, qk } from "../../api/endpoints";
import type { Endpoint } from "../../api/types";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { CopyButton } from "../../components/CopyButton";
import { EmptyState, ErrorState, Loading } from "../../components/bits";
import { UNVERIFIED_HINT, useCanCreate } from "../../components/VerifyBanner";
import { formatDateTime, ingestUrlFor } from "../../lib/format";
import { CreateEndpointDialog } from "./CreateEndpointDialog";

export function endpointStatus(e: Endpoint): { label: string; cls: string } {
  if (e.archived_at) return { label: "archived", cls: "status-muted" };
  if (e.revoked_at) return { label: "revoked", cls: "status-bad" };
  return { label: "active", cls: "status-ok" };
}

export function EndpointsPage() {
  const canCreate = useCanCreate();
  const location = useLocation();
  const navigate = useNavigate();
  const [showArchived, setShowArchived] = useState(false);
  // Home's "new endpoint" quick action navigates here with {create: true}.
  const [createOpen, setCreateOpen] = useState(
    () => Boolean((location.state as { create?: boolean } | null)?.create) && canCreate,
  );
  const queryClient = useQueryClient();
  const list = useQuery({ queryKey: qk.endpoints(showArchived), queryFn: () => endpointsApi.list(showArchived) });
  const invalidate = () => queryClient.invalidateQueries({ queryKey: qk.endpointsAll });
  const revoke = useMutation({ mutationFn: endpointsApi.revoke, onSuccess: invalidate });
  const archive = useMutation({ mutationFn: endpointsApi.archive, onSuccess: invalidate });

  return (
    <section aria-labelledby="endpoints-h">
      <div className="page-head">
        <h1 id="endpoints-h">Ingest endpoints</h1>
        <button
          type="button"
          className="btn btn-primary"
          disabled={!canCreate}
          title={canCreate ? undefined : UNVERIFIED_HINT}
          onClick={() => setCreateOpen(true)}
        >
          New endpoint
        </button>
      </div>
      <CreateEndpointDialog
        open={createOpen}
        onOpenChange={(o) => {
          setCreateOpen(o);
          if (!o && location.state) navigate(location.pathname, { replace: true, state: null });
        }}
      />
      <label className="checkbox">
        <input type="checkbox" checked={showArchived} onChange={(e) => setShowArchived(e.target.checked)} /> Show
        archived endpoints
      </label>

      {list.isPending && <Loading />}
      {list.isError && <ErrorState error={list.error} onRetry={() => list.refetch()} />}
      {list.data && list.data.items.length === 0 && (
        <EmptyState title="No endpoints yet">
          <p>Create one to get a URL and key that scripts can POST messages to.</p>
        </EmptyState>
      )}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table responsive">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Adapter</th>
                <th scope="col">Ingest URL</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((e) => {
                const st = endpointStatus(e);
                const url = ingestUrlFor(e.id);
                return (
                  <tr key={e.id}>
                    <td data-label="Name" className="strong">
                      <Link to={`/endpoints/${encodeURIComponent(e.id)}`}>{e.name}</Link>
                    </td>
                    <td data-label="Status">
                      <span className={`status ${st.cls}`}>{st.label}</span>
                    </td>
                    <td data-label="Adapter">
                      {e.adapter ? (
                        <>
                          <code>{e.adapter.plugin}</code>
                          {e.adapter.running_version === null && (
                            <>
                              {" "}
                              <span className="status status-bad" title="Requests are refused until it is installed">
                                not installed
                              </span>
                            </>
                          )}
                        </>
                      ) : (
                        <span className="muted">none</span>
                      )}
                    </td>
                    <td data-label="Ingest URL" className="url-cell">
                      <code className="truncate" title={url}>
                        {url}
                      </code>{" "}
                      <CopyButton text={url} label="Copy URL" />
                    </td>
                    <td data-label="Created">{formatDateTime(e.created_at)}</td>
                    <td data-label="Last used">{e.last_used_at ? formatDateTime(e.last_used_at) : "never"}</td>
                    <td className="actions">
                      {!e.revoked_at && !e.archived_at && (
                        <ConfirmDialog
                          trigger={
                            <button type="button" className="btn btn-small btn-danger-outline">
                              Revoke
                            </button>
                          }
                          title={`Revoke “${e.name}”?`}
                          description="Requests with this endpoint's key will be refused from now on. Its messages stay. This cannot be undone."
                          confirmLabel="Revoke"
                          destructive
                          onConfirm={() => revoke.mutateAsync(e.id)}
                        />
                      )}
                      {!e.archived_at && (
                        <ConfirmDialog
                          trigger={
                            <button type="button" className="btn btn-small">
                              Archive
                            </button>
                          }
                          title={`Archive “${e.name}”?`}
                          description="Archived endpoints are hidden from lists and no longer accept messages. Their messages stay."
                          confirmLabel="Archive"
                          onConfirm={() => archive.mutateAsync(e.id)}
                        />
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
