#!/usr/bin/env bash
# API benchmark (issue 5): 100,000 URLs in the database, release `cutover serve`, then
# `wrk -c 16` on a page of 100 URLs and on the stats endpoint. Prints wrk's latency
# distribution (p50/p90/p99) for both. Needs Debian's wrk.
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
scripts/synthetic-docroot.py "$WORK/htdocs" "$N"
"$BIN" crawl --db "$WORK/db.sqlite" --site bench --docroot "$WORK/htdocs" >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" serve --db "$WORK/db.sqlite" --port "$PORT" >"$WORK/serve.log" 2>&1 &
SERVER=$!
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null && break; sleep 0.1; done
echo "URLs: $(curl -s "http://127.0.0.1:$PORT/api/sites/bench/urls?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
MIDDLE=$(curl -s "http://127.0.0.1:$PORT/api/sites/bench/urls?limit=1&offset=50000" | python3 -c 'import json,sys,urllib.parse; print(urllib.parse.quote(json.load(sys.stdin)["items"][0]["path"], safe=""))')
for path in "/api/sites/bench/urls?limit=100" "/api/sites/bench/urls?limit=100&after=$MIDDLE" "/api/sites/bench/urls?limit=100&offset=50000" \
  "/api/sites/bench/urls?limit=100&owner=php&sort=path" "/api/sites/bench/stats"; do
  echo "== GET $path (wrk -t2 -c16 -d10s)"
  cpu_before=$(cpu_ticks)
  wrk -t2 -c16 -d10s --latency "http://127.0.0.1:$PORT$path" | tee "$WORK/wrk.txt" | grep -E "Latency|50%|90%|99%|Requests/sec"
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
