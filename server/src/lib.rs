//! `candor-server`, the relay: it stores only ciphertext under random mailbox IDs, acknowledges
//! a write only once it is on disk, and forgets on schedule.
//!
//! The map:
//! - [`startup`]: build and run the HTTP server ([`startup::Application`]);
//! - [`config`]: layered settings; [`telemetry`]: logging;
//! - [`routes`]: the HTTP API of `docs/protocol.md` §11, described by [`openapi`];
//! - [`auth`]: signed requests and the replay cache; [`invite`]: `relay.key` and invites;
//! - [`store`]: the storage trait and its sled backend; [`durability`]: group commit;
//!   [`sweeper`]: retention;
//! - [`metrics`], [`error`], [`clock`].
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = candor_server::config::Settings {
//!     listen: "127.0.0.1:0".parse()?,
//!     data_dir: "/tmp/candor-example".into(),
//!     ..Default::default()
//! };
//! let app = candor_server::startup::Application::build(settings).await?;
//! println!("listening on {}", app.url());
//! app.run_until_stopped().await?;
//! # Ok(()) }
//! ```

pub mod auth;
pub mod clock;
pub mod config;
pub mod durability;
pub mod error;
pub mod fetch;
pub mod invite;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod schema;
pub mod startup;
pub mod state;
pub mod store;
pub mod sweeper;
pub mod telemetry;
