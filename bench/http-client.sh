#!/usr/bin/env bash
# The http plugin's own HTTP/1.1 client (client=native) beside hyper's
# (client=hyper): CPU per request and p99 at the default SLO, interleaved.
#
# Usage: bench/http-client.sh [--runs 3] [--duration 10] [--rates "5000 20000"]
#                             [--connections 64] [--no-build]
#
# Builds release (loadgen, the http plugin, bench-http-server) unless
# --no-build, starts bench-http-server (hyper, 1 worker thread, 200 with a
# 100-byte body) on a free loopback port, then per run and rate runs loadgen
# with each client in turn (the order alternates between runs): one step,
# --warmup 1s --hold DURATION, default SLOs. CPU is loadgen's (all threads)
# over seconds 3..DURATION-1, from /proc/PID/task/*/schedstat. Prints one
# row per client and rate: medians of the runs, and native ÷ hyper.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/measure.sh

runs=3 duration=10 rates="5000 20000" conns=64 build=1
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "bench/http-client.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
command -v jq >/dev/null || { echo "bench/http-client.sh: needs jq" >&2; exit 2; }

target=${CARGO_TARGET_DIR:-target}/release
if [ "$build" = 1 ]; then
  cargo build --release -q -p loadgen-cli -p loadgen-plugin-http -p loadgen-bench
fi
export LOADGEN_PLUGIN_PATH=${LOADGEN_PLUGIN_PATH:-$PWD/$target}

tmp=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$(free_port)
"$target/bench-http-server" --listen "127.0.0.1:$port" --threads 1 >"$tmp/server.out" 2>&1 &
server=$!
for _ in $(seq 100); do [ -s "$tmp/server.out" ] && break; sleep 0.1; done
url="http://127.0.0.1:$port/"

: >"$tmp/rows"
for run in $(seq "$runs"); do
  clients="native hyper"
  [ $((run % 2)) = 0 ] && clients="hyper native"
  for rate in $rates; do
    for client in $clients; do
      name=$client-$rate-$run
      echo "http-client: $client $rate req/s, run $run…" >&2
      "$target/loadgen" max-rps --plugin http -o "url=$url" -o "connections=$conns" \
        -o "client=$client" --steps "$rate" --warmup 1s --hold "${duration}s" --drain 2s \
        --cooldown 0s --quiet --json "$tmp/$name.json" >/dev/null 2>"$tmp/$name.err" &
      pid=$!
      read -r cpu wall < <(cpu_window "$pid" 3 $((duration - 4)))
      wait "$pid" || true
      read -r achieved p99 < <(jq -r '.steps[0] | "\(.achieved_rps) \(.series[0].p99_ms)"' "$tmp/$name.json")
      awk -v c="$client" -v r="$rate" -v a="$achieved" -v p="$p99" -v cpu="$cpu" -v w="$wall" \
        'BEGIN { printf "%s %s %.1f %.3f %.3f\n", c, r, a, p, cpu / 1e3 / (a * w / 1e9) }' >>"$tmp/rows"
    done
  done
done

col() { awk -v c="$1" -v r="$2" -v f="$3" '$1 == c && $2 == r { print $f }' "$tmp/rows"; }
echo "| rate | client | achieved req/s | p99 ms | CPU µs/req | native ÷ hyper CPU |"
echo "|---:|---|---:|---:|---:|---:|"
for rate in $rates; do
  n=$(median $(col native "$rate" 5)) h=$(median $(col hyper "$rate" 5))
  for client in native hyper; do
    ratio="-"
    [ "$client" = native ] && ratio=$(awk -v n="$n" -v h="$h" 'BEGIN { printf "%.2f", n / h }')
    printf '| %s | %s | %s | %s | %s | %s |\n' "$rate" "$client" "$(median $(col "$client" "$rate" 3))" \
      "$(median $(col "$client" "$rate" 4))" "$(median $(col "$client" "$rate" 5))" "$ratio"
  done
done
echo
echo "Runs (client rate achieved p99_ms cpu_us_per_req):"
cat "$tmp/rows"
