"""Measured latency: the method's bookkeeping, its bounds, its verdicts and its errors — never absolute speed.

The timing loop's bounds are checked against a fake clock (deterministic, whatever the machine's load);
real measurements use tiny networks and check only what follows from the raw times. CUDA and MPS paths run
only where the device is present.
"""

from __future__ import annotations

import json
import math
import statistics
import types

import pytest
import torch
from torch import nn

from explorer import ArchSpec, analyze, build_model
from explorer.build.devices import available_devices, cpu_name
from explorer.core.errors import Cancelled, DeviceError, OutOfMemory, ResourceError, SpecError
from explorer.measure.latency import Ratio, measure_interleaved, measure_latency, median_interval, paired_ratios
from explorer.measure.roofline import attainable, bandwidth_bytes_per_second, peak_macs_per_second, roofline
from explorer.measure.sweep import throughput_sweep
from explorer.measure.timing import DTYPES, Clock, LatencyResult, Settings, summarize, time_calls

# A one-block network on 16×16 inputs: a forward pass takes well under a millisecond.
TINY = ArchSpec(name="tiny", block="basic", depths=(1,), widths=(8,), stem="cifar", stem_width=8,
                num_classes=10, input_size=(3, 16, 16))
TINY2 = ArchSpec(name="tiny2", block="bottleneck", depths=(1, 1), widths=(8, 16), cardinality=2, base_width=16,
                 stem="cifar", stem_width=8, num_classes=10, input_size=(3, 16, 16))
FAST = Settings(warmup=1, min_runs=5, min_seconds=0.0, max_seconds=30.0)
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


# --- the loop, on a fake clock ------------------------------------------------------------------
class FakeTime:
    """A clock that advances only when a call 'runs': each call of index k takes ``durations[k]`` seconds."""

    def __init__(self, durations: list[float]) -> None:
        self.now, self.durations = 0.0, durations

    def perf_counter(self) -> float:
        return self.now

    def clock(self) -> Clock:
        class _Clock(Clock):
            def time(self, fn):  # noqa: ANN001, ANN202
                return fn()

            def sync(self) -> None:
                pass

        return _Clock(torch.device("cpu"))

    def calls(self) -> list:
        def run(k: int) -> float:
            self.now += self.durations[k]
            return self.durations[k]

        return [lambda k=k: run(k) for k in range(len(self.durations))]


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    def make(durations: list[float]) -> FakeTime:
        fake = FakeTime(durations)
        monkeypatch.setattr("explorer.measure.timing.time", types.SimpleNamespace(perf_counter=fake.perf_counter))
        return fake

    return make


def test_loop_stops_at_the_target(fake_time) -> None:  # noqa: ANN001
    fake = fake_time([0.01])
    t = time_calls(fake.calls(), Settings(warmup=2, min_runs=10, min_seconds=0.3, max_seconds=100), clock=fake.clock())
    # 10 runs reach min_runs but only 0.1 s; min_seconds 0.3 needs 30 runs of 10 ms
    assert (len(t.seconds[0]), t.warmup_runs, t.stopped_by) == (30, 2, "target")


def test_loop_never_starts_a_round_past_max_seconds(fake_time) -> None:  # noqa: ANN001
    fake = fake_time([0.125, 0.125])  # a round of two configurations takes 0.25 s (exact in binary)
    t = time_calls(fake.calls(), Settings(warmup=1, min_runs=1000, min_seconds=0, max_seconds=3.0),
                   clock=fake.clock())
    assert t.stopped_by == "time_limit"
    # warm-up 0.25 s; then rounds while the next one would still end by 3.0 s: 11 rounds, ending at 3.0 s
    assert len(t.seconds[0]) == len(t.seconds[1]) == 11 and fake.now == 3.0


def test_loop_gives_one_run_even_when_a_single_run_exceeds_the_limit(fake_time) -> None:  # noqa: ANN001
    fake = fake_time([5.0])
    t = time_calls(fake.calls(), Settings(warmup=3, min_runs=10, max_seconds=1.0), clock=fake.clock())
    # the warm-up gives up after half the limit; one timed run is always made
    assert (t.warmup_runs, len(t.seconds[0]), t.stopped_by) == (1, 1, "time_limit")


def test_loop_stops_early_when_done_says_so(fake_time) -> None:  # noqa: ANN001
    fake = fake_time([0.01, 0.02])
    t = time_calls(fake.calls(), Settings(warmup=0, min_runs=6, max_seconds=100), clock=fake.clock(),
                   done=lambda times: len(times[0]) >= 9)
    assert (len(t.seconds[0]), t.stopped_by) == (9, "target")


