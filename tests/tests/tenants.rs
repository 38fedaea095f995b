//! `rest.auth=tenants`: bearer tokens, each tenant sees and manages only its own connectors
//! and topics (another's answer as missing ones), and its connectors stay within its topic
//! prefix, database hosts and caps, when created and while they run.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use wasmconnect::standalone::{Standalone, StandaloneConfig};
use wasmconnect::tenancy::{Tenants, hash_token};
use wasmconnect_e2e::*;

const ADMIN: &str = "admin-token-0f3a";
const ACME: &str = "acme-token-77c1";
const GLOBEX: &str = "globex-token-2b9e";

/// acme may reach MariaDB as localhost:3306 and hold 2 connectors and 2 tasks; globex only
/// 127.0.0.1.
async fn start(data: &std::path::Path) -> Standalone {
    let file = format!(
        "admin-tokens = [\"{}\"]\n\
         [tenants.acme]\ntokens = [\"{}\"]\ntopic-prefix = \"acme.\"\nallowed-hosts = [\"localhost:3306\"]\n\
         max-connectors = 2\nmax-tasks = 2\nmax-memory-bytes = 134217728\nmax-cpu-slice-ms = 2000\n\
         [tenants.globex]\ntokens = [\"{}\"]\ntopic-prefix = \"globex.\"\nallowed-hosts = [\"127.0.0.1\"]\n",
        hash_token(ADMIN),
        hash_token(ACME),
        hash_token(GLOBEX)
    );
    let path = data.join("tenants.toml");
    std::fs::write(&path, file).unwrap();
    let tenants = Arc::new(Tenants::load(&path).unwrap());
    start_worker_with(StandaloneConfig { tenants: Some(tenants), ..worker_config(data) }).await
}

fn chaos(name: &str, topic: &str) -> Value {
    json!({"name": name, "config": {"connector.class": "ChaosSource", "chaos.behaviour": "records", "topic": topic, "poll.interval.ms": "50"}})
}

