//! Every type family of PRODUCT.md §3 arrives exactly, through the copy path (snapshot
//! read, binary COPY) and through the stream path (binlog rows events, staged COPY and
//! upsert), at its extremes.
//!
//! Each family is a table `t (id INT PRIMARY KEY, ...)` with a row `id = 1` that is
//! NULL in every column and rows `id >= 2` holding the extremes. A test ends in two
//! checks that fail in different ways: [`Sandbox::assert_in_sync`] compares every
//! value with the source through dbsync's own read-back, and the `expect` queries ask
//! PostgreSQL itself for an extreme value as text, so that a value mangled the same
//! way on both sides of the comparison (by the snapshot reader, or by the mapping and
//! its inverse) still fails.

use crate::support::{Sandbox, assert_success};

/// One type family: the source columns after `id`, the SQL that inserts the extremes
/// (in one `mariadb` session, so it may set `sql_mode` or `time_zone` first), and what
/// `SELECT <expression> FROM t WHERE id = <id>` prints on the target.
struct Family {
    columns: String,
    insert: String,
    expect: Vec<(u32, &'static str, String)>,
}

impl Family {
    /// The rows exist before the first run: they arrive through the copy.
    async fn copy(self, name: &str) {
        let sandbox = self.source(name);
        self.insert(&sandbox);
        assert_success(&sandbox.run_once());
        self.check(&sandbox).await;
    }

    /// A first run copies the empty table; the rows inserted after it arrive through
    /// the binlog in the second.
    async fn stream(self, name: &str) {
        let sandbox = self.source(name);
        assert_success(&sandbox.run_once());
        self.insert(&sandbox);
        assert_success(&sandbox.run_once());
        self.check(&sandbox).await;
    }

    fn source(&self, name: &str) -> Sandbox {
        let sandbox = Sandbox::new(name);
        sandbox.source_sql(&format!(
            "CREATE TABLE t (id INT PRIMARY KEY, {})",
            self.columns
        ));
        sandbox
    }

    fn insert(&self, sandbox: &Sandbox) {
        sandbox.source_sql(&format!("INSERT INTO t (id) VALUES (1); {}", self.insert));
    }

