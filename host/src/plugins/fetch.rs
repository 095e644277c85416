//! The `http` capability granted to channel senders: a buffered fetch through
//! the outbound policy. The host resolves names itself and connects only to
//! addresses it checked (a custom reqwest resolver), checks every redirect hop,
//! caps the timeout and both bodies.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Name, Resolve, Resolving};
use reqwest::redirect;

use super::bindings::http::{FetchError, Request, Response};
use super::bindings::mqtt_publish::{MqttError, MqttMessage};
use super::grants::Grants;
use super::mqtt::MqttPool;
use super::outbound::{OutboundPolicy, Refused};

/// Most redirect hops followed when a plugin asks to follow them.
const MAX_REDIRECTS: usize = 5;

#[derive(Clone, Debug)]
pub struct FetchLimits {
    pub max_timeout: Duration,
    pub max_request_bytes: usize,
    pub max_response_bytes: usize,
}

/// Two clients sharing one policy: one follows redirects, one hands them back.
pub struct Fetcher {
    policy: Arc<OutboundPolicy>,
    following: reqwest::Client,
    direct: reqwest::Client,
    limits: FetchLimits,
    /// MQTT sessions opened under this policy (never shared with the other).
    mqtt: MqttPool,
}

/// Resolves names and drops every address the policy refuses.
struct PolicyResolver {
    policy: Arc<OutboundPolicy>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut first_refusal = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match policy.check_ip(&host, addr.ip()) {
                    Ok(()) => true,
                    Err(refused) => {
                        first_refusal.get_or_insert(refused);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let refused = first_refusal
                    .unwrap_or_else(|| Refused(format!("{host} resolved to no address")));
                return Err(Box::new(Refused(format!("{host}: {refused}")))
                    as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl Fetcher {
    pub fn new(policy: OutboundPolicy, limits: FetchLimits) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let redirect_policy = policy.clone();
        let build = |redirects: redirect::Policy| {
            reqwest::Client::builder()
                .dns_resolver(Arc::new(PolicyResolver {
                    policy: policy.clone(),
                }))
                .redirect(redirects)
                .no_proxy()
                .user_agent(concat!("beacon-spear/", env!("CARGO_PKG_VERSION")))
                .timeout(limits.max_timeout)
                .build()
        };
        let following = build(redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(Refused(format!("more than {MAX_REDIRECTS} redirects")));
            }
            match check_literal(&redirect_policy, attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(refused) => attempt.error(Refused(format!("redirect refused: {refused}"))),
            }
        }))?;
        let direct = build(redirect::Policy::none())?;
        Ok(Fetcher {
            policy,
            following,
            direct,
            limits,
            mqtt: MqttPool::new(),
        })
    }

    /// The `mqtt-publish` capability: the same policy, timeout cap and
    /// request size cap as `fetch`.
    pub async fn publish(&self, message: MqttMessage) -> Result<(), MqttError> {
        let timeout = message
            .timeout_ms
            .map(|ms| Duration::from_millis(u64::from(ms)).min(self.limits.max_timeout))
            .unwrap_or(self.limits.max_timeout);
        self.mqtt
            .publish(
                &self.policy,
                message,
                timeout,
                self.limits.max_request_bytes,
            )
            .await
    }

    pub fn max_timeout(&self) -> Duration {
        self.limits.max_timeout
    }

    pub async fn fetch(&self, request: Request) -> Result<Response, FetchError> {
        let url = url::Url::parse(&request.url)
            .map_err(|err| FetchError::InvalidRequest(format!("bad URL: {err}")))?;
        check_literal(&self.policy, &url).map_err(|refused| FetchError::PolicyDenied(refused.0))?;
        let method = reqwest::Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| FetchError::InvalidRequest(format!("bad method {:?}", request.method)))?;
        let body = request.body.unwrap_or_default();
        if body.len() > self.limits.max_request_bytes {
            return Err(FetchError::BodyTooLarge(
                self.limits.max_request_bytes as u64,
            ));
        }
        let timeout = request
            .timeout_ms
            .map(|ms| Duration::from_millis(u64::from(ms)).min(self.limits.max_timeout))
            .unwrap_or(self.limits.max_timeout);
        let client = if request.follow_redirects {
            &self.following
        } else {
            &self.direct
        };
        let mut builder = client.request(method, url).timeout(timeout).body(body);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let built = builder
            .build()
            .map_err(|err| FetchError::InvalidRequest(err.to_string()))?;

