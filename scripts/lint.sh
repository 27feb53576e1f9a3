#!/usr/bin/env bash
# Style and static checks, as CI runs them (`make lint`): swift format (the committed
# .swift-format) over Sources, Tests and Package.swift; ruff (ruff.toml) over the Python scripts and
# test drivers; the dashboard's ES modules without import cycles. Fails on the first finding;
# `swift format format --in-place --recursive Sources Tests Package.swift` and `ruff check --fix`
# mend most of them.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "lint: swift format"
swift format lint --strict --parallel --recursive Sources Tests Package.swift
echo "lint: ruff"
python3 -m ruff --version >/dev/null 2>&1 || python3 -m pip install -q --disable-pip-version-check ruff
python3 -m ruff check scripts Tests
echo "lint: dashboard modules"
python3 scripts/check-js-modules.py
