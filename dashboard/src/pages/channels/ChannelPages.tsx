import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { ApiError } from "../../api/client";
import { channelsApi, pluginsApi, qk } from "../../api/endpoints";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorState, Loading } from "../../components/bits";
import { UNVERIFIED_HINT, useCanCreate } from "../../components/VerifyBanner";
import { formatDateTime } from "../../lib/format";
import { ChannelForm } from "./ChannelForm";
import { ChannelVersion, isBroken } from "./ChannelVersion";
import { TestSendButton } from "./TestSendButton";

function usePlugins() {
  return useQuery({ queryKey: qk.plugins, queryFn: ({ signal }) => pluginsApi.list(signal), staleTime: 60_000 });
}

export function NewChannelPage() {
  const canCreate = useCanCreate();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const plugins = usePlugins();
  const channelPlugins = plugins.data?.items.filter((p) => p.kind === "channel") ?? [];

  return (
    <section aria-labelledby="new-channel-h" className="narrow">
      <p>
        <Link to="/channels">← Channels</Link>
      </p>
      <h1 id="new-channel-h">New channel</h1>
      {!canCreate && (
        <p className="form-error" role="alert">
          {UNVERIFIED_HINT}
        </p>
      )}
      {plugins.isPending && <Loading label="Loading plugins…" />}
      {plugins.isError && <ErrorState error={plugins.error} onRetry={() => plugins.refetch()} />}
      {plugins.data && (
        <ChannelForm
          plugins={channelPlugins}
          canSubmit={canCreate}
          onSubmit={async (values) => {
            const created = await channelsApi.create(values);
            queryClient.setQueryData(qk.channel(created.id), created);
            void queryClient.invalidateQueries({ queryKey: qk.channels });
            navigate(`/channels/${encodeURIComponent(created.id)}`, { state: { created: true } });
          }}
        />
      )}
    </section>
  );
}

export function ChannelDetailPage() {
  const { id = "" } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const plugins = usePlugins();
  const channel = useQuery({ queryKey: qk.channel(id), queryFn: ({ signal }) => channelsApi.get(id, signal) });
  const [notice, setNotice] = useState<string | undefined>(() =>
    (location.state as { created?: boolean } | null)?.created
      ? "Channel created. Send a test notification to check the settings, then create a rule that uses it."
      : undefined,
  );

  if (channel.isPending || plugins.isPending) return <Loading />;
  if (channel.isError) {
    if (channel.error instanceof ApiError && channel.error.status === 404) {
      return (
        <section>
          <h1>Channel not found</h1>
          <p>
            It may have been deleted. <Link to="/channels">Back to channels</Link>
          </p>
        </section>
      );
    }
    return <ErrorState error={channel.error} onRetry={() => channel.refetch()} />;
  }
  if (plugins.isError) return <ErrorState error={plugins.error} onRetry={() => plugins.refetch()} />;
  const c = channel.data;
  const channelPlugins = plugins.data.items.filter((p) => p.kind === "channel");

  return (
    <section aria-labelledby="channel-h" className="narrow">
      <p>
        <Link to="/channels">← Channels</Link>
      </p>
      <div className="page-head">
        <h1 id="channel-h" className="break">
          {c.name}
        </h1>
        <ConfirmDialog
          trigger={
            <button type="button" className="btn btn-danger-outline">
              Delete channel
            </button>
          }
          title={`Delete “${c.name}”?`}
          description="Rules that send to this channel are deleted with it. Past deliveries stay in the history. This cannot be undone."
          confirmLabel="Delete channel"
          destructive
          onConfirm={async () => {
            await channelsApi.remove(c.id);
            queryClient.removeQueries({ queryKey: qk.channel(c.id) });
            await Promise.all([
              queryClient.invalidateQueries({ queryKey: qk.channels }),
              queryClient.invalidateQueries({ queryKey: qk.rules }),
            ]);
            navigate("/channels", { replace: true });
          }}
        />
      </div>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {isBroken(c) && (
        <p className="form-error broken-notice" role="alert" data-testid="channel-broken">
          <strong>Broken: plugin version not installed.</strong>{" "}
          {c.plugin_version
            ? `It is pinned to ${c.plugin} ${c.plugin_version}, which is not installed.`
            : `The plugin ${c.plugin} is not installed.`}{" "}
          Its deliveries wait with an error until {c.plugin_version ? "that version is installed again or you pin another one below" : "an operator installs it"}.
        </p>
      )}
      <div className="card test-card">
        <h2>Test</h2>
        <p className="muted">Sends a sample notification through this channel now, using the saved settings.</p>
        <TestSendButton channelId={c.id} channelName={c.name} />
      </div>
      <h2>Settings</h2>
      <p className="muted">
        Created {formatDateTime(c.created_at)} · updated {formatDateTime(c.updated_at)}
      </p>
      {c.running_version !== undefined && (
        <p data-testid="channel-version">
          <ChannelVersion channel={c} />
        </p>
      )}
      <ChannelForm
        key={c.updated_at}
        plugins={channelPlugins}
        channel={c}
        onSubmit={async (values) => {
          const updated = await channelsApi.update(c.id, {
            name: values.name,
            enabled: values.enabled,
            config: values.config,
            ...(values.plugin_version !== undefined ? { plugin_version: values.plugin_version } : {}),
          });
          queryClient.setQueryData(qk.channel(c.id), updated);
          void queryClient.invalidateQueries({ queryKey: qk.channels });
          setNotice("Changes saved.");
        }}
      />
    </section>
  );
}
