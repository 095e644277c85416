//! Rules (SPEC §6): a filter (the standard filter's config plus optional extra
//! filter plugins, all of which must pass), a target channel and a payload
//! template. Matching runs the filters as Wasm; a filter that fails counts as
//! "not matched" and its error is kept for the user to see.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::plugins::registry::Registry;
use crate::plugins::runtime::{FilterSession, PluginKind};
use crate::plugins::Message;
use crate::storage::{new_id, now_ms, RuleRow, Store};

/// The built-in filter every rule's `filter` is evaluated by.
pub const STANDARD_FILTER: &str = "standard-filter";
/// Active rules are served from memory this long; changes in this process
/// take effect at once, changes made by other processes within this time.
const CACHE_TTL: Duration = Duration::from_secs(5);
const MAX_NAME_CHARS: usize = 100;
const MAX_EXTRA_FILTERS: usize = 8;

/// What a client sends to create or replace a rule.
#[derive(Clone, Debug)]
pub struct RuleInput {
    pub name: String,
    pub enabled: bool,
    pub channel_id: String,
    pub filter: Value,
    pub extra_filters: Vec<ExtraFilter>,
    pub payload_template: Value,
}

#[derive(Clone, Debug, serde::Deserialize, Serialize, utoipa::ToSchema)]
pub struct ExtraFilter {
    /// Id of an installed filter plugin.
    pub plugin: String,
    #[schema(value_type = Object)]
    pub config: Value,
}

/// A rule ready for matching: JSON texts prepared once, not per message.
#[derive(Clone, Debug)]
pub struct ActiveRule {
    pub row: RuleRow,
    /// (plugin id, config JSON) in evaluation order, the standard filter first.
    steps: Vec<(String, String)>,
    pub template: Value,
}

/// The outcome of matching one rule against one message.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub rule_id: String,
    pub rule_name: String,
    pub matched: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A user's active rules and when they were read.
type CachedRules = (Arc<Vec<ActiveRule>>, Instant);

#[derive(Clone)]
pub struct Rules {
    store: Store,
    plugins: Arc<Registry>,
    cache: Arc<RwLock<HashMap<String, CachedRules>>>,
}

impl Rules {
    pub fn new(store: Store, plugins: Arc<Registry>) -> Self {
        Rules {
            store,
            plugins,
            cache: Arc::default(),
        }
    }

    pub async fn create(&self, user_id: &str, input: RuleInput) -> AppResult<RuleRow> {
        let now = now_ms();
        let mut row = self.validated(user_id, input).await?;
        row.id = new_id();
        row.created_at = now;
        row.updated_at = now;
        self.store.insert_rule(&row).await?;
        self.forget_user(user_id);
        Ok(row)
    }

    pub async fn replace(&self, user_id: &str, id: &str, input: RuleInput) -> AppResult<RuleRow> {
        let existing = self
            .store
            .rule_for_user(user_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut row = self.validated(user_id, input).await?;
        row.id = existing.id;
        row.created_at = existing.created_at;
        row.updated_at = now_ms();
        if !self.store.update_rule(&row).await? {
            return Err(AppError::NotFound);
        }
        self.forget_user(user_id);
        Ok(row)
    }

    /// Validates an unsaved rule exactly like `create` would, without storing it.
    pub async fn draft(&self, user_id: &str, input: RuleInput) -> AppResult<RuleRow> {
        let mut row = self.validated(user_id, input).await?;
        row.id = String::new();
        Ok(row)
    }

    pub async fn delete(&self, user_id: &str, id: &str) -> AppResult<()> {
        if !self.store.delete_rule(user_id, id).await? {
            return Err(AppError::NotFound);
        }
        self.forget_user(user_id);
        Ok(())
    }

    /// Drops the user's cached rules (after rule or channel changes).
    pub fn forget_user(&self, user_id: &str) {
        if let Ok(mut cache) = self.cache.write() {
            cache.remove(user_id);
        }
    }

    /// The user's enabled rules with enabled channels, cached briefly.
    pub async fn active(&self, user_id: &str) -> AppResult<Arc<Vec<ActiveRule>>> {
        if let Ok(cache) = self.cache.read() {
            if let Some((rules, at)) = cache.get(user_id) {
                if at.elapsed() < CACHE_TTL {
                    return Ok(rules.clone());
                }
            }
        }
        let rows = self.store.active_rules(user_id).await?;
        let rules = Arc::new(
            rows.into_iter()
                .filter_map(|row| prepare(row).ok())
                .collect::<Vec<_>>(),
        );
        if let Ok(mut cache) = self.cache.write() {
            if cache.len() > 50_000 {
                cache.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            }
            cache.insert(user_id.to_string(), (rules.clone(), Instant::now()));
        }
        Ok(rules)
    }

    /// Evaluates every rule against a message, off the async threads. One
    /// filter instance per plugin serves all of this message's rules.
    pub async fn evaluate(
        &self,
        rules: Arc<Vec<ActiveRule>>,
        message: Message,
    ) -> AppResult<Vec<Verdict>> {
        let plugins = self.plugins.clone();
        tokio::task::spawn_blocking(move || evaluate_blocking(&plugins, &rules, &message))
            .await
            .map_err(AppError::internal)
    }

    /// Checks every part of a rule; errors name the JSON path at fault.
    async fn validated(&self, user_id: &str, input: RuleInput) -> AppResult<RuleRow> {
        let name = input.name.trim().to_string();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(AppError::validation(
                "name",
                format!("must be 1 to {MAX_NAME_CHARS} characters"),
            ));
        }
        let channel_id = crate::ingest::canonical_id(&input.channel_id).unwrap_or_default();
        if self
            .store
            .channel_for_user(user_id, &channel_id)
            .await?
            .is_none()
        {
            return Err(AppError::validation("channel_id", "no such channel"));
        }
        if !input.payload_template.is_object() {
            return Err(AppError::validation(
                "payload_template",
                "must be a JSON object",
            ));
        }
        if input.extra_filters.len() > MAX_EXTRA_FILTERS {
            return Err(AppError::validation(
                "extra_filters",
                format!("at most {MAX_EXTRA_FILTERS} extra filters"),
            ));
        }
        let mut checks = vec![(
            STANDARD_FILTER.to_string(),
            input.filter.clone(),
            "filter".to_string(),
            "filter".to_string(),
        )];
        for (i, extra) in input.extra_filters.iter().enumerate() {
            checks.push((
                extra.plugin.clone(),
                extra.config.clone(),
                format!("extra_filters[{i}].plugin"),
                format!("extra_filters[{i}].config"),
            ));
        }
        for (plugin_id, config, plugin_field, config_field) in checks {
            self.check_filter(&plugin_id, config, &plugin_field, &config_field)
                .await?;
        }
        Ok(RuleRow {
            id: String::new(),
            user_id: user_id.to_string(),
            name,
            enabled: i64::from(input.enabled),
            channel_id,
            filter: input.filter.to_string(),
            extra_filters: serde_json::to_string(&input.extra_filters)
                .map_err(AppError::internal)?,
            payload_template: input.payload_template.to_string(),
            created_at: 0,
            updated_at: 0,
        })
    }

