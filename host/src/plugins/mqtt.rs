//! The `mqtt-publish` capability granted to channel senders: MQTT 3.1.1
//! publishes (QoS 0 or 1) over connections pooled per broker and
//! credentials, to addresses the outbound policy checked.
//!
//! The session logic (connect, publish, wait for the PUBACK of this very
//! publish) is written here over rumqttc's packet codec rather than with
//! rumqttc's client: that client resolves and connects by host name itself,
//! so the policy could not pin the checked address (the DNS rebinding guard
//! `fetch` has), and it reports acknowledgements on its event loop without
//! tying them to the publish call that a delivery outcome must wait for.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rumqttc::mqttbytes::v4::{ConnectReturnCode, Packet};
use rumqttc::mqttbytes::QoS;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::bindings::mqtt_publish::{MqttError, MqttMessage};
use super::outbound::OutboundPolicy;

/// Idle pooled connections older than this are closed rather than reused
/// (brokers drop clients silent for 1.5 keep-alive periods).
const IDLE_REUSE: Duration = Duration::from_secs(30);
const KEEP_ALIVE_SECONDS: u16 = 60;
/// Idle connections kept per broker and credentials.
const MAX_IDLE_PER_KEY: usize = 4;
/// Largest packet read back (acknowledgements are a few bytes).
const MAX_INCOMING_PACKET: usize = 64 * 1024;
const MAX_TOPIC_BYTES: usize = 1024;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One open MQTT session.
struct Session {
    io: Box<dyn Io>,
    incoming: BytesMut,
    next_packet_id: u16,
    idle_since: Instant,
}

/// Which pooled sessions can serve a publish.
#[derive(Clone, PartialEq, Eq, Hash)]
struct PoolKey {
    tls: bool,
    host: String,
    port: u16,
    username: Option<String>,
    password: Option<String>,
}

/// A broker URL that passed the syntactic checks.
#[derive(Debug, PartialEq, Eq)]
struct Broker {
    tls: bool,
    host: String,
    port: u16,
    literal: Option<IpAddr>,
}

pub struct MqttPool {
    idle: Mutex<HashMap<PoolKey, Vec<Session>>>,
    tls: tokio_rustls::TlsConnector,
}

impl Default for MqttPool {
    fn default() -> Self {
        Self::new()
    }
}

impl MqttPool {
    pub fn new() -> Self {
        let roots =
            rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map(|builder| builder.with_root_certificates(roots).with_no_client_auth())
        .unwrap_or_else(|_| {
            // The ring provider supports the default versions; this cannot fail,
            // but a TLS-less pool is still better than a panic.
            rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        });
        MqttPool {
            idle: Mutex::default(),
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
        }
    }

    /// Publishes one message within `timeout`; QoS 1 returns after the
    /// broker's PUBACK. A pooled session that turns out dead is replaced
    /// once (QoS 1 is at-least-once: a retried publish may arrive twice).
    pub async fn publish(
        &self,
        policy: &OutboundPolicy,
        message: MqttMessage,
        timeout: Duration,
        max_payload: usize,
    ) -> Result<(), MqttError> {
        let broker = parse_broker(&message.broker_url)?;
        check_message(&message, max_payload)?;
        if message.password.is_some() && message.username.is_none() {
            return Err(MqttError::InvalidRequest(
                "a password needs a username".into(),
            ));
        }
        let key = PoolKey {
            tls: broker.tls,
            host: broker.host.clone(),
            port: broker.port,
            username: message.username.clone(),
            password: message.password.clone(),
        };
        let attempt = async {
            if let Some(mut session) = self.take_idle(&key) {
                if session.publish(&message).await.is_ok() {
                    self.put_back(key, session);
                    return Ok(());
                }
            }
            let mut session = self.connect(policy, &broker, &message).await?;
            session.publish(&message).await?;
            self.put_back(key, session);
            Ok(())
        };
        tokio::time::timeout(timeout, attempt)
            .await
            .unwrap_or(Err(MqttError::Timeout))
    }

    fn take_idle(&self, key: &PoolKey) -> Option<Session> {
        let mut idle = self.idle.lock().ok()?;
        let sessions = idle.get_mut(key)?;
        sessions.retain(|s| s.idle_since.elapsed() < IDLE_REUSE);
        sessions.pop()
    }

    fn put_back(&self, key: PoolKey, mut session: Session) {
        session.idle_since = Instant::now();
        if let Ok(mut idle) = self.idle.lock() {
            let sessions = idle.entry(key).or_default();
            if sessions.len() < MAX_IDLE_PER_KEY {
                sessions.push(session);
            }
        }
    }

