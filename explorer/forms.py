"""The three equivalent forms of the ResNeXt block (Fig. 3): conversion between them and equivalence checks.

ResNeXt Fig. 3 draws one function three ways:

- (a) C parallel paths, each 1×1 → BN → ReLU → 3×3 → BN → ReLU → 1×1, summed, then the block's BN;
- (b) C paths of 1×1 → BN → ReLU → 3×3 → BN → ReLU, concatenated, then one 1×1 → BN;
- (c) 1×1 → BN → ReLU → grouped 3×3 (C groups) → BN → ReLU → 1×1 → BN.

They are the same function because everything before the last 1×1 works channel by channel or group
by group (BN normalizes each channel on its own, with running statistics in eval mode and with batch
statistics in train mode), and because the convs have no bias: a 1×1 over all C·d channels is the
sum over paths of a 1×1 over each path's d channels, so (a)'s C summed 1×1s followed by one BN is
(c)'s 1×1 + BN. ``to_form`` moves real weights between the forms by slicing and concatenating, which
is exact; only the order of floating-point additions differs.

The cardinality-vs-width trade-off of Table 2 lives in ``explorer.design``.

Counting conventions are those of ``explorer.analysis``: ``macs`` are conv multiply-accumulates (the
papers' "FLOPs"); ``flops = 2 * macs``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from . import plan as P
from .analysis import analyze, analyze_block
from .model import BasicBlock, Bottleneck, PathsBottleneck, build_model
from .presets import get_preset
from .spec import (
    FORMS,
    MAX_SIDE,
    MAX_WIDTH,
    ArchSpec,
    SpecError,
    check_choice,
    check_input_size,
    check_int,
)

FORM_TITLES = {"a": "(a) parallel paths, summed", "b": "(b) early concatenation", "c": "(c) grouped convolution"}
# One forward of one form over the batch; above this the lab would keep a CPU busy for minutes.
MAX_WORK_MACS = 20_000_000_000
MAX_PATHS = 1024  # form (a) builds 3 modules per path: beyond this building alone takes seconds

_BLOCKS = (BasicBlock, Bottleneck, PathsBottleneck)


# --- to_form ------------------------------------------------------------------------------------
def form_of(module: nn.Module) -> str:
    """The Fig. 3 form of a block or of a network's bottleneck blocks: ``"a"``, ``"b"`` or ``"c"``.

    Basic blocks count as ``"c"`` (they have only the one form). A network whose blocks mix forms
    raises ``ValueError``; a module with no ResNet block raises ``TypeError``.
    """
    if isinstance(module, PathsBottleneck):
        return "b" if "conv3" in module._modules else "a"
    if isinstance(module, (Bottleneck, BasicBlock)):
        return "c"
    forms = {form_of(m) for m in module.modules() if isinstance(m, _BLOCKS)}
    if not forms:
        raise TypeError(f"module: {type(module).__name__} contains no ResNet block")
    if len(forms) > 1:
        raise ValueError(f"module: its blocks mix forms {sorted(forms)}")
    return forms.pop()


def to_form(module: nn.Module, form: str) -> nn.Module:
    """Re-express a bottleneck block, or every block of a network, in another form of ResNeXt Fig. 3.

    Returns a new module with the same function; ``module`` is not changed. Conv weights and BN
    parameters, running statistics and ``num_batches_tracked`` are sliced (c → a/b: path ``i`` takes
    output channels ``i*d:(i+1)*d`` of ``conv1``/``bn1``, group ``i`` of ``conv2``/``bn2``, and in form
    (a) input channels ``i*d:(i+1)*d`` of ``conv3``) or concatenated (a/b → c), exactly. a ↔ b goes
    through c. The shortcut, every BN's ``eps``/``momentum``, each parameter's ``requires_grad`` and
    each submodule's train/eval mode are carried over; gradients (``.grad``) are not.

    A network is deep-copied with each block replaced by its converted copy, so
    ``to_form(build_model(spec), f)`` has the module tree and ``state_dict`` keys of
    ``build_model(dataclasses.replace(spec, form=f))``. The blocks are rebuilt from the layer plan (the
    same ``explorer.plan`` code that ``build_model`` uses), on the meta device, then filled with the
    source's tensors: no spec is needed, only the block's channels, groups and strides, read from its
    modules.

    Args:
        module: a ``Bottleneck`` or ``PathsBottleneck`` block, a ``BasicBlock`` (form ``"c"`` only), or
            any module containing them (a ``ResNet`` from ``build_model``, one stage).
        form: ``"a"``, ``"b"`` or ``"c"``.

    Raises:
        SpecError: ``form`` is not a form, or forms (a)/(b) are asked of basic blocks (ResNeXt Fig. 4:
            grouping a two-layer block only gives a wide dense module).
        TypeError: ``module`` contains no ResNet block.
        ValueError: the block cannot be re-expressed exactly (a conv with a bias, BN without affine
            parameters, paths whose BN settings disagree).
    """
    check_choice(form, "form", FORMS)
    if not isinstance(module, nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    if isinstance(module, _BLOCKS):
        return _convert_block(module, form)
    blocks = [m for m in module.modules() if isinstance(m, _BLOCKS)]
    if not blocks:
        raise TypeError(f"module: {type(module).__name__} contains no ResNet block")
    # deepcopy takes a memo of already-copied objects: pre-filling it with the converted blocks copies
    # everything else (stem, head, attributes, modes) and puts the new blocks in the old ones' places.
    memo: dict[int, Any] = {id(b): _convert_block(b, form) for b in blocks}
    return copy.deepcopy(module, memo)


def _convert_block(block: nn.Module, form: str) -> nn.Module:
    if isinstance(block, BasicBlock) and form != "c":
        raise SpecError(
            "form: forms 'a' and 'b' exist only for bottleneck blocks; grouping a two-layer (basic) block "
            "only gives a wide dense module (ResNeXt Fig. 4)"
        )
    if form_of(block) == form:
        return copy.deepcopy(block)
    grouped = block if isinstance(block, Bottleneck) else _paths_to_grouped(block)
    return grouped if form == "c" else _grouped_to_paths(grouped, form)


def _grouped_to_paths(src: Bottleneck, form: str) -> PathsBottleneck:
    """Fig. 3 (c) → (a) or (b) by slicing."""
    groups, width = src.conv2.groups, src.conv2.out_channels
    d = width // groups
    new = _new_block(src, src.conv1, src.conv2, width, src.conv3.out_channels, groups, form)
    for i, path in enumerate(new.paths):
        own = _narrow(0, i * d, d)
        for name in ("conv1", "bn1", "relu", "conv2", "bn2"):
            _fill(getattr(path, name), [getattr(src, name)], own)
        if form == "a":
            _fill(path.conv3, [src.conv3], _narrow(1, i * d, d))
    if form == "b":
        _fill(new.conv3, [src.conv3], _whole)
    _fill(new.bn3, [src.bn3], _whole)
    _fill(new.relu, [src.relu], _whole)
    return _checked(new, src)


def _paths_to_grouped(src: PathsBottleneck) -> Bottleneck:
    """Fig. 3 (a) or (b) → (c) by concatenation."""
    paths = list(src.paths)
    first = paths[0]
    width = first.conv1.out_channels * len(paths)
    new = _new_block(src, first.conv1, first.conv2, width, src.bn3.num_features, len(paths), "c")
    for name in ("conv1", "bn1", "conv2", "bn2"):
        _fill(getattr(new, name), [getattr(p, name) for p in paths], _cat(0))
    if "conv3" in src._modules:  # form b: the one 1×1 is already whole
        _fill(new.conv3, [src.conv3], _whole)
    else:  # form a: the 1×1 of path i reads channels i*d:(i+1)*d of the grouped output
        _fill(new.conv3, [p.conv3 for p in paths], _cat(1))
    _fill(new.bn3, [src.bn3], _whole)
    _fill(new.relu, [src.relu], _whole)
    return _checked(new, src)


def _new_block(
    src: nn.Module, conv1: nn.Conv2d, conv2: nn.Conv2d, width: int, c_out: int, groups: int, form: str
) -> nn.Module:
    """An empty (meta) block of ``form`` with ``src``'s geometry, its shortcut and its mode."""
    s1, s2 = conv1.stride[0], conv2.stride[0]
    if s1 != 1 and s2 != 1:
        raise ValueError(f"module: both the 1×1 (stride {s1}) and the 3×3 (stride {s2}) are strided")
    stride = s1 * s2
    # The placeholder only reserves the shortcut's place in the module order (as build_model has
    # it); it is replaced by a copy of the source's own shortcut below.
    slot = None if src.downsample is None else P.ShortcutA("block.downsample", conv1.in_channels, c_out, stride)
    plan = _block_plan(conv1.in_channels, width, c_out, groups, form, stride, "1x1" if s1 != 1 else "3x3",
                       slot, src.residual)
    with torch.device("meta"):
        new = Bottleneck(plan) if form == "c" else PathsBottleneck(plan)
    new.train(src.training)
    if src.downsample is not None:
        new.downsample = copy.deepcopy(src.downsample)
    return new


