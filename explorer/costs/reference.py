"""What the papers and torchvision report, for the "paper says / we compute" panels.

Sources: ResNet, He et al., CVPR 2016 (arXiv 1512.03385); ResNeXt, Xie et al., CVPR 2017
(arXiv 1611.05431); torchvision 0.29.1 model metadata (224×224, batch 1). See shared/REFERENCE.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

RESNET_PAPER = "ResNet paper (arXiv 1512.03385)"
RESNEXT_PAPER = "ResNeXt paper (arXiv 1611.05431)"
TORCHVISION = "torchvision 0.29.1"


@dataclass(frozen=True)
class Reported:
    """One source's figures for one model; ``None`` where the source gives none."""

    source: str
    params: int | float | None = None  # exact when int, rounded (as printed) when float
    macs: int | float | None = None  # the source's "FLOPs"/"GFLOPS": multiply-adds
    top1: float | None = None  # accuracy (%) for torchvision, error (%) for the papers
    top5: float | None = None
    metric: str = "error"  # "error" (papers) or "accuracy" (torchvision)
    note: str = ""


def _tv(params: int, macs: int, acc: str) -> Reported:
    (t1, t5), *rest = [tuple(float(v) for v in pair.split("/")) for pair in acc.split(", ")]
    note = f"V2 weights: {rest[0][0]}/{rest[0][1]}" if rest else "V1 weights only"
    return Reported(TORCHVISION, params, macs, t1, t5, "accuracy",
                    f"errors are 100 − acc@1/acc@5 of the V1 weights ({t1}/{t5}); {note}")


_STRIDE_1X1 = (
    "The ResNet paper puts the stride on the first 1×1 of a bottleneck; torchvision and the ResNeXt paper "
    "put it on the 3×3 ('ResNet V1.5'). Parameters are identical; with the stride on the 3×3 the first 1×1 "
    "runs at the higher resolution, which is why the ResNet paper's ResNet-50 has 3.8e9 and the ResNeXt "
    "paper's 4.1e9 FLOPs (multiply-adds)."
)

# ResNeXt Table 3: ImageNet-1K top-1 error (%), 224×224 single crop, at each C (d follows Table 2).
TABLE3_TOP1_ERROR = {
    50: {1: 23.9, 2: 23.0, 4: 22.6, 8: 22.3, 32: 22.2},
    101: {1: 22.0, 2: 21.7, 4: 21.4, 8: 21.3, 32: 21.2},
}
# ResNeXt Table 4: going deeper, wider or more cardinal at about twice ResNet-101's complexity;
# preset → (the paper's setting, top-1 error %, top-5 error %). The first two are the 1× baselines.
TABLE4 = {
    "resnet101": ("ResNet-101, 1×64d (1×)", 22.0, 6.0),
    "resnext101_32x4d": ("ResNeXt-101, 32×4d (1×)", 21.2, 5.6),
    "resnet200": ("ResNet-200, 1×64d: deeper", 21.7, 5.8),
    "resnet101_1x100d": ("ResNet-101, 1×100d: wider", 21.3, 5.7),
    "resnext101_2x64d": ("ResNeXt-101, 2×64d: cardinality", 20.7, 5.5),
    "resnext101_64x4d": ("ResNeXt-101, 64×4d: cardinality", 20.4, 5.3),
}


def _t4(name: str) -> Reported:
    setting, top1, top5 = TABLE4[name]
    return Reported(RESNEXT_PAPER, None, None, top1, top5, note=f"Table 4 ({setting})")


def _t3(depth: int, cardinality: int, **kwargs: object) -> Reported:
    return Reported(RESNEXT_PAPER, top1=TABLE3_TOP1_ERROR[depth][cardinality], **kwargs)  # type: ignore[arg-type]


