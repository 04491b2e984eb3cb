"""Measured latency: the method's bookkeeping, its bounds and its errors (never absolute speed).

Small specs on the CPU keep the file fast; CUDA and MPS paths run only where the device is present.
"""

from __future__ import annotations

import json
import statistics
import time

import pytest
import torch
from torch import nn

from explorer import ArchSpec, analyze, build_model
from explorer.devices import available_devices, cpu_name
from explorer.latency import (
    DTYPES,
    LatencyCancelled,
    LatencyError,
    LatencyOOM,
    LatencyResult,
    measure_interleaved,
    measure_latency,
    peak_macs_per_second,
    roofline,
    throughput_sweep,
)

# A one-block network on 16×16 inputs: a forward pass takes well under a millisecond.
TINY = ArchSpec(name="tiny", block="basic", depths=(1,), widths=(8,), stem="cifar", stem_width=8,
                num_classes=10, input_size=(3, 16, 16))
TINY2 = ArchSpec(name="tiny2", block="bottleneck", depths=(1, 1), widths=(8, 16), cardinality=2, base_width=16,
                 stem="cifar", stem_width=8, num_classes=10, input_size=(3, 16, 16))
# Slow enough (milliseconds per run) that time bounds mean something.
SLOW = ArchSpec(name="slow", block="basic", depths=(3, 3, 3), widths=(16, 32, 64), stem="cifar", num_classes=10)
FAST = dict(warmup=1, min_runs=5, min_seconds=0.05, max_seconds=10.0)
HAS_CUDA = torch.cuda.is_available()
HAS_MPS = hasattr(torch.backends, "mps") and torch.backends.mps.is_available()


def _check_consistent(r: LatencyResult) -> None:
    """Every derived field agrees with the raw times."""
    t = sorted(r.times_ms)
    assert r.runs == len(r.times_ms) >= 1
    assert t[0] <= r.p10_ms <= r.median_ms <= r.p90_ms <= t[-1]
    assert r.median_ms == pytest.approx(statistics.median(t), rel=1e-12)
    assert r.mean_ms == pytest.approx(statistics.fmean(t), rel=1e-12)
    if r.runs > 1:
        deciles = statistics.quantiles(t, n=10, method="inclusive")
        quartiles = statistics.quantiles(t, n=4, method="inclusive")
        assert (r.p10_ms, r.p90_ms) == pytest.approx((deciles[0], deciles[-1]), rel=1e-12)
        assert r.iqr_ms == pytest.approx(quartiles[2] - quartiles[0], rel=1e-9, abs=1e-12)
        assert r.std_ms == pytest.approx(statistics.stdev(t), rel=1e-9, abs=1e-12)
    assert r.throughput == pytest.approx(r.batch_size / (r.median_ms / 1000), rel=1e-12)
    assert r.stopped_by in ("target", "time_limit", "cancelled")


def test_result_fields_are_consistent() -> None:
    r = measure_latency(TINY, **FAST)
    _check_consistent(r)
    assert r.runs >= 5 and r.stopped_by == "target" and sum(r.times_ms) >= 50
    assert (r.name, r.device, r.device_name, r.dtype, r.batch_size) == ("tiny", "cpu", cpu_name(), "float32", 1)
    assert r.input_size == (3, 16, 16) and r.channels_last is False and r.warmup_runs == 1
    assert r.threads == torch.get_num_threads()
    d = json.loads(json.dumps(r.to_dict()))
    assert d["times_ms"] == list(r.times_ms) and d["input_size"] == [3, 16, 16] and d["median_ms"] == r.median_ms


def test_options_are_applied_and_reported() -> None:
    r = measure_latency(TINY, batch_size=3, dtype="bfloat16", channels_last=True, input_size=(3, 24, 20), **FAST)
    _check_consistent(r)
    assert (r.batch_size, r.dtype, r.channels_last, r.input_size) == (3, "bfloat16", True, (3, 24, 20))
    assert r.throughput == pytest.approx(3000 / r.median_ms)
    macs = analyze(TINY, (3, 24, 20)).macs
    assert r.macs_per_second(macs) == pytest.approx(macs * 3 / (r.median_ms / 1000))


