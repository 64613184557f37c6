#!/usr/bin/env bash
# `candor inbox` for an office with N open cases, for docs/benchmarks.md: the first inbox after
# the cases arrived (it opens every case and stores its digest), then the inbox an office runs
# every day (nothing moved), beside the same command for an office with no case (the keystore
# unlock and one listing: the floor), alternated by hyperfine. Peak memory from GNU time.
# Needs hyperfine and GNU time (`apt-get install hyperfine time`).
# Usage: bench/inbox.sh [N] [RUNS]   (from the repository root, after
#        `cargo build --release -p candor -p candor-server -p candor-bench`)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
runs=${2:-10}
bin=$PWD/target/release
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
export CANDOR_PASSPHRASE=bench-passphrase

start_relay() { # sets pid and url
  "$bin/candor-server" --listen 127.0.0.1:0 --data-dir "$work/relay" >"$work/relay.out" 2>&1 &
  pid=$!
  until grep -q 'listening on' "$work/relay.out"; do sleep 0.05; done
  url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/relay.out")
}

stop_relay() {
  kill -INT "$pid"
  wait "$pid" || true
  pid=
}

office() { # $1: id
  CANDOR_HOME="$work/$1" "$bin/candor" office init --name "Bench $1" --id "$1" \
    --relay "$url" >/dev/null
  CANDOR_HOME="$work/$1" "$bin/candor" office publish \
    --invite "$("$bin/candor-server" invite --data-dir "$work/relay" | tail -1)" >/dev/null
}

start_relay
office full
office empty
stop_relay
"$bin/candor-bench" --fill-cases "$n" --office-home "$work/full" --data-dir "$work/relay"
# The relay's address changed with its port: both offices keep their card's URL, so the relay
# listens where it did before.
port=${url##*:}
"$bin/candor-server" --listen "127.0.0.1:$port" --data-dir "$work/relay" >"$work/relay.out" 2>&1 &
pid=$!
until grep -q 'listening on' "$work/relay.out"; do sleep 0.05; done

echo "== the first inbox after $n cases arrived (opens each, stores its digest)"
/usr/bin/time -f 'wall %e s, CPU %U s user + %S s sys, peak RSS %M KiB' \
  env CANDOR_HOME="$work/full" "$bin/candor" inbox --json >"$work/first.json"
listed=$(grep -o '"case":' "$work/first.json" | wc -l)
echo "cases listed: $listed"
[ "$listed" -eq "$n" ] || { echo "expected $n cases" >&2; exit 1; }

echo "== the next inboxes (nothing moved), beside an office with no case"
hyperfine -N --warmup 1 --runs "$runs" \
  "env CANDOR_HOME=$work/full $bin/candor inbox --json" \
  "env CANDOR_HOME=$work/empty $bin/candor inbox --json"
/usr/bin/time -f 'inbox of N: wall %e s, CPU %U s user + %S s sys, peak RSS %M KiB' \
  env CANDOR_HOME="$work/full" "$bin/candor" inbox --json >"$work/again.json"
/usr/bin/time -f 'inbox of 0: wall %e s, CPU %U s user + %S s sys, peak RSS %M KiB' \
  env CANDOR_HOME="$work/empty" "$bin/candor" inbox --json >/dev/null
cmp -s "$work/first.json" "$work/again.json" && echo "the warm inbox shows what the first showed"
