//! What can go wrong talking to the relay, as the person at the command line reads it: no
//! answer, a proxy that is down, a refusal with its problem document (escaped, since the relay
//! wrote it), or an answer the API does not promise.

use candor_protocol::api::Problem;
use thiserror::Error;

use crate::output::escape_remote;

/// What went wrong talking to the relay.
#[derive(Debug, Error)]
pub enum RelayError {
    /// No answer: connection refused, DNS or proxy failure, timeout.
    #[error(
        "cannot reach the relay at {url}{via}: {reason}. Check the address and your network \
         connection, and try again later"
    )]
    Unreachable {
        /// The relay's base URL.
        url: String,
        /// `" through PROXY"`, or nothing.
        via: String,
        /// What the network said.
        reason: String,
    },
    /// The SOCKS proxy itself does not answer, so nothing reached the relay.
    #[error(
        "the proxy at {proxy} does not answer, so nothing reached the relay at {url}: is Tor \
         running on {proxy}? Start it (for example `systemctl start tor`), or name the proxy that \
         runs with --proxy or CANDOR_PROXY"
    )]
    ProxyDown {
        /// The relay's base URL.
        url: String,
        /// The proxy's `HOST:PORT`.
        proxy: String,
    },
    /// The relay answered with an error.
    #[error("the relay at {url} refused the request: {}", describe(*status, problem.as_ref()))]
    Refused {
        /// The relay's base URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The problem document, when the relay sent one.
        problem: Option<Problem>,
    },
    /// The relay answered something that is not what the API promises.
    #[error("the relay at {url} sent an answer this client does not understand ({why})")]
    BadAnswer {
        /// The relay's base URL.
        url: String,
        /// What was wrong.
        why: String,
    },
}

/// The refusal as the user reads it. The relay wrote the title and detail, so they are escaped.
fn describe(status: u16, problem: Option<&Problem>) -> String {
    match problem {
        Some(p) if p.detail.is_empty() => {
            format!("{} (HTTP {status})", escape_remote(&p.title))
        }
        Some(p) => format!(
            "{} (HTTP {status}): {}",
            escape_remote(&p.title),
            escape_remote(&p.detail)
        ),
        None => format!("HTTP {status}"),
    }
}

impl RelayError {
    /// Whether the relay answered 404: an unknown office or mailbox, or a key not registered for
    /// it (the relay does not say which).
    pub fn is_not_found(&self) -> bool {
        matches!(self, RelayError::Refused { status: 404, .. })
    }

    /// The problem type's suffix, such as `conflict` or `invite-used`.
    pub fn problem_kind(&self) -> Option<&str> {
        match self {
            RelayError::Refused {
                problem: Some(p), ..
            } => p.kind.strip_prefix("urn:candor:problem:"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_problem_and_not_found_is_recognised() {
        let err = RelayError::Refused {
            url: "http://r".into(),
            status: 404,
            problem: Some(Problem {
                kind: "urn:candor:problem:not-found".into(),
                title: "Not found".into(),
                status: 404,
                detail: "No such mailbox.".into(),
            }),
        };
        assert!(err.is_not_found());
        assert_eq!(err.problem_kind(), Some("not-found"));
        assert!(
            err.to_string()
                .contains("Not found (HTTP 404): No such mailbox.")
        );
    }
}
