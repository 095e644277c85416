//! Rules (SPEC §6): a filter (the standard filter's config plus optional extra
//! filter plugins, all of which must pass), a target channel and a payload
//! template. Matching runs the filters as Wasm; a filter that fails counts as
//! "not matched" and its error is kept for the user to see.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::app::plugins::unknown_version;
use crate::domain::rule::STANDARD_FILTER;
use crate::domain::template::{render, TemplateContext};
use crate::domain::{
    canonical_id, new_id, new_id_with_time, now_ms, BodyKind, ExtraFilter, Message, RequestFacts,
    Rule, Verdict,
};
use crate::error::{AppError, AppResult, OrInternal};
use crate::plugins::kv::{KvBackend, KvBucket, MemoryKv};
use crate::plugins::registry::Registry;
use crate::plugins::runtime::{FilterSession, PluginError, PluginKind, Verdict as FilterVerdict};
use crate::plugins::{wit_message, WitMessage};
use crate::storage::Store;
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

/// A rule ready for matching: JSON texts and state buckets prepared once,
/// not per message.
#[derive(Clone, Debug)]
pub struct ActiveRule {
    pub rule: Rule,
    /// In evaluation order, the standard filter first.
    steps: Vec<Step>,
}

/// One filter plugin of a rule: which (and which version), its config,
/// and its bucket.
#[derive(Clone, Debug)]
struct Step {
    plugin_id: String,
    version: Option<String>,
    /// `id` or `id@version`: steps with the same one share an instance.
    instance_key: String,
    config_json: String,
    bucket: KvBucket,
}

impl ActiveRule {
    pub fn new(rule: Rule) -> Self {
        let steps = rule
            .filter_steps()
            .into_iter()
            .map(|(plugin_id, version, config_json)| Step {
                // State belongs to the rule and plugin, whatever the version:
                // an upgrade keeps it.
                bucket: KvBucket::for_rule(&rule.user_id, &rule.id, &plugin_id),
                instance_key: match &version {
                    Some(version) => format!("{plugin_id}@{version}"),
                    None => plugin_id.clone(),
                },
                plugin_id,
                version,
                config_json,
            })
            .collect();
        ActiveRule { steps, rule }
    }
}

/// A sample message to test rules against, as it would be sent to ingest.
pub struct Sample {
    pub message: Value,
    /// The endpoint it arrives on (optional).
    pub ingest_endpoint_id: Option<String>,
    pub remote_ip: String,
}

/// What one rule does with a sample message.
pub struct TestResult {
    pub rule: Rule,
    pub verdict: Verdict,
    /// The rendered payload the channel would receive (also when not matched).
    pub payload: Value,
}

/// A user's active rules and when they were read.
type CachedRules = (Arc<Vec<ActiveRule>>, Instant);

#[derive(Clone)]
pub struct Rules {
    store: Store,
    plugins: Arc<Registry>,
    /// Where filters keep their rules' state (the database).
    kv: Arc<dyn KvBackend>,
    cache: Arc<RwLock<HashMap<String, CachedRules>>>,
}

impl Rules {
    pub fn new(store: Store, plugins: Arc<Registry>, kv: Arc<dyn KvBackend>) -> Self {
        Rules {
            store,
            plugins,
            kv,
            cache: Arc::default(),
        }
    }

    /// The user's rules, newest first.
    pub async fn list(&self, user_id: &str) -> AppResult<Vec<Rule>> {
        Ok(self.store.list_rules(user_id).await?)
    }

    /// One of the user's rules; another user's answers not found.
    pub async fn get(&self, user_id: &str, raw_id: &str) -> AppResult<Rule> {
        let id = canonical_id(raw_id).ok_or(AppError::NotFound)?;
        self.store
            .rule_for_user(user_id, &id)
            .await?
            .ok_or(AppError::NotFound)
    }

