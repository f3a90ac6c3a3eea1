//! Rows bound as the parameters of multi-row statements (`INSERT ... VALUES (?, ?),
//! (?, ?)`, `DELETE ... WHERE k IN (?, ?)`), as many to a statement as fit.
//!
//! A statement's text and its parameters each travel in one packet, which neither the
//! server nor the client takes beyond `max_allowed_packet`, and a statement has at
//! most 65535 parameters. Parameters beyond one 16 MiB protocol packet would make the
//! driver send each of them in a packet of its own, so statements stay below that too.

use dbsync_core::{Result, Value};
use mysql_async::prelude::Queryable;
use mysql_async::{Params, Value as Wire};

use crate::error::driver_error;
use crate::protocol_value::to_wire;
use crate::target_table::TargetColumn;

/// The most parameters one prepared statement takes.
const MAX_PARAMS: usize = u16::MAX as usize;
/// The largest packet the protocol sends in one piece (16 MiB less one byte).
const MAX_PAYLOAD: usize = (1 << 24) - 1;

/// A statement made of a head, one placeholder group per row, and a tail.
#[derive(Debug)]
pub(crate) struct MultiRow {
    pub(crate) head: String,
    /// The placeholders of one row, such as `(?, ?)`.
    pub(crate) row: String,
    pub(crate) separator: &'static str,
    pub(crate) tail: String,
    pub(crate) params_per_row: usize,
}

impl MultiRow {
    /// Runs the statement over `rows`, the values of `columns`, in as few statements
    /// as fit `packet`, the largest packet both ends accept. A row that does not fit
    /// alone goes alone, for the server to take or refuse.
    pub(crate) async fn execute<Q: Queryable, R: AsRef<[Value]>>(
        &self,
        conn: &mut Q,
        columns: &[TargetColumn],
        rows: &[R],
        packet: usize,
        doing: &str,
    ) -> Result<()> {
        let mut params = Vec::new();
        let (mut count, mut data) = (0, 0);
        for row in rows {
            let row = row_params(columns, row.as_ref())?;
            let row_data: usize = row.iter().map(|value| value.bin_len() as usize).sum();
            if count > 0 && !self.fits(count + 1, data + row_data, packet) {
                self.run(conn, count, std::mem::take(&mut params), doing)
                    .await?;
                (count, data) = (0, 0);
            }
            params.extend(row);
            count += 1;
            data += row_data;
        }
        if count > 0 {
            self.run(conn, count, params, doing).await?;
        }
        Ok(())
    }

    /// Whether a statement of `rows` rows with `data` bytes of parameter values fits.
    fn fits(&self, rows: usize, data: usize, packet: usize) -> bool {
        let params = rows * self.params_per_row;
        // COM_STMT_EXECUTE: a 10-byte header, the NULL bitmap, a flag, two bytes of
        // type per parameter, then the values (as mysql_common lays them out).
        let execute = 10 + params.div_ceil(8) + 1 + 2 * params + data;
        // COM_STMT_PREPARE: a command byte and the text.
        let prepare = 1 + self.text_len(rows);
        params <= MAX_PARAMS && execute <= packet.min(MAX_PAYLOAD) && prepare <= packet
    }

    fn text_len(&self, rows: usize) -> usize {
        self.head.len()
            + rows * self.row.len()
            + (rows - 1) * self.separator.len()
            + self.tail.len()
    }

    async fn run<Q: Queryable>(
        &self,
        conn: &mut Q,
        rows: usize,
        params: Vec<Wire>,
        doing: &str,
    ) -> Result<()> {
        let mut text = String::with_capacity(self.text_len(rows));
        text.push_str(&self.head);
        for i in 0..rows {
            if i > 0 {
                text.push_str(self.separator);
            }
            text.push_str(&self.row);
        }
        text.push_str(&self.tail);
        conn.exec_drop(text, Params::Positional(params))
            .await
            .map_err(|e| driver_error(doing, e))
    }
}

/// `values` as the parameters of `columns`, each checked to fit.
fn row_params(columns: &[TargetColumn], values: &[Value]) -> Result<Vec<Wire>> {
    columns
        .iter()
        .zip(values)
        .map(|(column, value)| to_wire(column.checked(value)?))
        .collect()
}

/// `(?, ?, ?)` for `count` parameters.
pub(crate) fn placeholders(count: usize) -> String {
    format!("({})", vec!["?"; count].join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insert(columns: usize) -> MultiRow {
        MultiRow {
            head: "INSERT INTO t VALUES ".into(),
            row: placeholders(columns),
            separator: ", ",
            tail: String::new(),
            params_per_row: columns,
        }
    }

    #[test]
    fn statements_stay_within_the_packet_and_the_parameter_limit() {
        let two = insert(2);
        assert!(two.fits(1000, 16_000, 1 << 20));
        assert!(!two.fits(40_000, 0, 1 << 30), "80000 parameters");
        assert!(
            !two.fits(1000, 1 << 20, 1 << 20),
            "values beyond the packet"
        );
        // The text of 10000 rows of `(?, ?)` passes 64 KiB on its own.
        assert!(!two.fits(10_000, 0, 64 << 10));
        assert!(!two.fits(1000, MAX_PAYLOAD, 1 << 30), "one protocol packet");
    }
}