def test_max_seconds_bounds_the_whole_call() -> None:
    start = time.perf_counter()
    r = measure_latency(SLOW, warmup=1, min_runs=100_000, min_seconds=1000, max_seconds=0.6)
    elapsed = time.perf_counter() - start
    _check_consistent(r)
    assert r.stopped_by == "time_limit"
    assert elapsed < 0.6 + 1.5  # slack: one run past the estimate, and the model build
    assert r.total_seconds < 0.6 + 1.0


def test_min_seconds_is_reached() -> None:
    r = measure_latency(TINY, warmup=0, min_runs=1, min_seconds=0.2, max_seconds=10)
    assert r.stopped_by == "target" and r.warmup_runs == 0 and sum(r.times_ms) >= 200


def test_threads_are_set_and_restored() -> None:
    before = torch.get_num_threads()
    r = measure_latency(TINY, threads=1, **FAST)
    assert r.threads == 1 and torch.get_num_threads() == before


class _Broken(nn.Module):
    """Fails in forward like a device would: with an OOM above ``ok_batch`` images, else a plain error."""

    def __init__(self, ok_batch: int = 0, oom: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.ok_batch, self.oom = ok_batch, oom

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] > self.ok_batch:
            if self.oom:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
            raise RuntimeError("cuDNN error: CUDNN_STATUS_INTERNAL_ERROR\nsecond line of detail")
        return self.conv(x)


def test_device_failures_are_clear_errors_and_state_is_restored() -> None:
    before = torch.get_num_threads()
    with pytest.raises(LatencyOOM, match=r"^out of memory on cpu at batch size 2 \(float32\)") as e:
        measure_latency(_Broken(), batch_size=2, threads=1, input_size=(3, 8, 8), **FAST)
    assert e.value.field is None and "\n" not in str(e.value)
    with pytest.raises(LatencyError, match="cuDNN error: CUDNN_STATUS_INTERNAL_ERROR$") as e:
        measure_latency(_Broken(oom=False), input_size=(3, 8, 8), **FAST)
    assert not isinstance(e.value, LatencyOOM) and e.value.field is None
    assert torch.get_num_threads() == before


def test_cpu_batch_that_cannot_fit_in_ram_is_refused_before_running() -> None:
    with pytest.raises(LatencyOOM, match="GiB is available"):
        measure_latency(TINY, batch_size=65_536, input_size=(3, 4096, 4096), **FAST)


def test_a_callers_module_is_not_changed() -> None:
    model = build_model(TINY).train()
    weight = model.conv1.weight.detach().clone()
    r = measure_latency(model, dtype="bfloat16", channels_last=True, input_size=(3, 16, 16), **FAST)
    assert r.name == "ResNet" and r.dtype == "bfloat16"
    assert model.training and all(m.training for m in model.modules())
    assert model.conv1.weight.dtype == torch.float32 and torch.equal(model.conv1.weight, weight)
    r = measure_latency(model, input_size=(3, 16, 16), **FAST)  # timed in place, then put back in train mode
    assert r.dtype == "float32" and all(m.training for m in model.modules())


def test_devices_are_listed() -> None:
    devices = available_devices()
    cpu = devices[0]
    assert (cpu.name, cpu.kind, cpu.model) == ("cpu", "cpu", cpu_name())
    assert cpu.cores >= 1 and "float32" in cpu.dtypes and "bfloat16" in cpu.dtypes
    assert cpu.label.startswith("cpu (") and json.dumps(cpu.to_dict())
    names = [d.name for d in devices]
    assert len(set(names)) == len(names)
    assert ("cuda:0" in names) == HAS_CUDA and ("mps" in names) == HAS_MPS
    assert all(set(d.dtypes) <= set(DTYPES) for d in devices)


@pytest.mark.parametrize("device", ["tpu", "cuda:99", "meta", "", "cpu:x"])
def test_bad_device_names_the_field_and_lists_the_devices(device: str) -> None:
    with pytest.raises(LatencyError, match=r"^device: .* available devices: cpu") as e:
        measure_latency(TINY, device=device, **FAST)
    assert e.value.field == "device"


