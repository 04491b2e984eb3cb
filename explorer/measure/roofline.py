"""The device's two roofs — matmul peak (MAC/s) and memory bandwidth (bytes/s) — and where a figure sits under them.

A roofline says what a layer *could* reach: ``min(peak, intensity × bandwidth)``, where the arithmetic
intensity is its multiply-adds per byte moved. A layer far below its roof runs inefficiently for reasons
the counts cannot see (small kernels, launch overhead, grouped convolutions' poor data reuse).

Both probes run once per (device, dtype, threads) and are cached; ``refresh`` measures again. A probe
disturbed by other processes reads low, and a convolution can exceed the matmul "peak" (Winograd and FFT
convolutions do fewer multiplies than their nominal MACs).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache

import torch

from .timing import LOCK, Clock, LatencyResult, Settings, guarded, torch_state


def peak_macs_per_second(settings: Settings | None = None, *, refresh: bool = False) -> float:
    """The device's attainable multiply-adds per second: the best of a few large square matmuls.

    Square sizes grow until one matmul takes long enough to be timed reliably; well under a second on a
    CPU, about two on a GPU. On CUDA in float32 the matmul uses TF32 exactly when cuDNN convolutions do
    (``torch.backends.cudnn.allow_tf32``), so the peak matches the math the model runs in.

    Returns:
        MAC/s (one n×n by n×n matmul = n³ MACs), for the settings' device, dtype and threads.
    """
    s = settings or Settings()
    if refresh:
        _peak.cache_clear()
    return _peak(s.device, s.dtype, s.threads or torch.get_num_threads())


def bandwidth_bytes_per_second(settings: Settings | None = None, *, refresh: bool = False) -> float:
    """The device's attainable memory bandwidth: the best of a few large copies (read + write), bytes/s.

    The copy is several times larger than a CPU's last-level cache (256 MiB; 1 GiB on a GPU), so it
    measures main memory, as layers whose tensors do not fit in cache see it.
    """
    s = settings or Settings()
    if refresh:
        _bandwidth.cache_clear()
    return _bandwidth(s.device, s.dtype, s.threads or torch.get_num_threads())


def roofline(result: LatencyResult, macs: int) -> dict[str, float]:
    """Achieved MAC/s of a whole-network measurement and its share of the device's matmul peak.

    Args:
        result: a measurement.
        macs: multiply-adds for ONE image at ``result.input_size`` (``analyze(spec, input_size).macs``).

    Returns:
        ``achieved_macs_per_s``, ``peak_macs_per_s`` and ``percent_of_peak``.
    """
    achieved = result.macs_per_second(macs)
    s = Settings(device=result.device, dtype=result.dtype, threads=result.threads if result.device == "cpu" else None)
    peak = peak_macs_per_second(s)
    return {"achieved_macs_per_s": achieved, "peak_macs_per_s": peak, "percent_of_peak": 100 * achieved / peak}


def attainable(intensity: float, peak: float, bandwidth: float) -> float:
    """The roofline: MAC/s a kernel of ``intensity`` MACs per byte can reach at most."""
    return min(peak, intensity * bandwidth)


@lru_cache(maxsize=None)
def _peak(device: str, dtype: str, threads: int) -> float:
    s = Settings(device=device, dtype=dtype, threads=threads, max_seconds=1.0)
    sizes = (256, 512, 1024, 2048, 4096) if s.torch_device.type == "cpu" else (1024, 2048, 4096, 8192, 16384)
    budget = 0.8 if s.torch_device.type == "cpu" else 2.0

    def matmul(n: int) -> tuple[float, float]:
        a = torch.randn(n, n, device=s.torch_device, dtype=s.torch_dtype)
        b = torch.randn(n, n, device=s.torch_device, dtype=s.torch_dtype)
        return n**3, lambda: a @ b  # type: ignore[return-value]

    with LOCK, torch_state(s), _matmul_precision(s):
        return guarded(s, lambda: _probe(s, sizes, budget, matmul))


@lru_cache(maxsize=None)
def _bandwidth(device: str, dtype: str, threads: int) -> float:
    s = Settings(device=device, dtype=dtype, threads=threads, max_seconds=1.0)
    sizes = (2**24, 2**26) if s.torch_device.type == "cpu" else (2**26, 2**28)  # float32 elements: 64 MiB … 1 GiB

    def copy(n: int) -> tuple[float, float]:
        a = torch.empty(n, device=s.torch_device, dtype=torch.float32).fill_(1.0)
        b = torch.empty_like(a)
        return 2 * a.nbytes, lambda: b.copy_(a)  # type: ignore[return-value]

    with LOCK, torch_state(s):
        return guarded(s, lambda: _probe(s, sizes, 1.0 if s.torch_device.type == "cpu" else 2.0, copy))


def _probe(s: Settings, sizes: Sequence[int], budget: float, make) -> float:  # noqa: ANN001
    """The best rate (work per second) over growing problem sizes, within a time budget."""
    clock = Clock(s.torch_device)
    start = time.perf_counter()
    best = 0.0
    for n in sizes:
        work, fn = make(n)
        t = clock.time(fn)  # the first call also warms the library up
        for _ in range(3):
            if time.perf_counter() - start + t > budget:
                break
            t = min(t, clock.time(fn))
        best = max(best, work / t)
        # The next size costs several times as much (two runs at least); stop once one run is long enough
        # to time reliably or the next size would overflow the budget.
        if t > 0.05 or time.perf_counter() - start + 8 * t * 2 > budget:
            break
    return best


@contextmanager
def _matmul_precision(s: Settings) -> Iterator[None]:
    prev = torch.get_float32_matmul_precision()
    try:
        if s.torch_device.type == "cuda" and s.dtype == "float32":
            torch.set_float32_matmul_precision("high" if torch.backends.cudnn.allow_tf32 else "highest")
        yield
    finally:
        torch.set_float32_matmul_precision(prev)


__all__ = ["attainable", "bandwidth_bytes_per_second", "peak_macs_per_second", "roofline"]
