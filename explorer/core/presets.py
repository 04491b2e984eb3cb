"""Named architectures from torchvision and the two papers, one declarative line each."""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

from .errors import SpecError
from .spec import ArchSpec, set_name_rule

_R18, _R34, _R50, _R101, _R152, _R200 = (2, 2, 2, 2), (3, 4, 6, 3), (3, 4, 6, 3), (3, 4, 23, 3), (3, 8, 36, 3), (3, 24, 36, 3)


def _bottleneck(name: str, depths: tuple[int, ...], cardinality: int = 1, base_width: int = 64) -> ArchSpec:
    return ArchSpec(name=name, block="bottleneck", depths=depths, cardinality=cardinality, base_width=base_width)


def _timm(name: str, depths: tuple[int, ...], *, block: str = "bottleneck", **fields: Any) -> ArchSpec:
    """A variant of timm's ``resnet.py`` under timm's own name (``tests/test_timm.py`` checks each against timm)."""
    return ArchSpec(name=name, block=block, depths=depths, **fields)


_D = {"stem": "deep", "shortcut": "D"}  # ResNet-D (Bag of Tricks §4.3): the deep stem and the pooled shortcut


def _preact_cifar(depth: int) -> ArchSpec:
    """Identity Mappings (He et al. 2016) on CIFAR-10: pre-activation, three stages at 16/32/64 planes; basic blocks
    (6n+2 layers) below 164 layers, bottlenecks (9n+2) from 164 on; projection shortcuts."""
    bottleneck = depth >= 164
    n = (depth - 2) // (9 if bottleneck else 6)
    return ArchSpec(name=f"preact_resnet{depth}", block="bottleneck" if bottleneck else "basic", depths=(n, n, n),
                    widths=(16, 32, 64), stem="cifar", order="pre", num_classes=10)


def _wide(depth: int, k: int) -> ArchSpec:
    """Wide ResNet WRN-depth-k (Zagoruyko & Komodakis 2016): pre-activation basic blocks, (depth − 4) / 6 per stage,
    16k/32k/64k wide after a 16-channel 3×3 stem; 1×1 projections where the width changes."""
    n = (depth - 4) // 6
    return ArchSpec(name=f"wrn_{depth}_{k}", block="basic", depths=(n, n, n), widths=(16 * k, 32 * k, 64 * k),
                    stem="cifar", order="pre", num_classes=10)


def _cifar(n: int) -> ArchSpec:
    """ResNet §4.2: 6n+2 layers, three stages of n basic blocks at 16/32/64 filters, option A."""
    return ArchSpec(
        name=f"resnet{6 * n + 2}", block="basic", depths=(n, n, n), widths=(16, 32, 64),
        stem="cifar", shortcut="A", num_classes=10,
    )


_PRESETS: dict[str, ArchSpec] = {
    spec.name: spec
    for spec in [
        # torchvision's ten
        ArchSpec(name="resnet18", block="basic", depths=_R18),
        ArchSpec(name="resnet34", block="basic", depths=_R34),
        _bottleneck("resnet50", _R50),
        _bottleneck("resnet101", _R101),
        _bottleneck("resnet152", _R152),
        _bottleneck("resnext50_32x4d", _R50, 32, 4),
        _bottleneck("resnext101_32x8d", _R101, 32, 8),
        _bottleneck("resnext101_64x4d", _R101, 64, 4),
        _bottleneck("wide_resnet50_2", _R50, 1, 128),
        _bottleneck("wide_resnet101_2", _R101, 1, 128),
        # the papers' others (ResNeXt Tables 3-4)
        _bottleneck("resnet200", _R200),
        _bottleneck("resnext50_2x40d", _R50, 2, 40),
        _bottleneck("resnext50_4x24d", _R50, 4, 24),
        _bottleneck("resnext50_8x14d", _R50, 8, 14),
        _bottleneck("resnext101_32x4d", _R101, 32, 4),
        _bottleneck("resnext101_2x64d", _R101, 2, 64),
        _bottleneck("resnet101_1x100d", _R101, 1, 100),
        # CIFAR-10 ResNets (ResNet §4.2, Table 6)
        *(_cifar(n) for n in (3, 5, 7, 9, 18, 200)),
        # plain baselines of the degradation experiment (ResNet Fig. 4, Table 2)
        ArchSpec(name="plain18", block="basic", depths=_R18, shortcut="none"),
        ArchSpec(name="plain34", block="basic", depths=_R34, shortcut="none"),
        # timm's variants, by timm's names: ResNet-C/D/S/T, SE, ECA, ResNet-RS, GroupNorm, anti-aliased
        _timm("resnet18d", _R18, block="basic", **_D),
        _timm("resnet34d", _R34, block="basic", **_D),
        _timm("resnet26", (2, 2, 2, 2)),
        _timm("resnet26d", (2, 2, 2, 2), **_D),
        _timm("resnet50c", _R50, stem="deep"),
        _timm("resnet50d", _R50, **_D),
        _timm("resnet50s", _R50, stem="deep", stem_width=128),
        _timm("resnet50t", _R50, stem="tiered", shortcut="D"),
        _timm("resnet101d", _R101, **_D),
        _timm("resnext50d_32x4d", _R50, cardinality=32, base_width=4, **_D),
        _timm("seresnet50", _R50, attention="se"),
        _timm("seresnext50_32x4d", _R50, cardinality=32, base_width=4, attention="se"),
        _timm("seresnext101_32x4d", _R101, cardinality=32, base_width=4, attention="se"),
        _timm("ecaresnet50d", _R50, attention="eca", **_D),
        _timm("resnetrs50", _R50, stem_pool="conv", attention="se", se_reduction=4, **_D),
        _timm("resnet50_gn", _R50, norm="gn"),
        _timm("resnetaa50d", _R50, aa=True, stem_pool="avg", **_D),
        _timm("resnetv2_50", _R50, order="pre"),
        _timm("resnetv2_50d", _R50, order="pre", **_D),
        # timm's legacy SENet (senet.py, Hu et al.'s SE-ResNet-50): its names, the stride on the 1×1, SE's width
        # rounded down, the unpadded ceil-mode stem pool (the layout's default)
        _timm("legacy_seresnet50", _R50, layout="senet", attention="se", downsample_on="1x1"),
        # pre-activation CIFAR nets of Identity Mappings, and Wide ResNets
        *(_preact_cifar(d) for d in (110, 164, 1001)),
        *(_wide(d, k) for d, k in ((16, 8), (28, 10), (40, 4))),
    ]
}

