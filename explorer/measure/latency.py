"""Measured forward-pass latency of whole networks, alone or compared, with honest uncertainty.

The timing method is in :mod:`explorer.measure.timing` (warm-up, one run timed alone, synchronized on a GPU,
several configurations interleaved). A comparison reports each configuration's time relative to the
first as the median of the per-round ratios with a distribution-free confidence interval, and keeps
measuring until that interval is narrow enough or the time limit is reached; when the interval holds 1,
the verdict is "no measurable difference".

Every entry point checks the memory budget (``explorer.build.guard``) before it builds or runs anything.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from ..core.analysis import analyze
from ..core.errors import SpecError
from ..build.guard import check_budget, check_memory
from ..build.model import build_model
from ..core.spec import SPEC_FIELDS, ArchSpec
from .timing import (
    LOCK,
    LatencyResult,
    Progress,
    Settings,
    ShouldStop,
    guarded,
    summarize,
    time_calls,
    torch_state,
)

DEFAULT_INPUT_SIZE = (3, 224, 224)  # for a bare nn.Module, which does not know its input size
CONFIDENCE = 0.95
DEFAULT_HALF_WIDTH = 0.03  # a comparison stops once every ratio's interval is within ±3% of it


@dataclass
class Prepared:
    """One model ready to time on the settings' device and dtype; ``restore`` undoes ``eval()`` on a caller's."""

    name: str
    model: nn.Module
    input_size: tuple[int, int, int]
    spec: ArchSpec | None
    restore: Callable[[], None]

    def make_input(self, s: Settings) -> torch.Tensor:
        x = torch.randn(s.batch_size, *self.input_size, device=s.torch_device, dtype=s.torch_dtype)
        return x.contiguous(memory_format=torch.channels_last) if s.channels_last else x


def input_size_of(obj: ArchSpec | nn.Module, input_size: Any) -> tuple[int, int, int]:
    """The input to time at: a spec's own (checked against the network), or 3×224×224 for a bare module.

    A module may be one block whose input is a feature map (256 channels at 56×56), not an image, so its
    channels are bounded by the widest layer, not by an image's channel limit.
    """
    if isinstance(obj, ArchSpec):
        return analyze(obj, input_size).input_size  # also checks channels and that it is large enough
    if input_size is None:
        return DEFAULT_INPUT_SIZE
    if not isinstance(input_size, (list, tuple)) or len(input_size) != 3:
        raise SpecError("input_size", f"must be [channels, height, width], got {input_size!r:.40}")
    c, h, w = input_size
    return (SPEC_FIELDS["widths"].check(c, "input_size"), *(SPEC_FIELDS["input_size"].check(v) for v in (h, w)))


def prepare(obj: ArchSpec | nn.Module, s: Settings, input_size: Any = None, *, train: bool = False) -> Prepared:
    """Build a spec on the device (after the memory check), or use a module — copied only if it must be moved
    or converted, so a caller's (the app's cached) model is never changed."""
    fmt = torch.channels_last if s.channels_last else torch.contiguous_format
    size = input_size_of(obj, input_size)
    if isinstance(obj, ArchSpec):
        if train:  # a training step keeps its activations for backward: far more than a forward pass
            from ..costs.training import train_cost

            check_budget(train_cost(obj, batch_size=s.batch_size, input_size=size).peak.total,
                         what=f"training {obj.name} at batch {s.batch_size}", device=s.device, budget=s.budget)
        else:
            check_memory(analyze(obj, size), batch_size=s.batch_size, dtype=s.dtype, device=s.device,
                         budget=s.budget)
        model = build_model(obj, s.device, budget=math.inf).to(dtype=s.torch_dtype, memory_format=fmt)
        return Prepared(obj.name, model.train(train), size, obj, lambda: None)
    tensors = [*obj.parameters(), *obj.buffers()]
    if any(t.device != s.torch_device or (t.is_floating_point() and t.dtype != s.torch_dtype) for t in tensors) or (
        s.channels_last and any(t.dim() == 4 and not t.is_contiguous(memory_format=fmt) for t in tensors)
    ):
        model = copy.deepcopy(obj).to(device=s.torch_device, dtype=s.torch_dtype, memory_format=fmt)
        return Prepared(type(obj).__name__, model.train(train), size, None, lambda: None)
    modes = {m: m.training for m in obj.modules()}

    def restore() -> None:
        for m, training in modes.items():
            m.training = training

    obj.train(train)
    return Prepared(type(obj).__name__, obj, size, None, restore)


def _check_models(objs: Any) -> list[ArchSpec | nn.Module]:
    if isinstance(objs, (ArchSpec, nn.Module)) or not isinstance(objs, (list, tuple)) or not objs:
        raise SpecError("models", "must be a non-empty list of specs or modules")
    for i, obj in enumerate(objs):
        if not isinstance(obj, (ArchSpec, nn.Module)):
            raise SpecError(f"models[{i}]", f"must be an ArchSpec or a torch.nn.Module; got {type(obj).__name__}")
    return list(objs)


# --- comparisons with their uncertainty ----------------------------------------------------
def median_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """A distribution-free confidence interval of the median: ``(low, high, coverage)``.

    Order statistics ``x(k) … x(n−k+1)`` cover the median with probability ``1 − 2·P(B ≤ k−1)``,
    B ~ Binomial(n, ½), whatever the distribution: robust to the outliers a busy machine produces.
    ``coverage`` is the exact probability (below ``confidence`` when there are fewer than 6 values).
    """
    x = sorted(values)
    n = len(x)
    cdf, k = 0.0, 0
    for j in range(n // 2):
        p = math.comb(n, j) / 2**n
        if cdf + p > (1 - confidence) / 2:
            break
        cdf, k = cdf + p, j + 1
    if k == 0:  # too few values for the confidence asked: the whole range, and its lower coverage
        return x[0], x[-1], 1 - 2 / 2**n if n > 1 else 0.0
    return x[k - 1], x[n - k], 1 - 2 * cdf


@dataclass(frozen=True)
class Ratio:
    """How many times as long ``name`` takes as ``baseline``, from paired rounds (A and B timed back to back).

    ``median`` is the median of the per-round ratios; ``low``-``high`` its confidence interval with
    ``coverage``, the exact probability of the order statistics used: at least ``confidence`` (the stated
    level, 95%) when there are enough rounds, and above it by a step that depends on their number.
    """

    name: str
    baseline: str
    median: float
    low: float
    high: float
    coverage: float
    rounds: int
    confidence: float = CONFIDENCE

    def level(self) -> str:
        """The interval's confidence in words, stated level and exact coverage together: 'at least 95% (here
        96.9%)', or 'only 87.5% (too few rounds for 95%)'."""
        if self.coverage >= self.confidence - 1e-12:
            return f"at least {self.confidence:.0%} (here {self.coverage:.1%})"
        return f"only {self.coverage:.1%} (too few rounds for {self.confidence:.0%})"

    @property
    def measurable(self) -> bool:
        """False when the interval holds 1: no measurable difference."""
        return not self.low <= 1 <= self.high

    @property
    def relative_halfwidth(self) -> float:
        return (self.high - self.low) / 2 / self.median

    def phrase(self) -> str:
        """'1.11× as long as resnet50 (CI 1.08–1.14×, confidence at least 95% (here 96.9%), 24 paired rounds)', or
        'no measurable difference from resnet50 (1.01×; CI 0.98–1.03×, …)' when the interval holds 1."""
        ci = f"CI {self.low:.3g}–{self.high:.3g}×, confidence {self.level()}, {self.rounds} paired rounds"
        if not self.measurable:
            return f"no measurable difference from {self.baseline} ({self.median:.3g}×; {ci})"
        return f"{self.median:.3g}× as long as {self.baseline} ({ci})"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "measurable": self.measurable}


