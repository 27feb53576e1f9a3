# The commands people type; README and CI use these same targets.
SWIFT ?= swift
DB ?= cutover.sqlite

.PHONY: setup build test test-fast lint openapi bench contract demo-check browser-test docker-check run apply bench-crawl bench-parity release clean fuzz deb deb-check

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release --product cutover

# A Debian package (.build/deb/cutover_*.deb): the binary with Swift's runtime linked in, the
# dashboard, a hardened systemd unit, the service user and its token; lintian-clean.
deb: setup
	scripts/deb.sh

# CI (as root): builds the package, installs it with dpkg -i, runs it from its unit's command
# line, checks the dashboard and the API, purges it.
deb-check: setup
	scripts/deb-check.sh

# All tests: unit, store, crawl, CLI, server routes, integration (real Apache + mod_php on
# loopback); the API contract check (schemathesis); the API's answers on a fixture against the
# recorded ones (Tests/APIRecord); the no-Docker demo end to end; the
# dashboard in chromium; static checks of docker/.
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test
	CUTOVER_TIMING_ALONE=1 $(SWIFT) test --skip-build --filter WriteLockTests
	scripts/api-contract.sh
	scripts/api-record.py compare Tests/APIRecord
	scripts/demo-check.sh
	scripts/browser-test.sh
	scripts/docker-check.sh

# Unit, store, crawl, log-import and server-route tests only (no Apache, no built binary runs): under a
# minute once built.
test-fast: setup
	$(SWIFT) test --filter 'CutoverCoreTests|CutoverStoreTests|CutoverCrawlTests|CutoverLogsTests|CutoverServerTests'

# swift format, ruff and the dashboard's module graph (scripts/lint.sh); CI runs it before the tests.
lint:
	scripts/lint.sh
	scripts/openapi-generate.sh --check

# The API's Swift types (Sources/CutoverAPI/Generated) from Sources/CutoverServer/Resources/openapi.json:
# run after editing the document, and commit both.
openapi:
	scripts/openapi-generate.sh

# schemathesis against a live `cutover serve` and its OpenAPI document.
contract: build
	scripts/api-contract.sh

demo-check: build
	scripts/demo-check.sh

browser-test: build
	scripts/browser-test.sh

docker-check: setup
	scripts/docker-check.sh

# The demo on loopback: Apache + PHP serving the demo docroot (or DOCROOT=...) with the
# fallback, the sample Swift app, and the dashboard at http://127.0.0.1:8080/ on ./$(DB).
# Ctrl-C stops everything.
run: build
	DB=$(abspath $(DB)) scripts/demo.sh

# Export the plan into the running demo's Apache and reload it.
apply: build
	DB=$(abspath $(DB)) scripts/demo.sh apply

# The log-line parser and the query normaliser over 10 million generated hostile lines (release
# build): no crash, every line classified once, every stored bound kept. `swift test` runs 100,000.
fuzz: setup
	$(SWIFT) build -c release --product cutover-fuzz
	.build/release/cutover-fuzz $${FUZZ_LINES:-10000000}

# Parity's comparison of two 30-100 KB pages against libxml2 parsing them (release build).
bench-parity: setup
	$(SWIFT) build -c release --product cutover-parity-bench
	.build/release/cutover-parity-bench

bench-crawl: release
	scripts/bench-crawl.sh

# Every benchmark in one run (release build), each figure beside its anchor or target as a
# ratio: crawl (100,000 files) against find + sha256sum + SQLite import and a stat walk; the API
# (100,000 URLs) against the p99 targets; probe and export against curl and Apache; access-log
# import (1,000,000 lines) against GoAccess and awk | sort | uniq -c.
bench: release
	scripts/bench-crawl.sh
	scripts/bench-api.sh
	scripts/bench-apache.py all
	scripts/bench-logs.sh
	$(SWIFT) build -c release --product cutover-parity-bench
	.build/release/cutover-parity-bench

clean:
	rm -rf .build
