"""Where the time goes: measured time per layer beside exact MACs per layer, on the device's roofline.

Method (on top of :mod:`explorer.measure.timing`): every leaf module gets a pre- and a post-forward hook that
stamps the time (on CUDA: a pair of CUDA events, no synchronization inside the forward; one synchronize
after it). Each round runs the network twice, once plain (the end-to-end time) and once hooked (the
layers), interleaved with every other network being profiled, after a warm-up. A layer's time is the
median over the hooked runs of ``post − pre``. Work that no module does — the residual add, form (a)'s
running sum, form (b)'s concatenation — is the gap between the modules around it, and is given to that
row; the remaining gaps (Python between modules, the hooks themselves) are reported as "between layers".
The profile states how close the sum of its layers comes to the end-to-end median.

Per layer it reports MACs (one image, as in ``analyze``) and their share, bytes moved (inputs, outputs and
weights at the dtype, for the whole batch), arithmetic intensity (MACs per byte), the achieved MAC/s and the
layer's roofline bound ``min(peak, intensity × bandwidth)`` from the device's two probes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from ..core import plan as P
from ..core.analysis import LayerRow, analyze
from ..core.errors import SpecError
from ..build.guard import check_memory
from .latency import Prepared, prepare
from .roofline import attainable, bandwidth_bytes_per_second, peak_macs_per_second
from ..core.spec import ArchSpec
from .timing import LOCK, LatencyResult, Progress, Settings, ShouldStop, guarded, percentile, summarize, time_calls, \
    torch_state

NON_MODULE = tuple(t for t, info in P.OPS.items() if not info.module)  # computed between modules (add, sum, …)
BETWEEN = "between layers"
COVERAGE_TOLERANCE = 0.15  # the layers must add up to the end-to-end median within this


@dataclass(frozen=True)
class LayerTime:
    """One row of ``analyze`` with its measured time. Times in ms for the whole batch; MACs per image."""

    index: int
    name: str
    type: str
    kind: str
    stage: str
    block: str
    median_ms: float
    p10_ms: float
    p90_ms: float
    share: float  # of the summed layer times (0–1)
    macs: int
    mac_share: float  # of the network's MACs (0–1)
    bytes: int
    intensity: float  # MACs per byte, for the batch
    achieved_macs_per_s: float
    bound_macs_per_s: float  # the roofline: min(peak, intensity × bandwidth)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Group:
    """Layers summed by stage, block or kind."""

    name: str
    layers: int
    median_ms: float
    share: float
    macs: int
    mac_share: float
    achieved_macs_per_s: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LayerProfile:
    """The measured time of every layer of one network, and how it adds up."""

    name: str
    end_to_end: LatencyResult
    layers: tuple[LayerTime, ...]
    between_ms: float  # median time between modules not given to any row (Python, hooks)
    runs: int
    peak_macs_per_s: float
    bandwidth_bytes_per_s: float

    @property
    def layers_ms(self) -> float:
        """Sum of the layers' median times (without the time between layers)."""
        return sum(r.median_ms for r in self.layers)

    @property
    def coverage(self) -> float:
        """Sum of the layers' times over the end-to-end median (1.0 = they add up exactly)."""
        return self.layers_ms / self.end_to_end.median_ms

    @property
    def adds_up(self) -> bool:
        return abs(self.coverage - 1) <= COVERAGE_TOLERANCE

    def groups(self, key: str) -> list[Group]:
        """Rollups by ``"stage"``, ``"block"`` or ``"kind"``, in order of appearance."""
        total_ms, total_macs = self.layers_ms or 1.0, sum(r.macs for r in self.layers) or 1
        grouped: dict[str, list[LayerTime]] = {}
        for r in self.layers:
            grouped.setdefault(getattr(r, key), []).append(r)
        batch = self.end_to_end.batch_size
        out = []
        for name, rows in grouped.items():
            ms_, macs = sum(r.median_ms for r in rows), sum(r.macs for r in rows)
            out.append(Group(name, len(rows), ms_, ms_ / total_ms, macs, macs / total_macs,
                             macs * batch / (ms_ / 1000) if ms_ > 0 else 0.0))
        return out

    def finding(self) -> str:
        """Where the time goes, in two sentences written from the measurement: the layer kind doing a real share
        of the MACs (≥ 1%) at the lowest rate, against the fastest; and the share of the layers with no MACs."""
        kinds = self.groups("kind")
        working = [g for g in kinds if g.mac_share >= 0.01]
        if not working:
            return ""
        slow = min(working, key=lambda g: g.achieved_macs_per_s)
        fast = max(working, key=lambda g: g.achieved_macs_per_s)
        one = slow.layers == 1
        text = (f"The {g_count(slow)} {'does' if one else 'do'} {slow.mac_share:.0%} of the MACs and "
                f"{'takes' if one else 'take'} {slow.share:.0%} of the time, at "
                f"{slow.achieved_macs_per_s / 1e9:,.1f} GMAC/s")
        if fast is not slow:
            text += (f"; the {g_count(fast)} {'reaches' if fast.layers == 1 else 'reach'} "
                     f"{fast.achieved_macs_per_s / 1e9:,.1f} GMAC/s")
        idle = [g for g in kinds if g.macs == 0]
        if idle:
            text += (f". Layers without multiply-adds ({', '.join(g.name for g in idle)}) take "
                     f"{sum(g.share for g in idle):.0%} of the time")
        return text + "."

    def summary(self) -> str:
        """How the layers add up to the end-to-end time, in one sentence."""
        return (f"The {len(self.layers)} layers add up to {self.layers_ms:,.3g} ms, {self.coverage:.0%} of the "
                f"end-to-end median of {self.end_to_end.median_ms:,.3g} ms (within ±{COVERAGE_TOLERANCE:.0%}: "
                f"{'yes' if self.adds_up else 'no'}); {self.between_ms:,.2g} ms more passed between layers "
                f"(Python and the timing hooks), {self.runs} hooked runs.")

    def to_dict(self) -> dict[str, Any]:
        e = self.end_to_end
        return {
            "name": self.name, "device": e.device, "device_name": e.device_name, "dtype": e.dtype,
            "batch_size": e.batch_size, "threads": e.threads, "channels_last": e.channels_last,
            "input_size": list(e.input_size), "end_to_end_median_ms": e.median_ms, "end_to_end": e.to_dict(),
            "layers_ms": self.layers_ms, "between_ms": self.between_ms, "coverage": self.coverage,
            "adds_up": self.adds_up, "runs": self.runs, "peak_macs_per_s": self.peak_macs_per_s,
            "bandwidth_bytes_per_s": self.bandwidth_bytes_per_s,
            "layers": [r.to_dict() for r in self.layers],
            **{f"by_{k}": [g.to_dict() for g in self.groups(k)] for k in ("stage", "block", "kind")},
            "finding": self.finding(),
        }


