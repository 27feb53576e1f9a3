# The commands people type; README and CI use these same targets.
SWIFT ?= swift
DB ?= cutover.sqlite
DEMO_DOCROOT ?= docker/demo/htdocs

.PHONY: setup build test contract run bench-crawl release clean

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release --product cutover

# All tests: unit, store, crawl, CLI, server routes, integration (real Apache + mod_php on
# loopback), then the API contract check (schemathesis).
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test
	scripts/api-contract.sh

# schemathesis against a live `cutover serve` and its OpenAPI document.
contract: build
	scripts/api-contract.sh

# Crawl the demo docroot (or DOCROOT=...) into ./$(DB) and show the migration status.
run: build
	$(SWIFT) run cutover crawl --db $(DB) --docroot $(or $(DOCROOT),$(DEMO_DOCROOT))
	$(SWIFT) run cutover status --db $(DB)

bench-crawl: release
	scripts/bench-crawl.sh

clean:
	rm -rf .build
