#!/usr/bin/env bash
# The messages plugin's reach (SPEC §8): the highest rate at which
# `loadgen max-rps --plugin messages` (frontdoor: E1 + E2 correlated per op)
# keeps achieved >= 95% of target against a chat-testbed with no rate limits,
# next to a raw async-nats publish loop's rate measured in the same run, on
# the same nats-server.
#
# Builds release itself, starts its own nats-server (free loopback port,
# temp store) and a release chat-testbed, and stops both by PID on exit.
#
# Usage: bench/messages.sh [STEPS] [HOLD]
#   STEPS  the ladder of target rates (default 2k,4k,8k,16k,24k,32k,48k,64k,96k)
#   HOLD   measured time per step (default 5s)
# Env: RAW_COUNT (default 1000000) messages of 200 bytes for the raw loop;
#      LOADGEN_EXTRA extra `loadgen max-rps` flags (e.g. "-o max_in_flight=400000").
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-2k,4k,8k,16k,24k,32k,48k,64k,96k}
hold=${2:-5s}
raw_count=${RAW_COUNT:-1000000}

cargo build --release -q -p loadgen-cli -p loadgen-plugin-messages -p chat-testbed -p loadgen-e2e
bin=target/release

work=$(mktemp -d)
nats_pid=""
testbed_pid=""
cleanup() {
  for pid in $testbed_pid $nats_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# A free port: nats-server picks one (-p -1) and logs it.
nats-server -js -a 127.0.0.1 -p -1 -sd "$work/js" -l "$work/nats.log" &
nats_pid=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/.*Listening for client connections on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/nats.log" 2>/dev/null | head -1 || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "nats-server did not start:" >&2; cat "$work/nats.log" >&2; exit 1; }
export NATS_URL="nats://127.0.0.1:$port"

# (a) the raw baseline, before the testbed adds its own load.
raw=$("$bin/raw_publish" "$raw_count" 200)

# (b) the plugin's ladder against an unlimited testbed.
"$bin/chat-testbed" --nats-url "$NATS_URL" --preset medium >"$work/testbed.log" 2>&1 &
testbed_pid=$!
for _ in $(seq 300); do
  grep -q "chat-testbed ready" "$work/testbed.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "chat-testbed ready" "$work/testbed.log" || { echo "chat-testbed did not start:" >&2; tail "$work/testbed.log" >&2; exit 1; }

# CPU seconds a process has used so far (utime + stime).
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }
nats_cpu0=$(cpu_of "$nats_pid")
testbed_cpu0=$(cpu_of "$testbed_pid")
ladder_start=$(date +%s.%N)

csv="$work/steps.csv"
TIMEFORMAT='%3U %3S'
{ time LOADGEN_PLUGIN_PATH=$bin "$bin/loadgen" max-rps --plugin messages --preset medium \
  --steps "$steps" --warmup 1s --hold "$hold" --drain 2s --cooldown 0s \
  --stop-on-trip false --retry-inconclusive 0 --quiet --csv "$csv" ${LOADGEN_EXTRA:-} \
  >"$work/loadgen.out" 2>&1 || true; } 2>"$work/loadgen.cpu"
ladder_wall=$(awk -v s="$ladder_start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }')
loadgen_cpu=$(awk '{ printf "%.1f", $1 + $2 }' "$work/loadgen.cpu")
nats_cpu=$(awk -v a="$nats_cpu0" -v b="$(cpu_of "$nats_pid")" 'BEGIN { printf "%.1f", b - a }')
testbed_cpu=$(awk -v a="$testbed_cpu0" -v b="$(cpu_of "$testbed_pid")" 'BEGIN { printf "%.1f", b - a }')
[ -s "$csv" ] || { echo "loadgen wrote no CSV:" >&2; cat "$work/loadgen.out" >&2; exit 1; }

echo "messages plugin vs raw async-nats publish (release, $(nproc) cores, nats-server $(nats-server --version | awk '{print $NF}'), hold $hold)"
echo
raw_pub=$(echo "$raw" | sed -n 's/.*published_per_sec=\([0-9]*\).*/\1/p')
raw_rate=$(echo "$raw" | sed -n 's/.*received_per_sec=\([0-9]*\).*/\1/p')
raw_got=$(echo "$raw" | sed -n 's/.* received=\([0-9]*\).*/\1/p')
echo "raw async-nats loop: 1 connection publishes $raw_count x 200 B, 1 subscriber counts them"
echo "  published $raw_pub msgs/s, delivered $raw_rate msgs/s ($raw_got of $raw_count received)"
echo
echo "loadgen max-rps --plugin messages (frontdoor, E1+E2 per op), chat-testbed without rate limits:"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  { t = $col["target_rps"]; a = $col["achieved_rps"]; ok = (a >= 0.95 * t)
    printf "  target %6d  achieved %9.1f  ratio %.3f  E1 p99 %8.1f ms  E2 p99 %8.1f ms  loss %6.4f  saturation %7d  underrun %6d  %-12s %s\n",
           t, a, a / t, $col["E1_p99_ms"], $col["E2_p99_ms"], $col["loss_rate"], $col["saturation"],
           $col["emit_underrun"], $col["verdict"], ok ? "keeps up" : "BELOW 95%"
    if (ok && t > best) best = t }
  END { print best + 0 > "/dev/stderr" }' "$csv" 2>"$work/best"
best=$(cat "$work/best")
echo "  $(grep '^ANSWER' "$work/loadgen.out" || true)"
echo "  CPU over the ladder (${ladder_wall}s wall, $(nproc) cores): loadgen ${loadgen_cpu}s, chat-testbed ${testbed_cpu}s, nats-server ${nats_cpu}s"
echo
printf '%-62s %12s\n' "raw async-nats publish -> 1 subscriber (delivered msgs/s)" "$raw_rate"
printf '%-62s %12s' "messages plugin, highest step with achieved >= 95% (ops/s)" "$best"
awk -v b="$best" -v r="$raw_rate" 'BEGIN { if (r > 0) printf "   (%.1f%% of raw)", 100 * b / r; print "" }'
