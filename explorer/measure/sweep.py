"""Throughput against batch size: one model, increasing batch sizes, stopping cleanly at a limit."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from ..core.analysis import analyze
from ..core.errors import Cancelled, DeviceError, OutOfMemory, ResourceError, SpecError
from ..build.guard import check_memory
from ..core.run_fields import SWEEP_FIELDS
from .latency import Prepared, prepare
from ..core.spec import ArchSpec
from .timing import LOCK, LatencyResult, Progress, Settings, ShouldStop, guarded, summarize, time_calls, \
    torch_state

STOPPED_BY = ("done", "time_budget", "memory_budget", "out_of_memory", "error", "cancelled")
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


@dataclass(frozen=True)
class SweepResult:
    """One result per batch size measured, and why the sweep ended.

    ``stopped_by``: ``"done"`` (every batch size measured), ``"time_budget"``, ``"memory_budget"`` (the next
    batch size would exceed the memory budget), ``"out_of_memory"``, ``"error"`` (another device failure) or
    ``"cancelled"``; ``message`` says it in a sentence.
    """

    results: tuple[LatencyResult, ...]
    stopped_by: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"results": [r.to_dict() for r in self.results], "stopped_by": self.stopped_by,
                "message": self.message}


def throughput_sweep(model: ArchSpec | nn.Module, settings: Settings | None = None, *,
                     batch_sizes: Sequence[int] = BATCH_SIZES, time_budget_s: float = 30.0, input_size: Any = None,
                     progress: Progress | None = None, should_stop: ShouldStop | None = None) -> SweepResult:
    """Throughput at increasing batch sizes, stopping cleanly at the time or memory budget or a device failure.

    The model is built once (after the memory check at the smallest batch). Before each batch size the
    memory budget is checked and the time it will likely take is estimated from the previous one; if either
    would be exceeded, the sweep stops there. Device failures end it with the results so far (never an
    exception); bad input still raises. ``settings.batch_size`` and ``max_seconds`` are ignored.

    Args:
        settings: device, dtype, threads and the per-batch-size run target (``warmup``, ``min_runs``,
            ``min_seconds``); default ``Settings(warmup=2, min_runs=5, min_seconds=0.5)``.
        batch_sizes: measured in increasing order (duplicates dropped).
        time_budget_s: bound on the whole sweep, in seconds.
        progress: ``progress(fraction, text)`` over the whole sweep; it reaches 1.0 however the sweep ends.
    """
    sizes = sorted(set(SWEEP_FIELDS["batch_sizes"].check_list(batch_sizes)))
    if not sizes:
        raise SpecError("batch_sizes", "must be a non-empty list of whole numbers")
    SWEEP_FIELDS["time_budget_s"].check(time_budget_s)
    if not isinstance(model, (ArchSpec, nn.Module)):
        raise SpecError("model", f"must be an ArchSpec or a torch.nn.Module; got {type(model).__name__}")
    s = (settings or Settings(warmup=2, min_runs=5, min_seconds=0.5)).edit(batch_size=sizes[0])
    with LOCK, torch_state(s):
        result = _sweep(model, s, sizes, time_budget_s, input_size, progress, should_stop)
    if progress is not None:
        progress(1.0, result.message)
    return result


def _sweep(model: ArchSpec | nn.Module, s: Settings, sizes: list[int], budget_s: float, input_size: Any,
           progress: Progress | None, should_stop: ShouldStop | None) -> SweepResult:
    deadline = time.perf_counter() + budget_s
    results: list[LatencyResult] = []
    try:
        p = guarded(s, lambda: prepare(model, s, input_size))
    except ResourceError as e:
        return SweepResult((), "memory_budget", str(e))
    except DeviceError as e:
        return SweepResult((), "out_of_memory" if isinstance(e, OutOfMemory) else "error", str(e))
    try:
        for i, b in enumerate(sizes):
            left = deadline - time.perf_counter()
            stop = _stop_before(b, results, s, left, budget_s, p)
            if stop is not None:
                return stop

            def fraction(f: float, text: str, i: int = i, b: int = b) -> None:
                if progress is not None:
                    progress((i + f) / len(sizes), f"batch size {b}: {text}")

            sb = s.edit(batch_size=b, max_seconds=max(left, 1e-3))
            try:
                x = p.make_input(sb)
                t = guarded(sb, lambda sb=sb, x=x, f=fraction: time_calls([lambda: p.model(x)], sb, f, should_stop))
            except Cancelled:
                return SweepResult(tuple(results), "cancelled", f"stopped at batch size {b}, as asked")
            except OutOfMemory as e:
                return SweepResult(tuple(results), "out_of_memory", f"batch size {b}: {e}")
            except DeviceError as e:
                return SweepResult(tuple(results), "error", f"batch size {b}: {e}")
            r = summarize(p.name, [v * 1000 for v in t.seconds[0]], sb, p.input_size, t.stopped_by, t.warmup_runs,
                          t.total_seconds)
            results.append(r)
            if r.stopped_by == "cancelled":
                return SweepResult(tuple(results), "cancelled", f"stopped at batch size {b}, as asked "
                                   f"({r.runs} runs there kept)")
            if r.stopped_by == "time_limit":
                return SweepResult(tuple(results), "time_budget", f"the {budget_s:g} s budget ran out at batch size "
                                   f"{b} ({r.runs} runs there)")
    finally:
        p.restore()
    return SweepResult(tuple(results), "done", f"measured all {len(sizes)} batch sizes")


def _stop_before(b: int, results: list[LatencyResult], s: Settings, left: float, budget_s: float,
                 p: Prepared) -> SweepResult | None:
    """Why the sweep must stop before batch size ``b``: the memory budget, or the time left."""
    if p.spec is not None:
        try:
            check_memory(analyze(p.spec, p.input_size), batch_size=b, dtype=s.dtype, device=s.device,
                         budget=s.budget)
        except ResourceError as e:
            return SweepResult(tuple(results), "memory_budget", f"stopped before batch size {b}: {e.reason}")
    if results:
        prev = results[-1]
        estimate = prev.median_ms / 1000 * b / prev.batch_size * (s.warmup + s.min_runs)
        if estimate > left:
            return SweepResult(tuple(results), "time_budget",
                               f"stopped before batch size {b}: it needs about {estimate:.1f} s and "
                               f"{max(left, 0):.1f} s of the {budget_s:g} s budget is left")
    return None


__all__ = ["BATCH_SIZES", "STOPPED_BY", "SWEEP_FIELDS", "SweepResult", "throughput_sweep"]