@pytest.mark.skipif(HAS_CUDA, reason="CUDA is present")
def test_cuda_without_a_gpu_is_a_clear_error() -> None:
    with pytest.raises(LatencyError, match=r"^device: 'cuda' is not available here; available devices: cpu"):
        measure_latency(TINY, device="cuda")


def test_bad_dtype_is_a_clear_error() -> None:
    with pytest.raises(LatencyError, match=r"^dtype: must be one of float32, float16, bfloat16; got 'float64'") as e:
        measure_latency(TINY, dtype="float64")
    assert e.value.field == "dtype"
    if "float16" not in available_devices()[0].dtypes:
        with pytest.raises(LatencyError, match=r"^dtype: float16 is not supported on cpu .*use float32 or bfloat16"):
            measure_latency(TINY, dtype="float16")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.0}, "batch_size"),
        ({"threads": 0}, "threads"),
        ({"min_runs": 0}, "min_runs"),
        ({"max_seconds": 0}, "max_seconds"),
        ({"warmup": -1}, "warmup"),
        ({"channels_last": "yes"}, "channels_last"),
        ({"input_size": (4, 16, 16)}, "input_size"),
        ({"input_size": (3, 0, 16)}, "input_size"),
    ],
)
def test_bad_numbers_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(LatencyError, match=f"^{field}: ") as e:
        measure_latency(TINY, **kwargs)
    assert e.value.field == field


def test_should_stop_cancels() -> None:
    calls = []

    def stop_on_third() -> bool:
        calls.append(1)
        return len(calls) >= 3

    r = measure_latency(TINY, warmup=0, min_runs=1000, min_seconds=100, max_seconds=30, should_stop=stop_on_third)
    assert (r.stopped_by, r.runs) == ("cancelled", 3)
    _check_consistent(r)
    with pytest.raises(LatencyCancelled, match="warm-up"):
        measure_latency(TINY, warmup=2, should_stop=lambda: True)


def test_progress_is_reported_and_never_goes_back() -> None:
    seen: list[tuple[float, str]] = []
    measure_latency(TINY, progress=lambda f, text: seen.append((f, text)), **FAST)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and all(0 <= f <= 1 for f in fractions)
    assert seen[-1][0] == 1.0 and seen[-1][1].startswith("done:")


def test_interleaved_returns_one_result_per_config_in_order() -> None:
    model = build_model(TINY)
    rs = measure_interleaved([TINY, TINY2, model], **FAST)
    assert [r.name for r in rs] == ["tiny", "tiny2", "ResNet"]
    assert len({r.runs for r in rs}) == 1 and rs[0].runs >= 5
    assert all(sum(r.times_ms) >= 50 for r in rs)  # min_seconds is per configuration
    for r in rs:
        _check_consistent(r)
    with pytest.raises(LatencyError, match="^models_or_specs: "):
        measure_interleaved([])
    with pytest.raises(LatencyError, match=r"^models_or_specs\[1\]: "):
        measure_interleaved([TINY, "resnet50"])


def test_sweep_measures_every_batch_size_within_budget() -> None:
    sweep = throughput_sweep(TINY, [4, 1, 2, 2], time_budget_s=20, warmup=1, min_runs=3, min_seconds=0.02)
    assert sweep.stopped_by == "done" and sweep.message == "measured all 3 batch sizes"
    assert [r.batch_size for r in sweep.results] == [1, 2, 4]
    for r in sweep.results:
        _check_consistent(r)
    assert json.loads(json.dumps(sweep.to_dict()))["stopped_by"] == "done"


def test_sweep_stops_at_its_time_budget() -> None:
    start = time.perf_counter()
    sweep = throughput_sweep(SLOW, [2**i for i in range(13)], time_budget_s=1.0, warmup=1, min_runs=3,
                             min_seconds=0.1)
    elapsed = time.perf_counter() - start
    assert sweep.stopped_by == "time_budget" and "budget" in sweep.message
    sizes = [r.batch_size for r in sweep.results]
    assert sizes == [2**i for i in range(len(sizes))] and len(sizes) < 13
    assert elapsed < 1.0 + 2.0  # slack: one run past the estimate, and the model build


