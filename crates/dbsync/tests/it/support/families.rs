//! The type families of each source engine (PRODUCT.md §3) with their extreme values:
//! what the type tests sync and then compare.
//!
//! Each family is a table named after it, `id INT PRIMARY KEY` and the family's
//! columns, with a row `id = 1` that is NULL in every column and rows `id >= 2` holding
//! the extremes.

/// One type family of a source engine.
pub(crate) struct Family {
    /// The family's name, which is its table's.
    pub(crate) name: &'static str,
    /// The columns after `id`.
    columns: String,
    /// The SQL that inserts the extremes, run in one session, so that it may set
    /// `sql_mode`, `time_zone` or `TimeZone` first.
    insert: String,
    /// Types the columns need, created before the table (PostgreSQL enums).
    types: &'static str,
}

impl Family {
    fn new(name: &'static str, columns: impl Into<String>, insert: impl Into<String>) -> Family {
        Family {
            name,
            columns: columns.into(),
            insert: insert.into(),
            types: "",
        }
    }

    fn with_types(self, types: &'static str) -> Family {
        Family { types, ..self }
    }

    /// The SQL that creates the table, empty.
    pub(crate) fn create_table(&self) -> String {
        format!(
            "{} CREATE TABLE {} (id INT PRIMARY KEY, {})",
            self.types, self.name, self.columns
        )
    }

    /// The SQL that inserts the row of NULLs and the extremes.
    pub(crate) fn insert_rows(&self) -> String {
        format!("INSERT INTO {} (id) VALUES (1); {}", self.name, self.insert)
    }
}

