# balsam-rs: the two commands a newcomer needs are `make run` and `make test`.
.DEFAULT_GOAL := help
SHELL := /bin/bash

CARGO ?= cargo
PG_URL ?= postgres://postgres@127.0.0.1:5432
REDIS_URL ?= redis://127.0.0.1:6379
DATA_DIR ?= balsam-data

.PHONY: help run build release test check fmt lint test-rust test-rust-sqlite test-rust-postgres \
        test-embed conformance fuzz-api services openapi clean web web-deps web-ci e2e browser bench cluster-e2e \
        demo bench-compare bench-compare-quick deny

help: ## Show the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

demo: ## Build (release) and start the server with three simulated Sites: a living dashboard on http://127.0.0.1:8000
	./scripts/demo.sh

run: web ## Build the web client and the server, start it on SQLite (data in ./balsam-data)
	$(CARGO) build --release -p balsam-server
	./target/release/balsam-server --data-dir $(DATA_DIR) serve --web-dir web/dist

build: ## Build everything (debug)
	$(CARGO) build --workspace --all-targets

release: web ## One-file server: target/release/balsam-server with the web client embedded (embed-web)
	$(CARGO) build --release --locked -p balsam-server --features embed-web
	@bin="$${CARGO_TARGET_DIR:-target}/release/balsam-server"; \
	  echo "built $$bin ($$(du -h "$$bin" | cut -f1), web client embedded)"; \
	  echo "copy it anywhere and run: balsam-server serve   (--web-dir DIR still serves a folder instead)"

test: check services conformance fuzz-api web-ci e2e cluster-e2e test-embed test-rust ## Everything CI runs: fmt, clippy, conformance, the schemathesis fuzz, web checks, browser e2e, the NGINX cluster e2e, the embedded web client, Rust tests on SQLite and PostgreSQL

check: fmt lint

fmt: ## cargo fmt --check
	$(CARGO) fmt --all -- --check

lint: ## clippy with warnings as errors, and no import cycle between the modules of a crate
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	python3 scripts/module-cycles.py

# Not part of `check`/`test`: installing cargo-deny builds it from source (~18 min on 2 cores).
# The fetch downloads (once) the crates a build of every feature needs, so the check itself
# runs offline; advisories need the RustSec database and are left out (see deny.toml).
deny: ## cargo-deny: licences, duplicate crates (warnings) and sources, offline
	@command -v cargo-deny >/dev/null 2>&1 || { \
	  echo "cargo-deny is missing: cargo install cargo-deny --locked" >&2; exit 1; }
	$(CARGO) fetch --locked --target x86_64-unknown-linux-gnu
	$(CARGO) deny --offline check licenses bans sources

services: ## Start PostgreSQL if it is installed but down
	./scripts/ensure-services.sh

conformance: ## The official Balsam SDK (PyPI) against our server
	./conformance/run.sh -q

fuzz-api: services ## schemathesis (all phases, stateful included, authenticated) against the server on SQLite and on PostgreSQL + Redis (~3 min)
	./scripts/schemathesis.sh sqlite postgres

# The Rust suites run last so that the closing line is the test runner's summary.
test-rust: test-rust-sqlite test-rust-postgres

test-rust-sqlite: ## Rust tests on SQLite (the embedded default)
	$(call nextest,--workspace)

test-rust-postgres: services ## Rust tests again on PostgreSQL + Redis (contract suites: every backend)
	BALSAM_TEST_POSTGRES_URL=$(PG_URL) BALSAM_TEST_REQUIRE_POSTGRES=1 \
	BALSAM_TEST_REDIS_URL=$(REDIS_URL) BALSAM_TEST_REQUIRE_REDIS=1 $(call nextest,--workspace)

# The embed-web build needs web/dist (built by web-ci/e2e in `make test`; here only if missing).
test-embed: web-deps ## The web client embedded in the binary (embed-web feature): clippy and its API tests (debug)
	@[ -f web/dist/index.html ] || $(MAKE) --no-print-directory web
	$(CARGO) clippy -p balsam-server --all-targets --locked --features embed-web -- -D warnings
	$(call nextest,-p balsam-server --features embed-web --test api web::)

openapi: web-deps ## Regenerate the committed OpenAPI document and the web client's types
	UPDATE_OPENAPI=1 $(CARGO) test -p balsam-server --test api openapi
	cd web && npm run gen:api

web-deps: web/node_modules/.package-lock.json

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund

web: web-deps ## Build the web client into web/dist
	cd web && npm run build

web-ci: web-deps ## Web client: typecheck, lint, unit tests, build
	cd web && npm run ci

browser: ## Install Debian's Chromium for the browser tests if it is missing
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: apt-get install chromium" >&2; exit 1; fi; }

e2e: browser web-deps ## Playwright in Chromium against the real server serving web/dist
	$(CARGO) build -p balsam-server
	cd web && npm run build && BALSAM_E2E_PORT=$$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') \
	  npm run e2e -- --reporter=line

cluster-e2e: browser web ## Conformance and Playwright through NGINX in front of two replicas (PostgreSQL + Redis), killing replicas
	$(CARGO) build -p balsam-server
	./scripts/cluster-e2e.sh

bench: services ## Benchmark report on SQLite and PostgreSQL (release build; minutes)
	./bench/run.sh sqlite
	./bench/run.sh postgres

bench-compare: services ## Ours (SQLite, PostgreSQL) against upstream balsam 0.7.0a24 on PostgreSQL, report sizes (~15 min)
	./bench/compare-upstream.sh

bench-compare-quick: services ## The same comparison at small sizes (~3 min)
	./bench/compare-upstream.sh --quick

clean:
	$(CARGO) clean
	rm -rf .build

# cargo nextest when it is installed, else cargo test; $(1): what to run.
define nextest
$(if $(shell command -v cargo-nextest),$(CARGO) nextest run,$(CARGO) test) --locked --no-fail-fast $(1)
endef
