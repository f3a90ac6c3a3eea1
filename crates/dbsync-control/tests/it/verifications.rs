//! Verify results in the state store: kept per pair, newest first, cleaned with the history.

use std::time::Duration;

use chrono::Utc;
use dbsync_control::ErrorKind;
use dbsync_core::verify::{Keys, TableReport, VerifyReport};
use dbsync_core::{TableName, Value};
use serde_json::json;

use crate::store::store_with_pair;

fn report(different: u64) -> VerifyReport {
    VerifyReport {
        tables: vec![TableReport {
            table: TableName::new("shop", "orders"),
            source_rows: 10,
            target_rows: 10,
            missing: Keys::default(),
            extra: Keys::default(),
            different: Keys {
                count: different,
                first: (0..different).map(|k| vec![Value::Int(k as i64)]).collect(),
            },
        }],
    }
}

#[tokio::test]
async fn keeps_verify_results_newest_first_and_cleans_them_up() {
    let directory = tempfile::tempdir().unwrap();
    let store = store_with_pair(&directory).await;
    assert_eq!(
        store.last_verification("shop-analytics").await.unwrap(),
        None
    );

    let started = Utc::now();
    let equal = store
        .record_verification("shop-analytics", started, &report(0), &json!({"kept": 1}))
        .await
        .unwrap();
    assert!(equal.equal);
    let differing = store
        .record_verification("shop-analytics", started, &report(2), &json!({"kept": 2}))
        .await
        .unwrap();
    assert!(!differing.equal);
    assert_eq!(differing.tables[0].table, "shop.orders");
    assert_eq!(differing.tables[0].different, 2);

    let listed = store.verifications("shop-analytics", 10).await.unwrap();
    assert_eq!(listed, [differing.clone(), equal]);
    assert_eq!(
        store.last_verification("shop-analytics").await.unwrap(),
        Some(differing)
    );
    assert_eq!(
        store
            .record_verification("nothing", started, &report(0), &json!({}))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );

    tokio::time::sleep(Duration::from_millis(5)).await;
    let cleaned = store
        .clean_up_history(Duration::from_millis(1))
        .await
        .unwrap();
    assert_eq!(cleaned.verifications, 2);
    assert!(
        store
            .verifications("shop-analytics", 10)
            .await
            .unwrap()
            .is_empty()
    );
}
