"""The layer plan: one list of ops derived from an ArchSpec, read by the builder, the analysis, the training
cost, the diagram and time per layer.

Three registries live here, and every other module reads them instead of keeping its own string tables:

- ``OPS``: every op type with what the rest of the explorer needs to know about it (its label, whether it
  is a module of its own, whether it does multiply-adds, what autograd saves for it). An op class registers
  itself with :func:`op_type`; ``tests/test_registry.py`` fails when any table elsewhere lacks an entry.
- ``BLOCK_KINDS``: each block kind's plan builder (pycls's ``get_block_fun``); ``nets.BLOCKS`` holds the
  module class of the same name.
- one walk over the dataflow, :func:`walk`: a :class:`Visitor` sees each leaf op and each merge (the
  residual add, the sum or concatenation of paths) with its inputs, in forward order.

Op names are the paths of the modules in ``model.named_modules()``; shapes are ``(channels, height,
width)`` without the batch dimension.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import ClassVar, Generic, Protocol, TypeVar, Union

from .errors import SpecError
from .spec import ArchSpec

Shape = tuple[int, ...]


def conv_out(size: int, kernel: int, stride: int, padding: int, ceil: bool = False) -> int:
    """Output length of a convolution or pooling window along one axis (torch's formula, ``ceil_mode`` too)."""
    span = size + 2 * padding - kernel
    out = (-(-span // stride) if ceil else span // stride) + 1
    if ceil and (out - 1) * stride >= size + padding:  # torch: the last window must start inside the input
        out -= 1
    return out


def _elements(shape: Shape) -> int:
    return math.prod(shape)


# --- the op registry -----------------------------------------------------------------------------------
SAVES = ("input", "input+stats", "output", "input+indices", "nothing", "both")


@dataclass(frozen=True)
class OpType:
    """What every module of the explorer needs to know about one op type.

    Attributes:
        type: the key, also ``LayerRow.type`` (``"conv"``, ``"bn"``, …).
        label: the kind of work in tables and time per layer (``"BN"``, ``"ReLU"``, ``"residual add"``).
        words: what it is in a sentence (``"batch norm"``, ``"sum of the paths (form a)"``).
        module: it is an ``nn.Module`` of its own (forward hooks see it); otherwise the block's forward
            computes it between modules (the residual add, the sum of paths, the concatenation).
        mac: it does multiply-adds (our MACs; its outputs are "activations").
        saves: what autograd keeps for backward in a train-mode forward pass (:mod:`explorer.training`):
            ``input``; ``input+stats`` (norms: also float32 statistics); ``output`` (in place or a
            sigmoid); ``input+indices`` (max pool); ``both`` (a product: both operands); ``nothing``.
        merge: it combines several inputs (its ``out_shape`` takes a list of shapes).
        shared: one module applied at several places (a block's ReLU), so its rows repeat a module name.
    """

    type: str
    label: str
    words: str
    module: bool = True
    mac: bool = False
    saves: str = "nothing"
    merge: bool = False
    shared: bool = False

    def __post_init__(self) -> None:
        if self.saves not in SAVES:
            raise ValueError(f"{self.type}: saves must be one of {SAVES}")


OPS: dict[str, OpType] = {}
_T = TypeVar("_T")


def op_type(key: str, label: str, words: str, **info: bool | str) -> Callable[[type[_T]], type[_T]]:
    """Register an op class under ``key`` (a class decorator): one line per op, read by every table."""

    def register(cls: type[_T]) -> type[_T]:
        if key in OPS:
            raise ValueError(f"op type {key!r} is registered twice")
        OPS[key] = OpType(key, label, words, **info)  # type: ignore[arg-type]
        cls.type = key  # type: ignore[attr-defined]
        return cls

    return register


@op_type("conv", "conv", "convolution", mac=True, saves="input")
@dataclass(frozen=True)
class Conv:
    """A bias-free (by default) 2-D convolution with 'same'-style padding ``kernel // 2``."""

    name: str
    c_in: int
    c_out: int
    kernel: int
    stride: int = 1
    groups: int = 1
    bias: bool = False
    type: ClassVar[str]

    @property
    def padding(self) -> int:
        return self.kernel // 2

    def out_shape(self, shape: Shape) -> Shape:
        _, h, w = shape
        k, s, p = self.kernel, self.stride, self.padding
        return (self.c_out, conv_out(h, k, s, p), conv_out(w, k, s, p))

    @property
    def weight_elements(self) -> int:
        return self.c_out * (self.c_in // self.groups) * self.kernel**2

    @property
    def params(self) -> int:
        return self.weight_elements + (self.c_out if self.bias else 0)

    def macs(self, out: Shape) -> int:
        # Each output element is a dot product over (c_in / groups) × k × k inputs.
        return _elements(out) * (self.c_in // self.groups) * self.kernel**2

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return _elements(out) if self.bias else 0


@op_type("bn", "BN", "batch norm", saves="input+stats")
@dataclass(frozen=True)
class BatchNorm:
    """Batch normalization with affine scale and shift (2 parameters per channel)."""

    name: str
    channels: int
    type: ClassVar[str]

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    @property
    def params(self) -> int:
        return 2 * self.channels

    def macs(self, out: Shape) -> int:
        return 0

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return 2 * _elements(out)  # at inference: one scale and one shift per element


@op_type("relu", "ReLU", "ReLU", saves="output", shared=True)
@dataclass(frozen=True)
class ReLU:
    """In-place ReLU (a block's one ReLU module is called after each of its norms)."""

    name: str
    type: ClassVar[str]
    params: ClassVar[int] = 0

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    def macs(self, out: Shape) -> int:
        return 0

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return _elements(out)  # one comparison per element


@op_type("maxpool", "max pool", "max pool", saves="input+indices")
@dataclass(frozen=True)
class MaxPool:
    name: str
    kernel: int = 3
    stride: int = 2
    padding: int = 1
    type: ClassVar[str]
    params: ClassVar[int] = 0

    def out_shape(self, shape: Shape) -> Shape:
        c, h, w = shape
        k, s, p = self.kernel, self.stride, self.padding
        return (c, conv_out(h, k, s, p), conv_out(w, k, s, p))

    def macs(self, out: Shape) -> int:
        return 0

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return _elements(out) * (self.kernel**2 - 1)  # comparisons per window


@op_type("avgpool", "avg pool", "average pool")
@dataclass(frozen=True)
class GlobalAvgPool:
    name: str
    type: ClassVar[str]
    params: ClassVar[int] = 0

    def out_shape(self, shape: Shape) -> Shape:
        return (shape[0], 1, 1)

    def macs(self, out: Shape) -> int:
        return 0

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return _elements(shape)  # one add per input element


@op_type("linear", "fc", "fully connected", mac=True, saves="input")
@dataclass(frozen=True)
class Linear:
    """Fully connected layer with bias; it takes the flattened input."""

    name: str
    c_in: int
    c_out: int
    type: ClassVar[str]

    def out_shape(self, shape: Shape) -> Shape:
        return (self.c_out,)

    @property
    def weight_elements(self) -> int:
        return self.c_in * self.c_out

    @property
    def params(self) -> int:
        return self.c_in * self.c_out + self.c_out

    def macs(self, out: Shape) -> int:
        return self.c_in * self.c_out

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return self.c_out  # the bias adds


@op_type("shortcut_a", "shortcut A", "shortcut A")
@dataclass(frozen=True)
class ShortcutA:
    """Option A shortcut (ResNet §3.3): subsample by the stride, zero-pad the extra channels."""

    name: str
    c_in: int
    c_out: int
    stride: int
    type: ClassVar[str]
    params: ClassVar[int] = 0

    def out_shape(self, shape: Shape) -> Shape:
        _, h, w = shape
        return (self.c_out, -(-h // self.stride), -(-w // self.stride))

    def macs(self, out: Shape) -> int:
        return 0

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return 0  # pure data movement


# Merges: computed by a block's own forward between its modules, from several inputs.
@op_type("add", "residual add", "residual add", module=False, merge=True)
@dataclass(frozen=True)
class Add:
    """The residual addition, computed in the block's own forward (so it bears the block's name)."""

    name: str
    type: ClassVar[str]
    params: ClassVar[int] = 0

    def out_shape(self, shapes: list[Shape]) -> Shape:
        if any(s != shapes[0] for s in shapes):  # cannot happen for a valid spec; guards the plan itself
            raise SpecError("input_size", f"{self.name} shortcut {shapes[1]} does not match {shapes[0]}")
        return shapes[0]

    def other_ops(self, shapes: list[Shape], out: Shape) -> int:
        return (len(shapes) - 1) * _elements(out)


@op_type("sum", "path sum", "sum of the paths (form a)", module=False, merge=True)
@dataclass(frozen=True)
class PathSum(Add):
    """Fig. 3 (a): the C paths' outputs summed (C − 1 element-wise adds), named after the block."""


@op_type("concat", "path concat", "concatenation (form b)", module=False, merge=True)
@dataclass(frozen=True)
class Concat:
    """Fig. 3 (b): the C paths' outputs concatenated along the channels, named after the block."""

    name: str
    type: ClassVar[str]
    params: ClassVar[int] = 0

    def out_shape(self, shapes: list[Shape]) -> Shape:
        return (sum(s[0] for s in shapes), *shapes[0][1:])

    def other_ops(self, shapes: list[Shape], out: Shape) -> int:
        return 0  # data movement


Leaf = Union[Conv, BatchNorm, ReLU, MaxPool, GlobalAvgPool, Linear, ShortcutA]
Merge = Union[Add, PathSum, Concat]


# --- composite ops ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Projection:
    """A shortcut made of modules (option B/C: ``downsample.0`` 1×1 conv with the stride, ``downsample.1`` BN)."""

    name: str
    ops: tuple[Op, ...]


@dataclass(frozen=True)
class Path:
    """One of the C paths of ResNeXt Fig. 3 (a) or (b): 1×1 → BN → ReLU → 3×3 → BN → ReLU [→ 1×1]."""

    name: str
    ops: tuple[Op, ...]


@dataclass(frozen=True)
class Paths:
    """C parallel paths from the same input, merged by ``"sum"`` (Fig. 3a) or ``"concat"`` (3b)."""

    name: str
    paths: tuple[Path, ...]
    merge: str

    @property
    def merge_op(self) -> Merge:
        block = self.name.rsplit(".", 1)[0]
        return PathSum(block) if self.merge == "sum" else Concat(block)


Op = Union[Leaf, Projection, Paths]


@dataclass(frozen=True)
class BlockPlan:
    """One residual block: ``post(main(x) + shortcut(x))``.

    ``main`` is in forward order (the block's one ReLU module appears where it is applied); ``shortcut`` is
    ``None`` for the identity; ``residual`` is False in a plain network; ``post`` follows the add (the
    block's last ReLU). ``width`` is the channels of its 3×3 convs (C × d in a ResNeXt bottleneck).
    """

    name: str
    kind: str
    form: str
    stage: int
    c_in: int
    width: int
    c_out: int
    stride: int
    main: tuple[Op, ...]
    shortcut: Projection | ShortcutA | None
    residual: bool
    post: tuple[Leaf, ...] = field(default=())

    @property
    def add(self) -> Add:
        return Add(self.name)


@dataclass(frozen=True)
class NetworkPlan:
    spec: ArchSpec
    stem: tuple[Leaf, ...]
    stages: tuple[tuple[BlockPlan, ...], ...]
    head: tuple[Leaf, ...]

    @property
    def blocks(self) -> tuple[BlockPlan, ...]:
        return tuple(b for stage in self.stages for b in stage)

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(f"layer{s + 1}" for s in range(len(self.stages)))


# --- the one walk over the dataflow -------------------------------------------------------------------------
V = TypeVar("V")


class Visitor(Protocol[V]):
    """What :func:`walk` calls: ``enter`` at each part (stage and block names, and the value entering it),
    ``leaf`` for each op in forward order with its input, ``merge`` for each merge with its inputs. ``leaf`` and
    ``merge`` return the op's output value, whatever a visitor tracks (a shape, a tensor's storage, …)."""

    def enter(self, stage: str, block: str, x: V) -> None: ...

    def leaf(self, op: Leaf, x: V) -> V: ...

    def merge(self, op: Merge, xs: list[V]) -> V: ...


class Walk(Generic[V]):
    """Follows the plan's dataflow for one visitor; the only code that knows how ops connect."""

    def __init__(self, visitor: Visitor[V]) -> None:
        self.v = visitor

    def op(self, op: Op, x: V) -> V:
        if isinstance(op, Projection):
            return self.seq(op.ops, x)
        if isinstance(op, Paths):
            return self.v.merge(op.merge_op, [self.seq(path.ops, x) for path in op.paths])
        return self.v.leaf(op, x)

    def seq(self, ops: tuple[Op, ...], x: V) -> V:
        for op in ops:
            x = self.op(op, x)
        return x

    def block(self, b: BlockPlan, x: V) -> V:
        out = self.seq(b.main, x)
        if b.residual:
            short = x if b.shortcut is None else self.op(b.shortcut, x)
            out = self.v.merge(b.add, [out, short])
        return self.seq(b.post, out)


def walk(plan: NetworkPlan, visitor: Visitor[V], x: V) -> V:
    """Run ``visitor`` over the whole network from input value ``x``; returns the head's output value."""
    w = Walk(visitor)
    visitor.enter("stem", "stem", x)
    x = w.seq(plan.stem, x)
    for stage, blocks in zip(plan.stage_names, plan.stages):
        for b in blocks:
            visitor.enter(stage, b.name, x)
            x = w.block(b, x)
    visitor.enter("head", "head", x)
    return w.seq(plan.head, x)


def walk_block(block: BlockPlan, visitor: Visitor[V], x: V) -> V:
    """Run ``visitor`` over one block on its own (single-block studies such as ResNeXt Fig. 3)."""
    visitor.enter(f"layer{block.stage + 1}", block.name, x)
    return Walk(visitor).block(block, x)


# --- block kinds ----------------------------------------------------------------------------------------------
def conv_bn(prefix: str, index: int, c_in: int, c_out: int, kernel: int, stride: int = 1,
            groups: int = 1) -> tuple[Conv, BatchNorm]:
    """``{prefix}conv{index}`` and its ``{prefix}bn{index}``."""
    return Conv(f"{prefix}conv{index}", c_in, c_out, kernel, stride, groups), BatchNorm(f"{prefix}bn{index}", c_out)


def split_stride(stride: int, downsample_on: str) -> tuple[int, int]:
    """(stride of the first 1×1, stride of the 3×3) of a bottleneck: torchvision and the ResNeXt paper stride the
    3×3 ("ResNet V1.5"); the ResNet paper strides the first 1×1."""
    return (stride, 1) if downsample_on == "1x1" else (1, stride)


@dataclass(frozen=True)
class BlockArgs:
    """The numbers of one block, decided once by :func:`make_plan` and handed to its kind's builder."""

    name: str
    stage: int
    c_in: int
    planes: int
    width: int
    c_out: int
    stride: int


def basic_main(spec: ArchSpec, a: BlockArgs) -> tuple[Op, ...]:
    """Two 3×3 convs (ResNet Fig. 2 left); the stride sits on the first."""
    n = f"{a.name}."
    return (*conv_bn(n, 1, a.c_in, a.planes, 3, a.stride), ReLU(f"{a.name}.relu"), *conv_bn(n, 2, a.planes, a.c_out, 3))


def bottleneck_main(
    name: str, c_in: int, width: int, c_out: int, stride: int, *, cardinality: int, form: str, downsample_on: str
) -> tuple[Op, ...]:
    """The residual branch of a bottleneck block named ``name``, in the given form of ResNeXt Fig. 3."""
    s1, s2 = split_stride(stride, downsample_on)
    relu = ReLU(f"{name}.relu")
    conv3_bn3 = conv_bn(f"{name}.", 3, width, c_out, 1)
    if form == "c":
        return (
            *conv_bn(f"{name}.", 1, c_in, width, 1, s1), relu,
            *conv_bn(f"{name}.", 2, width, width, 3, s2, cardinality), relu,
            *conv3_bn3,
        )
    # Fig. 3 (a)/(b): each path has d = width / C channels and its own dense 3×3.
    d = width // cardinality
    paths = []
    for i in range(cardinality):
        p = f"{name}.paths.{i}."
        ops: tuple[Op, ...] = (
            *conv_bn(p, 1, c_in, d, 1, s1), ReLU(f"{p}relu"), *conv_bn(p, 2, d, d, 3, s2), ReLU(f"{p}relu"),
        )
        if form == "a":
            ops += (Conv(f"{p}conv3", d, c_out, 1),)
        paths.append(Path(f"{name}.paths.{i}", ops))
    merged = Paths(f"{name}.paths", tuple(paths), "sum" if form == "a" else "concat")
    if form == "a":
        return (merged, conv3_bn3[1])  # the block's BN follows the sum
    return (merged, *conv3_bn3)


def _bottleneck_main(spec: ArchSpec, a: BlockArgs) -> tuple[Op, ...]:
    return bottleneck_main(a.name, a.c_in, a.width, a.c_out, a.stride, cardinality=spec.cardinality, form=spec.form,
                           downsample_on=spec.downsample_on)


@dataclass(frozen=True)
class BlockKind:
    """A block kind: its residual branch's plan (``main``) and how wide its 3×3s are (``width``).

    The module class of the same name is ``nets.BLOCKS[name]``; ``tests/test_registry.py`` checks both
    registries have the same kinds.
    """

    name: str
    main: Callable[[ArchSpec, BlockArgs], tuple[Op, ...]]
    width: Callable[[ArchSpec, int], int]


BLOCK_KINDS: dict[str, BlockKind] = {}


def register_block(kind: BlockKind) -> BlockKind:
    """Add a block kind (pycls's ``get_block_fun`` table): the plan, analysis and diagram follow from it."""
    BLOCK_KINDS[kind.name] = kind
    return kind


register_block(BlockKind("basic", basic_main, lambda spec, stage: spec.widths[stage]))
register_block(BlockKind("bottleneck", _bottleneck_main, lambda spec, stage: spec.group_width(stage)))


def changes_shape(stride: int, c_in: int, c_out: int) -> bool:
    """A block whose output differs from its input in size or channels needs a non-identity shortcut."""
    return stride != 1 or c_in != c_out


def shortcut_plan(kind: str, name: str, c_in: int, c_out: int, stride: int) -> Projection | ShortcutA | None:
    """The shortcut of a block (ResNet §3.3), or None for the identity: B projects where the shape changes, C on
    every block, A subsamples and zero-pads where the shape changes, none has no shortcut at all."""
    if kind == "C" or kind == "B" and changes_shape(stride, c_in, c_out):
        return Projection(f"{name}.downsample", (Conv(f"{name}.downsample.0", c_in, c_out, 1, stride),
                                                 BatchNorm(f"{name}.downsample.1", c_out)))
    if kind == "A" and changes_shape(stride, c_in, c_out):
        return ShortcutA(f"{name}.downsample", c_in, c_out, stride)
    return None


def _block(spec: ArchSpec, stage: int, index: int, c_in: int) -> BlockPlan:
    kind = BLOCK_KINDS[spec.block]
    name = f"layer{stage + 1}.{index}"
    planes = spec.widths[stage]
    a = BlockArgs(name, stage, c_in, planes, kind.width(spec, stage), planes * spec.expansion,
                  spec.strides[stage] if index == 0 else 1)
    return BlockPlan(
        name, spec.block, spec.form, stage, c_in, a.width, a.c_out, a.stride, kind.main(spec, a),
        shortcut_plan(spec.shortcut, name, c_in, a.c_out, a.stride), spec.shortcut != "none",
        (ReLU(f"{name}.relu"),),
    )


@lru_cache(maxsize=256)
def make_plan(spec: ArchSpec) -> NetworkPlan:
    """The layer plan of a spec (cached: specs are immutable and hashable)."""
    c_in = spec.input_size[0]
    if spec.stem == "imagenet":
        stem: tuple[Leaf, ...] = (
            Conv("conv1", c_in, spec.stem_width, 7, 2), BatchNorm("bn1", spec.stem_width), ReLU("relu"),
            MaxPool("maxpool", 3, 2, 1),
        )
    else:
        stem = (Conv("conv1", c_in, spec.stem_width, 3, 1), BatchNorm("bn1", spec.stem_width), ReLU("relu"))
    stages = []
    c = spec.stem_width
    for s, depth in enumerate(spec.depths):
        blocks = []
        for i in range(depth):
            blocks.append(_block(spec, s, i, c))
            c = blocks[-1].c_out
        stages.append(tuple(blocks))
    head = (GlobalAvgPool("avgpool"), Linear("fc", c, spec.num_classes))
    return NetworkPlan(spec, stem, tuple(stages), head)


__all__ = [
    "BLOCK_KINDS", "OPS", "Add", "BatchNorm", "BlockArgs", "BlockKind", "BlockPlan", "Concat", "Conv",
    "GlobalAvgPool", "Linear", "MaxPool", "NetworkPlan", "OpType", "Path", "PathSum", "Paths", "Projection", "ReLU",
    "ShortcutA", "SpecError", "Visitor", "Walk", "bottleneck_main", "changes_shape", "conv_bn", "conv_out",
    "make_plan", "op_type", "register_block", "shortcut_plan", "split_stride", "walk", "walk_block",
]