    async fn check_filter(
        &self,
        plugin_id: &str,
        config: Value,
        plugin_field: &str,
        config_field: &str,
    ) -> AppResult<()> {
        let plugin = match self.plugins.get(plugin_id) {
            Some(plugin) if plugin.info.kind == PluginKind::Filter => plugin,
            Some(_) => {
                return Err(AppError::validation(
                    plugin_field,
                    format!("{plugin_id} is not a filter plugin"),
                ))
            }
            None => {
                return Err(AppError::validation(
                    plugin_field,
                    format!("no filter plugin {plugin_id:?} is installed"),
                ))
            }
        };
        if !config.is_object() {
            return Err(AppError::validation(config_field, "must be a JSON object"));
        }
        let (plugins, text) = (self.plugins.clone(), config.to_string());
        let verdict =
            tokio::task::spawn_blocking(move || plugins.runtime().validate_config(&plugin, &text))
                .await
                .map_err(AppError::internal)?;
        match verdict {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) if err.field.is_empty() => {
                Err(AppError::validation(config_field, err.message))
            }
            Ok(Err(err)) => Err(AppError::validation(
                format!("{config_field}.{}", err.field),
                err.message,
            )),
            Err(err) => Err(AppError::validation(
                config_field,
                format!("the filter failed while checking its config: {err}"),
            )),
        }
    }
}

/// Prepares a stored rule for matching.
pub fn prepare(row: RuleRow) -> Result<ActiveRule, serde_json::Error> {
    let extras: Vec<ExtraFilter> = serde_json::from_str(&row.extra_filters)?;
    let template = serde_json::from_str(&row.payload_template)?;
    let mut steps = vec![(STANDARD_FILTER.to_string(), row.filter.clone())];
    steps.extend(
        extras
            .into_iter()
            .map(|extra| (extra.plugin, extra.config.to_string())),
    );
    Ok(ActiveRule {
        row,
        steps,
        template,
    })
}

/// Matching proper; blocks (runs Wasm). Rules are independent: one failing
/// filter only affects its own rule.
pub fn evaluate_blocking(
    plugins: &Registry,
    rules: &[ActiveRule],
    message: &Message,
) -> Vec<Verdict> {
    let mut sessions: HashMap<String, FilterSession> = HashMap::new();
    rules
        .iter()
        .map(|rule| {
            let mut verdict = Verdict {
                rule_id: rule.row.id.clone(),
                rule_name: rule.row.name.clone(),
                matched: true,
                error: None,
            };
            for (plugin_id, config) in &rule.steps {
                match run_step(plugins, &mut sessions, plugin_id, config, message) {
                    Ok(true) => continue,
                    Ok(false) => verdict.matched = false,
                    Err(error) => {
                        verdict.matched = false;
                        verdict.error = Some(format!("{plugin_id}: {error}"));
                    }
                }
                break;
            }
            verdict
        })
        .collect()
}

fn run_step(
    plugins: &Registry,
    sessions: &mut HashMap<String, FilterSession>,
    plugin_id: &str,
    config: &str,
    message: &Message,
) -> Result<bool, String> {
    if sessions.get(plugin_id).is_none_or(FilterSession::is_broken) {
        let plugin = plugins
            .get(plugin_id)
            .ok_or_else(|| format!("filter plugin {plugin_id} is not installed"))?;
        let session = plugins
            .runtime()
            .filter_session(&plugin)
            .map_err(|err| err.to_string())?;
        sessions.insert(plugin_id.to_string(), session);
    }
    let session = sessions
        .get_mut(plugin_id)
        .ok_or("filter session vanished")?;
    match session.evaluate(config, message) {
        Ok(Ok(matched)) => Ok(matched),
        Ok(Err(reason)) => Err(format!("could not decide: {reason}")),
        Err(err) => Err(err.to_string()),
    }
}