/// The families of a MySQL/MariaDB source.
pub(crate) fn mysql() -> Vec<Family> {
    vec![
        Family::new(
            "integers",
            "i8 TINYINT, u8 TINYINT UNSIGNED, i16 SMALLINT, u16 SMALLINT UNSIGNED,
              i24 MEDIUMINT, u24 MEDIUMINT UNSIGNED, i32 INT, u32 INT UNSIGNED,
              i64 BIGINT, u64 BIGINT UNSIGNED",
            "INSERT INTO integers VALUES
               (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
                9223372036854775807, 18446744073709551615),
               (3, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0),
               (4, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1)",
        ),
        Family::new(
            "floats",
            "f FLOAT, d DOUBLE",
            "INSERT INTO floats VALUES
               (2, 3.4028234e38, 1.7976931348623157e308),
               (3, -3.4028234e38, -1.7976931348623157e308),
               (4, 1.1754944e-38, 2.2250738585072014e-308),
               (5, 1.4e-45, 4.9e-324),
               (6, -0e0, -0e0),
               (7, 0.1, 0.1)",
        ),
        Family::new(
            "decimals",
            "big DECIMAL(65,30), small DECIMAL(5,2), whole DECIMAL(18,0)",
            "INSERT INTO decimals VALUES
               (2, 99999999999999999999999999999999999.999999999999999999999999999999, 999.99,
                999999999999999999),
               (3, -99999999999999999999999999999999999.999999999999999999999999999999, -999.99,
                -999999999999999999),
               (4, 0.000000000000000000000000000001, -0.01, 0),
               (5, 0, 0, 1),
               (6, -0.000000000000000000000000000001, 0.01, -1)",
        ),
        Family::new(
            "text_utf8mb4",
            "c CHAR(10), v VARCHAR(20), x TEXT, l LONGTEXT, wc CHAR(255), wv VARCHAR(300)",
            r"INSERT INTO text_utf8mb4 VALUES
               (2, 'é€😀', 'émoji 😀🇫🇷 ', 'it''s a \\ 日本語 👩‍👩‍👧', '', REPEAT('😀', 255),
                REPEAT('😀', 300)),
               (3, 'ab  ', '  ', '𝄞', REPEAT('😀', 1000), 'a', 'a')",
        ),
        Family::new(
            "text_latin1",
            "c CHAR(8) CHARACTER SET latin1, v VARCHAR(20) CHARACTER SET latin1,
              x TEXT CHARACTER SET latin1",
            "INSERT INTO text_latin1 VALUES
               (2, 'café €', 'é€ Ÿ‰œ ÿ', 'àÀ ß ‚„…†‡'),
               (3, '', 'plain ascii', '')",
        ),
        Family::new(
            "text_wide_charsets",
            "c CHAR(4) CHARACTER SET utf16, v VARCHAR(10) CHARACTER SET utf16le,
              x TEXT CHARACTER SET utf32, u VARCHAR(10) CHARACTER SET ucs2",
            "INSERT INTO text_wide_charsets VALUES (2, 'é😀 ', 'a😀€', '😀x𝄞', 'é€ '), (3, '', '', '', '')",
        ),
        Family::new(
            "binaries",
            "b BINARY(16), vb VARBINARY(16), bl BLOB, tb TINYBLOB, lb LONGBLOB",
            "INSERT INTO binaries VALUES
               (2, x'0102', x'00ff80fe', x'00ff80fe', x'', x'c328'),
               (3, x'ff00', x'0000', x'00', x'80', x'ffffffff'),
               (4, x'00000000000000000000000000000000', x'', x'', x'00', x'')",
        ),
        Family::new(
            "dates",
            "d DATE",
            "SET SESSION sql_mode = '';
             INSERT INTO dates VALUES
               (2, '1000-01-01'), (3, '9999-12-31'), (4, '0000-00-00'), (5, '2024-02-29'),
               (6, '0001-01-01')",
        ),
        Family::new(
            "datetimes",
            "d6 DATETIME(6), d3 DATETIME(3), d0 DATETIME",
            "SET SESSION sql_mode = '';
             INSERT INTO datetimes VALUES
               (2, '1000-01-01 00:00:00', '1000-01-01 00:00:00', '1000-01-01 00:00:00'),
               (3, '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999', '9999-12-31 23:59:59'),
               (4, '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00'),
               (5, '2024-02-29 12:34:56.000001', '2024-02-29 12:34:56.001', '2024-02-29 12:34:56')",
        ),
        Family::new(
            "timestamps",
            "t6 TIMESTAMP(6) NULL, t2 TIMESTAMP(2) NULL, t0 TIMESTAMP NULL",
            "SET SESSION sql_mode = '';
             SET SESSION time_zone = '+00:00';
             INSERT INTO timestamps VALUES
               (2, '1970-01-01 00:00:01', '1970-01-01 00:00:01', '1970-01-01 00:00:01'),
               (3, '2038-01-19 03:14:07.999999', '2038-01-19 03:14:07.99', '2038-01-19 03:14:07'),
               (4, '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00'),
               (5, '2024-02-29 12:34:56.000001', '2024-02-29 12:34:56.01', '2024-02-29 12:34:56');
             SET SESSION time_zone = '+05:30';
             INSERT INTO timestamps VALUES
               (6, '2024-06-01 12:00:00.5', '2024-06-01 12:00:00.5', '2024-06-01 12:00:00')",
        ),
        Family::new(
            "times",
            "t6 TIME(6), t3 TIME(3), t2 TIME(2), t0 TIME",
            "INSERT INTO times VALUES
               (2, '-838:59:59', '-838:59:59', '-838:59:59', '-838:59:59'),
               (3, '838:59:59.999999', '838:59:59.999', '838:59:59.99', '838:59:59'),
               (4, '-00:00:00.000001', '-00:00:00.001', '-00:00:00.01', '00:00:00'),
               (5, '-12:34:56.789012', '-12:34:56.789', '-12:34:56.78', '-12:34:56'),
               (6, '00:00:00.000001', '00:00:00.001', '23:59:59.5', '24:00:00')",
        ),
        Family::new(
            "years",
            "y YEAR",
            "INSERT INTO years VALUES (2, 1901), (3, 2155), (4, 0), (5, 2000)",
        ),
        Family::new(
            "jsons",
            "j JSON",
            r#"INSERT INTO jsons VALUES
               (2, '{"b": 1, "a": [1, [2, [3, []]], {}], "s": "é😀", "q": "a\\"b",
                    "big": 12345678901234567890123456789, "small": -0.5e-10, "f": 1.50}'),
               (3, 'null'),
               (4, '[]'),
               (5, '"just a string"'),
               (6, '{"z": {"y": {"x": [true, false, null]}}}')"#,
        ),
        Family::new(
            "enums",
            format!("e ENUM('a', 'c d', 'é😀', 'it''s'), wide ENUM({})", numbered_labels(300)),
            "SET SESSION sql_mode = '';
             INSERT INTO enums VALUES (2, 'é😀', 'm300'), (3, 'it''s', 'm1'), (4, 'not a label', 'no'),
               (5, 'c d', 'm256')",
        ),
        Family::new(
            "sets",
            format!("s SET('a', 'b', 'c d', 'é😀'), wide SET({})", numbered_labels(64)),
            "INSERT INTO sets VALUES (2, 'c d,a', 18446744073709551615), (3, '', ''),
               (4, 'é😀,c d,b,a', 'm64'), (5, 'b', 'm1,m64')",
        ),
        Family::new(
            "bits",
            "b1 BIT(1), b5 BIT(5), b64 BIT(64)",
            "INSERT INTO bits VALUES
               (2, b'1', b'10101', x'ffffffffffffffff'),
               (3, b'0', b'00001', x'8000000000000001'),
               (4, b'0', b'00000', 0)",
        ),
        Family::new(
            "geometries",
            "p POINT, g GEOMETRY, pl POLYGON",
            "INSERT INTO geometries VALUES
               (2, ST_GeomFromText('POINT(1 2)', 4326),
                   ST_GeomFromText('LINESTRING(0 0, 1 1)', 4326),
                   ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))', 4326)),
               (3, ST_GeomFromText('POINT(1 2)', 0),
                   ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 2))', 0),
                   ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))', 0))",
        ),
        Family::new(
            "uuids",
            "u UUID",
            "INSERT INTO uuids VALUES
               (2, '123e4567-e89b-12d3-a456-426614174000'),
               (3, '6ccd780c-baba-4026-9564-5b8c656024db'),
               (4, 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
               (5, '12345678-9abc-4ef0-8234-000000000000'),
               (6, '00000000-0000-0000-0000-000000000000'),
               (7, '01890a5d-ac96-774b-bcce-b302099a8057')",
        ),
    ]
}

