//! Introspection of real schemas: Chinook against its expected rendering, one table with
//! every PostgreSQL type family at its extremes, and which relations count as tables.

use std::path::PathBuf;

use dbsync_core::{
    Collation, Column, ColumnDefault, DataType, DecimalSize, Generated, Index, IndexKind,
    IndexPart, IntWidth, TableSchema,
};
use dbsync_testkit::Dataset;

async fn read_tables(database: &str, schema: &str) -> Vec<TableSchema> {
    let url = dbsync_testkit::postgres().url(database);
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    dbsync_postgres::schema::read_tables(&client, schema)
        .await
        .unwrap()
}

/// A fresh database holding `sql`, run with psql.
fn database_with(hint: &str, sql: &str) -> String {
    let postgres = dbsync_testkit::postgres();
    let database = postgres.create_database(hint).unwrap();
    postgres.execute(&database, sql).unwrap();
    database
}

/// The tables rendered one per block. Unlike MySQL's database, the per-test database's
/// name appears nowhere: tables are named by their schema.
fn render(tables: &[TableSchema]) -> String {
    tables
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_expected(name: &str, tables: &[TableSchema]) {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/it/expected/{name}.txt"));
    dbsync_testkit::assert_expected(&path, &render(tables));
}

fn table<'a>(tables: &'a [TableSchema], name: &str) -> &'a TableSchema {
    tables
        .iter()
        .find(|t| t.name.name == name)
        .unwrap_or_else(|| panic!("no table {name}"))
}

fn column(name: &str, data_type: DataType, native_type: &str) -> Column {
    Column {
        name: name.into(),
        data_type,
        native_type: native_type.into(),
        nullable: true,
        default: None,
        generated: None,
        auto_increment: false,
        on_update: None,
        collation: None,
    }
}

fn int(width: IntWidth) -> DataType {
    DataType::Int {
        width,
        unsigned: false,
    }
}

fn decimal(precision: u32, scale: u32) -> DataType {
    DataType::Decimal {
        size: Some(DecimalSize { precision, scale }),
    }
}

fn key_column(name: &str, descending: bool) -> IndexPart {
    IndexPart::Column {
        name: name.into(),
        prefix: None,
        descending,
    }
}

fn btree(name: &str, unique: bool, parts: Vec<IndexPart>) -> Index {
    Index {
        name: name.into(),
        unique,
        kind: IndexKind::BTree,
        parts,
        predicate: None,
    }
}

#[tokio::test]
async fn chinook() {
    let postgres = dbsync_testkit::postgres();
    let database = postgres.create_database("chinook").unwrap();
    postgres.load(&database, Dataset::ChinookPostgres).unwrap();
    let tables = read_tables(&database, "public").await;
    assert_expected("chinook", &tables);

    let names: Vec<&str> = tables.iter().map(|t| t.name.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "album",
            "artist",
            "customer",
            "employee",
            "genre",
            "invoice",
            "invoice_line",
            "media_type",
            "playlist",
            "playlist_track",
            "track"
        ]
    );
    assert!(tables.iter().all(|t| t.name.schema == "public"));

    let playlist_track = table(&tables, "playlist_track");
    assert_eq!(playlist_track.primary_key, ["playlist_id", "track_id"]);
    assert_eq!(
        playlist_track.indexes,
        [
            btree(
                "playlist_track_playlist_id_idx",
                false,
                vec![key_column("playlist_id", false)]
            ),
            btree(
                "playlist_track_track_id_idx",
                false,
                vec![key_column("track_id", false)]
            ),
        ],
        "the primary key's index is not among the indexes"
    );

    let invoice = table(&tables, "invoice");
    assert_eq!(
        invoice.column("total"),
        Some(&Column {
            nullable: false,
            ..column("total", decimal(10, 2), "numeric(10,2)")
        })
    );
    assert_eq!(
        invoice.column("invoice_date"),
        Some(&Column {
            nullable: false,
            ..column(
                "invoice_date",
                DataType::DateTime { precision: 6 },
                "timestamp without time zone"
            )
        }),
        "a timestamp without precision keeps microseconds"
    );
    assert_eq!(
        invoice.column("billing_city"),
        Some(&column(
            "billing_city",
            DataType::VarChar { length: Some(40) },
            "character varying(40)"
        ))
    );
    assert_eq!(
        table(&tables, "track")
            .column("composer")
            .unwrap()
            .data_type,
        DataType::VarChar { length: Some(220) }
    );
    assert_eq!(
        table(&tables, "customer").column("email"),
        Some(&Column {
            nullable: false,
            ..column(
                "email",
                DataType::VarChar { length: Some(60) },
                "character varying(60)"
            )
        })
    );
    assert_eq!(
        table(&tables, "track")
            .indexes
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>(),
        [
            "track_album_id_idx",
            "track_genre_id_idx",
            "track_media_type_id_idx"
        ]
    );
    assert_eq!(table(&tables, "employee").primary_key, ["employee_id"]);
    assert_eq!(
        table(&tables, "employee").indexes,
        [btree(
            "employee_reports_to_idx",
            false,
            vec![key_column("reports_to", false)]
        )]
    );
}

