"""The measurements the app's views run, by name: what each one overrides of the user's measurement settings,
and its stopping target in words generated from the same numbers.

A view writes ``COMPARE_LATENCY.apply(settings, max_seconds=limit)`` instead of its own run counts, so every
run count, time limit and interval target a page uses is here, and the sentence that states a target
(``COMPARE_LATENCY.target()``: "within ±3%") is made from the number the measurement stops on. The user's
device, dtype, threads and batch size (unless a policy names one) are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .equivalence import FORMS_HALF_WIDTH
from .latency import DEFAULT_HALF_WIDTH
from .timing import Settings


@dataclass(frozen=True)
class Policy:
    """One view's measurement: ``overrides`` of the user's :class:`Settings`, and, for a comparison, the relative
    half-width of the ratios' confidence intervals it times on for (``None``: the settings' targets alone)."""

    what: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    half_width: float | None = None

    def apply(self, settings: Settings, **more: Any) -> Settings:
        """The settings this view measures with: the user's, with this policy's overrides, then ``more``'s
        (what the view's own fields give, such as its time limit or the batch size being costed)."""
        return settings.edit(**{**self.overrides, **more})

    def target(self) -> str:
        """The stopping target in words, from the number itself: "within ±3%"."""
        if self.half_width is None:
            raise ValueError(f"{self.what} has no interval target")
        return f"within ±{self.half_width:.0%}"


COMPARE_LATENCY = Policy("Compare · latency of all", {"min_runs": 6}, DEFAULT_HALF_WIDTH)  # its limit is a field
COMPARE_LAYER_TIMES = Policy("Compare · time per layer", {"min_runs": 8, "max_seconds": 60})
COMPARE_TRAIN_STEPS = Policy("Compare · one training step of each", {"min_runs": 6, "max_seconds": 60})
BUILD_LAYER_TIMES = Policy("Build · time per layer", {"min_runs": 10, "max_seconds": 30})
BUILD_SWEEP = Policy("Build · batch-size sweep, each batch", {"warmup": 2, "min_runs": 5, "min_seconds": 0.3})
BUILD_TRAIN_STEP = Policy("Build · one training step", {"min_runs": 5, "max_seconds": 30})
DESIGN_LATENCY = Policy("Design space · latency of a table's rows", {"min_runs": 5, "max_seconds": 120})
FIG3_FORMS = Policy("Fig. 3 · the three forms, one block, one image", {"batch_size": 1, "min_runs": 6,
                                                                        "max_seconds": 30}, FORMS_HALF_WIDTH)
FIG3_LAYER_TIMES = Policy("Fig. 3 · time per layer of each form", {**FIG3_FORMS.overrides, "min_runs": 8})

POLICIES = {p.what: p for p in (COMPARE_LATENCY, COMPARE_LAYER_TIMES, COMPARE_TRAIN_STEPS, BUILD_LAYER_TIMES,
                                BUILD_SWEEP, BUILD_TRAIN_STEP, DESIGN_LATENCY, FIG3_FORMS, FIG3_LAYER_TIMES)}

__all__ = [
    "BUILD_LAYER_TIMES", "BUILD_SWEEP", "BUILD_TRAIN_STEP", "COMPARE_LATENCY", "COMPARE_LAYER_TIMES",
    "COMPARE_TRAIN_STEPS", "DESIGN_LATENCY", "FIG3_FORMS", "FIG3_LAYER_TIMES", "POLICIES", "Policy",
]
