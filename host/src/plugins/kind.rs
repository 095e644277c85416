//! The two kinds of plugin, by the world a component implements.

/// A channel sender delivers messages; a filter decides whether a rule matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    Channel,
    Filter,
}

impl PluginKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Channel => "channel",
            PluginKind::Filter => "filter",
        }
    }
}
