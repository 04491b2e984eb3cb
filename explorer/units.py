"""Number formatting with units, so every number the app prints says what it counts."""

from __future__ import annotations

_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def exact(n: int) -> str:
    """An exact count with thousands separators: 25557032 → '25,557,032'."""
    return f"{n:,}"


def si(x: float, unit: str = "", digits: int = 3) -> str:
    """A rounded value with an SI prefix: (4089184256, 'MACs') → '4.09 GMACs'."""
    for scale, prefix in _PREFIXES:
        if abs(x) >= scale:
            return f"{x / scale:.{digits}g} {prefix}{unit}".rstrip()
    return f"{x:.{digits}g} {unit}".rstrip()


def ratio(a: float, b: float) -> str:
    """'1.03×' style ratio a/b; '—' when b is zero."""
    return f"{a / b:.3g}×" if b else "—"


def shape(s: tuple[int, ...] | list[int]) -> str:
    """(256, 56, 56) → '256×56×56'."""
    return "×".join(str(v) for v in s)
