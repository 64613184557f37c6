//! Building and running the relay: `Application::build(settings)` opens the store, starts the
//! flusher and the sweeper and binds the listener; `run_until_stopped` serves until SIGINT or
//! SIGTERM (or a handle's `stop`), drains, then flushes the store.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, ErrorHandlers, Next, from_fn};
use actix_web::{App, HttpServer, ResponseError, web};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::auth::ReplayCache;
use crate::clock::{Clock, SystemClock};
use crate::config::{MetricsListen, Settings};
use crate::durability::Durability;
use crate::error::{ApiError, PROBLEM_JSON};
use crate::fetch::Fetches;
use crate::invite::RelaySecret;
use crate::metrics::Metrics;
use crate::routes::{self, pattern};
use crate::state::AppState;
use crate::store::Store;
use crate::sweeper;

pub use error::{StartupError, io_words};
pub use opening::{open_postgres, open_store};

mod error;
mod opening;

/// The sled store's directory inside the data directory.
pub const STORE_DIR: &str = "store";

/// Most request IDs the replay cache holds at once: 20 k signed requests a second over the
/// default 120 s window, more than the relay serves on two cores (`docs/benchmarks.md`).
const REPLAY_CAPACITY: usize = 2_500_000;

/// The metrics listener's task, a handle to stop it, and where it listens.
type MetricsTask = (JoinHandle<std::io::Result<()>>, ServerHandle, SocketAddr);

/// A built, bound relay.
pub struct Application {
    local_addr: SocketAddr,
    tls: bool,
    server: Server,
    /// `/metrics`, on a listener of its own (its task, a handle to stop it, where it listens).
    metrics: Option<MetricsTask>,
    state: web::Data<AppState>,
    sweeper: JoinHandle<()>,
    stop_sweeper: watch::Sender<bool>,
}

impl Application {
    /// Opens the store, starts the flusher and sweeper, and binds. Call inside a Tokio runtime.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// As [`Application::build`], with a clock of the caller's choosing (tests move time).
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartupError> {
        // The port first: a relay that cannot listen leaves no data directory behind.
        let listener =
            TcpListener::bind(settings.listen).map_err(|source| StartupError::Listen {
                addr: settings.listen,
                cause: source,
            })?;
        let data_dir = settings.data_dir.clone();
        let dir_error = |source| StartupError::DataDir {
            path: data_dir.clone(),
            cause: source,
        };
        let secret = RelaySecret::load_or_create(&data_dir).map_err(dir_error)?;
        let store: Arc<dyn Store> = match settings.postgres_url() {
            Some(url) => Arc::new(open_postgres(url, &settings).await?),
            None => Arc::new(open_store(&data_dir.join(STORE_DIR), settings.cache_bytes)?),
        };
        let durability = Durability::start(
            store.clone(),
            Duration::from_micros(settings.commit_delay_us),
        )
        .map_err(StartupError::Thread)?;

        let local_addr = listener
            .local_addr()
            .map_err(|source| StartupError::Listen {
                addr: settings.listen,
                cause: source,
            })?;
        let tls = match (&settings.tls_cert, &settings.tls_key) {
            (Some(cert), Some(key)) => Some(tls_config(cert, key)?),
            _ => None,
        };

        let state = web::Data::new(AppState {
            store,
            durability,
            started: clock.now(),
            clock,
            pow_key: secret.pow_key(),
            invite_key: secret.invite_key(),
            replay: ReplayCache::new(
                settings.request_window_secs,
                REPLAY_CAPACITY,
                settings.signed_requests_per_key,
            ),
            metrics: Metrics::default(),
            store_size: std::sync::Mutex::new((0, 0)),
            fetches: Fetches::new(
                settings.fetches_per_mailbox,
                settings.fetch_bytes_in_flight,
                Duration::from_secs(settings.fetch_send_timeout_secs),
            ),
            openapi: crate::openapi::document(),
            settings,
        });

        let app_state = state.clone();
        // The API under the operator's path prefix ("" is the root): the paths a client signs
        // are the paths as they arrive, prefix included.
        let prefix = state.settings.path_prefix.as_str().to_owned();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(
                    web::PathConfig::default()
                        .error_handler(|_, _| ApiError::Malformed("the path is not valid").into()),
                )
                .app_data(web::QueryConfig::default().error_handler(|_, _| {
                    ApiError::Malformed("the query string is not valid for this endpoint").into()
                }))
                .service(web::scope(&prefix).configure(routes::configure))
                .default_service(web::to(routes::not_found))
                .wrap(ErrorHandlers::new().default_handler(ensure_problem))
                .wrap(
                    DefaultHeaders::new()
                        .add((header::CACHE_CONTROL, "no-store"))
                        .add((header::REFERRER_POLICY, "no-referrer"))
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")),
                )
                .wrap(from_fn(access_log))
        })
        .shutdown_timeout(10);
        if state.settings.workers > 0 {
            server = server.workers(state.settings.workers);
        }
        let server = match tls {
            Some(config) => server.listen_rustls_0_23(listener, config),
            None => server.listen(listener),
        }
        .map_err(|source| StartupError::Listen {
            addr: local_addr,
            cause: source,
        })?
        .run();

        let metrics = match state.settings.metrics_listen {
            MetricsListen::Off => None,
            MetricsListen::On(addr) => Some(metrics_server(addr, &state)?),
        };

        let (stop_sweeper, stop_rx) = watch::channel(false);
        let sweeper = sweeper::spawn(state.clone(), stop_rx);
        tracing::info!(
            tls = state.settings.tls_cert.is_some(),
            pow_difficulty = state.settings.pow_difficulty,
            "relay started"
        );
        Ok(Self {
            local_addr,
            tls: state.settings.tls_cert.is_some(),
            server,
            metrics,
            state,
            sweeper,
            stop_sweeper,
        })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The base URL, such as `http://127.0.0.1:8080`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr)
    }

    /// The URL of the metrics listener's `/metrics`, if there is one.
    pub fn metrics_url(&self) -> Option<String> {
        self.metrics
            .as_ref()
            .map(|(_, _, addr)| format!("http://{addr}{}", routes::pattern::METRICS))
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The shared state (tests use it to run a sweep now).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until stopped, drains in-flight requests, stops the sweeper, then flushes the
    /// store and stops the flusher.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some((task, handle, _)) = self.metrics {
            handle.stop(true).await;
            if !matches!(task.await, Ok(Ok(()))) {
                tracing::error!("the metrics listener failed");
            }
        }
        let _ = self.stop_sweeper.send(true);
        if self.sweeper.await.is_err() {
            tracing::error!("the sweeper task panicked");
        }
        self.state.durability.stop();
        if let Err(e) = self.state.store.flush() {
            tracing::error!(error = %e, "the final flush failed");
        }
        tracing::info!("relay stopped");
        served
    }
}

