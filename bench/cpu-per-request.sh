#!/usr/bin/env bash
# CPU per request of one candor-bench phase: the relay's and the load generator's CPU time
# (utime + stime from /proc/<pid>/stat), the database's (every process named `postgres`, when
# a store URL is given) and the machine's idle time, over 5 s of the phase, divided by the
# requests in those 5 s (the phase's rate times 5).
#
# usage: bench/cpu-per-request.sh [append|fetch|health] [server-bin] [postgres://…/DB]
# With a store URL the relay runs on that database, which must exist and may be empty (the
# bench registers its own office). Build first:
#   cargo build --release -p candor-server -p candor-bench
set -euo pipefail
cd "$(dirname "$0")/.."
phase=${1:-append}
bin=${2:-target/release/candor-server}
store=${3:-}
case "$phase" in append | fetch | health) ;; *)
  echo "error: the phase must be append, fetch or health, not '$phase'" >&2
  exit 2
  ;;
esac
case "$store" in "" | postgres://* | postgresql://*) ;; *)
  echo "error: the store must be a postgres:// URL (or nothing, for sled), not '$store'" >&2
  exit 2
  ;;
esac
out=$(mktemp)
trap 'rm -f "$out"' EXIT

args=(--server-bin "$bin" --seconds 8)
[ -n "$store" ] && args+=(--store "$store")
target/release/candor-bench "${args[@]}" >"$out" 2>&1 &
bench=$!
until grep -q "$phase: signed in advance" "$out"; do
  kill -0 "$bench" 2>/dev/null || { cat "$out" >&2; exit 1; }
  sleep 0.02
done
sleep 0.5
relay=$(pgrep -n -f "$bin")
cpu() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
db() {
  local sum=0 pid
  for pid in $(pgrep -x postgres || true); do sum=$((sum + $(cpu "$pid"))); done
  echo "$sum"
}
idle() { awk '/^cpu /{print $5 + $6}' /proc/stat; }
r1=$(cpu "$relay"); b1=$(cpu "$bench"); d1=$(db); i1=$(idle)
sleep 5
r2=$(cpu "$relay"); b2=$(cpu "$bench"); d2=$(db); i2=$(idle)
wait "$bench"

rate=$(awk -v p="$phase" '$1 == p && NF == 7 {print $3}' "$out")
ceiling=$(awk '$1 == "health" && NF == 7 {print $3}' "$out")
tick=$((1000000 / $(getconf CLK_TCK)))
awk -v rate="$rate" -v ceiling="$ceiling" -v tick="$tick" -v phase="$phase" -v pg="$store" \
  -v r="$((r2 - r1))" -v b="$((b2 - b1))" -v d="$((d2 - d1))" -v i="$((i2 - i1))" 'BEGIN {
  n = rate * 5
  printf "%s %d req/s (%.1f%% of %d): relay %.0f us, load generator %.0f us", \
    phase, rate, 100 * rate / ceiling, ceiling, r * tick / n, b * tick / n
  if (pg != "") printf ", PostgreSQL %.0f us", d * tick / n
  printf ", idle %.0f us per request\n", i * tick / n
}'
