#!/usr/bin/env bash
# The whole migration demo without Docker, on loopback: Apache + mod_php serving a legacy PHP
# docroot with the Cutover fallback, the sample Swift app (cutover-demo-app), and
# `cutover serve` with the site crawled and probed, so the dashboard has something to show.
#
#   scripts/demo.sh            start everything; `cutover serve` in the foreground (Ctrl-C stops all)
#   scripts/demo.sh start      the same, but return once everything answers (stop with `stop`)
#   scripts/demo.sh apply      export the plan (vhost form) into Apache and reload it gracefully
#   scripts/demo.sh stop       stop what `start` started
#
# Environment (defaults in brackets):
#   DOCROOT       a PHP docroot to serve [a copy of docker/demo/htdocs]
#   DB            the SQLite file [./cutover.sqlite]
#   DEMO_DIR      run folder: Apache config, logs, PIDs, applied exports [/tmp/cutover-demo-UID]
#   PORT          cutover serve [8080]; APACHE_PORT [8180]; APP_PORT [8181]
#   CUTOVER_TOKEN API token for the dashboard's flips [generated, saved in DEMO_DIR/token]
#   CUTOVER_BIN, DEMO_APP_BIN  prebuilt binaries [swift build]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
ROOT=$PWD
MODE=${1:-foreground}
DEMO_DIR=${DEMO_DIR:-/tmp/cutover-demo-$(id -u)}
DB=${DB:-$ROOT/cutover.sqlite}
PORT=${PORT:-8080}
APACHE_PORT=${APACHE_PORT:-8180}
APP_PORT=${APP_PORT:-8181}
SITE=${SITE:-demo}

log() { printf 'demo: %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }

export CUTOVER_RUN=$DEMO_DIR/apache CUTOVER_LOGS=$DEMO_DIR/logs CUTOVER_APACHE_CONF=$ROOT/docker/apache CUTOVER_EXPORTS=$DEMO_DIR/exports
export CUTOVER_LISTEN=127.0.0.1:$APACHE_PORT CUTOVER_BACKEND=http://127.0.0.1:$APP_PORT

stop_all() {
  for name in serve app; do
    if [ -f "$DEMO_DIR/$name.pid" ]; then
      kill "$(cat "$DEMO_DIR/$name.pid")" 2>/dev/null || true
      rm -f "$DEMO_DIR/$name.pid"
    fi
  done
  if [ -f "$CUTOVER_RUN/httpd.pid" ]; then
    kill "$(cat "$CUTOVER_RUN/httpd.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do [ -f "$CUTOVER_RUN/httpd.pid" ] || break; sleep 0.1; done
  fi
}

if [ "$MODE" = stop ]; then
  stop_all
  log "stopped"
  exit 0
fi
case "$MODE" in start | foreground | apply) ;; *) fail "usage: scripts/demo.sh [start|apply|stop]" ;; esac

wait_for() { # URL, what
  wait_for_http "$1" 15 any 2>/dev/null || fail "$2 did not answer at $1 (logs in $DEMO_DIR)"
}

[ -x /usr/sbin/apache2 ] || fail "Apache is missing: run 'make setup' (apt-get install apache2 libapache2-mod-php)"
CUTOVER_PHP=$(ls /usr/lib/apache2/modules/libphp*.so 2>/dev/null | sort | tail -1) || true
[ -n "$CUTOVER_PHP" ] || fail "mod_php is missing: apt-get install libapache2-mod-php"
export CUTOVER_PHP
if [ "$(id -u)" = 0 ]; then export CUTOVER_USER=www-data CUTOVER_GROUP=www-data
else export CUTOVER_USER=$(id -un) CUTOVER_GROUP=$(id -gn); fi

if [ -z "${CUTOVER_BIN:-}" ] || [ -z "${DEMO_APP_BIN:-}" ]; then
  log "building cutover and cutover-demo-app (swift build)"
  swift build --product cutover >&2
  swift build --product cutover-demo-app >&2
  BIN_DIR=$(swift build --show-bin-path)
