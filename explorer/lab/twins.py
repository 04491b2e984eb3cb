"""The networks of a lab experiment: plain and residual twins, each an ``ArchSpec``, so each has exact counts.

The default nets are the CIFAR-10 networks of ResNet §4.2: a 3×3 stem, three stages of n basic blocks at
w, 2w, 4w filters (strides 1, 2, 2), global average pooling and the fc: 6n+2 weighted layers. A plain twin is
the same spec with ``shortcut="none"``: the same layers, the same parameters under option A, no addition.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..core import plan as P
from ..core.spec import ArchSpec

FAMILIES = ("plain", "residual")


@dataclass(frozen=True)
class Net:
    """One net of an experiment: ``family`` is ``"plain"`` or ``"residual"``; ``depth`` its weighted layers."""

    label: str
    family: str
    depth: int
    spec: ArchSpec


def cifar_spec(depth: int, width: int, shortcut: str, input_size: tuple[int, int, int], classes: int) -> ArchSpec:
    """The 6n+2-layer CIFAR net of ResNet §4.2 at ``width`` (the paper's 16), for the data set's images."""
    n = (depth - 2) // 6
    family = "plain" if shortcut == "none" else "resnet"
    return ArchSpec(name=f"{family}{depth}", block="basic", depths=(n, n, n), widths=(width, 2 * width, 4 * width),
                    stem="cifar", stem_width=width, shortcut=shortcut, num_classes=classes, input_size=input_size)


def weighted_layers(spec: ArchSpec) -> int:
    """Convs on the main path plus the fc: ResNet's count (18 for ResNet-18; projections are not counted)."""
    plan = P.make_plan(spec)
    convs = sum(1 for op in plan.stem if isinstance(op, P.Conv))
    for b in plan.blocks:
        convs += sum(1 for op in b.main if isinstance(op, P.Conv))
        convs += sum(1 for op in b.main if isinstance(op, P.Paths) for path in op.paths[:1] for o in path.ops
                     if isinstance(o, P.Conv))
    return convs + 1


def twins(layers: tuple[int, ...], width: int, shortcut: str, input_size: tuple[int, int, int], classes: int, *,
          plain: bool = True, base: ArchSpec | None = None) -> tuple[Net, ...]:
    """Plain nets first (ascending depth), then residual ones: the paper's Fig. 6 left and right.

    With ``base``, its two twins only: the base (made residual with option B if it has no shortcut) and the same
    spec without shortcuts, at the data set's input size and classes.
    """
    if base is not None:
        fitted = dataclasses.replace(base, input_size=input_size, num_classes=classes)
        residual = fitted if fitted.shortcut != "none" else dataclasses.replace(
            fitted, shortcut="B", name=f"{base.name} (residual twin)")
        flat = dataclasses.replace(fitted, shortcut="none", name=base.name if base.shortcut == "none"
                                   else f"{base.name} (plain twin)")
        nets = [Net(flat.name, "plain", weighted_layers(flat), flat)] if plain else []
        return (*nets, Net(residual.name, "residual", weighted_layers(residual), residual))
    depths = sorted(layers)
    out = [Net(f"plain-{d}", "plain", d, cifar_spec(d, width, "none", input_size, classes)) for d in depths] \
        if plain else []
    out += [Net(f"ResNet-{d}", "residual", d, cifar_spec(d, width, shortcut, input_size, classes)) for d in depths]
    return tuple(out)


__all__ = ["FAMILIES", "Net", "cifar_spec", "twins", "weighted_layers"]