def paired_ratios(results: Sequence[LatencyResult], confidence: float = CONFIDENCE) -> list[Ratio]:
    """Each result against the first, round by round (results of one interleaved measurement)."""
    base = results[0]
    out = []
    for r in results[1:]:
        per_round = [t / b for t, b in zip(r.times_ms, base.times_ms) if b > 0]
        low, high, coverage = median_interval(per_round, confidence)
        out.append(Ratio(r.name, base.name, _median(per_round), low, high, coverage, len(per_round), confidence))
    return out


def _median(values: Sequence[float]) -> float:
    x = sorted(values)
    n = len(x)
    return x[n // 2] if n % 2 else (x[n // 2 - 1] + x[n // 2]) / 2


def check_half_width(value: Any, field: str = "half_width") -> float:
    """A relative half-width for a ratio's confidence interval (0.03 = ±3% of the ratio), else a ``SpecError``."""
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and 0 < value < 1):
        raise SpecError(field, f"must be a fraction between 0 and 1, e.g. {DEFAULT_HALF_WIDTH:g}; got {value!r}")
    return float(value)


def precise_enough(half_width: float) -> Callable[[list[list[float]]], bool]:
    """Stop once every ratio to the first has a confidence interval within ±half_width of its median (relative)."""

    def done(times: list[list[float]]) -> bool:
        base = times[0]
        for t in times[1:]:
            ratios = [a / b for a, b in zip(t, base) if b > 0]
            low, high, coverage = median_interval(ratios)
            if coverage < CONFIDENCE - 0.01 or (high - low) / 2 > half_width * _median(ratios):
                return False
        return True

    return done


