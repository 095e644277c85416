//! Rules (SPEC §6): which messages go to which channel, and what is sent.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The built-in filter every rule's `filter` is evaluated by.
pub const STANDARD_FILTER: &str = "standard-filter";

/// A stored rule, its JSON parts parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub enabled: bool,
    pub channel_id: String,
    /// The standard filter's config.
    pub filter: Value,
    pub extra_filters: Vec<ExtraFilter>,
    /// A JSON object whose strings may hold `{{path}}` placeholders.
    pub payload_template: Value,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Rule {
    /// (plugin id, pinned version, config JSON) in evaluation order, the
    /// standard filter (built in, never pinned) first.
    pub fn filter_steps(&self) -> Vec<(String, Option<String>, String)> {
        let mut steps = vec![(STANDARD_FILTER.to_string(), None, self.filter.to_string())];
        steps.extend(self.extra_filters.iter().map(|extra| {
            (
                extra.plugin.clone(),
                extra.version.clone(),
                extra.config.to_string(),
            )
        }));
        steps
    }
}

/// A further filter plugin a rule runs after the standard filter.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ExtraFilter {
    /// Id of an installed filter plugin.
    pub plugin: String,
    /// The pinned version of that plugin; absent or null follows the newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[schema(value_type = Object)]
    pub config: Value,
}

/// The outcome of matching one rule against one message.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Verdict {
    pub rule_id: String,
    pub rule_name: String,
    pub matched: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why a filter decided as it did, when it said (e.g. a dedupe filter
    /// naming the duplicate it suppressed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
