#!/usr/bin/env bash
# Fixed ladder vs. adaptive search on the synthetic plugin (exact capacity C):
# for each C, the answer, its error against C, the probes run and the wall time
# of (a) the plugin's default step ladder and (b) `--search adaptive`.
# Same SLO and step timing for both: warmup 1s, hold 3s, drain 1s, cooldown 0s,
# backlog gate 50 (so a rate above capacity trips even when 3 s of queueing
# keeps latency under the SLO). Runs one at a time, so wall times are honest.
# Usage: bench/search-vs-ladder.sh [CAPACITY ...]   (default: 1234 4500 9000 37000)
# Prints a markdown table (progress on stderr).
set -euo pipefail
cd "$(dirname "$0")/.."
capacities=("$@")
[ ${#capacities[@]} -gt 0 ] || capacities=(1234 4500 9000 37000)
command -v jq >/dev/null || { echo "search-vs-ladder: needs jq" >&2; exit 2; }

cargo build --release -q -p loadgen-cli -p loadgen-plugin-synthetic
target=${CARGO_TARGET_DIR:-target}/release
export LOADGEN_PLUGIN_PATH=$target
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
timing=(--warmup 1s --hold 3s --drain 1s --cooldown 0s --slo-pending-growth 50 --quiet)

# run NAME CAPACITY [FLAGS...] -> "answer probes seconds bracket_trip stop"
run() {
  local name=$1 cap=$2 json="$tmp/$1-$2.json"
  shift 2
  local t0 t1
  t0=$(date +%s.%N)
  "$target/loadgen" max-rps --plugin synthetic -o "capacity=$cap" "${timing[@]}" \
    --json "$json" "$@" >"$tmp/$name-$cap.out" 2>&1 || true
  t1=$(date +%s.%N)
  jq -r --arg secs "$(echo "$t1 - $t0" | bc)" \
    '[(.answer.max_rps // 0), (.steps | length), $secs,
      (.answer.next_limit_rps // "-"), (.search.outcome.stop.why // "-")] | @tsv' "$json"
}

err() { echo "$1 $2" | awk '{ printf "%+.1f%%", ($1 - $2) * 100 / $2 }'; }

ladder_steps=$("$target/loadgen" plugins info synthetic | awk -F': *' '/[Dd]efault steps/ { print $2; exit }')
echo "| capacity C | ladder (${ladder_steps:-default steps}) answer | error | probes | wall | adaptive answer | error | bracket | probes | wall | stopped |"
echo "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|"
for cap in "${capacities[@]}"; do
  echo "capacity $cap: fixed ladder…" >&2
  IFS=$'\t' read -r l_ans l_probes l_secs _ _ < <(run ladder "$cap")
  echo "capacity $cap: adaptive search…" >&2
  IFS=$'\t' read -r a_ans a_probes a_secs a_trip a_stop < <(run adaptive "$cap" --search adaptive --start-rps 500)
  printf '| %s | %s | %s | %s | %.0f s | %s | %s | [%s, %s] | %s | %.0f s | %s |\n' \
    "$cap" "$l_ans" "$(err "$l_ans" "$cap")" "$l_probes" "$l_secs" \
    "$a_ans" "$(err "$a_ans" "$cap")" "$a_ans" "$a_trip" "$a_probes" "$a_secs" "$a_stop"
done
echo "(release build, $(nproc) cores, $(date -u +%Y-%m-%d))"
