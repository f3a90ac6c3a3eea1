use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use dbsync_control::Operation;
use reqwest::Method;

use crate::server::{TestServer, answer};

#[tokio::test]
async fn serves_the_recorded_series_in_prometheus_text() {
    let server = TestServer::start().await;
    let metrics = &server.control.metrics;
    metrics.rows_applied("shop-analytics", "shop.orders", Operation::Insert, 1000);
    metrics.rows_applied("shop-analytics", "shop.orders", Operation::Insert, 24);
    metrics.rows_applied("shop-analytics", "shop.orders", Operation::Delete, 3);
    metrics.lag("shop-analytics", "shop.orders", Duration::from_millis(250));
    metrics.batch_applied("shop-analytics", "shop.orders", Duration::from_millis(12));
    metrics.error(
        "shop-analytics",
        "shop.orders",
        dbsync_core::ErrorKind::Connection,
    );
    metrics.queue_depth("shop-analytics", 17);
    metrics.copy_progress("shop-analytics", "shop.orders", 500, Some(2000));
    metrics.conflict("shop-analytics", "shop.orders");

    let (status, text) = answer(
        server
            .request(Method::GET, "/metrics")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (_, same) = answer(
        server
            .request(Method::GET, "/api/v1/metrics")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        text.lines().filter(|l| !l.starts_with('#')).count(),
        same.lines().filter(|l| !l.starts_with('#')).count()
    );
    for line in [
        r#"dbsync_rows_applied_total{pair="shop-analytics",table="shop.orders",operation="insert"} 1024"#,
        r#"dbsync_rows_applied_total{pair="shop-analytics",table="shop.orders",operation="delete"} 3"#,
        r#"dbsync_lag_seconds{pair="shop-analytics",table="shop.orders"} 0.25"#,
        r#"dbsync_batch_duration_seconds_bucket{pair="shop-analytics",table="shop.orders",le="0.016"} 1"#,
        r#"dbsync_batch_duration_seconds_bucket{pair="shop-analytics",table="shop.orders",le="0.008"} 0"#,
        r#"dbsync_errors_total{pair="shop-analytics",table="shop.orders",kind="connection"} 1"#,
        r#"dbsync_queue_depth{pair="shop-analytics"} 17"#,
        r#"dbsync_copy_rows{pair="shop-analytics",table="shop.orders"} 500"#,
        r#"dbsync_copy_rows_estimated{pair="shop-analytics",table="shop.orders"} 2000"#,
        r#"dbsync_conflicts_total{pair="shop-analytics",table="shop.orders"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
    }
    promtool_check(&text);
}

/// `promtool check metrics` (Debian package `prometheus`) on the exposition.
fn promtool_check(text: &str) {
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs; install the Debian package `prometheus`");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = promtool.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics failed:\n{}{}\non:\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
