"""Several seeds' values of one measurement: their mean and range (no torch, no numpy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """The mean of several seeds' values and their range (``low``–``high``); ``n`` values."""

    mean: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("a spread needs at least one value")
        return cls(sum(values) / len(values), min(values), max(values), len(values))


__all__ = ["Spread"]
