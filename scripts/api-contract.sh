#!/usr/bin/env bash
# API contract test: a live `cutover serve` (debug build) on a crawled demo site, checked by
# schemathesis against /api/openapi.json: no 5xx, documented status codes, content types and
# response schemas. Part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import schemathesis" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check schemathesis
BIN=${CUTOVER_BIN:-$(swift build --show-bin-path)/cutover}
WORK=$(mktemp -d /tmp/cutover-contract.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TOKEN=contract-$RANDOM$RANDOM
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
"$BIN" crawl --db "$WORK/db.sqlite" --site demo --docroot docker/demo/htdocs >/dev/null
CUTOVER_TOKEN=$TOKEN "$BIN" serve --db "$WORK/db.sqlite" --port "$PORT" --public Public >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null && break; sleep 0.1; done
schemathesis --config-file scripts/schemathesis.toml run "http://127.0.0.1:$PORT/api/openapi.json" \
  -H "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing -n 40 --seed 1 --no-color
