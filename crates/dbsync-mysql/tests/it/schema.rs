//! Introspection of real schemas: the datasets against their expected rendering, and
//! one table with every MySQL/MariaDB type family at its extremes.

use std::path::PathBuf;

use dbsync_core::{
    Collation, ColumnDefault, DataType, DecimalSize, GeometryKind, IndexKind, IndexPart, IntWidth,
    TableSchema,
};
use dbsync_testkit::Dataset;

async fn read_tables(database: &str) -> Vec<TableSchema> {
    let mut conn = mysql_async::Conn::from_url(dbsync_testkit::mariadb().url(database))
        .await
        .unwrap();
    let tables = dbsync_mysql::schema::read_tables(&mut conn, database)
        .await
        .unwrap();
    conn.disconnect().await.unwrap();
    tables
}

async fn introspect(dataset: Dataset) -> Vec<TableSchema> {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database(&format!("{dataset:?}")).unwrap();
    mariadb.load(&database, dataset).unwrap();
    read_tables(&database).await
}

/// The tables rendered one per block, with the per-test database name replaced by
/// `{db}` so that the expected text does not depend on it.
fn render(tables: &[TableSchema]) -> String {
    tables
        .iter()
        .map(|table| {
            table
                .to_string()
                .replacen(&format!("table {}.", table.name.schema), "table {db}.", 1)
        })
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

#[tokio::test]
async fn sakila() {
    let tables = introspect(Dataset::Sakila).await;
    assert_expected("sakila", &tables);

    let names: Vec<&str> = tables.iter().map(|t| t.name.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "actor",
            "address",
            "category",
            "city",
            "country",
            "customer",
            "film",
            "film_actor",
            "film_category",
            "film_text",
            "inventory",
            "language",
            "payment",
            "rental",
            "staff",
            "store"
        ],
        "base tables only, no views"
    );
    let film = table(&tables, "film");
    let rating = film.column("rating").unwrap();
    assert_eq!(
        rating.data_type,
        DataType::Enum {
            labels: ["G", "PG", "PG-13", "R", "NC-17"]
                .map(String::from)
                .to_vec()
        }
    );
    assert_eq!(rating.default, Some(ColumnDefault::Literal("G".into())));
    let features = film.column("special_features").unwrap();
    assert_eq!(
        features.data_type,
        DataType::Set {
            labels: [
                "Trailers",
                "Commentaries",
                "Deleted Scenes",
                "Behind the Scenes"
            ]
            .map(String::from)
            .to_vec()
        }
    );
    assert_eq!(
        film.column("film_id").unwrap().data_type,
        DataType::Int {
            width: IntWidth::I16,
            unsigned: true
        }
    );
    assert!(film.column("film_id").unwrap().auto_increment);
    assert_eq!(
        film.column("rental_rate").unwrap().data_type,
        DataType::Decimal {
            size: Some(DecimalSize {
                precision: 4,
                scale: 2
            })
        }
    );
    assert_eq!(
        film.column("release_year").unwrap().data_type,
        DataType::Year
    );
    let last_update = film.column("last_update").unwrap();
    assert_eq!(last_update.data_type, DataType::Timestamp { precision: 0 });
    assert_eq!(
        last_update.default,
        Some(ColumnDefault::Expression("current_timestamp()".into()))
    );
    assert_eq!(
        last_update.on_update.as_deref(),
        Some("current_timestamp()")
    );

    assert_eq!(
        table(&tables, "staff").column("picture").unwrap().data_type,
        DataType::Blob {
            max_bytes: Some(65535)
        }
    );
    assert_eq!(
        table(&tables, "staff")
            .column("password")
            .unwrap()
            .collation,
        Some(Collation {
            charset: Some("utf8mb4".into()),
            name: "utf8mb4_bin".into()
        })
    );
    assert_eq!(
        table(&tables, "film_actor").primary_key,
        ["actor_id", "film_id"]
    );

    let rental = table(&tables, "rental");
    let unique = rental
        .indexes
        .iter()
        .find(|i| i.name == "rental_date")
        .unwrap();
    assert!(unique.unique);
    assert_eq!(
        unique.column_names(),
        ["rental_date", "inventory_id", "customer_id"]
    );
    let fulltext = &table(&tables, "film_text").indexes[0];
    assert_eq!(fulltext.kind, IndexKind::FullText);
    assert_eq!(fulltext.column_names(), ["title", "description"]);
}