def _block_plan(
    c_in: int, width: int, c_out: int, groups: int, form: str, stride: int, downsample_on: str,
    shortcut: P.Projection | P.ShortcutA | None, residual: bool,
) -> P.BlockPlan:
    """The plan of one bottleneck block, from the same code that plans whole networks."""
    main = P.bottleneck_main("block", c_in, width, c_out, stride, cardinality=groups, form=form,
                             downsample_on=downsample_on)
    return P.BlockPlan("block", "bottleneck", form, 0, c_in, c_out, stride, main, shortcut, residual)


Pick = Callable[[list[torch.Tensor]], torch.Tensor]


def _narrow(dim: int, start: int, length: int) -> Pick:
    return lambda ts: ts[0].narrow(dim, start, length)


def _cat(dim: int) -> Pick:
    return lambda ts: torch.cat(ts, dim)


def _whole(ts: list[torch.Tensor]) -> torch.Tensor:
    return ts[0]


def _fill(dst: nn.Module, srcs: list[nn.Module], pick: Pick) -> None:
    """Give ``dst`` (built on meta) the tensors of ``srcs`` combined by ``pick``, and their settings and mode."""
    first = srcs[0]
    for attr in ("eps", "momentum"):
        if hasattr(first, attr):
            if len({getattr(s, attr) for s in srcs}) > 1:
                raise ValueError(f"module: the paths' {type(first).__name__} layers have different {attr}")
            setattr(dst, attr, getattr(first, attr))
    dst.training = first.training
    with torch.no_grad():
        for store in ("_parameters", "_buffers"):
            slots = getattr(dst, store)
            for name in dict.fromkeys([*getattr(first, store), *slots]):
                values = [getattr(s, store).get(name) for s in srcs]
                if slots.get(name) is None and all(v is None for v in values):
                    continue
                if slots.get(name) is None or any(v is None for v in values):
                    raise ValueError(
                        f"module: {type(first).__name__}.{name} exists in only one of the forms, so they cannot "
                        "compute the same function (bias-free convs and affine BN are required)"
                    )
                value = _same_scalar(values, name) if values[0].ndim == 0 else pick(values)
                if value.shape != slots[name].shape:
                    raise ValueError(f"module: {type(first).__name__}.{name} has shape {tuple(value.shape)}, "
                                     f"expected {tuple(slots[name].shape)}")
                value = value.clone(memory_format=torch.contiguous_format)
                if store == "_parameters":
                    value = nn.Parameter(value, requires_grad=values[0].requires_grad)
                slots[name] = value