/// The metrics listener: `/metrics` alone, plain HTTP, one worker. It is kept off the API's
/// listener so that only whoever can reach this address (loopback by default) reads the
/// relay's traffic counts, which would otherwise let anyone time events on a quiet relay. A
/// server serves only while driven, so it runs as a task of its own.
fn metrics_server(
    addr: SocketAddr,
    state: &web::Data<AppState>,
) -> Result<MetricsTask, StartupError> {
    let error = |source| StartupError::MetricsListen {
        addr,
        cause: source,
    };
    let listener = TcpListener::bind(addr).map_err(error)?;
    let bound = listener.local_addr().map_err(error)?;
    let app_state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(app_state.clone())
            .service(
                web::resource(routes::pattern::METRICS)
                    .route(web::get().to(routes::service::metrics)),
            )
            .default_service(web::to(routes::not_found))
            .wrap(ErrorHandlers::new().default_handler(ensure_problem))
            .wrap(
                DefaultHeaders::new()
                    .add((header::CACHE_CONTROL, "no-store"))
                    .add((header::REFERRER_POLICY, "no-referrer"))
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")),
            )
    })
    .workers(1)
    .shutdown_timeout(1)
    .listen(listener)
    .map_err(error)?
    .run();
    // The port only: no address, even the relay's own, goes in the log.
    tracing::info!(port = bound.port(), "metrics listener started");
    let handle = server.handle();
    Ok((tokio::spawn(server), handle, bound))
}

fn tls_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, StartupError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| StartupError::Tls(format!("`tls_cert` {}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(StartupError::Tls(format!(
            "`tls_cert` {} holds no certificate",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| StartupError::Tls(format!("`tls_key` {}: {e}", key.display())))?;
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| StartupError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| StartupError::Tls(format!("`tls_cert` and `tls_key` do not match: {e}")))
}

/// The access log and request metrics: method, route pattern, status and latency. Never the
/// concrete path (it holds mailbox IDs), the peer address or the user agent.
async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().clone();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?;
    let route = res
        .request()
        .app_data::<pattern::Matched>()
        .map_or(pattern::UNMATCHED, |m| m.0);
    let status = res.status().as_u16();
    let took = start.elapsed();
    if let Some(state) = state {
        state
            .metrics
            .record_request(route, method.as_str(), status, took);
    }
    tracing::info!(
        method = %method,
        route,
        status,
        latency_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    Ok(res)
}

/// Turns any error response that is not already problem+json (from actix itself, say) into one.
fn ensure_problem<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == HeaderValue::from_static(PROBLEM_JSON));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let replacement = ApiError::for_status(res.status()).error_response();
    let (req, _) = res.into_parts();
    let res = ServiceResponse::new(req, replacement)
        .map_into_boxed_body()
        .map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}
