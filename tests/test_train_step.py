"""The measured training step: bookkeeping only, never absolute speed (speed is measured by benchmarks).

Expected values come from the raw times (numpy's percentiles), from torch (the optimizer's real parameters,
the dtype autocast gives a conv) and from ``train_cost`` for the estimate that is reported unchanged.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import explorer.build.devices
import explorer.measure.latency
from explorer import ArchSpec
from explorer.core.errors import Cancelled, ResourceError, SpecError
from explorer.measure.latency import paired_ratios
from explorer.measure.timing import Settings
from explorer.measure.train_step import TrainStepResult, measure_train_step
from explorer.costs.training import train_cost

TINY = ArchSpec(name="tiny", block="basic", depths=(1,), widths=(8,), stem="cifar", stem_width=8, num_classes=10,
                input_size=(3, 16, 16))
WIDER = dataclasses.replace(TINY, name="wider", widths=(16,))
FAST = Settings(warmup=1, min_runs=3, min_seconds=0, max_seconds=20, threads=1, batch_size=2)


pytestmark = pytest.mark.usefixtures("one_thread")


# --- results agree with their raw times ---------------------------------------------------------------
def test_result_is_consistent_with_its_raw_times() -> None:
    (r,) = measure_train_step(TINY, FAST)
    lat = r.latency
    times = np.array(lat.times_ms)
    assert isinstance(r, TrainStepResult) and r.name == lat.name == "tiny"
    assert lat.runs == len(times) >= FAST.min_runs and lat.warmup_runs == FAST.warmup and lat.stopped_by == "target"
    assert lat.median_ms == pytest.approx(np.median(times))
    assert (lat.p10_ms, lat.p90_ms) == pytest.approx((np.percentile(times, 10), np.percentile(times, 90)))
    assert lat.throughput == pytest.approx(FAST.batch_size / (np.median(times) / 1000))  # images trained per s
    assert (lat.batch_size, lat.input_size, lat.threads, lat.dtype) == (2, (3, 16, 16), 1, "float32")
    assert (r.precision, r.optimizer) == ("float32", "sgd")
    assert r.estimate == train_cost(TINY, batch_size=2).peak and r.estimate_bytes == r.estimate.total
    assert r.measured_peak_bytes is None and r.difference_bytes is None  # CPU: no allocator counter
    d = r.to_dict()
    assert d["latency"]["times_ms"] == list(lat.times_ms) and d["estimate"]["total"] == r.estimate.total
    assert d["measured_peak_bytes"] is None and "no measured peak on cpu" in d["memory_note"]


def test_interleaved_specs_get_equal_runs_and_paired_ratios() -> None:
    results = measure_train_step([TINY, WIDER, TINY], FAST, names=["a", "b", "c"])
    assert [r.name for r in results] == [r.latency.name for r in results] == ["a", "b", "c"]
    runs = {r.latency.runs for r in results}
    assert len(runs) == 1 and runs.pop() >= FAST.min_runs
    assert results[1].estimate == train_cost(WIDER, batch_size=2).peak != results[0].estimate
    ratios = paired_ratios([r.latency for r in results])
    assert [(q.name, q.baseline, q.rounds) for q in ratios] == [("b", "a", results[0].latency.runs),
                                                                ("c", "a", results[0].latency.runs)]
    for q, r in zip(ratios, results[1:]):
        per_round = [t / b for t, b in zip(r.latency.times_ms, results[0].latency.times_ms)]
        assert q.low <= q.median <= q.high and q.median == pytest.approx(np.median(per_round))


# --- the step is a real training step -----------------------------------------------------------------
EXPECTED_OPTIMIZERS = {  # written out here, not read from explorer.costs.training
    "sgd": ("SGD", {"lr": 0.1, "momentum": 0}),
    "sgd_momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "adam": ("Adam", {"lr": 1e-3}),
    "adamw": ("AdamW", {"lr": 1e-3}),
}


@pytest.mark.parametrize("name", list(EXPECTED_OPTIMIZERS))
def test_the_optimizer_really_steps(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    cls_name, settings = EXPECTED_OPTIMIZERS[name]
    seen: dict = {"steps": 0}
    base = getattr(torch.optim, cls_name)

    class Spy(base):  # type: ignore[misc, valid-type]
        def __init__(self, params, **kwargs) -> None:  # noqa: ANN001
            super().__init__(params, **kwargs)
            seen["params"] = [p for g in self.param_groups for p in g["params"]]
            seen["first"] = [p.detach().clone() for p in seen["params"]]  # before the first run
            seen["groups"] = self.param_groups

        def step(self, closure=None):  # noqa: ANN001, ANN202
            seen["steps"] += 1
            return super().step(closure)

    monkeypatch.setattr(torch.optim, cls_name, Spy)
    (r,) = measure_train_step(TINY, FAST, optimizer=name)
    assert r.optimizer == name
    assert seen["steps"] == r.latency.warmup_runs + r.latency.runs  # one step per run, none elsewhere
    assert all(seen["groups"][0][k] == v for k, v in settings.items())
    weights = [(p0, p) for p0, p in zip(seen["first"], seen["params"]) if p.dim() == 4]  # every conv weight
    assert len(weights) == 3 and all(not torch.equal(p0, p) for p0, p in weights)


def test_bfloat16_autocast_on_cpu_keeps_float32_weights() -> None:
    conv_dtypes: set[torch.dtype] = set()

    def hook(module: torch.nn.Module, args: tuple, out: torch.Tensor) -> None:
        if isinstance(module, torch.nn.Conv2d):
            conv_dtypes.add(out.dtype)
            assert module.weight.dtype == torch.float32

    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    try:
        (r,) = measure_train_step(TINY, FAST, precision="bfloat16")
    finally:
        handle.remove()
    assert conv_dtypes == {torch.bfloat16} and r.precision == "bfloat16" and r.latency.dtype == "bfloat16 autocast"
    assert r.estimate == train_cost(TINY, batch_size=2, precision="bfloat16").peak


# --- refusals -----------------------------------------------------------------------------------------
def test_over_the_budget_is_refused_before_building(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("built a model over the budget")

    monkeypatch.setattr(explorer.measure.latency, "build_model", no_build)
    need = train_cost(TINY, batch_size=2).peak.total
    with pytest.raises(ResourceError) as e:
        measure_train_step(TINY, FAST.edit(budget=need - 1))
    assert e.value.field == "memory" and "training tiny at batch 2" in str(e.value)
    with pytest.raises(ResourceError):  # two networks: each one's peak plus what the other holds
        measure_train_step([TINY, TINY], FAST.edit(budget=need))


def _no_half(device: str) -> tuple[str, ...]:
    return ("float32", "bfloat16")


@pytest.mark.parametrize(("call", "field"), [
    (lambda: measure_train_step(TINY, FAST.edit(batch_size=0)), "batch_size"),
    (lambda: measure_train_step(dataclasses.replace(TINY, input_size=(3, 1, 1)), FAST.edit(batch_size=1)),
     "batch_size"),  # BN would see one value per channel
    (lambda: measure_train_step(TINY, FAST, optimizer="lion"), "optimizer"),
    (lambda: measure_train_step(TINY, FAST, precision="float8"), "precision"),
    (lambda: measure_train_step(TINY, FAST.edit(dtype="bfloat16")), "dtype"),
    (lambda: measure_train_step(TINY, FAST, precision="float16"), "precision"),  # with _no_half below
    (lambda: measure_train_step(TINY, FAST, input_size=(3, 0, 16)), "input_size"),
    (lambda: measure_train_step([], FAST), "specs"),
    (lambda: measure_train_step([TINY, "resnet50"], FAST), "specs[1]"),
    (lambda: measure_train_step([TINY, WIDER], FAST, names=["one"]), "names"),
    (lambda: measure_train_step([TINY, WIDER], FAST, half_width=2), "half_width"),
], ids=["batch 0", "batch 1 at 1x1", "optimizer", "precision", "dtype", "precision the device lacks",
        "input_size", "no specs", "not a spec", "names", "half_width"])
def test_bad_input_names_its_field(monkeypatch: pytest.MonkeyPatch, call, field: str) -> None:  # noqa: ANN001
    monkeypatch.setattr(explorer.build.devices, "dtypes_for", _no_half)  # a CPU without native half precision
    with pytest.raises(SpecError) as e:
        call()
    assert e.value.field == field, e.value


# --- stopping -----------------------------------------------------------------------------------------
def _stop_after(polls: int):  # noqa: ANN202
    count = [0]

    def should_stop() -> bool:
        count[0] += 1
        return count[0] >= polls

    return should_stop


def test_should_stop_keeps_complete_rounds() -> None:
    # Polled after every step: 2 warm-up steps, then round 1 (A, B), then A of round 2 says stop.
    results = measure_train_step([TINY, WIDER], FAST, should_stop=_stop_after(5))
    assert [r.latency.runs for r in results] == [1, 1]
    assert {r.latency.stopped_by for r in results} == {"cancelled"}
    with pytest.raises(Cancelled):  # during the warm-up: no result at all
        measure_train_step([TINY, WIDER], FAST, should_stop=_stop_after(1))


def test_progress_is_reported() -> None:
    seen: list[tuple[float, str]] = []
    measure_train_step(TINY, FAST, progress=lambda f, text: seen.append((f, text)))
    fractions = [f for f, _ in seen]
    assert seen[0] == (0.0, "preparing the model") and fractions == sorted(fractions) and fractions[-1] == 1.0


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="the allocator's peak is a CUDA counter")
def test_cuda_records_the_measured_peak_beside_the_estimate() -> None:
    a, b = measure_train_step([TINY, WIDER], FAST.edit(device="cuda", batch_size=8))
    for r in (a, b):
        assert r.measured_peak_bytes is not None and 0 < r.measured_peak_bytes
        assert r.difference_bytes == r.measured_peak_bytes - r.estimate.total
        assert "max_memory_allocated" in r.memory_note() and "CUDA context" in r.memory_note()


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_trains_under_bfloat16_autocast_with_float32_weights() -> None:
    if "bfloat16" not in explorer.build.devices.dtypes_for("cuda:0"):
        pytest.skip(f"{torch.cuda.get_device_name(0)} has no native bfloat16")
    [r] = measure_train_step(TINY, FAST.edit(device="cuda", batch_size=8), precision="bfloat16")
    assert (r.precision, r.latency.dtype, r.latency.device) == ("bfloat16", "bfloat16 autocast", "cuda:0")
    assert r.estimate == train_cost(TINY, batch_size=8, precision="bfloat16").peak
    assert r.measured_peak_bytes is not None and r.measured_peak_bytes > 0
