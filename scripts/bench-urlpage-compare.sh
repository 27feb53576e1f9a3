#!/usr/bin/env bash
# The URL page of two builds side by side (issue 25's "no behaviour change" figure): the same
# database of N URLs (default 100,000), each build's `cutover serve` in turn, `wrk -t2 -c16
# -d10s` on a page of 100 URLs, ROUNDS alternating rounds (default 5). Prints, per build, the
# median server CPU per request and the median p99, and the new build's ratio to the old.
# Usage: scripts/bench-urlpage-compare.sh OLD_BIN NEW_BIN [N]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
OLD=$1
NEW=$2
N=${3:-100000}
ROUNDS=${ROUNDS:-5}
WORK=$(mktemp -d /tmp/cutover-bench-compare.XXXXXX)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
scripts/synthetic-docroot.py "$WORK/htdocs" "$N"
# The database is written once, by the old build: the new one must read it as it is.
"$OLD" crawl --db "$WORK/db.sqlite" --site bench --docroot "$WORK/htdocs" >/dev/null
. scripts/common.sh
PATH_Q="/api/sites/bench/urls?limit=100"
run() {
  local bin=$1 port
  port=$(free_port)
  "$bin" serve --db "$WORK/db.sqlite" --port "$port" >"$WORK/serve.log" 2>&1 &
  SERVER=$!
  wait_for_http "http://127.0.0.1:$port/api/health" 60
  curl -s -o /dev/null "http://127.0.0.1:$port$PATH_Q"
  local before after
  before=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
  wrk -t2 -c16 -d10s --latency "http://127.0.0.1:$port$PATH_Q" >"$WORK/wrk.txt"
  after=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
  kill "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  SERVER=""
  python3 - "$WORK/wrk.txt" "$before" "$after" "$(getconf CLK_TCK)" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
requests = int(re.search(r"(\d+) requests in", text).group(1))
cpu_us = (int(sys.argv[3]) - int(sys.argv[2])) * 1e6 / int(sys.argv[4]) / requests
value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", text).groups()
p99 = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
print(f"{cpu_us:.1f} {p99:.2f}")
PY
}
: >"$WORK/old.txt"
: >"$WORK/new.txt"
for round in $(seq 1 "$ROUNDS"); do
  run "$OLD" | tee -a "$WORK/old.txt" | sed "s/^/round $round old: cpu_us p99_ms /"
  run "$NEW" | tee -a "$WORK/new.txt" | sed "s/^/round $round new: cpu_us p99_ms /"
done
python3 - "$WORK/old.txt" "$WORK/new.txt" <<'PY'
import statistics, sys
def medians(path):
    rows = [tuple(map(float, line.split())) for line in open(path) if line.strip()]
    return statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
old, new = medians(sys.argv[1]), medians(sys.argv[2])
print(f"old: server CPU {old[0]:.0f} us/request, p99 {old[1]:.2f} ms (median of rounds)")
print(f"new: server CPU {new[0]:.0f} us/request, p99 {new[1]:.2f} ms (median of rounds)")
print(f"new/old: CPU {new[0] / old[0]:.3f}, p99 {new[1] / old[1]:.3f}")
PY