/// One column per type family at its extremes, the ways a column gets its values
/// (identity, serial, generated, defaults), and the index shapes a target must rebuild.
#[tokio::test]
async fn every_type_family() {
    let database = database_with(
        "types",
        r#"
        CREATE TYPE mood AS ENUM ('sad', 'it''s ok', 'café 😀');
        CREATE DOMAIN short_name AS varchar(20);
        CREATE DOMAIN nickname AS short_name;
        CREATE TABLE every_type (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            seq serial,
            by_default integer GENERATED BY DEFAULT AS IDENTITY,
            flag boolean NOT NULL DEFAULT true,
            i16 smallint NOT NULL DEFAULT -1,
            i32 integer,
            f real,
            d double precision,
            wide numeric(65,30),
            any_numeric numeric DEFAULT 0.5,
            fixed char(3),
            bounded varchar(500) DEFAULT 'it''s',
            unbounded varchar,
            body text COLLATE "C",
            name text NOT NULL,
            raw bytea,
            day date DEFAULT '2024-02-29',
            tod time(3),
            tod_default time,
            at timestamp(0),
            ts timestamptz(6) NOT NULL DEFAULT now(),
            doc json,
            docb jsonb,
            uid uuid DEFAULT gen_random_uuid(),
            bits bit(64),
            feeling mood DEFAULT 'it''s ok',
            nick short_name,
            alias nickname,
            span interval,
            ints int[],
            twice bigint GENERATED ALWAYS AS (i16 * 2) STORED
        );
        CREATE UNIQUE INDEX every_type_bounded_day ON every_type (bounded, day);
        CREATE INDEX every_type_at_desc ON every_type (at DESC, id);
        CREATE INDEX every_type_lower_name ON every_type (lower(name), i32);
        CREATE INDEX every_type_positive ON every_type (i32) WHERE i16 > 0;
        CREATE INDEX every_type_docb ON every_type USING gin (docb);
        CREATE INDEX every_type_uid ON every_type USING hash (uid);
        CREATE INDEX every_type_i32_include ON every_type (i32) INCLUDE (f);
        ALTER TABLE every_type ADD CONSTRAINT every_type_nick_key UNIQUE (nick);
        "#,
    );
    let tables = read_tables(&database, "public").await;
    assert_eq!(tables.len(), 1);
    let table = &tables[0];
    let actual = |name: &str| {
        table
            .column(name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let expect = |expected: Column| assert_eq!(actual(&expected.name), &expected);
    let not_null = |column: Column| Column {
        nullable: false,
        ..column
    };
    let literal = |value: &str| Some(ColumnDefault::Literal(value.into()));

    expect(Column {
        auto_increment: true,
        ..not_null(column("id", int(IntWidth::I64), "bigint"))
    });
    expect(Column {
        auto_increment: true,
        ..not_null(column("seq", int(IntWidth::I32), "integer"))
    });
    expect(Column {
        auto_increment: true,
        ..not_null(column("by_default", int(IntWidth::I32), "integer"))
    });
    expect(Column {
        default: literal("true"),
        ..not_null(column("flag", DataType::Bool, "boolean"))
    });
    expect(Column {
        default: literal("-1"),
        ..not_null(column("i16", int(IntWidth::I16), "smallint"))
    });
    expect(column("i32", int(IntWidth::I32), "integer"));
    expect(column("f", DataType::Float, "real"));
    expect(column("d", DataType::Double, "double precision"));
    expect(column("wide", decimal(65, 30), "numeric(65,30)"));
    expect(Column {
        default: literal("0.5"),
        ..column("any_numeric", DataType::Decimal { size: None }, "numeric")
    });
    expect(column(
        "fixed",
        DataType::Char { length: 3 },
        "character(3)",
    ));
    expect(Column {
        default: literal("it's"),
        ..column(
            "bounded",
            DataType::VarChar { length: Some(500) },
            "character varying(500)",
        )
    });
    expect(column(
        "unbounded",
        DataType::VarChar { length: None },
        "character varying",
    ));
    expect(Column {
        collation: Some(Collation {
            charset: None,
            name: "C".into(),
        }),
        ..column("body", DataType::Text { max_bytes: None }, "text")
    });
    expect(not_null(column(
        "name",
        DataType::Text { max_bytes: None },
        "text",
    )));
    expect(column("raw", DataType::Blob { max_bytes: None }, "bytea"));
    expect(Column {
        default: literal("2024-02-29"),
        ..column("day", DataType::Date, "date")
    });
    expect(column(
        "tod",
        DataType::Time { precision: 3 },
        "time(3) without time zone",
    ));
    expect(column(
        "tod_default",
        DataType::Time { precision: 6 },
        "time without time zone",
    ));
    expect(column(
        "at",
        DataType::DateTime { precision: 0 },
        "timestamp(0) without time zone",
    ));
    expect(Column {
        default: Some(ColumnDefault::Expression("now()".into())),
        ..not_null(column(
            "ts",
            DataType::Timestamp { precision: 6 },
            "timestamp(6) with time zone",
        ))
    });
    expect(column("doc", DataType::Json, "json"));
    expect(column("docb", DataType::Json, "jsonb"));
    expect(Column {
        default: Some(ColumnDefault::Expression("gen_random_uuid()".into())),
        ..column("uid", DataType::Uuid, "uuid")
    });
    expect(column("bits", DataType::Bit { length: 64 }, "bit(64)"));
    expect(Column {
        default: literal("it's ok"),
        ..column(
            "feeling",
            DataType::Enum {
                labels: ["sad", "it's ok", "café 😀"].map(String::from).to_vec(),
            },
            "mood",
        )
    });
    expect(column(
        "nick",
        DataType::VarChar { length: Some(20) },
        "short_name",
    ));
    expect(column(
        "alias",
        DataType::VarChar { length: Some(20) },
        "nickname",
    ));
    expect(column(
        "span",
        DataType::Unsupported {
            native: "interval".into(),
        },
        "interval",
    ));
    expect(column(
        "ints",
        DataType::Unsupported {
            native: "integer[]".into(),
        },
        "integer[]",
    ));
    // The parentheses are the server's: they wrap the implicit cast of the int4 product
    // to the bigint column.
    expect(Column {
        generated: Some(Generated {
            expression: "(i16 * 2)".into(),
            stored: true,
        }),
        ..column("twice", int(IntWidth::I64), "bigint")
    });
    assert_eq!(table.columns.len(), 31, "every column, in table order");
    assert_eq!(table.columns[0].name, "id");
    assert_eq!(table.columns[30].name, "twice");

    assert_eq!(table.primary_key, ["id"]);
    assert_eq!(
        table.indexes,
        [
            btree(
                "every_type_at_desc",
                false,
                vec![key_column("at", true), key_column("id", false)]
            ),
            btree(
                "every_type_bounded_day",
                true,
                vec![key_column("bounded", false), key_column("day", false)]
            ),
            Index {
                kind: IndexKind::Other("gin".into()),
                ..btree("every_type_docb", false, vec![key_column("docb", false)])
            },
            btree(
                "every_type_i32_include",
                false,
                vec![key_column("i32", false)]
            ),
            btree(
                "every_type_lower_name",
                false,
                vec![
                    IndexPart::Expression("lower(name)".into()),
                    key_column("i32", false)
                ]
            ),
            btree("every_type_nick_key", true, vec![key_column("nick", false)]),
            Index {
                predicate: Some("i16 > 0".into()),
                ..btree("every_type_positive", false, vec![key_column("i32", false)])
            },
            Index {
                kind: IndexKind::Hash,
                ..btree("every_type_uid", false, vec![key_column("uid", false)])
            },
        ]
    );
}

/// Only ordinary tables and partitioned parents of the one schema asked for, by name.
#[tokio::test]
async fn tables_of_one_schema_only() {
    let database = database_with(
        "relations",
        r#"
        CREATE SCHEMA sales;
        CREATE TYPE sales.mood AS ENUM ('up', 'down');
        CREATE TABLE sales."Orders" (id int PRIMARY KEY, mood sales.mood DEFAULT 'up');
        CREATE TABLE sales.events (at date NOT NULL, id int) PARTITION BY RANGE (at);
        CREATE TABLE sales.events_2024 PARTITION OF sales.events
            FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE INDEX events_id ON sales.events (id);
        CREATE VIEW sales.order_view AS SELECT id FROM sales."Orders";
        CREATE MATERIALIZED VIEW sales.order_counts AS SELECT count(*) FROM sales."Orders";
        CREATE SEQUENCE sales.numbers;
        CREATE TABLE public.elsewhere (id int);
        ALTER TABLE sales."Orders" ADD COLUMN dropped int;
        ALTER TABLE sales."Orders" DROP COLUMN dropped;
        "#,
    );
    let tables = read_tables(&database, "sales").await;
    let names: Vec<String> = tables.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, ["sales.Orders", "sales.events"]);

    let orders = &tables[0];
    assert_eq!(
        orders.columns,
        [
            Column {
                nullable: false,
                ..column("id", int(IntWidth::I32), "integer")
            },
            Column {
                default: Some(ColumnDefault::Literal("up".into())),
                ..column(
                    "mood",
                    DataType::Enum {
                        labels: vec!["up".into(), "down".into()]
                    },
                    "sales.mood"
                )
            }
        ],
        "no dropped column; a type outside the search_path comes qualified"
    );
    let events = &tables[1];
    assert_eq!(
        events.indexes,
        [btree("events_id", false, vec![key_column("id", false)])]
    );
    assert!(events.primary_key.is_empty());

    assert!(read_tables(&database, "no_such_schema").await.is_empty());
}

/// The server writes string literals as the session's `standard_conforming_strings`
/// reads them: with it off, a backslash comes doubled.
#[tokio::test]
async fn backslashes_in_defaults_whatever_the_session() {
    let database = database_with(
        "backslash",
        r"CREATE TABLE paths (dir text DEFAULT 'C:\Temp\it''s');",
    );
    let url = dbsync_testkit::postgres().url(&database);
    for setting in ["on", "off"] {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .batch_execute(&format!("SET standard_conforming_strings = {setting}"))
            .await
            .unwrap();
        let tables = dbsync_postgres::schema::read_tables(&client, "public")
            .await
            .unwrap();
        assert_eq!(
            tables[0].columns[0].default,
            Some(ColumnDefault::Literal(r"C:\Temp\it's".into())),
            "standard_conforming_strings = {setting}"
        );
    }
}
