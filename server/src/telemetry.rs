//! Logging with `tracing`. The access log (see `crate::startup`) writes the method, the route
//! pattern, the status and the latency, never a peer address, a user agent, a concrete path or
//! a body. Mailbox IDs appear only at `debug`.

use std::io::IsTerminal;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;

/// The filter when `RUST_LOG` is unset. actix-server's own start-up lines (which name the listen
/// address) are left at `warn`; the binary prints the address once on stdout instead.
pub const DEFAULT_FILTER: &str = "info,actix_server=warn";

/// Appended to any `RUST_LOG`: actix-server's `info` lines name socket addresses, and on an
/// onion service or loopback those are indistinguishable from a client's, so they never log.
const ALWAYS: &str = "actix_server=warn";

/// A subscriber writing to `writer`, filtered by `RUST_LOG` (default [`DEFAULT_FILTER`]).
pub fn subscriber<W>(format: LogFormat, writer: W, ansi: bool) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env()
        .ok()
        .and_then(|f| ALWAYS.parse().ok().map(|d| f.add_directive(d)))
        .unwrap_or_else(|| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi)
        .with_target(false);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(builder.json().finish()),
    }
}

/// Installs the subscriber for the process (stderr). Call once.
pub fn init(format: LogFormat) {
    // A second call (a test, say) keeps the first subscriber.
    // Colour only on a terminal, and never with NO_COLOR set (https://no-color.org).
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing::subscriber::set_global_default(subscriber(format, std::io::stderr, ansi));
}