    async fn check(&self, sandbox: &Sandbox) {
        sandbox.assert_in_sync().await;
        // The NULL row: every column but the key, whatever the family's columns are.
        let columns = target_value(
            sandbox,
            "SELECT string_agg(quote_ident(column_name), ', ') FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = 't' AND column_name <> 'id'",
        )
        .await;
        assert_eq!(
            target_value(
                sandbox,
                &format!("SELECT num_nonnulls({columns}) FROM t WHERE id = 1")
            )
            .await,
            "0",
            "the row of NULLs has a value on the target"
        );
        for (id, expression, want) in &self.expect {
            let sql = format!("SELECT {expression} FROM t WHERE id = {id}");
            assert_eq!(&target_value(sandbox, &sql).await, want, "{sql}");
        }
    }
}

/// The one value `sql` selects on the target, as PostgreSQL prints it.
async fn target_value(sandbox: &Sandbox, sql: &str) -> String {
    let rows = sandbox.target_query(sql).await;
    match rows.as_slice() {
        [row] if row.len() == 1 => row[0]
            .clone()
            .unwrap_or_else(|| panic!("{sql} is NULL on the target; select `... IS NULL`")),
        _ => panic!("{sql} returned {rows:?} on the target, not one value"),
    }
}

/// Defines a family and its two tests, `$copy` and `$stream`. Each `expect` line
/// reads `id: "expression" => printed value`.
macro_rules! family {
    (
        $copy:ident, $stream:ident {
            columns: $columns:expr,
            insert: $insert:expr,
            expect: { $($id:literal : $expression:literal => $want:expr),+ $(,)? } $(,)?
        }
    ) => {
        #[tokio::test]
        async fn $copy() {
            family!(@family $columns, $insert, $($id, $expression, $want),+)
                .copy(stringify!($copy))
                .await;
        }

        #[tokio::test]
        async fn $stream() {
            family!(@family $columns, $insert, $($id, $expression, $want),+)
                .stream(stringify!($stream))
                .await;
        }
    };
    (@family $columns:expr, $insert:expr, $($id:literal, $expression:literal, $want:expr),+) => {
        Family {
            columns: ($columns).to_string(),
            insert: ($insert).to_string(),
            expect: vec![$(($id, $expression, ($want).to_string())),+],
        }
    };
}

family!(copy_integers, stream_integers {
    columns: "i8 TINYINT, u8 TINYINT UNSIGNED, i16 SMALLINT, u16 SMALLINT UNSIGNED,
              i24 MEDIUMINT, u24 MEDIUMINT UNSIGNED, i32 INT, u32 INT UNSIGNED,
              i64 BIGINT, u64 BIGINT UNSIGNED",
    insert: "INSERT INTO t VALUES
               (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
                9223372036854775807, 18446744073709551615),
               (3, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0),
               (4, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1)",
    expect: {
        2: "u64" => "18446744073709551615",
        2: "concat_ws(',', i8, u8, i16, u16, i24, u24, i32, u32, i64, u64)"
            => "127,255,32767,65535,8388607,16777215,2147483647,4294967295,9223372036854775807,18446744073709551615",
        3: "concat_ws(',', i8, u8, i16, u16, i24, u24, i32, u32, i64, u64)"
            => "-128,0,-32768,0,-8388608,0,-2147483648,0,-9223372036854775808,0",
        // Sign extension of the 3-byte MEDIUMINT in rows events.
        4: "concat_ws(',', i8, i16, i24, i32, i64)" => "-1,-1,-1,-1,-1",
    },
});

// PostgreSQL prints floats in their shortest form that reads back to the same bits.
// MariaDB stores -0 as 0 (ATAN2(d, -1) gives +pi): 0 is what there is to carry.
family!(copy_floats, stream_floats {
    columns: "f FLOAT, d DOUBLE",
    insert: "INSERT INTO t VALUES
               (2, 3.4028234e38, 1.7976931348623157e308),
               (3, -3.4028234e38, -1.7976931348623157e308),
               (4, 1.1754944e-38, 2.2250738585072014e-308),
               (5, 1.4e-45, 4.9e-324),
               (6, -0e0, -0e0),
               (7, 0.1, 0.1)",
    expect: {
        2: "f" => "3.4028235e+38",
        2: "d" => "1.7976931348623157e+308",
        3: "d" => "-1.7976931348623157e+308",
        4: "f" => "1.1754944e-38",
        4: "d" => "2.2250738585072014e-308",
        5: "f" => "1e-45",
        5: "d" => "5e-324",
        6: "f" => "0",
        6: "d" => "0",
        7: "f" => "0.1",
        7: "d" => "0.1",
    },
});

family!(copy_decimals, stream_decimals {
    columns: "big DECIMAL(65,30), small DECIMAL(5,2)",
    insert: "INSERT INTO t VALUES
               (2, 99999999999999999999999999999999999.999999999999999999999999999999, 999.99),
               (3, -99999999999999999999999999999999999.999999999999999999999999999999, -999.99),
               (4, 0.000000000000000000000000000001, -0.01),
               (5, 0, 0),
               (6, -0.000000000000000000000000000001, 0.01)",
    expect: {
        2: "big" => "99999999999999999999999999999999999.999999999999999999999999999999",
        3: "big" => "-99999999999999999999999999999999999.999999999999999999999999999999",
        4: "big" => "0.000000000000000000000000000001",
        6: "big" => "-0.000000000000000000000000000001",
        2: "small" => "999.99",
        3: "small" => "-999.99",
        4: "small" => "-0.01",
        // The scale is part of the value: zero is 0.00, not 0.
        5: "small" => "0.00",
    },
});

family!(copy_text_utf8mb4, stream_text_utf8mb4 {
    // CHAR(255) and VARCHAR(300) of emoji take the widest length prefixes.
    columns: "c CHAR(10), v VARCHAR(20), x TEXT, l LONGTEXT, wc CHAR(255), wv VARCHAR(300)",
    insert: r"INSERT INTO t VALUES
               (2, 'é€😀', 'émoji 😀🇫🇷 ', 'it''s a \\ 日本語 👩‍👩‍👧', '', REPEAT('😀', 255),
                REPEAT('😀', 300)),
               (3, 'ab  ', '  ', '𝄞', REPEAT('😀', 1000), 'a', 'a')",
    expect: {
        2: "c" => "é€😀",
        // VARCHAR keeps trailing spaces; CHAR drops them as MySQL reads it.
        2: "v" => "émoji 😀🇫🇷 ",
        2: "x" => r"it's a \ 日本語 👩‍👩‍👧",
        2: "l = ''" => "t",
        3: "c" => "ab",
        3: "v" => "  ",
        2: "wc" => "😀".repeat(255),
        2: "wv" => "😀".repeat(300),
        3: "l" => "😀".repeat(1000),
    },
});

// The binlog carries latin1 bytes, which the decoder converts as MySQL does
// (Windows-1252: € is 0x80).
family!(copy_text_latin1, stream_text_latin1 {
    columns: "c CHAR(8) CHARACTER SET latin1, v VARCHAR(20) CHARACTER SET latin1,
              x TEXT CHARACTER SET latin1",
    insert: "INSERT INTO t VALUES
               (2, 'café €', 'é€ Ÿ‰œ ÿ', 'àÀ ß ‚„…†‡'),
               (3, '', 'plain ascii', '')",
    expect: {
        2: "c" => "café €",
        2: "v" => "é€ Ÿ‰œ ÿ",
        2: "x" => "àÀ ß ‚„…†‡",
        3: "v" => "plain ascii",
    },
});

// The binlog carries UTF-16 and UTF-32 too, in both byte orders.
family!(copy_text_wide_charsets, stream_text_wide_charsets {
    columns: "c CHAR(4) CHARACTER SET utf16, v VARCHAR(10) CHARACTER SET utf16le,
              x TEXT CHARACTER SET utf32, u VARCHAR(10) CHARACTER SET ucs2",
    insert: "INSERT INTO t VALUES (2, 'é😀 ', 'a😀€', '😀x𝄞', 'é€ '), (3, '', '', '', '')",
    expect: {
        2: "c" => "é😀",
        2: "v" => "a😀€",
        2: "x" => "😀x𝄞",
        2: "u" => "é€ ",
        3: "x = ''" => "t",
    },
});

family!(copy_binary, stream_binary {
    columns: "b BINARY(16), vb VARBINARY(16), bl BLOB, tb TINYBLOB, lb LONGBLOB",
    insert: "INSERT INTO t VALUES
               (2, x'0102', x'00ff80fe', x'00ff80fe', x'', x'c328'),
               (3, x'ff00', x'0000', x'00', x'80', x'ffffffff'),
               (4, x'00000000000000000000000000000000', x'', x'', x'00', x'')",
    expect: {
        // BINARY(16) keeps the zero padding, which the binlog strips.
        2: "encode(b, 'hex')" => "01020000000000000000000000000000",
        2: "encode(vb, 'hex')" => "00ff80fe",
        2: "encode(bl, 'hex')" => "00ff80fe",
        2: "octet_length(tb)" => "0",
        2: "encode(lb, 'hex')" => "c328",
        3: "encode(b, 'hex')" => "ff000000000000000000000000000000",
        3: "encode(vb, 'hex')" => "0000",
        4: "encode(b, 'hex')" => "00".repeat(16),
        4: "octet_length(vb)" => "0",
    },
});

family!(copy_dates, stream_dates {
    columns: "d DATE",
    insert: "SET SESSION sql_mode = '';
             INSERT INTO t VALUES
               (2, '1000-01-01'), (3, '9999-12-31'), (4, '0000-00-00'), (5, '2024-02-29'),
               (6, '0001-01-01')",
    expect: {
        2: "d" => "1000-01-01",
        3: "d" => "9999-12-31",
        // The default zero_date policy.
        4: "d IS NULL" => "t",
        5: "d" => "2024-02-29",
        6: "d" => "0001-01-01",
    },
});

family!(copy_datetimes, stream_datetimes {
    columns: "d6 DATETIME(6), d3 DATETIME(3), d0 DATETIME",
    insert: "SET SESSION sql_mode = '';
             INSERT INTO t VALUES
               (2, '1000-01-01 00:00:00', '1000-01-01 00:00:00', '1000-01-01 00:00:00'),
               (3, '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999', '9999-12-31 23:59:59'),
               (4, '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00'),
               (5, '2024-02-29 12:34:56.000001', '2024-02-29 12:34:56.001', '2024-02-29 12:34:56')",
    expect: {
        2: "d6" => "1000-01-01 00:00:00",
        3: "d6" => "9999-12-31 23:59:59.999999",
        3: "d3" => "9999-12-31 23:59:59.999",
        3: "d0" => "9999-12-31 23:59:59",
        4: "num_nulls(d6, d3, d0)" => "3",
        5: "d6" => "2024-02-29 12:34:56.000001",
        5: "d3" => "2024-02-29 12:34:56.001",
    },
});

// TIMESTAMP is an instant: the values are written in UTC but one, written at +05:30,
// which must arrive as the same instant.
family!(copy_timestamps, stream_timestamps {
    columns: "t6 TIMESTAMP(6) NULL, t2 TIMESTAMP(2) NULL, t0 TIMESTAMP NULL",
    insert: "SET SESSION sql_mode = '';
             SET SESSION time_zone = '+00:00';
             INSERT INTO t VALUES
               (2, '1970-01-01 00:00:01', '1970-01-01 00:00:01', '1970-01-01 00:00:01'),
               (3, '2038-01-19 03:14:07.999999', '2038-01-19 03:14:07.99', '2038-01-19 03:14:07'),
               (4, '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00'),
               (5, '2024-02-29 12:34:56.000001', '2024-02-29 12:34:56.01', '2024-02-29 12:34:56');
             SET SESSION time_zone = '+05:30';
             INSERT INTO t VALUES
               (6, '2024-06-01 12:00:00.5', '2024-06-01 12:00:00.5', '2024-06-01 12:00:00')",
    expect: {
        2: "t6 AT TIME ZONE 'UTC'" => "1970-01-01 00:00:01",
        3: "t6 AT TIME ZONE 'UTC'" => "2038-01-19 03:14:07.999999",
        3: "t2 AT TIME ZONE 'UTC'" => "2038-01-19 03:14:07.99",
        3: "t0 AT TIME ZONE 'UTC'" => "2038-01-19 03:14:07",
        4: "num_nulls(t6, t2, t0)" => "3",
        5: "t6 AT TIME ZONE 'UTC'" => "2024-02-29 12:34:56.000001",
        6: "t6 AT TIME ZONE 'UTC'" => "2024-06-01 06:30:00.5",
    },
});

// TIME is a signed duration; a negative one with a fraction is stored counted down
// from the next whole second in rows events, differently for each precision.
family!(copy_times, stream_times {
    columns: "t6 TIME(6), t3 TIME(3), t2 TIME(2), t0 TIME",
    insert: "INSERT INTO t VALUES
               (2, '-838:59:59', '-838:59:59', '-838:59:59', '-838:59:59'),
               (3, '838:59:59.999999', '838:59:59.999', '838:59:59.99', '838:59:59'),
               (4, '-00:00:00.000001', '-00:00:00.001', '-00:00:00.01', '00:00:00'),
               (5, '-12:34:56.789012', '-12:34:56.789', '-12:34:56.78', '-12:34:56'),
               (6, '00:00:00.000001', '00:00:00.001', '23:59:59.5', '24:00:00')",
    expect: {
        2: "t6" => "-838:59:59",
        2: "t0" => "-838:59:59",
        3: "t6" => "838:59:59.999999",
        3: "t3" => "838:59:59.999",
        3: "t2" => "838:59:59.99",
        3: "t0" => "838:59:59",
        4: "t6" => "-00:00:00.000001",
        4: "t3" => "-00:00:00.001",
        4: "t2" => "-00:00:00.01",
        5: "t6" => "-12:34:56.789012",
        5: "t3" => "-12:34:56.789",
        5: "t2" => "-12:34:56.78",
        6: "t6" => "00:00:00.000001",
        6: "t0" => "24:00:00",
    },
});

family!(copy_years, stream_years {
    columns: "y YEAR",
    insert: "INSERT INTO t VALUES (2, 1901), (3, 2155), (4, 0), (5, 2000)",
    expect: {
        2: "y" => "1901",
        3: "y" => "2155",
        // YEAR 0000 is 0, not NULL and not 2000.
        4: "y" => "0",
        5: "y" => "2000",
    },
});

// jsonb reorders keys and drops whitespace (compared as JSON); each value stays.
family!(copy_json, stream_json {
    columns: "j JSON",
    insert: r#"INSERT INTO t VALUES
               (2, '{"b": 1, "a": [1, [2, [3, []]], {}], "s": "é😀", "q": "a\\"b",
                    "big": 12345678901234567890123456789, "small": -0.5e-10, "f": 1.50}'),
               (3, 'null'),
               (4, '[]'),
               (5, '"just a string"'),
               (6, '{"z": {"y": {"x": [true, false, null]}}}')"#,
    expect: {
        2: "j->'a'" => "[1, [2, [3, []]], {}]",
        2: "j->>'s'" => "é😀",
        2: "j->>'q'" => r#"a"b"#,
        2: "j->>'big'" => "12345678901234567890123456789",
        2: "j->>'small'" => "-0.00000000005",
        2: "j->>'f'" => "1.50",
        // JSON null is a value, not SQL NULL.
        3: "jsonb_typeof(j)" => "null",
        4: "j" => "[]",
        5: "j #>> '{}'" => "just a string",
        6: "j#>'{z,y,x}'" => "[true, false, null]",
    },
});

/// `'m1', 'm2', ..., 'm<n>'`: the labels of an ENUM or SET with `n` of them.
fn numbered_labels(n: usize) -> String {
    let labels: Vec<String> = (1..=n).map(|i| format!("'m{i}'")).collect();
    labels.join(", ")
}

// MariaDB reports a label's emoji as `?` in information_schema; the values, and the
// table map's labels, have it. An ENUM of more than 255 labels takes two bytes.
family!(copy_enums, stream_enums {
    columns: format!("e ENUM('a', 'c d', 'é😀', 'it''s'), wide ENUM({})", numbered_labels(300)),
    insert: "SET SESSION sql_mode = '';
             INSERT INTO t VALUES (2, 'é😀', 'm300'), (3, 'it''s', 'm1'), (4, 'not a label', 'no'),
               (5, 'c d', 'm256')",
    expect: {
        2: "e" => "é😀",
        2: "wide" => "m300",
        3: "e" => "it's",
        // The empty string MySQL stores for an invalid label (index 0) is a value.
        4: "e = '' AND wide = ''" => "t",
        5: "e" => "c d",
        5: "wide" => "m256",
    },
});

// A SET of 64 members is a 64-bit mask.
family!(copy_sets, stream_sets {
    columns: format!("s SET('a', 'b', 'c d', 'é😀'), wide SET({})", numbered_labels(64)),
    insert: "INSERT INTO t VALUES (2, 'c d,a', 18446744073709551615), (3, '', ''),
               (4, 'é😀,c d,b,a', 'm64'), (5, 'b', 'm1,m64')",
    expect: {
        // Members in declaration order, whatever order they were written in.
        2: "s" => r#"{a,"c d"}"#,
        2: "cardinality(wide)" => "64",
        2: "wide[64]" => "m64",
        3: "s" => "{}",
        3: "wide" => "{}",
        4: "s" => r#"{a,b,"c d",é😀}"#,
        4: "wide" => "{m64}",
        5: "s" => "{b}",
        5: "wide" => "{m1,m64}",
    },
});

family!(copy_bits, stream_bits {
    columns: "b1 BIT(1), b5 BIT(5), b64 BIT(64)",
    insert: "INSERT INTO t VALUES
               (2, b'1', b'10101', x'ffffffffffffffff'),
               (3, b'0', b'00001', x'8000000000000001'),
               (4, b'0', b'00000', 0)",
    expect: {
        2: "b64" => "1".repeat(64),
        2: "b5" => "10101",
        2: "b1" => "1",
        3: "b64" => format!("1{}1", "0".repeat(62)),
        3: "b5" => "00001",
        3: "b1" => "0",
        4: "b64" => "0".repeat(64),
    },
});

// Geometry arrives as EWKB: WKB whose type word is flagged 0x20000000 and followed by
// the SRID, or plain WKB for SRID 0.
family!(copy_geometry, stream_geometry {
    columns: "p POINT, g GEOMETRY, pl POLYGON",
    insert: "INSERT INTO t VALUES
               (2, ST_GeomFromText('POINT(1 2)', 4326),
                   ST_GeomFromText('LINESTRING(0 0, 1 1)', 4326),
                   ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))', 4326)),
               (3, ST_GeomFromText('POINT(1 2)', 0),
                   ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 2))', 0),
                   ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))', 0))",
    expect: {
        2: "encode(p, 'hex')" => concat!(
            "01", "01000020", "e6100000", "000000000000f03f", "0000000000000040"
        ),
        2: "encode(pl, 'hex')" => concat!(
            "01", "03000020", "e6100000", "01000000", "04000000",
            "0000000000000000", "0000000000000000",
            "000000000000f03f", "0000000000000000",
            "000000000000f03f", "000000000000f03f",
            "0000000000000000", "0000000000000000",
        ),
        2: "encode(substr(g, 1, 9), 'hex')" => "0102000020e6100000",
        3: "encode(p, 'hex')" => "0101000000000000000000f03f0000000000000040",
        3: "encode(g, 'hex')" => concat!(
            "01", "07000000", "01000000",
            "01", "01000000", "000000000000f03f", "0000000000000040"
        ),
        3: "encode(substr(pl, 1, 5), 'hex')" => "0103000000",
    },
});

