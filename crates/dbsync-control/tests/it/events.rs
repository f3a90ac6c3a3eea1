use dbsync_control::{Event, Outcome, TableStatus};
use reqwest::Method;

use crate::server::TestServer;

/// Reads the stream until `expected` has come, or fails when the stream ends first.
async fn read_until(response: &mut reqwest::Response, expected: &str) -> String {
    let mut text = String::new();
    while !text.contains(expected) {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), response.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .unwrap_or_else(|| panic!("the stream ended before `{expected}`; it sent {text}"));
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    text
}

#[tokio::test]
async fn streams_published_events_and_ends_at_shutdown() {
    let server = TestServer::start().await;
    let mut response = server
        .request(Method::GET, "/api/v1/sync/stream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");

    server.control.events.publish(Event::Progress {
        pair: "shop-analytics".to_owned(),
        table: "shop.orders".to_owned(),
        status: TableStatus::Copying,
        rows_synced: 500,
        rows_estimated: Some(2000),
    });
    let text = read_until(&mut response, "\n\n").await;
    assert_eq!(
        text,
        "event: progress\ndata: {\"type\":\"progress\",\"pair\":\"shop-analytics\",\"table\":\"shop.orders\",\"status\":\"copying\",\"rows_synced\":500,\"rows_estimated\":2000}\n\n"
    );

    let stopping = tokio::spawn(server.stop());
    assert_eq!(
        response.chunk().await.unwrap(),
        None,
        "the stream ends at shutdown"
    );
    stopping.await.unwrap();
}

#[tokio::test]
async fn announces_the_lifecycle_of_runs() {
    let server = TestServer::start().await;
    let store = &server.control.store;
    store
        .create_connection("shop", crate::store::url("mysql://repl:pw@127.0.0.1/shop"))
        .await
        .unwrap();
    store
        .create_connection(
            "analytics",
            crate::store::url("postgres://dbsync@127.0.0.1/analytics"),
        )
        .await
        .unwrap();
    store
        .create_pair(
            "shop-analytics",
            dbsync_config::Pair::new("shop", "analytics"),
        )
        .await
        .unwrap();
    let mut response = server
        .request(Method::GET, "/api/v1/sync/stream")
        .send()
        .await
        .unwrap();

    let run = server.control.start_run("shop-analytics").await.unwrap();
    let id = run.id().to_string();
    let running = read_until(&mut response, "\n\n").await;
    assert_eq!(
        running,
        format!(
            "event: run_state\ndata: {{\"type\":\"run_state\",\"pair\":\"shop-analytics\",\"run\":\"{id}\",\"state\":\"running\",\"error\":null}}\n\n"
        )
    );
    server
        .control
        .finish_run(
            run,
            Outcome::Failed {
                error: "lost the binlog connection".to_owned(),
            },
        )
        .await
        .unwrap();
    let failed = read_until(&mut response, "\n\n").await;
    assert!(failed.starts_with("event: run_state\n"), "{failed}");
    assert!(
        failed.contains(r#""state":"failed","error":"lost the binlog connection""#),
        "{failed}"
    );
}