def _same_scalar(values: list[torch.Tensor], name: str) -> torch.Tensor:
    """``num_batches_tracked`` of merged paths: they saw the same batches, so it must agree."""
    if not values[0].is_meta and any(not torch.equal(v, values[0]) for v in values[1:]):
        raise ValueError(f"module: the paths disagree on {name}")
    return values[0]


def _checked(new: nn.Module, src: nn.Module) -> nn.Module:
    """Guard against a tensor left unfilled (still on meta) by a change in the block layout."""
    if not next(src.parameters()).is_meta:
        for name, t in [*new.named_parameters(), *new.named_buffers()]:
            if t.is_meta:
                raise RuntimeError(f"to_form: {name} of the new block was not filled (a bug in explorer.forms)")
    return new


# --- the block as an exhibit --------------------------------------------------------------------
def make_block(
    cardinality: int = 32, d: int = 4, c_in: int = 256, *, c_out: int | None = None, stride: int = 1,
    downsample_on: str = "3x3", form: str = "c", device: str | torch.device = "cpu",
) -> nn.Module:
    """One bottleneck block, built from the layer plan like the blocks of ``build_model``.

    The 3×3 has ``cardinality`` groups of ``d`` channels. The shortcut is the identity when the shape
    is kept, a 1×1 projection + BN (option B) otherwise. Weights are PyTorch's default initialization;
    see ``randomize_``.
    """
    c_out = c_in if c_out is None else c_out
    _check_block_args(cardinality, d, c_in, c_out)
    check_int(stride, "stride", 1, 4)
    check_choice(downsample_on, "downsample_on", ("3x3", "1x1"))
    check_choice(form, "form", FORMS)
    shortcut = None
    if stride != 1 or c_in != c_out:
        shortcut = P.Projection("block.downsample", P.Conv("block.downsample.0", c_in, c_out, 1, stride),
                                P.BatchNorm("block.downsample.1", c_out))
    plan = _block_plan(c_in, cardinality * d, c_out, cardinality, form, stride, downsample_on, shortcut, True)
    with _device(device):
        return Bottleneck(plan) if form == "c" else PathsBottleneck(plan)


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
        latency_ms: median latency in float32 when measured, else None.
    """

    form: str
    params: int
    macs: int
    convs: int
    max_abs_diff_float32: float
    max_abs_diff_float64: float | None
    latency_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EquivalenceReport:
    """Forms a, b and c of one block or network, built from one set of random weights, compared.

    ``output_max_abs`` is the largest ``|out_c|`` in float32: divide a difference by it for a relative one.
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

    def form(self, name: str) -> FormReport:
        """The report of one form."""
        for f in self.forms:
            if f.form == name:
                return f
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON; ``forms`` maps each form to its numbers."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "forms"}
        d["input_size"] = list(self.input_size)
        d["forms"] = {f.form: {k: v for k, v in f.to_dict().items() if k != "form"} for f in self.forms}
        return d


