#!/usr/bin/env bash
# CI: builds the Debian package (scripts/deb.sh), installs it with dpkg -i, starts the installed
# binary from its unit's own command line as the unit's user (no systemd on CI machines), checks
# the dashboard and the API answer and that the command line keeps the database the service's,
# then purges the package and checks that nothing is left. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
deb=$(scripts/deb.sh | tail -n 1)
[ -f "$deb" ] || { echo "deb-check: no package built" >&2; exit 1; }

dpkg -i "$deb"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT

fail() { echo "deb-check: $*" >&2; exit 1; }
id cutover >/dev/null || fail "no cutover user"
[ "$(stat -c '%U %a' /var/lib/cutover)" = "cutover 700" ] || fail "/var/lib/cutover is $(stat -c '%U %a' /var/lib/cutover)"
[ "$(stat -c '%U:%G %a' /etc/cutover/token)" = "root:cutover 640" ] || fail "token is $(stat -c '%U:%G %a' /etc/cutover/token)"
[ -s /etc/cutover/token ] || fail "empty token"

# Installed, the unit's command exists: systemd-analyze verify must accept it without a word.
verify=$(systemd-analyze verify /lib/systemd/system/cutover.service 2>&1) || fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify: $verify"

# The unit's command line, as systemd would run it (its user, groups and environment).
unit=/lib/systemd/system/cutover.service
command=$(sed -n 's/^ExecStart=//p' "$unit")
port=$(free_port)
command=${command/--port 8080/--port $port}
echo "deb-check: starting: $command"
# shellcheck disable=SC2086
runuser -u cutover -g cutover -G adm -- env CUTOVER_DB=/var/lib/cutover/cutover.sqlite $command > /tmp/cutover-deb-serve.log 2>&1 &
pid=$!
wait_for_http "http://127.0.0.1:$port/api/health" 20 || { cat /tmp/cutover-deb-serve.log; fail "the installed service did not answer"; }
curl -sf "http://127.0.0.1:$port/" | grep -q "<title>Cutover" || fail "the dashboard did not answer from /usr/share/cutover/Public"
token=$(cat /etc/cutover/token)
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/sites" > /dev/null || fail "the API refused the installed token"

# Root's command line runs as the service user: the database stays the service's.
docroot=$(mktemp -d)
chmod 755 "$docroot"
echo '<?php echo "hi";' > "$docroot/index.php"
chmod 644 "$docroot/index.php"
cutover site add shop --docroot "$docroot" --site-url "http://127.0.0.1:$port" > /dev/null
cutover crawl --site shop > /dev/null
[ "$(stat -c %U /var/lib/cutover/cutover.sqlite)" = cutover ] || fail "root's CLI left the database owned by $(stat -c %U /var/lib/cutover/cutover.sqlite)"
curl -sf "http://127.0.0.1:$port/api/sites/shop/stats" | grep -q '"php":1' || fail "the service does not see the CLI's site"
rm -rf "$docroot"

kill "$pid"
wait "$pid" 2>/dev/null || true
pid=""
dpkg --purge cutover
[ ! -e /usr/lib/cutover ] && [ ! -e /var/lib/cutover ] && [ ! -e /etc/cutover ] || fail "purge left files behind"
! id cutover >/dev/null 2>&1 || fail "purge left the cutover user"
echo "deb-check: installed, served from its unit's command line, purged"
