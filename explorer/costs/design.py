"""The design space of ResNeXt: cardinality vs width at equal complexity (Table 2, Eq. 4), and why bottlenecks.

Counting conventions are those of ``explorer.core.analysis``: ``macs`` are conv multiply-accumulates (the
papers' "FLOPs"); ``flops = 2 * macs``. Template blocks count conv parameters only, as the paper does.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass

from ..core.analysis import analyze
from ..core.presets import get_preset
from ..core.fields import Field
from ..core.spec import MAX_GROUPS, MAX_SIDE, MAX_WIDTH, ArchSpec

TABLE2_CARDINALITIES = (1, 2, 4, 8, 32)
DESIGN_FIELDS: dict[str, Field] = {f.key: f for f in (
    Field("cardinality", "Cardinality C", "number of paths of the template block", "int", 1, MAX_GROUPS),
    Field("c_in", "Channels", "the template block's input and output channels (256 in conv2)", "int", 1, MAX_WIDTH),
    Field("reference_width", "Reference width", "the ResNet bottleneck's width (64 in conv2)", "int", 1, MAX_WIDTH),
    Field("size", "Spatial size", "height = width of the block's input", "int", 1, MAX_SIDE),
    Field("target_params", "Target parameters", "conv parameters the template aims at (69,632 = ResNet-50's "
          "conv2 template, 256-64-256)", "int", 1, 10**12),
    Field("depth", "Depth", "ResNeXt-50 or ResNeXt-101 (ResNeXt Table 3)", "choice", choices=("50", "101")),
)}


def basic_template_params(channels: int = 256) -> int:
    """Two 3×3 convs at ``channels`` (ResNet's reason for the bottleneck: 1,179,648 at 256)."""
    return 2 * 9 * channels * channels


@dataclass(frozen=True)
class Framing:
    """One way to compare a basic block with the bottleneck (conv parameters, and MACs at ``size``×``size``)."""

    title: str
    basic_channels: int
    basic_params: int
    basic_macs: int
    bottleneck_params: int
    bottleneck_macs: int

    @property
    def ratio(self) -> float:
        """Basic over bottleneck parameters."""
        return self.basic_params / self.bottleneck_params


def bottleneck_framings(size: int = 56) -> tuple[Framing, Framing]:
    """ResNet Fig. 5 two ways: a basic block at the bottleneck's 256 channels (the bottleneck is 16.9× cheaper), and
    the paper's own point, a basic block at 64 channels (about the bottleneck's cost, carrying a quarter of its
    channels). Every conv keeps the spatial size, so MACs = parameters × size²."""
    bottleneck = template_params(1, 64, 256)
    return tuple(Framing(title, c, basic_template_params(c), basic_template_params(c) * size * size, bottleneck,
                         template_macs(1, 64, 256, size=size))
                 for title, c in (("Same 256 channels in and out", 256), ("The paper's point: same cost", 64)))


# --- Table 2: cardinality vs width at equal complexity ---------------------------------------------
def template_params(cardinality: int, d: int, c_in: int = 256, c_out: int | None = None) -> int:
    """Parameters of the three convs of a template block, ResNeXt Eq. 4: ``C·(c_in·d + 9·d·d + d·c_out)``.

    BN is not counted (the paper does not). ``c_out`` defaults to ``c_in``.
    """
    c_out = c_in if c_out is None else c_out
    return cardinality * (c_in * d + 9 * d * d + d * c_out)


def template_macs(cardinality: int, d: int, c_in: int = 256, c_out: int | None = None, size: int = 56) -> int:
    """Conv multiply-accumulates of a template block at ``size``×``size`` (stride 1).

    Every conv keeps the spatial size, so each weight is used once per output position:
    ``macs = params × size²`` (Table 2's ~0.22 GFLOPs = 69,632 × 56² multiply-adds for C = 1).
    """
    return template_params(cardinality, d, c_in, c_out) * size * size


@dataclass(frozen=True)
class WidthChoice:
    """The width d of each path that keeps a template block near a target parameter count.

    Attributes:
        cardinality: C, the number of paths (groups).
        d: channels per path.
        width: C·d, the channels of the grouped 3×3.
        params: conv parameters of the template (Eq. 4).
        macs: conv multiply-accumulates at ``size``×``size``.
        target_params: the parameter count aimed at (the reference ResNet block's).
        c_in: input channels; c_out: output channels.
        size: spatial size of ``macs``.
    """

    cardinality: int
    d: int
    width: int
    params: int
    macs: int
    target_params: int
    c_in: int
    c_out: int
    size: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def width_for(
    cardinality: int, *, c_in: int = 256, reference_width: int = 64, c_out: int | None = None,
    target_params: int | None = None, size: int = 56,
) -> WidthChoice:
    """Solve ResNeXt Eq. 4 for d: the width whose template block's parameters are nearest the reference's.

    The target is the reference ResNet bottleneck ``c_in·w + 9·w·w + w·c_out`` with
    ``w = reference_width`` (69,632 for the conv2 template 256-64-256), or ``target_params`` when given.
    Parameters grow with d, so the nearest d is one of the two integers around the real root of
    ``9C·d² + C·(c_in + c_out)·d = target``; on an exact tie the smaller d is taken (stay within the
    budget). Plain "nearest" reproduces Table 2 exactly — C = 1, 2, 4, 8, 32 → d = 64, 40, 24, 14, 4
    with 69,632, 69,760, 69,888, 71,456, 70,144 parameters; no rounding rule or table is needed
    (for C = 8, d = 14 overshoots by 1,824 while d = 13 would undershoot by 4,216).

    Raises:
        SpecError: an argument is out of range; the field is named.
    """
    c_out = c_in if c_out is None else c_out
    f = DESIGN_FIELDS
    f["cardinality"].check(cardinality)
    f["c_in"].check(c_in)
    f["c_in"].check(c_out, "c_out")
    f["reference_width"].check(reference_width)
    f["size"].check(size)
    if target_params is None:
        target_params = template_params(1, reference_width, c_in, c_out)
    f["target_params"].check(target_params)
    b = c_in + c_out
    root = (-b + math.sqrt(b * b + 36 * target_params / cardinality)) / 18
    lo = max(1, math.floor(root) - 1)  # float error in the root cannot move it by a whole step
    d = min(range(lo, lo + 4), key=lambda k: (abs(template_params(cardinality, k, c_in, c_out) - target_params), k))
    return WidthChoice(
        cardinality, d, cardinality * d, template_params(cardinality, d, c_in, c_out),
        template_macs(cardinality, d, c_in, c_out, size), target_params, c_in, c_out, size,
    )


def table2(
    *, c_in: int = 256, reference_width: int = 64, size: int = 56,
    cardinalities: tuple[int, ...] = TABLE2_CARDINALITIES,
) -> tuple[WidthChoice, ...]:
    """ResNeXt Table 2: for each C, the width d at about the complexity of the reference block."""
    return tuple(width_for(c, c_in=c_in, reference_width=reference_width, size=size) for c in cardinalities)



def table2_rows(size: int = 56, metric: str = "macs") -> list[dict[str, object]]:
    """Table 2 as we compute it, beside the paper's printed d, width and parameters."""
    from .reference import TABLE2
    from ..core.vocab import METRICS, multiply_adds

    rows = []
    for w in table2(size=size):
        paper_d, paper_width, paper_params = TABLE2[w.cardinality]
        same = w.d == paper_d and w.width == paper_width and w.params == paper_params
        rows.append({
            "C": w.cardinality, "d": w.d, "Width C·d": w.width, "Parameters": w.params,
            f"{METRICS[metric].unit} at {size}×{size}": multiply_adds(w.macs, metric), "Paper's d": paper_d,
            "Paper's parameters": paper_params, "Matches the paper": "yes" if same else "no",
        })
    return rows


# --- Table 3: whole networks at each C×d ----------------------------------------------------------------
def table3_specs(depth: int) -> tuple[ArchSpec, ...]:
    """ResNeXt-50 or -101 at each C×d of Table 3 (1×64d is the ResNet)."""
    base = get_preset({50: "resnet50", 101: "resnet101"}[depth])
    return tuple(
        dataclasses.replace(base, name=f"resnext{depth}_{w.cardinality}x{w.d}d" if w.cardinality > 1 else base.name,
                            cardinality=w.cardinality, base_width=w.d)
        for w in table2()
    )


def table3_rows(depth: int) -> list[dict[str, object]]:
    """Params and MACs we compute for each network of Table 3, beside the paper's top-1 error."""
    from .reference import TABLE3_TOP1_ERROR

    rows = []
    for spec in table3_specs(depth):
        a = analyze(spec)
        rows.append({"label": f"{spec.cardinality}×{spec.base_width}d", "network": spec.name, "params": a.params,
                     "macs": a.macs, "top-1 error %": TABLE3_TOP1_ERROR[depth][spec.cardinality]})
    return rows


def table4_specs() -> tuple[ArchSpec, ...]:
    """The networks of ResNeXt Table 4 (presets), in the paper's order."""
    from .reference import TABLE4

    return tuple(get_preset(name) for name in TABLE4)


def table4_rows() -> list[dict[str, object]]:
    """Params and MACs we compute for each network of Table 4, beside the paper's top-1 and top-5 errors."""
    from .reference import TABLE4

    rows = []
    for spec in table4_specs():
        a = analyze(spec)
        setting, top1, top5 = TABLE4[spec.name]
        rows.append({"label": setting.split(" (")[0], "network": spec.name, "setting": setting, "params": a.params,
                     "macs": a.macs, "top-1 error %": top1, "top-5 error %": top5})
    return rows


__all__ = [
    "DESIGN_FIELDS", "TABLE2_CARDINALITIES", "Framing", "bottleneck_framings", "WidthChoice", "basic_template_params", "table2", "table2_rows",
    "table3_rows", "table4_rows", "table4_specs",
    "table3_specs", "template_macs", "template_params", "width_for",
]
