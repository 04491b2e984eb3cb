"""Analytic complexity: shapes, parameters, MACs, activations and other ops, per layer, from the plan.

The conventions are those of :mod:`explorer.core.vocab` (MACs = conv + linear multiply-accumulates, bias not
counted; FLOPs = 2 × MACs; other ops counted per element; activations = conv and linear outputs). All
counts are for one image (batch 1).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from . import plan as P
from .bounds import ANALYSIS_ROW_BYTES, sized_cache
from .errors import SpecError
from .spec import ArchSpec, check_input_size
from .vocab import METRICS

MAC_TYPES = tuple(t for t, info in P.OPS.items() if info.mac)  # conv, ECA's 1-D conv and linear
ANALYSIS_CACHE_BYTES = 128 * 2**20  # ResNet-50 is 30 KB, the largest analysis the work bound allows 20 MB


@dataclass(frozen=True)
class LayerRow:
    """One op in forward order. ``name`` is the module path in ``model.named_modules()``.

    ``output_elements`` is the op's own output size; the network's *activations* are the output elements of
    its conv and linear layers only (:attr:`Analysis.activations`), so the column of every row does not sum
    to that headline.
    """

    name: str
    type: str
    stage: str
    block: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    kernel: int | None
    stride: int | None
    groups: int | None
    params: int
    macs: int
    output_elements: int
    other_ops: int
    kind: str = ""

    @property
    def activations(self) -> int:
        """Its contribution to the network's activations: its output elements if it is a conv or linear."""
        return self.output_elements if self.type in MAC_TYPES else 0


def kind_of(op_type: str, block: str, kernel: int | None, groups: int | None, name: str = "") -> str:
    """The kind of work a layer does, for time and cost per kind: 'dense 3×3 conv', 'grouped 3×3 conv', 'BN', …"""
    if op_type == "conv":
        k = f"{kernel}×{kernel}"
        if block == "stem":
            return f"stem {k} conv"
        if P.in_gate(name):  # SE's two 1×1 convs on the channel means: fully connected layers in effect
            return f"SE {k} fc"
        return f"{'grouped' if groups and groups > 1 else 'dense'} {k} conv"
    return P.OPS[op_type].label


@dataclass(frozen=True)
class Rollup:
    """Totals of a block or a stage."""

    name: str
    out_shape: tuple[int, ...]
    params: int
    macs: int
    activations: int
    other_ops: int

    @property
    def flops(self) -> int:
        return 2 * self.macs


