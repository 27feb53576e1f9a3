#!/usr/bin/env bash
# Crawl benchmark (issue 2): a synthetic docroot of N files (about 40% .php, nested folders),
# timed with a release build. Prints: find time, first crawl, no-change re-crawl, peak memory.
# Usage: scripts/bench-crawl.sh [N]   (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
BIN=${CUTOVER_BIN:-.build/release/cutover}
[ -x "$BIN" ] || swift build -c release --product cutover
WORK=$(mktemp -d /tmp/cutover-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
python3 - "$WORK/htdocs" "$N" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, f"s{i % 50}", f"d{(i // 50) % 40}")
    if i % 1000 < 40:
        d = os.path.join(d, f"deep{i % 7}", "x")
    os.makedirs(d, exist_ok=True)
    ext = ".php" if i % 5 < 2 else (".html", ".css", ".png")[i % 3]
    name = "index.php" if i % 997 == 0 else f"f{i}{ext}"
    with open(os.path.join(d, name), "w") as f:
        f.write(f"<?php echo {i}; ?>" if ext == ".php" else "x" * (64 + i % 512))
PY
measure() { # prints "seconds peakKB" for a command
  python3 -c '
import resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
dt = time.perf_counter() - t
if r.returncode: sys.exit(r.returncode)
print(f"{dt:.2f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")' "$@"
}
sync
t0=$(date +%s.%N); files=$(find "$WORK/htdocs" -type f | wc -l); t1=$(date +%s.%N)
read -r first first_kb < <(measure "$BIN" crawl --db "$WORK/db.sqlite" --docroot "$WORK/htdocs")
read -r again again_kb < <(measure "$BIN" crawl --db "$WORK/db.sqlite" --docroot "$WORK/htdocs")
urls=$("$BIN" status --db "$WORK/db.sqlite" --json | python3 -c 'import json,sys; c=json.load(sys.stdin)["counts"]; print(c["php"]+c["static"]+c["swift"])')
printf 'files: %s (urls recorded: %s)\n' "$files" "$urls"
printf 'find DOCROOT -type f | wc -l: %s s\n' "$(python3 -c "print(f'{$t1-$t0:.2f}')")"
printf 'first crawl:            %s s, peak %d MB\n' "$first" "$((first_kb / 1024))"
printf 'no-change re-crawl:     %s s, peak %d MB\n' "$again" "$((again_kb / 1024))"
