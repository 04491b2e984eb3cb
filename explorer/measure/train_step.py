"""Measured training steps: the time of one real step, timed exactly like inference, beside the analytic
estimate of its memory (:func:`explorer.costs.training.train_cost`).

One step, in order: ``optimizer.zero_grad(set_to_none=True)``; the forward pass in train mode (under
``torch.autocast`` for ``bfloat16``/``float16``: the weights, gradients and optimizer state stay float32);
cross-entropy against fixed random labels; ``backward()``; ``optimizer.step()`` with the real
``torch.optim`` optimizer of :data:`explorer.costs.training.OPTIMIZERS`. There is no ``GradScaler``: float16
training would add one (one more pass over the gradients to unscale them and check for infinities), but a
scaler skips the steps whose gradients overflow, and a skipped step would make the timing bimodal.

The timing method is :mod:`explorer.measure.timing`'s (warm-up, every step timed alone, synchronized on a GPU,
several networks in rounds A B A B …), so :func:`explorer.measure.latency.paired_ratios` compares the ``latency``
of the results. Throughput is images trained per second. The warm-up steps also allocate what a first
step allocates once (gradients, optimizer state, cuDNN's algorithm search), so the timed steps are steady.

Memory: the budget (``explorer.build.guard``) is checked with the analytic peak before anything is built. On
CUDA the allocator's peak of each network's timed steps is recorded too (``torch.cuda.max_memory_allocated``,
reset after the warm-up, less what the other networks of the same measurement hold), and reported beside
the estimate with the reasons the two differ (:meth:`TrainStepResult.memory_note`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ..core.errors import SpecError
from ..build.devices import check_dtype
from ..build.guard import check_budget, mib
from .latency import check_half_width, precise_enough, prepare  # the comparison's stopping rule: one for both
from ..core.spec import ArchSpec
from .timing import (
    LOCK,
    Clock,
    LatencyResult,
    Progress,
    Settings,
    ShouldStop,
    guarded,
    summarize,
    time_calls,
    torch_state,
)
from ..costs.training import OPTIMIZERS, Optimizer, Peak, TrainCost, check_optimizer, check_precision, train_cost

_AUTOCAST = {"bfloat16": torch.bfloat16, "float16": torch.float16}
_BLOCK = 512  # the CUDA caching allocator rounds every block up to a multiple of 512 bytes
_LABEL_SEED = 0  # the fixed labels are the same in every run, so two measurements train on the same batch

WHY_PEAKS_DIFFER = (
    "torch.cuda.max_memory_allocated counts only the tensors PyTorch's caching allocator hands out: not the "
    "CUDA context (a few hundred MiB), nor what the allocator keeps cached (reserved but free) or loses to "
    "fragmentation, so the device needs more than it shows; cuDNN's workspaces are counted and, with "
    "cudnn.benchmark on, may be larger than the one workspace the estimate allows; and the estimate adds the "
    "saved activations and the gradients as if all were live at once, which over-counts on purpose"
)


@dataclass(frozen=True)
class TrainStepResult:
    """The measured time of one training step of one network, with its memory estimate.

    Attributes:
        name: the spec's name (or the name given).
        latency: the step times (ms, whole batch); ``latency.throughput`` is images trained per second.
        precision: ``"float32"``, or the autocast dtype (``"bfloat16"``, ``"float16"``) with float32 weights.
        optimizer: the key in :data:`explorer.costs.training.OPTIMIZERS` (``"sgd"``, ``"adam"`` …).
        estimate: the analytic peak of one step (:class:`explorer.costs.training.Peak`, bytes, with its parts).
        measured_peak_bytes: on CUDA, the allocator's peak during this network's timed steps, less what the
            other networks held; ``None`` on other devices (their allocators keep no such counter).
    """

    name: str
    latency: LatencyResult
    precision: str
    optimizer: str
    estimate: Peak
    measured_peak_bytes: int | None

    @property
    def estimate_bytes(self) -> int:
        return self.estimate.total

    @property
    def difference_bytes(self) -> int | None:
        """measured − estimate (negative: the estimate is larger, as meant); None without a measurement."""
        return None if self.measured_peak_bytes is None else self.measured_peak_bytes - self.estimate_bytes

    def memory_note(self) -> str:
        """One sentence: the estimate, the measured peak where there is one, and why the two differ."""
        estimate = f"estimated peak {mib(self.estimate_bytes)}"
        if self.measured_peak_bytes is None:
            return (f"{estimate}; no measured peak on {self.latency.device} (torch.cuda.max_memory_allocated "
                    "is a CUDA counter).")
        diff = self.difference_bytes
        sign = "+" if diff >= 0 else "-"
        return (f"{estimate}, measured {mib(self.measured_peak_bytes)} (measured - estimate = {sign}"
                f"{mib(abs(diff))}, {self.measured_peak_bytes / self.estimate_bytes:.0%} of it). "
                f"They differ because {WHY_PEAKS_DIFFER}.")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: the latency, the estimate's parts and total, the measured peak and the note."""
        return {
            "name": self.name, "precision": self.precision, "optimizer": self.optimizer,
            "latency": self.latency.to_dict(),
            "estimate": {**self.estimate.parts(), "total": self.estimate_bytes},
            "estimate_bytes": self.estimate_bytes, "measured_peak_bytes": self.measured_peak_bytes,
            "difference_bytes": self.difference_bytes, "memory_note": self.memory_note(),
        }


