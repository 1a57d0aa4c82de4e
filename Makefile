# balsam-rs: the two commands a newcomer needs are `make run` and `make test`.
.DEFAULT_GOAL := help
SHELL := /bin/bash

CARGO ?= cargo
PG_URL ?= postgres://postgres@127.0.0.1:5432
DATA_DIR ?= balsam-data

.PHONY: help run build test check fmt lint test-rust test-rust-sqlite test-rust-postgres \
        conformance services openapi clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

run: ## Build and start the server on SQLite (data in ./balsam-data)
	$(CARGO) build --release -p balsam-server
	./target/release/balsam-server --data-dir $(DATA_DIR) serve

build: ## Build everything (debug)
	$(CARGO) build --workspace --all-targets

test: check services conformance test-rust ## Everything CI runs: fmt, clippy, conformance, Rust tests on SQLite and PostgreSQL

check: fmt lint

fmt: ## cargo fmt --check
	$(CARGO) fmt --all -- --check

lint: ## clippy with warnings as errors
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

services: ## Start PostgreSQL if it is installed but down
	./scripts/ensure-services.sh

conformance: ## The official Balsam SDK (PyPI) against our server
	./conformance/run.sh -q

# The Rust suites run last so that the closing line is the test runner's summary.
test-rust: test-rust-sqlite test-rust-postgres

test-rust-sqlite: ## Rust tests on SQLite (the embedded default)
	$(call nextest)

test-rust-postgres: services ## Rust tests again with PostgreSQL (contract suite: both backends)
	BALSAM_TEST_POSTGRES_URL=$(PG_URL) BALSAM_TEST_REQUIRE_POSTGRES=1 $(call nextest)

openapi: ## Regenerate the committed OpenAPI document
	UPDATE_OPENAPI=1 $(CARGO) test -p balsam-server --test api openapi

clean:
	$(CARGO) clean
	rm -rf .build

define nextest
$(if $(shell command -v cargo-nextest),$(CARGO) nextest run --workspace --locked --no-fail-fast,$(CARGO) test --workspace --locked --no-fail-fast)
endef