def g_count(g: Group) -> str:
    """'16 grouped 3×3 convs', '1 fc'."""
    return f"{g.layers} {g.name}{'s' if g.layers != 1 and not g.name.endswith('s') else ''}"


def _family(kind: str) -> str:
    """Dense and grouped convs of one kernel size are one family, so ResNet-50's dense 3×3s meet ResNeXt-50's
    grouped ones."""
    return kind.removeprefix("dense ").removeprefix("grouped ")


def _families(p: LayerProfile) -> dict[str, tuple[Group, list[str]]]:
    out: dict[str, list[Group]] = {}
    for g in p.groups("kind"):
        out.setdefault(_family(g.name), []).append(g)
    batch = p.end_to_end.batch_size
    merged = {}
    for fam, gs in out.items():
        ms_, macs = sum(g.median_ms for g in gs), sum(g.macs for g in gs)
        merged[fam] = (Group(fam, sum(g.layers for g in gs), ms_, sum(g.share for g in gs), macs,
                             sum(g.mac_share for g in gs), macs * batch / (ms_ / 1000) if ms_ > 0 else 0.0),
                       [g.name.split(" ")[0] for g in gs if g.name != fam])
    return merged


def explain(base: LayerProfile, other: LayerProfile) -> list[str]:
    """Why ``other`` takes more (or less) time than ``base``: the families of layers (1×1 convs, 3×3 convs, BN, …)
    whose time differs most, each with its MACs and the rate it ran at, largest difference first."""
    a, b = _families(base), _families(other)
    names = sorted(dict.fromkeys([*a, *b]), key=lambda k: -abs(_ms(b.get(k)) - _ms(a.get(k))))
    total = abs(other.layers_ms - base.layers_ms) or 1.0
    out = []
    for fam in names[:4]:
        (ga, how_a), (gb, how_b) = a.get(fam, (None, [])), b.get(fam, (None, []))
        delta = _ms(b.get(fam)) - _ms(a.get(fam))
        if out and abs(delta) < 0.1 * total:
            break
        if ga is None or gb is None:
            g, who = (gb, other.name) if ga is None else (ga, base.name)
            out.append(f"only {who} has {g_count(g)}: {g.median_ms:,.3g} ms")
            continue
        label = f"{' '.join(how_b)} {fam}s" if how_b and how_b != how_a else f"{fam}s"
        text = f"its {gb.layers} {label.strip()} take {delta:+,.3g} ms ({gb.median_ms:,.3g} vs {ga.median_ms:,.3g} ms"
        if ga.macs and gb.macs:
            text += (f"; {gb.macs / ga.macs:.3g}× the MACs, at {gb.achieved_macs_per_s / 1e9:,.1f} vs "
                     f"{ga.achieved_macs_per_s / 1e9:,.1f} GMAC/s")
        out.append(text + ")")
    return out