REPORTED: dict[str, tuple[Reported, ...]] = {
    "resnet18": (
        _tv(11_689_512, 1_814_073_344, "69.758/89.078"),
        Reported(RESNET_PAPER, None, 1.8e9, None, None, note="Table 1 FLOPs. Its Table 2 error (27.88% top-1) is of "
                 "ResNet-18 with option A shortcuts: set Shortcut to A to see it"),
    ),
    "resnet34": (
        _tv(21_797_672, 3_663_761_408, "73.314/91.420"),
        Reported(RESNET_PAPER, None, 3.6e9, 24.52, 7.46, note="Table 1 FLOPs; 10-crop error, Table 3 (option B)"),
    ),
    "resnet50": (
        _tv(25_557_032, 4_089_184_256, "76.130/92.862, 80.858/95.434"),
        Reported(RESNET_PAPER, None, 3.8e9, 22.85, 6.71, note="10-crop error, Table 3. " + _STRIDE_1X1),
        _t3(50, 1, params=25.5e6, macs=4.1e9, note="Table 1 and Table 3 (224 single crop)"),
    ),
    "resnet101": (
        _tv(44_549_160, 7_801_405_440, "77.374/93.546, 81.886/95.780"),
        Reported(RESNET_PAPER, None, 7.6e9, 21.75, 6.05, note="10-crop error, Table 3. " + _STRIDE_1X1),
        _t4("resnet101"),
    ),
    "resnet152": (
        _tv(60_192_808, 11_513_626_624, "78.312/94.046, 82.284/96.002"),
        Reported(RESNET_PAPER, None, 11.3e9, 21.43, 5.71, note="10-crop error, Table 3. " + _STRIDE_1X1),
    ),
    "resnext50_32x4d": (
        _tv(25_028_904, 4_230_479_872, "77.618/93.698, 81.198/95.340"),
        _t3(50, 32, params=25.0e6, macs=4.2e9, note="Table 1 and Table 3"),
    ),
    "resnext101_32x8d": (_tv(88_791_336, 16_414_015_488, "79.312/94.526, 82.834/96.228"),),
    "resnext101_64x4d": (
        _tv(83_455_272, 15_460_270_080, "83.246/96.454"),
        _t4("resnext101_64x4d"),
    ),
    "wide_resnet50_2": (_tv(68_883_240, 11_398_021_120, "78.468/94.086, 81.602/95.758"),),
    "wide_resnet101_2": (_tv(126_886_696, 22_753_050_624, "78.848/94.284, 82.510/96.020"),),
    "resnet200": (_t4("resnet200"),),
    "resnext50_2x40d": (_t3(50, 2, note="Table 3"),),
    "resnext50_4x24d": (_t3(50, 4, note="Table 3"),),
    "resnext50_8x14d": (_t3(50, 8, note="Table 3"),),
    "resnext101_32x4d": (_t4("resnext101_32x4d"),),
    "resnext101_2x64d": (_t4("resnext101_2x64d"),),
    "resnet101_1x100d": (_t4("resnet101_1x100d"),),
    "resnet20": (Reported(RESNET_PAPER, 0.27e6, None, 8.75, note="CIFAR-10 test error, Table 6"),),
    "resnet32": (Reported(RESNET_PAPER, 0.46e6, None, 7.51, note="CIFAR-10 test error, Table 6"),),
    "resnet44": (Reported(RESNET_PAPER, 0.66e6, None, 7.17, note="CIFAR-10 test error, Table 6"),),
    "resnet56": (Reported(RESNET_PAPER, 0.85e6, None, 6.97, note="CIFAR-10 test error, Table 6"),),
    "resnet110": (Reported(RESNET_PAPER, 1.7e6, None, 6.43, note="CIFAR-10 test error, Table 6"),),
    "resnet1202": (Reported(RESNET_PAPER, 19.4e6, None, 7.93, note="CIFAR-10 test error, Table 6"),),
    # The ResNet paper's ImageNet networks that torchvision has not (Tables 2 and 3: 10-crop top-1/top-5 error).
    "resnet18_A": (Reported(RESNET_PAPER, None, 1.8e9, 27.88, None,
                            note="Table 1 FLOPs; top-1 error, Table 2 (10-crop; option A shortcuts)"),),
    "resnet34_A": (Reported(RESNET_PAPER, None, 3.6e9, 25.03, 7.76,
                            note="Table 1 FLOPs; 10-crop error, Tables 2 and 3 (option A: zero-padded identity)"),),
    "resnet34_C": (Reported(RESNET_PAPER, None, 3.6e9, 24.19, 7.40,
                            note="Table 1 FLOPs; 10-crop error, Table 3 (option C: a projection on every block)"),),
    "plain18": (Reported(RESNET_PAPER, None, 1.8e9, 27.94, None,
                         note="Table 1 FLOPs; top-1 error, Table 2 (10-crop): the 18-layer plain baseline"),),
    "plain34": (Reported(RESNET_PAPER, None, 3.6e9, 28.54, 10.02,
                         note="Table 1 FLOPs; 10-crop error, Tables 2 and 3: the degradation baseline, worse than "
                         "plain-18"),),
    "resnet50_v1": (Reported(RESNET_PAPER, None, 3.8e9, 22.85, 6.71, note="Table 1 FLOPs; 10-crop error, Table 3: "
                             "the paper's own stride placement (on the first 1×1)"),),
    "resnet101_v1": (Reported(RESNET_PAPER, None, 7.6e9, 21.75, 6.05, note="Table 1 FLOPs; 10-crop error, Table 3: "
                              "the paper's own stride placement (on the first 1×1)"),),
    "resnet152_v1": (Reported(RESNET_PAPER, None, 11.3e9, 21.43, 5.71, note="Table 1 FLOPs; 10-crop error, Table 3: "
                              "the paper's own stride placement (on the first 1×1)"),),
    # CIFAR-10 plain nets (§4.2): only curves, in Fig. 6 (left); no table prints their errors.
    **{f"plain{6 * n + 2}": (Reported(RESNET_PAPER, note=f"Fig. 6 (left): CIFAR-10 training and test error curves "
                                      f"of plain-{6 * n + 2}, no table; deeper plain nets have higher training and "
                                      "test error than plain-20 throughout (the degradation problem)"),)
       for n in (3, 5, 7, 9)},
}


