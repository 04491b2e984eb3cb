"""ResNeXt Fig. 3 as an experiment: build forms a, b and c from one set of random weights, compare outputs.

``equivalence`` does it for one block (the lab's exhibit), ``network_equivalence`` for a whole network;
both check the memory budget and the amount of work before they build anything, and can time the three
forms interleaved. The weight surgery itself is :func:`explorer.build.forms.to_form`.

Counting conventions are those of ``explorer.core.analysis``: ``macs`` are conv multiply-accumulates (the
papers' "FLOPs"); ``flops = 2 * macs``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..core import plan as P
from ..core.analysis import analyze, analyze_block
from ..build.devices import resolve_device
from ..core.errors import Cancelled, SpecError
from ..build.forms import to_form
from ..build.guard import check_budget, estimate_memory
from .latency import Ratio, measure_interleaved, paired_ratios
from ..build.model import build_model
from ..build.nets import Bottleneck, PathsBottleneck
from ..core.presets import get_preset
from ..core.run_fields import BLOCK_DEFAULTS, BLOCK_FIELDS
from ..core.spec import FORMS, MAX_WIDTH, SPEC_FIELDS, ArchSpec, check_input_size
from .timing import LatencyResult, Progress, Settings, ShouldStop

# One forward of one form over the batch; above this the lab would keep a CPU busy for minutes.
MAX_WORK_MACS = 20_000_000_000
FORMS_HALF_WIDTH = 0.05  # the forms' timing goes on until each one's time relative to (c) is known within ±5%


def make_block(
    cardinality: int = 32, d: int = 4, c_in: int = 256, *, c_out: int | None = None, stride: int = 1,
    downsample_on: str = "3x3", form: str = "c", device: str | torch.device = "cpu",
) -> nn.Module:
    """One bottleneck block of ``build_model``'s classes: the 3×3 has ``cardinality`` groups of ``d`` channels.

    The shortcut is the identity when the shape is kept, a 1×1 projection + BN (option B) otherwise.
    Weights are PyTorch's default initialization; see ``randomize_``.
    """
    c_out = c_in if c_out is None else c_out
    _check_block_args(cardinality, d, c_in, c_out)
    SPEC_FIELDS["strides"].check(stride, "stride")
    SPEC_FIELDS["downsample_on"].check(downsample_on)
    SPEC_FIELDS["form"].check(form)
    args = (c_in, cardinality * d, c_out, stride, cardinality, downsample_on, "B")
    with resolve_device(device):
        return Bottleneck(*args) if form == "c" else PathsBottleneck(*args, form)


def randomize_(module: nn.Module, seed: int = 0) -> nn.Module:
    """Give every conv, linear and BN layer random, non-trivial values, in place; returns ``module``.

    Convs and linears get He-scaled normal weights; BN gets scales in [0.5, 1.5], shifts, running means
    and running variances in [0.5, 2] that are far from the initial 1/0/0/1, and a nonzero
    ``num_batches_tracked``, so an equivalence check exercises every tensor. Deterministic in ``seed``
    on every device (the numbers are drawn on the CPU).
    """
    g = torch.Generator().manual_seed(seed)

    def draw(t: torch.Tensor, low: float | None = None, high: float | None = None, std: float = 1.0) -> None:
        if low is None:
            values = torch.randn(t.shape, generator=g) * std
        else:
            values = torch.rand(t.shape, generator=g) * (high - low) + low
        t.copy_(values)

    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                draw(m.weight, std=math.sqrt(2 / m.weight[0].numel()))
                if m.bias is not None:
                    draw(m.bias, std=0.1)
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                if m.affine:
                    draw(m.weight, 0.5, 1.5)
                    draw(m.bias, std=0.2)
                if m.track_running_stats:
                    draw(m.running_mean, std=0.2)
                    draw(m.running_var, 0.5, 2.0)
                    m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (), generator=g)))
    return module


@dataclass(frozen=True)
class FormReport:
    """One form in an equivalence check.

    Attributes:
        form: ``"a"``, ``"b"`` or ``"c"``.
        params: parameters (convs and BN), from the layer plan.
        macs: conv (and linear) multiply-accumulates for one image, from the layer plan.
        convs: conv layers run per forward pass (form a runs 3 per path: more, smaller kernels).
        max_abs_diff_float32: largest ``|out - out_c|`` over the batch, in float32.
        max_abs_diff_float64: the same in float64 (None where the device has no float64).
        latency: the float32 timing when measured, else None.
    """

    form: str
    params: int
    macs: int
    convs: int
    max_abs_diff_float32: float
    max_abs_diff_float64: float | None
    latency: LatencyResult | None = None

    @property
    def latency_ms(self) -> float | None:
        return None if self.latency is None else self.latency.median_ms

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "latency"}
        return {**d, "latency_ms": self.latency_ms}


@dataclass(frozen=True)
class EquivalenceReport:
    """Forms a, b and c of one block or network, built from one set of random weights, compared.

    ``output_max_abs`` is the largest ``|out_c|`` in float32: divide a difference by it for a relative one.
    ``ratios``, when timed: forms a and b against c (paired rounds, with confidence intervals).
    """

    subject: str
    cardinality: int
    d: int
    input_size: tuple[int, int, int]
    batch_size: int
    mode: str
    device: str
    seed: int
    output_max_abs: float
    forms: tuple[FormReport, ...]
    ratios: tuple[Ratio, ...] = ()

    def form(self, name: str) -> FormReport:
        """The report of one form."""
        for f in self.forms:
            if f.form == name:
                return f
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON; ``forms`` maps each form to its numbers."""
        skip = ("forms", "ratios")
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in skip}
        d["input_size"] = list(self.input_size)
        d["forms"] = {f.form: {k: v for k, v in f.to_dict().items() if k != "form"} for f in self.forms}
        d["ratios"] = [r.to_dict() for r in self.ratios]
        d["worst_float32"], d["worst_float64"] = self.worst("float32"), self.worst("float64")
        return d

    def worst(self, dtype: str = "float32") -> float | None:
        """The largest difference of forms (a) and (b) from (c) in ``dtype`` (None where it was not run)."""
        values = [getattr(f, f"max_abs_diff_{dtype}") for f in self.forms if f.form != "c"]
        return None if any(v is None for v in values) else max(values)


