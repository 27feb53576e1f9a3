#!/usr/bin/env bash
# Crawl benchmark (issue 2): a synthetic docroot of N files (about 40% .php, nested folders),
# timed with a release build. Prints first crawl and no-change re-crawl with peak memory, each beside
# its anchor (find + sha256sum + SQLite import; a find stat walk) as a ratio.
# Usage: scripts/bench-crawl.sh [N]   (default 100000)
#        BENCH_DOCROOT=DIR scripts/bench-crawl.sh   reuses a tree written earlier (a 1M-file tree
#        takes minutes to write); N is then the tree's size
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
BIN=${CUTOVER_BIN:-.build/release/cutover}
[ -x "$BIN" ] || swift build -c release --product cutover
WORK=$(mktemp -d /tmp/cutover-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
DOCROOT=${BENCH_DOCROOT:-$WORK/htdocs}
[ -n "${BENCH_DOCROOT:-}" ] || scripts/synthetic-docroot.py --varied "$DOCROOT" "$N"
measure() { # prints "seconds peakKB" for a command
  python3 -c '
import resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
dt = time.perf_counter() - t
if r.returncode: sys.exit(r.returncode)
print(f"{dt:.2f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")' "$@"
}
# The first crawl and the sha256sum anchor both read every file: run each from a cold page cache
# when this user may drop it (root), else each after a warm-up read, so neither inherits the
# other's cache.
if [ -w /proc/sys/vm/drop_caches ]; then CACHE="cold (dropped before the first crawl and before the anchor)"; else CACHE="warm (read once before each)"; fi
prepare_cache() {
  sync
  if [ -w /proc/sys/vm/drop_caches ]; then echo 3 > /proc/sys/vm/drop_caches
  else find "$DOCROOT" -type f -print0 | xargs -0 cat > /dev/null; fi
}
phases() { grep -oE '(walk|load|hash|compare|save)_s=[0-9.]+' "$1" | sed 's/_s=/ /' | awk '{printf "%s %s s, ", $1, $2}' | sed 's/, $//'; }
t0=$(date +%s.%N); files=$(find "$DOCROOT" -type f | wc -l); t1=$(date +%s.%N)
prepare_cache
read -r first first_kb < <(measure "$BIN" crawl --db "$WORK/db.sqlite" --docroot "$DOCROOT" --log-level info 2> "$WORK/first.log")
# The re-crawl right after the stat walk it is compared with: both find the inodes cached.
read -r stat_s _ < <(measure sh -c "find '$DOCROOT' -type f -printf '%s %T@\\n' > /dev/null")
read -r again again_kb < <(measure "$BIN" crawl --db "$WORK/db.sqlite" --docroot "$DOCROOT" --log-level info 2> "$WORK/again.log")
first_phases=$(phases "$WORK/first.log"); again_phases=$(phases "$WORK/again.log")
urls=$("$BIN" status --db "$WORK/db.sqlite" --json | python3 -c 'import json,sys; c=json.load(sys.stdin)["counts"]; print(c["php"]+c["static"]+c["swift"])')
# Anchors (issue 14): what the same work costs with stock tools on the same tree.
#  first crawl  ~ a serial `find -print0 | xargs -0 sha256sum` plus loading its lines into SQLite
#                 (one table, no index, one transaction: what `sqlite3 .import` does);
#  re-crawl     ~ a stat walk, `find -printf '%s %T@'`.
prepare_cache
read -r hash_s _ < <(measure sh -c "find '$DOCROOT' -type f -print0 | xargs -0 sha256sum > '$WORK/sums.txt'")
import_s=$(python3 - "$WORK/sums.txt" "$WORK/anchor.sqlite" <<'PY'
import sqlite3, sys, time
start = time.perf_counter()
db = sqlite3.connect(sys.argv[2])
db.execute("CREATE TABLE sums (line TEXT)")
with open(sys.argv[1], errors="surrogateescape") as f, db:
    db.executemany("INSERT INTO sums VALUES (?)", ((line,) for line in f))
print(f"{time.perf_counter() - start:.2f}")
PY
)
python3 - "$files" "$urls" "$t0" "$t1" "$first" "$first_kb" "$again" "$again_kb" "$hash_s" "$import_s" "$stat_s" "$CACHE" "$first_phases" "$again_phases" <<'PY'
import sys
files, urls, t0, t1, first, first_kb, again, again_kb, hash_s, import_s, stat_s, cache, first_phases, again_phases = sys.argv[1:]
first, again, hash_s, import_s, stat_s = map(float, (first, again, hash_s, import_s, stat_s))
anchor_first = hash_s + import_s
print(f"files: {files} (urls recorded: {urls}); find | wc -l: {float(t1) - float(t0):.2f} s; page cache: {cache}")
print(f"first crawl:        {first:6.2f} s, peak {int(first_kb) // 1024} MB | anchor find+sha256sum+import {anchor_first:.2f} s "
      f"({hash_s:.2f} + {import_s:.2f}) -> ratio {first / anchor_first:.2f} (target <= 1.5)")
print(f"no-change re-crawl: {again:6.2f} s, peak {int(again_kb) // 1024} MB | anchor find -printf stat walk {stat_s:.2f} s "
      f"-> ratio {again / stat_s:.2f} (target <= 2.0)")
print(f"  first crawl phases: {first_phases}")
print(f"  re-crawl phases:    {again_phases}")
print("  memory target: peak <= 500 MB at 1,000,000 files")
PY
