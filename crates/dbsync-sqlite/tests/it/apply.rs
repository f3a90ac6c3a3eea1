//! Applying batches: idempotent, one transaction with the checkpoints, which never
//! move backward; and the copy's guard against writing a chunk twice.

use std::sync::Arc;

use dbsync_core::pipeline::Target;
use dbsync_core::{
    BinlogPosition, Change, ChangeBatch, ChangeOp, Checkpoint, CopyProgress, DataType, ErrorKind,
    IntWidth, Position, TableName, TableSchema, Value,
};
use dbsync_sqlite::reader::read_as_source;
use dbsync_sqlite::target_type::MappingOptions;
use dbsync_sqlite::writer::Writer;

use crate::extremes::column;
use crate::support::Scratch;

fn table() -> Arc<TableSchema> {
    Arc::new(TableSchema {
        name: TableName::new("shop", "orders"),
        columns: vec![
            column(
                "id",
                DataType::Int {
                    width: IntWidth::I64,
                    unsigned: true,
                },
            ),
            column("note", DataType::Text { max_bytes: None }),
        ],
        primary_key: vec!["id".into()],
        indexes: vec![],
    })
}

fn at(offset: u64, copy: CopyProgress) -> Checkpoint {
    Checkpoint {
        copy,
        position: Position::Binlog(BinlogPosition {
            file: "binlog.000001".parse().unwrap(),
            offset,
            gtid_state: vec![],
        }),
    }
}

fn row(id: u64, note: &str) -> Vec<Value> {
    vec![Value::UInt(id), Value::Text(note.into())]
}

fn batch(table: &Arc<TableSchema>, ops: Vec<ChangeOp>) -> ChangeBatch {
    let mut batch = ChangeBatch::new();
    for op in ops {
        batch.push(Change {
            table: Arc::clone(table),
            op,
        });
    }
    batch
}

async fn opened(scratch: &Scratch, table: &Arc<TableSchema>) -> Writer {
    let mut writer = Writer::open(
        &scratch.path().join("edge.db"),
        "edge",
        MappingOptions::default(),
    )
    .await
    .unwrap();
    writer.prepare_table(table).await.unwrap();
    writer
}

#[tokio::test]
async fn a_batch_applied_twice_changes_nothing_and_checkpoints_never_move_back() {
    let scratch = Scratch::new("apply");
    let path = scratch.path().join("edge.db");
    let table = table();
    let mut writer = opened(&scratch, &table).await;
    let copied = [row(1, "one"), row(2, "two"), row(u64::MAX, "max")];
    let copy = CopyProgress::Done { rows: 3 };
    writer
        .write_chunk(&table.name, &copied, &at(100, copy.clone()))
        .await
        .unwrap();

    let changes = batch(
        &table,
        vec![
            ChangeOp::Update {
                before: row(1, "one"),
                after: row(10, "one, moved"),
            },
            ChangeOp::Delete {
                before: row(2, "two"),
            },
            ChangeOp::Update {
                before: row(u64::MAX, "max"),
                after: row(u64::MAX, "max, changed"),
            },
            ChangeOp::Insert {
                after: row(3, "three"),
            },
        ],
    );
    let moved = [(table.name.clone(), at(200, copy.clone()))];
    let target = writer.plan_table(&table).unwrap();
    let expected = vec![
        row(3, "three"),
        row(10, "one, moved"),
        row(u64::MAX, "max, changed"),
    ];
    for _ in 0..2 {
        writer.apply(&changes, &moved).await.unwrap();
        assert_eq!(
            read_as_source(&path, &target, &table).await.unwrap(),
            expected
        );
        assert_eq!(writer.checkpoints().await.unwrap(), moved);
    }

    // A batch whose checkpoint is behind the one held is refused whole.
    let late = batch(&table, vec![ChangeOp::Truncate]);
    let error = writer
        .apply(&late, &[(table.name.clone(), at(150, copy))])
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Retryable, "{error}");
    assert!(error.to_string().contains("would move it back"), "{error}");
    assert_eq!(
        read_as_source(&path, &target, &table).await.unwrap(),
        expected
    );
    assert_eq!(writer.checkpoints().await.unwrap(), moved);

    // A truncate empties the table.
    writer
        .apply(
            &late,
            &[(table.name.clone(), at(300, CopyProgress::Done { rows: 3 }))],
        )
        .await
        .unwrap();
    assert!(
        read_as_source(&path, &target, &table)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_chunk_that_does_not_follow_the_checkpoint_is_refused() {
    let scratch = Scratch::new("guard");
    let path = scratch.path().join("edge.db");
    let table = table();
    let mut writer = opened(&scratch, &table).await;
    let first = [row(1, "a"), row(2, "b")];
    let copying = |rows, after| CopyProgress::Copying {
        after: Some(vec![Value::UInt(after)]),
        rows,
    };
    writer
        .write_chunk(&table.name, &first, &at(100, copying(2, 2)))
        .await
        .unwrap();
    // The same chunk again, as after a lost connection whose commit landed.
    let error = writer
        .write_chunk(&table.name, &first, &at(100, copying(2, 2)))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Retryable, "{error}");
    assert!(error.to_string().contains("2 rows are copied"), "{error}");
    // A second writer on the same file sees the checkpoint and goes on from it.
    let mut other = opened(&scratch, &table).await;
    let held = other.checkpoints().await.unwrap();
    assert_eq!(held, [(table.name.clone(), at(100, copying(2, 2)))]);
    other
        .write_chunk(
            &table.name,
            &[row(3, "c")],
            &at(100, CopyProgress::Done { rows: 3 }),
        )
        .await
        .unwrap();
    let target = other.plan_table(&table).unwrap();
    let read = read_as_source(&path, &target, &table).await.unwrap();
    assert_eq!(read, [row(1, "a"), row(2, "b"), row(3, "c")]);
}
