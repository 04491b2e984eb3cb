"""How this project times things: one validated ``Settings`` object, a device clock, and the timing loop.

Method (the same for every measurement: whole networks, sweeps, per-layer profiles, training steps):

- one fixed random input; warm-up first (``warmup`` runs; on CUDA ``cudnn.benchmark`` is on from the
  warm-up to the end, so the algorithm it picks during the warm-up is the one that is timed), then timed
  runs until both ``min_runs`` runs and ``min_seconds`` of timed work are reached: ``stopped_by="target"``;
- ``max_seconds`` bounds the warm-up plus the timed runs: the warm-up gives up after half of it, and no
  timed run starts that would likely end past it (``stopped_by="time_limit"``). At least one timed run is
  always made, so a single run longer than the bound still gives a (one-run) result;
- every run is timed alone: on CUDA with a pair of CUDA events and a synchronize after each run, on MPS
  with ``torch.mps.synchronize()`` around each run, on CPU with ``time.perf_counter``;
- several configurations are timed in rounds (A B C A B C …), so slow drift hits them alike.

Units: milliseconds; throughput in images per second (``batch_size / median``).

dtypes: ``float32`` everywhere; ``bfloat16`` on CPU, on CUDA GPUs with native bfloat16 (compute capability
8.0+) and on MPS where macOS supports it; ``float16`` on CUDA and MPS, and on a CPU only when oneDNN
reports native half precision. Elsewhere PyTorch runs float16 convolutions through a reference path 30-50×
slower than float32, which would make a misleading figure, so ``Settings`` refuses it.

Process-wide state: ``torch.set_num_threads`` (when ``threads`` is given) and ``cudnn.benchmark`` are changed
for a measurement and restored afterwards. Measurements hold ``LOCK``, so two sessions of the app never
time at the same time (they would disturb each other) or race on that state.
"""

from __future__ import annotations

import gc
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import Any, TypeVar

import torch

from ..build.devices import check_dtype, device_model, resolve_device
from ..core.errors import Cancelled, DeviceError, OutOfMemory, SpecError
from ..core.run_fields import DTYPE_NAMES, MAX_BATCH, MAX_RUNS, SETTINGS_FIELDS

DTYPES: dict[str, torch.dtype] = {name: getattr(torch, name) for name in DTYPE_NAMES}
STOPPED_BY = ("target", "time_limit", "cancelled")
_PROGRESS_INTERVAL_S = 0.1  # progress callbacks (Streamlit widgets) are slow: at most 10 per second


Progress = Callable[[float, str], None]
ShouldStop = Callable[[], bool]
T = TypeVar("T")
LOCK = threading.RLock()


@dataclass(frozen=True)
class Settings:
    """Where and how to time: validated on construction (a ``SpecError`` names the field).

    ``device`` is stored resolved (``"cuda"`` → ``"cuda:0"``); ``threads=None`` keeps torch's current count;
    ``budget`` overrides the memory budget in bytes (``math.inf`` skips the check; see ``explorer.build.guard``).
    """

    device: str = "cpu"
    dtype: str = "float32"
    batch_size: int = 1
    channels_last: bool = False
    threads: int | None = None
    warmup: int = 3
    min_runs: int = 10
    min_seconds: float = 1.0
    max_seconds: float = 10.0
    budget: float | None = None

    def __post_init__(self) -> None:
        f = SETTINGS_FIELDS
        dev = _timeable(self.device)
        object.__setattr__(self, "device", str(dev))
        f["dtype"].check(self.dtype)
        check_dtype(self.dtype, dev)
        for key in ("batch_size", "channels_last", "warmup", "min_runs", "min_seconds", "max_seconds"):
            f[key].check(getattr(self, key))
        if self.threads is not None:
            f["threads"].check(self.threads)
        if self.budget is not None and (isinstance(self.budget, bool) or not isinstance(self.budget, (int, float))
                                        or not self.budget >= 0):  # NaN too: it would turn the guard off
            raise SpecError("budget", f"must be a number of bytes (or math.inf), got {self.budget!r}")

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    def edit(self, **changes: Any) -> Settings:
        """A validated changed copy."""
        return replace(self, **changes)

    def where(self) -> str:
        """'cpu (AMD EPYC …), float32, batch 8, 1 thread' — the conditions a figure was measured under."""
        threads = f", {torch.get_num_threads() if self.threads is None else self.threads} thread(s)" \
            if self.device == "cpu" else ""
        return f"{self.device} ({device_model(self.device)}), {self.dtype}, batch {self.batch_size}{threads}"