/// The MySQL/MariaDB family `name`.
pub(crate) fn mysql_family(name: &str) -> Family {
    mysql()
        .into_iter()
        .find(|family| family.name == name)
        .unwrap_or_else(|| panic!("no MySQL type family `{name}`"))
}

/// `'m1', 'm2', ..., 'm<n>'`: the labels of an ENUM or SET with `n` of them.
fn numbered_labels(n: usize) -> String {
    let labels: Vec<String> = (1..=n).map(|i| format!("'m{i}'")).collect();
    labels.join(", ")
}

/// The families of a PostgreSQL source: every type `PgSource` reads (arrays, `interval`
/// and ranges it refuses). NaN and the infinities have families of their own, which only
/// targets that hold them receive.
pub(crate) fn postgres() -> Vec<Family> {
    vec![
        Family::new(
            "integers",
            "i16 smallint, i32 integer, i64 bigint",
            "INSERT INTO integers VALUES
               (2, 32767, 2147483647, 9223372036854775807),
               (3, -32768, -2147483648, -9223372036854775808),
               (4, 0, -1, 1)",
        ),
        Family::new(
            "numerics",
            "big numeric(65,30), small numeric(5,2), free numeric, whole numeric(18,0)",
            "INSERT INTO numerics VALUES
               (2, 99999999999999999999999999999999999.999999999999999999999999999999, 999.99,
                12345678901234567890.123456789012345678901234567890, 999999999999999999),
               (3, -99999999999999999999999999999999999.999999999999999999999999999999, -999.99,
                -0.000000000000000000000000000001, -999999999999999999),
               (4, 0.000000000000000000000000000001, 0, 0, 0),
               (5, 0, 0.10, 1.50, -1)",
        ),
        Family::new(
            "floats",
            "r real, d double precision",
            "INSERT INTO floats VALUES
               (2, 3.4028235e38, 1.7976931348623157e308),
               (3, -3.4028235e38, -1.7976931348623157e308),
               (4, 1.1754944e-38, 2.2250738585072014e-308),
               (5, 1e-45, 5e-324),
               (6, '-0', '-0'),
               (7, 0.1, 0.1)",
        ),
        Family::new(
            "float_infinities",
            "r real, d double precision",
            "INSERT INTO float_infinities VALUES
               (2, 'Infinity', 'Infinity'), (3, '-Infinity', '-Infinity'), (4, 1.5, 2.5)",
        ),
        Family::new(
            "float_nans",
            "r real, d double precision",
            "INSERT INTO float_nans VALUES (2, 'NaN', 'NaN'), (3, 1.5, 'NaN'), (4, 'NaN', 2.5)",
        ),
        Family::new(
            "texts",
            "c char(10), v varchar(20), x text, w char(300)",
            r"INSERT INTO texts VALUES
               (2, 'é€😀', 'émoji 😀🇫🇷 ', 'it''s a \ 日本語 👩‍👩‍👧', repeat('😀', 300)),
               (3, 'ab  ', '  ', repeat('😀', 10000), 'a'),
               (4, '', '', '', '')",
        ),
        Family::new(
            "byteas",
            "b bytea",
            r"INSERT INTO byteas VALUES
               (2, '\x00ff80fe'), (3, '\x'), (4, '\x00'), (5, decode(repeat('ff00', 5000), 'hex'))",
        ),
        Family::new(
            "booleans",
            "b boolean",
            "INSERT INTO booleans VALUES (2, true), (3, false)",
        ),
        Family::new(
            "dates",
            "d date",
            "INSERT INTO dates VALUES
               (2, '1000-01-01'), (3, '9999-12-31'), (4, '2024-02-29'), (5, '0001-01-01')",
        ),
        Family::new(
            "times",
            "t6 time(6), t3 time(3), t0 time(0)",
            "INSERT INTO times VALUES
               (2, '00:00:00', '00:00:00', '00:00:00'),
               (3, '23:59:59.999999', '23:59:59.999', '23:59:59'),
               (4, '24:00:00', '24:00:00', '24:00:00'),
               (5, '12:34:56.000001', '12:34:56.001', '12:34:56')",
        ),
        Family::new(
            "timestamps",
            "t6 timestamp(6), t3 timestamp(3), t0 timestamp(0)",
            "INSERT INTO timestamps VALUES
               (2, '1000-01-01 00:00:00', '1000-01-01 00:00:00', '1000-01-01 00:00:00'),
               (3, '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999', '9999-12-31 23:59:59'),
               (4, '2024-02-29 12:34:56.000001', '2024-02-29 12:34:56.001', '2024-02-29 12:34:56')",
        ),
        // Instants written in three time zones; a MySQL target holds 1970 to 2038.
        Family::new(
            "timestamptzs",
            "z6 timestamptz(6), z3 timestamptz(3), z0 timestamptz(0)",
            "SET TimeZone = 'UTC';
             INSERT INTO timestamptzs VALUES
               (2, '1970-01-01 00:00:01', '1970-01-01 00:00:01', '1970-01-01 00:00:01'),
               (3, '2038-01-19 03:14:07.999999', '2038-01-19 03:14:07.999', '2038-01-19 03:14:07');
             SET TimeZone = 'Asia/Kolkata';
             INSERT INTO timestamptzs VALUES
               (4, '2024-06-01 12:00:00.5', '2024-06-01 12:00:00.5', '2024-06-01 12:00:00');
             SET TimeZone = 'America/St_Johns';
             INSERT INTO timestamptzs VALUES
               (5, '2024-02-29 23:59:59.000001', '2024-02-29 23:59:59.001', '2024-02-29 23:59:59')",
        ),
        // `json` keeps its text (key order, spaces, duplicate keys); `jsonb` reorders.
        Family::new(
            "jsons",
            "j json, jb jsonb",
            r#"INSERT INTO jsons VALUES
               (2, '{"b": 1, "a": [1, [2, []], {}], "s": "é😀", "q": "a\"b"}',
                   '{"b": 1, "a": [1, [2, []], {}], "big": 12345678901234567890123456789, "f": 1.50}'),
               (3, 'null', 'null'),
               (4, '[]', '"just a string"'),
               (5, '{"z": {"y": {"x": [true, false, null]}}}', '{"z": {"y": {"x": [true, false, null]}}}'),
               (6, '{"a": 1, "n": 1e2, "a": 2, "m": 100.0, "u": "\u00e9\ud83d\ude00"}',
                   '{"n": 1E+2, "m": -0.0e-3, "u": "\u00e9"}')"#,
        ),
        Family::new(
            "uuids",
            "u uuid",
            "INSERT INTO uuids VALUES
               (2, '123e4567-e89b-12d3-a456-426614174000'),
               (3, 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
               (4, '00000000-0000-0000-0000-000000000000'),
               (5, '12345678-9abc-4ef0-8234-000000000000')",
        ),
        Family::new(
            "enums",
            "e mood",
            "INSERT INTO enums VALUES (2, 'sad'), (3, 'c d'), (4, 'é😀'), (5, 'it''s')",
        )
        .with_types("CREATE TYPE mood AS ENUM ('sad', 'c d', 'é😀', 'it''s');"),
        Family::new(
            "bits",
            "b1 bit(1), b5 bit(5), b64 bit(64)",
            "INSERT INTO bits VALUES
               (2, B'1', B'10101', x'ffffffffffffffff'),
               (3, B'0', B'00001', x'8000000000000001'),
               (4, B'0', B'00000', x'0000000000000000')",
        ),
    ]
}
