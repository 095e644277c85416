-- Plugin versions side by side: a channel pins one (its version string) or
-- follows the newest installed (NULL). Expand-only: older processes ignore it.
ALTER TABLE channels ADD COLUMN plugin_version TEXT;
-- Plugin pages count the channels of each plugin version.
CREATE INDEX channels_by_plugin ON channels (plugin, plugin_version);