def test_cancelling_keeps_the_complete_rounds(fake_time) -> None:  # noqa: ANN001
    fake = fake_time([0.01, 0.01])
    polls = []
    t = time_calls(fake.calls(), Settings(warmup=0, min_runs=100, max_seconds=100), clock=fake.clock(),
                   should_stop=lambda: polls.append(1) or len(polls) >= 7)
    # the 7th poll is after the first call of round 4: rounds 1-3 are kept, whole
    assert (t.stopped_by, len(t.seconds[0]), len(t.seconds[1])) == ("cancelled", 3, 3)
    with pytest.raises(Cancelled, match="warm-up"):
        time_calls(fake.calls(), Settings(warmup=2), clock=fake.clock(), should_stop=lambda: True)


def test_progress_is_reported_never_goes_back_and_ends_at_one(fake_time) -> None:  # noqa: ANN001
    fake = fake_time([0.2])
    seen: list[tuple[float, str]] = []
    time_calls(fake.calls(), Settings(warmup=1, min_runs=20, max_seconds=100), lambda f, s: seen.append((f, s)),
               clock=fake.clock())
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and all(0 <= f <= 1 for f in fractions) and len(seen) > 2
    assert seen[-1] == (1.0, "done: 20 runs (target)")


# --- settings -----------------------------------------------------------------------------------
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
        ({"dtype": "float64"}, "dtype"),
        ({"device": "tpu"}, "device"),
        ({"device": "meta"}, "device"),
        ({"budget": -1}, "budget"),
    ],
)
def test_bad_settings_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(SpecError, match=f"^{field}: ") as e:
        Settings(**kwargs)
    assert e.value.field == field


@pytest.mark.parametrize("device", ["tpu", "cuda:99", "", "cpu:x"])
def test_bad_device_lists_the_devices(device: str) -> None:
    with pytest.raises(SpecError, match=r"^device: .* available devices: cpu"):
        Settings(device=device)


def test_unsupported_dtype_says_why() -> None:
    if "float16" not in available_devices()[0].dtypes:
        with pytest.raises(SpecError, match=r"^dtype: float16 is not supported on cpu .*use float32 or bfloat16"):
            Settings(dtype="float16")


def test_bad_input_sizes_name_the_field() -> None:
    for size in ((4, 16, 16), (3, 0, 16)):
        with pytest.raises(SpecError, match="^input_size: "):
            measure_latency(TINY, FAST, input_size=size)


# --- real measurements: bookkeeping only ---------------------------------------------------------
def test_result_fields_are_consistent() -> None:
    r = measure_latency(TINY, FAST)
    _check_consistent(r)
    assert r.runs >= 5 and r.stopped_by == "target"
    assert (r.name, r.device, r.device_name, r.dtype, r.batch_size) == ("tiny", "cpu", cpu_name(), "float32", 1)
    assert r.input_size == (3, 16, 16) and r.channels_last is False and r.warmup_runs == 1
    assert r.threads == torch.get_num_threads()
    d = json.loads(json.dumps(r.to_dict()))
    assert d["times_ms"] == list(r.times_ms) and d["input_size"] == [3, 16, 16] and d["median_ms"] == r.median_ms


def test_options_are_applied_and_reported() -> None:
    before = torch.get_num_threads()
    s = FAST.edit(batch_size=3, dtype="bfloat16", channels_last=True, threads=1)
    r = measure_latency(TINY, s, input_size=(3, 24, 20))
    _check_consistent(r)
    assert (r.batch_size, r.dtype, r.channels_last, r.input_size, r.threads) == (3, "bfloat16", True, (3, 24, 20), 1)
    assert torch.get_num_threads() == before
    macs = analyze(TINY, (3, 24, 20)).macs
    assert r.macs_per_second(macs) == pytest.approx(macs * 3 / (r.median_ms / 1000))


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


def test_device_failures_are_device_errors_and_state_is_restored() -> None:
    before = torch.get_num_threads()
    with pytest.raises(OutOfMemory, match=r"^out of memory on cpu at batch size 2 \(float32\)") as e:
        measure_latency(_Broken(), FAST.edit(batch_size=2, threads=1), input_size=(3, 8, 8))
    assert e.value.field is None and "\n" not in str(e.value)
    with pytest.raises(DeviceError, match="cuDNN error: CUDNN_STATUS_INTERNAL_ERROR$") as e:
        measure_latency(_Broken(oom=False), FAST, input_size=(3, 8, 8))
    assert not isinstance(e.value, OutOfMemory) and e.value.field is None
    assert torch.get_num_threads() == before


