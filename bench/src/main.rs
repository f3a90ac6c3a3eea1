//! dbsync's benchmark on a sysbench table, against the ceilings of the same machine in
//! the same run.
//!
//! ```text
//! cargo build --release -p dbsync -p dbsync-bench && target/release/dbsync-bench [--rows N] [--runs K] [--only postgres,mysql,sqlite,triggers,verify]
//! ```
//!
//! Figures, by section:
//! - postgres: MySQL -> PostgreSQL copy beside `mariadb | psql \copy` (the ceiling) and
//!   pgloader (the peer); streaming apply in row changes per second; end-to-end lag
//!   while sysbench oltp_write_only runs at 500 tps; dbsync's peak memory.
//! - mysql: MySQL -> MySQL copy beside the `mariadb` client's LOAD DATA LOCAL INFILE.
//! - sqlite: MySQL -> SQLite copy rate beside a plain rusqlite bulk insert.
//! - triggers: sysbench tps with and without dbsync's triggers, and the lag of trigger
//!   capture under that load.
//! - verify: `dbsync verify` MySQL -> MySQL beside pt-table-checksum of the same tables,
//!   MySQL -> PostgreSQL, against the server's own checksum of the table (the ceiling).
//!
//! Copy figures are medians of `--runs` runs. Results go to bench/results/<time>.json.

mod measure;
mod mysql_target;
mod scenario;
mod sqlite_target;
mod trigger_capture;
mod verify;

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::measure::median;
use dbsync_mysql::writer::CopyMethod;

use crate::scenario::Bench;

struct Args {
    rows: u64,
    runs: usize,
    lag_seconds: u64,
    /// A quick run that checks the bench works; its figures mean nothing and are not
    /// kept.
    smoke: bool,
    sections: Vec<String>,
}

const SECTIONS: [&str; 5] = ["postgres", "mysql", "sqlite", "triggers", "verify"];

/// A section of the bench: it prints its figures and gives them for the results file.
type Section = fn(&Bench, &Args, &tokio::runtime::Runtime) -> Value;

fn args() -> Args {
    let mut args = Args {
        rows: 1_000_000,
        runs: 3,
        lag_seconds: 20,
        smoke: false,
        sections: SECTIONS.map(String::from).to_vec(),
    };
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        let mut value = |name: &str| -> u64 {
            given
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match arg.as_str() {
            "--rows" => args.rows = value("--rows"),
            "--runs" => args.runs = value("--runs") as usize,
            "--lag-seconds" => args.lag_seconds = value("--lag-seconds"),
            "--smoke" => {
                args = Args {
                    rows: 20_000,
                    runs: 1,
                    lag_seconds: 3,
                    smoke: true,
                    sections: args.sections,
                }
            }
            "--only" => {
                let list = given.next().unwrap_or_default();
                args.sections = list.split(',').map(str::to_owned).collect();
                if let Some(unknown) = args
                    .sections
                    .iter()
                    .find(|s| !SECTIONS.contains(&s.as_str()))
                {
                    panic!(
                        "unknown section {unknown}; the sections are {}",
                        SECTIONS.join(", ")
                    );
                }
            }
            other => panic!(
                "unknown argument {other}; use --rows N, --runs K, --lag-seconds S, --only SECTIONS or --smoke"
            ),
        }
    }
    args
}

