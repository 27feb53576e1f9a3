#!/usr/bin/env bash
# Style and static checks, as CI runs them (`make lint`): swift format (the committed
# .swift-format) over Sources, Tests and Package.swift, except the generated API types
# (Sources/CutoverAPI/Generated, checked by `scripts/openapi-generate.sh --check`); ruff (ruff.toml) over the Python scripts and
# test drivers; the dashboard's ES modules without import cycles. Fails on the first finding;
# `scripts/swift-files.sh | xargs swift format format --in-place` and `ruff check --fix` mend
# most of them.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "lint: swift format"
scripts/swift-files.sh | xargs swift format lint --strict --parallel
echo "lint: ruff"
python3 -m ruff --version >/dev/null 2>&1 || python3 -m pip install -q --disable-pip-version-check ruff
python3 -m ruff check scripts Tests
echo "lint: dashboard modules"
python3 scripts/check-js-modules.py
