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
from typing import ClassVar, Generic, Protocol, TypeVar, Union

from .bounds import check_work, plan_cache
from .errors import SpecError
from .spec import GN_GROUPS, ArchSpec, deep_stem_widths, eca_kernel, se_channels

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
        saves: what autograd keeps for backward in a train-mode forward pass (:mod:`explorer.costs.training`):
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
    """A max pool; ``ceil`` is torch's ``ceil_mode`` (SENet's unpadded stem pool keeps a last, partial window)."""

    name: str
    kernel: int = 3
    stride: int = 2
    padding: int = 1
    ceil: bool = False
    type: ClassVar[str]
    params: ClassVar[int] = 0

    def out_shape(self, shape: Shape) -> Shape:
        c, h, w = shape
        k, s, p = self.kernel, self.stride, self.padding
        return (c, conv_out(h, k, s, p, self.ceil), conv_out(w, k, s, p, self.ceil))

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

    def view(self, shape: Shape) -> Shape:
        return (_elements(shape),)  # ``torch.flatten(x, 1)``

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


@op_type("gn", "GN", "group norm", saves="input+stats")
@dataclass(frozen=True)
class GroupNorm:
    """Group normalization (Wu & He 2018) with affine scale and shift: statistics per image and group."""

    name: str
    channels: int
    groups: int
    type: ClassVar[str]

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    @property
    def params(self) -> int:
        return 2 * self.channels

    def macs(self, out: Shape) -> int:
        return 0

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return 5 * _elements(out)  # mean and variance (unlike BN, computed at inference too), normalize, affine


Norm = Union[BatchNorm, GroupNorm]


@op_type("avgpool2d", "avg pool 2×2", "2×2 average pool", saves="input")
@dataclass(frozen=True)
class AvgPool:
    """A k×k average pool without padding: ResNet-D's shortcut (2×2, ``ceil_mode``, so an odd side keeps its last
    row) and anti-aliasing (stride × stride)."""

    name: str
    kernel: int
    stride: int
    ceil: bool = False
    type: ClassVar[str]
    params: ClassVar[int] = 0

    def out_shape(self, shape: Shape) -> Shape:
        c, h, w = shape
        k, s = self.kernel, self.stride
        return (c, conv_out(h, k, s, 0, self.ceil), conv_out(w, k, s, 0, self.ceil))

    def macs(self, out: Shape) -> int:
        return 0

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return _elements(out) * self.kernel**2  # k² − 1 adds and one division per output


@op_type("squeeze", "channel squeeze", "squeeze (global mean of the gated branch)", module=False)
@dataclass(frozen=True)
class Squeeze:
    """SE's and ECA's squeeze: ``x.mean((2, 3))`` in the attention module's forward (so it bears its name)."""

    name: str
    type: ClassVar[str]
    params: ClassVar[int] = 0

    def out_shape(self, shape: Shape) -> Shape:
        return (shape[0], 1, 1)

    def macs(self, out: Shape) -> int:
        return 0

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return _elements(shape)  # one add per input element


@op_type("conv1d", "ECA 1-D conv", "1-D convolution across the channels", mac=True, saves="input")
@dataclass(frozen=True)
class ChannelConv:
    """ECA's bias-free 1-D convolution across the C channel means, viewed as one 1×C sequence."""

    name: str
    channels: int
    kernel: int
    type: ClassVar[str]
    groups: ClassVar[int] = 1

    def view(self, shape: Shape) -> Shape:
        return (1, _elements(shape))  # ``y.view(batch, 1, -1)``

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    @property
    def weight_elements(self) -> int:
        return self.kernel

    @property
    def params(self) -> int:
        return self.kernel

    def macs(self, out: Shape) -> int:
        return _elements(out) * self.kernel

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return 0


@op_type("sigmoid", "sigmoid", "sigmoid gate", saves="output")
@dataclass(frozen=True)
class Sigmoid:
    name: str
    type: ClassVar[str]
    params: ClassVar[int] = 0

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    def macs(self, out: Shape) -> int:
        return 0

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return _elements(out)


@op_type("flatten", "flatten", "flatten")
@dataclass(frozen=True)
class Flatten:
    """``nn.Flatten(1)`` after a 1×1-conv classifier (timm's ResNetV2 head): a view, no work."""

    name: str
    type: ClassVar[str]
    params: ClassVar[int] = 0

    def out_shape(self, shape: Shape) -> Shape:
        return (_elements(shape),)

    def macs(self, out: Shape) -> int:
        return 0

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return 0


