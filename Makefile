# One command to run the CSMS locally, one to test it; both set themselves up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-later lint bench sim synth deploy clean browser console-screenshots

$(STAMP): requirements/runtime.txt requirements/dev.txt requirements/lock.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements/dev.txt -c requirements/lock.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

## run: start the local CSMS (station gateway, @connections endpoint) in the foreground
run: $(STAMP)
	$(BIN)/python -m local

## test: lint (ruff), type-check (mypy, strict on csms), then run the whole test suite
test: lint browser
	$(BIN)/python -m pytest

## browser: Debian's chromium and its driver for the console's browser tests (tests/console), installed if missing
browser:
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver)

## console-screenshots: the console's browser tests, saving a screenshot of each main page to docs/console/
console-screenshots: $(STAMP) browser
	CONSOLE_SCREENSHOTS=docs/console $(BIN)/python -m pytest -q tests/console

## test-later: the whole suite with the system clock three years ahead: no outcome may depend on the day
## (libfaketime, Debian package faketime: installed if missing; Python keeps the real monotonic clock, other programs
## get both moved: tests/later/sitecustomize.py says why)
test-later: $(STAMP) browser
	command -v faketime >/dev/null || (apt-get update -qq && apt-get install -y -qq faketime)
	FAKETIME_DONT_FAKE_MONOTONIC=1 PYTHONPATH=$(CURDIR)/tests/later faketime -f '+1095d' $(BIN)/python -m pytest

## lint: ruff over the repo's Python, mypy over the csms package (settings in pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

## bench: simulated stations against the local runtime; prints throughput, latency, AWS requests per action,
## how far past their energy limit sessions charge (with and without predicting the crossing), then how it scales
## with its data (make bench BENCH_ARGS=--quick for a short version of the second part)
bench: $(STAMP)
	$(BIN)/python -m benchmarks.imports
	$(BIN)/python -m benchmarks.pricing
	$(BIN)/python -m benchmarks.allocation
	$(BIN)/python -m benchmarks.load_management
	$(BIN)/python -m benchmarks.stations
	$(BIN)/python -m benchmarks.limits
	$(BIN)/python -m benchmarks.storage $(BENCH_ARGS)

## sim: simulated stations against the local runtime, e.g. make sim ARGS="--stations 5 --sessions"
sim: $(STAMP)
	$(BIN)/python -m simulator $(ARGS)

CDK := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx --no-install cdk

node_modules/.bin/cdk: package.json package-lock.json
	npm ci --no-audit --no-fund

## synth: synthesise the AWS stack into cdk.out (no AWS credentials or Docker needed)
synth: $(STAMP) node_modules/.bin/cdk
	$(CDK) synth --quiet

## deploy: deploy the stack to the AWS account of the current credentials (see docs/deployment.md)
deploy: $(STAMP) node_modules/.bin/cdk
	$(CDK) deploy

clean:
	rm -rf $(VENV) cdk.out .pytest_cache .mypy_cache .ruff_cache node_modules
