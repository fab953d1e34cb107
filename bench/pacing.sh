#!/usr/bin/env bash
# Pacing benchmarks (release build).
#
# bench/pacing.sh [HOLD]
#   Accuracy: achieved/target for the synthetic plugin (capacity far above the
#   offered rate, no base latency) at 100, 1k, 10k, 50k and 100k ops/s.
#   Latency p95/p99 is time from each op's intended send time to its answer:
#   with a server this fast it is the pacer's own lateness. Default hold 5s.
#
# bench/pacing.sh echo [RUNS]
#   loadgen's own latency floor: the echo plugin answers at once, so p50/p99
#   from the intended time are the engine's lateness; and loadgen's CPU per op
#   (all threads, from /proc/PID/task/*/schedstat over 4 s of a 6 s hold).
#   At 1k, 10k, 100k and 1M ops/s; medians of RUNS (default 3).
#   LOADGEN_BIN_DIRS="before=DIR1 after=DIR2" compares builds side by side,
#   runs interleaved (each DIR holds loadgen and the plugin .so files); by
#   default the one build of this tree (target/release).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/measure.sh

echo_floor() {
  local runs=${1:-3} rates=(1000 10000 100000 1000000)
  command -v jq >/dev/null || { echo "pacing.sh: needs jq" >&2; exit 2; }
  local dirs=(${LOADGEN_BIN_DIRS:-})
  if [ ${#dirs[@]} -eq 0 ]; then
    cargo build --release -q -p loadgen-cli -p loadgen-plugin-echo
    dirs=("this=${CARGO_TARGET_DIR:-target}/release")
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  for rate in "${rates[@]}"; do
    for run in $(seq "$runs"); do
      for entry in "${dirs[@]}"; do
        local label=${entry%%=*} dir=${entry#*=}
        local json="$tmp/$label-$rate-$run.json"
        echo "echo $label $rate ops/s run $run…" >&2
        LOADGEN_PLUGIN_PATH=$dir "$dir/loadgen" max-rps --plugin echo --steps "$rate" \
          --warmup 2s --hold 6s --drain 1s --cooldown 0s --quiet --json "$json" >/dev/null 2>&1 &
        local pid=$!
        read -r cpu wall < <(cpu_window "$pid" 3 4)
        wait "$pid" || true
        jq -r --arg build "$label" --arg cpu "$cpu" --arg wall "$wall" --arg rate "$rate" \
          '.steps[0] | [$build, $rate, .series[0].p50_ms, .series[0].p99_ms, .achieved_rps,
           (($cpu | tonumber) / 1000 / (($rate | tonumber) * ($wall | tonumber) / 1e9))] | @tsv' \
          "$json" >>"$tmp/rows.tsv"
      done
    done
  done
  echo "loadgen latency floor (echo plugin, release build, warmup 2s hold 6s, $(nproc) cores, medians of $runs)"
  printf '| build | target ops/s | p50 ms | p99 ms | achieved/target | CPU µs/op |\n|---|---:|---:|---:|---:|---:|\n'
  for rate in "${rates[@]}"; do
    for entry in "${dirs[@]}"; do
      local label=${entry%%=*}
      col() { awk -F'\t' -v l="$label" -v r="$rate" -v c="$1" '$1 == l && $2 == r { print $c }' "$tmp/rows.tsv"; }
      printf '| %s | %s | %.3f | %.3f | %.4f | %.3f |\n' "$label" "$rate" \
        "$(median $(col 3))" "$(median $(col 4))" \
        "$(echo "$(median $(col 5)) $rate" | awk '{ print $1 / $2 }')" "$(median $(col 6))"
    done
  done
  echo "(all runs, label rate p50 p99 achieved cpu_us_per_op:)" >&2
  cat "$tmp/rows.tsv" >&2
}

synthetic_accuracy() {
  local hold=${1:-5s}
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
}

if [ "${1:-}" = echo ]; then
  echo_floor "${2:-3}"
else
  synthetic_accuracy "${1:-5s}"
fi