        let exchange = async {
            let mut response = client.execute(built).await.map_err(classify)?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_string(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(classify)? {
                if body.len() + chunk.len() > self.limits.max_response_bytes {
                    return Err(FetchError::BodyTooLarge(
                        self.limits.max_response_bytes as u64,
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Response {
                status,
                headers,
                body,
            })
        };
        // The outer timeout also bounds DNS and slow bodies, whatever reqwest does.
        tokio::time::timeout(timeout + Duration::from_millis(100), exchange)
            .await
            .unwrap_or(Err(FetchError::Timeout))
    }
}

/// IP-literal URLs never reach the resolver, so they are checked here.
fn check_literal(policy: &OutboundPolicy, url: &url::Url) -> Result<(), Refused> {
    let target = policy.check_url(url)?;
    match target.literal {
        Some(ip) => policy.check_ip(&target.host, ip),
        None => Ok(()),
    }
}

/// Maps a reqwest failure to the WIT error, finding policy refusals in the cause chain.
fn classify(err: reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn StdError + 'static)> = Some(&err);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return FetchError::PolicyDenied(refused.0.clone());
        }
        source = cause.source();
    }
    if err.is_timeout() {
        return FetchError::Timeout;
    }
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    FetchError::Connection(text)
}

/// The fetchers channel senders get: one refusing private ranges, one not, and
/// which one each plugin uses (`BARK_BLOCK_PRIVATE_NETWORKS` and per-plugin overrides).
pub struct Fetchers {
    blocking: Arc<Fetcher>,
    open: Arc<Fetcher>,
    block_by_default: bool,
    overrides: Vec<(String, bool)>,
    allowlist: Vec<String>,
    limits: FetchLimits,
}

impl Fetchers {
    pub fn new(
        allowlist: &[String],
        block_by_default: bool,
        overrides: Vec<(String, bool)>,
        limits: FetchLimits,
    ) -> Result<Self, reqwest::Error> {
        Ok(Fetchers {
            blocking: Arc::new(Fetcher::new(
                OutboundPolicy::with_allowlist(true, allowlist),
                limits.clone(),
            )?),
            open: Arc::new(Fetcher::new(
                OutboundPolicy::with_allowlist(false, allowlist),
                limits.clone(),
            )?),
            block_by_default,
            overrides,
            allowlist: allowlist.to_vec(),
            limits,
        })
    }

    fn blocks_private(&self, plugin_id: &str) -> bool {
        self.overrides
            .iter()
            .find(|(id, _)| id == plugin_id)
            .map(|(_, block)| *block)
            .unwrap_or(self.block_by_default)
    }

    pub fn for_plugin(&self, plugin_id: &str) -> Arc<Fetcher> {
        if self.blocks_private(plugin_id) {
            self.blocking.clone()
        } else {
            self.open.clone()
        }
    }

