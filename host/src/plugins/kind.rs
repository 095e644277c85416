//! The three kinds of plugin, by the world a component implements.

/// A channel sender delivers messages; a filter decides whether a rule
/// matches; an adapter turns an inbound webhook request into messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    Channel,
    Filter,
    Adapter,
}

impl PluginKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Channel => "channel",
            PluginKind::Filter => "filter",
            PluginKind::Adapter => "adapter",
        }
    }
}