#[tokio::test]
async fn sakila_geo() {
    let tables = introspect(Dataset::SakilaGeo).await;
    assert_expected("sakila_geo", &tables);

    let address = table(&tables, "address");
    assert_eq!(
        address.column("location").unwrap().data_type,
        DataType::Geometry {
            kind: GeometryKind::Geometry,
            srid: None
        }
    );
    let spatial = address
        .indexes
        .iter()
        .find(|i| i.name == "idx_location")
        .unwrap();
    assert_eq!(spatial.kind, IndexKind::Spatial);
    assert_eq!(
        table(&tables, "film_text")
            .column("film_id")
            .unwrap()
            .data_type,
        DataType::Int {
            width: IntWidth::I16,
            unsigned: false
        },
        "sakila-geo declares film_text.film_id signed, unlike sakila"
    );
}

#[tokio::test]
async fn chinook() {
    let tables = introspect(Dataset::ChinookMysql).await;
    assert_expected("chinook", &tables);

    let playlist_track = table(&tables, "PlaylistTrack");
    assert_eq!(
        playlist_track.primary_key,
        ["PlaylistId", "TrackId"],
        "identifier case is kept"
    );
    let invoice = table(&tables, "Invoice");
    assert_eq!(
        invoice.column("Total").unwrap().data_type,
        DataType::Decimal {
            size: Some(DecimalSize {
                precision: 10,
                scale: 2
            })
        }
    );
    assert_eq!(
        invoice.column("InvoiceDate").unwrap().data_type,
        DataType::DateTime { precision: 0 }
    );
    assert!(!invoice.column("InvoiceDate").unwrap().nullable);
    assert_eq!(
        table(&tables, "Artist").column("Name").unwrap().collation,
        Some(Collation {
            charset: Some("utf8mb3".into()),
            name: "utf8mb3_general_ci".into()
        })
    );
}