def test_sweep_stops_cleanly_at_out_of_memory() -> None:
    sweep = throughput_sweep(_Broken(ok_batch=2), [1, 2, 4, 8], input_size=(3, 8, 8), time_budget_s=20,
                             warmup=1, min_runs=2, min_seconds=0.01)
    assert sweep.stopped_by == "out_of_memory"
    assert [r.batch_size for r in sweep.results] == [1, 2]
    assert sweep.message.startswith("batch size 4: out of memory on cpu")


def test_sweep_rejects_bad_input() -> None:
    for bad in ([], [1, "2"], [0], 8):
        with pytest.raises(LatencyError, match="^batch_sizes: "):
            throughput_sweep(TINY, bad)
    with pytest.raises(LatencyError, match="^device: "):
        throughput_sweep(TINY, [1], device="tpu")


def test_peak_probe_is_fast_cached_and_feeds_the_roofline() -> None:
    start = time.perf_counter()
    peak = peak_macs_per_second("cpu", "float32")
    first = time.perf_counter() - start
    assert peak > 0 and first < 5
    start = time.perf_counter()
    assert peak_macs_per_second("cpu", "float32") == peak and time.perf_counter() - start < 0.01
    r = measure_latency(TINY, **FAST)
    macs = analyze(TINY).macs
    roof = roofline(r, macs)
    assert roof["achieved_macs_per_s"] == pytest.approx(r.macs_per_second(macs))
    assert roof["percent_of_peak"] == pytest.approx(100 * roof["achieved_macs_per_s"] / roof["peak_macs_per_s"])
    with pytest.raises(LatencyError, match="^dtype: "):
        peak_macs_per_second("cpu", "int8")


# --- accelerators: run only where present --------------------------------------------------


@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU")
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_cuda_measurement(dtype: str) -> None:
    info = next(d for d in available_devices() if d.name == "cuda:0")
    if dtype not in info.dtypes:
        pytest.skip(f"{dtype} not supported on {info.model}")
    benchmark = torch.backends.cudnn.benchmark
    r = measure_latency(TINY, device="cuda", dtype=dtype, batch_size=4, channels_last=True, **FAST)
    _check_consistent(r)
    assert (r.device, r.device_name, r.dtype) == ("cuda:0", torch.cuda.get_device_name(0), dtype)
    assert torch.backends.cudnn.benchmark == benchmark
    rs = measure_interleaved([TINY, TINY2], device="cuda:0", dtype=dtype, **FAST)
    assert [r.name for r in rs] == ["tiny", "tiny2"]
    assert peak_macs_per_second("cuda:0", dtype) > 0


@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU")
def test_cuda_out_of_memory_is_an_error_and_frees_memory() -> None:
    measure_latency(TINY, device="cuda", **FAST)  # cuBLAS/cuDNN keep small workspaces after their first use
    torch.cuda.empty_cache()
    before = torch.cuda.memory_allocated(0)
    free, _ = torch.cuda.mem_get_info(0)
    # One 512-channel feature map at 2048×2048 in float32 is 8 GiB; ask for more images than the GPU holds.
    batch = int(free // (512 * 2048 * 2048 * 4)) + 2
    spec = ArchSpec(name="oom", block="basic", depths=(1,), widths=(512,), stem="cifar", stem_width=512,
                    num_classes=10, input_size=(3, 2048, 2048))
    with pytest.raises(LatencyOOM, match="^out of memory on cuda:0") as e:
        measure_latency(spec, device="cuda", batch_size=batch, **FAST)
    assert e.value.field is None and "\n" not in str(e.value)
    slack = 64 * 2**20  # far below the GiBs the failed run held
    assert torch.cuda.memory_allocated(0) <= before + slack
    sweep = throughput_sweep(spec, [1, batch], device="cuda", time_budget_s=120, warmup=1, min_runs=2,
                             min_seconds=0.01)
    assert sweep.stopped_by == "out_of_memory" and [r.batch_size for r in sweep.results] == [1]
    assert torch.cuda.memory_allocated(0) <= before + slack


@pytest.mark.skipif(not HAS_MPS, reason="needs Apple MPS")
def test_mps_measurement() -> None:
    r = measure_latency(TINY, device="mps", **FAST)
    _check_consistent(r)
    assert r.device == "mps"
