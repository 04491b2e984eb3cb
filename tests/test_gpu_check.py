"""The GPU check's plumbing, on any machine: the largest-batch search, and the script's skip without CUDA.

The GPU figures themselves are recorded by ``benchmarks/gpu_check.sh`` on a GPU, never asserted here.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_max_batch import STEP, Bracket, search_largest  # noqa: E402
from gpu_check import Step, cuda_test_files, drop_blocks, run_step  # noqa: E402


def _device(capacity: int) -> tuple[list[int], object]:
    """A fake device on which a batch fits up to ``capacity``; the list records every batch asked."""
    asked: list[int] = []

    def fits(batch: int) -> bool:
        asked.append(batch)
        return batch <= capacity

    return asked, fits


@pytest.mark.parametrize("capacity", [1, 2, 7, 100, 999, 1000, 1001, 3999])
@pytest.mark.parametrize("start", [1, 50, 1000, 3000])
def test_the_search_brackets_the_capacity_within_the_tolerance(capacity: int, start: int) -> None:
    asked, fits = _device(capacity)
    r = search_largest(fits, start, limit=4000, tolerance=0.02)
    assert r.stopped == "within tolerance"
    assert r.fits == capacity or r.fits < capacity < r.fails  # what ran ran, what failed failed
    assert r.fits <= capacity < r.fails and r.fails - r.fits <= max(1, 0.02 * r.fits)
    assert [b for b, _ in r.tried] == asked and len(set(asked)) == len(asked)  # no batch probed twice
    # stepping by 1.25, 1.25², 1.25⁴ … reaches any batch from any start in a few probes; bisecting a bracket
    # of ratio q to within 2% takes about log2((q - 1) / 0.02) more
    assert len(asked) <= 16


def test_the_first_probe_is_the_prediction_and_a_good_one_needs_few() -> None:
    asked, fits = _device(1000)
    r = search_largest(fits, 1000, limit=4000)
    assert asked[0] == 1000 and asked[1] == math.ceil(1000 * STEP) and len(asked) <= 7 and r.fits == 1000


def test_the_search_stops_at_the_limit_at_batch_1_and_in_time() -> None:
    r = search_largest(_device(10**6)[1], 100, limit=500)
    assert (r.fits, r.fails, r.stopped) == (500, None, "at the limit")
    r = search_largest(_device(0)[1], 100, limit=500)
    assert (r.fits, r.fails, r.stopped) == (0, 1, "batch 1 does not fit")
    calls = iter(range(100))
    r = search_largest(_device(1000)[1], 1000, limit=4000, out_of_time=lambda: next(calls) >= 3)
    assert r.stopped == "out of time" and len(r.tried) == 3 and r.fits == 1000 and r.fails is not None


def test_a_device_failure_ends_the_search_and_keeps_the_bracket() -> None:
    def fits(batch: int) -> bool:
        if batch > 1200:
            raise RuntimeError("CUDNN_STATUS_INTERNAL_ERROR\nmore lines")
        return True

    r = search_largest(fits, 1000, limit=4000)
    assert (r.fits, r.fails, r.stopped) == (1000, None, "stopped: CUDNN_STATUS_INTERNAL_ERROR")
    assert r.tried == [(1000, True)] and Bracket().fits == 0


def test_only_this_runs_kind_of_blocks_is_dropped_from_the_readme_copy() -> None:
    text = ("<!-- bench_train:start -->\nintro\n\n<!-- bench_train:cpu:start -->\nCPU\n<!-- bench_train:cpu:end -->\n"
            "<!-- bench_train:cuda:start -->\nOLD GPU\n<!-- bench_train:cuda:end -->\n<!-- bench_train:end -->\n")
    kept = drop_blocks(text, "cuda")
    assert "OLD GPU" not in kept and "CPU" in kept and "intro" in kept and "<!-- bench_train:end -->" in kept
    assert "tests/test_latency.py" in cuda_test_files() and "tests/test_gpu_check.py" not in cuda_test_files()


def test_a_step_past_its_limit_is_killed_with_its_children() -> None:
    # the child starts a grandchild that would outlive it; both belong to the step's process group
    code = ("import subprocess, sys, time; "
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)")
    outcome, took = run_step(sys.executable, Step("sleeper", ("-c", code), 60), 2, dict(os.environ))
    assert outcome == "**timed out** after 2 s (nothing written)" and took < 10
    assert run_step(sys.executable, Step("ok", ("-c", "pass"), 60), 30, dict(os.environ))[0] == "passed"
    assert run_step(sys.executable, Step("bad", ("-c", "raise SystemExit(3)"), 60), 30, dict(os.environ))[0] \
        == "**failed** (exit 3)"


@pytest.mark.skipif(torch.cuda.is_available(), reason="with a GPU the script runs the whole check")
def test_without_cuda_the_script_says_what_it_skipped_and_exits_0(tmp_path: Path) -> None:
    env = {**os.environ, "OUT": str(tmp_path), "PYTHON": sys.executable}
    r = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--no-venv"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no CUDA device: skipped the CUDA tests and the GPU benchmarks" in r.stdout
    log = (tmp_path / "gpu_check.log").read_text(encoding="utf-8")
    assert "no CUDA device: skipped" in log and f"torch {torch.__version__}" in log
    tables = (tmp_path / "gpu_tables.md").read_text(encoding="utf-8")
    assert tables.startswith("# GPU check") and "No CUDA device: skipped" in tables
    assert f"python: {sys.executable}" in (tmp_path / "environment.txt").read_text(encoding="utf-8")
    assert not (tmp_path / "README.md").exists()  # nothing measured, nothing written


def test_the_probe_predicts_for_the_free_memory_and_renders_the_bracket(monkeypatch: pytest.MonkeyPatch) -> None:
    """probe_one and render on a fake device (the real one needs CUDA): 2 GiB free, batch 300 the last to fit."""
    import bench_max_batch
    import explorer.measure.train_step
    from explorer import get_preset
    from explorer.core.errors import OutOfMemory
    from explorer.costs.training import max_batch_size, train_cost

    free = 2 * 2**30
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda dev=None: (free, 4 * 2**30))
    asked = []

    def fake_step(spec, s, *, precision, optimizer):  # noqa: ANN001, ANN202
        asked.append((spec.name, s.batch_size, s.budget, precision, optimizer))
        if s.batch_size > 300:
            raise OutOfMemory(f"out of memory on cpu at batch size {s.batch_size} (float32)")
        return [type("R", (), {"measured_peak_bytes": 1000 * s.batch_size})()]

    monkeypatch.setattr(explorer.measure.train_step, "measure_train_step", fake_step)
    row = bench_max_batch.probe_one("resnet20", "float32", "sgd_momentum", "cpu", 0.02, 60)
    spec = get_preset("resnet20")
    predicted = max_batch_size(spec, free, optimizer="sgd_momentum")
    assert row["predicted"] == predicted > 300 and asked[0][1:] == (predicted, math.inf, "float32", "sgd_momentum")
    b = row["bracket"]
    assert b.stopped == "within tolerance" and b.fits <= 300 < b.fails <= b.fits + 0.02 * b.fits
    assert row["measured_at_fits"] == 1000 * b.fits
    assert row["estimate_at_fits"] == train_cost(spec, batch_size=b.fits, optimizer="sgd_momentum").peak.total
    text = bench_max_batch.render([row], "sgd_momentum", 0.02, "a machine", "cmd")
    assert f"| resnet20 | float32 | 2.0 GiB | {predicted:,} | {b.fits} | {b.fails} | {predicted / b.fits:.0%} |" in text
    assert f"- resnet20, float32: {predicted} OOM" in text
