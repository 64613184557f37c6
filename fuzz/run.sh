#!/usr/bin/env bash
# Runs every fuzz target for a bounded time from the committed seed corpus; fails on a crash.
# Usage: fuzz/run.sh [SECONDS_PER_TARGET]   (default 30)
# New inputs go to a temporary directory, so the committed corpus stays small.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-30}"
export RUSTC_BOOTSTRAP=1
cargo fuzz build --release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in $(cargo fuzz list); do
  mkdir -p "$work/$target"
  echo "==> fuzz $target for ${seconds}s"
  cargo fuzz run --release "$target" "$work/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=0 2>&1 | tail -n 3
done
