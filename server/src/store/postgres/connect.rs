//! Reaching the database: the options a URL gives, the connections the pool makes (each with
//! `synchronous_commit` on), and why opening the store failed.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use postgres::{Client, NoTls, Statement};

use super::tls::{Connector, TlsError, TlsSettings};
use super::version::SchemaState;

/// How the relay reaches its database.
#[derive(Clone)]
pub struct PostgresOptions {
    config: postgres::Config,
    /// `sslmode` and `sslrootcert`, taken out of the URL.
    pub(super) tls: TlsSettings,
    connector: Connector,
    /// Connections the pool may hold.
    pub max_connections: u32,
    /// How long a request may wait for a connection before it is answered 503.
    pub connect_timeout: Duration,
}

impl std::fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config holds the password: name only where it points.
        f.debug_struct("PostgresOptions")
            .field("hosts", &self.config.get_hosts().len())
            .field("dbname", &self.config.get_dbname())
            .field("user", &self.config.get_user())
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl PostgresOptions {
    /// Options from a `postgres://USER@HOST[:PORT]/DB[?sslmode=…&sslrootcert=…]` URL. A
    /// password in the URL is refused (it would show in `ps` and in shell history): give it as
    /// `password`, which the caller takes from `PGPASSWORD`, a `PGPASSFILE` or the config file.
    /// `sslmode` and `sslrootcert` work as libpq's do (`tls.rs`); the roots are read here.
    pub fn from_url(url: &str, password: Option<&[u8]>) -> Result<Self, OpenError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(OpenError::Url(
                "it must start with postgres:// or postgresql://".into(),
            ));
        }
        let (url, tls) = super::tls::split(url)?;
        let connector = tls.connector()?;
        let mut config = postgres::Config::from_str(&url).map_err(|e| {
            OpenError::Url(format!(
                "{e}; the form is postgres://USER@HOST[:PORT]/DB[?sslmode=disable|prefer|require|verify-ca|verify-full&sslrootcert=FILE]"
            ))
        })?;
        config.ssl_mode(tls.mode.client_mode());
        if config.get_password().is_some() {
            return Err(OpenError::Url(
                "it holds a password; give the password in PGPASSWORD, a PGPASSFILE or the config file's `store_password` instead".into(),
            ));
        }
        if config.get_user().is_none() {
            return Err(OpenError::Url(
                "it names no user (postgres://USER@HOST/DB)".into(),
            ));
        }
        if config.get_dbname().is_none() {
            return Err(OpenError::Url(
                "it names no database (postgres://USER@HOST/DB)".into(),
            ));
        }
        if let Some(password) = password {
            config.password(password);
        }
        config.application_name("candor-server");
        Ok(Self {
            config,
            tls,
            connector,
            max_connections: 32,
            connect_timeout: Duration::from_secs(5),
        })
    }

    /// Options from the relay's `store` URL, with the password from the first of
    /// `configured` (the config file's `store_password`), `PGPASSWORD` and the password file
    /// (`PGPASSFILE` or `~/.pgpass`), as libpq looks for it.
    pub fn from_settings(url: &str, configured: Option<&[u8]>) -> Result<Self, OpenError> {
        let mut options = Self::from_url(url, None)?;
        let host = match options.config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(host)) => host.clone(),
            _ => "localhost".into(),
        };
        let port = options.config.get_ports().first().copied().unwrap_or(5432);
        let database = options.config.get_dbname().unwrap_or_default().to_owned();
        let user = options.config.get_user().unwrap_or_default().to_owned();
        let target = super::pgpass::Target {
            host: &host,
            port,
            database: &database,
            user: &user,
        };
        if let Some(password) = super::pgpass::find(configured, &target) {
            options.config.password(&password[..]);
        }
        Ok(options)
    }

    /// Sets the schema the relay's tables live in (`search_path`), for tests that give each
    /// test a schema of its own.
    #[cfg(test)]
    pub(crate) fn with_schema(mut self, schema: &str) -> Self {
        self.config.options(&format!("-c search_path={schema}"));
        self
    }
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The URL does not parse or is not one the relay accepts.
    #[error("the database URL is not valid: {0}")]
    Url(String),
    /// No connection could be made.
    #[error("the database does not answer: {0}")]
    Unreachable(String),
    /// The schema is not this relay's.
    #[error("{0}")]
    Schema(SchemaState),
    /// A statement failed.
    #[error("the database failed: {0}")]
    Database(String),
    /// The TLS settings are not valid, or the server's certificate was refused.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A thread of the store's (the health ping, a batch of reads) could not be started.
    #[error("cannot start the store's {0}")]
    Thread(String),
}

/// A pooled connection and the statements prepared on it.
pub(super) struct Conn {
    pub(super) client: Client,
    pub(super) statements: HashMap<&'static str, Statement>,
}

impl Conn {
    /// One empty round trip: whether the database answered.
    pub(super) fn ping(&mut self) -> bool {
        self.client.simple_query("").is_ok()
    }
}

pub(super) struct Manager {
    config: postgres::Config,
    connector: Connector,
}

impl Manager {
    pub(super) fn new(options: &PostgresOptions) -> Self {
        let mut config = options.config.clone();
        // A host that does not answer at all fails a connection in this time rather than in
        // the system's (minutes), for the pool and for the health ping alike.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        Self {
            config,
            connector: options.connector.clone(),
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        let mut client = match &self.connector {
            Connector::Plain => self.config.connect(NoTls)?,
            Connector::Tls(tls) => self.config.connect(tls.clone())?,
        };
        // A write is acknowledged only once it is on disk (and on synchronous standbys).
        client.batch_execute("SET synchronous_commit = on")?;
        Ok(Conn {
            client,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.is_closed()
    }
}
