#!/usr/bin/env bash
# Realistic-traffic benchmarks of the http plugin (release build), against
# bench-http-server on loopback (one thread, 200 with a 100-byte body).
#
# bench/scenario.sh [RUNS] [RATE] [RSS_HOLD]
#   Memory: a 1,000,000-row CSV data source (`pick = "random"`) in a 2-request
#   templated mix at RATE for a RSS_HOLD hold (default 60s): loadgen's RSS
#   (VmRSS, the plugin runs in-process) once the hold starts and every 10 s
#   to its end, beside the CSV's size and the RSS of the plain single-URL run
#   sampled the same way over the same hold.
#   CPU: loadgen's CPU per request (all threads, /proc/PID/task/*/schedstat
#   over 4 s of a 6 s hold, divided by the requests sent in that window at the
#   step's achieved rate) of the same mix and of `-o url=` alone at RATE
#   (default 20000), runs interleaved, medians of RUNS (default 3). The issue's
#   target: the mix ≤ 1.15 × the single URL's CPU per request. RUNS=0 measures
#   memory only.
#   BENCH_BIN_DIR=DIR uses the binaries in DIR instead of building target/release.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/measure.sh

runs=${1:-3}
rate=${2:-20000}
rss_hold=${3:-60s}
command -v jq >/dev/null || { echo "scenario.sh: needs jq" >&2; exit 2; }

# BENCH_BIN_DIR: binaries built elsewhere (loadgen, the http plugin, bench-http-server).
if [ -n "${BENCH_BIN_DIR:-}" ]; then
  bin=$BENCH_BIN_DIR
else
  cargo build --release -q -p loadgen-cli -p loadgen-plugin-http
  cargo build --release -q -p loadgen-bench --bin bench-http-server
  bin=${CARGO_TARGET_DIR:-target}/release
fi
tmp=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# The server, on a free port; it prints `listening=ADDR …` once bound.
"$bin/bench-http-server" --threads 1 >"$tmp/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  grep -q '^listening=' "$tmp/server.out" && break
  sleep 0.1
done
addr=$(sed -n 's/^listening=\([^ ]*\).*/\1/p' "$tmp/server.out")
[ -n "$addr" ] || { echo "scenario.sh: bench-http-server did not start" >&2; exit 1; }
base="http://$addr"

# 1,000,000 rows of id,name,price.
awk 'BEGIN { print "id,name,price"; for (i = 1; i <= 1000000; i++) printf "%d,item-%07d,%d.%02d\n", i, i, i % 500, i % 100 }' \
  >"$tmp/items.csv"
csv_bytes=$(stat -c %s "$tmp/items.csv")

cat >"$tmp/mix.toml" <<EOF
base_url = "$base"

[data.items]
file = "$tmp/items.csv"
pick = "random"

[[request]]
name = "item"
weight = 9
url = "/items/{{data.items.id}}?name={{data.items.name}}"
headers = { "X-Request" = "{{seq}}" }

[[request]]
name = "order"
weight = 1
method = "POST"
url = "/orders"
headers = { "Content-Type" = "application/json" }
body = '{"item": {{data.items.id}}, "price": {{data.items.price}}, "qty": {{rand_int 1 5}}, "ref": "{{uuid}}"}'
EOF