Measure = Callable[..., Any]


def equivalence(
    cardinality: int = 32, d: int = 4, channels: int = 256, size: int = 56, *, batch_size: int = 2,
    train: bool = False, device: str | torch.device = "cpu", seed: int = 0, measure: bool | Measure = False,
) -> EquivalenceReport:
    """Build forms a, b, c of one block from one set of random weights and compare them (ResNeXt Fig. 3).

    The block is ``channels`` → C paths of width ``d`` → ``channels`` with an identity shortcut (the
    conv2 template is ``equivalence(32, 4, 256, 56)``). Form c is built with random weights and
    non-trivial BN statistics (``randomize_``), forms a and b are ``to_form`` of it; all three run on
    one random input of ``batch_size`` images in float32 and in float64.

    Args:
        train: run in train mode (BN uses batch statistics) instead of eval mode.
        measure: also time the three forms in float32, interleaved: ``True`` uses
            ``explorer.latency.measure_interleaved`` with its defaults; a callable with its signature
            (e.g. a ``functools.partial`` of it) is called as ``measure([a, b, c], device=...,
            input_size=...)`` and returns one result per form: milliseconds, or an object or dict with
            ``median_ms``.

    Raises:
        SpecError: an argument is out of range (the field is named), or the check is too big to run.
    """
    _check_block_args(cardinality, d, channels, channels)
    check_int(size, "size", 1, MAX_SIDE)
    check_int(batch_size, "batch_size", 2 if train else 1, 1024)  # train-mode BN needs 2
    input_size = (channels, size, size)
    counts = {f: _block_counts(cardinality, d, channels, size, f) for f in ("a", "b", "c")}
    _check_work(counts["c"][1] * batch_size)
    dev = _device(device)
    block = randomize_(make_block(cardinality, d, channels, device=dev), seed)
    diffs, scale, ms = _compare(block, input_size, batch_size, train, dev, seed, measure)
    return EquivalenceReport(
        f"{channels}-({cardinality}×{d}d)-{channels} block at {size}×{size}", cardinality, d, input_size,
        batch_size, "train" if train else "eval", str(dev), seed, scale,
        tuple(FormReport(f, *counts[f], *diffs[f], ms.get(f)) for f in ("a", "b", "c")),
    )


def network_equivalence(
    spec: ArchSpec | str = "resnext50_32x4d", input_size: Any = (3, 64, 64), *, batch_size: int = 2,
    train: bool = False, device: str | torch.device = "cpu", seed: int = 0, measure: bool | Measure = False,
) -> EquivalenceReport:
    """The whole-network check: a bottleneck network in forms a, b and c, one set of random weights.

    ``spec`` is a spec or a preset name; its ``form`` is ignored (form c is built, randomized, and
    converted with ``to_form``). Params and MACs come from ``analyze`` of each form at ``input_size``.
    Arguments as in ``equivalence``.
    """
    spec = get_preset(spec) if isinstance(spec, str) else spec
    if not isinstance(spec, ArchSpec):
        raise SpecError(f"spec: expected an ArchSpec or a preset name, got {type(spec).__name__}")
    if spec.block != "bottleneck":
        raise SpecError(f"spec: {spec.name} has basic blocks; forms 'a' and 'b' exist only for bottleneck blocks")
    size = check_input_size(input_size)
    check_int(batch_size, "batch_size", 2 if train else 1, 1024)  # train-mode BN needs 2
    counts = {}
    for f in ("a", "b", "c"):
        a = analyze(dataclasses.replace(spec, form=f), size)
        counts[f] = (a.params, a.macs, sum(r.type == "conv" for r in a.layers))
    _check_work(counts["c"][1] * batch_size)
    dev = _device(device)
    net = randomize_(build_model(dataclasses.replace(spec, form="c"), device=dev), seed)
    diffs, scale, ms = _compare(net, size, batch_size, train, dev, seed, measure)
    return EquivalenceReport(
        spec.name, spec.cardinality, spec.group_width(0) // spec.cardinality, size, batch_size,
        "train" if train else "eval", str(dev), seed, scale,
        tuple(FormReport(f, *counts[f], *diffs[f], ms.get(f)) for f in ("a", "b", "c")),
    )


