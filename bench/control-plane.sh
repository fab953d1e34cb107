#!/usr/bin/env bash
# What the distributed control plane costs per step (docs/distributed.md).
#
# bench/control-plane.sh [AGENT_COUNTS…]   (default: 1 2 4 8)
#   For each count N: a private nats-server on loopback, N `loadgen agent`s,
#   and one coordinator step (synthetic plugin, 300 ops/s, warmup 1 s, hold
#   5 s, drain 1 s). Prints the messages and bytes the server carried during
#   the run (heartbeats included) per step and per agent, and the mean time
#   of each kind of fan-out round (request to every agent, all answers in).
#   LOADGEN_BIN_DIR picks the build (default target/debug: no release build
#   needed; a release build's rounds are faster).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v jq >/dev/null || { echo "control-plane.sh: needs jq" >&2; exit 2; }
bin=${LOADGEN_BIN_DIR:-${CARGO_TARGET_DIR:-target}/debug}
counts=("${@:-1 2 4 8}")
counts=(${counts[@]})
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
varz() { curl -s "http://127.0.0.1:$1/varz" | jq -r '"\(.in_msgs) \(.in_bytes) \(.out_msgs) \(.out_bytes)"'; }

printf '%-7s %10s %11s %11s %12s %13s  %s\n' agents msgs/step bytes/step msgs/agent bytes/agent coord-cpu-ms 'mean round (µs) by request'
for n in "${counts[@]}"; do
  port=$(free_port); mon=$(free_port)
  nats-server -a 127.0.0.1 -p "$port" -m "$mon" >"$tmp/nats.log" 2>&1 & pids+=($!)
  sleep 0.5
  for i in $(seq "$n"); do
    LOADGEN_PLUGIN_PATH=$bin "$bin/loadgen" agent --nats "nats://127.0.0.1:$port" --name "b$i" \
      >"$tmp/agent-$i.log" 2>&1 & pids+=($!)
  done
  sleep 1
  read -r m0 b0 o0 ob0 < <(varz "$mon")
  TIMEFORMAT='%U %S'
  { time RUST_LOG=loadgen_distributed=debug LOADGEN_PLUGIN_PATH=$bin "$bin/loadgen" max-rps \
    --plugin synthetic -o capacity=100000 --steps 300 --warmup 1s --hold 5s --drain 1s \
    --cooldown 0s --quiet --agents "$n" --control-url "nats://127.0.0.1:$port" \
    >/dev/null 2>"$tmp/coordinator.log" || { echo "coordinator failed:" >&2; tail -5 "$tmp/coordinator.log" >&2; } ; } 2>"$tmp/time"
  cpu_ms=$(awk '{printf "%d", ($1 + $2) * 1000}' "$tmp/time")
  read -r m1 b1 o1 ob1 < <(varz "$mon")
  msgs=$(( (m1 - m0) + (o1 - o0) )); bytes=$(( (b1 - b0) + (ob1 - ob0) ))
  rounds=$(sed 's/\x1b\[[0-9;]*m//g' "$tmp/coordinator.log" |
    sed -n 's/.*cmd="\([a-z]*\)" agents=[0-9]* us=\([0-9]*\).*/\1 \2/p' |
    awk '{s[$1]+=$2; c[$1]++} END {for (k in s) printf "%s=%d ", k, s[k]/c[k]}')
  printf '%-7s %10s %11s %11s %12s %13s  %s\n' "$n" "$msgs" "$bytes" "$((msgs / n))" "$((bytes / n))" "$cpu_ms" "$rounds"
  # Agents first: they say goodbye to the server.
  for p in $(printf '%s\n' "${pids[@]}" | tac); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
done
