#!/usr/bin/env bash
# What the distributed control plane costs (docs/distributed.md).
#
# bench/control-plane.sh [AGENT_COUNTS…]   (default: 1 10 50 100)
#   For each count N: a private nats-server on loopback, N `loadgen agent`s
#   on this machine, and one coordinator step (synthetic plugin, 300 ops/s,
#   warmup 1 s, hold 5 s, drain 1 s). Prints:
#   - coord-cpu-ms/agent: the coordinator's CPU (user+sys, whole process:
#     start, join, the step, stop) per agent;
#   - msgs/agent/s: control messages to and from the coordinator (requests,
#     answers, summaries, the server's count for its connection) per agent
#     per second of the coordinator's run; msgs/agent/step the same per step;
#   - join-ms: coordinator start to its last "agent … joined" line;
#   - the mean fan-out round by request (one request to every agent, every
#     answer in; debug log).
#   Then the 1,000-agent simulation (SIM_AGENTS, default 1000; 0 skips it):
#   bench-control-sim publishes 1,000 agents' per-second summaries of a 5 s
#   step to the coordinator's merge over the same kind of server; each round
#   must be within 200 ms and the merged tallies exact (exit 1 otherwise).
#
#   Release build first:
#     cargo build --release -p loadgen-cli -p loadgen-plugin-synthetic \
#       -p loadgen-bench --bin loadgen --bin bench-control-sim --lib
#   LOADGEN_BIN_DIR picks another build (default target/release).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v jq >/dev/null || { echo "control-plane.sh: needs jq" >&2; exit 2; }
bin=${LOADGEN_BIN_DIR:-${CARGO_TARGET_DIR:-target}/release}
counts=("${@:-1 10 50 100}")
counts=(${counts[@]})
sim_agents=${SIM_AGENTS:-1000}
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }
start_nats() {
  port=$(free_port); mon=$(free_port)
  nats-server -a 127.0.0.1 -p "$port" -m "$mon" >"$tmp/nats.log" 2>&1 & pids+=($!)
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$mon/healthz" >/dev/null && return; sleep 0.1; done
  echo "control-plane.sh: nats-server did not start" >&2; exit 2
}
stop_all() {
  # Agents first: they say goodbye to the server.
  for p in $(printf '%s\n' "${pids[@]}" | tac); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}

printf '%-7s %19s %13s %15s %8s  %s\n' agents coord-cpu-ms/agent msgs/agent/s msgs/agent/step join-ms 'mean round (µs) by request'
for n in "${counts[@]}"; do
  start_nats
  # The agents' plugins: the synthetic one only (others may be stale builds).
  plugins="$tmp/plugins"; mkdir -p "$plugins"; ln -sf "$(realpath "$bin/libloadgen_plugin_synthetic.so")" "$plugins/"
  for i in $(seq "$n"); do
    LOADGEN_PLUGIN_PATH=$plugins "$bin/loadgen" agent --nats "nats://127.0.0.1:$port" --name "b$i" \
      >"$tmp/agent-$i.log" 2>&1 & pids+=($!)
  done
  # Every agent connected (the coordinator's join is what is measured).
  for _ in $(seq 300); do
    up=$(curl -s "http://127.0.0.1:$mon/connz?limit=10000" | jq '[.connections[] | select((.name // "") | startswith("loadgen-agent-"))] | length')
    [ "$up" -ge "$n" ] && break; sleep 0.1
  done
  TIMEFORMAT='%U %S %R'
  began=$(now_ms)
  { time RUST_LOG=loadgen_distributed=debug LOADGEN_PLUGIN_PATH=$plugins "$bin/loadgen" max-rps \
    --plugin synthetic -o capacity=100000 --steps 300 --warmup 1s --hold 5s --drain 1s \
    --cooldown 0s --quiet --agents "$n" --agents-timeout 60s --control-url "nats://127.0.0.1:$port" \
    >/dev/null 2> >(while IFS= read -r line; do echo "$(now_ms) $line"; done >"$tmp/coordinator.log") \
    || { echo "coordinator failed:" >&2; tail -5 "$tmp/coordinator.log" >&2; } ; } 2>"$tmp/time"
  sleep 0.2
  read -r user sys real <"$tmp/time"
  cpu_ms=$(awk -v u="$user" -v s="$sys" -v n="$n" 'BEGIN {printf "%.2f", (u + s) * 1000 / n}')
  joined=$(grep ' joined (' "$tmp/coordinator.log" | tail -1 | cut -d' ' -f1)
  join_ms=$(( ${joined:-$began} - began ))
  read -r cin cout < <(curl -s "http://127.0.0.1:$mon/connz?state=closed&limit=10000" |
    jq -r '[.connections[] | select(.name == "loadgen-coordinator")][0] | "\(.in_msgs) \(.out_msgs)"')
  msgs=$(( cin + cout ))
  per_s=$(awk -v m="$msgs" -v n="$n" -v r="$real" 'BEGIN {printf "%.1f", m / n / r}')
  rounds=$(sed 's/\x1b\[[0-9;]*m//g' "$tmp/coordinator.log" |
    sed -n 's/.*cmd="\([a-z]*\)" agents=[0-9]* us=\([0-9]*\).*/\1 \2/p' |
    awk '{s[$1]+=$2; c[$1]++} END {for (k in s) printf "%s=%d×%d ", k, s[k]/c[k], c[k]}')
  printf '%-7s %19s %13s %15s %8s  %s\n' "$n" "$cpu_ms" "$per_s" "$((msgs / n))" "$join_ms" "$rounds"
  stop_all
done

if [ "$sim_agents" -gt 0 ]; then
  start_nats
  echo "simulated: $sim_agents agents, one 5 s step at 20,000 ops/s (bench-control-sim)"
  "$bin/bench-control-sim" --url "nats://127.0.0.1:$port" --agents "$sim_agents" --hold 5s --rps 20000
  stop_all
fi
