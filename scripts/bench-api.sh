#!/usr/bin/env bash
# API benchmark (issue 5): 100,000 URLs in the database, release `cutover serve`, then
# `wrk -c 16` on a page of 100 URLs and on the stats endpoint. Prints wrk's latency
# distribution (p50/p90/p99, p99.9) for both, then the URL page while a crawl of the same site
# runs. Needs Debian's wrk.
# Usage: scripts/bench-api.sh [N]   (default 100000)
#        BENCH_DOCROOT=DIR scripts/bench-api.sh   reuses a tree written earlier (1,000,000 files)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
N=${1:-100000}
BIN=${CUTOVER_BIN:-.build/release/cutover}
[ -x "$BIN" ] || swift build -c release --product cutover
WORK=$(mktemp -d /tmp/cutover-bench-api.XXXXXX)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
DOCROOT=${BENCH_DOCROOT:-$WORK/htdocs}
[ -n "${BENCH_DOCROOT:-}" ] || scripts/synthetic-docroot.py "$DOCROOT" "$N"
"$BIN" crawl --db "$WORK/db.sqlite" --site bench --docroot "$DOCROOT" >/dev/null
# wrk prints p50-p99; this adds p99.9.
cat > "$WORK/p999.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("    p99.9 %.2fms\n", latency:percentile(99.9) / 1000))
end
LUA
. scripts/common.sh
PORT=$(free_port)
"$BIN" serve --db "$WORK/db.sqlite" --port "$PORT" >"$WORK/serve.log" 2>&1 &
SERVER=$!
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
wait_for_http "http://127.0.0.1:$PORT/api/health" 60
echo "URLs: $(curl -s "http://127.0.0.1:$PORT/api/sites/bench/urls?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
MIDDLE=$(curl -s "http://127.0.0.1:$PORT/api/sites/bench/urls?limit=1&offset=50000" | python3 -c 'import json,sys,urllib.parse; print(urllib.parse.quote(json.load(sys.stdin)["items"][0]["path"], safe=""))')
for path in "/api/sites/bench/urls?limit=100" "/api/sites/bench/urls?limit=100&after=$MIDDLE" "/api/sites/bench/urls?limit=100&offset=50000" \
  "/api/sites/bench/urls?limit=100&owner=php&sort=path" "/api/sites/bench/urls?limit=100&sort=hits&order=desc" "/api/sites/bench/stats"; do
  echo "== GET $path (wrk -t2 -c16 -d10s)"
  # One request first: the steady state is measured, not the first computation of a cached
  # answer (the stats of 1,000,000 URLs take 0.5 s the first time).
  curl -s -o /dev/null "http://127.0.0.1:$PORT$path"
  cpu_before=$(cpu_ticks)
  wrk -t2 -c16 -d10s --latency -s "$WORK/p999.lua" "http://127.0.0.1:$PORT$path" | tee "$WORK/wrk.txt" | grep -E "Latency|50%|90%|99%|p99.9|Requests/sec"
  cpu_after=$(cpu_ticks)
  # The target beside the figure (issue 14): p99 under 10 ms for a URL page and for stats.
  # Server CPU per request (user + system): steadier between runs than latency on a shared
  # 2-core machine, where wrk competes for the same cores.
  python3 - "$WORK/wrk.txt" "$cpu_before" "$cpu_after" "$(getconf CLK_TCK)" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
requests = re.search(r"(\d+) requests in", text)
if requests:
    cpu_ms = (int(sys.argv[3]) - int(sys.argv[2])) * 1000 / int(sys.argv[4])
    print(f"   server CPU {cpu_ms / int(requests.group(1)) * 1000:.0f} us per request")
match = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", text)
if match:
    value = float(match.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[match.group(2)]
    print(f"   p99 {value:.1f} ms -> ratio to the 10 ms target {value / 10:.2f}")
PY
done
# While crawls of the same site run back to back (walk, hashing and one write transaction
# each): the API reads from its own snapshot and must stay quick. Target: p99.9 < 50 ms.
echo "== GET /api/sites/bench/urls?limit=100 while crawls of the site run"
wrk -t2 -c16 -d10s --latency -s "$WORK/p999.lua" "http://127.0.0.1:$PORT/api/sites/bench/urls?limit=100" > "$WORK/wrk.txt" &
WRK=$!
crawls=0
while kill -0 "$WRK" 2>/dev/null; do
  "$BIN" crawl --db "$WORK/db.sqlite" --site bench >/dev/null 2>&1 && crawls=$((crawls + 1))
done
wait "$WRK" || true
grep -E "99%|p99.9|Requests/sec" "$WORK/wrk.txt"
echo "   crawls during the run: $crawls"
python3 - "$WORK/wrk.txt" <<'PY'
import re, sys
match = re.search(r"p99.9 ([\d.]+)ms", open(sys.argv[1]).read())
if match:
    print(f"   p99.9 {float(match.group(1)):.1f} ms -> ratio to the 50 ms target {float(match.group(1)) / 50:.2f}")
PY
