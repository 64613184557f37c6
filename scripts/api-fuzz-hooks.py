"""Schemathesis hooks for scripts/api-fuzz.sh: sign every generated request as docs/protocol.md §8
says, with the key registered for its path, so that the fuzzer reaches the handlers behind the
signature instead of meeting 401 and 404 at the door.

The fixture program (tests/src/bin/api-fuzz-fixture.rs) has registered an office and opened
mailboxes on the relay under test and written their signing keys to $CANDOR_FUZZ_FIXTURE.
Before each request these hooks:

- put the fixture's office in every office path, and one of its mailboxes in every mailbox path,
  whenever the generated ID is well formed (a malformed one is left alone, so that the relay's
  400 for it is still tested);
- sign the request exactly as it goes on the wire: the method, the path and query as sent, the
  SHA-256 of the body bytes as sent, a fresh timestamp and request ID. Office paths are signed
  with the office key; mailbox paths with the mailbox's case key, or with the office key when
  the generated `Candor-Signer` says `office` (both are registered for a mailbox), and always
  with the office key where only the office may act (close, marker, notes).

A request is left unsigned when schemathesis generated its signature headers missing or
malformed (its tests of those still get their 401), and so is opening a mailbox, whose key is
in the generated body.

After each signed request the hooks send it once more, byte for byte: the relay remembers a
request ID only once the signature has verified (§11), so an answer of 401 `replayed-request`
proves that the first one got past authentication (as does any 2xx). The counts go to
$CANDOR_FUZZ_REPORT as JSON, which the script prints.

A schema cannot state what the relay checks beyond types and patterns: that a card's signature
verifies, that an envelope names the mailbox of its path, that its ciphertext is a padding
bucket long. A schema-valid body that breaks one of those gets 400 `malformed`, which
schemathesis' `positive_data_acceptance` check would report; `filter_failure` waives exactly
that (a signed request, or one whose body the relay reads before the signature, 400,
`malformed`, an operation with such a body), and a schema-violating body refused with 413
`too-large` (over the endpoint's byte limit, which the relay checks before a body's shape), and
nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import re
import struct
import threading
import time
from collections import Counter, defaultdict

import nacl.signing
import requests
import schemathesis

# docs/protocol.md §2: the label of a relay request signature.
REQUEST_LABEL = b"candor/v1/request"
SIGNER_CODES = {"case": 1, "office": 2}
HEADERS = ("Candor-Signer", "Candor-Timestamp", "Candor-Request-Id", "Candor-Signature")
# The patterns the OpenAPI document gives these headers and IDs (docs/protocol.md §11).
PATTERNS = {
    "Candor-Signer": re.compile(r"(case|office)", re.ASCII),
    "Candor-Timestamp": re.compile(r"[0-9]{1,20}", re.ASCII),
    "Candor-Request-Id": re.compile(r"[A-Za-z0-9_-]{21}[AQgw]", re.ASCII),
    "Candor-Signature": re.compile(r"[A-Za-z0-9_-]{85}[AQgw]", re.ASCII),
    "Candor-Key": re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]", re.ASCII),
}
MAILBOX_ID = re.compile(r"[A-Za-z0-9_-]{21}[AQgw]", re.ASCII)
OFFICE_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,30}[a-z0-9]", re.ASCII)

# Operations that only the office key may sign.
OFFICE_ONLY = {
    "PUT /v1/offices/{office}",
    "GET /v1/offices/{office}/inbox",
    "POST /v1/offices/{office}/envelopes",
    "PUT /v1/offices/{office}/markers",
    "POST /v1/mailboxes/{mailbox}/close",
    "PUT /v1/mailboxes/{mailbox}/marker",
    "POST /v1/mailboxes/{mailbox}/notes",
    "GET /v1/mailboxes/{mailbox}/notes",
}
# Signed by the key in its own body, which the fuzzer generates: never signed here.
UNSIGNABLE = {"POST /v1/mailboxes"}
# Operations whose bodies carry rules no JSON schema can state (signatures, a mailbox that must
# equal the path's, padding buckets, a batch that names each case once): a signed, schema-valid
# body may rightly get 400.
SEMANTIC_BODIES = {
    "PUT /v1/offices/{office}",
    "POST /v1/offices/{office}/envelopes",
    "PUT /v1/offices/{office}/markers",
    "POST /v1/mailboxes/{mailbox}/envelopes",
    "POST /v1/mailboxes/{mailbox}/close",
}
# Operations whose body is read, and may rightly be refused, before the signature is checked:
# a consent names the case whose key must sign it, and carries signatures over a proposal and
# an expiry counted from the relay's today; opening a channel names the office whose key must
# sign it, and its channel key must be a point of the curve, which no pattern can say.
READ_BEFORE_AUTH = {"PUT /v1/handoffs/{handoff}", "PUT /v1/channels/{channel}"}
# How many mailboxes are never closed or deleted; the rest are shared by close and delete.
KEPT = 4


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _load_fixture() -> dict:
    path = os.environ.get("CANDOR_FUZZ_FIXTURE")
    if not path:
        raise RuntimeError(
            "error: CANDOR_FUZZ_FIXTURE is not set; run scripts/api-fuzz.sh, which makes the fixture"
        )
    with open(path, encoding="utf-8") as f:
        fixture = json.load(f)
    mailboxes = fixture["mailboxes"]
    if len(mailboxes) <= KEPT + 1:
        raise RuntimeError(
            f"error: the fixture has {len(mailboxes)} mailboxes; give api-fuzz-fixture --mailboxes {KEPT + 2} or more"
        )
    return fixture


FIXTURE = _load_fixture()
OFFICE = FIXTURE["office"]["id"]
OFFICE_KEY = nacl.signing.SigningKey(_unb64(FIXTURE["office"]["signing_seed"]))
CASE_KEYS = {m["id"]: nacl.signing.SigningKey(_unb64(m["signing_seed"])) for m in FIXTURE["mailboxes"]}
_ids = [m["id"] for m in FIXTURE["mailboxes"]]
KEPT_MAILBOXES = itertools.cycle(_ids[:KEPT])
CLOSE_POOL = _ids[KEPT::2]
DELETE_POOL = _ids[KEPT + 1 :: 2]
REPORT = os.environ.get("CANDOR_FUZZ_REPORT")
# One line per signed request, for looking into a run: mode, method, path, status, the answer's
# problem type and detail, and what the replay got.
LOG = os.environ.get("CANDOR_FUZZ_LOG")

_lock = threading.Lock()
_signatures: set[str] = set()
_stats = {
    "signed": 0,
    "past_auth": 0,
    "probe_5xx": 0,
    "waived_positive_400": 0,
    "waived_by_detail": Counter(),
    "statuses": defaultdict(Counter),
    "past_auth_by_operation": Counter(),
}


def _signing_input(signer: str, method: str, path: str, body: bytes, timestamp: int, request_id: bytes) -> bytes:
    """docs/protocol.md §8: u8(signer) || len16(method) || method || len16(path) || path
    || SHA-256(body) || u64(timestamp) || request_id (16 raw bytes)."""
    m, p = method.encode("ascii"), path.encode("utf-8")
    return (
        bytes([SIGNER_CODES[signer]])
        + struct.pack(">H", len(m))
        + m
        + struct.pack(">H", len(p))
        + p
        + hashlib.sha256(body).digest()
        + struct.pack(">Q", timestamp)
        + request_id
    )


class CandorSignature(requests.auth.AuthBase):
    """Signs the prepared request, so that what is signed is exactly what is sent."""

    def __init__(self, signer: str, key: nacl.signing.SigningKey) -> None:
        self.signer = signer
        self.key = key

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        timestamp = int(time.time())
        request_id = os.urandom(16)
        message = _signing_input(self.signer, r.method, r.path_url, body, timestamp, request_id)
        signature = _b64(self.key.sign(REQUEST_LABEL + message).signature)
        r.headers["Candor-Signer"] = self.signer
        r.headers["Candor-Timestamp"] = str(timestamp)
        r.headers["Candor-Request-Id"] = _b64(request_id)
        r.headers["Candor-Signature"] = signature
        # As every client does (docs/protocol.md §8), where the generated value is well formed
        # (it would name another key); a malformed one is left for the relay to refuse.
        named = r.headers.get("Candor-Key")
        if named is None or PATTERNS["Candor-Key"].fullmatch(named):
            r.headers["Candor-Key"] = _b64(bytes(self.key.verify_key))
        with _lock:
            _signatures.add(signature)
        return r


def _well_formed_signature_headers(case) -> bool:
    headers = case.headers or {}
    for name in HEADERS:
        value = headers.get(name)
        if not isinstance(value, str) or not PATTERNS[name].fullmatch(value):
            return False
    return True


POOLS = {
    # Each delete takes a mailbox of its own; once all are gone, deletes meet 404.
    "DELETE /v1/mailboxes/{mailbox}": DELETE_POOL,
    # A mailbox closes once; a second close of the last one is a 409, also worth sending.
    "POST /v1/mailboxes/{mailbox}/close": CLOSE_POOL,
}
MAILBOX_IN_PATH = re.compile(r"/v1/mailboxes/([A-Za-z0-9_-]{21}[AQgw])(?:[/?]|$)", re.ASCII)


def _mailbox_for(label: str, signed: bool) -> str:
    """A fixture mailbox for a request; a fresh one from its pool for a signed close or delete."""
    with _lock:
        pool = POOLS.get(label)
        if pool is None or not signed:
            return next(KEPT_MAILBOXES)
        return pool.pop(0) if len(pool) > 1 else pool[0]


def _give_back(label: str, path: str) -> None:
    """Returns a pool's mailbox that a refused close or delete left as it was."""
    pool = POOLS.get(label)
    found = MAILBOX_IN_PATH.match(path)
    if pool is None or found is None:
        return
    with _lock:
        if found.group(1) not in pool:
            pool.insert(0, found.group(1))


