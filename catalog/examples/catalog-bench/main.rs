//! The catalog benchmark (`catalog/bench/catalog.sh` installs what it needs, builds it in
//! release mode and runs it). On SQLite and on a throwaway PostgreSQL cluster in turn it:
//!
//! 1. seeds a university-sized catalog ([`shape`]: 10 000 courses, 1 000 000 enrolments,
//!    200 000 lectures with a rendition and segments each) through the catalog's migrations
//!    and bulk inserts ([`seed`], [`bulk`]);
//! 2. serves it with the real catalog on a loopback port ([`server`]), logs students in
//!    through the API and times their "my courses" and "lectures of a course" requests
//!    ([`latency`]);
//! 3. loads authorised media playlists with `wrk`, from the catalog and from nginx serving
//!    the same bytes as static files ([`playlists`], [`nginx`]);
//!
//! and prints the figures against their targets ([`report`]). A missed target is printed,
//! not an error: the exit status is non-zero only when something failed.

mod api;
mod bulk;
mod latency;
mod nginx;
#[path = "../../tests/support/pg_cluster.rs"]
mod pg_cluster;
mod playlists;
mod report;
mod seed;
mod server;
mod shape;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use indicatif::HumanCount;
use lectern_catalog::auth::hash_password;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use std::fmt;
use std::path::PathBuf;
use std::time::Instant;
use tracing_subscriber::EnvFilter;

/// mimalloc, not the system's malloc: under load glibc's arenas serialise the many small
/// allocations of a request (hyper, axum, tokio) whenever threads free each other's memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use crate::playlists::Load;
use crate::report::Figures;
use crate::shape::{Shape, Sizes};

/// Every seeded user's password (hashed once: argon2 is slow on purpose).
const PASSWORD: &str = "lectern-bench";

/// Lectern's catalog benchmark: seeds a large catalog on SQLite and PostgreSQL, then
/// measures students' list requests and media playlist throughput against nginx.
#[derive(Parser, Debug)]
#[command(
    name = "catalog-bench",
    after_help = "Needs initdb and postgres (Debian: postgresql), nginx (nginx-light) and \
wrk; catalog/bench/catalog.sh installs them. Catalog logging: RUST_LOG (default warn)."
)]
struct Args {
    /// Courses, spread evenly over the institutes.
    #[arg(long, default_value_t = 10_000)]
    courses: usize,
    /// Enrolments: one instructor per course, the rest students in 5 to 10 courses each.
    #[arg(long, default_value_t = 1_000_000)]
    enrolments: usize,
    /// Lectures, spread evenly over the courses.
    #[arg(long, default_value_t = 200_000)]
    lectures: usize,
    /// Institutes; a student's courses are all in their own institute.
    #[arg(long, default_value_t = 10)]
    institutes: usize,
    /// Segments of each lecture's one rendition (the playlist lectures get more).
    #[arg(long, default_value_t = 3)]
    segments: u32,
    /// Students logged in and picked at random for each timed request.
    #[arg(long, default_value_t = 200)]
    students: usize,
    /// Timed requests per endpoint and database.
    #[arg(long, default_value_t = 2_000)]
    samples: usize,
    /// Lectures whose media playlists wrk requests in turn.
    #[arg(long, default_value_t = 100)]
    playlists: usize,
    /// Segments (2 s each) in those playlists.
    #[arg(long, default_value_t = 60)]
    playlist_segments: u32,
    /// Seconds of each wrk run (after a 2 s warm-up).
    #[arg(long, default_value_t = 10)]
    wrk_seconds: u32,
    /// wrk threads.
    #[arg(long, default_value_t = 2)]
    wrk_threads: u32,
    /// wrk connections.
    #[arg(long, default_value_t = 64)]
    wrk_connections: u32,
    /// The databases to run on, in this order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "sqlite,postgres"
    )]
    database: Vec<Database>,
    /// Where the SQLite file and the catalog's storage go (default: a temporary
    /// directory, removed afterwards).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Keep the work directory afterwards (e.g. to look at SQLite's query plans).
    #[arg(long)]
    keep: bool,
    /// Seed and measure this empty PostgreSQL database instead of a throwaway cluster.
    #[arg(long, value_name = "URL")]
    postgres_url: Option<String>,
    /// The seed of the random shape and sampling: the same seed, the same rows.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Database {
    Sqlite,
    Postgres,
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Database::Sqlite => "SQLite",
            Database::Postgres => "PostgreSQL",
        })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        // sqlx warns of slow statements: the bulk load's are slow on purpose.
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn,sqlx::query=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let sizes = Sizes {
        institutes: args.institutes,
        courses: args.courses,
        enrolments: args.enrolments,
        lectures: args.lectures,
        segments_per_lecture: args.segments,
        bench_students: args.students,
        playlist_lectures: args.playlists,
        playlist_segments: args.playlist_segments,
    };
    anyhow::ensure!(
        args.courses > 0 && args.lectures >= args.courses && args.enrolments >= 2 * args.courses,
        "the catalog needs courses, a lecture per course and students in them"
    );
    // Other work on the machine skews every figure: the report says how busy it was.
    let load_before = load_average();
    let shape = Shape::generate(&sizes, args.seed);
    let password_hash = tokio::task::spawn_blocking(|| hash_password(PASSWORD)).await??;
    let load = Load {
        threads: args.wrk_threads,
        connections: args.wrk_connections,
        seconds: args.wrk_seconds,
    };

    let mut figures = Vec::new();
    for &database in &args.database {
        eprintln!("\n{database}");
        let run = run_on(database, &args, &shape, &password_hash, &load).await;
        figures.push(run.with_context(|| format!("the benchmark on {database}"))?);
    }

    let title = format!(
        "Catalog benchmark: {} courses in {} institutes, {} enrolments ({} students), {} lectures \
         ({} segments), on {} cores",
        HumanCount(shape.courses.len() as u64),
        args.institutes,
        HumanCount(shape.enrolments.len() as u64),
        HumanCount(shape.students() as u64),
        HumanCount(shape.lectures.len() as u64),
        HumanCount(shape.segments()),
        std::thread::available_parallelism().map_or(1, usize::from),
    );
    let notes = [
        format!(
            "load average (1 min) before the run {load_before}, after it {}",
            load_average()
        ),
        format!(
            "latency: {} requests per endpoint, one at a time, each by a random one of {} \
             logged-in students, every answer checked",
            args.samples, args.students
        ),
        format!(
            "playlists: wrk -t{} -c{} -d{}s over {} lectures' {}-segment media playlists: the \
             same URIs against both servers, nginx serving the bytes the catalog rendered",
            load.threads,
            load.connections,
            load.seconds,
            shape.playlist_lectures.len(),
            args.playlist_segments
        ),
    ];
    report::print(&title, &notes, &figures);
    Ok(())
}