# run LABEL WARMUP HOLD JSON -o …: one step at $rate, in the background; sets $pid.
run() {
  local label=$1 warmup=$2 hold=$3 json=$4
  shift 4
  echo "$label at $rate req/s, hold $hold…" >&2
  LOADGEN_PLUGIN_PATH=$bin "$bin/loadgen" max-rps --plugin http "$@" --steps "$rate" \
    --warmup "$warmup" --hold "$hold" --drain 1s --cooldown 0s --quiet --json "$json" \
    >/dev/null 2>"$tmp/$label.err" &
  pid=$!
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' /proc/"$1"/status 2>/dev/null || echo -; }

# Memory: RSS every 10 s of the hold (the first once it starts), of the mix
# and of `-o url=` alone over the same hold (what the data costs is the
# difference at the same moment, not against a shorter run).
hold_s=${rss_hold%s}
# rss_every LABEL -o …: sets $samples (KB, space-separated).
rss_every() {
  local label=$1
  shift
  run "$label" 2s "$rss_hold" "$tmp/$label.json" "$@"
  sleep 2
  samples=
  for t in $(seq 0 10 "$hold_s"); do
    samples+="$(rss_kb "$pid") "
    [ "$t" -lt "$hold_s" ] && sleep 10
  done
  wait "$pid" || true
}
rss_every mix-rss -o "scenario=$tmp/mix.toml"
read -r -a rss <<<"$samples"
rss_every url-rss -o "url=$base/items/1"
read -r -a url_rss <<<"$samples"

# CPU per request, interleaved.
for n in $(seq "$runs"); do
  for label in url mix; do
    json="$tmp/$label-$n.json"
    if [ "$label" = url ]; then
      run "$label" 2s 6s "$json" -o "url=$base/items/1"
    else
      run "$label" 2s 6s "$json" -o "scenario=$tmp/mix.toml"
    fi
    read -r cpu wall < <(cpu_window "$pid" 3 4 || true)
    wait "$pid" || true
    if [ -z "${cpu:-}" ] || [ ! -s "$json" ]; then
      # loadgen stops a step early when the service (or this box) falls far
      # behind: no window to measure.
      echo "$label run $n ended before its CPU window (rate too high for this box?): $(tail -1 "$tmp/$label.err")" >&2
      continue
    fi
    jq -r --arg name "$label" --arg cpu "$cpu" --arg wall "$wall" \
      '[$name, .steps[0].achieved_rps, (($cpu | tonumber) / 1000 / (.steps[0].achieved_rps * ($wall | tonumber) / 1e9)),
        ([.steps[0].series[].p99_ms] | max), .steps[0].verdict] | @tsv' "$json" >>"$tmp/cpu.tsv"
  done
done

mb() { awk -v k="$1" 'BEGIN { if (k == "-") print "-"; else printf "%.1f", k / 1024 }'; }
echo
echo "http plugin, binaries from $bin, $(nproc) cores shared with other jobs; server: bench-http-server (1 thread) on loopback"
echo
echo "Memory: 1,000,000-row CSV ($(mb $((csv_bytes / 1024))) MB) in the 2-request mix at $rate req/s, hold $rss_hold"
printf '| traffic | RSS at hold start | RSS every 10 s to the end |\n|---|---:|---|\n'
every() { for k in "$@"; do printf '%s ' "$(mb "$k")"; done; }
all=$(every "${rss[@]}")
url_all=$(every "${url_rss[@]}")
printf '| mix (CSV %s MB) | %s MB | %s MB |\n' "$(mb $((csv_bytes / 1024)))" "$(mb "${rss[0]}")" "${all% }"
printf '| -o url= alone | %s MB | %s MB |\n' "$(mb "${url_rss[0]}")" "${url_all% }"
last=$((${#rss[@]} - 1))
awk -v m="${rss[$last]}" -v u="${url_rss[$last]}" -v f="$csv_bytes" \
  'BEGIN { printf "mix - url at the end of the hold: %.1f MB (target <= CSV + 20 MB = %.1f MB)\n", (m - u) / 1024, f / 1048576 + 20 }'
[ "$runs" -gt 0 ] || exit 0
echo
echo "CPU per request at $rate req/s (medians of $runs, interleaved)"
printf '| traffic | achieved req/s | CPU µs/req | worst series p99 ms |\n|---|---:|---:|---:|\n'
col() { awk -F'\t' -v l="$1" -v c="$2" '$1 == l { print $c }' "$tmp/cpu.tsv"; }
for label in url mix; do
  printf '| %s | %.0f | %.2f | %.2f |\n' "$label" "$(median $(col $label 2))" "$(median $(col $label 3))" "$(median $(col $label 4))"
done
echo
awk -v u="$(median $(col url 3))" -v m="$(median $(col mix 3))" \
  'BEGIN { printf "mix / url CPU per request: %.3f (target <= 1.15)\n", m / u }'
echo "(all runs, label achieved cpu_us_per_req worst_p99_ms verdict:)" >&2
cat "$tmp/cpu.tsv" >&2
