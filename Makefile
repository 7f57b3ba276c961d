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

# Build the tests, fetch the default model once (tests run it), run every test.
test: deps
	python3 scripts/check-layers.py
	$(SWIFT) build --build-tests
	$(DEBUG) pull $(MODEL)
	$(SWIFT) test --skip-build

clean:
	rm -rf .build