def equivalence(
    cardinality: int = BLOCK_DEFAULTS["cardinality"], d: int = BLOCK_DEFAULTS["d"],
    channels: int = BLOCK_DEFAULTS["channels"], size: int = BLOCK_DEFAULTS["size"], *,
    batch_size: int = BLOCK_DEFAULTS["batch_size"],
    train: bool = False, device: str | torch.device = "cpu", seed: int = 0, timing: Settings | None = None,
    progress: Progress | None = None, should_stop: ShouldStop | None = None, budget: float | None = None,
) -> EquivalenceReport:
    """Build forms a, b, c of one block from one set of random weights and compare them (ResNeXt Fig. 3).

    The block is ``channels`` → C paths of width ``d`` → ``channels`` with an identity shortcut (the
    conv2 template is ``equivalence(32, 4, 256, 56)``). Form c is built with random weights and
    non-trivial BN statistics (``randomize_``), forms a and b are ``to_form`` of it; all three run on
    one random input of ``batch_size`` images in float32 and in float64.

    Args:
        train: run in train mode (BN uses batch statistics) instead of eval mode.
        device: where to build and compare; with ``timing``, its device is used instead.
        timing: also time the three forms in float32, interleaved, with these settings (batch size and all).
        budget: memory budget in bytes (default the configured one; ``math.inf`` skips the check).

    Raises:
        SpecError: an argument is out of range (the field is named), or the check is too big to run
            (``ResourceError`` for memory).
    """
    _check_block_args(cardinality, d, channels, channels)
    BLOCK_FIELDS["size"].check(size)
    _check_batch(batch_size, train)
    input_size = (channels, size, size)
    rows = {f: analyze_block(_block_plan(cardinality, d, channels, f), input_size) for f in FORMS}
    counts = {f: (sum(r.params for r in rs), sum(r.macs for r in rs), sum(r.type == "conv" for r in rs))
              for f, rs in rows.items()}
    _check_block_work(cardinality=cardinality, d=d, channels=channels, size=size, batch_size=batch_size)
    dev = resolve_device(timing.device if timing else device)
    # three forms, float32 and float64 copies, and one form's activations at a time
    biggest = max(math.prod(r.out_shape) for rs in rows.values() for r in rs)
    check_budget(3 * counts["c"][0] * (4 + 8) + 4 * batch_size * biggest * 8, what="comparing the three forms",
                 device=str(dev), budget=budget)
    block = randomize_(make_block(cardinality, d, channels, device=dev), seed)
    diffs, scale, timed = _compare(block, input_size, batch_size, train, dev, seed, timing, progress, should_stop)
    return _report(f"{channels}-({cardinality}×{d}d)-{channels} block at {size}×{size}", cardinality, d, input_size,
                   batch_size, train, dev, seed, scale, counts, diffs, timed)


