"""Each page's settings and link parameters, declared once (pages are scripts, so their declarations live here).

A page's settings are ``PageState`` groups of fields from the library's schemas; ``links.register`` makes them
link parameters of that page's address. The measurement settings (device, dtype, threads) are one group
shared by every page that measures.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from explorer import SpecError
from explorer.costs.design import DESIGN_FIELDS
from explorer.core.fields import Field
from explorer.present.links import last
from explorer.core.presets import list_presets
from explorer.core.run_fields import BLOCK_DEFAULTS, BLOCK_FIELDS, SETTINGS_FIELDS, SWEEP_FIELDS
from explorer.costs.training import TRAIN_FIELDS

from .links import PageLinks, register
from .state import PageState
from .widgets import MEASURE


def _group(page: str, fields: tuple[Field, ...], defaults: dict[str, Any]) -> PageState:
    return PageState(page, {f.key: f for f in fields}, defaults)


# --- Build ------------------------------------------------------------------------------------------
BUILD_VIEWS = ("Stages", "Layers", "Charts", "Diagram", "Papers & torchvision", "Other tools", "fvcore check",
               "Latency", "Time per layer", "Training", "Spec & export")
BUILD = _group("build", (
    Field("view", "Show", "one view at a time keeps every edit instant", "choice", choices=BUILD_VIEWS),
    Field("expanded", "Every block", "draw every block instead of “× n” repeats", "bool"),
), {"view": "Stages", "expanded": False})
BUILD_LATENCY = _group("build", (SETTINGS_FIELDS["batch_size"], SWEEP_FIELDS["time_budget_s"]),
                       {"batch_size": 1, "time_budget_s": 15.0})
BUILD_TRAIN = _group("build", (
    dataclasses.replace(TRAIN_FIELDS["batch_size"], key="train_batch"),
    *(TRAIN_FIELDS[k] for k in ("precision", "optimizer", "budget_gb")),
), {"train_batch": 32, "precision": "float32", "optimizer": "sgd_momentum", "budget_gb": 24.0})
register("build", PageLinks((BUILD, BUILD_LATENCY, BUILD_TRAIN, MEASURE), spec=True))

# --- Compare ----------------------------------------------------------------------------------------
BUILD_TOKEN = "build"  # how a link names "the Build page's architecture" among compared configurations
MAX_COMPARED = 6
DEFAULT_PAIR = ["resnet50", "resnext50_32x4d"]
COMPARE_VIEWS = ("Counts", "Latency", "Time per layer", "Training", "Other tools")
COMPARE = _group("compare", (
    Field("view", "Show", "one view at a time keeps every change instant", "choice", choices=COMPARE_VIEWS),
    Field("same_input", "Same input size for all", "off: each network at its natural input (224×224 ImageNet, "
          "32×32 CIFAR)", "bool"),
    Field("h", "Height", "input height for every configuration", "int", 1, 4096),
    Field("w", "Width", "input width for every configuration", "int", 1, 4096),
    SETTINGS_FIELDS["batch_size"],
    SETTINGS_FIELDS["max_seconds"],
), {"view": "Counts", "same_input": False, "h": 224, "w": 224, "batch_size": 1, "max_seconds": 60.0})
COMPARE_TRAIN = _group("compare", tuple(BUILD_TRAIN.fields.values()), dict(BUILD_TRAIN.defaults))
CONFIGS = "compare.configs"


def _read_configs(params: Mapping[str, Any]) -> list[SpecError]:
    """``compare=resnet50,resnext50_32x4d,build``: the valid names apply, each unknown one is named."""
    import streamlit as st

    if "compare" not in params:
        return []
    tokens = [t.strip() for t in last(params["compare"]).split(",") if t.strip()]
    valid = [t for t in tokens if t in list_presets() or t == BUILD_TOKEN]
    problems = [SpecError("compare", f"unknown configuration {t[:40]!r} was left out") for t in tokens if t not in valid]
    if len(valid) > MAX_COMPARED:
        problems.append(SpecError("compare", f"at most {MAX_COMPARED} configurations; the first {MAX_COMPARED} kept"))
    st.session_state[CONFIGS] = valid[:MAX_COMPARED]
    if ("h" in params or "w" in params) and "same_input" not in params:
        st.session_state[COMPARE.key("same_input")] = True
    return problems


def _write_configs() -> dict[str, str]:
    import streamlit as st

    configs = st.session_state.get(CONFIGS, DEFAULT_PAIR)
    return {} if configs == DEFAULT_PAIR else {"compare": ",".join(configs)}


register("compare", PageLinks((COMPARE, COMPARE_TRAIN, MEASURE), spec=True, own=("compare",), read=_read_configs,
                              write=_write_configs))

# --- Fig. 3 lab -------------------------------------------------------------------------------------
FIG3 = _group("fig3", (
    *(BLOCK_FIELDS[k] for k in ("cardinality", "d", "channels", "size", "train")),
    Field("net_size", "Input size", "the whole-network check's input, height = width", "choice",
          choices=("32", "64", "96")),
), {**{k: BLOCK_DEFAULTS[k] for k in ("cardinality", "d", "channels", "size")}, "train": False, "net_size": "64"})
register("fig3", PageLinks((FIG3, MEASURE)))

# --- Design space -----------------------------------------------------------------------------------
DESIGN = _group("design", (DESIGN_FIELDS["cardinality"], DESIGN_FIELDS["target_params"], DESIGN_FIELDS["depth"]),
                {"cardinality": 16, "target_params": 69_632, "depth": "50"})
register("design", PageLinks((DESIGN, MEASURE)))

register("", PageLinks(()))  # Home: only the MACs/FLOPs switch

__all__ = ["BUILD", "BUILD_LATENCY", "BUILD_TRAIN", "COMPARE_TRAIN", "COMPARE_VIEWS", "BUILD_TOKEN", "BUILD_VIEWS", "COMPARE", "CONFIGS", "DEFAULT_PAIR", "DESIGN",
           "FIG3", "MAX_COMPARED"]

# --- Residual lab -----------------------------------------------------------------------------------
from explorer.lab.settings import LAB_FIELDS, DegradationSettings  # noqa: E402 - plain Python, no torch

_LAB_DEFAULT = DegradationSettings()
LAB = _group("lab", tuple(LAB_FIELDS[k] for k in (
    "dataset", "data_dir", "layers_text", "width", "shortcut", "epochs", "seeds", "train_images", "batch_size", "lr",
    "max_seconds", "use_build", "grad_layers_text", "momentum", "eps")), {
    "dataset": _LAB_DEFAULT.dataset, "data_dir": "", "layers_text": ", ".join(map(str, _LAB_DEFAULT.layers)),
    "width": _LAB_DEFAULT.width, "shortcut": _LAB_DEFAULT.shortcut, "epochs": _LAB_DEFAULT.epochs,
    "seeds": _LAB_DEFAULT.seeds, "train_images": _LAB_DEFAULT.train_images, "batch_size": _LAB_DEFAULT.batch_size,
    "lr": _LAB_DEFAULT.lr, "max_seconds": _LAB_DEFAULT.max_seconds, "use_build": False,
    "grad_layers_text": "20, 56, 110", "momentum": 0.1, "eps": 1e-5})
register("residual_lab", PageLinks((LAB, MEASURE), spec=True))
__all__ += ["LAB"]