fn main() {
    let args = args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let bench = runtime.block_on(Bench::prepare(args.rows));
    let mut result = json!({
        "time": chrono::Utc::now().to_rfc3339(),
        "rows": args.rows,
        "runs": args.runs,
        "cores": std::thread::available_parallelism().map_or(0, usize::from),
    });
    let sections: [(&str, Section); 5] = [
        ("postgres", postgres),
        ("mysql", mysql),
        ("sqlite", sqlite),
        ("triggers", triggers),
        ("verify", verify),
    ];
    for (name, section) in sections {
        if args.sections.iter().any(|s| s == name) {
            println!();
            result[name] = section(&bench, &args, &runtime);
        }
    }
    if args.smoke {
        println!("\nA smoke run: results not kept.");
        return;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("results");
    std::fs::create_dir_all(&dir).expect("creating bench/results");
    let path = dir.join(format!(
        "{}.json",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    ));
    std::fs::write(&path, serde_json::to_string_pretty(&result).expect("JSON"))
        .expect("writing the results");
    println!("\nResults written to {}", path.display());
}

/// MySQL -> PostgreSQL: copy, pgloader, streaming apply, lag, memory.
fn postgres(bench: &Bench, args: &Args, runtime: &tokio::runtime::Runtime) -> Value {
    let (mut ceiling, mut ours, mut pgloader, mut ours_rss) = (vec![], vec![], vec![], vec![]);
    // Ratios per run, each of two copies made back to back: on a shared machine they
    // see the same load, where medians taken apart may come from different moments.
    let mut ratios = vec![];
    for run in 1..=args.runs {
        let c = bench.copy_ceiling();
        let d = runtime.block_on(bench.copy_with_dbsync());
        let p = bench.copy_with_pgloader();
        println!(
            "run {run}: ceiling {:.2} s, dbsync {:.2} s ({:.0} MiB, {:.2} CPU-s), pgloader {}",
            c.seconds,
            d.seconds,
            d.peak_rss_mb,
            d.cpu_seconds,
            p.as_ref().map_or_else(
                |e| format!("failed: {e}"),
                |p| format!("{:.2} s", p.seconds)
            )
        );
        ceiling.push(c.seconds);
        ours.push(d.seconds);
        ratios.push(d.seconds / c.seconds);
        ours_rss.push(d.peak_rss_mb);
        if let Ok(p) = p {
            pgloader.push(p.seconds);
        }
    }
    let stream = runtime.block_on(bench.stream(args.lag_seconds));

    let (ceiling, ours, pgloader) = (
        median(&mut ceiling),
        median(&mut ours),
        median(&mut pgloader),
    );
    let ratio = median(&mut ratios);
    let peak_rss = ours_rss.iter().copied().fold(stream.peak_rss_mb, f64::max);
    let rows = args.rows as f64;
    println!();
    println!(
        "MySQL -> PostgreSQL, {} rows of sysbench's sbtest1, medians of {} runs",
        args.rows, args.runs
    );
    println!(
        "  initial copy, mariadb | psql \\copy (ceiling)  {ceiling:8.2} s  {:>10.0} rows/s",
        rows / ceiling
    );
    println!(
        "  initial copy, dbsync                         {ours:8.2} s  {:>10.0} rows/s  {ratio:.2}x the ceiling, median of per-run ratios (goal <= 1.10)",
        rows / ours,
    );
    println!(
        "  initial copy, pgloader                       {pgloader:8.2} s  {:>10.0} rows/s  {:.2}x dbsync's time",
        rows / pgloader,
        pgloader / ours
    );
    println!(
        "  streaming apply ({} updates in one transaction) {:>10.0} row changes/s (goal >= 50,000)",
        args.rows, stream.apply_rate
    );
    println!(
        "  lag under sysbench oltp_write_only at 500 tps: p50 {:.1} ms, p99 {:.1} ms (goal <= 100), max {:.1} ms, {} probes, sysbench did {:.0} tps",
        stream.lag_p50_ms, stream.lag_p99_ms, stream.lag_max_ms, stream.probes, stream.sysbench_tps
    );
    println!("  dbsync peak RSS                              {peak_rss:8.1} MiB (goal <= 150)");

    json!({
        "copy_seconds": { "ceiling_mariadb_psql": ceiling, "dbsync": ours, "pgloader": pgloader },
        "copy_ratio_to_ceiling": ratio,
        "pgloader_ratio_to_dbsync": pgloader / ours,
        "stream_apply_rows_per_second": stream.apply_rate,
        "lag_ms": { "p50": stream.lag_p50_ms, "p99": stream.lag_p99_ms, "max": stream.lag_max_ms, "probes": stream.probes },
        "sysbench_tps": stream.sysbench_tps,
        "peak_rss_mib": peak_rss,
    })
}

/// MySQL -> MySQL: dbsync's copy beside LOAD DATA LOCAL INFILE.
fn mysql(bench: &Bench, args: &Args, runtime: &tokio::runtime::Runtime) -> Value {
    let (mut ceiling, mut ours, mut ratios) = (vec![], vec![], vec![]);
    let (mut by_load, mut by_insert) = (vec![], vec![]);
    for run in 1..=args.runs {
        let c = runtime.block_on(bench.mysql_load_ceiling());
        let d = bench.copy_to_mysql_with_dbsync();
        let load = runtime.block_on(bench.mysql_copy_by(CopyMethod::LoadData));
        let insert = runtime.block_on(bench.mysql_copy_by(CopyMethod::Insert));
        println!(
            "run {run}: LOAD DATA LOCAL INFILE {:.2} s, dbsync {:.2} s ({:.0} MiB, {:.2} CPU-s); the writer by LOAD DATA {load:.2} s, by INSERT {insert:.2} s",
            c.seconds, d.seconds, d.peak_rss_mb, d.cpu_seconds
        );
        ceiling.push(c.seconds);
        ours.push(d.seconds);
        ratios.push(d.seconds / c.seconds);
        by_load.push(load);
        by_insert.push(insert);
    }
    let (ceiling, ours, ratio) = (median(&mut ceiling), median(&mut ours), median(&mut ratios));
    let (by_load, by_insert) = (median(&mut by_load), median(&mut by_insert));
    let rows = args.rows as f64;
    println!(
        "MySQL -> MySQL, {} rows of sysbench's sbtest1, medians of {} runs",
        args.rows, args.runs
    );
    println!(
        "  LOAD DATA LOCAL INFILE of a dump (ceiling)  {ceiling:8.2} s  {:>10.0} rows/s",
        rows / ceiling
    );
    println!(
        "  initial copy, dbsync                        {ours:8.2} s  {:>10.0} rows/s  {ratio:.2}x the ceiling, median of per-run ratios (goal <= 1.25)",
        rows / ours
    );
    println!(
        "  the writer's two ways to copy, one lane:     LOAD DATA {by_load:.2} s, multi-row INSERT {by_insert:.2} s"
    );
    json!({
        "copy_seconds": {
            "ceiling_load_data_local_infile": ceiling,
            "dbsync": ours,
            "writer_by_load_data": by_load,
            "writer_by_insert": by_insert,
        },
        "copy_ratio_to_ceiling": ratio,
    })
}

/// MySQL -> SQLite: dbsync's copy rate beside rusqlite's bulk insert.
fn sqlite(bench: &Bench, args: &Args, runtime: &tokio::runtime::Runtime) -> Value {
    let (mut ceiling, mut ours) = (vec![], vec![]);
    for run in 1..=args.runs {
        let c = runtime.block_on(bench.rusqlite_bulk_insert(run));
        let d = bench.copy_to_sqlite_with_dbsync(run);
        println!(
            "run {run}: rusqlite bulk insert {c:.2} s, dbsync {:.2} s ({:.0} MiB, {:.2} CPU-s)",
            d.seconds, d.peak_rss_mb, d.cpu_seconds
        );
        ceiling.push(c);
        ours.push(d.seconds);
    }
    let (ceiling, ours) = (median(&mut ceiling), median(&mut ours));
    let rows = args.rows as f64;
    println!(
        "MySQL -> SQLite, {} rows of sysbench's sbtest1, medians of {} runs",
        args.rows, args.runs
    );
    println!(
        "  rusqlite bulk insert of rows in memory (ceiling) {:>10.0} rows/s",
        rows / ceiling
    );
    println!(
        "  initial copy, dbsync (read, convert, write)      {:>10.0} rows/s  {:.2} of the ceiling's rate",
        rows / ours,
        ceiling / ours
    );
    json!({
        "rows_per_second": { "ceiling_rusqlite_bulk_insert": rows / ceiling, "dbsync": rows / ours },
        "rate_ratio_to_ceiling": ceiling / ours,
    })
}

/// Trigger capture: its cost to the source's writers and its lag.
fn triggers(bench: &Bench, args: &Args, runtime: &tokio::runtime::Runtime) -> Value {
    let figures = runtime.block_on(bench.trigger_capture(args.lag_seconds));
    println!(
        "Trigger capture, sysbench oltp_write_only flat out, 4 threads, {} s",
        args.lag_seconds
    );
    println!("  source tps without triggers  {:8.0}", figures.tps_without);
    println!(
        "  source tps with triggers     {:8.0}  ({:.0}% of it)",
        figures.tps_with,
        100.0 * figures.tps_with / figures.tps_without
    );
    println!(
        "  lag under that load, MySQL -> PostgreSQL by triggers: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {} probes",
        figures.lag_p50_ms, figures.lag_p99_ms, figures.lag_max_ms, figures.probes
    );
    json!({
        "sysbench_tps": { "without_triggers": figures.tps_without, "with_triggers": figures.tps_with },
        "lag_ms": { "p50": figures.lag_p50_ms, "p99": figures.lag_p99_ms, "max": figures.lag_max_ms, "probes": figures.probes },
    })
}

/// `dbsync verify` of the table and its copies beside pt-table-checksum and the
/// server's own checksum of the table.
fn verify(bench: &Bench, args: &Args, _: &tokio::runtime::Runtime) -> Value {
    let (mut ceiling, mut mysql, mut pt, mut postgres) = (vec![], vec![], vec![], vec![]);
    // Per run, as for the copies: measured back to back, under the same load.
    let (mut mysql_ratios, mut postgres_ratios) = (vec![], vec![]);
    for run in 1..=args.runs {
        let c = bench.checksum_in_sql();
        let m = bench.verify_mysql_with_dbsync();
        let p = bench.verify_with_pt_table_checksum();
        let g = bench.verify_postgres_with_dbsync();
        println!(
            "run {run}: checksum in SQL {:.2} s, dbsync verify MySQL -> MySQL {:.2} s ({:.2} CPU-s), pt-table-checksum {}, dbsync verify MySQL -> PostgreSQL {:.2} s ({:.2} CPU-s)",
            c.seconds,
            m.seconds,
            m.cpu_seconds,
            p.as_ref().map_or_else(
                |e| format!("failed: {e}"),
                |p| format!("{:.2} s", p.seconds)
            ),
            g.seconds,
            g.cpu_seconds
        );
        ceiling.push(c.seconds);
        mysql.push(m.seconds);
        postgres.push(g.seconds);
        mysql_ratios.push(m.seconds / c.seconds);
        postgres_ratios.push(g.seconds / c.seconds);
        if let Ok(p) = p {
            pt.push(p.seconds);
        }
    }
    let (ceiling, mysql, pt, postgres) = (
        median(&mut ceiling),
        median(&mut mysql),
        median(&mut pt),
        median(&mut postgres),
    );
    let (mysql_ratio, postgres_ratio) = (median(&mut mysql_ratios), median(&mut postgres_ratios));
    let rows = args.rows as f64;
    println!(
        "verify, {} rows of sysbench's sbtest1, medians of {} runs",
        args.rows, args.runs
    );
    println!(
        "  COUNT + checksum of the table in one query (ceiling)  {ceiling:8.2} s  {:>10.0} rows/s",
        rows / ceiling
    );
    println!(
        "  dbsync verify MySQL -> MySQL, same server              {mysql:8.2} s  {:>10.0} rows/s per side (goal >= 1,000,000)  {mysql_ratio:.2}x the ceiling",
        rows / mysql
    );
    println!(
        "  pt-table-checksum of both tables, same server          {pt:8.2} s  {:>10.0} rows/s per table  {:.2}x dbsync's time",
        rows / pt,
        pt / mysql
    );
    println!(
        "  dbsync verify MySQL -> PostgreSQL                      {postgres:8.2} s  {:>10.0} rows/s per side (goal >= 300,000)  {postgres_ratio:.2}x the ceiling",
        rows / postgres
    );
    json!({
        "seconds": {
            "ceiling_checksum_in_sql": ceiling,
            "dbsync_mysql_to_mysql": mysql,
            "pt_table_checksum": pt,
            "dbsync_mysql_to_postgres": postgres,
        },
        "rows_per_second_per_side": { "mysql_to_mysql": rows / mysql, "mysql_to_postgres": rows / postgres },
        "ratio_to_ceiling": { "mysql_to_mysql": mysql_ratio, "mysql_to_postgres": postgres_ratio },
        "pt_table_checksum_ratio_to_dbsync": pt / mysql,
    })
}
