#!/usr/bin/env bash
# Runs the no-Docker demo (scripts/demo.sh) on free ports in a temporary folder and checks it end
# to end with Tests/Demo/demo_check.py: Apache answers, the sample Swift app takes over pages
# through the fallback and through an applied export, Cutover shows them as Swift. Part of
# `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
use_debug_binaries
WORK=$(mktemp -d /tmp/cutover-demo-check.XXXXXX)
chmod 755 "$WORK"
export DEMO_DIR=$WORK/demo DB=$WORK/demo.sqlite PORT=$(free_port) APACHE_PORT=$(free_port) APP_PORT=$(free_port)
export CUTOVER_TOKEN=check-$RANDOM$RANDOM
cleanup() { scripts/demo.sh stop >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
scripts/demo.sh start
python3 Tests/Demo/demo_check.py "http://127.0.0.1:$PORT" "http://127.0.0.1:$APACHE_PORT" "$CUTOVER_TOKEN" "$DEMO_DIR/htdocs"
