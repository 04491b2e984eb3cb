"""Measured latency and throughput on CPU, CUDA and MPS, with an honest method.

Method (the same for every entry point):
- the model is put in eval mode and run under ``torch.inference_mode()`` on one fixed random input;
- warm-up first (``warmup`` runs; on CUDA ``cudnn.benchmark`` is on from the warm-up to the end, so
  the algorithm it picks during the warm-up is the one that is timed), then timed runs until both
  ``min_runs`` runs and ``min_seconds`` of timed work are reached: ``stopped_by="target"``;
- ``max_seconds`` bounds the warm-up plus the timed runs (building or copying the model comes first):
  the warm-up gives up after half of it, and no timed run starts that would likely end past it
  (``stopped_by="time_limit"``). At least one timed run is always made, so a single run longer than
  the bound still gives a (one-run) result;
- every run is timed alone: on CUDA with a pair of CUDA events and a synchronize after each run, on
  MPS with ``torch.mps.synchronize()`` around each run, on CPU with ``time.perf_counter``.

Units: times in milliseconds, throughput in images per second (``batch_size / median``), MACs per
image as in :mod:`explorer.analysis` (one multiply-add = one MAC; FLOPs = 2 × MACs).

dtypes: ``float32`` everywhere; ``bfloat16`` on CPU, on CUDA GPUs with native bfloat16 (compute
capability 8.0+) and on MPS where macOS supports it; ``float16`` on CUDA and MPS, and on a CPU only
when oneDNN reports native half-precision support. Elsewhere PyTorch runs float16 convolutions
through a reference path 30-50× slower than float32, which would make a misleading figure, so
``measure_latency`` refuses it with a :class:`LatencyError` instead.

Process-wide state: ``torch.set_num_threads`` (when ``threads`` is given) and
``torch.backends.cudnn.benchmark`` are changed for the measurement and restored afterwards.
Measurements hold a module lock, so two sessions of the app never time at the same time (they
would disturb each other) or race on that state.
"""

from __future__ import annotations

import copy
import gc
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import Any, TypeVar

import torch
from torch import nn

from .analysis import analyze
from .devices import _devices, dtypes_for, meminfo, resolve_device
from .model import build_model
from .spec import ArchSpec, SpecError, check_input_size

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
STOPPED_BY = ("target", "time_limit", "cancelled")
SWEEP_STOPPED_BY = ("done", "time_budget", "out_of_memory", "error", "cancelled")
DEFAULT_INPUT_SIZE = (3, 224, 224)  # for a bare nn.Module, which does not know its input size
MAX_BATCH = 65_536
MAX_RUNS = 100_000  # a hard cap, so a tiny model on a fast GPU cannot fill memory with timings
_PROGRESS_INTERVAL_S = 0.1  # progress callbacks (Streamlit widgets) are slow: at most 10 per second

Progress = Callable[[float, str], None]
ShouldStop = Callable[[], bool]
T = TypeVar("T")

_LOCK = threading.RLock()


