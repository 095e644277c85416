import type { Channel } from "../../api/types";

/** The plugin (or its pinned version) is not installed: deliveries cannot run (`running_version` null; absent on older servers). */
export function isBroken(c: Channel): boolean {
  return c.running_version === null;
}

/** The badge a broken channel wears in lists. */
export function BrokenBadge() {
  return (
    <span className="status status-bad" data-testid="channel-broken-badge" title="Its deliveries wait with an error">
      broken: plugin version not installed
    </span>
  );
}

/** Which version of its plugin a channel runs and whether it is pinned: "0.2.0 (pinned)", "runs 0.2.0, follows the newest". */
export function ChannelVersion({ channel: c, short = false }: { channel: Channel; short?: boolean }) {
  const pinned = c.plugin_version ?? null;
  const running = c.running_version ?? null;
  if (short) {
    if (pinned) return <>{`${pinned} (pinned)`}</>;
    return <>{running ? `${running} (newest)` : ""}</>;
  }
  if (running === null) {
    return <>{pinned ? `Pinned to version ${pinned}, which is not installed.` : "Follows the newest version; the plugin is not installed."}</>;
  }
  return <>{pinned ? `Runs version ${running} (pinned).` : `Runs version ${running}; follows the newest (moves to each new version).`}</>;
}