// The binlog strips a UUID's trailing zero bytes (rows 5 and 6), as it does BINARY's.
family!(copy_uuid, stream_uuid {
    columns: "u UUID",
    insert: "INSERT INTO t VALUES
               (2, '123e4567-e89b-12d3-a456-426614174000'),
               (3, '6ccd780c-baba-4026-9564-5b8c656024db'),
               (4, 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
               (5, '12345678-9abc-4ef0-8234-000000000000'),
               (6, '00000000-0000-0000-0000-000000000000'),
               (7, '01890a5d-ac96-774b-bcce-b302099a8057')",
    expect: {
        2: "u" => "123e4567-e89b-12d3-a456-426614174000",
        3: "u" => "6ccd780c-baba-4026-9564-5b8c656024db",
        4: "u" => "ffffffff-ffff-ffff-ffff-ffffffffffff",
        5: "u" => "12345678-9abc-4ef0-8234-000000000000",
        6: "u" => "00000000-0000-0000-0000-000000000000",
        7: "u" => "01890a5d-ac96-774b-bcce-b302099a8057",
    },
});

// jsonb cannot hold the character U+0000. The table stops with an error that names the
// column, not PostgreSQL's, which names neither the row nor the column.
#[tokio::test]
async fn json_with_the_nul_character_stops_the_table() {
    let sandbox = Sandbox::new("json_nul");
    sandbox.source_sql(
        r#"CREATE TABLE t (id INT PRIMARY KEY, j JSON); INSERT INTO t VALUES (1, '["a\\u0000b"]')"#,
    );
    let output = sandbox.run_once();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("column `j`") && stderr.contains(r"\u0000"),
        "{stderr}"
    );
}
