//! The fixture of `scripts/api-fuzz.sh`: on a real relay (one started for the fuzz run, on
//! loopback, with a throwaway store), registers an office and opens mailboxes with real proofs
//! of work and real first envelopes, then writes the keys that sign for them as JSON, so that
//! the schemathesis hook (`scripts/api-fuzz-hooks.py`) can sign each generated request
//! (`docs/protocol.md` §8) with the key registered for its path.
//!
//! ```text
//! api-fuzz-fixture --relay http://127.0.0.1:PORT --invite TOKEN --mailboxes 80 --out fixture.json
//! ```
//!
//! The JSON file:
//!
//! ```json
//! {"relay": "http://127.0.0.1:PORT",
//!  "office": {"id": "fuzz-office", "signing_seed": "<base64url 32>"},
//!  "mailboxes": [{"id": "<mailbox ID>", "signing_seed": "<base64url 32>"}]}
//! ```
//!
//! The seeds are Ed25519 secret keys: of a throwaway office and throwaway cases, made for one
//! fuzz run against one throwaway relay, and written with mode 0600 into the run's temporary
//! directory. Nothing here is a tool for a real office.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use candor_protocol::pow::Challenge;
use candor_protocol::{RelayUrl, encoding};
use candor_tests::api::{Answer, Api, TestCase, TestOffice};
use serde_json::json;

/// The office ID the fixture registers.
const OFFICE_ID: &str = "fuzz-office";

/// The most mailboxes one run may ask for.
const MAX_MAILBOXES: u32 = 1000;

const USAGE: &str = "usage: api-fuzz-fixture --relay URL --invite TOKEN --mailboxes N --out PATH";

/// The command line, parsed.
struct Args {
    relay: RelayUrl,
    invite: String,
    mailboxes: u32,
    out: PathBuf,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut relay, mut invite, mut mailboxes, mut out) = (None, None, None, None);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value; {USAGE}"))?;
        match flag.as_str() {
            "--relay" => {
                relay = Some(value.parse::<RelayUrl>().map_err(|e| {
                    format!(
                        "--relay {value:?} is not a relay URL ({e}); give http://127.0.0.1:PORT"
                    )
                })?);
            }
            "--invite" => invite = Some(value),
            "--mailboxes" => {
                let n = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_MAILBOXES).contains(n))
                    .ok_or_else(|| {
                        format!("--mailboxes {value:?} is not a number from 1 to {MAX_MAILBOXES}")
                    })?;
                mailboxes = Some(n);
            }
            "--out" => out = Some(PathBuf::from(value)),
            other => return Err(format!("unknown argument {other:?}; {USAGE}")),
        }
    }
    let missing = |what: &str| format!("{what} is missing; {USAGE}");
    Ok(Args {
        relay: relay.ok_or_else(|| missing("--relay"))?,
        invite: invite.ok_or_else(|| missing("--invite"))?,
        mailboxes: mailboxes.ok_or_else(|| missing("--mailboxes"))?,
        out: out.ok_or_else(|| missing("--out"))?,
    })
}

/// Refuses an answer that is not `want`, saying what the relay said.
fn expect(what: &str, answer: &Answer, want: u16) -> Result<(), String> {
    if answer.status == want {
        return Ok(());
    }
    Err(format!(
        "{what}: the relay answered {} {} (expected {want}); check that --relay names the relay \
         the invite was minted for",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    ))
}

async fn run(args: Args) -> Result<serde_json::Value, String> {
    let api = Api::new(args.relay.as_str());
    let http = |e: reqwest::Error| format!("the relay at {} did not answer: {e}", args.relay);

    // The card names the relay it is served by, as a real office's does.
    let mut office = TestOffice::new(OFFICE_ID, 30);
    office.card.name = "API Fuzzing Office".into();
    office.card.relay = args.relay.clone();
    office.signed = office
        .card
        .sign(&office.identity)
        .map_err(|e| format!("signing the fixture's office card failed: {e}"))?;
    let answer = api
        .register_with(&office, &args.invite)
        .await
        .map_err(http)?;
    expect("registering the office", &answer, 201)?;

    let mut mailboxes = Vec::new();
    for _ in 0..args.mailboxes {
        let case = TestCase::new(&office);
        let answer = api.get("/v1/pow").await.map_err(http)?;
        expect("fetching a proof-of-work challenge", &answer, 200)?;
        let challenge = Challenge::from_json(&answer.body)
            .map_err(|e| format!("the relay's proof-of-work challenge does not parse: {e}"))?;
        let pow = challenge.solve(case.keys.mailbox.as_bytes());
        let body = Api::open_body(&office, &case, pow);
        let answer = api.open_with(&case, &body).await.map_err(http)?;
        expect("opening a mailbox", &answer, 201)?;
        mailboxes.push(json!({
            "id": case.mailbox(),
            "signing_seed": encoding::b64(case.keys.signing.to_seed().as_slice()),
        }));
    }

    Ok(json!({
        "relay": args.relay.as_str(),
        "office": {
            "id": OFFICE_ID,
            "signing_seed": encoding::b64(office.key().to_seed().as_slice()),
        },
        "mailboxes": mailboxes,
    }))
}

/// Writes `text` to a new file only its owner may read.
fn write_private(path: &PathBuf, text: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text)?;
    file.sync_all()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let out = args.out.clone();
    let count = args.mailboxes;
    let fixture = match run(args).await {
        Ok(fixture) => fixture,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = write_private(&out, fixture.to_string().as_bytes()) {
        eprintln!(
            "error: writing the fixture to {} failed: {e}; give --out a path in a writable \
             directory where no file of that name exists",
            out.display()
        );
        return ExitCode::FAILURE;
    }
    println!(
        "registered office {OFFICE_ID} and opened {count} mailboxes; keys in {}",
        out.display()
    );
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, String> {
        parse_args(list.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn arguments_are_parsed_or_refused_by_name() {
        // Arrange
        let good = [
            "--relay",
            "http://127.0.0.1:9",
            "--invite",
            "t",
            "--mailboxes",
            "3",
            "--out",
            "f.json",
        ];

        // Act
        let parsed = args(&good).expect("good arguments parse");
        let zero = args(&[&good[..4], &["--mailboxes", "0", "--out", "f"]].concat());
        let bad_url = args(&[&["--relay", "ftp://x"], &good[2..]].concat());
        let missing = args(&good[..6]);

        // Assert
        assert_eq!(parsed.relay.as_str(), "http://127.0.0.1:9");
        assert_eq!(parsed.mailboxes, 3);
        assert!(zero.err().is_some_and(|e| e.contains("--mailboxes")));
        assert!(bad_url.err().is_some_and(|e| e.contains("--relay")));
        assert!(
            missing
                .err()
                .is_some_and(|e| e.contains("--out is missing"))
        );
    }
}
