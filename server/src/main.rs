//! The `candor-server` binary: a thin layer that parses the command line, runs the relay or a
//! subcommand, and maps errors to exit codes (0 success, 1 failure or problems found, 2 bad
//! usage or configuration).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use candor_server::clock::{Clock, SystemClock};
use candor_server::config::{Overrides, Settings};
use candor_server::invite::RelaySecret;
use candor_server::startup::{Application, STORE_DIR, open_store};
use candor_server::store::postgres::{PostgresOptions, PostgresStore, SCHEMA_VERSION, SchemaState};
use candor_server::store::sled::SledStore;
use candor_server::store::{CheckReport, Store, StoreError};
use candor_server::telemetry;
use clap::{Parser, Subcommand};

/// jemalloc rather than glibc's malloc: with a million mailboxes and sustained writes, RSS grew
/// far less with it (`docs/benchmarks.md`, relay at scale).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Candor's relay: stores only ciphertext, durably, and forgets on schedule.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (default: ./candor-server.toml if present).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Data directory, overriding the configuration.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Listen address, overriding the configuration (port 0 picks a free port).
    #[arg(long, global = true, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Proof-of-work difficulty in bits, overriding the configuration.
    #[arg(long, global = true, value_name = "BITS")]
    pow_difficulty: Option<u8>,
    /// The store: `sled` (in the data directory, the default) or
    /// postgres://USER@HOST[:PORT]/DB. No password here: PGPASSWORD, a PGPASSFILE or the
    /// config file's `store_password`.
    #[arg(long, global = true, value_name = "URL")]
    store: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the relay (the default).
    Serve,
    /// Create the data directory and the relay key, without serving, so that invites can be
    /// minted before the first start.
    Init,
    /// Print a one-time office registration token. Works while the relay runs.
    Invite {
        /// Days until the token expires.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=365))]
        valid_days: u64,
    },
    /// Verify the store's invariants. Stop the relay first.
    Check {
        /// Change nothing and refuse nothing: report damage and an unsynced tail of the log
        /// instead of stopping at them (sled is opened from a private copy).
        #[arg(long)]
        read_only: bool,
    },
    /// Copy a sled relay's whole store into an empty PostgreSQL database, creating its
    /// schema. Stop the relay first.
    Copy {
        /// The sled relay's data directory.
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// The database: postgres://USER@HOST[:PORT]/DB (the password as for --store).
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Apply the PostgreSQL store's schema migrations (embedded in this binary).
    Migrate {
        /// Change nothing: report whether the schema is this relay's version (exit 1 if not).
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = Overrides {
        listen: cli.listen,
        data_dir: cli.data_dir.clone(),
        pow_difficulty: cli.pow_difficulty,
        store: cli.store.clone(),
    };
    let settings = match Settings::load(cli.config.as_deref(), &overrides) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("candor-server: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = candor_server::clock::test_offset() {
        eprintln!("candor-server: {e}");
        return ExitCode::from(2);
    }
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Init => init(&settings),
        Command::Invite { valid_days } => invite(&settings, valid_days),
        Command::Check { read_only } => check(&settings, read_only),
        Command::Migrate { check } => migrate(&settings, check),
        Command::Copy { from, to } => copy(&settings, &from, &to),
    };
    match result {
        Ok(code) => code,
        // `candor-server invite | head -c0`: nobody is listening, which is not a failure.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("candor-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Prints lines on stdout, reporting a closed pipe as an error instead of panicking.
fn print_lines<I: IntoIterator<Item = String>>(lines: I) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.flush()
}

fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    telemetry::init(settings.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let prefix = settings.path_prefix.as_str().to_owned();
        let app = Application::build(settings).await?;
        // Scripts and tests read this line to learn the port; with a path prefix, it is the
        // relay URL an office card names.
        let mut lines = format!("listening on {}{prefix}\n", app.url());
        if let Some(metrics) = app.metrics_url() {
            // Worded so that nothing looking for "listening on" takes it for the API.
            lines.push_str(&format!("metrics at {metrics}\n"));
        }
        // One write: a reader that takes the first line and closes the pipe must not make a
        // second write fail.
        let mut out = std::io::stdout().lock();
        out.write_all(lines.as_bytes())?;
        out.flush()?;
        drop(out);
        app.run_until_stopped().await?;
        Ok(ExitCode::SUCCESS)
    })
}

fn init(settings: &Settings) -> anyhow::Result<ExitCode> {
    let dir = &settings.data_dir;
    let existed = dir.join(candor_server::invite::RELAY_KEY_FILE).exists();
    RelaySecret::load_or_create(dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the relay key in {}: {}; check that the directory is yours and \
             writable",
            dir.display(),
            io_words(&e)
        )
    })?;
    print_lines([if existed {
        format!(
            "{} already holds a relay key; nothing changed",
            dir.display()
        )
    } else {
        format!(
            "created the relay key in {}; mint invites with `candor-server invite --data-dir {}`",
            dir.display(),
            dir.display()
        )
    }])?;
    Ok(ExitCode::SUCCESS)
}