def _compare(
    grouped: nn.Module, input_size: tuple[int, int, int], batch_size: int, train: bool, dev: torch.device,
    seed: int, measure: bool | Measure,
) -> tuple[dict[str, tuple[float, float | None]], float, dict[str, float]]:
    """Max |out_f - out_c| per form in float32 and float64, the output scale, and optional latencies."""
    x = torch.randn((batch_size, *input_size), generator=torch.Generator().manual_seed(seed + 1))
    dtypes = [torch.float32] + ([torch.float64] if dev.type != "mps" else [])
    diffs: dict[str, list[float | None]] = {f: [] for f in ("a", "b", "c")}
    scale = 0.0
    models32: dict[str, nn.Module] = {}
    for dtype in dtypes:
        base = copy.deepcopy(grouped).to(dtype).train(train)
        models = {f: to_form(base, f) for f in ("a", "b", "c")}
        with torch.no_grad(), _one_cpu_thread():
            outs = {f: m(x.to(dev, dtype)) for f, m in models.items()}
        for f in diffs:
            diffs[f].append((outs[f] - outs["c"]).abs().max().item())
        if dtype == torch.float32:
            scale, models32 = outs["c"].abs().max().item(), models
    for f in diffs:
        diffs[f] += [None] * (2 - len(diffs[f]))
    ms = _latencies(measure, models32, dev, input_size) if measure else {}
    return {f: (v[0], v[1]) for f, v in diffs.items()}, scale, ms


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


def _latencies(
    measure: bool | Measure, models: dict[str, nn.Module], dev: torch.device, input_size: tuple[int, int, int]
) -> dict[str, float]:
    """Median ms of each form, timed together (interleaved) so that drift hits all three alike."""
    if measure is True:
        from .latency import measure_interleaved  # imported lazily: timing is optional here

        measure = measure_interleaved
    results = measure([m.eval() for m in models.values()], device=str(dev), input_size=input_size)
    return {f: _ms(r) for f, r in zip(models, results)}


def _ms(result: Any) -> float:
    if isinstance(result, (int, float)):
        return float(result)
    return float(result["median_ms"] if isinstance(result, dict) else result.median_ms)


def _block_counts(cardinality: int, d: int, channels: int, size: int, form: str) -> tuple[int, int, int]:
    """(params, macs, convs) of the identity-shortcut block, from the layer plan via the analysis walker."""
    plan = _block_plan(channels, cardinality * d, channels, cardinality, form, 1, "3x3", None, True)
    rows = analyze_block(plan, (channels, size, size))
    return sum(r.params for r in rows), sum(r.macs for r in rows), sum(r.type == "conv" for r in rows)


def _check_block_args(cardinality: int, d: int, c_in: int, c_out: int) -> None:
    check_int(cardinality, "cardinality", 1, MAX_PATHS)
    check_int(d, "d", 1, MAX_WIDTH)
    check_int(c_in, "channels", 1, MAX_WIDTH)
    check_int(c_out, "c_out", 1, MAX_WIDTH)
    if cardinality * d > MAX_WIDTH:
        raise SpecError(f"d: cardinality × d = {cardinality * d} channels; at most {MAX_WIDTH}")


def _check_work(macs: int) -> None:
    if macs > MAX_WORK_MACS:
        raise SpecError(
            f"size: one forward pass would take {macs / 1e9:.1f} GMACs (at most {MAX_WORK_MACS / 1e9:.0f}); "
            "use a smaller size, batch or block"
        )


def _device(device: str | torch.device) -> torch.device:
    from .devices import resolve_device

    return resolve_device(device)


__all__ = [
    "FORM_TITLES", "MAX_WORK_MACS", "EquivalenceReport", "FormReport", "equivalence", "form_of", "make_block",
    "network_equivalence", "randomize_", "to_form",
]
