#!/usr/bin/env bash
# API contract test: a live `cutover serve` (debug build) on a crawled demo site, checked by
# schemathesis against /api/openapi.json: no 5xx, documented status codes, content types and
# response schemas. Part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import schemathesis" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check schemathesis
BIN=${CUTOVER_BIN:-$(swift build --show-bin-path)/cutover}
WORK=$(mktemp -d /tmp/cutover-contract.XXXXXX)
. scripts/common.sh
PORT=$(free_port)
TOKEN=contract-$RANDOM$RANDOM
SERVER=""
# serve must stop on SIGTERM, jobs started by the fuzzer included; a server that hangs fails the check.
stop_server() {
  [ -n "$SERVER" ] || return 0
  kill "$SERVER" 2>/dev/null || return 0
  for _ in $(seq 1 150); do kill -0 "$SERVER" 2>/dev/null || { wait "$SERVER" 2>/dev/null; SERVER=""; return 0; }; sleep 0.1; done
  echo "api-contract: cutover serve did not stop within 15 s of SIGTERM" >&2
  tail -20 "$WORK/serve.log" >&2
  kill -9 "$SERVER" 2>/dev/null; SERVER=""
  return 1
}
cleanup() { stop_server || true; rm -rf "$WORK"; }
trap cleanup EXIT
"$BIN" crawl --db "$WORK/db.sqlite" --site demo --docroot docker/demo/htdocs >/dev/null
CUTOVER_TOKEN=$TOKEN "$BIN" serve --db "$WORK/db.sqlite" --port "$PORT" --public Public >"$WORK/serve.log" 2>&1 &
SERVER=$!
wait_for_http "http://127.0.0.1:$PORT/api/health" 10
schemathesis --config-file scripts/schemathesis.toml run "http://127.0.0.1:$PORT/api/openapi.json" \
  -H "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,ignored_auth \
  --phases examples,coverage,fuzzing -n 40 --seed 1 --no-color
stop_server
