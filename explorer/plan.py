"""The layer plan: one list of ops derived from an ArchSpec, read by both the builder and the analysis.

Each op is a small frozen dataclass that knows its output shape, parameter count and costs; the
builder maps each op to one ``torch.nn`` module, so the counts and the real model cannot drift.
Op names are the paths of the modules in ``model.named_modules()``.

Shapes are ``(channels, height, width)`` without the batch dimension.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Union

from .bounds import check_work, plan_cache
from .errors import SpecError
from .spec import ArchSpec

Shape = tuple[int, ...]


def conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    """Output length of a convolution or pooling window along one axis."""
    return (size + 2 * padding - kernel) // stride + 1


def _elements(shape: Shape) -> int:
    return math.prod(shape)


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
    type: ClassVar[str] = "conv"

    @property
    def padding(self) -> int:
        return self.kernel // 2

    def out_shape(self, shape: Shape) -> Shape:
        _, h, w = shape
        k, s, p = self.kernel, self.stride, self.padding
        return (self.c_out, conv_out(h, k, s, p), conv_out(w, k, s, p))

    @property
    def params(self) -> int:
        return self.c_out * (self.c_in // self.groups) * self.kernel**2 + (self.c_out if self.bias else 0)

    def macs(self, out: Shape) -> int:
        # Each output element is a dot product over (c_in / groups) × k × k inputs.
        return _elements(out) * (self.c_in // self.groups) * self.kernel**2

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return _elements(out) if self.bias else 0


@dataclass(frozen=True)
class BatchNorm:
    """Batch normalization with affine scale and shift (2 parameters per channel)."""

    name: str
    channels: int
    type: ClassVar[str] = "bn"

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    @property
    def params(self) -> int:
        return 2 * self.channels

    def macs(self, out: Shape) -> int:
        return 0

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return 2 * _elements(out)  # at inference: one scale and one shift per element


@dataclass(frozen=True)
class ReLU:
    name: str
    type: ClassVar[str] = "relu"

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    params: ClassVar[int] = 0

    def macs(self, out: Shape) -> int:
        return 0

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return _elements(out)  # one comparison per element


@dataclass(frozen=True)
class MaxPool:
    name: str
    kernel: int = 3
    stride: int = 2
    padding: int = 1
    type: ClassVar[str] = "maxpool"
    params: ClassVar[int] = 0

    def out_shape(self, shape: Shape) -> Shape:
        c, h, w = shape
        k, s, p = self.kernel, self.stride, self.padding
        return (c, conv_out(h, k, s, p), conv_out(w, k, s, p))

    def macs(self, out: Shape) -> int:
        return 0

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return _elements(out) * (self.kernel**2 - 1)  # comparisons per window


@dataclass(frozen=True)
class GlobalAvgPool:
    name: str
    type: ClassVar[str] = "avgpool"
    params: ClassVar[int] = 0

    def out_shape(self, shape: Shape) -> Shape:
        return (shape[0], 1, 1)

    def macs(self, out: Shape) -> int:
        return 0

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return _elements(shape)  # one add per input element


@dataclass(frozen=True)
class Linear:
    """Fully connected layer with bias; it takes the flattened input."""

    name: str
    c_in: int
    c_out: int
    type: ClassVar[str] = "linear"

    def out_shape(self, shape: Shape) -> Shape:
        return (self.c_out,)

    @property
    def params(self) -> int:
        return self.c_in * self.c_out + self.c_out

    def macs(self, out: Shape) -> int:
        return self.c_in * self.c_out

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return self.c_out  # the bias adds


@dataclass(frozen=True)
class ShortcutA:
    """Option A shortcut (ResNet §3.3): subsample by the stride, zero-pad the extra channels."""

    name: str
    c_in: int
    c_out: int
    stride: int
    type: ClassVar[str] = "shortcut_a"
    params: ClassVar[int] = 0

    def out_shape(self, shape: Shape) -> Shape:
        _, h, w = shape
        return (self.c_out, -(-h // self.stride), -(-w // self.stride))

    def macs(self, out: Shape) -> int:
        return 0

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return 0  # pure data movement


@dataclass(frozen=True)
class Add:
    """The residual addition, computed in the block's own forward (so it bears the block's name)."""

    name: str
    type: ClassVar[str] = "add"
    params: ClassVar[int] = 0

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    def macs(self, out: Shape) -> int:
        return 0

    def other_ops(self, shape: Shape, out: Shape) -> int:
        return _elements(out)


@dataclass(frozen=True)
class Projection:
    """Option B/C shortcut: 1×1 conv with the stride, then BN (``downsample.0``, ``downsample.1``)."""

    name: str
    conv: Conv
    bn: BatchNorm

    @property
    def ops(self) -> tuple[Op, ...]:
        return (self.conv, self.bn)


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


Leaf = Union[Conv, BatchNorm, ReLU, MaxPool, GlobalAvgPool, Linear, ShortcutA, Add]
Op = Union[Leaf, Projection, Paths]


@dataclass(frozen=True)
class BlockPlan:
    """One residual block: ``relu(main(x) + shortcut(x))``.

    ``main`` is in forward order (the block's one ReLU module appears where it is applied);
    ``shortcut`` is ``None`` for the identity; ``residual`` is False in a plain network. ``width`` is
    the channels of its 3×3 convs (C × d in a ResNeXt bottleneck).
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

    @property
    def relu(self) -> ReLU:
        return ReLU(f"{self.name}.relu")


@dataclass(frozen=True)
class NetworkPlan:
    spec: ArchSpec
    stem: tuple[Leaf, ...]
    stages: tuple[tuple[BlockPlan, ...], ...]
    head: tuple[Leaf, ...]

    @property
    def blocks(self) -> tuple[BlockPlan, ...]:
        return tuple(b for stage in self.stages for b in stage)


def _conv_bn(prefix: str, index: int, c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1):
    return Conv(f"{prefix}conv{index}", c_in, c_out, kernel, stride, groups), BatchNorm(f"{prefix}bn{index}", c_out)


def bottleneck_main(
    name: str, c_in: int, width: int, c_out: int, stride: int, *, cardinality: int, form: str, downsample_on: str
) -> tuple[Op, ...]:
    """The residual branch of a bottleneck block named ``name``, in the given form of ResNeXt Fig. 3."""
    s1, s2 = (stride, 1) if downsample_on == "1x1" else (1, stride)
    relu = ReLU(f"{name}.relu")
    conv3_bn3 = _conv_bn(f"{name}.", 3, width, c_out, 1)
    if form == "c":
        return (
            *_conv_bn(f"{name}.", 1, c_in, width, 1, s1), relu,
            *_conv_bn(f"{name}.", 2, width, width, 3, s2, cardinality), relu,
            *conv3_bn3,
        )
    # Fig. 3 (a)/(b): each path has d = width / C channels and its own dense 3×3.
    d = width // cardinality
    paths = []
    for i in range(cardinality):
        p = f"{name}.paths.{i}."
        ops: tuple[Op, ...] = (
            *_conv_bn(p, 1, c_in, d, 1, s1), ReLU(f"{p}relu"), *_conv_bn(p, 2, d, d, 3, s2), ReLU(f"{p}relu"),
        )
        if form == "a":
            ops += (Conv(f"{p}conv3", d, c_out, 1),)
        paths.append(Path(f"{name}.paths.{i}", ops))
    merged = Paths(f"{name}.paths", tuple(paths), "sum" if form == "a" else "concat")
    if form == "a":
        return (merged, conv3_bn3[1])  # the block's BN follows the sum
    return (merged, *conv3_bn3)


def _block(spec: ArchSpec, stage: int, index: int, c_in: int) -> BlockPlan:
    name = f"layer{stage + 1}.{index}"
    planes = spec.widths[stage]
    c_out = planes * spec.expansion
    stride = spec.strides[stage] if index == 0 else 1
    width = planes if spec.block == "basic" else spec.group_width(stage)
    if spec.block == "basic":
        relu = ReLU(f"{name}.relu")
        main: tuple[Op, ...] = (
            *_conv_bn(f"{name}.", 1, c_in, planes, 3, stride), relu, *_conv_bn(f"{name}.", 2, planes, c_out, 3),
        )
    else:
        main = bottleneck_main(
            name, c_in, width, c_out, stride,
            cardinality=spec.cardinality, form=spec.form, downsample_on=spec.downsample_on,
        )
    changes_shape = stride != 1 or c_in != c_out
    shortcut: Projection | ShortcutA | None = None
    if spec.shortcut == "C" or spec.shortcut == "B" and changes_shape:
        shortcut = Projection(
            f"{name}.downsample", Conv(f"{name}.downsample.0", c_in, c_out, 1, stride),
            BatchNorm(f"{name}.downsample.1", c_out),
        )
    elif spec.shortcut == "A" and changes_shape:
        shortcut = ShortcutA(f"{name}.downsample", c_in, c_out, stride)
    return BlockPlan(
        name, spec.block, spec.form, stage, c_in, width, c_out, stride, main, shortcut, spec.shortcut != "none",
    )


@plan_cache  # sized by bytes (explorer.bounds), not by entries
def make_plan(spec: ArchSpec) -> NetworkPlan:
    """The layer plan of a spec (cached: specs are immutable and hashable)."""
    check_work(spec)  # the work bound (explorer.bounds), before anything is built
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
    "Add", "BatchNorm", "BlockPlan", "Conv", "GlobalAvgPool", "Linear", "MaxPool", "NetworkPlan",
    "Path", "Paths", "Projection", "ReLU", "ShortcutA", "SpecError", "bottleneck_main", "conv_out", "make_plan",
]
