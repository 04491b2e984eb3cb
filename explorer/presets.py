"""Named architectures from torchvision and the two papers, one declarative line each."""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

from .errors import SpecError
from .spec import ArchSpec

_R18, _R34, _R50, _R101, _R152, _R200 = (2, 2, 2, 2), (3, 4, 6, 3), (3, 4, 6, 3), (3, 4, 23, 3), (3, 8, 36, 3), (3, 24, 36, 3)


def _bottleneck(name: str, depths: tuple[int, ...], cardinality: int = 1, base_width: int = 64) -> ArchSpec:
    return ArchSpec(name=name, block="bottleneck", depths=depths, cardinality=cardinality, base_width=base_width)


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
    ]
}

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
