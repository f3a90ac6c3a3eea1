/// The SQL condition that selects the rows a [`super::PollReader`] reads after a cursor
/// of `cursor_len` values, over `expressions`, the engine's SQL for the cursor columns
/// in tuple order. `placeholder(i)` writes the parameter of the cursor's `i`-th value;
/// the first value's parameter appears twice.
///
/// An empty cursor gives `e1 IS NOT NULL`; a cursor as long as the tuple gives
/// `e1 >= p0 AND (e1, …, en) > (p0, …, pn)`; a shorter one compares its prefix with
/// `>=`, so that `[T]` selects the rows from `T` on. The first term, implied by the
/// second, lets every engine find the rows through an index on the leading column
/// (MariaDB does not use an index for a row comparison).
pub fn after_cursor_sql(
    expressions: &[String],
    cursor_len: usize,
    mut placeholder: impl FnMut(usize) -> String,
) -> String {
    let Some(lead) = expressions.first() else {
        return "TRUE".to_owned();
    };
    if cursor_len == 0 {
        return format!("{lead} IS NOT NULL");
    }
    let first = placeholder(0);
    let compared = &expressions[..cursor_len.min(expressions.len())];
    let parameters: Vec<String> = (0..compared.len()).map(&mut placeholder).collect();
    let operator = if cursor_len < expressions.len() {
        ">="
    } else {
        ">"
    };
    format!(
        "{lead} >= {first} AND ({}) {operator} ({})",
        compared.join(", "),
        parameters.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<String> {
        vec!["ts".to_owned(), "k".to_owned()]
    }

    #[test]
    fn a_whole_cursor_selects_the_tuples_after_it() {
        let numbered = |i: usize| format!("${}", i + 1);
        assert_eq!(
            after_cursor_sql(&columns(), 2, numbered),
            "ts >= $1 AND (ts, k) > ($1, $2)"
        );
    }

    #[test]
    fn a_shorter_cursor_selects_from_its_prefix_on() {
        assert_eq!(
            after_cursor_sql(&columns(), 1, |_| "?".to_owned()),
            "ts >= ? AND (ts) >= (?)"
        );
        assert_eq!(
            after_cursor_sql(&columns(), 0, |_| "?".to_owned()),
            "ts IS NOT NULL"
        );
    }
}