@schemathesis.hook
def before_call(context, case, kwargs):
    label = case.operation.label
    params = case.path_parameters
    signed = label not in UNSIGNABLE and _well_formed_signature_headers(case)
    mailbox = None
    if params:
        if isinstance(params.get("office"), str) and OFFICE_ID.fullmatch(params["office"]):
            params["office"] = OFFICE
        if isinstance(params.get("mailbox"), str) and MAILBOX_ID.fullmatch(params["mailbox"]):
            mailbox = _mailbox_for(label, signed)
            params["mailbox"] = mailbox
    if not signed:
        return
    if label in OFFICE_ONLY or mailbox is None or case.headers["Candor-Signer"] == "office":
        kwargs["auth"] = CandorSignature("office", OFFICE_KEY)
    else:
        kwargs["auth"] = CandorSignature("case", CASE_KEYS[mailbox])


def _problem(content: bytes, field: str) -> str:
    try:
        value = json.loads(content)
    except ValueError:
        return ""
    return str(value.get(field, "")) if isinstance(value, dict) else ""


def _problem_type(content: bytes) -> str:
    return _problem(content, "type")


def _signed_by_us(request) -> bool:
    signature = request.headers.get("Candor-Signature")
    with _lock:
        return signature in _signatures


def _write_report() -> None:
    if not REPORT:
        return
    with _lock:
        data = {
            **{k: v for k, v in _stats.items() if isinstance(v, int)},
            "statuses": {op: dict(c) for op, c in _stats["statuses"].items()},
            "past_auth_by_operation": dict(_stats["past_auth_by_operation"]),
            "waived_by_detail": {f"{op}: {detail}": n for (op, detail), n in _stats["waived_by_detail"].items()},
        }
    tmp = REPORT + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(tmp, REPORT)