class LatencyError(RuntimeError):
    """A measurement that cannot run: bad input (``field`` names it) or a device failure (``field`` is None)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class LatencyOOM(LatencyError):
    """The device ran out of memory; memory has been freed and a smaller batch may fit."""


class LatencyCancelled(LatencyError):
    """``should_stop`` asked to stop before every configuration had a timed run."""


def _resolve_device(device: str | torch.device) -> torch.device:
    """A present device to time on (not ``meta``: it has no data), or a ``LatencyError`` naming "device"."""
    try:
        dev = resolve_device(device)
    except SpecError as e:
        raise LatencyError(str(e), field="device") from None
    if dev.type == "meta":
        names = ", ".join(d.name for d in _devices())
        raise LatencyError(f"device: 'meta' holds no data and cannot be timed; available devices: {names}",
                           field="device")
    return dev


def _check_dtype(dtype: str, dev: torch.device) -> None:
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise LatencyError(f"dtype: must be one of {', '.join(DTYPES)}; got {dtype!r}", field="dtype")
    supported = dtypes_for(str(dev))
    if dtype in supported:
        return
    why = {
        ("cpu", "float16"): "this CPU has no native half precision, so PyTorch would use a reference path "
        "30-50x slower than float32 and the figure would mislead",
        ("cuda", "bfloat16"): "this GPU has no native bfloat16 (it needs compute capability 8.0 or newer)",
        ("mps", "bfloat16"): "bfloat16 on MPS needs macOS 14 or newer",
    }.get((dev.type, dtype), "the device cannot run it")
    raise LatencyError(f"dtype: {dtype} is not supported on {dev} ({why}); use {' or '.join(supported)}",
                       field="dtype")


def _device_name(dev: torch.device) -> str:
    return next((d.model for d in _devices() if d.name == str(dev)), str(dev))


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatencyResult:
    """The timing of one configuration. Times in ms; ``throughput`` in images/s.

    Attributes:
        name: the spec's name, or the module's class name.
        median_ms, p10_ms, p90_ms: percentiles of the per-run times (linear interpolation).
        iqr_ms: p75 - p25. mean_ms, std_ms: mean and sample standard deviation.
        runs: timed runs (``len(times_ms)``). warmup_runs: untimed runs before them.
        throughput: ``batch_size / (median_ms / 1000)``, images per second.
        device: the device string (``"cpu"``, ``"cuda:0"``, ``"mps"``); device_name: its model name.
        threads: ``torch.get_num_threads()`` during the measurement.
        stopped_by: ``"target"`` (min_runs and min_seconds reached), ``"time_limit"`` (max_seconds hit
            first) or ``"cancelled"`` (``should_stop`` returned True).
        total_seconds: wall time of warm-up plus timed runs (of every configuration, when interleaved).
        times_ms: every timed run, in order.
    """

    name: str
    median_ms: float
    p10_ms: float
    p90_ms: float
    iqr_ms: float
    mean_ms: float
    std_ms: float
    runs: int
    warmup_runs: int
    throughput: float
    device: str
    device_name: str
    threads: int
    dtype: str
    batch_size: int
    channels_last: bool
    input_size: tuple[int, int, int]
    stopped_by: str
    total_seconds: float
    times_ms: tuple[float, ...]

    def macs_per_second(self, macs: int) -> float:
        """Achieved multiply-adds per second at the median, given the MACs of ONE image (``Analysis.macs``)."""
        return macs * self.batch_size / (self.median_ms / 1000)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {**asdict(self), "input_size": list(self.input_size), "times_ms": list(self.times_ms)}


@dataclass(frozen=True)
class SweepResult:
    """A throughput-vs-batch-size sweep: one result per batch size measured, and why it ended.

    ``stopped_by``: ``"done"`` (every batch size measured), ``"time_budget"``, ``"out_of_memory"``,
    ``"error"`` (another device failure) or ``"cancelled"``; ``message`` says it in a sentence.
    """

    results: tuple[LatencyResult, ...]
    stopped_by: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"results": [r.to_dict() for r in self.results], "stopped_by": self.stopped_by,
                "message": self.message}


def _percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default); ``values`` sorted."""
    pos = (len(values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def _summarize(name: str, times_ms: list[float], s: _Settings, input_size: tuple[int, int, int],
               stopped_by: str, warmup_runs: int, total_s: float) -> LatencyResult:
    t = sorted(times_ms)
    mean = sum(t) / len(t)
    std = math.sqrt(sum((v - mean) ** 2 for v in t) / (len(t) - 1)) if len(t) > 1 else 0.0
    median = _percentile(t, 0.5)
    return LatencyResult(
        name=name, median_ms=median, p10_ms=_percentile(t, 0.1), p90_ms=_percentile(t, 0.9),
        iqr_ms=_percentile(t, 0.75) - _percentile(t, 0.25), mean_ms=mean, std_ms=std, runs=len(t),
        warmup_runs=warmup_runs, throughput=s.batch_size / (median / 1000) if median > 0 else math.inf,
        device=str(s.device),
        device_name=_device_name(s.device), threads=torch.get_num_threads(), dtype=s.dtype,
        batch_size=s.batch_size, channels_last=s.channels_last, input_size=input_size,
        stopped_by=stopped_by, total_seconds=total_s, times_ms=tuple(times_ms),
    )


# --- settings and preparation --------------------------------------------------------------


@dataclass(frozen=True)
class _Settings:
    device: torch.device
    dtype: str
    batch_size: int
    channels_last: bool
    threads: int | None
    warmup: int
    min_runs: int
    min_seconds: float
    max_seconds: float


def _check_number(value: Any, name: str, low: float, high: float, integer: bool) -> None:
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type or not (low <= value <= high):
        kind = "an integer" if integer else "a number"
        raise LatencyError(f"{name}: must be {kind} between {low:g} and {high:g}; got {value!r}", field=name)


def _settings(device: Any, dtype: Any, batch_size: Any, channels_last: Any, threads: Any, warmup: Any,
              min_runs: Any, min_seconds: Any, max_seconds: Any) -> _Settings:
    dev = _resolve_device(device)
    _check_dtype(dtype, dev)
    _check_number(batch_size, "batch_size", 1, MAX_BATCH, True)
    if not isinstance(channels_last, bool):
        raise LatencyError(f"channels_last: must be True or False; got {channels_last!r}", field="channels_last")
    if threads is not None:
        _check_number(threads, "threads", 1, 1024, True)
    _check_number(warmup, "warmup", 0, 10_000, True)
    _check_number(min_runs, "min_runs", 1, MAX_RUNS, True)
    _check_number(min_seconds, "min_seconds", 0, 86_400, False)
    _check_number(max_seconds, "max_seconds", 1e-3, 86_400, False)
    return _Settings(dev, dtype, batch_size, channels_last, threads, warmup, min_runs, float(min_seconds),
                     float(max_seconds))


@dataclass
class _Config:
    """One model ready to time; ``restore`` undoes ``eval()`` on a caller's model."""

    name: str
    model: nn.Module
    input_size: tuple[int, int, int]
    spec: ArchSpec | None
    restore: Callable[[], None]


def _input_size(obj: ArchSpec | nn.Module, input_size: Any) -> tuple[int, int, int]:
    try:
        if isinstance(obj, ArchSpec):
            return analyze(obj, input_size).input_size  # also checks channels and that it is large enough
        return DEFAULT_INPUT_SIZE if input_size is None else check_input_size(input_size)
    except SpecError as e:
        raise LatencyError(str(e), field="input_size") from None


def _prepare(obj: ArchSpec | nn.Module, s: _Settings, input_size: Any) -> _Config:
    """Build a spec on the device, or use a module (copied only if it must be moved or converted)."""
    dt = DTYPES[s.dtype]
    fmt = torch.channels_last if s.channels_last else torch.contiguous_format
    size = _input_size(obj, input_size)
    if isinstance(obj, ArchSpec):
        model = build_model(obj, s.device).to(dtype=dt, memory_format=fmt).eval()
        return _Config(obj.name, model, size, obj, lambda: None)
    tensors = [*obj.parameters(), *obj.buffers()]
    if any(t.device != s.device or (t.is_floating_point() and t.dtype != dt) for t in tensors) or (
        s.channels_last and any(t.dim() == 4 and not t.is_contiguous(memory_format=fmt) for t in tensors)
    ):
        # Never convert the caller's module in place: the app caches its models.
        model = copy.deepcopy(obj).to(device=s.device, dtype=dt, memory_format=fmt).eval()
        return _Config(type(obj).__name__, model, size, None, lambda: None)
    modes = {m: m.training for m in obj.modules()}

    def restore() -> None:
        for m, training in modes.items():
            m.training = training

    obj.eval()
    return _Config(type(obj).__name__, obj, size, None, restore)


def _make_input(c: _Config, s: _Settings) -> torch.Tensor:
    x = torch.randn(s.batch_size, *c.input_size, device=s.device, dtype=DTYPES[s.dtype])
    return x.contiguous(memory_format=torch.channels_last) if s.channels_last else x


def _check_host_memory(c: _Config, s: _Settings) -> None:
    """Refuse a CPU batch that would not fit in RAM: Linux kills the process instead of raising."""
    available = meminfo("MemAvailable")
    if s.device.type != "cpu" or c.spec is None or available is None:
        return
    a = analyze(c.spec, c.input_size)
    # A bottleneck keeps its input, up to three intermediates and oneDNN's reordered copies alive.
    peak_elems = 4 * max(math.prod(r.out_shape) for r in a.layers) * s.batch_size + a.params
    need = peak_elems * DTYPES[s.dtype].itemsize
    if need > 0.8 * available:
        raise LatencyOOM(f"out of memory on cpu: batch size {s.batch_size} needs about {need / 2**30:.1f} GiB, "
                         f"{available / 2**30:.1f} GiB is available; try a smaller batch size")


# --- failures ------------------------------------------------------------------------------


def _guarded(s: _Settings, fn: Callable[[], T]) -> T:
    """Run ``fn``; turn device failures into ``LatencyError`` after freeing what ``fn`` allocated."""
    failure: LatencyError | None = None
    try:
        return fn()
    except LatencyError:
        raise
    except (RuntimeError, NotImplementedError, MemoryError) as e:
        failure = _classify(e, s)
    # Outside the except block the traceback, and with it fn's tensors, is gone; now memory can go back.
    _free_memory(s.device)
    raise failure


def _classify(e: BaseException, s: _Settings) -> LatencyError:
    text = str(e).strip()
    first = text.splitlines()[0][:200] if text else type(e).__name__
    where = f"{s.device} at batch size {s.batch_size} ({s.dtype})"
    low = text.lower()
    if isinstance(e, (torch.OutOfMemoryError, MemoryError)) or "out of memory" in low or "can't allocate" in low:
        return LatencyOOM(f"out of memory on {where}; try a smaller batch size")
    return LatencyError(f"{s.device} failed to run the model at batch size {s.batch_size} ({s.dtype}): {first}")


def _free_memory(dev: torch.device) -> None:
    gc.collect()
    if dev.type == "cuda":
        torch.cuda.empty_cache()
    elif dev.type == "mps":
        torch.mps.empty_cache()


# --- timing --------------------------------------------------------------------------------


class _Clock:
    """Times one forward pass on a device, waiting for the device to finish."""

    def __init__(self, dev: torch.device) -> None:
        self.dev = dev
        if dev.type == "cuda":
            self.start = torch.cuda.Event(enable_timing=True)
            self.end = torch.cuda.Event(enable_timing=True)

    def sync(self) -> None:
        if self.dev.type == "cuda":
            torch.cuda.synchronize(self.dev)
        elif self.dev.type == "mps":
            torch.mps.synchronize()

    def time(self, fn: Callable[[], Any]) -> float:
        """Seconds one call of ``fn`` takes on the device."""
        if self.dev.type == "cuda":
            self.start.record()
            fn()
            self.end.record()
            self.end.synchronize()
            return self.start.elapsed_time(self.end) / 1000
        self.sync()
        t0 = time.perf_counter()
        fn()
        self.sync()
        return time.perf_counter() - t0


@contextmanager
def _torch_state(s: _Settings) -> Iterator[None]:
    """Threads, cudnn.benchmark, current CUDA device and inference mode for the measurement, then restore."""
    prev_threads = torch.get_num_threads()
    prev_benchmark = torch.backends.cudnn.benchmark
    try:
        if s.threads is not None:
            torch.set_num_threads(s.threads)
        if s.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # on from warm-up to the end (see the module docstring)
            with torch.cuda.device(s.device), torch.inference_mode():
                yield
        else:
            with torch.inference_mode():
                yield
    finally:
        torch.set_num_threads(prev_threads)
        torch.backends.cudnn.benchmark = prev_benchmark


class _Reporter:
    """Calls ``progress(fraction, text)`` at most every 0.1 s, with a fraction that never decreases."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.last = -math.inf
        self.fraction = 0.0

    def __call__(self, fraction: float, text: str, force: bool = False) -> None:
        now = time.perf_counter()
        self.fraction = min(1.0, max(self.fraction, fraction))  # a progress bar never goes back
        if self.progress is not None and (force or now - self.last >= _PROGRESS_INTERVAL_S):
            self.last = now
            self.progress(self.fraction, text)


def _time_configs(configs: list[_Config], s: _Settings, progress: Progress | None,
                  should_stop: ShouldStop | None) -> list[LatencyResult]:
    """Warm up every config, then time them in rounds A B A B … until the target or the time limit."""
    start = time.perf_counter()
    for c in configs:
        _check_host_memory(c, s)
    xs = [_make_input(c, s) for c in configs]
    calls = [(lambda m=c.model, x=x: m(x)) for c, x in zip(configs, xs, strict=True)]
    clock = _Clock(s.device)
    report = _Reporter(progress)

    def stop_requested() -> bool:
        return should_stop is not None and bool(should_stop())

    report(0.0, "warming up", force=True)
    warm = 0
    while warm < s.warmup:
        for call in calls:
            call()
            clock.sync()
            if stop_requested():
                raise LatencyCancelled("measurement cancelled during warm-up")
        warm += 1
        elapsed = time.perf_counter() - start
        report(elapsed / s.max_seconds, f"warming up: run {warm}/{s.warmup}")
        if elapsed >= s.max_seconds / 2:
            break
    clock.sync()

    times: list[list[float]] = [[] for _ in configs]
    timed = [0.0] * len(configs)
    stopped_by = ""
    while not stopped_by:
        round_start = time.perf_counter()
        for k, call in enumerate(calls):
            t = clock.time(call)
            times[k].append(t * 1000)
            timed[k] += t
            if stop_requested():
                stopped_by = "cancelled"
                break
        if stopped_by:
            break
        now = time.perf_counter()
        n = len(times[-1])
        target = min(n / s.min_runs, min(timed) / s.min_seconds if s.min_seconds > 0 else 1.0)
        if target >= 1 or n >= MAX_RUNS:
            stopped_by = "target"
        elif now + (now - round_start) > start + s.max_seconds:
            stopped_by = "time_limit"
        report(max(target, (now - start) / s.max_seconds), f"timing: {n} runs, {sum(timed):.1f} s")
    if any(not t for t in times):
        raise LatencyCancelled("measurement cancelled before every configuration had a timed run")
    report(1.0, f"done: {len(times[0])} runs ({stopped_by})", force=True)
    total = time.perf_counter() - start
    return [_summarize(c.name, t, s, c.input_size, stopped_by, warm, total)
            for c, t in zip(configs, times, strict=True)]


# --- public entry points -------------------------------------------------------------------


def measure_latency(
    spec_or_model: ArchSpec | nn.Module,
    *,
    device: str | torch.device = "cpu",
    batch_size: int = 1,
    dtype: str = "float32",
    channels_last: bool = False,
    threads: int | None = None,
    input_size: Sequence[int] | None = None,
    warmup: int = 3,
    min_runs: int = 10,
    min_seconds: float = 1.0,
    max_seconds: float = 10.0,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> LatencyResult:
    """Measure the forward-pass latency of one model (the method is in the module docstring).

    The defaults time a ResNet-50 at batch 1 on a 2-core CPU in about 2-4 s, warm-up included.

    Args:
        spec_or_model: an ``ArchSpec`` (built on the device) or an ``nn.Module`` (used as is when it is
            already on the device in the dtype; otherwise a converted copy is timed, never the original).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``; see :func:`explorer.devices.available_devices`.
        batch_size: images per forward pass.
        dtype: ``"float32"``, ``"float16"`` or ``"bfloat16"`` (weights and input).
        channels_last: NHWC memory format for the weights and the input.
        threads: ``torch.set_num_threads`` for the measurement (restored afterwards); None keeps it.
        input_size: ``(channels, height, width)``; default the spec's, or 3×224×224 for a module.
        warmup: untimed runs first.
        min_runs: the target's number of timed runs.
        min_seconds: the target's timed seconds; timing stops once both are reached.
        max_seconds: bound on warm-up plus timed runs (the model build comes before it).
        progress: called as ``progress(fraction, text)``, at most ten times a second.
        should_stop: polled after every run; returning True stops with ``stopped_by="cancelled"``.

    Raises:
        LatencyError: bad input (``.field`` names it) or a device failure (``.field`` is None).
        LatencyOOM: out of memory (memory has been freed).
        LatencyCancelled: stopped before any timed run.
    """
    return measure_interleaved(
        [spec_or_model], device=device, batch_size=batch_size, dtype=dtype, channels_last=channels_last,
        threads=threads, input_size=input_size, warmup=warmup, min_runs=min_runs, min_seconds=min_seconds,
        max_seconds=max_seconds, progress=progress, should_stop=should_stop,
    )[0]


def measure_interleaved(
    models_or_specs: Sequence[ArchSpec | nn.Module],
    *,
    device: str | torch.device = "cpu",
    batch_size: int = 1,
    dtype: str = "float32",
    channels_last: bool = False,
    threads: int | None = None,
    input_size: Sequence[int] | None = None,
    warmup: int = 3,
    min_runs: int = 10,
    min_seconds: float = 1.0,
    max_seconds: float = 30.0,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> list[LatencyResult]:
    """Time several models on one device in rounds A B C A B C …, so slow drift hits all alike.

    Arguments as :func:`measure_latency`; ``min_runs`` and ``min_seconds`` apply to each model,
    ``max_seconds`` to the whole measurement. ``input_size`` overrides every model's (default: each spec's own).
    All models are resident on the device at once.

    Returns:
        One ``LatencyResult`` per model, in order, with equal ``runs`` (unless cancelled mid-round).
    """
    if isinstance(models_or_specs, (ArchSpec, nn.Module)) or not models_or_specs:
        raise LatencyError("models_or_specs: must be a non-empty list of specs or modules", field="models_or_specs")
    for i, obj in enumerate(models_or_specs):
        if not isinstance(obj, (ArchSpec, nn.Module)):
            raise LatencyError(f"models_or_specs[{i}]: must be an ArchSpec or a torch.nn.Module; got "
                               f"{type(obj).__name__}", field="models_or_specs")
    s = _settings(device, dtype, batch_size, channels_last, threads, warmup, min_runs, min_seconds, max_seconds)
    with _LOCK, _torch_state(s):
        return _guarded(s, lambda: _measure(models_or_specs, s, input_size, progress, should_stop))


def _measure(objs: Sequence[ArchSpec | nn.Module], s: _Settings, input_size: Any, progress: Progress | None,
             should_stop: ShouldStop | None) -> list[LatencyResult]:
    configs: list[_Config] = []
    if progress is not None:
        progress(0.0, "preparing the model" if len(objs) == 1 else "preparing the models")
    try:
        for obj in objs:
            configs.append(_prepare(obj, s, input_size))
        return _time_configs(configs, s, progress, should_stop)
    finally:
        for c in configs:
            c.restore()


def throughput_sweep(
    spec_or_model: ArchSpec | nn.Module,
    batch_sizes: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128, 256),
    *,
    device: str | torch.device = "cpu",
    time_budget_s: float = 30.0,
    dtype: str = "float32",
    channels_last: bool = False,
    threads: int | None = None,
    input_size: Sequence[int] | None = None,
    warmup: int = 2,
    min_runs: int = 5,
    min_seconds: float = 0.5,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> SweepResult:
    """Throughput at increasing batch sizes, stopping cleanly at out-of-memory or at the time budget.

    The model is built (or converted) once. Before each batch size the time it will likely take is
    estimated from the previous one; if the budget cannot cover it, the sweep stops there. Device
    failures end the sweep with the results so far (never an exception); bad input still raises.

    Args:
        batch_sizes: measured in increasing order (duplicates dropped).
        time_budget_s: bound on the whole sweep, in seconds.
        progress: ``progress(fraction, text)`` over the whole sweep.
        Others: as :func:`measure_latency`, per batch size.
    """
    if not isinstance(batch_sizes, (list, tuple, range)) or not batch_sizes:
        raise LatencyError("batch_sizes: must be a non-empty list of integers", field="batch_sizes")
    for b in batch_sizes:
        _check_number(b, "batch_sizes", 1, MAX_BATCH, True)
    sizes = sorted(set(batch_sizes))
    _check_number(time_budget_s, "time_budget_s", 1e-3, 86_400, False)
    if not isinstance(spec_or_model, (ArchSpec, nn.Module)):
        raise LatencyError(f"spec_or_model: must be an ArchSpec or a torch.nn.Module; got "
                           f"{type(spec_or_model).__name__}", field="spec_or_model")
    s = _settings(device, dtype, sizes[0], channels_last, threads, warmup, min_runs, min_seconds, time_budget_s)
    deadline = time.perf_counter() + time_budget_s
    results: list[LatencyResult] = []
    with _LOCK, _torch_state(s):
        try:
            config = _guarded(s, lambda: _prepare(spec_or_model, s, input_size))
        except LatencyError as e:
            if e.field is not None:
                raise
            return SweepResult((), "out_of_memory" if isinstance(e, LatencyOOM) else "error", str(e))
        try:
            for i, b in enumerate(sizes):
                left = deadline - time.perf_counter()
                if results:
                    prev = results[-1]
                    estimate = prev.median_ms / 1000 * b / prev.batch_size * (warmup + min_runs)
                    if estimate > left:
                        return SweepResult(tuple(results), "time_budget",
                                           f"stopped before batch size {b}: it needs about {estimate:.1f} s and "
                                           f"{max(left, 0):.1f} s of the {time_budget_s:g} s budget is left")

                def fraction(f: float, text: str, i: int = i, b: int = b) -> None:
                    if progress is not None:
                        progress((i + f) / len(sizes), f"batch size {b}: {text}")

                sb = replace(s, batch_size=b, max_seconds=max(left, 1e-3))
                try:
                    r = _guarded(sb, lambda sb=sb, f=fraction: _time_configs([config], sb, f, should_stop)[0])
                except LatencyCancelled:
                    return SweepResult(tuple(results), "cancelled", f"cancelled at batch size {b}")
                except LatencyOOM as e:
                    return SweepResult(tuple(results), "out_of_memory", f"batch size {b}: {e}")
                except LatencyError as e:
                    return SweepResult(tuple(results), "error", f"batch size {b}: {e}")
                results.append(r)
                if r.stopped_by == "cancelled":
                    return SweepResult(tuple(results), "cancelled", f"cancelled at batch size {b}")
                if r.stopped_by == "time_limit":
                    return SweepResult(tuple(results), "time_budget",
                                       f"the {time_budget_s:g} s budget ran out at batch size {b} "
                                       f"({r.runs} runs there)")
        finally:
            config.restore()
    return SweepResult(tuple(results), "done", f"measured all {len(sizes)} batch sizes")


# --- peak throughput (roofline) --------------------------------------------------------------


def peak_macs_per_second(device: str | torch.device = "cpu", dtype: str = "float32",
                         threads: int | None = None, refresh: bool = False) -> float:
    """The device's attainable multiply-adds per second: the best of a few large square matmuls.

    Run once per (device, dtype, threads) and cached. Square sizes grow until one matmul takes long
    enough to be timed reliably; the probe takes well under a second on a CPU, about two on a GPU.
    On CUDA in float32 the matmul uses TF32 exactly when cuDNN convolutions do
    (``torch.backends.cudnn.allow_tf32``), so the peak matches the math the model runs in.

    A convolution can exceed this "peak" (Winograd and FFT convolutions do fewer multiplies than
    their nominal MACs), and a probe disturbed by other processes reads low; ``refresh`` probes again.

    Args:
        threads: CPU threads for the probe; None uses the current ``torch.get_num_threads()``.
        refresh: forget every cached probe and measure again.

    Returns:
        MAC/s (one n×n by n×n matmul = n³ MACs).
    """
    dev = _resolve_device(device)
    _check_dtype(dtype, dev)
    if threads is not None:
        _check_number(threads, "threads", 1, 1024, True)
    if refresh:
        _peak.cache_clear()
    return _peak(str(dev), dtype, threads or torch.get_num_threads())


def roofline(result: LatencyResult, macs: int) -> dict[str, float]:
    """Achieved MAC/s of a measurement and its share of the device's peak (for a roofline view).

    Args:
        result: a measurement.
        macs: multiply-adds for ONE image at ``result.input_size`` (``analyze(spec, input_size).macs``).

    Returns:
        ``achieved_macs_per_s``, ``peak_macs_per_s`` and ``percent_of_peak``.
    """
    achieved = result.macs_per_second(macs)
    peak = peak_macs_per_second(result.device, result.dtype, threads=result.threads)
    return {"achieved_macs_per_s": achieved, "peak_macs_per_s": peak, "percent_of_peak": 100 * achieved / peak}


@lru_cache(maxsize=None)
def _peak(device: str, dtype: str, threads: int) -> float:
    dev, dt = torch.device(device), DTYPES[dtype]
    s = _Settings(dev, dtype, 1, False, threads, 0, 1, 0.0, 1.0)
    sizes = (256, 512, 1024, 2048, 4096) if dev.type == "cpu" else (1024, 2048, 4096, 8192, 16384)
    budget = 0.8 if dev.type == "cpu" else 2.0
    with _LOCK, _torch_state(s), _matmul_precision(dev, dtype):
        return _guarded(s, lambda: _probe(dev, dt, sizes, budget))


def _probe(dev: torch.device, dt: torch.dtype, sizes: Sequence[int], budget: float) -> float:
    clock = _Clock(dev)
    start = time.perf_counter()
    best = 0.0
    for n in sizes:
        a = torch.randn(n, n, device=dev, dtype=dt)
        b = torch.randn(n, n, device=dev, dtype=dt)
        def matmul(a: torch.Tensor = a, b: torch.Tensor = b) -> torch.Tensor:
            return a @ b

        t = clock.time(matmul)  # the first call also warms the library up
        for _ in range(3):
            if time.perf_counter() - start + t > budget:
                break
            t = min(t, clock.time(matmul))
        best = max(best, n**3 / t)
        # The next size costs 8x as much per run (two runs at least); stop once one run is long enough
        # to time reliably or the next size would overflow the budget.
        if t > 0.05 or time.perf_counter() - start + 8 * t * 2 > budget:
            break
    return best


@contextmanager
def _matmul_precision(dev: torch.device, dtype: str) -> Iterator[None]:
    prev = torch.get_float32_matmul_precision()
    try:
        if dev.type == "cuda" and dtype == "float32":
            torch.set_float32_matmul_precision("high" if torch.backends.cudnn.allow_tf32 else "highest")
        yield
    finally:
        torch.set_float32_matmul_precision(prev)