/// An I/O error in words, without Rust's `(os error N)` repeated.
fn io_words(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::NotFound => "a directory on the way does not exist".into(),
        _ => e.to_string(),
    }
}

fn invite(settings: &Settings, valid_days: u64) -> anyhow::Result<ExitCode> {
    let dir = &settings.data_dir;
    let secret = RelaySecret::load_existing(dir)
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot read the relay key in {}: {}",
                dir.display(),
                io_words(&e)
            )
        })?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{} holds no relay key, so it is not a relay's data directory (is the path \
                 right?). An invite must be signed with the key of the relay it is for: point \
                 --data-dir at that relay's directory, or create the key first with \
                 `candor-server init --data-dir {}`",
                dir.display(),
                dir.display()
            )
        })?;
    let expires = SystemClock.now() + valid_days * 86_400;
    print_lines([secret.invite_key().mint(expires)])?;
    Ok(ExitCode::SUCCESS)
}

/// The PostgreSQL options of `settings`, or an error saying the store is sled.
fn postgres_options(settings: &Settings) -> anyhow::Result<PostgresOptions> {
    let Some(url) = settings.postgres_url() else {
        anyhow::bail!(
            "the store is sled, which needs no migration; name a PostgreSQL store with --store \
             postgres://USER@HOST/DB, the config file's `store` or CANDOR_STORE"
        );
    };
    Ok(PostgresOptions::from_settings(
        url,
        settings.store_password.as_ref().map(|p| p.expose()),
    )?)
}

fn migrate(settings: &Settings, check_only: bool) -> anyhow::Result<ExitCode> {
    let options = postgres_options(settings)?;
    if check_only {
        let state = PostgresStore::schema_state(&options)?;
        print_lines([state.to_string()])?;
        return Ok(if state == SchemaState::Current {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let found = PostgresStore::migrate(&options)?;
    print_lines([match found {
        SchemaState::Current => {
            format!("the schema is already at version {SCHEMA_VERSION}; nothing changed")
        }
        SchemaState::Empty => format!("created the schema, version {SCHEMA_VERSION}"),
        SchemaState::Older(v) => {
            format!("migrated the schema from version {v} to {SCHEMA_VERSION}")
        }
        SchemaState::Newer(v) => format!("the schema is version {v}, newer than this relay's"),
    }])?;
    Ok(ExitCode::SUCCESS)
}

fn copy(settings: &Settings, from: &std::path::Path, to: &str) -> anyhow::Result<ExitCode> {
    let dir = from.join(STORE_DIR);
    if !dir.is_dir() {
        anyhow::bail!(
            "there is no sled store in {}; name the relay's data directory with --from",
            dir.display()
        );
    }
    let options =
        PostgresOptions::from_settings(to, settings.store_password.as_ref().map(|p| p.expose()))?;
    let source = open_store(&dir, settings.cache_bytes)?;
    PostgresStore::migrate(&options)?;
    let target = PostgresStore::open(&options)?;
    let copied = target.copy_from(&source).map_err(|e| match e {
        StoreError::Conflict(what) => anyhow::anyhow!(
            "{what}; copy only into an empty database (a new one, or one whose relay tables \
             were dropped)"
        ),
        other => anyhow::anyhow!("the copy failed and changed nothing in the database: {other}"),
    })?;
    print_lines([
        format!(
            "copied {} offices, {} mailboxes, {} envelopes, {} handoff packages, {} used \
             tokens, {} tallies, {} notes, {} handoff channels",
            copied.offices,
            copied.mailboxes,
            copied.envelopes,
            copied.packages,
            copied.tokens,
            copied.tallies,
            copied.notes,
            copied.channels
        ),
        "run `candor-server check` on both stores before serving from the copy".into(),
    ])?;
    Ok(ExitCode::SUCCESS)
}

fn check(settings: &Settings, read_only: bool) -> anyhow::Result<ExitCode> {
    if settings.postgres_url().is_some() {
        // A PostgreSQL check only reads: --read-only changes nothing there.
        let report = PostgresStore::open(&postgres_options(settings)?)?.check()?;
        return print_report(&report);
    }
    let dir = settings.data_dir.join(STORE_DIR);
    if !dir.is_dir() {
        anyhow::bail!("there is no store in {}", dir.display());
    }
    let report = if read_only {
        SledStore::open_read_only(&dir, settings.cache_bytes)?
            .store
            .check()?
    } else {
        open_store(&dir, settings.cache_bytes)?.check()?
    };
    print_report(&report)
}

/// Prints a check's report; exit 1 if it found problems.
fn print_report(report: &CheckReport) -> anyhow::Result<ExitCode> {
    let mut lines = vec![format!(
        "{} offices, {} mailboxes, {} envelopes, {} handoff packages, {} used tokens, {} notes, \
         {} handoff channels",
        report.offices,
        report.mailboxes,
        report.envelopes,
        report.packages,
        report.used_tokens,
        report.notes,
        report.channels
    )];
    lines.extend(report.problems.iter().map(|p| format!("problem: {p}")));
    if report.problems.is_empty() {
        lines.push("ok: every invariant holds".into());
    } else {
        lines.push(format!("{} problems found", report.problems.len()));
    }
    print_lines(lines)?;
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