def network_equivalence(
    spec: ArchSpec | str = "resnext50_32x4d", input_size: Any = (3, 64, 64), *, batch_size: int = 2,
    train: bool = False, device: str | torch.device = "cpu", seed: int = 0, timing: Settings | None = None,
    progress: Progress | None = None, should_stop: ShouldStop | None = None, budget: float | None = None,
) -> EquivalenceReport:
    """The whole-network check: a bottleneck network in forms a, b and c, one set of random weights.

    ``spec`` is a spec or a preset name; its ``form`` is ignored (form c is built, randomized, and
    converted with ``to_form``). Params and MACs come from ``analyze`` of each form at ``input_size``.
    Arguments as in ``equivalence``.
    """
    spec = get_preset(spec) if isinstance(spec, str) else spec
    if not isinstance(spec, ArchSpec):
        raise SpecError("spec", f"expected an ArchSpec or a preset name, got {type(spec).__name__}")
    if spec.block != "bottleneck":
        raise SpecError("spec", f"{spec.name} has basic blocks; forms a and b exist only for bottleneck blocks")
    size = check_input_size(input_size)
    _check_batch(batch_size, train)
    analyses = {f: analyze(spec.edit(form=f), size) for f in FORMS}
    counts = {f: (a.params, a.macs, sum(r.type == "conv" for r in a.layers)) for f, a in analyses.items()}
    _check_work(counts["c"][1] * batch_size)
    dev = resolve_device(timing.device if timing else device)
    # three forms in float32 and float64 (the float64 copies are 2×), each with its forward's activations
    check_budget(6 * estimate_memory(analyses["c"], batch_size, "float32").total_bytes,
                 what=f"comparing {spec.name} in three forms", device=str(dev), budget=budget)
    net = randomize_(build_model(spec.edit(form="c"), device=dev, budget=math.inf), seed)
    diffs, scale, timed = _compare(net, size, batch_size, train, dev, seed, timing, progress, should_stop)
    return _report(spec.name, spec.cardinality, spec.group_width(0) // spec.cardinality, size, batch_size, train,
                   dev, seed, scale, counts, diffs, timed)


