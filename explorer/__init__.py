"""Architecture Explorer: exact, instant ResNet/ResNeXt specs, builders and complexity analysis.

The library never imports Streamlit. ``import explorer`` stays light (no torch): the spec, presets,
plan and analysis are plain Python; names that need torch or fvcore load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from .analysis import CONVENTIONS, Analysis, LayerRow, Rollup, analyze
from .plan import make_plan
from .presets import TORCHVISION_PRESETS, get_preset, list_presets
from .errors import DeviceError, ExplorerError, ResourceError, SpecError
from .spec import ArchSpec
from .from_model import from_model, spec_from_name  # torch-free at import; the name from_model is the function

# name → module that defines it, imported on first access (torch takes seconds to import).
_LAZY = {
    "build_model": ".model",
    "profile": ".fvcore_check",
    "Profile": ".fvcore_check",
    "to_form": ".forms",
    "width_for": ".design",
    "table2": ".design",
    "equivalence": ".equivalence",
    "network_equivalence": ".equivalence",
    "Settings": ".timing",
    "measure_latency": ".latency",
    "measure_interleaved": ".latency",
    "paired_ratios": ".latency",
    "throughput_sweep": ".sweep",
    "peak_macs_per_second": ".roofline",
    "available_devices": ".devices",
    "tool_counts": ".counters",
    "paper_figures": ".counters",
    "live_counts": ".counters_live",
    "time_layers": ".layer_time",
    "train_cost": ".training",
    "max_batch_size": ".training",
    "measure_train_step": ".train_step",
}

__all__ = [
    "CONVENTIONS", "Analysis", "ArchSpec", "DeviceError", "ExplorerError", "LayerRow", "ResourceError", "Rollup",
    "SpecError", "TORCHVISION_PRESETS",
    "analyze", "get_preset", "list_presets", "make_plan", *_LAZY,
    "from_model", "spec_from_name",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'explorer' has no attribute {name!r}")