fi
CUTOVER_BIN=${CUTOVER_BIN:-$BIN_DIR/cutover}
DEMO_APP_BIN=${DEMO_APP_BIN:-$BIN_DIR/cutover-demo-app}

if [ "$MODE" = apply ]; then
  [ -f "$CUTOVER_RUN/httpd.pid" ] || fail "the demo is not running (scripts/demo.sh start)"
  CUTOVER_DOCROOT=$(cat "$DEMO_DIR/docroot")
  export CUTOVER_DOCROOT
  # Apache checks the export first; only an accepted export replaces the applied one.
  "$CUTOVER_BIN" export --db "$DB" --site "$SITE" --form vhost --check >&2 || fail "Apache rejects the export; nothing applied"
  "$CUTOVER_BIN" export --db "$DB" --site "$SITE" --form vhost > "$CUTOVER_EXPORTS/cutover.conf.new"
  cp -f "$CUTOVER_EXPORTS/cutover.conf" "$CUTOVER_EXPORTS/cutover.conf.previous" 2>/dev/null || true
  mv -f "$CUTOVER_EXPORTS/cutover.conf.new" "$CUTOVER_EXPORTS/cutover.conf"
  if ! /usr/sbin/apache2 -t -f "$ROOT/docker/apache/httpd-local.conf" >"$DEMO_DIR/apache-check.log" 2>&1; then
    mv -f "$CUTOVER_EXPORTS/cutover.conf.previous" "$CUTOVER_EXPORTS/cutover.conf" 2>/dev/null || rm -f "$CUTOVER_EXPORTS/cutover.conf"
    fail "Apache rejects its config with the export; the previous one stays: $(cat "$DEMO_DIR/apache-check.log")"
  fi
  generation() { grep -c "resuming normal operations" "$CUTOVER_RUN/error.log" 2>/dev/null || true; }
  before=$(generation)
  setsid /usr/sbin/apache2 -f "$ROOT/docker/apache/httpd-local.conf" -k graceful </dev/null >"$DEMO_DIR/apache-reload.log" 2>&1 \
    || fail "graceful reload failed: $(cat "$DEMO_DIR/apache-reload.log")"
  # Apache logs each new generation; idle workers of the old one exit right after it.
  for _ in $(seq 1 100); do [ "$(generation)" -gt "$before" ] && break; sleep 0.05; done
  sleep 0.5
  log "applied $CUTOVER_EXPORTS/cutover.conf and reloaded Apache; probe to verify: $CUTOVER_BIN probe --db $DB --site $SITE"
  exit 0
fi

stop_all
mkdir -p "$DEMO_DIR" "$CUTOVER_RUN" "$CUTOVER_LOGS" "$CUTOVER_EXPORTS"
chmod 755 "$DEMO_DIR"
if [ -z "${DOCROOT:-}" ]; then
  # A copy in the run folder: Apache's workers (www-data) may not read a checkout under /root.
  rm -rf "$DEMO_DIR/htdocs"
  cp -a docker/demo/htdocs "$DEMO_DIR/htdocs"
  chmod -R a+rX "$DEMO_DIR/htdocs"
  DOCROOT=$DEMO_DIR/htdocs
fi
[ -d "$DOCROOT" ] || fail "DOCROOT $DOCROOT is not a folder"
export CUTOVER_DOCROOT=$(cd "$DOCROOT" && pwd)
echo "$CUTOVER_DOCROOT" > "$DEMO_DIR/docroot"