    async fn connect(
        &self,
        policy: &OutboundPolicy,
        broker: &Broker,
        message: &MqttMessage,
    ) -> Result<Session, MqttError> {
        let addresses = resolve(policy, broker).await?;
        let tcp = tokio::net::TcpStream::connect(&addresses[..])
            .await
            .map_err(|err| {
                MqttError::Connection(format!("{}:{}: {err}", broker.host, broker.port))
            })?;
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn Io> = if broker.tls {
            let name = rustls::pki_types::ServerName::try_from(broker.host.clone())
                .map_err(|err| MqttError::InvalidRequest(format!("TLS server name: {err}")))?;
            Box::new(
                self.tls
                    .connect(name, tcp)
                    .await
                    .map_err(|err| MqttError::Connection(format!("TLS: {err}")))?,
            )
        } else {
            Box::new(tcp)
        };
        let mut session = Session {
            io,
            incoming: BytesMut::with_capacity(256),
            next_packet_id: 1,
            idle_since: Instant::now(),
        };
        session.handshake(message).await?;
        Ok(session)
    }
}

impl Session {
    async fn send(&mut self, packet: Packet) -> Result<(), MqttError> {
        let mut out = BytesMut::with_capacity(packet.size() + 8);
        packet
            .write(&mut out, usize::MAX)
            .map_err(|err| MqttError::InvalidRequest(err.to_string()))?;
        self.io.write_all(&out).await.map_err(connection)?;
        self.io.flush().await.map_err(connection)
    }

    async fn receive(&mut self) -> Result<Packet, MqttError> {
        loop {
            match Packet::read(&mut self.incoming, MAX_INCOMING_PACKET) {
                Ok(packet) => return Ok(packet),
                Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => {
                    let read = self
                        .io
                        .read_buf(&mut self.incoming)
                        .await
                        .map_err(connection)?;
                    if read == 0 {
                        return Err(MqttError::Connection(
                            "the broker closed the connection".into(),
                        ));
                    }
                }
                Err(err) => return Err(MqttError::Connection(format!("protocol: {err}"))),
            }
        }
    }

    async fn handshake(&mut self, message: &MqttMessage) -> Result<(), MqttError> {
        let mut connect = rumqttc::mqttbytes::v4::Connect::new(format!(
            "beacon-{}",
            &crate::domain::new_id()[..12]
        ));
        connect.keep_alive = KEEP_ALIVE_SECONDS;
        connect.clean_session = true;
        if let Some(username) = &message.username {
            connect.set_login(
                username.clone(),
                message.password.clone().unwrap_or_default(),
            );
        }
        self.send(Packet::Connect(connect)).await?;
        match self.receive().await? {
            Packet::ConnAck(ack) => match ack.code {
                ConnectReturnCode::Success => Ok(()),
                ConnectReturnCode::BadUserNamePassword => {
                    Err(MqttError::Refused("bad user name or password".into()))
                }
                ConnectReturnCode::NotAuthorized => {
                    Err(MqttError::Refused("not authorised".into()))
                }
                ConnectReturnCode::ServiceUnavailable => {
                    Err(MqttError::Connection("the broker is unavailable".into()))
                }
                other => Err(MqttError::Refused(format!("{other:?}"))),
            },
            other => Err(MqttError::Connection(format!(
                "expected CONNACK, got {other:?}"
            ))),
        }
    }

    async fn publish(&mut self, message: &MqttMessage) -> Result<(), MqttError> {
        let qos = if message.qos == 1 {
            QoS::AtLeastOnce
        } else {
            QoS::AtMostOnce
        };
        let mut publish = rumqttc::mqttbytes::v4::Publish::new(
            message.topic.clone(),
            qos,
            message.payload.clone(),
        );
        publish.retain = message.retain;
        if qos == QoS::AtMostOnce {
            return self.send(Packet::Publish(publish)).await;
        }
        let id = self.next_packet_id;
        self.next_packet_id = self.next_packet_id.checked_add(1).unwrap_or(1);
        publish.pkid = id;
        self.send(Packet::Publish(publish)).await?;
        loop {
            match self.receive().await? {
                Packet::PubAck(ack) if ack.pkid == id => return Ok(()),
                // Pings and acknowledgements of earlier publishes are not ours.
                _ => continue,
            }
        }
    }
}

fn connection(err: std::io::Error) -> MqttError {
    MqttError::Connection(err.to_string())
}

fn parse_broker(raw: &str) -> Result<Broker, MqttError> {
    let url = url::Url::parse(raw)
        .map_err(|err| MqttError::InvalidRequest(format!("bad broker URL: {err}")))?;
    let tls = match url.scheme() {
        "mqtt" => false,
        "mqtts" => true,
        other => {
            return Err(MqttError::InvalidRequest(format!(
                "scheme {other:?} is not allowed (mqtt or mqtts)"
            )))
        }
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(MqttError::InvalidRequest(
            "put credentials in username and password, not in the URL".into(),
        ));
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        return Err(MqttError::InvalidRequest(
            "a broker URL has no path, query or fragment".into(),
        ));
    }
    let port = url.port().unwrap_or(if tls { 8883 } else { 1883 });
    let (host, literal) = match url.host() {
        Some(url::Host::Domain(name)) => (name.trim_end_matches('.').to_ascii_lowercase(), None),
        Some(url::Host::Ipv4(ip)) => (ip.to_string(), Some(IpAddr::V4(ip))),
        Some(url::Host::Ipv6(ip)) => (ip.to_string(), Some(IpAddr::V6(ip))),
        None => {
            return Err(MqttError::InvalidRequest(
                "the broker URL has no host".into(),
            ))
        }
    };
    Ok(Broker {
        tls,
        host,
        port,
        literal,
    })
}