def _paper_nets() -> dict[str, Any]:
    """The networks the papers report that are no preset, as specs (a preset edited): each is found by its
    structure, whatever the person calls it."""
    from ..core.presets import get_preset

    def net(name: str, base: str, **changes: Any) -> tuple[str, Any]:
        return name, dataclasses.replace(get_preset(base), name=name, **changes)

    return dict([
        net("resnet18_A", "resnet18", shortcut="A"), net("resnet34_A", "resnet34", shortcut="A"),
        net("resnet34_C", "resnet34", shortcut="C"),
        net("plain18", "resnet18", shortcut="none"), net("plain34", "resnet34", shortcut="none"),
        *(net(f"resnet{d}_v1", f"resnet{d}", downsample_on="1x1") for d in (50, 101, 152)),
        *(net(f"plain{6 * n + 2}", f"resnet{6 * n + 2}", shortcut="none") for n in (3, 5, 7, 9)),
    ])


def _structure(spec: Any) -> tuple:
    return tuple(getattr(spec, f.name) for f in dataclasses.fields(spec) if f.name != "name")


@lru_cache(maxsize=1)
def _by_structure() -> dict[tuple, str]:
    from ..core.presets import get_preset, list_presets

    specs = {**{n: get_preset(n) for n in list_presets() if n in REPORTED}, **_paper_nets()}
    return {_structure(spec): name for name, spec in specs.items()}


def match(spec: Any) -> str | None:
    """The name under which a source reports this very network (its structure, not its name), or None.

    ResNet-34 with shortcut C is ``"resnet34_C"``; a CIFAR ResNet-20 without shortcuts is ``"plain20"``; a
    renamed ResNet-50 is ``"resnet50"``.
    """
    return _by_structure().get(_structure(spec))

