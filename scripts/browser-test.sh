#!/usr/bin/env bash
# The dashboard in a real browser (part of `make test`): the demo (Apache + mod_php with the
# fallback, the sample Swift app, `cutover serve`) on a copy of the demo docroot plus a file
# named like an XSS payload and a symbolic link to /etc, crawled and probed; then Tests/Browser/dashboard_test.py drives
# chromium through it. Then first paint of the overview with 100,000 URLs in the database.
# Screenshots and figures go to artifacts/browser/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
python3 -c "import selenium" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check selenium
. scripts/common.sh
use_debug_binaries
ARTIFACTS=$ROOT/artifacts/browser
mkdir -p "$ARTIFACTS"
WORK=$(mktemp -d /tmp/cutover-browser.XXXXXX)
chmod 755 "$WORK"
export DEMO_DIR=$WORK/demo DB=$WORK/demo.sqlite PORT=$(free_port) APACHE_PORT=$(free_port) APP_PORT=$(free_port)
export CUTOVER_TOKEN=browser-$RANDOM$RANDOM
BIG_SERVER=""
cleanup() {
  scripts/demo.sh stop >/dev/null 2>&1 || true
  [ -n "$BIG_SERVER" ] && kill "$BIG_SERVER" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/htdocs"
cp -a docker/demo/htdocs/. "$WORK/htdocs/"
printf '<?php echo "named to break markup";\n' > "$WORK/htdocs/<img src=x onerror=alert(1)>.php"
# A symbolic link to /etc: the crawl reports it (never follows it), the overview warns.
ln -s /etc "$WORK/htdocs/etc-link"
chmod -R a+rX "$WORK/htdocs"
DOCROOT=$WORK/htdocs scripts/demo.sh start
python3 Tests/Browser/dashboard_test.py "http://127.0.0.1:$PORT" "$CUTOVER_TOKEN" "$ARTIFACTS"
scripts/demo.sh stop

# First paint with 100,000 URLs (figure only: speed is a benchmark, not a pass/fail test).
N=${BROWSER_URLS:-100000}
scripts/synthetic-docroot.py "$WORK/big" "$N"
"$CUTOVER_BIN" crawl --db "$WORK/big.sqlite" --site big --docroot "$WORK/big" >/dev/null
BIG_PORT=$(free_port)
"$CUTOVER_BIN" serve --db "$WORK/big.sqlite" --port "$BIG_PORT" --public "$ROOT/Public" >"$WORK/big-serve.log" 2>&1 &
BIG_SERVER=$!
wait_for_http "http://127.0.0.1:$BIG_PORT/api/health" 10
python3 Tests/Browser/dashboard_test.py "http://127.0.0.1:$BIG_PORT" "" "$ARTIFACTS" --first-paint-only