def _ms(entry: tuple[Group, list[str]] | None) -> float:
    return 0.0 if entry is None else entry[0].median_ms


# --- recording -----------------------------------------------------------------------------------------
class _Recorder:
    """Hooks on every leaf module that stamp the start and end of each call (CPU clock or CUDA events)."""

    def __init__(self, model: nn.Module, dev: torch.device, prefix: str = "") -> None:
        self.cuda = dev.type == "cuda"
        self.calls: list[tuple[str, Any, Any]] = []
        self._open: list[Any] = []
        self.active = False
        leaves = [(prefix + n, m) for n, m in model.named_modules() if n and not any(m.children())]
        self.handles = []
        for name, m in leaves:
            self.handles.append(m.register_forward_pre_hook(self._pre))
            self.handles.append(m.register_forward_hook(self._post(name)))

    def _stamp(self) -> Any:
        if self.cuda:
            e = torch.cuda.Event(enable_timing=True)
            e.record()
            return e
        return time.perf_counter()

    def _pre(self, module: nn.Module, args: Any) -> None:
        if self.active:
            self._open.append(self._stamp())

    def _post(self, name: str) -> Callable[..., None]:
        def hook(module: nn.Module, args: Any, out: Any) -> None:
            if self.active:
                self.calls.append((name, self._open.pop(), self._stamp()))
        return hook

    def take(self) -> list[tuple[str, float, float]]:
        """The calls of the last run as (module name, start s, end s), then forget them."""
        calls, self.calls = self.calls, []
        if self.cuda:
            torch.cuda.synchronize()
            t0 = calls[0][1] if calls else None
            return [(n, t0.elapsed_time(a) / 1000, t0.elapsed_time(b) / 1000) for n, a, b in calls]
        return calls

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def _attribute(rows: Sequence[LayerRow], calls: list[tuple[str, float, float]]) -> tuple[list[float], float]:
    """Seconds per row of ``rows`` for one hooked run, and the seconds between modules given to no row.

    Module rows take their call's duration, in order (a ReLU module used three times is three rows and three
    calls). The gap before a call goes to the non-module row (add, sum, concat) that the plan puts between
    it and the previous call; form (a)'s running sum happens between its paths, so the gap before each path
    after the first goes to the block's sum row.
    """
    out = [0.0] * len(rows)
    between = 0.0
    k = 0
    prev_end: float | None = None
    pending: list[int] = []  # non-module rows since the last call
    sums = {r.block: i for i, r in enumerate(rows) if r.type == "sum"}
    for i, r in enumerate(rows):
        if r.type in NON_MODULE:
            pending.append(i)
            continue
        if k >= len(calls) or calls[k][0] != r.name:
            got = calls[k][0] if k < len(calls) else "nothing"
            raise RuntimeError(f"layer_time: expected module {r.name!r} at call {k}, got {got!r} (a bug)")
        name, start, end = calls[k]
        k += 1
        out[i] = end - start
        if prev_end is not None:
            gap = max(start - prev_end, 0.0)
            if pending:
                for j in pending:
                    out[j] += gap / len(pending)
            elif r.block in sums and name.endswith(".conv1") and _path_index(name) >= 2:
                out[sums[r.block]] += gap  # ``out + path(x)``: the sum after path k−1 ends before path k starts
            else:
                between += gap
        pending = []
        prev_end = end
    return out, between