def test_a_batch_over_the_memory_budget_is_refused_before_anything_is_built() -> None:
    with pytest.raises(ResourceError, match=r"^memory: running tiny at batch 65536 in float32 needs about"):
        measure_latency(TINY, FAST.edit(batch_size=65_536), input_size=(3, 4096, 4096))
    huge = ArchSpec(name="huge", depths=(3,), widths=(16384,), stem_width=16384, num_classes=100_000)
    with pytest.raises(ResourceError, match="^memory: "):  # the weights alone: ~2e10 parameters
        measure_latency(huge, FAST)


def test_a_blocks_feature_map_input_is_not_an_image() -> None:
    """A block takes 256 channels: the image channel limit (64) must not apply (the Fig. 3 lab's bug)."""
    block = nn.Conv2d(256, 256, 1)
    r = measure_latency(block, FAST, input_size=(256, 8, 8))
    assert r.input_size == (256, 8, 8) and r.name == "Conv2d"


def test_a_callers_module_is_not_changed() -> None:
    model = build_model(TINY).train()
    weight = model.conv1.weight.detach().clone()
    r = measure_latency(model, FAST.edit(dtype="bfloat16", channels_last=True), input_size=(3, 16, 16))
    assert r.name == "ResNet" and r.dtype == "bfloat16"
    assert model.training and all(m.training for m in model.modules())
    assert model.conv1.weight.dtype == torch.float32 and torch.equal(model.conv1.weight, weight)
    r = measure_latency(model, FAST, input_size=(3, 16, 16))  # timed in place, then put back in train mode
    assert r.dtype == "float32" and all(m.training for m in model.modules())


@pytest.mark.cuda
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


def test_interleaved_returns_one_result_per_config_in_order() -> None:
    model = build_model(TINY)
    rs = measure_interleaved([TINY, TINY2, model], FAST)
    assert [r.name for r in rs] == ["tiny", "tiny2", "ResNet"]
    assert len({r.runs for r in rs}) == 1 and rs[0].runs >= 5
    for r in rs:
        _check_consistent(r)
    with pytest.raises(SpecError, match="^models: "):
        measure_interleaved([])
    with pytest.raises(SpecError, match=r"^models\[1\]: "):
        measure_interleaved([TINY, "resnet50"])
    with pytest.raises(SpecError, match="^half_width: "):
        measure_interleaved([TINY, TINY2], FAST, half_width=2)


# --- verdicts -----------------------------------------------------------------------------------
def _coverage(n: int, k: int) -> float:
    """P(x_(k) <= median <= x_(n-k+1)) for n draws, from the binomial distribution directly."""
    return sum(math.comb(n, j) for j in range(k, n - k + 1)) / 2**n


@pytest.mark.parametrize("n", [6, 7, 10, 24, 51])
def test_median_interval_is_the_binomial_order_statistic_interval(n: int) -> None:
    values = [float(v) for v in range(1, n + 1)]  # x_(i) = i, so the bounds are the order statistics' ranks
    low, high, coverage = median_interval(values[::-1])  # order does not matter
    k = int(low)
    assert high == n - k + 1 and coverage == pytest.approx(_coverage(n, k), abs=1e-12)
    assert coverage >= 0.95 and _coverage(n, k + 1) < 0.95  # the narrowest interval with 95%


def test_median_interval_with_too_few_values_says_its_lower_coverage() -> None:
    low, high, coverage = median_interval([3.0, 1.0, 2.0])
    assert (low, high) == (1.0, 3.0) and coverage == pytest.approx(_coverage(3, 1)) and coverage < 0.95


def _result(name: str, times: list[float]) -> LatencyResult:
    return summarize(name, times, Settings(), (3, 32, 32), "target", 0, 1.0)


