#!/usr/bin/env bash
# CPU per request of one candor-bench phase: the relay's and the load generator's CPU time
# (utime + stime from /proc/<pid>/stat) and the machine's idle time, over 5 s of the phase,
# divided by the requests in those 5 s (the phase's rate times 5).
#
# usage: bench/cpu-per-request.sh [append|fetch|health] [server-bin]
# Build first: cargo build --release -p candor-server -p candor-bench
set -euo pipefail
cd "$(dirname "$0")/.."
phase=${1:-append}
bin=${2:-target/release/candor-server}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

target/release/candor-bench --server-bin "$bin" --seconds 8 >"$out" 2>&1 &
bench=$!
until grep -q "$phase: signed in advance" "$out"; do sleep 0.02; done
sleep 0.5
relay=$(pgrep -n -f "$bin")
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
idle() { awk '/^cpu /{print $5 + $6}' /proc/stat; }
r1=$(cpu "$relay"); b1=$(cpu "$bench"); i1=$(idle)
sleep 5
r2=$(cpu "$relay"); b2=$(cpu "$bench"); i2=$(idle)
wait "$bench"

rate=$(awk -v p="$phase" '$1 == p && NF == 7 {print $3}' "$out")
ceiling=$(awk '$1 == "health" && NF == 7 {print $3}' "$out")
tick=$((1000000 / $(getconf CLK_TCK)))
awk -v rate="$rate" -v ceiling="$ceiling" -v tick="$tick" -v phase="$phase" \
  -v r="$((r2 - r1))" -v b="$((b2 - b1))" -v i="$((i2 - i1))" 'BEGIN {
  n = rate * 5
  printf "%s %d req/s (%.1f%% of %d): relay %.0f us, load generator %.0f us, idle %.0f us per request\n",
    phase, rate, 100 * rate / ceiling, ceiling, r * tick / n, b * tick / n, i * tick / n
}'