# --- the measurement -----------------------------------------------------------------------------------
def _path_index(name: str) -> int:
    """The k of a module in ``…paths.k.…`` (-1 elsewhere)."""
    part = name.split(".paths.")[1].split(".")[0] if ".paths." in name else ""
    return int(part) if part.isdigit() else -1


def _bytes(r: LayerRow, batch: int, itemsize: int) -> int:
    """Bytes a layer moves: its input and output for the batch, and its weights once."""
    return (batch * (math.prod(r.in_shape) + math.prod(r.out_shape)) + r.params) * itemsize


def time_layers(specs: ArchSpec | Sequence[ArchSpec], settings: Settings | None = None, *,
                progress: Progress | None = None, should_stop: ShouldStop | None = None) -> list[LayerProfile]:
    """Profile one network or several, interleaved: time per layer, rolled up, on the roofline.

    Each round runs every network once plain and once hooked. ``settings`` as for ``measure_latency``
    (``min_runs`` hooked runs at least; ``max_seconds`` bounds the whole profile). The memory budget is
    checked before anything is built.

    Returns:
        One ``LayerProfile`` per spec, in order.

    Raises:
        SpecError: bad input (``ResourceError`` over the memory budget).
        DeviceError: the device failed (``OutOfMemory``); memory has been freed.
        Cancelled: stopped before the first complete round.
    """
    items = [specs] if isinstance(specs, ArchSpec) else list(specs) if isinstance(specs, (list, tuple)) else None
    if not items or not all(isinstance(s, ArchSpec) for s in items):
        raise SpecError("specs", "must be an ArchSpec or a non-empty list of them")
    s = settings or Settings(min_runs=10, max_seconds=30)
    for spec in items:  # before the roofline's speed probes, which allocate and take time too
        check_memory(analyze(spec), batch_size=s.batch_size, dtype=s.dtype, device=s.device, budget=s.budget)
    with LOCK, torch_state(s):
        peak = peak_macs_per_second(s.edit(batch_size=1))
        bandwidth = bandwidth_bytes_per_second(s.edit(batch_size=1))
        return guarded(s, lambda: _profile(items, s, peak, bandwidth, progress, should_stop))


def time_modules(models: Sequence[nn.Module], rows: Sequence[Sequence[LayerRow]], names: Sequence[str],
                 input_size: tuple[int, int, int], settings: Settings, *, prefix: str = "",
                 progress: Progress | None = None, should_stop: ShouldStop | None = None) -> list[LayerProfile]:
    """Profile modules that are not whole networks (the Fig. 3 lab's block in its three forms): ``rows`` are each
    module's ``analyze_block`` rows, whose names are ``prefix`` + the module's own paths."""
    with LOCK, torch_state(settings):
        peak = peak_macs_per_second(settings.edit(batch_size=1))
        bandwidth = bandwidth_bytes_per_second(settings.edit(batch_size=1))
        prepared = [prepare(m, settings, input_size) for m in models]
        return guarded(settings, lambda: _run(prepared, [tuple(r) for r in rows], list(names), settings, peak,
                                              bandwidth, progress, should_stop, prefix))