@dataclass(frozen=True)
class Analysis:
    """The complexity of one spec at one input size."""

    spec: ArchSpec
    input_size: tuple[int, int, int]
    layers: tuple[LayerRow, ...]
    blocks: tuple[Rollup, ...]
    stages: tuple[Rollup, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def params(self) -> int:
        return sum(r.params for r in self.layers)

    @property
    def macs(self) -> int:
        return sum(r.macs for r in self.layers)

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def activations(self) -> int:
        return sum(r.activations for r in self.layers)

    @property
    def other_ops(self) -> int:
        return sum(r.other_ops for r in self.layers)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layers[-1].out_shape

    def by_type(self) -> dict[str, dict[str, int]]:
        """Totals per op type (conv, bn, relu, maxpool, add, …), so nothing is silently dropped."""
        return self._totals_by("type")

    def by_kind(self) -> dict[str, dict[str, int]]:
        """Totals per kind of work ('dense 1×1 conv', 'grouped 3×3 conv', 'BN', …), in order of appearance."""
        return self._totals_by("kind")

    def _totals_by(self, attr: str) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for r in self.layers:
            t = out.setdefault(getattr(r, attr), {"count": 0, "params": 0, "macs": 0, "activations": 0,
                                                  "output_elements": 0, "other_ops": 0})
            t["count"] += 1
            t["params"] += r.params
            t["macs"] += r.macs
            t["activations"] += r.activations
            t["output_elements"] += r.output_elements
            t["other_ops"] += r.other_ops
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: totals, one entry per layer, per block and per stage."""

        def rollup(r: Rollup) -> dict[str, Any]:
            return {**asdict(r), "out_shape": list(r.out_shape), "flops": r.flops}

        return {
            "name": self.name,
            "input_size": list(self.input_size),
            "params": self.params,
            "macs": self.macs,
            "flops": self.flops,
            "activations": self.activations,
            "other_ops": self.other_ops,
            "conventions": CONVENTIONS,
            "spec": self.spec.to_dict(),
            "by_type": self.by_type(),
            "layers": [
                {**asdict(r), "in_shape": list(r.in_shape), "out_shape": list(r.out_shape),
                 "activations": r.activations} for r in self.layers
            ],
            "blocks": [rollup(b) for b in self.blocks],
            "stages": [rollup(s) for s in self.stages],
        }


CONVENTIONS = {k: METRICS[k].meaning for k in ("macs", "flops", "other_ops", "activations")}


class _Rows:
    """The analysis as a visitor of the plan's walk: one row per op, every shape checked on the way."""

    def __init__(self) -> None:
        self.rows: list[LayerRow] = []
        self.stage = self.block = ""

    def enter(self, stage: str, block: str, shape: P.Shape) -> None:
        self.stage, self.block = stage, block

    def leaf(self, op: P.Leaf, shape: P.Shape) -> P.Shape:
        view = getattr(op, "view", None)
        if view is not None:
            shape = view(shape)  # torch.flatten before fc; ECA's view of the channels as one sequence
        out = op.out_shape(shape)
        if min(out) < 1:
            raise SpecError(
                "input_size", f"too small for this network: {op.name} would output {'x'.join(map(str, out))}"
            )
        kernel, groups = getattr(op, "kernel", None), getattr(op, "groups", None)
        self.rows.append(LayerRow(
            name=op.name, type=op.type, stage=self.stage, block=self.block, in_shape=shape, out_shape=out,
            kernel=kernel, stride=getattr(op, "stride", None), groups=groups, params=op.params, macs=op.macs(out),
            output_elements=math.prod(out), other_ops=op.other_ops(shape, out),
            kind=kind_of(op.type, self.block, kernel, groups, op.name),
        ))
        return out

    def merge(self, op: P.Merge, shapes: list[P.Shape]) -> P.Shape:
        out = op.out_shape(shapes)
        self.rows.append(LayerRow(op.name, op.type, self.stage, self.block, shapes[0], out, None, None, None, 0, 0,
                                  math.prod(out), op.other_ops(shapes, out), P.OPS[op.type].label))
        return out


def analyze_block(block: P.BlockPlan, in_shape: P.Shape) -> tuple[LayerRow, ...]:
    """The rows of one block on its own (used for single-block studies such as ResNeXt Fig. 3)."""
    v = _Rows()
    P.walk_block(block, v, in_shape)
    return tuple(v.rows)


def _rollup(name: str, rows: list[LayerRow]) -> Rollup:
    return Rollup(
        name, rows[-1].out_shape, sum(r.params for r in rows), sum(r.macs for r in rows),
        sum(r.activations for r in rows), sum(r.other_ops for r in rows),
    )


@sized_cache(ANALYSIS_CACHE_BYTES, lambda a: len(a.layers) * ANALYSIS_ROW_BYTES)  # bytes, not entries
def _analyze(spec: ArchSpec, input_size: tuple[int, int, int]) -> Analysis:
    v = _Rows()
    P.walk(P.make_plan(spec), v, input_size)

    def groups(key: str) -> tuple[Rollup, ...]:
        grouped: dict[str, list[LayerRow]] = {}
        for r in v.rows:
            grouped.setdefault(getattr(r, key), []).append(r)
        return tuple(_rollup(k, rows) for k, rows in grouped.items())

    return Analysis(spec, input_size, tuple(v.rows), groups("block"), groups("stage"))


def analyze(spec: ArchSpec, input_size: Any = None) -> Analysis:
    """Analytic complexity of a spec, without building or running it.

    Args:
        spec: the architecture.
        input_size: ``(channels, height, width)``; default ``spec.input_size``. Any spatial size the
            network can take works (odd ones too); the channels must match the spec's.

    Raises:
        SpecError: the input size is malformed, has the wrong channels, or is too small.
    """
    size = spec.input_size if input_size is None else check_input_size(input_size)
    if size[0] != spec.input_size[0]:
        raise SpecError(
            "input_size", f"this network takes {spec.input_size[0]} input channels (spec.input_size), got {size[0]}"
        )
    return _analyze(spec, size)