# Merges: computed by a block's own forward between its modules, from several inputs.
@op_type("add", "residual add", "residual add", module=False, merge=True)
@dataclass(frozen=True)
class Add:
    """The residual addition, computed in the block's own forward (so it bears the block's name)."""

    name: str
    type: ClassVar[str]
    params: ClassVar[int] = 0

    def out_shape(self, shapes: list[Shape]) -> Shape:
        if any(s != shapes[0] for s in shapes):  # an odd side where two pools round differently
            main, short = ("×".join(map(str, s)) for s in shapes[:2])
            raise SpecError("input_size", f"{self.name}'s shortcut gives {short} but its residual branch {main}: "
                            "at an odd side the anti-aliasing pool rounds down and the average-pool shortcut rounds "
                            "up (timm's models fail there too); use a size whose sides stay even when halved")
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


@op_type("scale", "channel gate", "gate × branch (SE, ECA)", module=False, merge=True, saves="both")
@dataclass(frozen=True)
class Scale:
    """The gated branch: ``x * gate``, the gate one value per channel, in the attention module's forward."""

    name: str
    type: ClassVar[str]
    params: ClassVar[int] = 0

    def out_shape(self, shapes: list[Shape]) -> Shape:
        return shapes[0]

    def other_ops(self, shapes: list[Shape], out: Shape) -> int:
        return _elements(out)  # one multiply per element (a scaling, not a multiply-accumulate)


Leaf = Union[Conv, BatchNorm, GroupNorm, ReLU, MaxPool, AvgPool, GlobalAvgPool, Linear, ShortcutA, Squeeze,
             ChannelConv, Sigmoid, Flatten]
Merge = Union[Add, PathSum, Concat, Scale]


# --- composite ops ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Projection:
    """A shortcut made of modules (option B/C: ``downsample.0`` 1×1 conv with the stride, ``downsample.1`` BN)."""

    name: str
    ops: tuple[Op, ...]


@dataclass(frozen=True)
class Gate:
    """A channel-attention module (SE or ECA): ``x * ops(x)``, where ``ops`` end in a gate per channel."""

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


Op = Union[Leaf, Projection, Paths, Gate]


@dataclass(frozen=True)
class BlockPlan:
    """One residual block: ``post(main(pre(x)) + shortcut)``, the shortcut ``x`` itself or a projection of
    ``pre(x)``.

    ``main`` is in forward order (the block's one ReLU module appears where it is applied); ``shortcut`` is
    ``None`` for the identity; ``residual`` is False in a plain network; ``pre`` is a pre-activation block's
    first norm and ReLU, shared by its main branch and its projection; ``post`` follows the add (a
    post-activation block's last ReLU). ``width`` is the channels of its 3×3 convs (C × d in a ResNeXt
    bottleneck).
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
    pre: tuple[Leaf, ...] = field(default=())

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
        return tuple(stage_name(self.spec, s) for s in range(len(self.stages)))


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
        if isinstance(op, Gate):
            return self.v.merge(Scale(op.name), [x, self.seq(op.ops, x)])
        return self.v.leaf(op, x)

    def seq(self, ops: tuple[Op, ...], x: V) -> V:
        for op in ops:
            x = self.op(op, x)
        return x

    def block(self, b: BlockPlan, x: V) -> V:
        xp = self.seq(b.pre, x)
        out = self.seq(b.main, xp)
        if b.residual:
            short = x if b.shortcut is None else self.op(b.shortcut, xp)
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
    stage = block.name.rsplit(".", 1)[0].removesuffix(".blocks") if "." in block.name else f"layer{block.stage + 1}"
    visitor.enter(stage, block.name, x)
    return Walk(visitor).block(block, x)


# --- block kinds ----------------------------------------------------------------------------------------------
def norm(kind: str, name: str, channels: int) -> Norm:
    """The network's normalization layer: batch norm, or group norm with 32 groups."""
    return GroupNorm(name, channels, GN_GROUPS) if kind == "gn" else BatchNorm(name, channels)