def time_forms(cardinality: int = BLOCK_DEFAULTS["cardinality"], d: int = BLOCK_DEFAULTS["d"],
               channels: int = BLOCK_DEFAULTS["channels"], size: int = BLOCK_DEFAULTS["size"], *,
               settings: Settings | None = None, seed: int = 0, progress: Progress | None = None,
               should_stop: ShouldStop | None = None) -> dict[str, Any]:
    """Every layer of the lab's block in forms a, b and c, timed in the same rounds (``measure.layer_time``): where
    form (a)'s extra time goes — its many small convolutions, and the time between them.

    Returns:
        ``{form: LayerProfile}`` for "c", "a", "b" (in that order).
    """
    from .layer_time import time_modules

    _check_block_args(cardinality, d, channels, channels)
    BLOCK_FIELDS["size"].check(size)
    s = settings or Settings(min_runs=8, max_seconds=30)
    input_size = (channels, size, size)
    rows = {f: analyze_block(_block_plan(cardinality, d, channels, f), input_size) for f in ("c", "a", "b")}
    _check_block_work(cardinality=cardinality, d=d, channels=channels, size=size, batch_size=s.batch_size)
    biggest = max(math.prod(r.out_shape) for rs in rows.values() for r in rs)
    check_budget(3 * sum(r.params for r in rows["c"]) * 4 + 6 * s.batch_size * biggest * 4,
                 what="timing the three forms", device=s.device, budget=s.budget)
    block = randomize_(make_block(cardinality, d, channels), seed)
    models = [to_form(block, f).eval() for f in rows]
    profiles = time_modules(models, list(rows.values()), [f"form {f}" for f in rows], input_size, s, prefix="block.",
                            progress=progress, should_stop=should_stop)
    return dict(zip(rows, profiles))


def _report(subject: str, cardinality: int, d: int, input_size: tuple[int, int, int], batch_size: int, train: bool,
            dev: torch.device, seed: int, scale: float, counts: dict, diffs: dict,
            timed: dict[str, LatencyResult]) -> EquivalenceReport:
    forms = tuple(FormReport(f, *counts[f], *diffs[f], timed.get(f)) for f in ("a", "b", "c"))
    ratios = tuple(paired_ratios([timed["c"], timed["a"], timed["b"]])) if timed else ()
    return EquivalenceReport(subject, cardinality, d, input_size, batch_size, "train" if train else "eval", str(dev),
                             seed, scale, forms, ratios)


def _compare(
    grouped: nn.Module, input_size: tuple[int, int, int], batch_size: int, train: bool, dev: torch.device,
    seed: int, timing: Settings | None, progress: Progress | None, should_stop: ShouldStop | None,
) -> tuple[dict[str, tuple[float, float | None]], float, dict[str, LatencyResult]]:
    """Max |out_f - out_c| per form in float32 and float64, the output scale, and optional timings."""
    x = torch.randn((batch_size, *input_size), generator=torch.Generator().manual_seed(seed + 1))
    dtypes = [torch.float32] + ([torch.float64] if dev.type != "mps" else [])
    diffs: dict[str, list[float | None]] = {f: [] for f in ("a", "b", "c")}
    scale = 0.0
    models32: dict[str, nn.Module] = {}
    share = 0.3 if timing is not None else 1.0  # of the progress bar, when the forms are timed afterwards
    for k, dtype in enumerate(dtypes):
        base = copy.deepcopy(grouped).to(dtype).train(train)
        models = {f: to_form(base, f) for f in ("c", "a", "b")}
        outs = {}
        with torch.no_grad(), _one_cpu_thread():
            for j, (f, m) in enumerate(models.items()):
                if should_stop is not None and should_stop():
                    raise Cancelled("the comparison was stopped before it finished")
                outs[f] = m(x.to(dev, dtype))
                if progress is not None:
                    progress(share * (3 * k + j + 1) / (3 * len(dtypes)), f"form {f} in {str(dtype)[6:]}")
        for f in diffs:
            diffs[f].append((outs[f] - outs["c"]).abs().max().item())
        if dtype == torch.float32:
            scale, models32 = outs["c"].abs().max().item(), models
    for f in diffs:
        diffs[f] += [None] * (2 - len(diffs[f]))
    timed: dict[str, LatencyResult] = {}
    if timing is not None:  # c first: the ratios are "× form (c)"
        def timing_progress(fraction: float, text: str) -> None:
            if progress is not None:
                progress(share + (1 - share) * fraction, text)  # the timing loop's text says "timing: …" itself

        results = measure_interleaved([m.eval() for m in models32.values()], timing, input_size=input_size,
                                      half_width=FORMS_HALF_WIDTH, names=[f"form {f}" for f in models32],
                                      progress=timing_progress, should_stop=should_stop)
        timed = dict(zip(models32, results))
    return {f: (v[0], v[1]) for f, v in diffs.items()}, scale, timed


