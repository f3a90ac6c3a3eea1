//! dbsync's benchmark: MySQL/MariaDB → PostgreSQL on a sysbench table, against the
//! ceilings of the same machine in the same run.
//!
//! ```text
//! cargo build --release -p dbsync -p dbsync-bench && target/release/dbsync-bench [--rows N] [--runs K]
//! ```
//!
//! Figures: the initial copy beside `mariadb | psql \copy` (the ceiling) and pgloader
//! (the peer); streaming apply in row changes per second; end-to-end lag while
//! sysbench oltp_write_only runs at 500 tps; dbsync's peak memory. Copy figures are
//! medians of `--runs` runs. Results go to bench/results/<time>.json.

mod measure;
mod scenario;

use std::path::PathBuf;

use serde_json::json;

use crate::measure::median;
use crate::scenario::Bench;

struct Args {
    rows: u64,
    runs: usize,
    lag_seconds: u64,
    /// A quick run that checks the bench works; its figures mean nothing and are not
    /// kept.
    smoke: bool,
}

fn args() -> Args {
    let mut args = Args {
        rows: 1_000_000,
        runs: 3,
        lag_seconds: 20,
        smoke: false,
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
                }
            }
            other => panic!(
                "unknown argument {other}; use --rows N, --runs K, --lag-seconds S or --smoke"
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

    let result = json!({
        "time": chrono::Utc::now().to_rfc3339(),
        "rows": args.rows,
        "runs": args.runs,
        "cores": std::thread::available_parallelism().map_or(0, usize::from),
        "copy_seconds": { "ceiling_mariadb_psql": ceiling, "dbsync": ours, "pgloader": pgloader },
        "copy_ratio_to_ceiling": ratio,
        "pgloader_ratio_to_dbsync": pgloader / ours,
        "stream_apply_rows_per_second": stream.apply_rate,
        "lag_ms": { "p50": stream.lag_p50_ms, "p99": stream.lag_p99_ms, "max": stream.lag_max_ms, "probes": stream.probes },
        "sysbench_tps": stream.sysbench_tps,
        "peak_rss_mib": peak_rss,
    });
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
