"""Architecture Explorer: exact, instant ResNet/ResNeXt specs, builders and complexity analysis.

The library never imports Streamlit. ``import explorer`` stays light (no torch): the spec, presets,
plan and analysis are plain Python; names that need torch or fvcore load on first use.

The folders are the layers (:data:`LAYERS`): ``core`` (the spec, its fields, presets, the plan and its analysis,
the vocabulary), ``costs`` (training cost, other tools' counts, comparisons, design, the papers' figures),
``build`` (the torch modules, the model, forms, export, the memory guard, devices), ``measure`` (timing,
latency, sweeps, time per layer, training steps, live counters, equivalence), ``present`` (tables, charts, the
diagram, links), ``lab`` (the Residual lab) and ``cli``. A module imports only from its own folder and the
folders its layer lists; core, costs and present never import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from .core.analysis import CONVENTIONS, Analysis, LayerRow, Rollup, analyze
from .core.plan import make_plan
from .core.presets import TORCHVISION_PRESETS, get_preset, list_presets
from .core.errors import DeviceError, ExplorerError, ResourceError, SpecError
from .core.spec import ArchSpec
from .build.from_model import from_model, spec_from_name  # torch-free at import; the name from_model is the function

# folder → the folders its modules may import from (besides their own); tests/test_imports.py checks every import.
LAYERS: dict[str, tuple[str, ...]] = {
    "core": (),
    "costs": ("core",),
    "build": ("core", "costs"),
    "measure": ("core", "costs", "build"),
    "present": ("core", "costs"),
    "lab": ("core", "costs", "build", "measure", "present"),
    "cli": ("core", "costs", "build", "measure", "present", "lab"),
}
TORCH_FREE_LAYERS = ("core", "costs", "present")  # plain Python: the first screens and the CLI's parser need no torch

# name → module that defines it, imported on first access (torch takes seconds to import).
_LAZY = {
    "build_model": ".build.model",
    "profile": ".measure.fvcore_check",
    "Profile": ".measure.fvcore_check",
    "to_form": ".build.forms",
    "width_for": ".costs.design",
    "table2": ".costs.design",
    "equivalence": ".measure.equivalence",
    "network_equivalence": ".measure.equivalence",
    "Settings": ".measure.timing",
    "measure_latency": ".measure.latency",
    "measure_interleaved": ".measure.latency",
    "paired_ratios": ".measure.latency",
    "throughput_sweep": ".measure.sweep",
    "peak_macs_per_second": ".measure.roofline",
    "available_devices": ".build.devices",
    "tool_counts": ".costs.counters",
    "paper_figures": ".costs.counters",
    "live_counts": ".measure.counters_live",
    "time_layers": ".measure.layer_time",
    "train_cost": ".costs.training",
    "max_batch_size": ".costs.training",
    "measure_train_step": ".measure.train_step",
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
