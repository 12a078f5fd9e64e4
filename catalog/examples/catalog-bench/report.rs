//! The table the benchmark ends with: one column per database, the target beside each
//! figure that has one, MISSED next to a figure that misses it.

use std::time::Duration;

use crate::latency::Latency;

/// The slowest a student's list request may be at the 99th percentile.
pub const P99_TARGET: Duration = Duration::from_millis(5);
/// The least share of nginx's static playlist throughput the catalog should reach.
pub const RATIO_TARGET: f64 = 0.5;

/// What one database's run measured.
pub struct Figures {
    pub database: String,
    pub seed: Duration,
    pub my_courses: Latency,
    pub lectures: Latency,
    pub catalog_rps: f64,
    pub nginx_rps: f64,
}

/// Picks one of a run's latencies.
type Pick = fn(&Figures) -> &Latency;

const LABEL: usize = 44;
const CELL: usize = 18;

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// A figure, marked when it misses its target.
fn cell(text: String, met: bool) -> String {
    if met {
        text
    } else {
        format!("{text} MISSED")
    }
}

fn row(label: &str, cells: impl Iterator<Item = String>, target: &str) {
    let cells: String = cells.map(|c| format!("{c:>CELL$}")).collect();
    println!("{label:<LABEL$}{cells}   {target}");
}

pub fn print(title: &str, notes: &[String], figures: &[Figures]) {
    println!("\n{title}");
    for note in notes {
        println!("  {note}");
    }
    println!();
    row("", figures.iter().map(|f| f.database.clone()), "target");
    row(
        "seeding (s)",
        figures
            .iter()
            .map(|f| format!("{:.1}", f.seed.as_secs_f64())),
        "",
    );
    let latencies: [(&str, Pick); 2] = [
        ("GET /api/v1/courses", |f| &f.my_courses),
        ("GET /api/v1/courses/{id}/lectures", |f| &f.lectures),
    ];
    for (name, latency) in latencies {
        row(
            &format!("{name}  p50 (ms)"),
            figures.iter().map(|f| ms(latency(f).percentile(50.0))),
            "",
        );
        row(
            &format!("{:<width$}  p99 (ms)", "", width = name.len()),
            figures.iter().map(|f| {
                let p99 = latency(f).percentile(99.0);
                cell(ms(p99), p99 <= P99_TARGET)
            }),
            &format!("<= {}", ms(P99_TARGET)),
        );
    }
    row(
        "media playlist, catalog (req/s)",
        figures.iter().map(|f| format!("{:.0}", f.catalog_rps)),
        "",
    );
    row(
        "media playlist, nginx static (req/s)",
        figures.iter().map(|f| format!("{:.0}", f.nginx_rps)),
        "",
    );
    row(
        "catalog / nginx",
        figures.iter().map(|f| {
            let ratio = f.catalog_rps / f.nginx_rps;
            cell(format!("{ratio:.2}"), ratio >= RATIO_TARGET)
        }),
        &format!(">= {RATIO_TARGET:.2}"),
    );
}