def _log(case, response, probe_status) -> None:
    mode = case.meta.generation.mode.value if case.meta else "?"
    kind = _problem_type(response.content).rsplit(":", 1)[-1] or "-"
    detail = _problem(response.content, "detail") or "-"
    request = response.request
    with _lock, open(LOG, "a", encoding="utf-8") as f:
        f.write(f"{mode} {request.method} {request.path_url} {response.status_code} {kind} probe={probe_status} {detail}\n")


@schemathesis.hook
def after_call(context, case, response):
    if not _signed_by_us(response.request):
        return
    label = case.operation.label
    passed = 200 <= response.status_code < 300
    probe_status = None
    if not passed and response.status_code not in (404, 409):
        # Refused before it changed anything: the mailbox is still open and still there.
        _give_back(label, response.request.path_url)
    if not passed:
        # The same bytes again: `replayed-request` means the relay had accepted the signature.
        with requests.Session() as session:
            probe = session.send(response.request.copy(), timeout=10, allow_redirects=False)
        probe_status = probe.status_code
        passed = probe.status_code == 401 and _problem_type(probe.content).endswith(":replayed-request")
    if LOG:
        _log(case, response, probe_status)
    with _lock:
        _stats["signed"] += 1
        _stats["statuses"][label][str(response.status_code)] += 1
        if probe_status is not None and probe_status >= 500:
            _stats["probe_5xx"] += 1
        if passed:
            _stats["past_auth"] += 1
            _stats["past_auth_by_operation"][label] += 1
    _write_report()


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keeps every failure but two: a schema-valid body that broke a rule no schema states
    (signed by us, or read before the signature), and a schema-violating body refused as too
    large (413) because it is over the endpoint's byte limit, which the relay checks before it
    reads a body's shape."""
    kind = type(failure).__name__
    problem = _problem_type(response.content)
    semantic = (
        kind == "RejectedPositiveData"
        and response.status_code == 400
        and problem == "urn:candor:problem:malformed"
        and (
            (case.operation.label in SEMANTIC_BODIES and _signed_by_us(response.request))
            or case.operation.label in READ_BEFORE_AUTH
        )
    )
    oversize = (
        kind == "AcceptedNegativeData"
        and response.status_code == 413
        and problem == "urn:candor:problem:too-large"
    )
    waived = semantic or oversize
    if waived:
        with _lock:
            _stats["waived_positive_400"] += 1
            _stats["waived_by_detail"][(case.operation.label, _problem(response.content, "detail"))] += 1
        _write_report()
    return not waived
