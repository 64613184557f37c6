//! Reaching the relay: a relay that is down, the `--proxy` path through SOCKS5 to an onion
//! name, an onion name without a proxy, and plain `http://` off this machine.

use candor_tests::socks::{Socks5, header};
use candor_tests::{Party, Relay};

use crate::{Office, raise};

#[test]
fn a_relay_that_is_down_gives_exit_3_and_names_the_url() {
    // Arrange: a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let staff = Party::new();
    staff
        .candor(&["office", "init", "--name", "Down Ombuds", "--relay", &url])
        .ok();
    let address = staff.candor(&["office", "address"]).ok().stdout;

    // Act
    let publish = staff
        .candor(&["office", "publish", "--invite", "token"])
        .run()
        .expect_code(3);
    let raise = Party::new()
        .candor(&["raise", address.trim(), "--yes"])
        .stdin("anyone there?")
        .run()
        .expect_code(3);

    // Assert
    for run in [publish, raise] {
        assert!(run.stderr.contains(&url), "{}", run.stderr);
        assert!(
            run.stderr.contains("cannot reach the relay"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn the_proxy_carries_dns_and_traffic_to_an_onion_relay() {
    // Arrange: the card names an onion service that only the proxy can resolve.
    let relay = Relay::start();
    let proxy = Socks5::start();
    let onion = "candortestrelay2k3jx7qz5w4v6y8a9b2c3d4e5f6g7h8i9j0klmnop.onion";
    let onion_url = format!("http://{onion}:{}", relay.port);
    let staff = Party::new().with_proxy(proxy.url.clone());
    let office = Office::register_with(staff, &relay, &onion_url, "Onion Ombuds", "onion");
    assert!(office.address.ends_with(&onion_url), "{}", office.address);

    // Act: the whole conversation goes through the proxy.
    let visitor = Party::new().with_proxy(proxy.url.clone());
    let codename = raise(&visitor, &office.address, "sent over the onion");
    let label = office.labels().remove(0);
    office
        .staff
        .candor(&["reply", &label])
        .stdin("answered over the onion")
        .ok();
    let check = visitor
        .candor(&["check", &office.address, "--json"])
        .env("CANDOR_CODENAME", &codename)
        .ok()
        .json();
    // Without the proxy, the onion name is refused before anything goes to the network
    // (issue 20, finding 7): exit 1, an input error, not 3, a relay that did not answer.
    let direct = Party::new()
        .candor(&["check", &office.address])
        .env("CANDOR_CODENAME", &codename)
        .run()
        .expect_code(1);

    // Assert: the proxy was asked for the onion name (so DNS went through it), and for nothing
    // else; the conversation worked.
    let seen = proxy.seen();
    assert!(seen.iter().any(|h| h == onion), "{seen:?}");
    assert!(seen.iter().all(|h| h == onion), "{seen:?}");
    assert_eq!(check["messages"][1]["text"], "answered over the onion");
    assert!(direct.stderr.contains(&onion_url), "{}", direct.stderr);
    assert!(
        direct.stderr.contains("--proxy") && direct.stderr.contains("RFC 7686"),
        "{}",
        direct.stderr
    );
    assert!(!direct.stderr.contains("cannot reach"), "{}", direct.stderr);
}

#[test]
fn every_signed_request_names_the_key_that_signed_it() {
    // Arrange: the proxy as a tap on the wire between the parties and the relay.
    let relay = Relay::start();
    let proxy = Socks5::start();
    let onion = "candorkeyheaders3jx7qz5w4v6y8a9b2c3d4e5f6g7h8i9j0klmnop.onion";
    let onion_url = format!("http://{onion}:{}", relay.port);
    let staff = Party::new().with_proxy(proxy.url.clone());
    let office = Office::register_with(staff, &relay, &onion_url, "Tapped Ombuds", "tapped");
    let visitor = Party::new().with_proxy(proxy.url.clone());

    // Act: a visitor's message, the ombuds' inbox and reply, the visitor's check.
    let codename = raise(&visitor, &office.address, "which headers do you send?");
    let label = office.labels().remove(0);
    office.staff.candor(&["reply", &label]).stdin("these").ok();
    visitor
        .candor(&["check", &office.address])
        .env("CANDOR_CODENAME", &codename)
        .ok();

    // Assert: every signed request, fetches of envelopes among them, carries `candor-key`
    // with 32 bytes, so that the relay checks the signature before it reads the mailbox
    // (docs/protocol.md §8) and, on PostgreSQL, reads key and page in one statement.
    let heads = proxy.request_heads();
    let signed: Vec<&String> = heads
        .iter()
        .filter(|head| header(head, "candor-signature").is_some())
        .collect();
    assert!(
        signed
            .iter()
            .any(|head| head.starts_with("GET ") && head.contains("/envelopes")),
        "{heads:#?}"
    );
    for head in signed {
        let key = header(head, "candor-key").unwrap_or_else(|| panic!("no candor-key: {head}"));
        let bytes = candor_protocol::request::RequestAuth::parse_key_header(key);
        assert!(bytes.is_ok(), "{head}");
    }
}

#[test]
fn issue_20_plain_http_off_this_machine_is_warned_about_and_loopback_is_not() {
    // Arrange: 0.0.0.0 is not a loopback name, but on Linux it goes nowhere beyond this
    // machine; nobody listens on the port, so the command fails fast after the warning.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let runs = [
        format!("http://0.0.0.0:{port}"),
        format!("http://127.0.0.1:{port}"),
    ]
    .map(|url| {
        let staff = Party::new();
        staff
            .candor(&["office", "init", "--name", "Plain Ombuds", "--relay", &url])
            .ok();
        // Act
        staff
            .candor(&["office", "publish", "--invite", "token"])
            .run()
            .expect_code(3)
    });

    // Assert
    let [remote, local] = runs;
    assert!(
        remote.stderr.contains("warning:") && remote.stderr.contains("plain http://"),
        "{}",
        remote.stderr
    );
    assert!(!local.stderr.contains("plain http://"), "{}", local.stderr);
}

#[test]
fn a_proxy_that_does_not_answer_is_named_and_an_empty_candor_proxy_means_none() {
    // Arrange: a real relay, and a proxy port nobody listens on.
    let relay = Relay::start();
    let office = Office::register(&relay, "Proxied Ombuds", "proxied");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let codename = raise(&Party::new(), &office.address, "through whatever proxy");

    // Act
    let down = Party::new()
        .with_proxy(format!("socks5h://127.0.0.1:{port}"))
        .candor(&["check", &office.address])
        .env("CANDOR_CODENAME", &codename)
        .run()
        .expect_code(3);
    let direct = Party::new()
        .candor(&["check", &office.address])
        .env("CANDOR_PROXY", "")
        .env("CANDOR_CODENAME", &codename)
        .ok();

    // Assert: the proxy is named as the problem; an empty variable is no proxy at all.
    assert!(
        down.stderr
            .contains(&format!("is Tor running on 127.0.0.1:{port}?")),
        "{}",
        down.stderr
    );
    assert!(
        direct.stdout.contains("through whatever proxy"),
        "{}",
        direct.stdout
    );
}
