#!/usr/bin/env bash
# The Swift files swift format owns: Sources, Tests and Package.swift, without the generated API
# types (Sources/CutoverAPI/Generated is the generator's output, byte for byte).
set -euo pipefail
cd "$(dirname "$0")/.."
echo Package.swift
find Sources Tests -name '*.swift' -not -path 'Sources/CutoverAPI/Generated/*' | sort
