//! Logging with `tracing`. The access log (see `crate::startup`) writes the method, the route
//! pattern, the status and the latency, never a peer address, a user agent, a concrete path or
//! a body. Mailbox IDs appear only at `debug`.

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;

/// The filter when `RUST_LOG` is unset. actix-server's own start-up lines (which name the listen
/// address) are left at `warn`; the binary prints the address once on stdout instead.
pub const DEFAULT_FILTER: &str = "info,actix_server=warn";

/// A subscriber writing to `writer`, filtered by `RUST_LOG` (default [`DEFAULT_FILTER`]).
pub fn subscriber<W>(format: LogFormat, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(builder.json().finish()),
    }
}

/// Installs the subscriber for the process (stderr). Call once.
pub fn init(format: LogFormat) {
    // A second call (a test, say) keeps the first subscriber.
    let _ = tracing::subscriber::set_global_default(subscriber(format, std::io::stderr));
}
