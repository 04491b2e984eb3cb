"""Run the installed counting tools on the built model and set their output beside the derived figures.

``explorer.costs.counters`` derives each tool's figure from the plan; this module confirms it live: it builds
the model (CPU, float32, eval mode, a random batch), runs each installed tool once, and reports the
tool's own number, or why there is none (not installed, skipped for time, failed). Nothing is imported
until it is needed, so the app and the CLI keep working with any tool missing.

Safety: the memory budget is checked (``explorer.build.guard``) before the model is built; the tools run one
after another and, once ``time_budget_s`` is spent, the remaining ones are skipped (a running tool is
not interrupted). The tools' printing and warnings are silenced.

Process-wide state: ptflops patches ``torch.nn.functional`` while it counts, so live runs hold a lock;
they run on one intra-op thread (restored afterwards) because counts need no speed and, on a CPU shared
with other work, two threads made these small forward passes about 25× slower (ResNet-56 at 8×8: 0.4 s
on one thread, 9.2 s on two, 2-core machine under load).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import io
import math
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from ..core.analysis import Analysis, analyze
from ..costs.counters import EXTRA_FIGURES, TOOL_IDS, TOOLS, ToolCount, check_batch_size, tool_counts
from ..core.errors import SpecError
from ..core.spec import ArchSpec

DEFAULT_TIME_BUDGET_S = 60.0
_LOCK = threading.Lock()  # ptflops monkey-patches torch.nn.functional for the whole process
_TOOL = {t.id: t for t in TOOLS}
_MODULE = {"fvcore": "fvcore", "ptflops": "ptflops", "thop": "thop", "torchinfo": "torchinfo", "torch": "torch"}

# Figures a tool can report; each is compared with the derived figure of the same name.
FIGURES = ("value", *EXTRA_FIGURES)
Status = Literal["ok", "not installed", "skipped", "failed", "not run"]


@dataclass(frozen=True)
class Measured:
    """What running one tool gave.

    Attributes:
        tool: the tool id.
        status: ``"ok"``, ``"not installed"``, ``"skipped"`` (time budget spent), ``"failed"`` or
            ``"not run"`` (nothing to run, e.g. pycls' analytic count).
        value, activations, forward_backward_bytes, params_bytes, train_value: the tool's own numbers for
            the whole batch (None where it reports none or did not run).
        installed_version: the installed version, None when not installed.
        seconds: wall time of the tool's run.
        message: why there is no number, or a note on how it was measured; empty when there is none.
    """

    tool: str
    status: Status
    value: int | None = None
    activations: int | None = None
    forward_backward_bytes: int | None = None
    params_bytes: int | None = None
    train_value: int | None = None
    installed_version: str | None = None
    seconds: float = 0.0
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = {"status": self.status, "installed_version": self.installed_version,
               "seconds": round(self.seconds, 3), "message": self.message}
        out.update({k: getattr(self, k) for k in FIGURES if getattr(self, k) is not None})
        return out


@dataclass(frozen=True)
class LiveCount:
    """A derived figure and the tool's live output, side by side."""

    derived: ToolCount
    measured: Measured

    @property
    def differences(self) -> dict[str, int]:
        """measured − derived, for each figure both have that differs (empty when all are equal)."""
        out = {}
        for key in FIGURES:
            ours, theirs = getattr(self.derived, key), getattr(self.measured, key)
            if ours is not None and theirs is not None and theirs != ours:
                out[key] = theirs - ours
        return out

    @property
    def agrees(self) -> bool | None:
        """True when the tool ran and every figure equals the derived one to the unit; None if it did not run."""
        return None if self.measured.status != "ok" else not self.differences

    @property
    def verdict(self) -> str:
        """One line for a table: 'equal to the unit', the differences, or why it was not measured."""
        if self.measured.status != "ok":
            return f"{self.measured.status}: {self.measured.message}"
        if not self.differences:
            return "equal to the unit"
        return "differs: " + ", ".join(f"{k} measured − derived = {v:+,}" for k, v in self.differences.items())

    def to_dict(self) -> dict[str, Any]:
        """The derived figure's JSON with a ``measured`` object added."""
        return {**self.derived.to_dict(),
                "measured": {**self.measured.to_dict(), "agrees": self.agrees, "differences": self.differences}}


def installed_version(tool_id: str) -> str | None:
    """The installed version of a tool's package (PEP 440 public form), or None if it is not installed."""
    package = _TOOL[tool_id].package
    if package not in _MODULE or importlib.util.find_spec(_MODULE[package]) is None:
        return None
    try:
        raw = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None
    try:
        from packaging.version import Version

        return Version(raw).public  # thop's metadata says 0.1.1-2209072238; torch's has a +cu suffix
    except Exception:  # packaging missing or an odd version string: show it as it is
        return raw


@contextlib.contextmanager
def _quiet() -> Iterator[io.StringIO]:
    """Swallow the tools' prints (ptflops, thop, FlopCounterMode tables) and warnings (fvcore, the tracer)."""
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        yield sink


# --- one runner per tool: each takes (model, x, input_size) and returns the figures it reports ------------
def _run_fvcore(model: Any, x: Any, input_size: tuple[int, int, int]) -> dict[str, int]:
    from .fvcore_check import fvcore_totals  # the one module that imports fvcore

    value, activations = fvcore_totals(model, x)
    return {"value": value, "activations": activations}


def _run_ptflops(backend: str) -> Callable[..., dict[str, int]]:
    def run(model: Any, x: Any, input_size: tuple[int, int, int]) -> dict[str, int]:
        import torch
        from ptflops import get_model_complexity_info

        sink = io.StringIO()
        # ptflops runs with autograd on: counts do not depend on it, memory does
        with torch.no_grad(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            macs, _params = get_model_complexity_info(model, tuple(input_size), print_per_layer_stat=False,
                                                      as_strings=False, ost=sink, backend=backend)
        if macs is None:  # ptflops prints the exception and its traceback, and returns None
            last = [line for line in sink.getvalue().splitlines() if line.strip()][-1:]
            raise RuntimeError(f"ptflops ({backend}) gave no count: {' '.join(last) or 'no reason printed'}")
        return {"value": int(macs) * x.shape[0]}  # it measures one image

    return run


def _run_thop(model: Any, x: Any, input_size: tuple[int, int, int]) -> dict[str, int]:
    from thop import profile

    try:
        ops, _params = profile(model, inputs=(x,), verbose=False)
    finally:
        for m in model.modules():  # thop leaves its buffers on modules it has no rule for
            m._buffers.pop("total_ops", None)
            m._buffers.pop("total_params", None)
    if not float(ops).is_integer():
        raise RuntimeError(f"thop returned a fractional count {ops!r}")
    return {"value": int(ops)}


def _run_torchinfo(model: Any, x: Any, input_size: tuple[int, int, int]) -> dict[str, int]:
    from torchinfo import summary

    stats = summary(model, input_data=x, verbose=0, device="cpu")
    return {"value": int(stats.total_mult_adds), "forward_backward_bytes": int(stats.total_output_bytes),
            "params_bytes": int(stats.total_param_bytes)}


def _run_flop_counter(model: Any, x: Any, input_size: tuple[int, int, int]) -> dict[str, int]:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return {"value": int(counter.get_total_flops())}


def _run_flop_counter_train(model: Any, x: Any, train_mode: bool) -> int:
    """Forward + backward of ``out.sum()``; eval mode when train-mode BN cannot run (same count: BN is not counted)."""
    from torch.utils.flop_counter import FlopCounterMode

    model.train(train_mode)
    try:
        with FlopCounterMode(display=False) as counter:
            model(x).sum().backward()
    finally:
        model.eval()
        model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


_RUNNERS: dict[str, Callable[..., dict[str, int]]] = {
    "fvcore": _run_fvcore, "ptflops_pytorch": _run_ptflops("pytorch"), "ptflops_aten": _run_ptflops("aten"),
    "thop": _run_thop, "torchinfo": _run_torchinfo, "torch_flop_counter": _run_flop_counter, "timm": _run_fvcore,
}


def _bn_can_train(analysis: Analysis, batch: int) -> bool:
    """Train-mode BN needs more than one value per channel (batch × H × W > 1) in every BN layer."""
    return all(batch * math.prod(r.out_shape[1:]) > 1 for r in analysis.layers if r.type == "bn")


def _train_bytes(analysis: Analysis, batch: int) -> int:
    """A generous bound for forward + backward: every layer's output kept three times, weights and gradients."""
    elements = sum(math.prod(r.out_shape) for r in analysis.layers)
    return 4 * (3 * batch * elements + 2 * analysis.params)


def _check_tools(tools: Any) -> tuple[str, ...]:
    """A list of known tool ids, in the canonical order (timm reuses fvcore's run)."""
    if isinstance(tools, (str, bytes)) or not isinstance(tools, (list, tuple, set, frozenset)) or not all(
        t in TOOL_IDS for t in tools
    ):
        raise SpecError("tools", f"must be a list of tool ids from {', '.join(TOOL_IDS)}; got {tools!r}")
    return tuple(t for t in TOOL_IDS if t in tools)


def _check_seconds(seconds: Any) -> float:
    """A positive, finite number of seconds."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds < math.inf:
        raise SpecError("time_budget_s", f"must be a positive number of seconds, got {seconds!r}")
    return float(seconds)


def measure(
    spec: ArchSpec,
    input_size: Any = None,
    batch_size: int = 1,
    *,
    tools: Any = TOOL_IDS,
    time_budget_s: float = DEFAULT_TIME_BUDGET_S,
    train: bool = True,
    progress: Callable[[float, str], None] | None = None,
    budget: float | None = None,
) -> dict[str, Measured]:
    """Run the installed tools on the built model and return their own numbers.

    Args:
        spec: the architecture.
        input_size: ``(channels, height, width)``; default ``spec.input_size``.
        batch_size: the batch of random images every tool sees (ptflops sees one image, times the batch).
        tools: which tool ids to run (default all); timm is fvcore's run, pycls is never run.
        time_budget_s: once this many seconds are spent, the remaining tools are skipped.
        train: also count forward + backward with FlopCounterMode (``train_value``).
        progress: called as ``progress(fraction, text)`` before each tool runs.
        budget: bytes the model, the batch and (with ``train``) the saved activations may take; default the
            configured budget (``explorer.build.guard``); ``math.inf`` skips the check.

    Returns:
        One :class:`Measured` per requested tool, in :data:`explorer.costs.counters.TOOL_IDS` order.

    Raises:
        SpecError: bad input size, batch size, tool list or time budget.
        explorer.build.guard.ResourceError: the model and batch would not fit the memory budget.
    """
    from ..build.guard import resolve_budget

    batch = check_batch_size(batch_size)
    wanted, seconds = _check_tools(tools), _check_seconds(time_budget_s)
    memory = resolve_budget(budget)  # bad budgets are refused before any tool runs
    analysis = analyze(spec, input_size)
    results: dict[str, Measured] = {}
    for tool_id in wanted:  # the ones that cannot run need no model
        if tool_id == "pycls":
            results[tool_id] = Measured(tool_id, "not run", message=(
                "pycls computes complexity analytically from its own config, not from a model, and is not "
                "installed here; its rules are checked against its published dev/model_complexity.json"))
        elif installed_version(_runs_as(tool_id)) is None:
            tool = _TOOL[_runs_as(tool_id)]
            via = " (timm's benchmark counts with it)" if tool_id == "timm" else ""
            results[tool_id] = Measured(tool_id, "not installed", message=(
                f"{tool.package}{via} is not installed; the rules were read from {tool.package}=={tool.version}"))
    if any(t not in results for t in wanted):
        from .timing import LOCK  # also keeps a live count from overlapping a timing in another session

        with _LOCK, LOCK:
            _measure_installed(spec, analysis, batch, wanted, seconds, memory, train, results, progress)
    if progress is not None:
        progress(1.0, "done")
    return {t: results[t] for t in wanted}


def _measure_installed(spec: ArchSpec, analysis: Analysis, batch: int, wanted: tuple[str, ...], budget: float,
                       memory: float, train: bool, results: dict[str, Measured],
                       progress: Callable | None = None) -> None:
    """Check the memory budget, then build once and run each tool on one CPU thread."""
    from ..build.guard import check_memory

    check_memory(analysis, batch_size=batch, dtype="float32", device="cpu", budget=memory, what="counting")
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # see the module docstring: counts need no speed, and a busy CPU punishes threads
    try:
        _run_each(spec, analysis, batch, wanted, budget, memory, train, results, progress)
    finally:
        torch.set_num_threads(threads)


def _run_each(spec: ArchSpec, analysis: Analysis, batch: int, wanted: tuple[str, ...], budget: float,
              memory: float, train: bool, results: dict[str, Measured], progress: Callable | None = None) -> None:
    import torch

    from ..build.model import build_model

    start = time.monotonic()
    model = build_model(spec, budget=math.inf).eval()  # checked with the batch by the caller
    x = torch.randn(batch, *analysis.input_size)
    done: list[str] = []
    for i, tool_id in enumerate(wanted):
        if tool_id in results:
            continue
        if progress is not None:
            progress(i / len(wanted), f"running {_TOOL[_runs_as(tool_id)].label}")
        version = installed_version(_runs_as(tool_id))
        if tool_id == "timm" and "fvcore" in results:  # the same calls: do not trace twice
            results[tool_id] = _timm_from_fvcore(results["fvcore"])
            continue
        spent = time.monotonic() - start
        if spent > budget:
            results[tool_id] = Measured(tool_id, "skipped", installed_version=version, message=(
                f"the {budget:g} s time budget was spent after {', '.join(done) or 'building the model'} "
                f"({spent:.1f} s)"))
            continue
        t0 = time.monotonic()
        note = ""
        try:
            with _quiet():
                figures = _RUNNERS[tool_id](model, x, analysis.input_size)
                if tool_id == "torch_flop_counter" and train:
                    figures["train_value"], note = _train_figure(model, x, analysis, batch, memory)
        except Exception as e:  # a tool's own failure is reported, not raised: the others still run
            first = (str(e).strip().splitlines() or [""])[0][:300]
            results[tool_id] = Measured(tool_id, "failed", installed_version=version,
                                        seconds=time.monotonic() - t0, message=f"{type(e).__name__}: {first}")
        else:
            pinned = _TOOL[_runs_as(tool_id)].version
            if version != pinned:
                note = f"{note} The rules were read from version {pinned}; {version} is installed.".strip()
            if tool_id == "timm":
                note = f"{_TIMM_NOTE} {note}".strip()
            results[tool_id] = Measured(tool_id, "ok", **figures, installed_version=version,
                                        seconds=time.monotonic() - t0, message=note)
        done.append(tool_id)


def _train_figure(model: Any, x: Any, analysis: Analysis, batch: int, limit: float) -> tuple[int | None, str]:
    """FlopCounterMode's forward + backward count, unless the saved activations would not fit the budget."""
    need = _train_bytes(analysis, batch)
    if need > limit:
        return None, (f"forward + backward not run: it keeps about {need / 2**20:,.0f} MiB of activations, "
                      f"over the {limit / 2**20:,.0f} MiB budget")
    can_train = _bn_can_train(analysis, batch)
    note = "" if can_train else ("forward + backward counted in eval mode: train-mode BN needs more than one "
                                 "value per channel; the count is the same, BN is not counted")
    return _run_flop_counter_train(model, x, can_train), note


_TIMM_NOTE = ("fvcore's run: timm's benchmark.py profile_fvcore is FlopCountAnalysis and ActivationCountAnalysis "
              "on the model in eval mode (timm itself is not needed)")


def _runs_as(tool_id: str) -> str:
    """The tool whose code actually runs: timm's benchmark counts with fvcore."""
    return "fvcore" if tool_id == "timm" else tool_id


def _timm_from_fvcore(fvcore: Measured) -> Measured:
    """timm's live figures are fvcore's (same calls, same model), relabelled."""
    if fvcore.status != "ok":
        return Measured("timm", fvcore.status, installed_version=fvcore.installed_version,
                        message=f"fvcore: {fvcore.message}")
    return Measured("timm", "ok", value=fvcore.value, activations=fvcore.activations,
                    installed_version=fvcore.installed_version, seconds=0.0,
                    message=f"{_TIMM_NOTE} {fvcore.message}".strip())


def live_counts(
    spec: ArchSpec,
    input_size: Any = None,
    batch_size: int = 1,
    *,
    tools: Any = TOOL_IDS,
    time_budget_s: float = DEFAULT_TIME_BUDGET_S,
    train: bool = True,
    progress: Callable[[float, str], None] | None = None,
    budget: float | None = None,
) -> dict[str, LiveCount]:
    """The derived figure and the live output of each tool, side by side (arguments as :func:`measure`).

    Raises:
        SpecError: bad input size, batch size, tool list or time budget.
        explorer.build.guard.ResourceError: the model and batch would not fit the memory budget.
    """
    derived = tool_counts(spec, input_size, batch_size)
    measured = measure(spec, input_size, batch_size, tools=tools, time_budget_s=time_budget_s, train=train,
                       progress=progress, budget=budget)
    return {t: LiveCount(derived[t], m) for t, m in measured.items()}


__all__ = ["DEFAULT_TIME_BUDGET_S", "FIGURES", "LiveCount", "Measured", "installed_version", "live_counts", "measure"]
