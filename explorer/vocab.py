"""The words and units of every number: metric names, their one-line meaning, the counting convention,
human column headers, and the two number styles (exact counts with separators; SI with the unit).

The CLI, the pages, the charts and the tables all read this module, so a label or a convention sentence is
written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """A counted quantity: its short name, its unit, and what it counts."""

    key: str
    name: str
    unit: str
    meaning: str


METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("params", "Parameters", "parameters", "trainable parameters: conv weights, BN scale and shift, fc weight "
           "and bias (BN running statistics are buffers, not parameters)"),
    Metric("macs", "MACs", "MACs", "multiply-accumulates of conv and linear layers, bias not counted: what the "
           "ResNet and ResNeXt papers call 'FLOPs' and torchvision publishes as 'GFLOPS'"),
    Metric("flops", "FLOPs", "FLOPs", "2 × MACs: one multiply and one add"),
    Metric("activations", "Activations", "elements", "output elements of every conv and linear layer (the RegNet "
           "paper's convention)"),
    Metric("other_ops", "Other ops", "ops", "work that is not a multiply-add, per element: BN 2 (scale, shift), "
           "ReLU 1, residual add 1, max pool k²−1 comparisons per output, global average pool 1 add per input"),
)}
MULTIPLY_ADD_METRICS = ("macs", "flops")

CONVENTION = (
    "MACs = multiply-accumulates of conv and linear layers, bias not counted: what the ResNet/ResNeXt papers call "
    "'FLOPs' and torchvision publishes as 'GFLOPS'. FLOPs = 2 × MACs."
)
CONVENTION_ASCII = CONVENTION.replace("×", "x")  # for terminals

# Human headers for the columns of every table (CSV downloads keep them too).
COLUMNS = {
    "stage": "Stage", "block": "Block", "name": "Layer", "type": "Type", "kind": "Kind", "in_shape": "Input shape",
    "out_shape": "Output shape", "kernel": "Kernel", "stride": "Stride", "groups": "Groups",
    "params": "Parameters", "macs": "MACs", "flops": "FLOPs", "activations": "Activations", "other_ops": "Other ops",
    "output_elements": "Output elements", "config": "Configuration", "input": "Input",
}


def metric(key: str) -> Metric:
    """The metric of a key, or a ``ValueError`` naming the valid ones."""
    try:
        return METRICS[key]
    except KeyError:
        raise ValueError(f"metric: must be one of {', '.join(METRICS)}, got {key!r}") from None


def multiply_adds(macs: int, key: str) -> int:
    """A MAC count in the chosen unit: ``macs`` itself, or FLOPs = 2 × MACs."""
    if key not in MULTIPLY_ADD_METRICS:
        raise ValueError(f"metric: must be 'macs' or 'flops', got {key!r}")
    return 2 * macs if key == "flops" else macs


# --- number styles ------------------------------------------------------------------------------
_PREFIXES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def exact(n: int) -> str:
    """An exact count with thousands separators: 25557032 → '25,557,032'."""
    return f"{n:,}"


def si(x: float, unit: str = "", digits: int = 3) -> str:
    """A rounded value with an SI prefix: (4089184256, 'MACs') → '4.09 GMACs'."""
    for scale, prefix in _PREFIXES:
        if abs(x) >= scale:
            return f"{x / scale:.{digits}g} {prefix}{unit}".rstrip()
    return f"{x:.{digits}g} {unit}".rstrip()


def binary(n: float) -> str:
    """Bytes in binary units: 102760448 → '98.0 MiB'."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,.0f} B"


def ms(x: float) -> str:
    """Milliseconds with three significant figures and the unit: '128 ms', '0.432 ms'."""
    return f"{x:,.3g} ms" if x < 1000 else f"{x:,.0f} ms"


def ratio(a: float, b: float) -> str:
    """'1.03×' style ratio a/b; '—' when b is zero."""
    return f"{a / b:.3g}×" if b else "—"


def shape(s: Sequence[int]) -> str:
    """(256, 56, 56) → '256×56×56'."""
    return "×".join(str(v) for v in s)


def slug(name: str) -> str:
    """A file-name-safe form of a network's name: 'resnet50 (edited)' → 'resnet50-edited'."""
    out = "".join(c if c.isalnum() or c in "._-" else "-" for c in name)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-.") or "network"


__all__ = [
    "COLUMNS", "CONVENTION", "CONVENTION_ASCII", "METRICS", "MULTIPLY_ADD_METRICS", "Metric", "binary", "exact",
    "metric", "ms", "multiply_adds", "ratio", "shape", "si", "slug",
]