@contextlib.contextmanager
def _one_cpu_thread() -> Iterator[None]:
    """Run the comparison on one intra-op thread, restored afterwards.

    Forms a and b run thousands of tiny convs. On a busy few-core CPU, several threads spend more time
    synchronizing than computing: a 4×4-channel 3×3 conv at 8×8 took 0.02 ms on one thread and 16 ms
    on two while another process ran (2-core machine). A whole-network check went from 83 s to 5 s.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _block_plan(cardinality: int, d: int, channels: int, form: str) -> P.BlockPlan:
    """The plan of the lab's identity-shortcut block, from the same code that plans whole networks."""
    width = cardinality * d
    main = P.bottleneck_main("block", channels, width, channels, 1, cardinality=cardinality, form=form,
                             downsample_on="3x3")
    return P.BlockPlan("block", "bottleneck", form, 0, channels, width, channels, 1, main, None, True,
                       (P.ReLU("block.relu"),))


def _check_block_args(cardinality: int, d: int, c_in: int, c_out: int) -> None:
    f = BLOCK_FIELDS
    f["cardinality"].check(cardinality)
    f["d"].check(d)
    f["channels"].check(c_in)
    f["channels"].check(c_out, "c_out")
    if cardinality * d > MAX_WIDTH:
        raise SpecError("d", f"C × d = {cardinality * d:,} channels; at most {MAX_WIDTH:,}")


def _check_batch(batch_size: int, train: bool) -> None:
    BLOCK_FIELDS["batch_size"].check(batch_size)
    BLOCK_FIELDS["train"].check(train)
    if train and batch_size < 2:
        raise SpecError("batch_size", "train mode needs at least 2 images (BN normalizes over the batch)")


def _check_work(macs: int) -> None:
    if macs > MAX_WORK_MACS:
        raise SpecError("size", f"one forward pass would take {macs / 1e9:,.1f} GMACs (at most "
                        f"{MAX_WORK_MACS / 1e9:.0f}); use a smaller size, batch or block")


def _block_macs(cardinality: int, d: int, channels: int, size: int, batch_size: int) -> int:
    rows = analyze_block(_block_plan(cardinality, d, channels, "c"), (channels, size, size))
    return batch_size * sum(r.macs for r in rows)


def _check_block_work(**values: int) -> None:
    """The block's forward work within MAX_WORK_MACS, or a ``SpecError`` naming the field whose value costs the
    most: the one that, set back to its default (``BLOCK_DEFAULTS``), removes the largest share of the work."""
    macs = _block_macs(**values)
    if macs <= MAX_WORK_MACS:
        return
    field = max(values, key=lambda k: macs / _block_macs(**{**values, k: BLOCK_DEFAULTS[k]}))
    c, d, channels, size, batch = (values[k] for k in ("cardinality", "d", "channels", "size", "batch_size"))
    raise SpecError(field, f"the block's forward pass would take {macs / 1e9:,.1f} GMACs (at most "
                    f"{MAX_WORK_MACS / 1e9:.0f}): C × d = {c * d:,} channels, {channels:,} in and out, at "
                    f"{size}×{size}, {batch:,} image{'s' if batch > 1 else ''}; this value adds the most")


__all__ = [
    "BLOCK_FIELDS", "MAX_WORK_MACS", "time_forms", "EquivalenceReport", "FormReport", "equivalence", "make_block",
    "network_equivalence", "randomize_",
]
