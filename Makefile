# aigc — the two quick-start commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
SWIFT ?= swift
MODEL ?= smollm2-135m-instruct
PROMPT ?= The capital of France is
RELEASE := .build/release/aigc
DEBUG := .build/debug/aigc

.PHONY: deps build run test bench clean

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product aigc

# Build (release), fetch the default model once, and continue a prompt with it.
run: build
	$(RELEASE) pull $(MODEL)
	$(RELEASE) generate -m $(MODEL) --temperature 0 --max-tokens 48 "$(PROMPT)"

# Build the tests, fetch the default model once (tests run it), run every test: first the service
# tests against real servers (Python: OpenAI SDK, crash, headless Chromium, schema fuzz), then the
# Swift tests, whose summary line ends the output. The store suite
# also runs on PostgreSQL: a throwaway server is started for it (unless AIGC_TEST_POSTGRES_URL
# already names one, or AIGC_SKIP_POSTGRES=1) and stopped afterwards, also when tests fail (quietly, so the
# Swift summary line stays the last line of the output).
test: deps
	python3 scripts/check-layers.py
	$(SWIFT) build --build-tests
	$(DEBUG) pull $(MODEL)
	@set -euo pipefail; \
	if [ "$${AIGC_SKIP_POSTGRES:-}" != 1 ] && [ -z "$${AIGC_TEST_POSTGRES_URL:-}" ]; then \
	  server="$$(bash scripts/postgres-test-server.sh start)"; eval "$$server"; export AIGC_TEST_POSTGRES_URL; \
	  trap 'bash scripts/postgres-test-server.sh stop "$$AIGC_TEST_POSTGRES_DIR" >/dev/null 2>&1' EXIT; trap 'exit 130' INT TERM; \
	fi; \
	service=0; bash scripts/service-tests.sh || service=$$?; \
	if [ "$$service" != 0 ]; then echo "service tests (scripts/service-tests.sh) FAILED: exit $$service" >&2; fi; \
	swift_status=0; $(SWIFT) test --skip-build || swift_status=$$?; \
	exit $$(( swift_status != 0 ? swift_status : service ))

clean:
	rm -rf .build
