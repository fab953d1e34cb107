# Shared helpers for the bench scripts (source it).

# cpu_ns PID: CPU time of every live thread of PID so far, in ns (schedstat is
# ns-exact; /proc/PID/stat's utime+stime tick at 10 ms).
cpu_ns() {
  awk '{ s += $1 } END { printf "%.0f\n", s }' /proc/"$1"/task/*/schedstat 2>/dev/null
}

now_ns() { date +%s%N; }

# median V1 V2 ...: the median of the numbers given ("-" entries are skipped).
median() {
  # `|| true`: no number at all is a "-", not a failed pipeline (set -o pipefail).
  printf '%s\n' "$@" | { grep -v -e '^-$' -e '^$' || true; } | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "-"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# free_port: a free loopback TCP port.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# cpu_window PID START_S LEN_S: sleep until START_S seconds from now, then
# measure PID's CPU over LEN_S seconds; prints "cpu_ns wall_ns".
cpu_window() {
  local pid=$1 start=$2 len=$3 c0 t0 c1 t1
  sleep "$start"
  c0=$(cpu_ns "$pid"); t0=$(now_ns)
  sleep "$len"
  c1=$(cpu_ns "$pid"); t1=$(now_ns)
  echo "$((c1 - c0)) $((t1 - t0))"
}
