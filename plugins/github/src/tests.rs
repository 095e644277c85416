use super::*;
use beacon_plugin_sdk::fit;
use beacon_plugin_sdk::{harness, PluginKind};
use serde_json::json;

const SECRET: &str = "It's a Secret to Everybody";
const DELIVERY: &str = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            "../../../host/tests/fixtures/adapters/github-",
            $name,
            ".json"
        ))
    };
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn delivery(event: &str, body: &str) -> InboundRequest {
    InboundRequest::post(body)
        .header("Content-Type", "application/json")
        .header("X-GitHub-Event", event)
        .header("X-GitHub-Delivery", DELIVERY)
        .header("X-Hub-Signature-256", sign(SECRET, body.as_bytes()))
}

fn config() -> Value {
    json!({"secret": SECRET})
}

fn adapt(config: &Value, request: &InboundRequest) -> Result<Vec<AdaptedMessage>, AdaptError> {
    harness::adapter_adapt::<Github>(&config.to_string(), request)
}

fn one(event: &str, body: &str) -> AdaptedMessage {
    let mut messages = adapt(&config(), &delivery(event, body)).unwrap();
    assert_eq!(messages.len(), 1, "{event}");
    messages.remove(0)
}

fn extras(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn tags(event: &str) -> Vec<String> {
    vec!["github".into(), event.into()]
}

fn edited(body: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(body).unwrap();
    edit(&mut v);
    v.to_string()
}

#[test]
fn describe_marks_the_secret() {
    let info = harness::adapter_describe::<Github>();
    assert_eq!(info.id, "github");
    assert_eq!(info.name, "GitHub");
    assert_eq!(info.kind, PluginKind::Adapter);
    let schema: Value = serde_json::from_str(&info.config_schema).unwrap();
    let props = &schema["properties"];
    assert_eq!(props["secret"]["x-secret"], true);
    assert_eq!(props["secret"]["writeOnly"], true);
    assert!(props["events"].get("x-secret").is_none());
    for key in ["secret", "events"] {
        assert!(
            props[key]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{key}: {schema}"
        );
    }
    assert_eq!(schema["required"], json!(["secret"]));
    assert_eq!(schema["additionalProperties"], false);
    assert!(!format!(
        "{:?}",
        serde_json::from_value::<GithubConfig>(config()).unwrap()
    )
    .contains(SECRET));
}

#[test]
fn signature_is_checked_before_anything_else() {
    let body = fixture!("push");
    // Missing.
    let unsigned = InboundRequest::post(body).header("X-GitHub-Event", "push");
    assert_eq!(
        adapt(&config(), &unsigned),
        Err(AdaptError::Unauthorized(
            "missing X-Hub-Signature-256".into()
        ))
    );
    let mismatch = Err(AdaptError::Unauthorized(
        "X-Hub-Signature-256 does not match the secret".into(),
    ));
    // Signed with another secret.
    let other = InboundRequest::post(body)
        .header("X-GitHub-Event", "push")
        .header(
            "X-Hub-Signature-256",
            sign("another secret", body.as_bytes()),
        );
    assert_eq!(adapt(&config(), &other), mismatch);
    // Right secret, body changed after signing.
    let mut tampered = delivery("push", body);
    tampered.body.push(b' ');
    assert_eq!(adapt(&config(), &tampered), mismatch);
    // Malformed values.
    for bad in [
        "",
        "sha256=",
        "sha1=abcd",
        "sha256=zz",
        "sha256=abc",
        "deadbeef",
    ] {
        let request = InboundRequest::post(body)
            .header("X-GitHub-Event", "push")
            .header("X-Hub-Signature-256", bad);
        assert_eq!(adapt(&config(), &request), mismatch, "{bad}");
    }
    // Not even JSON, unsigned: still 401, not 422 (nothing is parsed first).
    let garbage = InboundRequest::post("{not json").header("X-GitHub-Event", "push");
    assert!(matches!(
        adapt(&config(), &garbage),
        Err(AdaptError::Unauthorized(_))
    ));
    // Upper-case hex and prefix are accepted.
    let upper = InboundRequest::post(body)
        .header("X-GitHub-Event", "push")
        .header(
            "X-Hub-Signature-256",
            sign(SECRET, body.as_bytes()).to_uppercase(),
        );
    assert_eq!(adapt(&config(), &upper).unwrap().len(), 1);
}

#[test]
fn event_header_is_required() {
    let body = fixture!("ping");
    let request =
        InboundRequest::post(body).header("X-Hub-Signature-256", sign(SECRET, body.as_bytes()));
    assert!(matches!(
        adapt(&config(), &request),
        Err(AdaptError::Invalid(why)) if why.starts_with("missing X-GitHub-Event")
    ));
}

#[test]
fn ping() {
    assert_eq!(
        one("ping", fixture!("ping")),
        AdaptedMessage {
            title: Some("GitHub webhook connected".into()),
            body:
                "Anything added dilutes everything else. (hook 109948940, Octocoders/Hello-World)"
                    .into(),
            group: Some("Octocoders/Hello-World".into()),
            priority: Some(2),
            tags: tags("ping"),
            url: Some("https://github.com/Octocoders/Hello-World".into()),
            extras: extras(&[
                ("github_event", "ping"),
                ("github_delivery", DELIVERY),
                ("repository", "Octocoders/Hello-World"),
                ("sender", "Codertocat"),
            ]),
        }
    );
}

#[test]
fn push_to_a_branch() {
    assert_eq!(
        one("push", fixture!("push")),
        AdaptedMessage {
            title: Some("Codertocat/Hello-World: 2 new commits on master".into()),
            body: "6113728 Initial commit (Codertocat)\nec26c3e Update README.md (Codertocat)"
                .into(),
            group: Some("Codertocat/Hello-World".into()),
            priority: None,
            tags: tags("push"),
            url: Some(
                "https://github.com/Codertocat/Hello-World/compare/f95f852bd8fc...ec26c3e57ca3"
                    .into()
            ),
            extras: extras(&[
                ("github_event", "push"),
                ("github_delivery", DELIVERY),
                ("repository", "Codertocat/Hello-World"),
                ("sender", "Codertocat"),
            ]),
        }
    );
}

#[test]
fn push_variants() {
    let base = fixture!("push");
    // Many commits: ten listed, then a count.
    let many = edited(base, |v| {
        let commit = v["commits"][0].clone();
        v["commits"] = Value::Array(
            (0..13)
                .map(|i| {
                    let mut c = commit.clone();
                    c["id"] = json!(format!("{i:07}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
                    c["message"] = json!(format!("change {i}\n\nmore text"));
                    c
                })
                .collect(),
        );
    });
    let m = one("push", &many);
    assert_eq!(
        m.title.as_deref(),
        Some("Codertocat/Hello-World: 13 new commits on master")
    );
    let lines: Vec<&str> = m.body.lines().collect();
    assert_eq!(lines.len(), 11);
    assert_eq!(lines[0], "0000000 change 0 (Codertocat)");
    assert_eq!(lines[9], "0000009 change 9 (Codertocat)");
    assert_eq!(lines[10], "… and 3 more");

    // One commit: singular.
    let single = edited(base, |v| {
        v["commits"].as_array_mut().unwrap().truncate(1);
    });
    assert_eq!(
        one("push", &single).title.as_deref(),
        Some("Codertocat/Hello-World: 1 new commit on master")
    );

    // A tag.
    let tag = edited(base, |v| {
        v["ref"] = json!("refs/tags/v1.0.0");
        v["commits"] = json!([]);
    });
    let m = one("push", &tag);
    assert_eq!(
        m.title.as_deref(),
        Some("Codertocat/Hello-World: tag v1.0.0 pushed")
    );
    assert_eq!(m.body, "ec26c3e Update README.md (Codertocat)");

    // A deleted branch (shape of octokit's push/payload.json for a tag).
    let deleted = edited(base, |v| {
        v["ref"] = json!("refs/heads/feature");
        v["deleted"] = json!(true);
        v["after"] = json!("0000000000000000000000000000000000000000");
        v["commits"] = json!([]);
        v["head_commit"] = Value::Null;
    });
    let m = one("push", &deleted);
    assert_eq!(
        m.title.as_deref(),
        Some("Codertocat/Hello-World: branch feature deleted")
    );
    assert_eq!(m.body, "refs/heads/feature deleted by Codertocat");
}

#[test]
fn pull_request_merged() {
    assert_eq!(
        one("pull_request", fixture!("pull_request")),
        AdaptedMessage {
            title: Some("Codertocat/Hello-World: PR #2 merged".into()),
            body: "Update the README with new information. (by Codertocat)".into(),
            group: Some("Codertocat/Hello-World".into()),
            priority: None,
            tags: tags("pull_request"),
            url: Some("https://github.com/Codertocat/Hello-World/pull/2".into()),
            extras: extras(&[
                ("github_event", "pull_request"),
                ("github_delivery", DELIVERY),
                ("repository", "Codertocat/Hello-World"),
                ("sender", "Codertocat"),
                ("action", "closed"),
            ]),
        }
    );
    let unmerged = edited(fixture!("pull_request"), |v| {
        v["pull_request"]["merged"] = json!(false);
    });
    assert_eq!(
        one("pull_request", &unmerged).title.as_deref(),
        Some("Codertocat/Hello-World: PR #2 closed")
    );
}

#[test]
fn issue_opened() {
    assert_eq!(
        one("issues", fixture!("issues")),
        AdaptedMessage {
            title: Some("Codertocat/Hello-World: issue #1 opened".into()),
            body: "Spelling error in the README file (by Codertocat)".into(),
            group: Some("Codertocat/Hello-World".into()),
            priority: None,
            tags: tags("issues"),
            url: Some("https://github.com/Codertocat/Hello-World/issues/1".into()),
            extras: extras(&[
                ("github_event", "issues"),
                ("github_delivery", DELIVERY),
                ("repository", "Codertocat/Hello-World"),
                ("sender", "Codertocat"),
                ("action", "opened"),
            ]),
        }
    );
}

#[test]
fn release_published() {
    assert_eq!(
        one("release", fixture!("release")),
        AdaptedMessage {
            title: Some("Codertocat/Hello-World: release 0.0.1 published".into()),
            body: "0.0.1".into(),
            group: Some("Codertocat/Hello-World".into()),
            priority: None,
            tags: tags("release"),
            url: Some("https://github.com/Codertocat/Hello-World/releases/tag/0.0.1".into()),
            extras: extras(&[
                ("github_event", "release"),
                ("github_delivery", DELIVERY),
                ("repository", "Codertocat/Hello-World"),
                ("sender", "Codertocat"),
                ("action", "published"),
            ]),
        }
    );
    let named = edited(fixture!("release"), |v| {
        v["release"]["name"] = json!("First release");
        v["release"]["body"] = json!(format!("## Notes\n{}", "x".repeat(5000)));
    });
    let m = one("release", &named);
    assert!(
        m.body.starts_with("First release\n\n## Notes\nxxx"),
        "{}",
        m.body
    );
    assert!(m.body.ends_with('…'));
    assert!(m.body.chars().count() <= fit::MAX_BODY_CHARS);
}

#[test]
fn workflow_run_failed() {
    assert_eq!(
        one("workflow_run", fixture!("workflow_run")),
        AdaptedMessage {
            title: Some("octo-org/octo-repo: workflow test failure".into()),
            body: "build(test): check workflow run event payload on master (run #163)".into(),
            group: Some("octo-org/octo-repo".into()),
            priority: Some(4),
            tags: tags("workflow_run"),
            url: Some("https://github.com/octo-org/octo-repo/actions/runs/289782451".into()),
            extras: extras(&[
                ("github_event", "workflow_run"),
                ("github_delivery", DELIVERY),
                ("repository", "octo-org/octo-repo"),
                ("sender", "Codertocat"),
                ("action", "completed"),
            ]),
        }
    );
    let requested = edited(fixture!("workflow_run"), |v| {
        v["action"] = json!("requested");
        v["workflow_run"]["status"] = json!("queued");
        v["workflow_run"]["conclusion"] = Value::Null;
        v["workflow_run"]
            .as_object_mut()
            .unwrap()
            .remove("display_title");
    });
    let m = one("workflow_run", &requested);
    assert_eq!(
        m.title.as_deref(),
        Some("octo-org/octo-repo: workflow test queued")
    );
    assert_eq!(m.body, "master on master (run #163)");
    assert_eq!(m.priority, Some(2));
    let succeeded = edited(fixture!("workflow_run"), |v| {
        v["workflow_run"]["conclusion"] = json!("success");
    });
    assert_eq!(one("workflow_run", &succeeded).priority, Some(3));
}

#[test]
fn check_run_succeeded() {
    assert_eq!(
        one("check_run", fixture!("check_run")),
        AdaptedMessage {
            title: Some("Codertocat/Hello-World: check Octocoders-linter success".into()),
            body: "ec26c3e".into(),
            group: Some("Codertocat/Hello-World".into()),
            priority: Some(3),
            tags: tags("check_run"),
            url: Some("https://github.com/Codertocat/Hello-World/runs/128620228".into()),
            extras: extras(&[
                ("github_event", "check_run"),
                ("github_delivery", DELIVERY),
                ("repository", "Codertocat/Hello-World"),
                ("sender", "Codertocat"),
                ("action", "completed"),
            ]),
        }
    );
    let titled = edited(fixture!("check_run"), |v| {
        v["check_run"]["output"]["title"] = json!("3 warnings");
        v["check_run"]["conclusion"] = json!("timed_out");
    });
    let m = one("check_run", &titled);
    assert_eq!(m.body, "3 warnings");
    assert_eq!(m.priority, Some(4));
}

#[test]
fn unknown_event_is_stored_generically() {
    assert_eq!(
        one("star", fixture!("star")),
        AdaptedMessage {
            title: Some("GitHub: star created".into()),
            body: "star created on Codertocat/Hello-World".into(),
            group: Some("Codertocat/Hello-World".into()),
            priority: None,
            tags: tags("star"),
            url: Some("https://github.com/Codertocat/Hello-World".into()),
            extras: extras(&[
                ("github_event", "star"),
                ("github_delivery", DELIVERY),
                ("repository", "Codertocat/Hello-World"),
                ("sender", "Codertocat"),
                ("action", "created"),
            ]),
        }
    );
    // No repository and no action: the sender names it.
    let body = r#"{"sender":{"login":"octocat"}}"#;
    let m = one("meta", body);
    assert_eq!(m.title.as_deref(), Some("GitHub: meta"));
    assert_eq!(m.body, "meta on octocat");
    assert_eq!((m.group, m.url), (None, None));
}

#[test]
fn delivery_header_is_optional() {
    let body = fixture!("star");
    let request = InboundRequest::post(body)
        .header("X-GitHub-Event", "star")
        .header("X-Hub-Signature-256", sign(SECRET, body.as_bytes()));
    let m = adapt(&config(), &request).unwrap().remove(0);
    assert!(!m.extras.iter().any(|(k, _)| k == "github_delivery"));
}

#[test]
fn form_encoded_body() {
    let json = fixture!("issues");
    let encoded: String = json
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            other => format!("%{other:02X}"),
        })
        .collect();
    let form = format!("payload={encoded}");
    let request = InboundRequest::post(form.clone())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-GitHub-Event", "issues")
        .header("X-GitHub-Delivery", DELIVERY)
        .header("X-Hub-Signature-256", sign(SECRET, form.as_bytes()));
    assert_eq!(
        adapt(&config(), &request).unwrap(),
        vec![one("issues", json)]
    );

    // The signature covers the raw form body, not the decoded JSON.
    let wrong = InboundRequest::post(form)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-GitHub-Event", "issues")
        .header("X-Hub-Signature-256", sign(SECRET, json.as_bytes()));
    assert!(matches!(
        adapt(&config(), &wrong),
        Err(AdaptError::Unauthorized(_))
    ));

    let no_field = "other=1";
    let request = InboundRequest::post(no_field)
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .header("X-GitHub-Event", "issues")
        .header("X-Hub-Signature-256", sign(SECRET, no_field.as_bytes()));
    assert!(matches!(
        adapt(&config(), &request),
        Err(AdaptError::Invalid(why)) if why.contains("no `payload` field")
    ));
}

#[test]
fn events_filter() {
    let c = json!({"secret": SECRET, "events": ["push", "release"]});
    assert_eq!(
        adapt(&c, &delivery("push", fixture!("push")))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(adapt(&c, &delivery("star", fixture!("star"))), Ok(vec![]));
    assert_eq!(adapt(&c, &delivery("ping", fixture!("ping"))), Ok(vec![]));
    // A filtered event still has to be signed.
    let unsigned = InboundRequest::post(fixture!("star")).header("X-GitHub-Event", "star");
    assert!(matches!(
        adapt(&c, &unsigned),
        Err(AdaptError::Unauthorized(_))
    ));
}

#[test]
fn bad_payloads_are_invalid() {
    for (body, start) in [
        ("{not json", "the body is not JSON"),
        ("[1]", "the payload is not a JSON object"),
    ] {
        assert!(
            matches!(adapt(&config(), &delivery("push", body)), Err(AdaptError::Invalid(why)) if why.starts_with(start)),
            "{body}"
        );
    }
}

#[test]
fn validate_names_the_field() {
    let err = |c: Value| harness::adapter_validate_config::<Github>(&c.to_string()).unwrap_err();
    assert!(harness::adapter_validate_config::<Github>(&config().to_string()).is_ok());
    assert_eq!(err(json!({})).field, "secret");
    assert_eq!(err(json!({"secret": ""})).field, "secret");
    assert_eq!(err(json!({"secret": "s", "events": []})).field, "events");
    assert_eq!(
        err(json!({"secret": "s", "events": ["push", "Pull Request"]})).field,
        "events[1]"
    );
    assert!(err(json!({"secret": "s", "event": ["push"]}))
        .message
        .contains("unknown field"));
    assert!(matches!(
        adapt(&json!({"secret": ""}), &delivery("push", fixture!("push"))),
        Err(AdaptError::Invalid(why)) if why.contains("secret")
    ));
}
