#!/usr/bin/env bash
# CLI figures for docs/benchmarks.md: wall time and peak memory of `candor raise` (without and
# with proof of work) and of `candor check` on a case with 20 messages, against a release relay
# on loopback. Needs hyperfine and GNU time (`apt-get install hyperfine time`).
# Usage: bench/cli.sh   (from the repository root, after `cargo build --release -p candor -p candor-server`)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

start_relay() { # $1: name, $2: PoW difficulty
  "$bin/candor-server" --listen 127.0.0.1:0 --data-dir "$work/$1" --pow-difficulty "$2" \
    >"$work/$1.out" 2>/dev/null &
  pids+=($!)
  until grep -q 'listening on' "$work/$1.out"; do sleep 0.05; done
  sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/$1.out"
}

office() { # $1: name, $2: relay URL; prints the address
  CANDOR_HOME="$work/$1-office" CANDOR_PASSPHRASE=bench-passphrase \
    "$bin/candor" office init --name "Bench $1" --id "$1" --relay "$2" >/dev/null
  CANDOR_HOME="$work/$1-office" CANDOR_PASSPHRASE=bench-passphrase \
    "$bin/candor" office publish --invite "$("$bin/candor-server" invite --data-dir "$work/$1")" >/dev/null
  CANDOR_HOME="$work/$1-office" CANDOR_PASSPHRASE=bench-passphrase "$bin/candor" office address
}

export CANDOR_HOME="$work/visitor"
msg="$work/message.txt"
head -c 600 /dev/zero | tr '\0' 'x' >"$msg"

easy=$(office easy "$(start_relay easy 0)")
hard=$(office hard "$(start_relay hard 24)")

echo "== candor raise, PoW difficulty 0 (everything but the proof of work)"
hyperfine -N --warmup 2 --runs 20 "$bin/candor raise $easy --yes --message-file $msg --json"
/usr/bin/time -f 'peak RSS %M KiB' "$bin/candor" raise "$easy" --yes --message-file "$msg" --json >/dev/null

echo "== candor raise, PoW at the default difficulty (24)"
hyperfine -N --warmup 1 --runs 20 "$bin/candor raise $hard --yes --message-file $msg --json"
/usr/bin/time -f 'peak RSS %M KiB' "$bin/candor" raise "$hard" --yes --message-file "$msg" --json >/dev/null

echo "== candor check, a case with 20 messages (10 from the visitor, 10 verified office replies)"
codename=$("$bin/candor" raise "$easy" --yes --message-file "$msg" --json |
  sed -n 's/.*"codename": "\(.*\)".*/\1/p')
export CANDOR_CODENAME="$codename"
case=$(CANDOR_HOME="$work/easy-office" CANDOR_PASSPHRASE=bench-passphrase "$bin/candor" inbox --json |
  sed -n 's/.*"case": "\(.*\)".*/\1/p' | head -n 1)
for i in $(seq 10); do
  [ "$i" -gt 1 ] && "$bin/candor" send "$easy" --message-file "$msg" >/dev/null
  CANDOR_HOME="$work/easy-office" CANDOR_PASSPHRASE=bench-passphrase \
    "$bin/candor" reply "$case" --message-file "$msg" >/dev/null
done
count=$("$bin/candor" check "$easy" --json | grep -o '"seq"' | wc -l)
echo "messages in the thread: $count"
hyperfine -N --warmup 3 --runs 30 "$bin/candor check $easy"
/usr/bin/time -f 'peak RSS %M KiB' "$bin/candor" check "$easy" >/dev/null
