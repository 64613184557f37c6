//! `candor`: one binary for every role. This file only parses the command line, runs the
//! command and turns its outcome into an exit code:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done (also when the reader of our output went away: a broken pipe) |
//! | 1 | a usage or input error |
//! | 2 | the relay refused the request |
//! | 3 | the relay could not be reached |
//! | 4 | a card, signature or message did not verify |

mod cli;
mod commands;
mod compose;
mod error;
mod home;
mod input;
mod keystore;
mod label;
mod output;
mod policy;
mod relay;
mod remember;
mod report;
mod thread;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

use crate::error::Unverified;
use crate::relay::RelayError;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap exits with 2 on usage errors; Candor keeps 2 for "refused by the relay".
            let code = match err.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 1,
            };
            let _ = err.print();
            // A script that asked for JSON gets its error as JSON too, even for a usage error.
            if code != 0 && std::env::args_os().any(|a| a == "--json") {
                report_json("usage", &err.kind().to_string(), &[], code);
            }
            return ExitCode::from(code);
        }
    };
    let json = cli.global.json;
    match relay::test_offset().and_then(|_| commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = exit_code(&err);
            if code != 0 {
                report(&err);
                if json && !output::json_printed() {
                    let causes: Vec<String> = err.chain().skip(1).map(|c| c.to_string()).collect();
                    report_json(kind(code), &err.to_string(), &causes, code);
                }
            }
            ExitCode::from(code)
        }
    }
}

/// The `kind` of an error in `--json` output, after its exit code.
fn kind(code: u8) -> &'static str {
    match code {
        2 => "refused",
        3 => "unreachable",
        4 => "unverified",
        _ => "input",
    }
}

/// With `--json`, an error is also a JSON document on stdout, so that scripts never parse prose:
/// `{"error": {"kind": …, "message": …, "causes": […], "exit": N}}`, with the same exit code. A
/// command that already printed its document (a thread with a message that does not verify)
/// prints no second one.
fn report_json(kind: &str, message: &str, causes: &[String], code: u8) {
    let doc = serde_json::json!({
        "error": { "kind": kind, "message": message, "causes": causes, "exit": code }
    });
    let _ = output::Out::new(true).json(&doc);
}

/// The exit code for an error: the first cause in the chain that has a meaning of its own wins.
fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(relay) = cause.downcast_ref::<RelayError>() {
            return match relay {
                RelayError::Unreachable { .. } | RelayError::ProxyDown { .. } => 3,
                RelayError::Refused { .. } | RelayError::BadAnswer { .. } => 2,
            };
        }
        if cause.downcast_ref::<Unverified>().is_some() {
            return 4;
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::BrokenPipe
        {
            return 0;
        }
    }
    1
}

/// Prints an error and its causes to stderr, one per line. Errors quote what others sent (a
/// relay's problem, a card's category), so each line is escaped.
fn report(err: &anyhow::Error) {
    let style = output::Style::stderr();
    let mut stderr = std::io::stderr().lock();
    let shown = |e: &dyn std::fmt::Display| output::escape_remote(&e.to_string()).into_owned();
    let _ = writeln!(stderr, "{} {}", style.red("error:"), shown(err));
    for cause in err.chain().skip(1) {
        let _ = writeln!(stderr, "  {} {}", style.dim("because:"), shown(&cause));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_its_exit_code() {
        let refused = RelayError::Refused {
            url: "http://r".into(),
            status: 409,
            problem: None,
        };
        let unreachable = RelayError::Unreachable {
            url: "http://r".into(),
            via: String::new(),
            reason: "refused".into(),
        };
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let cases = [
            (anyhow::Error::new(refused).context("publishing"), 2),
            (anyhow::Error::new(unreachable).context("raising"), 3),
            (anyhow::Error::new(Unverified("forged".into())), 4),
            (anyhow::Error::new(pipe).context("printing"), 0),
            (anyhow::anyhow!("the codename has a typo"), 1),
        ];
        for (err, code) in cases {
            assert_eq!(exit_code(&err), code, "{err:#}");
        }
    }
}
