use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{ORIGIN, TestServer, json};

async fn add_connections(server: &TestServer) {
    for (name, url) in [
        ("shop", "mysql://repl:s3cret-shop@127.0.0.1:3306/shop"),
        (
            "analytics",
            "postgres://dbsync:s3cret-pg@127.0.0.1:5432/analytics",
        ),
    ] {
        let response = server
            .post("/api/v1/connections", &json!({"name": name, "url": url}))
            .await;
        assert_eq!(response.0, 201);
    }
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

#[tokio::test]
async fn health_is_open_and_everything_else_needs_the_token() {
    let server = TestServer::start().await;
    let (status, body) = json(
        server
            .anonymous(Method::GET, "/health")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");

    for path in [
        "/api/v1/connections",
        "/api/v1/sync/status",
        "/metrics",
        "/api/v1/openapi.json",
        "/nowhere",
    ] {
        let (status, body) = json(server.anonymous(Method::GET, path).send().await.unwrap()).await;
        assert_eq!(status, 401, "{path}");
        assert_eq!(error_code(&body), "unauthorized");
        let wrong = server
            .anonymous(Method::GET, path)
            .bearer_auth("t0ken-that-is-wrong!")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status().as_u16(), 401, "{path}");
    }
    let (status, _) = server.call(Method::GET, "/api/v1/connections").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn without_a_token_configured_every_route_is_open() {
    let server = TestServer::start_with(dbsync_config::Server::default()).await;
    let request = server.anonymous(Method::GET, "/api/v1/connections");
    let (status, list) = json(request.send().await.unwrap()).await;
    assert_eq!((status, list), (200, json!([])));
}

#[tokio::test]
async fn manages_connections_with_passwords_masked() {
    let server = TestServer::start().await;
    add_connections(&server).await;
    let (status, list) = server.call(Method::GET, "/api/v1/connections").await;
    assert_eq!(status, 200);
    let urls: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        [
            "postgres://dbsync:***@127.0.0.1:5432/analytics",
            "mysql://repl:***@127.0.0.1:3306/shop"
        ]
    );
    // The store keeps the password for the engines.
    assert_eq!(
        server
            .control
            .store
            .connection("shop")
            .await
            .unwrap()
            .url
            .expose(),
        "mysql://repl:s3cret-shop@127.0.0.1:3306/shop"
    );

    let (status, one) = server.call(Method::GET, "/api/v1/connections/shop").await;
    assert_eq!(status, 200);
    assert_eq!(one["name"], "shop");

    let duplicate = server
        .post(
            "/api/v1/connections",
            &json!({"name": "shop", "url": "mysql://root:s3cret@127.0.0.1/x"}),
        )
        .await;
    let (status, body) = duplicate;
    assert_eq!((status, error_code(&body)), (409, "conflict"));

    let bad_name = server
        .post(
            "/api/v1/connections",
            &json!({"name": "Bad Name", "url": "mysql://root:s3cret@127.0.0.1/x"}),
        )
        .await;
    let (status, body) = bad_name;
    assert_eq!((status, error_code(&body)), (422, "unprocessable"));

    let bad_url = server
        .post(
            "/api/v1/connections",
            &json!({"name": "other", "url": "ftp://root:s3cret@host/x"}),
        )
        .await;
    assert_eq!(bad_url.0, 422);

    let not_json = server
        .request(Method::POST, "/api/v1/connections")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = json(not_json).await;
    assert_eq!((status, error_code(&body)), (400, "bad_request"));

    let (status, body) = server
        .call(Method::GET, "/api/v1/connections/missing")
        .await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    assert_eq!(
        body["error"]["message"],
        "there is no connection `missing`; `dbsync connection list` shows the connections"
    );

    let (status, _) = server
        .call_text(Method::DELETE, "/api/v1/connections/analytics")
        .await;
    assert_eq!(status, 204);
    let (status, _) = server
        .call(Method::DELETE, "/api/v1/connections/analytics")
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn manages_pairs_their_state_and_history() {
    let server = TestServer::start().await;
    add_connections(&server).await;
    let server = &server;
    let create = |definition: Value| async move {
        let body = json!({"name": "shop-analytics", "definition": definition});
        server.post("/api/v1/pairs", &body).await
    };
    let (status, body) = create(json!({"source": "shop", "target": "nowhere"})).await;
    assert_eq!((status, error_code(&body)), (422, "unprocessable"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`nowhere`"),
        "{body}"
    );

    let (status, body) =
        create(json!({"source": "shop", "target": "analytics", "batch_size": "many"})).await;
    assert_eq!((status, error_code(&body)), (422, "unprocessable"));

    let (status, pair) =
        create(json!({"source": "shop", "target": "analytics", "batch_size": 500})).await;
    assert_eq!(status, 201);
    assert_eq!(pair["definition"]["batch_size"], 500);
    assert_eq!(pair["enabled"], true);
    let (status, _) = create(json!({"source": "shop", "target": "analytics"})).await;
    assert_eq!(status, 409);

    let (status, disabled) = server
        .call(Method::POST, "/api/v1/pairs/shop-analytics/disable")
        .await;
    assert_eq!((status, &disabled["enabled"]), (200, &json!(false)));
    let (status, enabled) = server
        .call(Method::POST, "/api/v1/pairs/shop-analytics/enable")
        .await;
    assert_eq!((status, &enabled["enabled"]), (200, &json!(true)));
    let (status, _) = server
        .call(Method::POST, "/api/v1/pairs/missing/enable")
        .await;
    assert_eq!(status, 404);

    let (status, body) = server
        .call(Method::DELETE, "/api/v1/connections/shop")
        .await;
    assert_eq!((status, error_code(&body)), (409, "conflict"));

    let (_, status_list) = server.call(Method::GET, "/api/v1/sync/status").await;
    assert_eq!(status_list[0]["state"], "idle");

    let run = server
        .control
        .store
        .start_run("shop-analytics")
        .await
        .unwrap();
    let run_id = run.id().to_string();
    let (_, status_list) = server.call(Method::GET, "/api/v1/sync/status").await;
    assert_eq!(status_list[0]["state"], "running");
    let (status, body) = server
        .call(Method::DELETE, "/api/v1/pairs/shop-analytics")
        .await;
    assert_eq!((status, error_code(&body)), (409, "conflict"));
    server
        .control
        .store
        .finish_run(run, dbsync_control::Outcome::Completed)
        .await
        .unwrap();

    let (status, runs) = server
        .call(Method::GET, "/api/v1/pairs/shop-analytics/runs?limit=5")
        .await;
    assert_eq!(status, 200);
    assert_eq!(runs[0]["id"], run_id.as_str());
    assert_eq!(runs[0]["state"], "completed");
    let (status, _) = server
        .call(Method::GET, "/api/v1/pairs/shop-analytics/runs?limit=0")
        .await;
    assert_eq!(status, 400);
    let (status, body) = server
        .call(Method::GET, "/api/v1/sync/history?limit=many")
        .await;
    assert_eq!((status, error_code(&body)), (400, "bad_request"));
    let (status, history) = server.call(Method::GET, "/api/v1/sync/history").await;
    assert_eq!((status, &history[0]["id"]), (200, &json!(run_id)));
    let (status, one) = server
        .call(Method::GET, &format!("/api/v1/runs/{run_id}"))
        .await;
    assert_eq!((status, &one["pair"]), (200, &json!("shop-analytics")));

    let (status, _) = server
        .call_text(Method::DELETE, "/api/v1/pairs/shop-analytics")
        .await;
    assert_eq!(status, 204);
    let (status, _) = server
        .call(Method::GET, "/api/v1/pairs/shop-analytics")
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn runs_need_a_supervisor_and_unknown_endpoints_are_404() {
    let server = TestServer::start().await;
    for (method, path, answer) in [
        // No pair named, and none to choose.
        (Method::POST, "/api/v1/sync/trigger", (422, "unprocessable")),
        // This server has no supervisor to run pairs.
        (
            Method::POST,
            "/api/v1/sync/stop?pair=p",
            (503, "unavailable"),
        ),
    ] {
        let (status, body) = json(server.request(method, path).send().await.unwrap()).await;
        assert_eq!((status, error_code(&body)), answer, "{path}");
    }
    let (status, body) = server.call(Method::GET, "/api/v1/nowhere").await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, body) = server.call(Method::PATCH, "/api/v1/connections").await;
    assert_eq!((status, error_code(&body)), (405, "method_not_allowed"));
}

#[tokio::test]
async fn answers_the_dashboards_origin_only() {
    let server = TestServer::start().await;
    let preflight = server
        .anonymous(Method::OPTIONS, "/api/v1/connections")
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], ORIGIN);

    let other = server
        .request(Method::GET, "/api/v1/connections")
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn describes_itself_in_openapi() {
    let server = TestServer::start().await;
    let (status, document) = server.call(Method::GET, "/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/v1/connections",
        "/api/v1/connections/{name}",
        "/api/v1/pairs/{name}/runs",
        "/api/v1/sync/status",
        "/api/v1/metrics",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from {:?}",
            paths.keys()
        );
    }
    assert!(paths["/api/v1/connections"]["post"].is_object());
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}
