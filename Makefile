# Two commands for a fresh machine (Python 3.11+): `make run` starts the app, `make test` runs the tests.
# Both create or refresh .venv from requirements.txt, locked by constraints.txt (every transitive package at the
# version CI tested), only when either changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test quick bench clean

$(STAMP): requirements.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade -r requirements.txt -c constraints.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: $(STAMP)
	$(PY) -m pytest

# The fast subset while editing: no slow tests, no browser, stop at the first failure.
quick: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser" -x -q

# Speed measurements (not part of the tests); results go to benchmarks/README.md. Run them on a quiet
# machine: about 15 minutes on 2 CPU cores, plus a few minutes for the GPU blocks when a GPU is present.
# Each script prints its tables; --write records them in benchmarks/README.md (benchmarks/common.py).
HAS_CUDA := $(PY) -c "import sys, torch; sys.exit(not torch.cuda.is_available())"
HAS_CUDA_BF16 := $(PY) -c "import sys, torch; sys.exit(not (torch.cuda.is_available() and \
	torch.cuda.is_bf16_supported(including_emulation=False)))"

bench: $(STAMP)
	$(PY) -m pip install -q -r benchmarks/requirements.txt
	$(PY) benchmarks/bench_analyze.py --write
	$(PY) benchmarks/bench_latency.py --write
	$(PY) benchmarks/bench_layers.py --write
	$(PY) benchmarks/bench_train.py --write
	if $(HAS_CUDA); then \
		$(PY) benchmarks/bench_latency.py --device cuda --write && \
		$(PY) benchmarks/bench_layers.py --device cuda --write && \
		$(PY) benchmarks/bench_train.py --device cuda --write; \
	fi
	if $(HAS_CUDA_BF16); then $(PY) benchmarks/bench_layers.py --device cuda --dtype bfloat16 --write; fi
	for n in 1 4 10; do $(PY) benchmarks/load_test.py --sessions $$n --rounds 5 --write || exit 1; done
	if [ -f benchmarks/ui_speed.py ]; then $(PY) benchmarks/ui_speed.py --write; fi

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

# The GPU check (benchmarks/gpu_check.sh): makes .venv as above, then the CUDA tests and the GPU benchmarks
# in about 8 minutes; results under $(OUT) (default benchmarks/gpu_out), never in benchmarks/README.md itself.
# Without a CUDA device it says what it skipped and exits 0.
.PHONY: gpu-check
gpu-check:
	bash benchmarks/gpu_check.sh