/// Seeds `database`, serves it and measures it.
async fn run_on(
    database: Database,
    args: &Args,
    shape: &Shape,
    password_hash: &str,
    load: &Load,
) -> anyhow::Result<Figures> {
    let work = work_dir(args)?;
    // The cluster lives until this function returns (dropping it stops the server).
    let (url, _cluster) = match (database, &args.postgres_url) {
        (Database::Sqlite, _) => (
            format!("sqlite://{}/catalog.db?mode=rwc", work.path().display()),
            None,
        ),
        (Database::Postgres, Some(url)) => (url.clone(), None),
        (Database::Postgres, None) => {
            eprintln!("Starting a throwaway PostgreSQL cluster…");
            let cluster = pg_cluster::Cluster::start().map_err(anyhow::Error::msg)?;
            let url = cluster
                .create_database("lectern_bench")
                .await
                .map_err(anyhow::Error::msg)?;
            (url, Some(cluster))
        }
    };

    eprintln!("Seeding…");
    let started = Instant::now();
    seed::seed(&url, shape, password_hash).await?;
    let seed_time = started.elapsed();
    eprintln!("  seeded in {:.1} s", seed_time.as_secs_f64());

    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let catalog =
        server::Catalog::start(&url, &work.path().join("storage"), &hex::encode(key)).await?;
    let api = api::Api::new(&catalog.base);
    eprintln!(
        "Logging in {} students through the API…",
        shape.bench_students.len()
    );
    let emails: Vec<&str> = shape
        .bench_students
        .iter()
        .map(|s| shape.users[s.user as usize].email.as_str())
        .collect();
    let cookies = api.login_all(&emails, PASSWORD).await?;

    let mut rng = StdRng::seed_from_u64(args.seed);
    eprintln!("Timing GET /api/v1/courses…");
    let my_courses = latency::my_courses(&api, shape, &cookies, args.samples, &mut rng).await?;
    eprintln!("Timing GET /api/v1/courses/{{id}}/lectures…");
    let lectures = latency::course_lectures(&api, shape, &cookies, args.samples, &mut rng).await?;

    eprintln!("Loading media playlists with wrk: nginx, then the catalog…");
    let playlists = playlists::fetch(&api, shape, &cookies).await?;
    let script = playlists::wrk_script(work.path(), &playlists)?;
    let nginx = nginx::Nginx::start(&playlists)?;
    let nginx_rps = playlists::requests_per_second(&nginx.base, &script, load)?;
    drop(nginx);
    let catalog_rps = playlists::requests_per_second(&catalog.base, &script, load)?;
    catalog.stop()?;
    if args.keep {
        eprintln!("Kept {}", work.keep().display());
    }

    Ok(Figures {
        database: database.to_string(),
        seed: seed_time,
        my_courses,
        lectures,
        catalog_rps,
        nginx_rps,
    })
}

/// A fresh directory for one database's run, under `--work-dir` when given.
fn work_dir(args: &Args) -> anyhow::Result<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("lectern-bench-");
    Ok(match &args.work_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            builder.tempdir_in(dir)?
        }
        None => builder.tempdir()?,
    })
}

/// The 1-minute load average, as /proc/loadavg gives it ("?" where there is none).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}