    /// The fetcher of a plugin under its grants: the shared one unless the
    /// grants narrow the hosts or override the private-network block, then
    /// one of its own (own connection pool, so nothing leaks between policies).
    pub fn for_grants(
        &self,
        plugin_id: &str,
        grants: &Grants,
    ) -> Result<Arc<Fetcher>, reqwest::Error> {
        if !grants.shapes_network() {
            return Ok(self.for_plugin(plugin_id));
        }
        // `false` closes private networks for this plugin, including what
        // the global allowlist opened; `true` opens them (the operator's
        // explicit word); unset keeps the global policy.
        let mut policy = match grants.allow_private_networks {
            Some(false) => OutboundPolicy::with_allowlist(true, &[]),
            Some(true) => OutboundPolicy::with_allowlist(false, &self.allowlist),
            None => OutboundPolicy::with_allowlist(self.blocks_private(plugin_id), &self.allowlist),
        };
        policy.only_hosts = grants.allowed_hosts.clone();
        Ok(Arc::new(Fetcher::new(policy, self.limits.clone())?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{header::LOCATION, StatusCode};
    use axum::routing::get;

    fn limits() -> FetchLimits {
        FetchLimits {
            max_timeout: Duration::from_secs(2),
            max_request_bytes: 1024,
            max_response_bytes: 64,
        }
    }

    fn request(url: &str, follow_redirects: bool) -> Request {
        Request {
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout_ms: None,
            follow_redirects,
        }
    }

    /// A loopback server with `/ok`, `/big` and `/hop` (a redirect to `target`).
    async fn server(target: String) -> String {
        let app = axum::Router::new()
            .route("/ok", get(|| async { "fine" }))
            .route("/big", get(|| async { "x".repeat(1000) }))
            .route(
                "/hop",
                get(move || async move { (StatusCode::FOUND, [(LOCATION, target)]) }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        base
    }

    fn denied(result: Result<Response, FetchError>) -> String {
        match result {
            Err(FetchError::PolicyDenied(reason)) => reason,
            other => panic!("expected a policy refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn refused_destinations_say_why() {
        let fetcher =
            Fetcher::new(OutboundPolicy::with_allowlist(true, &[]), limits()).expect("client");
        for (url, reason) in [
            ("http://127.0.0.1:9/", "loopback"),
            ("http://169.254.169.254/latest/meta-data/", "link-local"),
            ("http://10.1.2.3/", "private range"),
            ("http://192.168.0.10/", "private range"),
            ("http://localhost:9/", "loopback"),
            ("http://[::ffff:127.0.0.1]:9/", "loopback"),
            ("http://[::1]:9/", "loopback"),
            ("ftp://example.com/", "scheme"),
            ("http://user:pw@example.com/", "user names"),
        ] {
            let why = denied(fetcher.fetch(request(url, false)).await);
            assert!(why.contains(reason), "{url}: {why}");
        }
    }

    #[tokio::test]
    async fn allowlisted_loopback_works_and_limits_hold() {
        let base = server("http://127.0.0.2:9/".into()).await;
        let fetcher = Fetcher::new(
            OutboundPolicy::with_allowlist(true, &["127.0.0.1/32".into()]),
            limits(),
        )
        .expect("client");
        let ok = fetcher
            .fetch(request(&format!("{base}/ok"), false))
            .await
            .expect("allowed");
        assert_eq!((ok.status, ok.body.as_slice()), (200, b"fine".as_slice()));
        assert!(matches!(
            fetcher.fetch(request(&format!("{base}/big"), false)).await,
            Err(FetchError::BodyTooLarge(64))
        ));
        // Not following: the 3xx comes back as it is.
        let hop = fetcher
            .fetch(request(&format!("{base}/hop"), false))
            .await
            .expect("handed back");
        assert_eq!(hop.status, 302);
        // Following: the hop to a refused address is refused, with the reason.
        let why = denied(fetcher.fetch(request(&format!("{base}/hop"), true)).await);
        assert!(
            why.contains("127.0.0.2") && why.contains("loopback"),
            "{why}"
        );
    }

    #[tokio::test]
    async fn redirects_by_name_are_checked_too() {
        let base = server("http://localhost:9/secret".into()).await;
        let fetcher = Fetcher::new(
            OutboundPolicy::with_allowlist(true, &["127.0.0.1/32".into()]),
            limits(),
        )
        .expect("client");
        let why = denied(fetcher.fetch(request(&format!("{base}/hop"), true)).await);
        assert!(why.contains("localhost"), "{why}");
    }
}
