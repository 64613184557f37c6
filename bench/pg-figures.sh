#!/usr/bin/env bash
# The PostgreSQL figures of docs/benchmarks.md, in one run:
#   1. candor-bench with the same workload on sled, on PostgreSQL with one instance and on
#      PostgreSQL with two (connections spread over both), one after the other, each phase as a
#      share of that configuration's own health ceiling;
#   2. the RSS of one instance serving a database that holds N mailboxes (default 1 000 000),
#      filled with SQL (random IDs and keys, no envelopes: the relay keeps nothing per mailbox
#      in memory on PostgreSQL, so what the rows hold does not matter to its RSS), sampled from
#      /proc/<pid>/status every 0.2 s while candor-bench loads it.
#
# usage: bench/pg-figures.sh ADMIN_URL [N] [SECONDS] [ROUNDS]
#   ADMIN_URL: a superuser's URL of the cluster, e.g. postgres://postgres@127.0.0.1:55451/postgres
#   (a scripts/pg-test-cluster.sh cluster: its role `candor` owns the databases made here).
#   ROUNDS (default 1): candor-bench --rounds, the three phases run that many times in turn
#   for each configuration; the shares are medians, with their range over the rounds.
# Build first: cargo build --release --workspace
set -euo pipefail
cd "$(dirname "$0")/.."
admin=${1:?usage: pg-figures.sh ADMIN_URL [N] [SECONDS] [ROUNDS]}
n=${2:-1000000}
seconds=${3:-6}
rounds=${4:-1}
base=${admin%/*}
user_url() { echo "${base/postgres@/candor@}/$1"; }
psql_admin() { psql "$admin" -qtAX -v ON_ERROR_STOP=1 "$@"; }
fresh_db() {
  psql_admin -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 OWNER candor" >/dev/null
}
bench=target/release/candor-bench
out=$(mktemp -d)

echo "== load: sled, PostgreSQL x1, PostgreSQL x2 ($seconds s per phase, $rounds round(s))"
$bench --seconds "$seconds" --rounds "$rounds" --json >"$out/sled.json" 2>/dev/null
fresh_db candor_bench_1
$bench --seconds "$seconds" --rounds "$rounds" --json --store "$(user_url candor_bench_1)" >"$out/pg1.json" 2>/dev/null
fresh_db candor_bench_2
$bench --seconds "$seconds" --rounds "$rounds" --json --store "$(user_url candor_bench_2)" --instances 2 >"$out/pg2.json" 2>/dev/null
python3 - "$out" <<'PY'
import json, sys
d = sys.argv[1]
runs = {k: {r["phase"]: r for r in json.load(open(f"{d}/{k}.json"))} for k in ("sled", "pg1", "pg2")}
print(f"{'phase':<8}" + "".join(f"{k + ' req/s':>14}{k + ' ceil':>10}{k + ' p99':>10}" for k in runs))
for phase in ("health", "append", "fetch"):
    row = f"{phase:<8}"
    for k in runs:
        r = runs[k][phase]
        row += f"{r['rps']:>14.0f}{100 * r['of_ceiling']:>9.1f}%{r['p99_ms']:>8.2f}ms"
    print(row)
if any(r["rounds"] > 1 for run in runs.values() for r in run.values()):
    print("medians over the rounds; each round's share of its own ceiling:")
    for k in runs:
        for phase in ("append", "fetch"):
            each = ", ".join(f"{100 * x:.1f}%" for x in runs[k][phase]["of_ceiling_each"])
            print(f"  {k} {phase}: {each}")
for phase in ("append", "fetch"):
    s = runs["sled"][phase]["rps"]
    print(f"{phase}: pg1/sled {runs['pg1'][phase]['rps'] / s:.2f}, pg2/sled {runs['pg2'][phase]['rps'] / s:.2f}, pg2/pg1 {runs['pg2'][phase]['rps'] / runs['pg1'][phase]['rps']:.2f}")
errors = sum(r["errors"] for run in runs.values() for r in run.values())
print(f"errors: {errors}")
PY

echo "== RSS with $n mailboxes on PostgreSQL"
fresh_db candor_bench_rss
url=$(user_url candor_bench_rss)
target/release/candor-server migrate --store "$url" >/dev/null
start=$(date +%s)
psql "$url" -qtAX -v ON_ERROR_STOP=1 <<SQL
INSERT INTO offices (id, card, signature, signing_key, serial, retention_days, activity, open_mailboxes)
VALUES ('scale', '\x00', '\x00', '\x00', 1, 30, $n, $n);
INSERT INTO mailboxes (id, office, signing_key, kem_key, last_seq, count, bytes, expiry, activity)
SELECT decode(md5(i::text), 'hex'), 'scale', sha256(i::text::bytea), sha256(('k' || i)::bytea),
       0, 0, 0, extract(epoch FROM now())::bigint + 30 * 86400, i
FROM generate_series(1, $n) AS i;
ANALYZE offices; ANALYZE mailboxes;
SQL
echo "filled $n mailboxes in $(( $(date +%s) - start )) s; database $(psql "$url" -qtAX -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"
$bench --seconds "$seconds" --store "$url" >"$out/rss.txt" 2>&1 &
loader=$!
relay=""
until [ -n "$relay" ]; do sleep 0.1; relay=$(pgrep -P "$loader" -f candor-server | head -n1 || true); done
rss=0; hwm=0; idle_rss=""
while kill -0 "$relay" 2>/dev/null; do
  line=$(awk '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{print r, h}' "/proc/$relay/status" 2>/dev/null || true)
  [ -n "$line" ] && read -r rss hwm <<<"$line"
  [ -z "$idle_rss" ] && grep -q "health: signed in advance" "$out/rss.txt" && idle_rss=$rss
  sleep 0.2
done
wait "$loader"
grep -E '^(health|append|fetch) ' "$out/rss.txt"
echo "relay RSS with $n mailboxes: ${idle_rss:-?} kB after setup, ${rss} kB last sample, ${hwm} kB peak (VmHWM)"
rm -rf "$out"