def test_paired_ratios_pair_rounds_and_give_verdicts() -> None:
    base = [10.0, 12.0, 9.0, 11.0, 10.0, 30.0, 10.0, 10.0, 9.5, 10.5]  # round 6 was disturbed: both slow
    slower = [t * 1.25 for t in base]
    same = [t * f for t, f in zip(base, [1.02, 0.97, 1.01, 0.99, 1.03, 0.98, 1.0, 1.01, 0.99, 1.02])]
    r_slow, r_same = paired_ratios([_result("a", base), _result("b", slower), _result("c", same)])
    assert isinstance(r_slow, Ratio) and (r_slow.name, r_slow.baseline, r_slow.rounds) == ("b", "a", 10)
    assert r_slow.median == pytest.approx(1.25) and r_slow.low == pytest.approx(1.25) and r_slow.measurable
    coverage = 1 - 2 * (1 + 10) / 2**10  # x(2)…x(9) of 10 cover the median with 1 − 2·P(B ≤ 1): 97.9%, not 95%
    assert r_slow.coverage == pytest.approx(coverage) and r_slow.level() == f"at least 95% (here {coverage:.1%})"
    assert r_slow.phrase() == "1.25× as long as a (CI 1.25–1.25×, confidence at least 95% (here 97.9%), 10 paired rounds)"
    few = paired_ratios([_result("a", base[:5]), _result("b", slower[:5])])[0]  # 5 rounds cannot reach 95%
    assert few.level() == f"only {1 - 2 / 2**5:.1%} (too few rounds for 95%)"
    ratios = sorted(f for f in [1.02, 0.97, 1.01, 0.99, 1.03, 0.98, 1.0, 1.01, 0.99, 1.02])
    assert (r_same.low, r_same.high) == pytest.approx((ratios[1], ratios[8]))  # x_(2), x_(9) of 10
    assert not r_same.measurable and r_same.phrase().startswith("no measurable difference from a (")


def test_precision_keeps_measuring_until_the_interval_is_narrow(fake_time) -> None:  # noqa: ANN001
    from explorer.measure.latency import precise_enough

    fake = fake_time([0.01, 0.02])
    t = time_calls(fake.calls(), Settings(warmup=0, min_runs=3, max_seconds=100), clock=fake.clock(),
                   done=precise_enough(0.03))
    # constant ratios: the interval is a point once it has 95% coverage, i.e. at 6 rounds (not before)
    assert len(t.seconds[0]) == 6 and t.stopped_by == "target"


# --- sweep and roofline ---------------------------------------------------------------------------
def test_sweep_measures_every_batch_size_and_progress_reaches_one() -> None:
    seen: list[float] = []
    sweep = throughput_sweep(TINY, Settings(warmup=1, min_runs=3, min_seconds=0), batch_sizes=[4, 1, 2, 2],
                             time_budget_s=60, progress=lambda f, _: seen.append(f))
    assert sweep.stopped_by == "done" and sweep.message == "measured all 3 batch sizes"
    assert [r.batch_size for r in sweep.results] == [1, 2, 4]
    for r in sweep.results:
        _check_consistent(r)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert json.loads(json.dumps(sweep.to_dict()))["stopped_by"] == "done"


def test_sweep_stops_cleanly_at_out_of_memory_and_at_the_memory_budget() -> None:
    sweep = throughput_sweep(_Broken(ok_batch=2), Settings(warmup=1, min_runs=2, min_seconds=0),
                             batch_sizes=[1, 2, 4, 8], input_size=(3, 8, 8), time_budget_s=60)
    assert sweep.stopped_by == "out_of_memory"
    assert [r.batch_size for r in sweep.results] == [1, 2]
    assert sweep.message.startswith("batch size 4: out of memory on cpu")
    from explorer.build.guard import estimate_memory

    one = estimate_memory(analyze(TINY), 1).total_bytes
    two = estimate_memory(analyze(TINY), 2).total_bytes
    s = Settings(warmup=0, min_runs=1, min_seconds=0, budget=(one + two) / 2)
    sweep = throughput_sweep(TINY, s, batch_sizes=[1, 2, 4], time_budget_s=60)
    assert sweep.stopped_by == "memory_budget" and [r.batch_size for r in sweep.results] == [1]
    assert sweep.message.startswith("stopped before batch size 2: ")


def test_sweep_rejects_bad_input() -> None:
    for bad in ([], [1, "2"], [0], 8):
        with pytest.raises(SpecError, match="^batch_sizes"):
            throughput_sweep(TINY, batch_sizes=bad)
    with pytest.raises(SpecError, match="^time_budget_s: "):
        throughput_sweep(TINY, time_budget_s=0)


def test_roofs_are_cached_and_feed_the_roofline() -> None:
    s = Settings(threads=1)
    peak, bandwidth = peak_macs_per_second(s), bandwidth_bytes_per_second(s)
    assert peak > 0 and bandwidth > 0
    assert peak_macs_per_second(s) == peak and bandwidth_bytes_per_second(s) == bandwidth  # cached
    r = measure_latency(TINY, FAST.edit(threads=1))
    macs = analyze(TINY).macs
    roof = roofline(r, macs)
    assert roof["achieved_macs_per_s"] == pytest.approx(r.macs_per_second(macs))
    assert roof["peak_macs_per_s"] == peak
    assert roof["percent_of_peak"] == pytest.approx(100 * roof["achieved_macs_per_s"] / peak)
    assert attainable(1e-3, peak, bandwidth) == pytest.approx(1e-3 * bandwidth)  # memory-bound
    assert attainable(1e9, peak, bandwidth) == peak  # compute-bound


