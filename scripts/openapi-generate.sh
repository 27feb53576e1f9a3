#!/usr/bin/env bash
# The API's Swift types (Sources/CutoverAPI/Generated) from the one OpenAPI document
# (Sources/CutoverServer/Resources/openapi.json, served at /api/openapi.json) with swift-openapi-generator 1.14.3: every schema under
# components.schemas, package access, no client or server code (the routes stay Hummingbird's).
# The generated files are committed, so the app's build needs no plugin; `--check` (CI) fails
# when the committed files differ from what the document generates.
set -euo pipefail
cd "$(dirname "$0")/.."
DOC=Sources/CutoverServer/Resources/openapi.json
OUT=Sources/CutoverAPI/Generated
swift build -q --package-path scripts/openapi --scratch-path .build-openapi --product swift-openapi-generator
GEN=.build-openapi/debug/swift-openapi-generator
WORK=$(mktemp -d /tmp/cutover-openapi.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
{
  printf 'generate:\n  - types\naccessModifier: package\nnamingStrategy: idiomatic\nfilter:\n  schemas:\n'
  python3 -c 'import json, sys; [print("    - " + name) for name in sorted(json.load(open(sys.argv[1]))["components"]["schemas"])]' "$DOC"
} > "$WORK/config.yaml"
mkdir -p "$WORK/out"
"$GEN" generate "$DOC" --config "$WORK/config.yaml" --output-directory "$WORK/out" > "$WORK/log" 2>&1 || { cat "$WORK/log" >&2; exit 1; }
if grep -i "warning" "$WORK/log" >&2; then echo "openapi-generate: the generator warned (above); fix the document" >&2; exit 1; fi
# Two files carry the schemas (the namespace and its types); the others are empty namespaces.
FILES="Types+Components.swift:Components.swift Types+Components+Schemas.swift:Components+Schemas.swift"
if [ "${1:-}" = --check ]; then
  for pair in $FILES; do
    diff -u "$OUT/${pair#*:}" "$WORK/out/${pair%%:*}" \
      || { echo "openapi-generate: Sources/CutoverAPI/Generated is stale; run scripts/openapi-generate.sh" >&2; exit 1; }
  done
  echo "openapi-generate: the generated types match the document"
else
  rm -rf "$OUT"; mkdir -p "$OUT"
  for pair in $FILES; do cp "$WORK/out/${pair%%:*}" "$OUT/${pair#*:}"; done
  echo "openapi-generate: wrote $OUT"
fi
