"""The resource guard: conservative estimates, a configurable budget, refusals before anything is allocated."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import analyze, get_preset
from explorer.build.guard import ResourceError, budget_bytes, check_memory, estimate_memory

ROOT = Path(__file__).resolve().parents[1]


def test_estimate_counts_parameters_and_buffers_exactly() -> None:
    a = analyze(get_preset("resnet50"))
    e = estimate_memory(a, batch_size=1, dtype="float32")
    assert e.params_bytes == 25_557_032 * 4
    assert e.buffers_bytes == 2 * 26_560 * 4  # running mean and var of ResNet-50's 26,560 BN channels
    assert estimate_memory(a, 1, "bfloat16").params_bytes == 25_557_032 * 2
    assert estimate_memory(a, 0).total_bytes == e.params_bytes + e.buffers_bytes  # building alone


def test_activation_estimate_scales_with_batch() -> None:
    a = analyze(get_preset("resnet50"))
    one, eight = estimate_memory(a, 1), estimate_memory(a, 8)
    assert eight.activations_bytes == 8 * one.activations_bytes
    assert eight.params_bytes == one.params_bytes


_PROBE = """
import json, threading, time, torch
from explorer import build_model, get_preset

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

torch.set_num_threads(1)
spec = get_preset("resnet18")
x = torch.randn(4, 3, 160, 160)
before, peak, done = rss(), [0], threading.Event()

def sample():  # the resident memory's peak while the model is built and run, sampled every millisecond
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.001)

t = threading.Thread(target=sample); t.start()
model = build_model(spec).eval()
with torch.inference_mode():
    model(x)
done.set(); t.join()
print(json.dumps(max(peak[0], rss()) - before))
"""


def test_estimate_covers_what_a_real_build_and_forward_add() -> None:
    """In a fresh process: the peak resident memory that building ResNet-18 and one forward pass at batch 4, 160×160
    add above what the process held before (sampled while they run) must not exceed the estimate."""
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    grown = json.loads(out.stdout.strip().splitlines()[-1])
    estimate = estimate_memory(analyze(get_preset("resnet18"), (3, 160, 160)), batch_size=4).total_bytes
    assert 0 < grown <= estimate


def test_budget_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPLORER_MEMORY_BUDGET_MB", "64")
    assert budget_bytes() == 64 * 2**20
    monkeypatch.delenv("EXPLORER_MEMORY_BUDGET_MB")
    monkeypatch.setattr("explorer.build.devices.meminfo", lambda key: 10 * 2**30 if key == "MemAvailable" else None)
    monkeypatch.setenv("EXPLORER_MEMORY_FRACTION", "0.25")
    assert budget_bytes() == int(0.25 * 10 * 2**30)
    monkeypatch.delenv("EXPLORER_MEMORY_FRACTION")
    assert budget_bytes() == 5 * 2**30  # the default half of what is available


def test_refusal_names_estimate_and_limit() -> None:
    a = analyze(get_preset("wide_resnet101_2"))
    with pytest.raises(ResourceError, match=r"^memory: running wide_resnet101_2 at batch 1 .* over the 100 MiB budget"):
        check_memory(a, batch_size=1, budget=100 * 2**20)
    assert check_memory(analyze(get_preset("resnet20")), budget=100 * 2**20).total_bytes < 100 * 2**20
    assert check_memory(a, batch_size=1, budget=math.inf).total_bytes > 100 * 2**20  # the explicit override


def test_analysis_alone_works_for_huge_networks() -> None:
    spec = get_preset("resnet1202")
    a = analyze(spec, (3, 4096, 4096))
    with pytest.raises(ResourceError):
        check_memory(a, batch_size=64, budget=2**30)
    assert a.params == 19_421_274