# --- entry points --------------------------------------------------------------------------
def measure_latency(model: ArchSpec | nn.Module, settings: Settings | None = None, *, input_size: Any = None,
                    progress: Progress | None = None, should_stop: ShouldStop | None = None) -> LatencyResult:
    """Measure the forward-pass latency of one model (the method is in :mod:`explorer.measure.timing`).

    With the default ``Settings`` a ResNet-50 at batch 1 on a 2-core CPU takes about 2-4 s, warm-up included.

    Args:
        model: an ``ArchSpec`` (built on the device after the memory check) or an ``nn.Module`` (used as is
            when it is already on the device in the dtype; otherwise a converted copy is timed).
        settings: device, dtype, batch size, threads, run counts and time limit (``Settings()`` if None).
        input_size: ``(channels, height, width)``; default the spec's, or 3×224×224 for a module.
        progress: called as ``progress(fraction, text)``, at most ten times a second.
        should_stop: polled after every run; True stops with the runs so far (``stopped_by="cancelled"``).

    Raises:
        SpecError: bad input (``.field`` names it); ``ResourceError`` over the memory budget.
        DeviceError: the device failed (``OutOfMemory`` when it ran out of memory; memory has been freed).
        Cancelled: stopped before any timed run.
    """
    return measure_interleaved([model], settings, input_size=input_size, progress=progress,
                               should_stop=should_stop)[0]


def measure_interleaved(models: Sequence[ArchSpec | nn.Module], settings: Settings | None = None, *,
                        input_size: Any = None, half_width: float | None = None, names: Sequence[str] | None = None,
                        progress: Progress | None = None, should_stop: ShouldStop | None = None) -> list[LatencyResult]:
    """Time several models on one device in rounds A B C A B C …, so slow drift hits all alike.

    ``min_runs`` and ``min_seconds`` apply to each model, ``max_seconds`` to the whole measurement;
    ``input_size`` overrides every model's. With ``half_width`` (e.g. 0.03), timing goes on past the
    settings' target until every ratio to the first has a confidence interval within ±half_width of it, or
    until ``max_seconds``. ``names`` label the results (default: each spec's name, or the module's class).
    All models are resident on the device at once.

    Returns:
        One ``LatencyResult`` per model, in order, with equal ``runs``; ``paired_ratios`` of them gives the
        verdicts.
    """
    objs = _check_models(models)
    s = settings or Settings()
    if half_width is not None:
        half_width = check_half_width(half_width)
    if names is not None and (not isinstance(names, (list, tuple)) or len(names) != len(objs)):
        raise SpecError("names", f"needs one name per model ({len(objs)})")
    done = precise_enough(half_width) if half_width is not None and len(objs) > 1 else None
    with LOCK, torch_state(s):
        results = guarded(s, lambda: _measure(objs, s, input_size, done, progress, should_stop))
    return results if names is None else [dataclasses.replace(r, name=str(n)) for r, n in zip(results, names)]


def _measure(objs: list[ArchSpec | nn.Module], s: Settings, input_size: Any, done: Any,
             progress: Progress | None, should_stop: ShouldStop | None) -> list[LatencyResult]:
    prepared: list[Prepared] = []
    if progress is not None:
        progress(0.0, "preparing the model" if len(objs) == 1 else "preparing the models")
    try:
        for obj in objs:
            prepared.append(prepare(obj, s, input_size))
        xs = [p.make_input(s) for p in prepared]
        calls = [(lambda m=p.model, x=x: m(x)) for p, x in zip(prepared, xs, strict=True)]
        t = time_calls(calls, s, progress, should_stop, done=done)
        return [summarize(p.name, [v * 1000 for v in secs], s, p.input_size, t.stopped_by, t.warmup_runs,
                          t.total_seconds) for p, secs in zip(prepared, t.seconds, strict=True)]
    finally:
        for p in prepared:
            p.restore()


__all__ = [
    "CONFIDENCE", "DEFAULT_HALF_WIDTH", "check_half_width", "LatencyResult", "Prepared", "Ratio", "Settings",
    "measure_interleaved",
    "precise_enough",
    "measure_latency", "median_interval", "paired_ratios", "prepare",
]