def conv_bn(prefix: str, index: int, c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1,
            norm_kind: str = "bn") -> tuple[Conv, Norm]:
    """``{prefix}conv{index}`` and its ``{prefix}bn{index}``."""
    return (Conv(f"{prefix}conv{index}", c_in, c_out, kernel, stride, groups),
            norm(norm_kind, f"{prefix}bn{index}", c_out))


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


def _strided_3x3(spec: ArchSpec, a: BlockArgs, stride: int) -> tuple[int, tuple[Op, ...]]:
    """The stride of a block's strided 3×3 and what follows its ReLU: with anti-aliasing the 3×3 keeps the
    resolution and a stride×stride average pool (``aa``) subsamples after it."""
    if spec.aa and stride > 1:
        return 1, (AvgPool(f"{a.name}.aa", stride, stride),)
    return stride, ()


def basic_main(spec: ArchSpec, a: BlockArgs) -> tuple[Op, ...]:
    """Two 3×3 convs (ResNet Fig. 2 left); the stride sits on the first."""
    n = f"{a.name}."
    s1, aa = _strided_3x3(spec, a, a.stride)
    return (*conv_bn(n, 1, a.c_in, a.planes, 3, s1, norm_kind=spec.norm), ReLU(f"{a.name}.relu"), *aa,
            *conv_bn(n, 2, a.planes, a.c_out, 3, norm_kind=spec.norm))


