import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { channelsApi, pluginsApi, qk } from "../../api/endpoints";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { EmptyState, ErrorState, Loading } from "../../components/bits";
import { UNVERIFIED_HINT, useCanCreate } from "../../components/VerifyBanner";
import { formatDateTime } from "../../lib/format";
import { BrokenBadge, ChannelVersion, isBroken } from "./ChannelVersion";
import { TestSendButton } from "./TestSendButton";

export function ChannelsPage() {
  const canCreate = useCanCreate();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const list = useQuery({ queryKey: qk.channels, queryFn: ({ signal }) => channelsApi.list(signal) });
  const plugins = useQuery({ queryKey: qk.plugins, queryFn: ({ signal }) => pluginsApi.list(signal), staleTime: 60_000 });
  const pluginName = (id: string) => plugins.data?.items.find((p) => p.id === id)?.name ?? id;

  return (
    <section aria-labelledby="channels-h">
      <div className="page-head">
        <h1 id="channels-h">Channels</h1>
        <button
          type="button"
          className="btn btn-primary"
          disabled={!canCreate}
          title={canCreate ? undefined : UNVERIFIED_HINT}
          onClick={() => navigate("/channels/new")}
        >
          New channel
        </button>
      </div>
      <p className="muted">A channel is where deliveries go: a plugin (such as Bark) plus its settings.</p>

      {list.isPending && <Loading />}
      {list.isError && <ErrorState error={list.error} onRetry={() => list.refetch()} />}
      {list.data && list.data.items.length === 0 && (
        <EmptyState title="No channels yet">
          <p>Create a channel, then a rule that sends matching messages to it.</p>
        </EmptyState>
      )}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table responsive">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Plugin</th>
                <th scope="col">Status</th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((c) => (
                <tr key={c.id}>
                  <td data-label="Name" className="strong break">
                    <Link to={`/channels/${encodeURIComponent(c.id)}`}>{c.name}</Link>
                  </td>
                  <td data-label="Plugin">
                    {pluginName(c.plugin)}
                    {c.running_version !== undefined && (
                      <>
                        {" "}
                        <span className="muted nowrap">
                          <ChannelVersion channel={c} short />
                        </span>
                      </>
                    )}
                  </td>
                  <td data-label="Status">
                    <span className={`status ${c.enabled ? "status-ok" : "status-muted"}`}>
                      {c.enabled ? "enabled" : "disabled"}
                    </span>
                    {isBroken(c) && (
                      <>
                        {" "}
                        <BrokenBadge />
                      </>
                    )}
                  </td>
                  <td data-label="Updated">{formatDateTime(c.updated_at)}</td>
                  <td className="actions">
                    <TestSendButton channelId={c.id} channelName={c.name} compact />
                    <Link to={`/channels/${encodeURIComponent(c.id)}`} className="btn btn-small" aria-label={`Edit ${c.name}`}>
                      Edit
                    </Link>
                    <ConfirmDialog
                      trigger={
                        <button type="button" className="btn btn-small btn-danger-outline" aria-label={`Delete ${c.name}`}>
                          Delete
                        </button>
                      }
                      title={`Delete “${c.name}”?`}
                      description="Rules that send to this channel are deleted with it. Past deliveries stay in the history. This cannot be undone."
                      confirmLabel="Delete channel"
                      destructive
                      onConfirm={async () => {
                        await channelsApi.remove(c.id);
                        await Promise.all([
                          queryClient.invalidateQueries({ queryKey: qk.channels }),
                          queryClient.invalidateQueries({ queryKey: qk.rules }),
                        ]);
                      }}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
