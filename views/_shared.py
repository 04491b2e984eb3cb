"""What the pages share: the spec ↔ widget mapping, cached library calls, and small renderers.

Pages stay thin: widgets → ArchSpec → cached library call → render. Nothing here does arithmetic on
the network; it only moves values between widgets and the library.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import streamlit as st

from explorer import CONVENTIONS, ArchSpec, SpecError, analyze, build_model, get_preset, list_presets
from explorer.units import exact, si

DEFAULT_PRESET = "resnet50"
BUILD_SPEC = "build.spec_json"  # the Build page's last valid spec, read by the Compare page
METRIC = "metric"  # "MACs" or "FLOPs", chosen once in the sidebar for every page

METRIC_HELP = (
    "MACs = multiply-accumulates of conv and linear layers, bias not counted: what the ResNet/ResNeXt "
    "papers call 'FLOPs' and torchvision publishes as 'GFLOPS'. FLOPs = 2 × MACs."
)
SHORTCUT_LABELS = {
    "B": "B — projection where the shape changes",
    "A": "A — zero-pad, no parameters (CIFAR)",
    "C": "C — projection on every block",
    "none": "none — plain network",
}
FORM_LABELS = {"c": "c — grouped conv", "a": "a — C paths, summed", "b": "b — C paths, concatenated"}

# Scalar spec fields and the widget keys that edit them (per-stage lists have keys per stage).
_SCALARS = (
    "name", "block", "cardinality", "base_width", "expansion", "form", "stem", "stem_width",
    "downsample_on", "shortcut", "num_classes",
)


def metric_toggle() -> str:
    """The sidebar's MACs/FLOPs switch (one key, kept for the session); returns 'macs' or 'flops'.

    Each page renders it itself rather than app.py, so a page also works when run alone (AppTest).
    """
    choice = st.sidebar.radio("Count multiply-adds as", ["MACs", "FLOPs"], key=METRIC, horizontal=True,
                              help=METRIC_HELP, persist_state="session")
    return "flops" if choice == "FLOPs" else "macs"


def spec_to_state(spec: ArchSpec, prefix: str = "build.") -> dict[str, Any]:
    """Widget values that show a spec."""
    state: dict[str, Any] = {f"{prefix}{f}": getattr(spec, f) for f in _SCALARS}
    state[f"{prefix}stages"] = len(spec.depths)
    for i, (d, w, s) in enumerate(zip(spec.depths, spec.widths, spec.strides)):
        state[f"{prefix}depth.{i}"], state[f"{prefix}width.{i}"], state[f"{prefix}stride.{i}"] = d, w, s
    c, h, w = spec.input_size
    state[f"{prefix}input_c"], state[f"{prefix}input_h"], state[f"{prefix}input_w"] = c, h, w
    return state


def state_to_dict(state: Any, prefix: str = "build.") -> dict[str, Any]:
    """The spec dict the widgets describe (validated later by ArchSpec.from_dict)."""
    n = int(state[f"{prefix}stages"])
    d: dict[str, Any] = {f: state[f"{prefix}{f}"] for f in _SCALARS}
    for key, field in (("depth", "depths"), ("width", "widths"), ("stride", "strides")):
        d[field] = [state[f"{prefix}{key}.{i}"] for i in range(n)]
    d["input_size"] = [state[f"{prefix}input_c"], state[f"{prefix}input_h"], state[f"{prefix}input_w"]]
    return d


def load_spec_into_state(spec: ArchSpec, prefix: str = "build.") -> None:
    for key, value in spec_to_state(spec, prefix).items():
        st.session_state[key] = value


def ensure_stage_keys(prefix: str = "build.") -> None:
    """New stages start as a copy of the last one, twice as wide (the usual pattern)."""
    n = int(st.session_state[f"{prefix}stages"])
    for i in range(1, n):
        for key, grow in (("depth", 1), ("width", 2), ("stride", 1)):
            if f"{prefix}{key}.{i}" not in st.session_state:
                prev = st.session_state.get(f"{prefix}{key}.{i - 1}", 1)
                st.session_state[f"{prefix}{key}.{i}"] = min(int(prev) * grow, 16384)
        st.session_state.setdefault(f"{prefix}stride.{i}", 2)


def spec_from_state(prefix: str = "build.") -> tuple[ArchSpec | None, str | None]:
    """The spec the widgets describe, or the validation message naming the field."""
    try:
        return ArchSpec.from_dict(state_to_dict(st.session_state, prefix)), None
    except SpecError as e:
        return None, str(e)
    except (KeyError, TypeError, ValueError) as e:  # a widget left empty
        return None, f"{e}: please fill in every field"


def matching_preset(spec: ArchSpec) -> str | None:
    """The preset this spec is, up to its name (so edited presets lose their reference panel)."""
    for name in list_presets():
        if dataclasses.replace(spec, name=name) == get_preset(name):
            return name
    return None


@st.cache_resource(max_entries=4, show_spinner="Building the model…")
def cached_model(spec_json: str):  # noqa: ANN201 - a torch module; never mutate what this returns
    return build_model(ArchSpec.from_json(spec_json)).eval()


@st.cache_data(max_entries=32, show_spinner="Tracing with fvcore…")
def cached_profile(spec_json: str, input_size: tuple[int, int, int]) -> dict[str, Any]:
    from explorer import profile

    return profile(ArchSpec.from_json(spec_json), input_size).to_dict()


def convention_caption() -> None:
    st.caption(f"**Conventions.** {METRIC_HELP} Activations: {CONVENTIONS['activations']}. Batch 1.")


def totals(analysis: Any, key: str) -> None:
    """The headline numbers, each with its unit and a one-line explanation."""
    m = "flops" if st.session_state.get(METRIC) == "FLOPs" else "macs"
    value = analysis.macs if m == "macs" else analysis.flops
    cols = st.columns(4)
    cols[0].metric(
        "Parameters", exact(analysis.params), help=f"{si(analysis.params)} trainable parameters: conv weights, "
        "BN scale and shift, fc weight and bias (BN running statistics are buffers, not parameters).",
    )
    cols[1].metric(
        "MACs" if m == "macs" else "FLOPs", si(value, "MACs" if m == "macs" else "FLOPs"),
        help=f"{exact(value)} {'MACs' if m == 'macs' else 'FLOPs'} per image. {METRIC_HELP}",
    )
    cols[2].metric(
        "Activations", exact(analysis.activations), help=f"{si(analysis.activations)} elements: "
        f"{CONVENTIONS['activations']}.",
    )
    cols[3].metric(
        "Other ops", si(analysis.other_ops, "ops"), help=f"{exact(analysis.other_ops)} operations that are not "
        f"multiply-adds: {CONVENTIONS['other_ops']}. Not part of MACs, shown so nothing is silently dropped.",
    )