def _profile(specs: list[ArchSpec], s: Settings, peak: float, bandwidth: float, progress: Progress | None,
             should_stop: ShouldStop | None) -> list[LayerProfile]:
    prepared = [prepare(spec, s) for spec in specs]
    rows = [analyze(spec, p.input_size).layers for spec, p in zip(specs, prepared)]
    return _run(prepared, rows, [spec.name for spec in specs], s, peak, bandwidth, progress, should_stop)


def _run(prepared: list[Prepared], rows: list[tuple[LayerRow, ...]], names: list[str], s: Settings, peak: float,
         bandwidth: float, progress: Progress | None, should_stop: ShouldStop | None,
         prefix: str = "") -> list[LayerProfile]:
    recorders = [_Recorder(p.model, s.torch_device, prefix) for p in prepared]
    runs: list[list[list[float]]] = [[] for _ in prepared]
    betweens: list[list[float]] = [[] for _ in prepared]
    try:
        calls: list[Callable[[], Any]] = []
        for p, rec, per_run, between, r in zip(prepared, recorders, runs, betweens, rows):
            x = p.make_input(s)
            calls.append(lambda m=p.model, x=x: m(x))
            calls.append(_hooked(p.model, x, rec, r, per_run, between))
        t = time_calls(calls, s, progress, should_stop)
    finally:
        for rec in recorders:
            rec.remove()
        for p in prepared:
            p.restore()
    out = []
    n = len(t.seconds[0])
    for i, (p, r) in enumerate(zip(prepared, rows)):
        e2e = summarize(names[i], [v * 1000 for v in t.seconds[2 * i]], s, p.input_size, t.stopped_by,
                        t.warmup_runs, t.total_seconds)
        out.append(_layers(names[i], r, runs[i][-n:], betweens[i][-n:], e2e, s, peak, bandwidth))
    return out


def _hooked(model: nn.Module, x: torch.Tensor, rec: _Recorder, rows: tuple[LayerRow, ...], per_run: list,
            between: list) -> Callable[[], None]:
    def run() -> None:
        rec.active = True
        try:
            model(x)
        finally:
            rec.active = False
        times, gap = _attribute(rows, rec.take())
        per_run.append(times)
        between.append(gap)
    return run


def _layers(name: str, rows: tuple[LayerRow, ...], runs: list[list[float]], between: list[float],
            e2e: LatencyResult, s: Settings, peak: float, bandwidth: float) -> LayerProfile:
    itemsize = s.torch_dtype.itemsize
    batch = s.batch_size
    medians = [sorted(run[i] for run in runs) for i in range(len(rows))]
    total = sum(percentile(m, 0.5) for m in medians) or 1e-12
    total_macs = sum(r.macs for r in rows) or 1
    layers = []
    for i, (r, m) in enumerate(zip(rows, medians)):
        med = percentile(m, 0.5)
        nbytes = _bytes(r, batch, itemsize)
        intensity = r.macs * batch / nbytes if nbytes else 0.0
        layers.append(LayerTime(
            i, r.name, r.type, r.kind, r.stage, r.block, med * 1000, percentile(m, 0.1) * 1000,
            percentile(m, 0.9) * 1000, med / total, r.macs, r.macs / total_macs, nbytes, intensity,
            r.macs * batch / med if med > 0 else 0.0, attainable(intensity, peak, bandwidth)))
    return LayerProfile(name, e2e, tuple(layers), percentile(sorted(between), 0.5) * 1000, len(runs), peak,
                        bandwidth)


__all__ = ["BETWEEN", "COVERAGE_TOLERANCE", "Group", "explain", "LayerProfile", "LayerTime", "time_layers", "time_modules"]