/// One column per type family at its extremes, plus generated columns and the index
/// shapes (prefix, descending, expression-free unique) that a target must rebuild.
#[tokio::test]
async fn every_type_family() {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database("types").unwrap();
    mariadb
        .execute(
            Some(&database),
            "CREATE TABLE every_type (
                id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
                i8 TINYINT NOT NULL DEFAULT -1,
                i24 MEDIUMINT UNSIGNED,
                f FLOAT,
                d DOUBLE,
                wide DECIMAL(65,30),
                money DECIMAL(19,4) NOT NULL DEFAULT 0.0000,
                fixed_name CHAR(3) CHARACTER SET latin1 COLLATE latin1_swedish_ci,
                note VARCHAR(500) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT 'it''s',
                tiny TINYTEXT,
                body LONGTEXT,
                raw BINARY(16),
                vraw VARBINARY(300),
                blob_big MEDIUMBLOB,
                day DATE DEFAULT '2024-02-29',
                span TIME(6),
                at DATETIME(3),
                ts TIMESTAMP(6) NULL,
                yr YEAR,
                doc JSON,
                mood ENUM('sad','it''s ok','café'),
                flags SET('a','b','c'),
                bits BIT(64),
                place POINT NOT NULL,
                uid UUID,
                twice BIGINT AS (i8 * 2) VIRTUAL,
                twice_stored BIGINT AS (i8 * 2) STORED,
                UNIQUE KEY note_prefix (note(10), day),
                KEY at_desc (at DESC, id),
                SPATIAL KEY place (place)
            )",
        )
        .unwrap();
    let tables = read_tables(&database).await;
    let table = table(&tables, "every_type");
    let column = |name: &str| {
        table
            .column(name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let ty = |name: &str| column(name).data_type.clone();

    assert_eq!(
        ty("id"),
        DataType::Int {
            width: IntWidth::I64,
            unsigned: true
        }
    );
    assert_eq!(
        ty("i8"),
        DataType::Int {
            width: IntWidth::I8,
            unsigned: false
        }
    );
    assert_eq!(
        column("i8").default,
        Some(ColumnDefault::Literal("-1".into()))
    );
    assert_eq!(
        ty("i24"),
        DataType::Int {
            width: IntWidth::I24,
            unsigned: true
        }
    );
    assert_eq!(ty("f"), DataType::Float);
    assert_eq!(ty("d"), DataType::Double);
    assert_eq!(
        ty("wide"),
        DataType::Decimal {
            size: Some(DecimalSize {
                precision: 65,
                scale: 30
            })
        }
    );
    assert_eq!(
        column("money").default,
        Some(ColumnDefault::Literal("0.0000".into()))
    );
    assert_eq!(ty("fixed_name"), DataType::Char { length: 3 });
    assert_eq!(
        column("fixed_name").collation,
        Some(Collation {
            charset: Some("latin1".into()),
            name: "latin1_swedish_ci".into()
        })
    );
    assert_eq!(ty("note"), DataType::VarChar { length: Some(500) });
    assert_eq!(
        column("note").default,
        Some(ColumnDefault::Literal("it's".into()))
    );
    assert_eq!(
        ty("tiny"),
        DataType::Text {
            max_bytes: Some(255)
        }
    );
    assert_eq!(
        ty("body"),
        DataType::Text {
            max_bytes: Some(u32::MAX.into())
        }
    );
    assert_eq!(ty("raw"), DataType::Binary { length: 16 });
    assert_eq!(ty("vraw"), DataType::VarBinary { length: 300 });
    assert_eq!(
        ty("blob_big"),
        DataType::Blob {
            max_bytes: Some((1 << 24) - 1)
        }
    );
    assert_eq!(ty("day"), DataType::Date);
    assert_eq!(
        column("day").default,
        Some(ColumnDefault::Literal("2024-02-29".into()))
    );
    assert_eq!(ty("span"), DataType::Time { precision: 6 });
    assert_eq!(ty("at"), DataType::DateTime { precision: 3 });
    assert_eq!(ty("ts"), DataType::Timestamp { precision: 6 });
    assert!(column("ts").nullable);
    assert_eq!(ty("yr"), DataType::Year);
    assert_eq!(
        ty("doc"),
        DataType::Json,
        "MariaDB's JSON is LONGTEXT with a json_valid check"
    );
    // Not an emoji: MariaDB's metadata (information_schema and SHOW CREATE TABLE alike)
    // is utf8mb3 and shows a 4-byte label as '?', though the values are stored whole.
    assert_eq!(
        ty("mood"),
        DataType::Enum {
            labels: ["sad", "it's ok", "café"].map(String::from).to_vec()
        }
    );
    assert_eq!(
        ty("flags"),
        DataType::Set {
            labels: ["a", "b", "c"].map(String::from).to_vec()
        }
    );
    assert_eq!(ty("bits"), DataType::Bit { length: 64 });
    assert_eq!(
        ty("place"),
        DataType::Geometry {
            kind: GeometryKind::Point,
            srid: None
        }
    );
    assert_eq!(ty("uid"), DataType::Uuid);

    let twice = column("twice")
        .generated
        .as_ref()
        .expect("twice is generated");
    assert!(!twice.stored);
    assert_eq!(twice.expression, "`i8` * 2");
    assert!(column("twice_stored").generated.as_ref().unwrap().stored);
    assert!(column("id").generated.is_none());

    assert_eq!(table.primary_key, ["id"]);
    let note_prefix = table
        .indexes
        .iter()
        .find(|i| i.name == "note_prefix")
        .unwrap();
    assert!(note_prefix.unique);
    assert_eq!(
        note_prefix.parts,
        [
            IndexPart::Column {
                name: "note".into(),
                prefix: Some(10),
                descending: false
            },
            IndexPart::Column {
                name: "day".into(),
                prefix: None,
                descending: false
            },
        ]
    );
    let at_desc = table.indexes.iter().find(|i| i.name == "at_desc").unwrap();
    assert_eq!(
        at_desc.parts[0],
        IndexPart::Column {
            name: "at".into(),
            prefix: None,
            descending: true
        },
        "MariaDB 10.8+ keeps DESC"
    );
    assert_eq!(
        table
            .indexes
            .iter()
            .find(|i| i.name == "place")
            .unwrap()
            .kind,
        IndexKind::Spatial
    );
}