# --- validation ------------------------------------------------------------------------------------
def _check_specs(specs: Any) -> list[ArchSpec]:
    """One spec or a non-empty list of specs (a model needs a spec: the budget check reads its plan)."""
    if isinstance(specs, ArchSpec):
        return [specs]
    if not isinstance(specs, (list, tuple)) or not specs:
        raise SpecError("specs", "must be an ArchSpec or a non-empty list of them")
    for i, spec in enumerate(specs):
        if not isinstance(spec, ArchSpec):
            raise SpecError(f"specs[{i}]", f"must be an ArchSpec; got {type(spec).__name__}")
    return list(specs)


def _check_weights_dtype(s: Settings) -> None:
    """Training keeps float32 weights; a lower precision is autocast's, chosen with ``precision``."""
    if s.dtype != "float32":
        raise SpecError("dtype", f"training keeps float32 weights, gradients and optimizer state; got {s.dtype}. "
                        f"Keep dtype float32 and choose precision='{s.dtype}' to compute in {s.dtype} (autocast)")


def _check_names(names: Any, n: int) -> list[str] | None:
    if names is not None and (not isinstance(names, (list, tuple)) or len(names) != n):
        raise SpecError("names", f"needs one name per spec ({n})")
    return None if names is None else [str(name) for name in names]


# --- the memory budget -----------------------------------------------------------------------------
def _resident(cost: TrainCost) -> int:
    """What a network holds between its steps: weights, buffers, gradients, optimizer state, its input batch."""
    p = cost.peak
    image = cost.batch_size * math.prod(cost.input_size) * 4  # float32 in every precision (autocast casts it)
    return p.weights + p.buffers + p.gradients + p.optimizer_state + image


def _check_memory(costs: list[TrainCost], names: list[str], s: Settings) -> None:
    """Refuse before building: the largest step's peak plus what every other network holds meanwhile.

    Networks measured together are all resident at once, but only one steps at a time, so the need is
    ``max_i(peak_i + Σ_{j≠i} resident_j)``: a single network's is its estimated peak.
    """
    resident = [_resident(c) for c in costs]
    need, i = max((c.peak.total + sum(resident) - r, k) for k, (c, r) in enumerate(zip(costs, resident)))
    p = costs[i].peak
    what = (f"training {' and '.join(names)} at batch {s.batch_size} ({costs[i].precision}, "
            f"{OPTIMIZERS[costs[i].optimizer].label})")
    parts = (f"peak of {names[i]}: weights {mib(p.weights)}, gradients {mib(p.gradients)}, optimizer state "
             f"{mib(p.optimizer_state)}, saved activations {mib(p.saved_activations)}")
    check_budget(need, what=what, device=s.device, budget=s.budget, parts=parts)


