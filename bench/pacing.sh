#!/usr/bin/env bash
# Pacing accuracy: achieved/target for the synthetic plugin (capacity far above
# the offered rate, no base latency) at 100, 1k, 10k, 50k and 100k ops/s.
# Latency p95/p99 here is time from each op's intended send time to its answer:
# with a server this fast it is the pacer's own lateness.
# Usage: bench/pacing.sh [HOLD]   (default hold 5s)
set -euo pipefail
cd "$(dirname "$0")/.."
hold=${1:-5s}
cargo build --release -q -p loadgen-cli -p loadgen-plugin-synthetic
csv=$(mktemp --suffix .csv)
trap 'rm -f "$csv"' EXIT
LOADGEN_PLUGIN_PATH=target/release target/release/loadgen max-rps --plugin synthetic \
  -o capacity=10000000 -o base_latency=0s \
  --steps 100,1k,10k,50k,100k --warmup 1s --hold "$hold" --cooldown 1s \
  --stop-on-trip false --quiet --csv "$csv" >/dev/null || true
echo "pacing accuracy (synthetic plugin, release build, hold $hold, $(nproc) cores)"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  { printf "%9s ops/s  achieved %10.1f  ratio %.4f  p95 %7.3f ms  p99 %7.3f ms  underrun %s  %s\n",
           $col["target_rps"], $col["achieved_rps"], $col["achieved_rps"] / $col["target_rps"],
           $col["op_p95_ms"], $col["op_p99_ms"], $col["emit_underrun"], $col["verdict"] }' "$csv"