CONVENTION_NOTES = (
    "The papers' 'FLOPs' and torchvision's 'GFLOPS' are multiply-adds of conv and linear layers: our MACs. "
    "Tools that count FLOPs = 2 × MACs (torch.utils.flop_counter) report twice as much.",
    "The papers print rounded figures (e.g. 3.6e9, 25.5e6), so expect differences in the last printed digit; "
    "torchvision's figures are exact and must equal ours to the unit.",
    "Parameters count conv weights, BN scale and shift, and the fc weight and bias; BN running statistics "
    "are buffers, not parameters.",
)


def reported(name: str) -> tuple[Reported, ...]:
    """What the sources report for a preset name (empty for custom specs)."""
    return REPORTED.get(name, ())


def printed(r: Reported) -> str:
    """A source's multiply-adds as it prints them, in its own words: torchvision's "4.089 GFLOPS", the papers'
    "3.8×10⁹ FLOPs" (both mean multiply-adds: our MACs, whatever the MACs/FLOPs switch shows)."""
    if r.macs is None:
        return "—"
    if r.source == TORCHVISION:
        return f"{r.macs / 1e9:.3f} GFLOPS"
    return f"{r.macs / 1e9:.1f}×10⁹ FLOPs"


def source_rows(name: str, params: int, macs: int, metric: str = "macs") -> list[dict[str, object]]:
    """'Paper says / we compute' rows for a reported network: each source's figures beside ours, and the difference.

    Every accuracy is turned into an error (100 − accuracy), so one column compares like with like; the
    note says which it was. Missing figures are "—". Each source's multiply-adds are shown as printed (see
    :func:`printed`); ours in the unit of ``metric`` (MACs or FLOPs); the difference is the same in either.
    """
    from ..core.vocab import METRICS, multiply_adds

    unit = METRICS[metric].unit
    rows = []
    for r in reported(name):
        def err(v: float | None) -> str:
            if v is None:
                return "—"
            return f"{100 - v:.3f}".rstrip("0").rstrip(".") if r.metric == "accuracy" else f"{v:g}"

        def delta(ours: int, theirs: float | None) -> str:
            return "—" if theirs is None else f"{100 * (ours - theirs) / theirs:+.2f}"

        rows.append({  # the errors first: they are what only the sources know, and stay on screen at 1100 px
            "Source": r.source,
            "Top-1 error %": err(r.top1),
            "Top-5 error %": err(r.top5),
            "Parameters reported": "—" if r.params is None else f"{r.params:,}" if isinstance(r.params, int)
            else f"{r.params / 1e6:g}M",
            "Parameters ours": f"{params:,}",
            "Δ parameters %": delta(params, r.params),
            "Multiply-adds as printed": printed(r),
            f"{unit} ours": f"{multiply_adds(macs, metric):,}",
            "Δ multiply-adds %": delta(macs, r.macs),
        })
    return rows


STRIDE_NOTE = _STRIDE_1X1


def stride_placement(spec: Any, metric: str = "macs") -> str | None:
    """What moving a bottleneck's stride between its 1×1 and its 3×3 does to this network, in one sentence with
    both exact counts in ``metric``'s unit (the parameters stay); None for a basic block, which has no choice."""
    from ..core.analysis import analyze
    from ..core.vocab import METRICS, exact, multiply_adds

    if spec.block != "bottleneck":
        return None
    other = spec.edit(downsample_on="1x1" if spec.downsample_on == "3x3" else "3x3")
    here, there, unit = analyze(spec), analyze(other), METRICS[metric].unit
    return (f"With the stride on the {spec.downsample_on} this network has {exact(multiply_adds(here.macs, metric))} "
            f"{unit}; on the {other.downsample_on} it would have {exact(multiply_adds(there.macs, metric))} {unit}, "
            f"with the same {exact(here.params)} parameters. {STRIDE_NOTE}")

# ResNeXt Table 2 as printed: C → (d, width of the group conv C·d, params of the template block).
TABLE2 = {1: (64, 64, 69_632), 2: (40, 80, 69_760), 4: (24, 96, 69_888), 8: (14, 112, 71_456), 32: (4, 128, 70_144)}
