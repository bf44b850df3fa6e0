# One command to run the CSMS locally, one to test it; both set themselves up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench synth clean

$(STAMP): requirements/runtime.txt requirements/dev.txt requirements/lock.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements/dev.txt -c requirements/lock.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

## run: start the local CSMS (station gateway, @connections endpoint) in the foreground
run: $(STAMP)
	$(BIN)/python -m local

## test: run the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest

## bench: simulated stations against the local runtime; prints throughput, latency, AWS requests per action
bench: $(STAMP)
	$(BIN)/python -m benchmarks.stations

clean:
	rm -rf $(VENV) cdk.out .pytest_cache