TIMM_PRESETS = (
    "resnet18d", "resnet34d", "resnet26", "resnet26d", "resnet50c", "resnet50d", "resnet50s", "resnet50t",
    "resnet101d", "resnext50d_32x4d", "seresnet50", "seresnext50_32x4d", "seresnext101_32x4d", "ecaresnet50d",
    "resnetrs50", "resnet50_gn", "resnetaa50d", "resnetv2_50", "resnetv2_50d", "legacy_seresnet50",
)
TORCHVISION_PRESETS = (
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
    "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2",
)


def list_presets() -> list[str]:
    """Names of all presets, in a stable, meaningful order."""
    return list(_PRESETS)


def get_preset(name: str) -> ArchSpec:
    """The preset's spec; an unknown name raises ``SpecError`` listing the valid ones."""
    try:
        return _PRESETS[name]
    except (KeyError, TypeError):
        raise SpecError("preset", f"unknown name {name!r}; valid names are {', '.join(_PRESETS)}") from None


EDITED = " (edited)"  # the name of a preset changed into no other preset, e.g. "resnet50 (edited)"


@lru_cache(maxsize=256)
def preset_of(spec: ArchSpec) -> str | None:
    """The preset this spec is, whatever its name (e.g. resnet50 edited into ResNeXt is resnext50_32x4d)."""
    mine = _unnamed(spec)
    return next((name for name, preset in _PRESETS.items() if _unnamed(preset) == mine), None)


def _unnamed(spec: ArchSpec) -> tuple:
    """Every field but the name (cheap to compare: no spec is built)."""
    return tuple(getattr(spec, f.name) for f in dataclasses.fields(spec) if f.name != "name")


def origin_of(name: Any) -> str | None:
    """The preset a name was given after (``"resnet50"`` or ``"resnet50 (edited)"``); None for a user's own name."""
    if not isinstance(name, str):
        return None
    base = name.removesuffix(EDITED)
    return base if base in _PRESETS else None


def follow_name(name: Any, spec: ArchSpec | None) -> Any:
    """The name an edited spec takes: a user's own name stays; a name the explorer gave follows the architecture —
    the matching preset's name, or, for an architecture that is no preset, a name that describes it, marked as
    edited ("resnext56_32x4d (edited)": ResNeXt-50 with 8 blocks in stage 3; see :func:`_described`). An invalid
    spec (``None``) keeps the name it had: an invalid entry changes no other field."""
    given = origin_of(name) is not None or (isinstance(name, str) and name.endswith(EDITED))
    if not given or spec is None:
        return name
    return preset_of(spec) or _described(spec) + EDITED


def _described(spec: ArchSpec) -> str:
    """A name in torchvision's pattern from the structure: family, weighted layers (convs on the main path + fc),
    and C×d for a grouped or widened bottleneck: 'resnet28', 'plain34', 'resnext56_32x4d'."""
    layers = (3 if spec.block == "bottleneck" else 2) * sum(spec.depths) + 2
    if spec.shortcut == "none":
        return f"plain{layers}"
    if spec.block == "bottleneck" and (spec.cardinality, spec.base_width) != (1, 64):
        return f"resnext{layers}_{spec.cardinality}x{spec.base_width}d"
    return f"resnet{layers}"


set_name_rule(follow_name)  # spec.edit_data names an edited spec by it (spec cannot import this module)