fn check_message(message: &MqttMessage, max_payload: usize) -> Result<(), MqttError> {
    let topic = &message.topic;
    if topic.is_empty() || topic.len() > MAX_TOPIC_BYTES {
        return Err(MqttError::InvalidRequest(format!(
            "a topic must be 1 to {MAX_TOPIC_BYTES} bytes"
        )));
    }
    if topic.contains(['+', '#', '\0']) {
        return Err(MqttError::InvalidRequest(
            "a topic to publish to has no wildcards (+, #) or NUL".into(),
        ));
    }
    if message.qos > 1 {
        return Err(MqttError::InvalidRequest(format!(
            "QoS {} is not supported (0 or 1)",
            message.qos
        )));
    }
    if message.payload.len() > max_payload {
        return Err(MqttError::InvalidRequest(format!(
            "the payload has {} bytes, more than the host's {max_payload}",
            message.payload.len()
        )));
    }
    Ok(())
}

/// The broker's addresses the policy lets us connect to (resolved here, so
/// the connection goes exactly to what was checked).
async fn resolve(policy: &OutboundPolicy, broker: &Broker) -> Result<Vec<SocketAddr>, MqttError> {
    policy
        .check_granted(&broker.host)
        .map_err(|refused| MqttError::PolicyDenied(refused.0))?;
    let candidates: Vec<SocketAddr> = match broker.literal {
        Some(ip) => vec![SocketAddr::new(ip, broker.port)],
        None => {
            if !policy.host_allowed(&broker.host)
                && (broker.host == "localhost" || broker.host.ends_with(".localhost"))
            {
                return Err(MqttError::PolicyDenied(format!(
                    "host {} is a loopback name",
                    broker.host
                )));
            }
            tokio::net::lookup_host((broker.host.as_str(), broker.port))
                .await
                .map_err(|err| MqttError::Connection(format!("{}: {err}", broker.host)))?
                .collect()
        }
    };
    let mut refusal = None;
    let allowed: Vec<SocketAddr> = candidates
        .into_iter()
        .filter(|addr| match policy.check_ip(&broker.host, addr.ip()) {
            Ok(()) => true,
            Err(refused) => {
                refusal.get_or_insert(refused);
                false
            }
        })
        .collect();
    if allowed.is_empty() {
        return Err(MqttError::PolicyDenied(match refusal {
            Some(refused) => format!("{}: {refused}", broker.host),
            None => format!("{} resolved to no address", broker.host),
        }));
    }
    Ok(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(topic: &str, qos: u8) -> MqttMessage {
        MqttMessage {
            broker_url: "mqtt://broker.example:1883".into(),
            topic: topic.into(),
            payload: b"x".to_vec(),
            qos,
            retain: false,
            username: None,
            password: None,
            timeout_ms: None,
        }
    }

    #[test]
    fn broker_urls() {
        assert_eq!(
            parse_broker("mqtt://Broker.LAN").ok(),
            Some(Broker {
                tls: false,
                host: "broker.lan".into(),
                port: 1883,
                literal: None
            })
        );
        assert_eq!(
            parse_broker("mqtts://b.example:9883")
                .map(|b| (b.tls, b.port))
                .ok(),
            Some((true, 9883))
        );
        assert_eq!(
            parse_broker("mqtts://b.example").map(|b| b.port).ok(),
            Some(8883)
        );
        for bad in [
            "http://b",
            "mqtt://u:p@b",
            "mqtt://b/path",
            "mqtt://b?x=1",
            "mqtt://",
            "not a url",
        ] {
            assert!(
                matches!(parse_broker(bad), Err(MqttError::InvalidRequest(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn messages() {
        assert!(check_message(&message("home/alerts", 1), 10).is_ok());
        assert!(check_message(&message("home/+/alerts", 1), 10).is_err());
        assert!(check_message(&message("home/#", 0), 10).is_err());
        assert!(check_message(&message("", 0), 10).is_err());
        assert!(check_message(&message("t", 2), 10).is_err());
        assert!(
            check_message(&message("t", 0), 0).is_err(),
            "payload over the cap"
        );
    }

    #[tokio::test]
    async fn the_policy_guards_the_broker_address() {
        let policy = OutboundPolicy::with_allowlist(true, &[]);
        for url in [
            "mqtt://127.0.0.1:1883",
            "mqtt://10.0.0.5",
            "mqtt://localhost",
            "mqtt://[::1]:1883",
        ] {
            let broker = parse_broker(url).expect("url");
            assert!(
                matches!(
                    resolve(&policy, &broker).await,
                    Err(MqttError::PolicyDenied(_))
                ),
                "{url}"
            );
        }
        let opened = OutboundPolicy::with_allowlist(true, &["10.0.0.0/8".to_string()]);
        let broker = parse_broker("mqtt://10.0.0.5:1884").expect("url");
        assert_eq!(
            resolve(&opened, &broker).await.ok(),
            Some(vec!["10.0.0.5:1884".parse().expect("addr")])
        );
    }
}
