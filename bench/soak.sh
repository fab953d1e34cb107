#!/usr/bin/env bash
# Memory soak (not CI): loadgen's RSS over a long step, synthetic plugin.
#
# bench/soak.sh [MINUTES] [RATE]
#   One step of `loadgen max-rps --plugin synthetic` at RATE ops/s (default
#   50000; capacity far above it, no base latency) held MINUTES (default 60).
#   Samples loadgen's VmRSS every 10 s; prints the samples, then RSS at 1 min,
#   at the end, and their ratio. The target (docs/performance.md): RSS at the
#   end within 10% of RSS at 1 min.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-60}
rate=${2:-50000}
cargo build --release -q -p loadgen-cli -p loadgen-plugin-synthetic
bin=${CARGO_TARGET_DIR:-target}/release
log=$(mktemp)
LOADGEN_PLUGIN_PATH=$bin "$bin/loadgen" max-rps --plugin synthetic \
  -o capacity=100000000 -o base_latency=0s --steps "$rate" --warmup 5s \
  --hold "${minutes}m" --drain 1s --cooldown 0s --slo-p95 1h --slo-p99 1h \
  --quiet >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
echo "loadgen soak: synthetic at $rate ops/s for $minutes min (release, $(nproc) cores)"
echo "elapsed_s rss_kib"
start=$(date +%s)
at_1min=""
last=""
while kill -0 "$pid" 2>/dev/null; do
  sleep 10
  rss=$(rss_kib "$pid") || break
  [ -n "$rss" ] || break
  elapsed=$(($(date +%s) - start))
  echo "$elapsed $rss"
  [ -z "$at_1min" ] && [ "$elapsed" -ge 60 ] && at_1min=$rss
  last=$rss
done
wait "$pid" || true
[ -n "$at_1min" ] || { echo "ran under a minute: no 1-minute sample" >&2; exit 1; }
awk -v a="$at_1min" -v b="$last" 'BEGIN {
  printf "RSS at 1 min %.1f MiB, at the end %.1f MiB: ratio %.3f (target <= 1.10)\n", a / 1024, b / 1024, b / a }'
grep '^ANSWER' "$log" || true