def bottleneck_main(
    name: str, c_in: int, width: int, c_out: int, stride: int, *, cardinality: int, form: str, downsample_on: str,
    norm_kind: str = "bn", aa: tuple[Op, ...] = (),
) -> tuple[Op, ...]:
    """The residual branch of a bottleneck block named ``name``, in the given form of ResNeXt Fig. 3 (``aa``: the
    anti-aliasing pool after the 3×3, whose stride is then 1)."""
    s1, s2 = split_stride(stride, downsample_on)
    if aa:
        s2 = 1
    relu = ReLU(f"{name}.relu")
    conv3_bn3 = conv_bn(f"{name}.", 3, width, c_out, 1, norm_kind=norm_kind)
    if form == "c":
        return (
            *conv_bn(f"{name}.", 1, c_in, width, 1, s1, norm_kind=norm_kind), relu,
            *conv_bn(f"{name}.", 2, width, width, 3, s2, cardinality, norm_kind=norm_kind), relu, *aa,
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
    _, aa = _strided_3x3(spec, a, split_stride(a.stride, spec.downsample_on)[1])
    return bottleneck_main(a.name, a.c_in, a.width, a.c_out, a.stride, cardinality=spec.cardinality, form=spec.form,
                           downsample_on=spec.downsample_on, norm_kind=spec.norm, aa=aa)


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


def preact_basic_main(spec: ArchSpec, a: BlockArgs) -> tuple[Op, ...]:
    """Pre-activation basic block after its shared ``norm1`` + ReLU: 3×3 conv → BN → ReLU → 3×3 conv."""
    n = f"{a.name}."
    return (Conv(f"{n}conv1", a.c_in, a.planes, 3, a.stride), norm(spec.norm, f"{n}norm2", a.planes),
            ReLU(f"{n}relu"), Conv(f"{n}conv2", a.planes, a.c_out, 3))


def preact_bottleneck_main(spec: ArchSpec, a: BlockArgs) -> tuple[Op, ...]:
    """Pre-activation bottleneck (timm's PreActBottleneck) after its shared ``norm1`` + ReLU: 1×1 → BN → ReLU →
    3×3 (grouped, strided) → BN → ReLU → 1×1."""
    n = f"{a.name}."
    s1, s2 = split_stride(a.stride, spec.downsample_on)
    relu = ReLU(f"{n}relu")
    return (Conv(f"{n}conv1", a.c_in, a.width, 1, s1), norm(spec.norm, f"{n}norm2", a.width), relu,
            Conv(f"{n}conv2", a.width, a.width, 3, s2, spec.cardinality), norm(spec.norm, f"{n}norm3", a.width), relu,
            Conv(f"{n}conv3", a.width, a.c_out, 1))


def _basic_width(spec: ArchSpec, stage: int) -> int:
    return spec.widths[stage]


def _bottleneck_width(spec: ArchSpec, stage: int) -> int:
    return spec.group_width(stage)


register_block(BlockKind("basic", basic_main, _basic_width))
register_block(BlockKind("bottleneck", _bottleneck_main, _bottleneck_width))
register_block(BlockKind("preact_basic", preact_basic_main, _basic_width))
register_block(BlockKind("preact_bottleneck", preact_bottleneck_main, _bottleneck_width))
def senet_basic_main(spec: ArchSpec, a: BlockArgs) -> tuple[Op, ...]:
    """timm's legacy SEResNetBlock: two 3×3 convs like the basic block, and a ReLU after the second BN too, before
    the gate and the add (senet.py's code; its bottlenecks have none there)."""
    return (*basic_main(spec, a), ReLU(f"{a.name}.relu"))


# timm's legacy SENet blocks: the bottleneck's residual branch is the post-activation one under the same names;
# the module classes differ in the gate's name (``se_module``) and its children's
register_block(BlockKind("senet_basic", senet_basic_main, _basic_width))
register_block(BlockKind("senet_bottleneck", _bottleneck_main, _bottleneck_width))


def block_kind(spec: ArchSpec) -> str:
    """The registered kind of a spec's blocks: its ``block``, with ``preact_`` in front for pre-activation and
    ``senet_`` in the SENet layout."""
    if spec.order == "pre":
        return f"preact_{spec.block}"
    return f"senet_{spec.block}" if spec.layout == "senet" else spec.block


def stage_name(spec: ArchSpec, stage: int) -> str:
    """The module path of a stage: torchvision's ``layer1`` …, or ResNetV2's ``stages.0`` … for pre-activation."""
    return f"stages.{stage}" if spec.order == "pre" else f"layer{stage + 1}"


def block_name(spec: ArchSpec, stage: int, index: int) -> str:
    """The module path of a block: ``layer1.0``, or ResNetV2's ``stages.0.blocks.0``."""
    return f"{stage_name(spec, stage)}{'.blocks' if spec.order == 'pre' else ''}.{index}"


GATE_MODULES = {"timm": "se", "senet": "se_module"}  # a channel gate's module name in each layout


def attention_name(spec: ArchSpec, block: str) -> str:
    """The module path of a block's channel gate: timm's ``se``, or the legacy SENet's ``se_module``."""
    return f"{block}.{GATE_MODULES[spec.layout]}"


def in_gate(name: str) -> bool:
    """Whether a layer is a child of a channel gate (``layer1.0.se.fc1``, ``layer1.0.se_module.fc1``)."""
    parts = name.split(".")
    return len(parts) > 1 and parts[-2] in GATE_MODULES.values()


def attention_plan(spec: ArchSpec, name: str, channels: int) -> tuple[Gate, ...]:
    """The channel gate at the end of a residual branch of ``channels`` channels (timm's ``se`` module, or the
    legacy SENet's ``se_module`` with its children ``relu`` and ``sigmoid``), if any."""
    se = attention_name(spec, name)
    if spec.attention == "se":
        rd = se_channels(channels, spec.se_reduction, spec.se_divisor, spec.layout)
        act, gate = ("relu", "sigmoid") if spec.layout == "senet" else ("act", "gate")
        return (Gate(se, (Squeeze(se), Conv(f"{se}.fc1", channels, rd, 1, bias=True), ReLU(f"{se}.{act}"),
                          Conv(f"{se}.fc2", rd, channels, 1, bias=True), Sigmoid(f"{se}.{gate}"))),)
    if spec.attention == "eca":
        return (Gate(se, (Squeeze(se), ChannelConv(f"{se}.conv", channels, eca_kernel(channels)),
                          Sigmoid(f"{se}.gate"))),)
    return ()


def changes_shape(stride: int, c_in: int, c_out: int) -> bool:
    """A block whose output differs from its input in size or channels needs a non-identity shortcut."""
    return stride != 1 or c_in != c_out


def preact_shortcut_plan(kind: str, name: str, c_in: int, c_out: int, stride: int) -> Projection | ShortcutA | None:
    """A pre-activation block's shortcut (timm's DownsampleConv / DownsampleAvg with preact): a 1×1 conv without a
    norm (its input is already normalized), after a 2×2 average pool for D."""
    d = f"{name}.downsample"
    if kind == "C" or kind in ("B", "D") and changes_shape(stride, c_in, c_out):
        pool: tuple[Op, ...] = (AvgPool(f"{d}.pool", 2, stride, ceil=True),) if kind == "D" and stride > 1 else ()
        return Projection(d, (*pool, Conv(f"{d}.conv", c_in, c_out, 1, 1 if pool else stride)))
    if kind == "A" and changes_shape(stride, c_in, c_out):
        return ShortcutA(d, c_in, c_out, stride)
    return None


def shortcut_plan(kind: str, name: str, c_in: int, c_out: int, stride: int,
                  norm_kind: str = "bn") -> Projection | ShortcutA | None:
    """The shortcut of a block (ResNet §3.3), or None for the identity: B projects where the shape changes, C on
    every block, A subsamples and zero-pads where the shape changes, D average-pools then projects where the shape
    changes (timm's ``downsample_avg``: no pool at stride 1, and the module keeps its index), none has no
    shortcut at all."""
    d = f"{name}.downsample"
    if kind == "C" or kind == "B" and changes_shape(stride, c_in, c_out):
        return Projection(d, (Conv(f"{d}.0", c_in, c_out, 1, stride), norm(norm_kind, f"{d}.1", c_out)))
    if kind == "D" and changes_shape(stride, c_in, c_out):
        pool: tuple[Op, ...] = (AvgPool(f"{d}.0", 2, stride, ceil=True),) if stride > 1 else ()
        return Projection(d, (*pool, Conv(f"{d}.1", c_in, c_out, 1), norm(norm_kind, f"{d}.2", c_out)))
    if kind == "A" and changes_shape(stride, c_in, c_out):
        return ShortcutA(d, c_in, c_out, stride)
    return None


def _block(spec: ArchSpec, stage: int, index: int, c_in: int) -> BlockPlan:
    kind = BLOCK_KINDS[block_kind(spec)]
    name = block_name(spec, stage, index)
    planes = spec.widths[stage]
    a = BlockArgs(name, stage, c_in, planes, kind.width(spec, stage), planes * spec.expansion,
                  spec.strides[stage] if index == 0 else 1)
    main = kind.main(spec, a) + attention_plan(spec, name, a.c_out)
    if spec.order == "pre":  # norm1 + ReLU first, shared with the projection; nothing after the add
        return BlockPlan(name, spec.block, spec.form, stage, c_in, a.width, a.c_out, a.stride, main,
                         preact_shortcut_plan(spec.shortcut, name, c_in, a.c_out, a.stride), spec.shortcut != "none",
                         pre=(norm(spec.norm, f"{name}.norm1", c_in), ReLU(f"{name}.relu")))
    return BlockPlan(
        name, spec.block, spec.form, stage, c_in, a.width, a.c_out, a.stride, main,
        shortcut_plan(spec.shortcut, name, c_in, a.c_out, a.stride, spec.norm), spec.shortcut != "none",
        (ReLU(f"{name}.relu"),),
    )


def preact_stem_plan(spec: ArchSpec) -> tuple[Leaf, ...]:
    """A pre-activation stem (timm's ``create_resnetv2_stem``): its conv(s), then its pool; no norm after the last
    conv (the first block's ``norm1`` normalizes it)."""
    c_in, w, k = spec.input_size[0], spec.stem_width, spec.norm
    if spec.stem in ("deep", "tiered"):
        w1, w2 = deep_stem_widths(spec.stem, w)
        convs: tuple[Leaf, ...] = (
            Conv("stem.conv1", c_in, w1, 3, 2), norm(k, "stem.norm1", w1), ReLU("stem.relu"),
            Conv("stem.conv2", w1, w2, 3), norm(k, "stem.norm2", w2), ReLU("stem.relu"), Conv("stem.conv3", w2, w, 3),
        )
    else:
        convs = (Conv("stem.conv", c_in, w, 7, 2) if spec.stem == "imagenet" else Conv("stem.conv", c_in, w, 3, 1),)
    return (*convs, *stem_pool_plan(spec, "stem.pool"))


def stem_pool_plan(spec: ArchSpec, name: str) -> tuple[Leaf, ...]:
    """The stem's pool (``stem_pool``) under the layout's name for it (``maxpool``, ``stem.pool``, ``pool0``)."""
    w, k = spec.stem_width, spec.norm
    return {
        "max": (MaxPool(name, 3, 2, 1),),
        "max_ceil": (MaxPool(name, 3, 2, 0, ceil=True),),
        "conv": (Conv(f"{name}.0", w, w, 3, 2), norm(k, f"{name}.1", w), ReLU(f"{name}.2")),  # timm keeps the name
        "avg": (AvgPool(name, 2, 2),),
        "none": (),
    }[spec.stem_pool]


def senet_stem_plan(spec: ArchSpec) -> tuple[Leaf, ...]:
    """timm's legacy SENet stem: ``layer0`` (``conv1``, ``bn1``, ``relu1``), then ``pool0``."""
    c_in, w = spec.input_size[0], spec.stem_width
    conv = Conv("layer0.conv1", c_in, w, 7, 2) if spec.stem == "imagenet" else Conv("layer0.conv1", c_in, w, 3, 1)
    return (conv, norm(spec.norm, "layer0.bn1", w), ReLU("layer0.relu1"), *stem_pool_plan(spec, "pool0"))


def stem_plan(spec: ArchSpec) -> tuple[Leaf, ...]:
    """The stem's ops: its conv(s) with their norms and ReLUs, then its pool (``stem_pool``)."""
    if spec.order == "pre":
        return preact_stem_plan(spec)
    if spec.layout == "senet":
        return senet_stem_plan(spec)
    c_in, w, k = spec.input_size[0], spec.stem_width, spec.norm
    if spec.stem in ("deep", "tiered"):  # timm's conv1 = Sequential(conv, norm, act, conv, norm, act, conv)
        w1, w2 = deep_stem_widths(spec.stem, w)
        convs: tuple[Leaf, ...] = (
            Conv("conv1.0", c_in, w1, 3, 2), norm(k, "conv1.1", w1), ReLU("conv1.2"),
            Conv("conv1.3", w1, w2, 3), norm(k, "conv1.4", w2), ReLU("conv1.5"), Conv("conv1.6", w2, w, 3),
        )
    elif spec.stem == "imagenet":
        convs = (Conv("conv1", c_in, w, 7, 2),)
    else:
        convs = (Conv("conv1", c_in, w, 3, 1),)
    return (*convs, norm(k, "bn1", w), ReLU("relu"), *stem_pool_plan(spec, "maxpool"))


@plan_cache  # sized by bytes (explorer.core.bounds), not by entries
def make_plan(spec: ArchSpec) -> NetworkPlan:
    """The layer plan of a spec (cached: specs are immutable and hashable)."""
    check_work(spec)  # the work bound (explorer.core.bounds), before anything is built
    stages = []
    c = spec.stem_width
    for s, depth in enumerate(spec.depths):
        blocks = []
        for i in range(depth):
            blocks.append(_block(spec, s, i, c))
            c = blocks[-1].c_out
        stages.append(tuple(blocks))
    if spec.order == "pre":  # the final BN + ReLU, then timm's ClassifierHead with a 1×1 conv as the fc
        head: tuple[Leaf, ...] = (norm(spec.norm, "norm", c), ReLU("relu"), GlobalAvgPool("head.global_pool"),
                                  Conv("head.fc", c, spec.num_classes, 1, bias=True), Flatten("head.flatten"))
    elif spec.layout == "senet":  # timm's SelectAdaptivePool2d (pool, flatten), then last_linear
        head = (GlobalAvgPool("global_pool.pool"), Flatten("global_pool.flatten"),
                Linear("last_linear", c, spec.num_classes))
    else:
        head = (GlobalAvgPool("avgpool"), Linear("fc", c, spec.num_classes))
    return NetworkPlan(spec, stem_plan(spec), tuple(stages), head)


__all__ = [
    "BLOCK_KINDS", "OPS", "Add", "AvgPool", "BatchNorm", "BlockArgs", "BlockKind", "BlockPlan", "ChannelConv",
    "Concat", "Conv", "Flatten", "Gate", "block_kind", "preact_shortcut_plan", "stage_name", "GlobalAvgPool", "GroupNorm", "Linear", "MaxPool", "NetworkPlan", "OpType", "Path",
    "PathSum", "Paths", "Projection", "ReLU", "Scale", "ShortcutA", "Sigmoid", "SpecError", "Squeeze", "Visitor",
    "GATE_MODULES", "Walk", "attention_name", "attention_plan", "in_gate", "bottleneck_main", "changes_shape", "conv_bn", "conv_out", "make_plan", "norm",
    "op_type", "register_block", "shortcut_plan", "split_stride", "stem_plan", "stem_pool_plan", "walk", "walk_block",
]
