#!/usr/bin/env bash
# API fuzzing: runs schemathesis with all its checks against a real relay's /v1/openapi.json,
# signed. Before the run, tests/src/bin/api-fuzz-fixture.rs registers an office and opens
# mailboxes on that relay; the hooks in scripts/api-fuzz-hooks.py then sign every generated
# request (docs/protocol.md §8) with the key registered for its path, so that hostile bodies
# and queries reach the handlers behind the signature.
# Fails on any 5xx, any response that does not match the schema, any crash, or a run in which
# no signed request got past authentication. Prints how many did.
# Usage: scripts/api-fuzz.sh [MAX_EXAMPLES]   (default 50 per operation)
# CANDOR_FUZZ_LOG=FILE appends one line per signed request to FILE (mode, method, path, status,
# problem type, the replay's status, detail).
# Needs: target/release/candor-server and target/release/api-fuzz-fixture (or CANDOR_SERVER_BIN
# and CANDOR_FIXTURE_BIN), and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-50}"
server="${CANDOR_SERVER_BIN:-target/release/candor-server}"
fixture="${CANDOR_FIXTURE_BIN:-target/release/api-fuzz-fixture}"
venv="${CANDOR_VENV:-.venv}"

case "$examples" in
  '' | *[!0-9]*) echo "error: MAX_EXAMPLES must be a number, not '$examples'; try scripts/api-fuzz.sh 50" >&2; exit 2 ;;
esac
for bin in "$server" "$fixture"; do
  [ -x "$bin" ] || {
    echo "error: $bin does not exist; build it with" \
      "'cargo build --release -p candor-server -p candor-tests --bin candor-server --bin api-fuzz-fixture'" \
      "or set CANDOR_SERVER_BIN and CANDOR_FIXTURE_BIN" >&2
    exit 2
  }
done

# Pinned: the fuzzer, and Ed25519 for the signing hook.
if ! "$venv/bin/python" - 2>/dev/null <<'EOF'
import importlib.metadata as m, sys
sys.exit(m.version("schemathesis") != "4.32.5" or m.version("pynacl") != "1.6.2")
EOF
then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'schemathesis==4.32.5' 'pynacl==1.6.2'
fi

work=$(mktemp -d)
"$server" --listen 127.0.0.1:0 --data-dir "$work/data" --pow-difficulty 8 >"$work/out" 2>"$work/log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  grep -q 'listening on' "$work/out" && break
  sleep 0.1
done
url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/out")
[ -n "$url" ] || { echo "the relay did not start:"; cat "$work/log"; exit 1; }

# Each close and each delete takes a mailbox of its own; when they run out, the rest meet a
# closed case (409) or a deleted one (404).
mailboxes=$((2 * examples + 24))
[ "$mailboxes" -le 1000 ] || mailboxes=1000
invite=$("$server" invite --data-dir "$work/data")
"$fixture" --relay "$url" --invite "$invite" --mailboxes "$mailboxes" --out "$work/fixture.json"

set +e
CANDOR_FUZZ_FIXTURE="$work/fixture.json" CANDOR_FUZZ_REPORT="$work/report.json" CANDOR_FUZZ_LOG="${CANDOR_FUZZ_LOG:-}" \
  SCHEMATHESIS_HOOKS=scripts/api-fuzz-hooks.py \
  "$venv/bin/schemathesis" run "$url/v1/openapi.json" \
  --checks all \
  --max-examples "$examples" \
  --workers 1 \
  --request-timeout 10 \
  --seed 20261122 \
  --no-color 2>&1 | tail -n 150
status=${PIPESTATUS[0]}
set -e
if ! kill -0 "$pid" 2>/dev/null; then
  echo "the relay died during API fuzzing:"; tail -n 50 "$work/log"; exit 1
fi
[ -f "$work/report.json" ] || { echo "error: the signing hook wrote no report; no request was signed"; exit 1; }
"$venv/bin/python" - "$work/report.json" <<'EOF' || status=1
import json, sys
r = json.load(open(sys.argv[1]))
print("\nSigned requests, by operation and status:")
for op in sorted(r["statuses"]):
    counts = " ".join(f"{s}:{n}" for s, n in sorted(r["statuses"][op].items()))
    print(f"  {op:<42} past auth {r['past_auth_by_operation'].get(op, 0):>4}   {counts}")
print(f"\nsigned requests: {r['signed']}")
print(f"reached a handler past authentication: {r['past_auth']}")
print(f"waived: schema-valid bodies refused for a rule no schema states, and oversize bodies refused as too large: {r['waived_positive_400']}")
for what, n in sorted(r["waived_by_detail"].items()):
    print(f"  {n:>4}  {what}")
if r["probe_5xx"]:
    print(f"error: {r['probe_5xx']} replayed requests got a 5xx")
if r["past_auth"] == 0:
    print("error: no signed request got past authentication; the signing hook is broken")
sys.exit(1 if r["probe_5xx"] or r["past_auth"] == 0 else 0)
EOF
exit "$status"