    pub async fn create(&self, user_id: &str, input: RuleInput) -> AppResult<Rule> {
        let now = now_ms();
        let mut row = self.validated(user_id, input).await?;
        row.id = new_id();
        row.created_at = now;
        row.updated_at = now;
        self.store.insert_rule(&row).await?;
        self.forget_user(user_id);
        Ok(row)
    }

    pub async fn replace(&self, user_id: &str, raw_id: &str, input: RuleInput) -> AppResult<Rule> {
        let existing = self.get(user_id, raw_id).await?;
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
    pub async fn draft(&self, user_id: &str, input: RuleInput) -> AppResult<Rule> {
        let mut row = self.validated(user_id, input).await?;
        row.id = String::new();
        Ok(row)
    }

    pub async fn delete(&self, user_id: &str, raw_id: &str) -> AppResult<()> {
        let id = canonical_id(raw_id).ok_or(AppError::NotFound)?;
        if !self.store.delete_rule(user_id, &id).await? {
            return Err(AppError::NotFound);
        }
        super::plugin_state::forget_rule(&self.store, &id).await?;
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
        let rules = self.store.active_rules(user_id).await?;
        let rules = Arc::new(rules.into_iter().map(ActiveRule::new).collect::<Vec<_>>());
        if let Ok(mut cache) = self.cache.write() {
            if cache.len() > 50_000 {
                cache.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            }
            cache.insert(user_id.to_string(), (rules.clone(), Instant::now()));
        }
        Ok(rules)
    }

    /// Evaluates every rule against a message, off the async threads. One
    /// filter instance per plugin serves all of this message's rules;
    /// stateful filters keep their state in the rules' buckets.
    pub async fn evaluate(
        &self,
        rules: Arc<Vec<ActiveRule>>,
        message: &Message,
    ) -> AppResult<Vec<Verdict>> {
        self.evaluate_with(rules, message, self.kv.clone()).await
    }

    async fn evaluate_with(
        &self,
        rules: Arc<Vec<ActiveRule>>,
        message: &Message,
        kv: Arc<dyn KvBackend>,
    ) -> AppResult<Vec<Verdict>> {
        let plugins = self.plugins.clone();
        let message = wit_message(message);
        tokio::task::spawn_blocking(move || evaluate_blocking(&plugins, &rules, &message, kv))
            .await
            .or_internal()
    }

    /// Which of the user's rules (or the unsaved `draft`) match a sample, and
    /// what each would send. Nothing is sent. Errors in the draft name
    /// `rule.<field>`, errors in the sample `message.<field>`.
    pub async fn test_all(
        &self,
        user_id: &str,
        draft: Option<RuleInput>,
        sample: Sample,
    ) -> AppResult<Vec<TestResult>> {
        let rules = match draft {
            Some(input) => vec![self
                .draft(user_id, input)
                .await
                .map_err(|err| nest_field("rule.", err))?],
            None => self.list(user_id).await?,
        };
        self.test(user_id, rules, sample).await
    }

    /// One stored rule against a sample message. Nothing is sent.
    pub async fn test_one(
        &self,
        user_id: &str,
        raw_id: &str,
        sample: Sample,
    ) -> AppResult<Vec<TestResult>> {
        let rule = self.get(user_id, raw_id).await?;
        self.test(user_id, vec![rule], sample).await
    }

    async fn test(
        &self,
        user_id: &str,
        rules: Vec<Rule>,
        sample: Sample,
    ) -> AppResult<Vec<TestResult>> {
        let payload =
            crate::domain::payload::parse(BodyKind::Json, sample.message.to_string().as_bytes())
                .map_err(|err| nest_field("message.", err.into()))?;
        let (endpoint_id, endpoint_name) = match sample.ingest_endpoint_id.filter(|s| !s.is_empty())
        {
            Some(raw) => {
                let no_such = || AppError::validation("ingest_endpoint_id", "no such endpoint");
                let id = canonical_id(&raw).ok_or_else(no_such)?;
                let endpoint = self
                    .store
                    .endpoint_for_user(user_id, &id)
                    .await?
                    .ok_or_else(no_such)?;
                (endpoint.id, endpoint.name)
            }
            None => (String::new(), String::new()),
        };
        let (id, received_at) = new_id_with_time();
        let message = Message {
            id,
            endpoint_id,
            endpoint_name,
            received_at,
            payload,
            request: RequestFacts {
                content_type: "application/json".into(),
                remote_ip: Some(sample.remote_ip),
                user_agent: None,
                headers: [("content-type".to_string(), "application/json".to_string())].into(),
                query: Default::default(),
                size_bytes: 0,
            },
            filter_errors: Vec::new(),
            deliver_at: None,
        };
        let active = Arc::new(rules.into_iter().map(ActiveRule::new).collect::<Vec<_>>());
        // A test must not change what real messages meet: stateful filters
        // see empty, throwaway state here.
        let scratch: Arc<dyn KvBackend> = Arc::new(MemoryKv::default());
        let verdicts = self
            .evaluate_with(active.clone(), &message, scratch)
            .await?;
        let context = TemplateContext::of(&message);
        Ok(active
            .iter()
            .zip(verdicts)
            .map(|(active, verdict)| TestResult {
                payload: render(&active.rule.payload_template, &context),
                rule: active.rule.clone(),
                verdict,
            })
            .collect())
    }

    /// Checks every part of a rule; errors name the JSON path at fault.
    async fn validated(&self, user_id: &str, input: RuleInput) -> AppResult<Rule> {
        let name = input.name.trim().to_string();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(AppError::validation(
                "name",
                format!("must be 1 to {MAX_NAME_CHARS} characters"),
            ));
        }
        let channel_id = canonical_id(&input.channel_id).unwrap_or_default();
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
            None,
            input.filter.clone(),
            "filter".to_string(),
        )];
        for (i, extra) in input.extra_filters.iter().enumerate() {
            checks.push((
                extra.plugin.clone(),
                extra.version.clone(),
                extra.config.clone(),
                format!("extra_filters[{i}]"),
            ));
        }
        for (index, (plugin_id, version, config, field)) in checks.into_iter().enumerate() {
            let (plugin_field, config_field) = if index == 0 {
                (field.clone(), field)
            } else {
                (format!("{field}.plugin"), format!("{field}.config"))
            };
            self.check_filter(
                &plugin_id,
                version.as_deref(),
                config,
                &plugin_field,
                &config_field,
            )
            .await?;
        }
        Ok(Rule {
            id: String::new(),
            user_id: user_id.to_string(),
            name,
            enabled: input.enabled,
            channel_id,
            filter: input.filter,
            extra_filters: input.extra_filters,
            payload_template: input.payload_template,
            created_at: 0,
            updated_at: 0,
        })
    }

    async fn check_filter(
        &self,
        plugin_id: &str,
        version: Option<&str>,
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
        let plugin = match version {
            None => plugin,
            Some(version) => self
                .plugins
                .resolve(plugin_id, Some(version))
                .ok_or_else(|| {
                    let version_field = plugin_field.replace(".plugin", ".version");
                    unknown_version(&version_field, plugin_id, version)
                })?,
        };
        if !config.is_object() {
            return Err(AppError::validation(config_field, "must be a JSON object"));
        }
        let (plugins, text) = (self.plugins.clone(), config.to_string());
        let verdict =
            tokio::task::spawn_blocking(move || plugins.runtime().validate_config(&plugin, &text))
                .await
                .or_internal()?;
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

/// The same error with its field nested under `prefix` (a payload error at
/// the root, `$`, becomes the prefix itself).
fn nest_field(prefix: &str, err: AppError) -> AppError {
    match err {
        AppError::Validation { field, message } => {
            let field = if field == "$" {
                prefix.trim_end_matches('.').to_string()
            } else {
                format!("{prefix}{field}")
            };
            AppError::validation(field, message)
        }
        other => other,
    }
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
    message: &WitMessage,
    kv: Arc<dyn KvBackend>,
) -> Vec<Verdict> {
    let mut verdicts: Vec<Verdict> = rules
        .iter()
        .map(|rule| Verdict {
            rule_id: rule.rule.id.clone(),
            rule_name: rule.rule.name.clone(),
            matched: true,
            error: None,
            note: None,
        })
        .collect();
    let batch = Batch { plugins, kv };
    let mut sessions: HashMap<String, FilterSession> = HashMap::new();
    let steps = rules.iter().map(|rule| rule.steps.len()).max().unwrap_or(0);
    for step in 0..steps {
        // Plugin (version) → the rules (indexes) that need it at this step, in rule order.
        let mut batches: Vec<(&Step, Vec<usize>)> = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            let Some(this) = rule.steps.get(step) else {
                continue;
            };
            if !verdicts[index].matched {
                continue;
            }
            match batches
                .iter_mut()
                .find(|(first, _)| first.instance_key == this.instance_key)
            {
                Some((_, indexes)) => indexes.push(index),
                None => batches.push((this, vec![index])),
            }
        }
        for (first, indexes) in batches {
            let plugin_id = first.plugin_id.as_str();
            let calls: Vec<(String, KvBucket)> = indexes
                .iter()
                .map(|&index| {
                    let step = &rules[index].steps[step];
                    (step.config_json.clone(), step.bucket.clone())
                })
                .collect();
            let results = batch.run(&mut sessions, first, &calls, message);
            for (index, result) in indexes.into_iter().zip(results) {
                let verdict = &mut verdicts[index];
                match result {
                    Ok(FilterVerdict { matched, note }) => {
                        verdict.matched = matched;
                        if let Some(note) = note {
                            verdict.note = Some(format!("{plugin_id}: {note}"));
                        }
                    }
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

/// What every filter call of one message shares.
struct Batch<'a> {
    plugins: &'a Registry,
    kv: Arc<dyn KvBackend>,
}

impl Batch<'_> {
    /// One verdict per (config, bucket), or the reason the filter could not decide.
    fn run(
        &self,
        sessions: &mut HashMap<String, FilterSession>,
        step: &Step,
        calls: &[(String, KvBucket)],
        message: &WitMessage,
    ) -> Vec<Result<FilterVerdict, String>> {
        let configs: Vec<String> = calls.iter().map(|(config, _)| config.clone()).collect();
        let buckets: Vec<KvBucket> = calls.iter().map(|(_, bucket)| bucket.clone()).collect();
        let batch = self.session_for(sessions, step).and_then(|session| {
            session
                .evaluate_many(&configs, buckets, message)
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
            Err(Failure::Plugin(_)) if calls.len() > 1 => calls
                .iter()
                .map(|call| {
                    self.run(sessions, step, std::slice::from_ref(call), message)
                        .pop()
                        .unwrap_or_else(|| Err("no verdict".into()))
                })
                .collect(),
            Err(failure) => {
                let error = failure.to_string();
                calls.iter().map(|_| Err(error.clone())).collect()
            }
        }
    }

    /// The message's live instance of the step's plugin (version), replaced
    /// when an earlier call broke it.
    fn session_for<'s>(
        &self,
        sessions: &'s mut HashMap<String, FilterSession>,
        step: &Step,
    ) -> Result<&'s mut FilterSession, Failure> {
        let key = step.instance_key.as_str();
        if sessions.get(key).is_none_or(FilterSession::is_broken) {
            let plugin = self
                .plugins
                .resolve(&step.plugin_id, step.version.as_deref())
                .ok_or_else(|| {
                    Failure::Missing(match &step.version {
                        Some(version) => format!(
                            "filter plugin {} {version} is not installed",
                            step.plugin_id
                        ),
                        None => format!("filter plugin {} is not installed", step.plugin_id),
                    })
                })?;
            let session = self
                .plugins
                .runtime()
                .filter_session(&plugin, self.kv.clone())
                .map_err(Failure::Plugin)?;
            sessions.insert(key.to_string(), session);
        }
        sessions
            .get_mut(key)
            .ok_or_else(|| Failure::Missing("filter session vanished".into()))
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