# --- one step --------------------------------------------------------------------------------------
class _Step:
    """One network's training step, a call for ``time_calls``; it owns the model, optimizer and fixed batch."""

    def __init__(self, spec: ArchSpec, cost: TrainCost, s: Settings, opt: Optimizer) -> None:
        prepared = prepare(spec, s, cost.input_size, train=True)
        self.name, self.input_size, self.model = prepared.name, prepared.input_size, prepared.model
        self.x = prepared.make_input(s)
        labels = torch.randint(0, spec.num_classes, (s.batch_size,),
                               generator=torch.Generator().manual_seed(_LABEL_SEED))
        self.labels = labels.to(s.torch_device)
        self.optimizer = getattr(torch.optim, opt.torch_class)(self.model.parameters(), **dict(opt.kwargs))
        amp = _AUTOCAST.get(cost.precision)
        device_type = s.torch_device.type
        self.autocast: Callable[[], Any] = (
            (lambda: torch.autocast(device_type, dtype=amp)) if amp is not None else contextlib.nullcontext
        )
        self.peak: int | None = None

    def __call__(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        with self.autocast():
            loss = F.cross_entropy(self.model(self.x), self.labels)  # autocast runs cross-entropy in float32
        loss.backward()
        self.optimizer.step()

    def resident_bytes(self) -> int:
        """Bytes of the tensors this step keeps between calls, in the allocator's blocks (each storage once)."""
        tensors = [*self.model.parameters(), *self.model.buffers(), self.x, self.labels]
        tensors += [p.grad for p in self.model.parameters() if p.grad is not None]
        tensors += [v for state in self.optimizer.state.values() for v in state.values() if torch.is_tensor(v)]
        storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tensors
                    if t.device.type == "cuda"}
        return sum(-(-n // _BLOCK) * _BLOCK for n in storages.values())

    def record_peak(self, peak: int) -> None:
        self.peak = peak if self.peak is None else max(self.peak, peak)


class _PeakClock(Clock):
    """The CUDA clock, also recording each timed step's own allocator peak (outside the timed window).

    ``time_calls`` calls ``time`` for the timed runs only, so the peak is reset after the warm-up (and its
    cuDNN algorithm search). A step's own peak is the allocator's peak during it less what it did not
    own: ``max_allocated − (allocated_before − own_before)``; the other networks hold still meanwhile.
    """

    def time(self, fn: Callable[[], Any]) -> float:
        if not isinstance(fn, _Step):
            return super().time(fn)
        own, before = fn.resident_bytes(), torch.cuda.memory_allocated(self.dev)
        torch.cuda.reset_peak_memory_stats(self.dev)
        seconds = super().time(fn)
        fn.record_peak(torch.cuda.max_memory_allocated(self.dev) - (before - own))
        return seconds


# --- the entry point -------------------------------------------------------------------------------
def measure_train_step(
    specs: ArchSpec | Sequence[ArchSpec],
    settings: Settings | None = None,
    *,
    precision: str = "float32",
    optimizer: str = "sgd",
    input_size: Any = None,
    names: Sequence[str] | None = None,
    half_width: float | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> list[TrainStepResult]:
    """Time one training step (zero_grad, forward, cross-entropy, backward, optimizer step) of each spec.

    Several specs are timed in rounds A B A B … (all resident at once), so ``paired_ratios`` of the results'
    ``latency`` gives the verdicts, as for :func:`explorer.measure.latency.measure_interleaved`.

    Args:
        specs: one ``ArchSpec`` or a list of them.
        settings: device, batch size, threads, run counts and time limit (``Settings()`` if None); its
            ``dtype`` must be ``float32`` (the weights'): a lower precision is chosen with ``precision``.
        precision: ``"float32"``, or ``"bfloat16"``/``"float16"`` autocast; the device must run it.
        optimizer: a key of :data:`explorer.costs.training.OPTIMIZERS`: ``"sgd"``, ``"sgd_momentum"``, ``"adam"``,
            ``"adamw"`` (the real ``torch.optim`` class with those settings).
        input_size: ``(channels, height, width)`` for every spec; default each spec's own.
        names: labels of the results (default the specs' names).
        half_width: with several specs (e.g. 0.03), time on past the settings' target until every
            ratio to the first has a confidence interval within ±half_width of it, or until ``max_seconds``.
        progress: called as ``progress(fraction, text)``, at most ten times a second.
        should_stop: polled after every step; True stops with the complete rounds so far.

    Returns:
        One :class:`TrainStepResult` per spec, in order, with equal ``latency.runs``.

    Raises:
        SpecError: bad input, naming its field (``dtype``, ``precision``, ``optimizer``, ``batch_size``,
            ``input_size``, ``names``, ``half_width``); ``ResourceError`` (field ``memory``) when the
            estimated peak exceeds the memory budget, before anything is built.
        DeviceError: the device failed (``OutOfMemory`` when it ran out of memory; memory has been freed).
        Cancelled: stopped before every spec had a timed step.
    """
    objs = _check_specs(specs)
    s = settings or Settings()
    _check_weights_dtype(s)
    precision = check_dtype(check_precision(precision), s.device, "precision")
    opt = check_optimizer(optimizer)
    labels = _check_names(names, len(objs)) or [spec.name for spec in objs]
    target = None if half_width is None else check_half_width(half_width)
    costs = [train_cost(spec, batch_size=s.batch_size, input_size=input_size, precision=precision,
                        optimizer=opt.name) for spec in objs]
    _check_memory(costs, labels, s)
    done = precise_enough(target) if target is not None and len(objs) > 1 else None
    with LOCK, torch_state(s, inference=False):
        results = guarded(s, lambda: _measure(objs, costs, s, opt, done, progress, should_stop))
    return [dataclasses.replace(r, name=n, latency=dataclasses.replace(r.latency, name=n))
            for r, n in zip(results, labels, strict=True)]


def _measure(objs: list[ArchSpec], costs: list[TrainCost], s: Settings, opt: Optimizer, done: Any,
             progress: Progress | None, should_stop: ShouldStop | None) -> list[TrainStepResult]:
    if progress is not None:
        progress(0.0, "preparing the model" if len(objs) == 1 else "preparing the models")
    steps = [_Step(spec, cost, s, opt) for spec, cost in zip(objs, costs, strict=True)]
    clock = _PeakClock(s.torch_device) if s.torch_device.type == "cuda" else None
    t = time_calls(steps, s, progress, should_stop, done=done, clock=clock)
    out = []
    for step, cost, secs in zip(steps, costs, t.seconds, strict=True):
        latency = summarize(step.name, [v * 1000 for v in secs], s, step.input_size, t.stopped_by, t.warmup_runs,
                            t.total_seconds)
        if cost.precision != "float32":  # the weights are float32: say the math it ran in, so nothing hides it
            latency = dataclasses.replace(latency, dtype=f"{cost.precision} autocast")
        out.append(TrainStepResult(name=step.name, latency=latency, precision=cost.precision,
                                   optimizer=cost.optimizer, estimate=cost.peak, measured_peak_bytes=step.peak))
    return out


__all__ = ["WHY_PEAKS_DIFFER", "TrainStepResult", "measure_train_step"]
