//! The relay's log after a whole conversation through the real `candor` CLI, at `info`: no IP
//! address, no user agent, no mailbox ID, no codename, no key and no plaintext.

use candor_protocol::encoding::b64;
use candor_protocol::{Codename, OfficeAddress};
use candor_tests::{Party, Relay, message_file};

const FIRST: &str = "LOGMARK-FIRST-5b1e: my manager reads my private messages.";
const REPLY: &str = "LOGMARK-REPLY-0c7a: thank you; here is what we can do.";
const FOLLOW: &str = "LOGMARK-FOLLOW-e93d: it happened again today.";
/// A user agent and a forwarded address a client might send; neither may reach the log.
const USER_AGENT: &str = "logmark-agent/9.1 (ua-q7x2)";
const FORWARDED: &str = "203.0.113.77";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_conversation_leaves_nothing_identifying_in_the_relay_log() {
    // Arrange: the relay with its documented default filter, `info,actix_server=warn`
    // (docs/operating.md). A plain `RUST_LOG=info` also lets actix-server announce the listen
    // address at start-up; that is the relay's own address, not a client's, but on loopback the
    // two are the same string, so this test keeps to the default and checks every line.
    let relay = tokio::task::block_in_place(|| Relay::start_with(&[]));

    // Act: the whole conversation, through the CLI.
    let (address, codename) = tokio::task::block_in_place(|| conversation(&relay));
    let card = candor_tests::api::Api::new(&relay.url)
        .get("/v1/offices/logs")
        .await
        .unwrap();
    assert_eq!(card.status, 200);
    let office_card = String::from_utf8(card.body).unwrap();
    // And a client that announces itself, with a proxy header naming an address.
    let http = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .build()
        .unwrap();
    let case_path = {
        let fp = address.parse::<OfficeAddress>().unwrap().fingerprint;
        let keys = codename.parse::<Codename>().unwrap().derive(&fp);
        format!("/v1/mailboxes/{}/envelopes", keys.mailbox)
    };
    for path in ["/v1/health", "/v1/pow", case_path.as_str()] {
        http.get(format!("{}{path}", relay.url))
            .header("x-forwarded-for", FORWARDED)
            .header("forwarded", format!("for={FORWARDED}"))
            .send()
            .await
            .unwrap();
    }
    let log = relay.log();

    // Assert: the log shows the traffic happened...
    assert!(log.contains("request"), "no access log at all:\n{log}");
    // ...but none of the secrets.
    let address: OfficeAddress = address.parse().unwrap();
    let codename: Codename = codename.parse().unwrap();
    let keys = codename.derive(&address.fingerprint);
    let words: Vec<String> = codename.words().split(' ').map(str::to_owned).collect();
    let mut secrets = vec![
        ("mailbox id", keys.mailbox.to_string()),
        ("office fingerprint", address.fingerprint.to_string()),
        ("office address", address.to_string()),
        (
            "case signing key",
            b64(&keys.signing.public_key().to_bytes()),
        ),
        ("case kem key", b64(&keys.kem.public_key().to_bytes())),
        ("user agent", USER_AGENT.to_owned()),
        ("user agent product", "logmark-agent".to_owned()),
        ("reqwest's agent", "reqwest".to_owned()),
        ("plaintext marker", "LOGMARK".to_owned()),
        ("plaintext", "private messages".to_owned()),
    ];
    for key in long_b64_tokens(&office_card) {
        secrets.push(("a key or signature from the office card", key));
    }
    // Any three consecutive codename words (the full sequence included).
    for run in words.windows(3) {
        secrets.push(("codename words", run.join(" ")));
    }
    for (what, secret) in &secrets {
        let line = log.lines().find(|l| l.contains(secret.as_str()));
        assert!(
            line.is_none(),
            "the log holds a {what}: {}",
            line.unwrap_or("")
        );
    }
    // No dotted quad at all: not the client's (127.0.0.1), not a forwarded one, not the listen
    // address. The binary prints its URL, and its metrics listener's, once on stdout, which is
    // not the log; skip those lines.
    for line in log
        .lines()
        .filter(|l| !l.starts_with("listening on http://") && !l.starts_with("metrics at http://"))
    {
        assert!(
            dotted_quad(line).is_none(),
            "the log holds an IP address: {line}"
        );
    }
    // The mailbox ID's first characters (the CLI's short label) are fine in the CLI, but the
    // relay has no reason to log even those.
    let label = &keys.mailbox.to_string()[..8];
    assert!(!log.contains(label), "the log holds a mailbox label");
}

/// Office init and publish, raise, inbox, read, reply, check, send, destroy. Returns the office
/// address and the codename.
fn conversation(relay: &Relay) -> (String, String) {
    let staff = Party::new();
    staff
        .candor(&[
            "office",
            "init",
            "--name",
            "Log Ombuds",
            "--id",
            "logs",
            "--relay",
            &relay.url,
        ])
        .ok();
    staff
        .candor(&["office", "publish", "--invite", &relay.invite()])
        .ok();
    let address = staff
        .candor(&["office", "address"])
        .ok()
        .stdout
        .trim()
        .to_owned();

    let visitor = Party::new();
    let raised = visitor
        .candor(&["raise", &address, "--yes", "--json"])
        .stdin(FIRST)
        .ok()
        .json();
    let codename = raised["codename"].as_str().unwrap().to_owned();
    let inbox = staff.candor(&["inbox", "--json"]).ok().json();
    let label = inbox["cases"][0]["case"].as_str().unwrap().to_owned();
    assert!(staff.candor(&["read", &label]).ok().stdout.contains(FIRST));
    let reply = message_file(staff.home(), "reply.txt", REPLY);
    staff
        .candor(&["reply", &label, "--message-file", reply.to_str().unwrap()])
        .ok();
    let check = visitor
        .candor(&["check", &address, "--json"])
        .env("CANDOR_CODENAME", &codename)
        .ok()
        .json();
    assert_eq!(check["messages"][1]["text"], REPLY);
    visitor
        .candor(&["send", &address])
        .env("CANDOR_CODENAME", &codename)
        .stdin(FOLLOW)
        .ok();
    visitor
        .candor(&["destroy", &address, "--yes"])
        .env("CANDOR_CODENAME", &codename)
        .ok();
    (address, codename)
}

/// Every base64url run of 40 characters or more in `text` (keys are 43, signatures 86).
fn long_b64_tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|t| t.len() >= 40)
        .map(str::to_owned)
        .collect()
}

/// The first `a.b.c.d` with four decimal numbers of at most three digits in `line`.
fn dotted_quad(line: &str) -> Option<String> {
    let bytes = line.as_bytes();
    for start in 0..bytes.len() {
        if !bytes[start].is_ascii_digit() || (start > 0 && bytes[start - 1].is_ascii_digit()) {
            continue;
        }
        let mut i = start;
        let mut groups = 0;
        loop {
            let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 || digits > 3 {
                break;
            }
            i += digits;
            groups += 1;
            if groups == 4 {
                return Some(line[start..i].to_owned());
            }
            if bytes.get(i) != Some(&b'.') {
                break;
            }
            i += 1;
        }
    }
    None
}

#[test]
fn dotted_quads_are_found() {
    assert_eq!(
        dotted_quad("peer=127.0.0.1:443").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        dotted_quad("for 203.0.113.77").as_deref(),
        Some("203.0.113.77")
    );
    assert_eq!(dotted_quad("latency_us=1.2.3 v0.1.0"), None);
}