if [ -z "${CUTOVER_TOKEN:-}" ]; then
  [ -s "$DEMO_DIR/token" ] || (umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$DEMO_DIR/token")
  CUTOVER_TOKEN=$(cat "$DEMO_DIR/token")
fi
export CUTOVER_TOKEN

"$DEMO_APP_BIN" --port "$APP_PORT" >"$DEMO_DIR/app.log" 2>&1 &
echo $! > "$DEMO_DIR/app.pid"
wait_for "http://127.0.0.1:$APP_PORT/health" "the sample Swift app"

/usr/sbin/apache2 -t -f "$ROOT/docker/apache/httpd-local.conf" >"$DEMO_DIR/apache-check.log" 2>&1 \
  || fail "Apache rejects the demo config: $(cat "$DEMO_DIR/apache-check.log")"
# setsid + closed descriptors: the daemon must not keep this script's pipes open.
setsid /usr/sbin/apache2 -f "$ROOT/docker/apache/httpd-local.conf" -k start </dev/null >"$DEMO_DIR/apache-start.log" 2>&1 \
  || fail "Apache did not start: $(cat "$DEMO_DIR/apache-start.log" "$CUTOVER_RUN/error.log" 2>/dev/null)"
wait_for "http://127.0.0.1:$APACHE_PORT/" "Apache"

log "crawling $CUTOVER_DOCROOT into $DB"
"$CUTOVER_BIN" crawl --db "$DB" --site "$SITE" --docroot "$CUTOVER_DOCROOT" \
  --site-url "http://127.0.0.1:$APACHE_PORT" --backend-url "http://127.0.0.1:$APP_PORT" >&2
log "probing through Apache"
"$CUTOVER_BIN" probe --db "$DB" --site "$SITE" >&2 || log "the probe reports drift or a broken fallback (see the dashboard)"

# Traffic on the first run: a few visits through Apache, sent the way a browser sends them (its
# user agent says so, and that they come from this script), logged by Apache with %R, then read
# by the logs job's importer; `cutover serve` imports what follows before each scheduled crawl.
log "visiting a few pages through Apache as a browser would (demo visitors), then importing its access log"
for path in /contact.php /contact.php /contact.php /products/ /products/ /about/ /blog/ /news /news /robots.txt /.env /wp-login.php; do
  curl -s -o /dev/null -A "Mozilla/5.0 (X11; Linux x86_64) cutover-demo-visitor" "http://127.0.0.1:$APACHE_PORT$path" || true
done
DEMO_LOG_FORMAT='%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i" %R %D'
"$CUTOVER_BIN" site set "$SITE" --db "$DB" --access-log "$CUTOVER_LOGS/access.log" --access-log-format "$DEMO_LOG_FORMAT" \
  --crawl-every "${DEMO_CRAWL_EVERY:-10m}" >&2
"$CUTOVER_BIN" logs import --db "$DB" --site "$SITE" "$CUTOVER_LOGS/access.log" >&2 || log "the access log import failed (see above)"

cat >&2 <<MSG
demo: Apache (PHP site)   http://127.0.0.1:$APACHE_PORT/
demo: Swift app           http://127.0.0.1:$APP_PORT/
demo: Dashboard           http://127.0.0.1:$PORT/   (API token: $CUTOVER_TOKEN)
demo: After a flip        make apply   (or scripts/demo.sh apply: checks the export, installs it in
demo:                     $CUTOVER_EXPORTS, reloads Apache), then run a probe
MSG

# Where the logs job may read: Apache's own log folder, and the demo's (its Apache's access log,
# and logs you copy there).
LOG_ROOTS=(--log-root "${APACHE_LOG_DIR:-/var/log/apache2}" --log-root "$CUTOVER_LOGS")
if [ "$MODE" = start ]; then
  "$CUTOVER_BIN" serve --db "$DB" --port "$PORT" --public "$ROOT/Public" "${LOG_ROOTS[@]}" >"$DEMO_DIR/serve.log" 2>&1 &
  echo $! > "$DEMO_DIR/serve.pid"
  wait_for "http://127.0.0.1:$PORT/api/health" "cutover serve"
  log "running; stop with: DEMO_DIR=$DEMO_DIR scripts/demo.sh stop"
else
  trap stop_all EXIT
  "$CUTOVER_BIN" serve --db "$DB" --port "$PORT" --public "$ROOT/Public" "${LOG_ROOTS[@]}"
fi
