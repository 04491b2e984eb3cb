"""The resource guard: conservative estimates, a configurable budget, clear refusals."""

from __future__ import annotations

import resource

import pytest
import torch

from explorer import analyze, build_model, get_preset
from explorer.guard import ResourceError, budget_bytes, check_memory, estimate_memory


def test_estimate_counts_parameters_exactly() -> None:
    a = analyze(get_preset("resnet50"))
    e = estimate_memory(a, batch_size=1, dtype="float32")
    assert e.params_bytes == 25_557_032 * 4
    assert e.buffers_bytes == 2 * 26_560 * 4  # running mean and var of ResNet-50's 26,560 BN channels
    assert estimate_memory(a, 1, "bfloat16").params_bytes == 25_557_032 * 2


def test_activation_estimate_scales_with_batch() -> None:
    a = analyze(get_preset("resnet50"))
    one, eight = estimate_memory(a, 1), estimate_memory(a, 8)
    assert eight.activations_bytes == 8 * one.activations_bytes
    assert eight.params_bytes == one.params_bytes


def test_estimate_is_not_below_a_real_forward_pass() -> None:
    """The estimate covers the peak resident memory a real build + forward adds (CPU, float32)."""
    spec = get_preset("resnet18")
    x = torch.randn(4, 3, 160, 160)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    model = build_model(spec).eval()
    with torch.inference_mode():
        model(x)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    estimate = estimate_memory(analyze(spec, (3, 160, 160)), batch_size=4).total_bytes
    assert grown <= estimate  # ru_maxrss only grows, so this is an upper bound on what the pass added


def test_budget_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPLORER_MEMORY_BUDGET_MB", "64")
    assert budget_bytes() == 64 * 2**20
    monkeypatch.delenv("EXPLORER_MEMORY_BUDGET_MB")
    monkeypatch.setenv("EXPLORER_MEMORY_FRACTION", "0.25")
    assert 0 < budget_bytes() < 24 * 2**30


def test_refusal_names_estimate_and_limit() -> None:
    a = analyze(get_preset("wide_resnet101_2"))
    with pytest.raises(ResourceError, match=r"^memory: .*wide_resnet101_2.*over the 100 MiB budget"):
        check_memory(a, batch_size=1, budget=100 * 2**20)
    assert check_memory(analyze(get_preset("resnet20")), budget=100 * 2**20).total_bytes < 100 * 2**20


def test_analysis_alone_works_for_huge_networks() -> None:
    spec = get_preset("resnet1202")
    a = analyze(spec, (3, 4096, 4096))
    with pytest.raises(ResourceError):
        check_memory(a, batch_size=64, budget=2**30)
    assert a.params == 19_421_274
