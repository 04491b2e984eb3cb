# Two commands for a fresh machine (Python 3.11+): `make run` starts the app, `make test` runs the tests.
# Both create or refresh .venv from requirements.txt, only when requirements.txt changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test quick bench clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: $(STAMP)
	$(PY) -m pytest

# The fast subset while editing: no slow tests, no browser, stop at the first failure.
quick: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser" -x -q

# Speed measurements (not part of the tests); results go to benchmarks/README.md.
bench: $(STAMP)
	$(PY) -m pip install -q -r benchmarks/requirements.txt
	$(PY) benchmarks/bench_analyze.py
	$(PY) benchmarks/bench_latency.py --threads 1
	$(PY) benchmarks/load_test.py --sessions 10 --rounds 5 --write

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
