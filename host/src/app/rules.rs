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
use crate::plugins::runtime::{FilterSession, PluginError, PluginKind};
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

/// Matching proper; blocks (runs Wasm). Step by step (the standard filter
/// first, then each extra filter), the rules still in the running are grouped
/// by plugin and evaluated in one call per plugin on one instance per plugin,
/// so the message crosses into Wasm once per plugin and step. Rules stay
/// independent: when a batch traps or times out, its rules are re-run one by
/// one on fresh instances so only the rule whose config breaks the filter fails.
pub fn evaluate_blocking(
    plugins: &Registry,
    rules: &[ActiveRule],
    message: &Message,
) -> Vec<Verdict> {
    let mut verdicts: Vec<Verdict> = rules
        .iter()
        .map(|rule| Verdict {
            rule_id: rule.row.id.clone(),
            rule_name: rule.row.name.clone(),
            matched: true,
            error: None,
        })
        .collect();
    let mut sessions: HashMap<String, FilterSession> = HashMap::new();
    let steps = rules.iter().map(|rule| rule.steps.len()).max().unwrap_or(0);
    for step in 0..steps {
        // Plugin id → the rules (indexes) that need it at this step, in rule order.
        let mut batches: Vec<(&str, Vec<usize>)> = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            let Some((plugin_id, _)) = rule.steps.get(step) else {
                continue;
            };
            if !verdicts[index].matched {
                continue;
            }
            match batches.iter_mut().find(|(id, _)| id == plugin_id) {
                Some((_, indexes)) => indexes.push(index),
                None => batches.push((plugin_id, vec![index])),
            }
        }
        for (plugin_id, indexes) in batches {
            let configs: Vec<String> = indexes
                .iter()
                .map(|&index| rules[index].steps[step].1.clone())
                .collect();
            let results = run_batch(plugins, &mut sessions, plugin_id, &configs, message);
            for (index, result) in indexes.into_iter().zip(results) {
                let verdict = &mut verdicts[index];
                match result {
                    Ok(true) => {}
                    Ok(false) => verdict.matched = false,
                    Err(error) => {
                        verdict.matched = false;
                        verdict.error = Some(format!("{plugin_id}: {error}"));
                    }
                }
            }
        }
    }
    verdicts
}

/// One verdict per config: `Ok(matched)` or the reason the filter could not decide.
fn run_batch(
    plugins: &Registry,
    sessions: &mut HashMap<String, FilterSession>,
    plugin_id: &str,
    configs: &[String],
    message: &Message,
) -> Vec<Result<bool, String>> {
    let batch = session_for(plugins, sessions, plugin_id).and_then(|session| {
        session
            .evaluate_many(configs, message)
            .map_err(Failure::Plugin)
    });
    match batch {
        Ok(verdicts) => verdicts
            .into_iter()
            .map(|verdict| verdict.map_err(|reason| format!("could not decide: {reason}")))
            .collect(),
        // A trap or timeout may come from one config: run each alone on a
        // fresh instance so only that rule fails (worst case: one deadline
        // for the batch plus one per config, as if they had run one by one).
        Err(Failure::Plugin(_)) if configs.len() > 1 => configs
            .iter()
            .map(|config| {
                run_batch(
                    plugins,
                    sessions,
                    plugin_id,
                    std::slice::from_ref(config),
                    message,
                )
                .pop()
                .unwrap_or_else(|| Err("no verdict".into()))
            })
            .collect(),
        Err(failure) => {
            let error = failure.to_string();
            configs.iter().map(|_| Err(error.clone())).collect()
        }
    }
}

enum Failure {
    Missing(String),
    Plugin(PluginError),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Missing(text) => f.write_str(text),
            Failure::Plugin(err) => write!(f, "{err}"),
        }
    }
}

/// The message's live instance of `plugin_id`, replaced when an earlier call broke it.
fn session_for<'a>(
    plugins: &Registry,
    sessions: &'a mut HashMap<String, FilterSession>,
    plugin_id: &str,
) -> Result<&'a mut FilterSession, Failure> {
    if sessions.get(plugin_id).is_none_or(FilterSession::is_broken) {
        let plugin = plugins.get(plugin_id).ok_or_else(|| {
            Failure::Missing(format!("filter plugin {plugin_id} is not installed"))
        })?;
        let session = plugins
            .runtime()
            .filter_session(&plugin)
            .map_err(Failure::Plugin)?;
        sessions.insert(plugin_id.to_string(), session);
    }
    sessions
        .get_mut(plugin_id)
        .ok_or_else(|| Failure::Missing("filter session vanished".into()))
}