def _timeable(device: Any) -> torch.device:
    """A present device that can be timed (not ``meta``: it holds no data)."""
    dev = resolve_device(device)
    if dev.type == "meta":
        raise SpecError("device", "'meta' holds no data and cannot be timed; use cpu or a GPU")
    return dev




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
            first) or ``"cancelled"`` (``should_stop`` returned True; the runs so far are kept).
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


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default); ``values`` sorted."""
    pos = (len(values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def summarize(name: str, times_ms: Sequence[float], s: Settings, input_size: tuple[int, int, int],
              stopped_by: str, warmup_runs: int, total_s: float) -> LatencyResult:
    """A ``LatencyResult`` from the raw per-run times."""
    t = sorted(times_ms)
    mean = sum(t) / len(t)
    std = math.sqrt(sum((v - mean) ** 2 for v in t) / (len(t) - 1)) if len(t) > 1 else 0.0
    median = percentile(t, 0.5)
    return LatencyResult(
        name=name, median_ms=median, p10_ms=percentile(t, 0.1), p90_ms=percentile(t, 0.9),
        iqr_ms=percentile(t, 0.75) - percentile(t, 0.25), mean_ms=mean, std_ms=std, runs=len(t),
        warmup_runs=warmup_runs, throughput=s.batch_size / (median / 1000) if median > 0 else math.inf,
        device=s.device, device_name=device_model(s.device), threads=torch.get_num_threads(), dtype=s.dtype,
        batch_size=s.batch_size, channels_last=s.channels_last, input_size=tuple(input_size),
        stopped_by=stopped_by, total_seconds=total_s, times_ms=tuple(times_ms),
    )


# --- failures ------------------------------------------------------------------------------
def guarded(s: Settings, fn: Callable[[], T]) -> T:
    """Run ``fn``; turn device failures into ``DeviceError`` after freeing what ``fn`` allocated."""
    failure: DeviceError | None = None
    try:
        return fn()
    except (RuntimeError, NotImplementedError, MemoryError) as e:
        if isinstance(e, DeviceError):
            raise
        failure = _classify(e, s)
    # Outside the except block the traceback, and with it fn's tensors, is gone; now memory can go back.
    free_memory(s.torch_device)
    raise failure


def _classify(e: BaseException, s: Settings) -> DeviceError:
    text = str(e).strip()
    first = text.splitlines()[0][:200] if text else type(e).__name__
    where = f"{s.device} at batch size {s.batch_size} ({s.dtype})"
    low = text.lower()
    if isinstance(e, (torch.OutOfMemoryError, MemoryError)) or "out of memory" in low or "can't allocate" in low:
        return OutOfMemory(f"out of memory on {where}; try a smaller batch size")
    return DeviceError(f"{s.device} failed to run the model at batch size {s.batch_size} ({s.dtype}): {first}")


def free_memory(dev: torch.device) -> None:
    gc.collect()
    if dev.type == "cuda":
        torch.cuda.empty_cache()
    elif dev.type == "mps":
        torch.mps.empty_cache()


# --- the clock and the loop ----------------------------------------------------------------
class Clock:
    """Times one call on a device, waiting for the device to finish."""

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
def torch_state(s: Settings, *, inference: bool = True) -> Iterator[None]:
    """Threads, cudnn.benchmark, the current CUDA device and (by default) inference mode; restored after."""
    prev_threads = torch.get_num_threads()
    prev_benchmark = torch.backends.cudnn.benchmark
    mode = torch.inference_mode() if inference else torch.enable_grad()
    try:
        if s.threads is not None:
            torch.set_num_threads(s.threads)
        if s.torch_device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # on from warm-up to the end (see the module docstring)
            with torch.cuda.device(s.torch_device), mode:
                yield
        else:
            with mode:
                yield
    finally:
        torch.set_num_threads(prev_threads)
        torch.backends.cudnn.benchmark = prev_benchmark


class Reporter:
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


@dataclass(frozen=True)
class Timings:
    """Raw output of :func:`time_calls`: per-call lists of seconds, in round order."""

    seconds: tuple[tuple[float, ...], ...]
    warmup_runs: int
    stopped_by: str
    total_seconds: float


def time_calls(calls: Sequence[Callable[[], Any]], s: Settings, progress: Progress | None = None,
               should_stop: ShouldStop | None = None, *, done: Callable[[list[list[float]]], bool] | None = None,
               clock: Clock | None = None) -> Timings:
    """Warm up every call, then time them in rounds A B A B … until the target or the time limit.

    ``done`` can end the timing early once it returns True for the times so far (after ``min_runs``):
    a comparison stops once its confidence interval is narrow enough. ``should_stop`` ends it with the
    runs so far (``stopped_by="cancelled"``); with no complete round yet it raises ``Cancelled``.
    """
    start = time.perf_counter()
    clock = clock or Clock(s.torch_device)
    report = Reporter(progress)

    def stop_requested() -> bool:
        return should_stop is not None and bool(should_stop())

    report(0.0, "warming up", force=True)
    warm = 0
    while warm < s.warmup:
        for call in calls:
            call()
            clock.sync()
            if stop_requested():
                raise Cancelled("measurement cancelled during warm-up")
        warm += 1
        elapsed = time.perf_counter() - start
        report(elapsed / s.max_seconds, f"warming up: run {warm}/{s.warmup}")
        if elapsed >= s.max_seconds / 2:
            break
    clock.sync()

    times: list[list[float]] = [[] for _ in calls]
    stopped_by = ""
    while not stopped_by:
        round_start = time.perf_counter()
        for k, call in enumerate(calls):
            times[k].append(clock.time(call))
            if stop_requested():
                stopped_by = "cancelled"
                break
        if stopped_by:
            break
        now = time.perf_counter()
        n = len(times[-1])
        timed = min(sum(t) for t in times)
        target = min(n / s.min_runs, timed / s.min_seconds if s.min_seconds > 0 else 1.0)
        if (target >= 1 and done is None) or n >= MAX_RUNS or (n >= s.min_runs and done is not None and done(times)):
            stopped_by = "target"
        elif now + (now - round_start) > start + s.max_seconds:
            stopped_by = "time_limit"
        time_share = (now - start) / s.max_seconds
        report(time_share if done is not None else max(target, time_share), f"timing: {n} runs")
    n = min(len(t) for t in times)
    if n == 0:
        raise Cancelled("measurement cancelled before every configuration had a timed run")
    report(1.0, f"done: {n} runs ({stopped_by.replace('_', ' ')})", force=True)
    return Timings(tuple(tuple(t[:n]) for t in times), warm, stopped_by, time.perf_counter() - start)


__all__ = [
    "DTYPES", "LOCK", "MAX_BATCH", "SETTINGS_FIELDS", "Clock", "LatencyResult", "Reporter", "Settings", "Timings",
    "free_memory", "guarded", "percentile", "summarize", "time_calls", "torch_state",
]