# --- accelerators: run only where present --------------------------------------------------
@pytest.mark.cuda
@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU")
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_cuda_measurement(dtype: str) -> None:
    info = next(d for d in available_devices() if d.name == "cuda:0")
    if dtype not in info.dtypes:
        pytest.skip(f"{dtype} not supported on {info.model}")
    benchmark = torch.backends.cudnn.benchmark
    s = FAST.edit(device="cuda", dtype=dtype, batch_size=4, channels_last=True)
    r = measure_latency(TINY, s)
    _check_consistent(r)
    assert (r.device, r.device_name, r.dtype) == ("cuda:0", torch.cuda.get_device_name(0), dtype)
    assert torch.backends.cudnn.benchmark == benchmark
    rs = measure_interleaved([TINY, TINY2], s)
    assert [r.name for r in rs] == ["tiny", "tiny2"]
    assert peak_macs_per_second(s) > 0 and bandwidth_bytes_per_second(s) > 0


@pytest.mark.cuda
@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU")
def test_cuda_out_of_memory_is_an_error_and_frees_memory() -> None:
    measure_latency(TINY, FAST.edit(device="cuda"))  # cuBLAS/cuDNN keep small workspaces after their first use
    torch.cuda.empty_cache()
    before = torch.cuda.memory_allocated(0)
    free, _ = torch.cuda.mem_get_info(0)
    batch = int(free // (512 * 2048 * 2048 * 4)) + 2  # one 512×2048×2048 float32 map is 8 GiB
    spec = ArchSpec(name="oom", block="basic", depths=(1,), widths=(512,), stem="cifar", stem_width=512,
                    num_classes=10, input_size=(3, 2048, 2048))
    s = FAST.edit(device="cuda", batch_size=batch, budget=math.inf)  # past the guard, into the device
    with pytest.raises(OutOfMemory, match="^out of memory on cuda:0") as e:
        measure_latency(spec, s)
    assert e.value.field is None and "\n" not in str(e.value)
    assert torch.cuda.memory_allocated(0) <= before + 64 * 2**20


@pytest.mark.skipif(not HAS_MPS, reason="needs Apple MPS")
def test_mps_measurement() -> None:
    r = measure_latency(TINY, FAST.edit(device="mps"))
    _check_consistent(r)
    assert r.device == "mps"


# --- the views' measurement policies ----------------------------------------------------------------------------
def test_each_views_policy_overrides_only_what_it_names() -> None:
    import dataclasses

    from explorer.measure.policies import (COMPARE_LATENCY, COMPARE_LAYER_TIMES, COMPARE_TRAIN_STEPS, FIG3_FORMS,
                                           POLICIES)

    user = Settings(device="cpu", threads=1, batch_size=4, min_runs=3, warmup=7, channels_last=True)
    assert len(POLICIES) == 9
    for policy in POLICIES.values():
        out = policy.apply(user)
        for f in dataclasses.fields(Settings):
            want = policy.overrides.get(f.name, getattr(user, f.name))
            assert getattr(out, f.name) == want, (policy.what, f.name)
    assert COMPARE_TRAIN_STEPS.apply(user, batch_size=8).batch_size == 8  # the view's own batch after the policy's
    assert FIG3_FORMS.apply(user).batch_size == 1 and COMPARE_LAYER_TIMES.apply(user).max_seconds == 60
    assert COMPARE_LATENCY.apply(user, max_seconds=12.5).max_seconds == 12.5


def test_a_policys_target_in_words_is_made_from_its_number() -> None:
    import dataclasses

    from explorer.measure.equivalence import FORMS_HALF_WIDTH
    from explorer.measure.latency import DEFAULT_HALF_WIDTH
    from explorer.measure.policies import COMPARE_LATENCY, COMPARE_LAYER_TIMES, FIG3_FORMS

    assert (COMPARE_LATENCY.half_width, FIG3_FORMS.half_width) == (DEFAULT_HALF_WIDTH, FORMS_HALF_WIDTH)
    assert (COMPARE_LATENCY.target(), FIG3_FORMS.target()) == ("within ±3%", "within ±5%")
    assert dataclasses.replace(COMPARE_LATENCY, half_width=0.1).target() == "within ±10%"
    with pytest.raises(ValueError):
        COMPARE_LAYER_TIMES.target()  # no interval target: it stops on its run counts and time limit
