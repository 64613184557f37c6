#!/usr/bin/env bash
# API fuzzing: runs schemathesis with all its checks against a real relay's /v1/openapi.json.
# Fails on any 5xx, any response that does not match the schema, or any crash.
# Usage: scripts/api-fuzz.sh [MAX_EXAMPLES]   (default 50 per operation)
# Needs: target/release/candor-server (or CANDOR_SERVER_BIN) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-50}"
server="${CANDOR_SERVER_BIN:-target/release/candor-server}"
venv="${CANDOR_VENV:-.venv}"

if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'schemathesis==4.32.5'
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

"$venv/bin/schemathesis" run "$url/v1/openapi.json" \
  --checks all \
  --max-examples "$examples" \
  --workers 1 \
  --request-timeout 10 \
  --seed 20261122 \
  --no-color 2>&1 | tail -n 150
status=${PIPESTATUS[0]}
if ! kill -0 "$pid" 2>/dev/null; then
  echo "the relay died during API fuzzing:"; tail -n 50 "$work/log"; exit 1
fi
exit "$status"