async fn state(api: &Api, name: &str) -> Option<(String, Option<String>)> {
    let (status, body) = api.get(&format!("/connectors/{name}/status")).await;
    let task = body["tasks"].get(0)?;
    (status == 200).then(|| (task["state"].as_str().unwrap().to_owned(), task["trace"].as_str().map(str::to_owned)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_need_a_known_bearer_token() {
    let data = tempfile::tempdir().unwrap();
    let worker = start(data.path()).await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("http://{}{path}", worker.rest_addr());

    for (path, token) in [("/connectors", None), ("/connectors", Some("not-a-token")), ("/topics", Some(&hash_token(ACME)[..]))] {
        let mut request = http.get(url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{path} with {token:?}");
        assert!(response.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error_code"], 401, "{body}");
        assert!(body["message"].as_str().unwrap().contains("token"), "{body}");
    }
    // The version and the readiness probe answer anyone.
    assert_eq!(http.get(url("/")).send().await.unwrap().status(), 200);
    assert_eq!(http.get(url("/health")).send().await.unwrap().status(), 200);
    // The console's files hold no data; the console asks for a token for the API calls.
    assert_eq!(http.get(url("/ui/")).send().await.unwrap().status(), 200);
    assert_eq!(http.get(url("/ui/api.js")).send().await.unwrap().status(), 200);
    // Unknown paths do not reveal themselves to strangers either.
    assert_eq!(http.get(url("/no-such-path")).send().await.unwrap().status(), 401);
    assert_eq!(Api::with_token(&worker, ACME).get("/connectors").await, (200, json!([])));

    // The worker's own endpoints are for admins.
    let acme = Api::with_token(&worker, ACME);
    let admin = Api::with_token(&worker, ADMIN);
    for path in ["/metrics", "/admin/loggers", "/admin/loggers/root"] {
        let (status, body) = acme.get(path).await;
        assert_eq!((status, &body["error_code"]), (403, &json!(403)), "{path}: {body}");
    }
    let metrics = http.get(url("/metrics")).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert_eq!(admin.get("/connector-plugins").await.0, 200);
    assert_eq!(acme.get("/connector-plugins").await.0, 200, "plugins are the same for everyone");
    worker.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_cannot_see_or_touch_another_tenants_connectors() {
    let data = tempfile::tempdir().unwrap();
    let worker = start(data.path()).await;
    let (admin, acme, globex) = (Api::with_token(&worker, ADMIN), Api::with_token(&worker, ACME), Api::with_token(&worker, GLOBEX));

    let (status, created) = acme.post("/connectors", &chaos("acme-events", "acme.events")).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["config"]["wasmconnect.tenant"], "acme", "the owner is recorded in the config");
    assert_eq!(globex.post("/connectors", &chaos("globex-events", "globex.events")).await.0, 201);

    assert_eq!(acme.get("/connectors").await, (200, json!(["acme-events"])));
    assert_eq!(globex.get("/connectors").await, (200, json!(["globex-events"])));
    assert_eq!(admin.get("/connectors").await, (200, json!(["acme-events", "globex-events"])));
    let (_, expanded) = acme.get("/connectors?expand=status&expand=info").await;
    assert_eq!(expanded.as_object().unwrap().keys().collect::<Vec<_>>(), ["acme-events"]);

    // Every route on globex's connector answers acme exactly as for a missing one.
    let missing = |name: &str| json!({"error_code": 404, "message": format!("Connector {name} not found")});
    let name = "globex-events";
    let calls: Vec<(reqwest::Method, String, Value)> = vec![
        (reqwest::Method::GET, format!("/connectors/{name}"), Value::Null),
        (reqwest::Method::GET, format!("/connectors/{name}/config"), Value::Null),
        (reqwest::Method::PATCH, format!("/connectors/{name}/config"), json!({"topic": "acme.stolen"})),
        (reqwest::Method::GET, format!("/connectors/{name}/status"), Value::Null),
        (reqwest::Method::GET, format!("/connectors/{name}/tasks"), Value::Null),
        (reqwest::Method::GET, format!("/connectors/{name}/tasks/0/status"), Value::Null),
        (reqwest::Method::POST, format!("/connectors/{name}/tasks/0/restart"), Value::Null),
        (reqwest::Method::GET, format!("/connectors/{name}/tasks-config"), Value::Null),
        (reqwest::Method::PUT, format!("/connectors/{name}/pause"), Value::Null),
        (reqwest::Method::PUT, format!("/connectors/{name}/resume"), Value::Null),
        (reqwest::Method::PUT, format!("/connectors/{name}/stop"), Value::Null),
        (reqwest::Method::POST, format!("/connectors/{name}/restart"), Value::Null),
        (reqwest::Method::POST, format!("/connectors/{name}/restart?includeTasks=true"), Value::Null),
        (reqwest::Method::GET, format!("/connectors/{name}/offsets"), Value::Null),
        (reqwest::Method::DELETE, format!("/connectors/{name}/offsets"), Value::Null),
        (reqwest::Method::GET, format!("/connectors/{name}/topics"), Value::Null),
        (reqwest::Method::PUT, format!("/connectors/{name}/topics/reset"), Value::Null),
        (reqwest::Method::DELETE, format!("/connectors/{name}"), Value::Null),
    ];
    for (method, path, body) in calls {
        let answer = acme.send_json(method.clone(), &path, &body).await;
        assert_eq!(answer, (404, missing(name)), "{method} {path}");
        let absent = acme.send_json(method.clone(), &path.replace(name, "no-such"), &body).await;
        assert_eq!(absent, (404, missing("no-such")), "{method} {path} on a missing connector");
    }
    // Names are one namespace: taking globex's is refused as for any existing name.
    let (status, body) = acme.put(&format!("/connectors/{name}/config"), &chaos(name, "acme.x")["config"]).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(acme.post("/connectors", &chaos(name, "acme.x")).await.0, 409);

    // Nothing acme did reached globex's connector.
    let (_, config) = globex.get(&format!("/connectors/{name}/config")).await;
    assert_eq!(config["topic"], "globex.events");
    assert_eq!(config["wasmconnect.tenant"], "globex");
    let running = eventually("globex's task runs", Duration::from_secs(20), || async {
        state(&globex, name).await.filter(|(s, _)| s == "RUNNING")
    })
    .await;
    assert_eq!(running.0, "RUNNING");

    // Topics: each tenant sees its own; the worker's internal topics are nobody's.
    eventually("both topics exist", Duration::from_secs(20), || async {
        let (_, topics) = admin.get("/topics").await;
        let topics = topics.as_array().unwrap().clone();
        (topics.contains(&json!("acme.events")) && topics.contains(&json!("globex.events"))).then_some(())
    })
    .await;
    assert_eq!(acme.get("/topics").await, (200, json!(["acme.events"])));
    for path in ["/topics/globex.events", "/topics/globex.events/records", "/topics/connect-configs/records", "/topics/connect-status"] {
        let (status, body) = acme.get(path).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    assert_eq!(acme.get("/topics/acme.events/records").await.0, 200);
    let (status, body) = acme.post("/topics/globex.events/records", &json!([{"value": "forged"}])).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("\"acme.\""), "{body}");

    // A tenant changes its own connector, and cannot hand it to someone else.
    let (status, body) = acme.send_json(reqwest::Method::PATCH, "/connectors/acme-events/config", &json!({"wasmconnect.tenant": null})).await;
    assert_eq!((status, &body["config"]["wasmconnect.tenant"]), (200, &json!("acme")), "{body}");
    let (status, body) = acme.send_json(reqwest::Method::PATCH, "/connectors/acme-events/config", &json!({"wasmconnect.tenant": "globex"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(acme.put("/connectors/acme-events/pause", &Value::Null).await.0, 202);
    // An admin's change keeps the owner.
    let mut config = chaos("acme-events", "acme.events2")["config"].clone();
    config.as_object_mut().unwrap().remove("poll.interval.ms");
    assert_eq!(admin.put("/connectors/acme-events/config", &config).await.0, 200);
    assert_eq!(acme.get("/connectors").await, (200, json!(["acme-events"])));
    assert_eq!(acme.delete("/connectors/acme-events").await.0, 204);
    assert_eq!(admin.get("/connectors").await, (200, json!(["globex-events"])));
    worker.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_configs_stay_within_its_topics_hosts_and_caps() {
    let data = tempfile::tempdir().unwrap();
    let worker = start(data.path()).await;
    let acme = Api::with_token(&worker, ACME);
    let jdbc_source = |name: &str, settings: Value| {
        let mut config = json!({
            "connector.class": "JdbcSource", "connection.url": "jdbc:mysql://localhost:3306/acme_db", "connection.user": "root",
            "mode": "incrementing", "incrementing.column.name": "id", "table.whitelist": "users", "topic.prefix": "acme.db_"
        });
        config.as_object_mut().unwrap().extend(settings.as_object().unwrap().clone());
        json!({"name": name, "config": config, "initial_state": "STOPPED"})
    };
    let refused = |body: &Value, key: &str| {
        let message = body["message"].as_str().unwrap();
        message.lines().any(|line| line.starts_with(&format!("{key}: ")))
    };

    let cases = [
        (json!({"topic.prefix": "globex.db_"}), "topic.prefix"),
        (json!({"connection.url": "jdbc:mysql://127.0.0.1:3306/acme_db"}), "connection.url"),
        (json!({"connection.url": "jdbc:mariadb://localhost:3307/acme_db"}), "connection.url"),
        (json!({"connection.url": "jdbc:sqlite:/tmp/other.db"}), "connection.url"),
        (json!({"connection.password": "${file:/etc/wasmconnect/globex.properties:password}"}), "connection.password"),
        (json!({"connection.url": "jdbc:mysql://${env:DB_HOST}:3306/acme_db"}), "connection.url"),
        (json!({"errors.deadletterqueue.topic.name": "globex.dlq"}), "errors.deadletterqueue.topic.name"),
        (json!({"tasks.max": "3"}), "tasks.max"),
        (json!({"wasm.memory.max.bytes": "268435456"}), "wasm.memory.max.bytes"),
        (json!({"wasm.cpu.slice.ms": "2001"}), "wasm.cpu.slice.ms"),
        (json!({"wasmconnect.tenant": "globex"}), "wasmconnect.tenant"),
    ];
    for (settings, key) in cases {
        let (status, body) = acme.post("/connectors", &jdbc_source("bad", settings.clone())).await;
        assert_eq!(status, 400, "{settings}: {body}");
        assert!(refused(&body, key), "{settings} is refused under {key}: {body}");
        assert_eq!(body["error_code"], 400);
    }
    let sink = |topics: &str| {
        json!({"name": "sink", "config": {"connector.class": "JdbcSink", "connection.url": "jdbc:mysql://localhost:3306/acme_db", "topics": topics}})
    };
    let (status, body) = acme.post("/connectors", &sink("acme.users,globex.users")).await;
    assert!(status == 400 && refused(&body, "topics"), "{body}");
    let (status, body) = acme.post("/connectors", &json!({"name": "sink", "config": {"connector.class": "JdbcSink", "topics.regex": "acme\\..*"}})).await;
    assert!(status == 400 && refused(&body, "topics.regex"), "{body}");

    // Within the caps: two connectors, two tasks in all.
    let (status, body) = acme.post("/connectors", &jdbc_source("one", json!({"wasm.memory.max.bytes": "134217728", "wasm.cpu.slice.ms": "2000"}))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(acme.post("/connectors", &jdbc_source("two", json!({}))).await.0, 201);
    let (status, body) = acme.post("/connectors", &jdbc_source("three", json!({}))).await;
    assert!(status == 400 && refused(&body, "max-connectors"), "{body}");
    let (status, body) = acme.send_json(reqwest::Method::PATCH, "/connectors/two/config", &json!({"tasks.max": "2"})).await;
    assert!(status == 400 && refused(&body, "tasks.max"), "{body}");
    assert_eq!(acme.delete("/connectors/one").await.0, 204);
    let (status, body) = acme.send_json(reqwest::Method::PATCH, "/connectors/two/config", &json!({"tasks.max": "2"})).await;
    assert_eq!(status, 200, "{body}");
    // Another tenant's caps are its own.
    let globex = Api::with_token(&worker, GLOBEX);
    let (status, body) = globex
        .post("/connectors", &jdbc_source("globex-one", json!({"connection.url": "jdbc:mysql://127.0.0.1/g", "topic.prefix": "globex.", "tasks.max": "3"})))
        .await;
    assert_eq!(status, 201, "{body}");
    worker.shutdown().await.unwrap();
}

/// What a config cannot tell up front (a plugin's own topic key, a RegexRouter) is checked
/// where records are written; a connector an admin made for a tenant is held to the tenant's
/// hosts when it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_running_connectors_cannot_write_elsewhere_or_reach_other_hosts() {
    let data = tempfile::tempdir().unwrap();
    let worker = start(data.path()).await;
    let (admin, acme) = (Api::with_token(&worker, ADMIN), Api::with_token(&worker, ACME));

    let mut routed = chaos("routed", "acme.events");
    routed["config"].as_object_mut().unwrap().extend(
        json!({
            "transforms": "route",
            "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
            "transforms.route.regex": ".*",
            "transforms.route.replacement": "globex.routed"
        })
        .as_object()
        .unwrap()
        .clone(),
    );
    assert_eq!(acme.post("/connectors", &routed).await.0, 201);
    assert_eq!(acme.post("/connectors", &chaos("direct", "globex.direct")).await.0, 201);
    for (name, topic) in [("routed", "globex.routed"), ("direct", "globex.direct")] {
        let trace = eventually(&format!("{name} fails"), Duration::from_secs(20), || async {
            state(&acme, name).await.filter(|(s, _)| s == "FAILED").and_then(|(_, trace)| trace)
        })
        .await;
        assert!(trace.contains(topic) && trace.contains("\"acme.\""), "{trace}");
        assert_eq!(admin.get(&format!("/topics/{topic}")).await.0, 404, "nothing reached {topic}");
    }

    let mut config = chaos("assigned", "acme.assigned")["config"].clone();
    config["wasmconnect.tenant"] = json!("acme");
    config["connection.url"] = json!("jdbc:mysql://127.0.0.1:3306/elsewhere");
    assert_eq!(admin.put("/connectors/assigned/config", &config).await.0, 201);
    assert_eq!(acme.get("/connectors").await.1.as_array().unwrap().len(), 3, "the admin gave it to acme");
    let (_, status) = acme.get("/connectors/assigned/status").await;
    let trace = status["connector"]["trace"].as_str().unwrap_or_default();
    assert!(status["connector"]["state"] == "FAILED" && trace.contains("127.0.0.1:3306") && trace.contains("localhost:3306"), "{status}");
    worker.shutdown().await.unwrap();
}

/// The allowed path, end to end: acme's JDBC source on its database streams rows onto its topic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_jdbc_source_runs_within_its_limits() {
    let db = TestDb::create("tenants").await;
    db.exec(USERS_DDL).await;
    db.exec("INSERT INTO users (user_id, pwd) VALUES ('alice', 'secret')").await;
    let data = tempfile::tempdir().unwrap();
    let worker = start(data.path()).await;
    let acme = Api::with_token(&worker, ACME);
    let mut source = source_config(&db);
    source["config"]["topic.prefix"] = json!("acme.");
    let (status, body) = acme.post("/connectors", &source).await;
    assert_eq!(status, 201, "{body}");
    let values = eventually("the row arrives", Duration::from_secs(30), || async {
        Some(acme.topic_values("acme.users").await).filter(|v| !v.is_empty())
    })
    .await;
    assert_eq!(values[0]["payload"]["user_id"], "alice");
    worker.shutdown().await.unwrap();
    db.drop_database().await;
}
