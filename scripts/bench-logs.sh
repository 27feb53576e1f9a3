#!/usr/bin/env bash
# Access-log import benchmark (issue 12): a generated combined log of N lines (realistic mix:
# a few thousand pages with a long tail, query strings with tracking noise, bots, 30 days),
# imported with a release build. Prints the import (and how its time splits), a re-import of the
# unchanged file, and peak memory, beside two anchors run on the same file in the same run:
# GoAccess (Debian's goaccess, JSON report) and `awk '{print $7}' | sort | uniq -c`.
# SHAPE (issue 26's three log shapes): pages (default: 2,166 distinct paths), longtail (about
# 45,000 distinct paths and more distinct targets: mistyped links, calendars, cache busters), or
# scanner (every line a different path, answered 200 or 404, as a front controller answers).
# Usage: [SHAPE=pages|longtail|scanner] scripts/bench-logs.sh [N]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
BIN=${CUTOVER_BIN:-.build/release/cutover}
[ -x "$BIN" ] || swift build -c release --product cutover
command -v goaccess >/dev/null || scripts/setup.sh
WORK=$(mktemp -d /tmp/cutover-bench-logs.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
LOG="$WORK/access.log"
SHAPE=${SHAPE:-pages}
case "$SHAPE" in pages|longtail|scanner) ;; *) echo "SHAPE must be pages, longtail or scanner" >&2; exit 2;; esac
python3 - "$LOG" "$N" "$SHAPE" <<'PY'
import random, sys
path, n, shape = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(12)
pages = [f"/{s}/{p}.php" for s in ("news", "shop", "docs", "blog", "help") for p in range(800 if shape == "pages" else 9000)]
pages += ["/", "/index.php", "/doku.php", "/search.php", "/about/", "/contact.php"]
assets = [f"/static/{k}{i}.{e}" for k, e in (("app", "js"), ("style", "css"), ("img", "png")) for i in range(300)]
agents = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/7.88.1",
]
weights = [30, 25, 20, 12, 8, 5]
months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
start = 1_793_000_000
with open(path, "w") as out:
    for i in range(n):
        t = start + i * 30 * 86400 // n
        day, rem = divmod(t, 86400)
        # civil date from days since 1970 (UTC)
        z = day + 719468; era = z // 146097; doe = z - era * 146097
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100); mp = (5 * doy + 2) // 153
        d = doy - (153 * mp + 2) // 5 + 1; m = mp + 3 if mp < 10 else mp - 9; y = yoe + era * 400 + (m <= 2)
        stamp = f"{d:02d}/{months[m-1]}/{y}:{rem//3600:02d}:{rem%3600//60:02d}:{rem%60:02d} +0000"
        r = rng.random()
        if shape == "scanner":
            folder = ("wp-admin", "admin", ".git", "cgi-bin", "backup", "phpmyadmin", "vendor")[i % 7]
            target = f"/{folder}/{i}-{rng.getrandbits(32):08x}.php"
        elif r < 0.45:
            target = assets[min(int(rng.paretovariate(1.1)) - 1, len(assets) - 1)]
        else:
            target = pages[min(int(rng.paretovariate(0.9)) - 1, len(pages) - 1)]
            if shape == "longtail" and rng.random() < 0.3:
                target = rng.choice(pages)  # the tail: every page now and then
            q = rng.random()
            if target == "/doku.php":
                target += f"?id=wiki:page{int(rng.paretovariate(1.0))}" + ("&do=edit" if q < 0.1 else "")
            elif q < 0.15:
                target += f"?utm_source=news&utm_campaign=c{rng.randrange(50)}"
            elif q < 0.25:
                target += f"?page={rng.randrange(1, 30)}&sort=date"
        if shape == "longtail" and r >= 0.45 and rng.random() < 0.05:
            target += f"?v={rng.getrandbits(20)}"  # cache busters and calendars: distinct targets
        status = 200 if rng.random() < 0.9 else rng.choice((301, 304, 404, 500))
        if shape == "scanner":
            status = rng.choice((200, 404))
        size = 0 if status == 304 else rng.randrange(200, 60000)
        ip = f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        agent = rng.choices(agents, weights)[0]
        out.write(f'{ip} - - [{stamp}] "GET {target} HTTP/1.1" {status} {size} "https://example.org/" "{agent}"\n')
PY
SIZE_MB=$(( $(stat -c %s "$LOG") / 1048576 ))
measure() { # prints "seconds peakKB" for a shell command line
  python3 -c '
import resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1], shell=True, stdout=subprocess.DEVNULL)
dt = time.perf_counter() - t
if r.returncode: sys.exit(r.returncode)
print(f"{dt:.2f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")' "$1"
}
cat "$LOG" >/dev/null # warm the page cache for every contender alike
read -r awk_s _ < <(measure "awk '{print \$7}' '$LOG' | sort | uniq -c")
read -r goaccess_s goaccess_kb < <(measure "goaccess '$LOG' --log-format=COMBINED --no-progress -o '$WORK/report.json' 2>/dev/null")
"$BIN" site add --db "$WORK/db.sqlite" bench --docroot "$WORK" --site-url http://example.org/ >/dev/null
read -r import_s import_kb < <(measure "'$BIN' logs import --db '$WORK/db.sqlite' --site bench --json '$LOG' > '$WORK/import.json'")
read -r again_s _ < <(measure "'$BIN' logs import --db '$WORK/db.sqlite' --site bench '$LOG'")
split=$(python3 - "$WORK/import.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["files"][0]
s = f["seconds"]
print(f"read {s['read']:.2f} s, parse+count {s['parse']:.2f} s, store {s['store']:.2f} s; {f['requests']} requests")
PY
)
paths=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from traffic").fetchone()[0])' "$WORK/db.sqlite")
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
echo "log ($SHAPE): $N lines, $SIZE_MB MB, $paths distinct paths; database $(( $(stat -c %s "$WORK/db.sqlite") / 1048576 )) MB after the import"
echo "import:          ${import_s} s, peak $((import_kb / 1024)) MB  ($split)"
echo "  vs GoAccess:   ${goaccess_s} s, peak $((goaccess_kb / 1024)) MB   -> GoAccess/import = $(ratio "$goaccess_s" "$import_s")x (target >= 10)"
echo "  vs awk|sort|uniq -c: ${awk_s} s             -> import/awk = $(ratio "$import_s" "$awk_s") (target <= 1.5)"
echo "re-import unchanged: ${again_s} s (target < 0.2 s, process start included)"
