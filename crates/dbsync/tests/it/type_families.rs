//! Every type family of PRODUCT.md §3 arrives exactly, through the copy path (snapshot
//! read, binary COPY) and through the stream path (binlog rows events, staged COPY and
//! upsert), at its extremes.
//!
//! The families and their extremes are [`families::mysql`]'s. A test ends in two checks
//! that fail in different ways: [`Sandbox::assert_in_sync`] compares every value with
//! the source through dbsync's own read-back, and the `expect` queries ask PostgreSQL
//! itself for an extreme value as text, so that a value mangled the same way on both
//! sides of the comparison (by the snapshot reader, or by the mapping and its inverse)
//! still fails.

use crate::support::families::{self, Family};
use crate::support::{Sandbox, assert_success};

/// A MySQL type family, and what `SELECT <expression> FROM <family> WHERE id = <id>`
/// prints on the target.
struct Case {
    family: Family,
    expect: Vec<(u32, &'static str, String)>,
}

impl Case {
    /// The rows exist before the first run: they arrive through the copy.
    async fn copy(self, name: &str) {
        let sandbox = self.source(name);
        sandbox.source_sql(&self.family.insert_rows());
        assert_success(&sandbox.run_once());
        self.check(&sandbox).await;
    }

    /// A first run copies the empty table; the rows inserted after it arrive through
    /// the binlog in the second.
    async fn stream(self, name: &str) {
        let sandbox = self.source(name);
        assert_success(&sandbox.run_once());
        sandbox.source_sql(&self.family.insert_rows());
        assert_success(&sandbox.run_once());
        self.check(&sandbox).await;
    }

    fn source(&self, name: &str) -> Sandbox {
        let sandbox = Sandbox::new(name);
        sandbox.source_sql(&self.family.create_table());
        sandbox
    }

    async fn check(&self, sandbox: &Sandbox) {
        sandbox.assert_in_sync().await;
        let table = self.family.name;
        // The NULL row: every column but the key, whatever the family's columns are.
        let columns = target_value(
            sandbox,
            &format!(
                "SELECT string_agg(quote_ident(column_name), ', ') FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name = '{table}' AND column_name <> 'id'"
            ),
        )
        .await;
        assert_eq!(
            target_value(
                sandbox,
                &format!("SELECT num_nonnulls({columns}) FROM {table} WHERE id = 1")
            )
            .await,
            "0",
            "the row of NULLs has a value on the target"
        );
        for (id, expression, want) in &self.expect {
            let sql = format!("SELECT {expression} FROM {table} WHERE id = {id}");
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

/// Defines the two tests of family `$family`, `$copy` and `$stream`. Each `expect`
/// line reads `id: "expression" => printed value`.
macro_rules! family {
    (
        $copy:ident, $stream:ident {
            family: $family:literal,
            expect: { $($id:literal : $expression:literal => $want:expr),+ $(,)? } $(,)?
        }
    ) => {
        #[tokio::test]
        async fn $copy() {
            family!(@case $family, $($id, $expression, $want),+)
                .copy(stringify!($copy))
                .await;
        }

        #[tokio::test]
        async fn $stream() {
            family!(@case $family, $($id, $expression, $want),+)
                .stream(stringify!($stream))
                .await;
        }
    };
    (@case $family:literal, $($id:literal, $expression:literal, $want:expr),+) => {
        Case {
            family: families::mysql_family($family),
            expect: vec![$(($id, $expression, ($want).to_string())),+],
        }
    };
}

family!(copy_integers, stream_integers {
    family: "integers",
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
    family: "floats",
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
    family: "decimals",
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
    family: "text_utf8mb4",
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
    family: "text_latin1",
    expect: {
        2: "c" => "café €",
        2: "v" => "é€ Ÿ‰œ ÿ",
        2: "x" => "àÀ ß ‚„…†‡",
        3: "v" => "plain ascii",
    },
});

// The binlog carries UTF-16 and UTF-32 too, in both byte orders.
family!(copy_text_wide_charsets, stream_text_wide_charsets {
    family: "text_wide_charsets",
    expect: {
        2: "c" => "é😀",
        2: "v" => "a😀€",
        2: "x" => "😀x𝄞",
        2: "u" => "é€ ",
        3: "x = ''" => "t",
    },
});

family!(copy_binary, stream_binary {
    family: "binaries",
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
    family: "dates",
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
    family: "datetimes",
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
    family: "timestamps",
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
    family: "times",
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
    family: "years",
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
    family: "jsons",
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

// MariaDB reports a label's emoji as `?` in information_schema; the values, and the
// table map's labels, have it. An ENUM of more than 255 labels takes two bytes.
family!(copy_enums, stream_enums {
    family: "enums",
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
    family: "sets",
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
    family: "bits",
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
    family: "geometries",
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
    family: "uuids",
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
