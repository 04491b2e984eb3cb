"""What the pages share: the spec ↔ widget mapping, cached library calls, and small renderers.

Pages stay thin: widgets → ArchSpec → cached library call → render. Nothing here does arithmetic on
the network; it only moves values between widgets and the library.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from explorer import CONVENTIONS, ArchSpec, SpecError, build_model, get_preset, list_presets
from explorer.links import params_to_spec, spec_to_params
from explorer.units import exact, si

DEFAULT_PRESET = "resnet50"
BUILD_SPEC = "build.spec_json"  # the Build page's last valid spec, read by the Compare page
METRIC = "metric"  # "MACs" or "FLOPs", chosen once in the sidebar for every page
COMPARE = "compare.configs"
BUILD_TOKEN = "build"  # how a link names "the Build page's architecture" among compared configurations
MAX_COMPARED = 6
KEEP = {"persist_state": "session"}  # widget values survive a visit to another page
NUMBER = st.column_config.NumberColumn(format="localized")  # exact counts with thousands separators

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


def metric_toggle() -> None:
    """The sidebar's MACs/FLOPs switch, rendered once by app.py for every page."""
    st.sidebar.radio("Count multiply-adds as", ["MACs", "FLOPs"], key=METRIC, horizontal=True,
                     help=METRIC_HELP, persist_state="session")


def metric() -> str:
    """'macs' or 'flops', as chosen in the sidebar."""
    return "flops" if st.session_state.get(METRIC) == "FLOPs" else "macs"


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
def cached_model(spec_json: str, device: str = "cpu"):  # noqa: ANN201 - a torch module
    """The built model, shared by every session (bounded: 4 models). Never mutate what this returns:
    ``measure_latency`` only times it in place when device and dtype already match, and copies otherwise."""
    return build_model(ArchSpec.from_json(spec_json), device).eval()


@st.cache_data(max_entries=4, show_spinner="Exporting to ONNX…")
def cached_onnx(spec_json: str) -> bytes:
    import tempfile
    from pathlib import Path

    from explorer.export import export_onnx

    with tempfile.TemporaryDirectory() as d:
        return export_onnx(ArchSpec.from_json(spec_json), Path(d) / "model.onnx").read_bytes()


@st.cache_data(max_entries=32, show_spinner="Tracing with fvcore…")
def cached_profile(spec_json: str, input_size: tuple[int, int, int]) -> dict[str, Any]:
    from explorer import profile

    return profile(ArchSpec.from_json(spec_json), input_size).to_dict()


def convention_caption() -> None:
    st.caption(f"**Conventions.** {METRIC_HELP} Activations: {CONVENTIONS['activations']}.")


def totals(analysis: Any, key: str) -> None:
    """The headline numbers, each with its unit and a one-line explanation."""
    m = metric()
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


# --- shareable links --------------------------------------------------------------------------
def _first(value: Any) -> str:
    return str(value[-1] if isinstance(value, list) and value else value)


def apply_link_once() -> None:
    """On a session's first run, load the state a shared link describes; bad parts fall back, with a message."""
    if st.session_state.get("links.loaded"):
        return
    st.session_state["links.loaded"] = True
    st.session_state.setdefault(BUILD_SPEC, get_preset(DEFAULT_PRESET).to_json())  # what Build shows first
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    problems = []
    try:
        spec = params_to_spec(params)
    except SpecError as e:
        spec = None
        problems.append(f"the architecture in it is invalid ({e}); showing {DEFAULT_PRESET} instead")
    if spec is not None:
        preset = _first(params.get("preset", DEFAULT_PRESET))
        st.session_state["build.preset"] = preset if preset in list_presets() else DEFAULT_PRESET
        load_spec_into_state(spec)
        st.session_state[BUILD_SPEC] = spec.to_json()
    if "metric" in params:
        value = _first(params["metric"])
        if value in ("MACs", "FLOPs"):
            st.session_state[METRIC] = value
        else:
            problems.append(f"metric: must be MACs or FLOPs, got {value[:20]!r}")
    if "compare" in params:
        tokens = [t for t in _first(params["compare"]).split(",") if t][:MAX_COMPARED]
        valid = [t for t in tokens if t in list_presets() or t == BUILD_TOKEN]
        if len(valid) != len(tokens):
            bad = next(t for t in tokens if t not in valid)
            problems.append(f"compare: unknown configuration {bad[:40]!r} was left out")
        if len(valid) >= 2:
            st.session_state[COMPARE] = [BUILD_OPTION if t == BUILD_TOKEN else t for t in valid]
    for key in ("h", "w"):
        if key in params:
            value = _first(params[key])
            if value.isdigit() and 1 <= int(value) <= 4096:
                st.session_state[f"compare.{key}"] = int(value)
                st.session_state["compare.same_input"] = True
            else:
                problems.append(f"{key}: must be a whole number from 1 to 4096, got {value[:20]!r}")
    if problems:
        st.session_state["links.error"] = "This link could not be used in full: " + "; ".join(problems) + "."


BUILD_OPTION = "★ Build page architecture"


def show_link_problems() -> None:
    message = st.session_state.pop("links.error", None)
    if message:
        st.warning(message, icon=":material/link_off:")


def build_link_params(spec: ArchSpec) -> dict[str, str]:
    params = spec_to_params(spec, st.session_state.get("build.preset"))
    if metric() == "flops":
        params["metric"] = "FLOPs"
    return params


def share_link(params: dict[str, str], key: str) -> None:
    """Put the view into the address bar and offer the address to copy."""
    st.query_params.from_dict(params)
    base = (st.context.url or "").split("?")[0]
    with st.popover("Share link", icon=":material/link:"):
        st.code(f"{base}?{urlencode(params)}", language=None, wrap_lines=True)
        st.caption("Copy this address (button at the right of the box): it reproduces this view. "
                   "The address bar holds it too.")


# --- devices and measurements -----------------------------------------------------------------
@st.cache_resource
def device_choices() -> dict[str, str]:
    """Device id → label, e.g. {'cpu': 'cpu — AMD EPYC … (2 cores)'}; probed once per server."""
    from explorer.devices import available_devices

    return {d.name: d.label for d in available_devices()}


def device_select(key: str) -> str:
    choices = device_choices()
    return st.selectbox("Device", list(choices), key=key, format_func=choices.get, persist_state="session",
                        help="Where latency is measured. GPUs appear when the server has them.")


@st.cache_data(max_entries=16, show_spinner="Building the three forms and comparing their outputs…")
def cached_equivalence(cardinality: int, d: int, channels: int, size: int, train: bool) -> dict[str, Any]:
    from explorer.forms import equivalence

    return equivalence(cardinality, d, channels, size, train=train).to_dict()


@st.cache_data(max_entries=4, show_spinner="Building resnext50_32x4d in forms a, b, c and comparing outputs…")
def cached_network_equivalence(size: int) -> dict[str, Any]:
    from explorer.forms import network_equivalence

    return network_equivalence("resnext50_32x4d", (3, size, size)).to_dict()


def latency_settings(prefix: str) -> dict[str, Any]:
    """Device, batch size, dtype, channels_last and threads: the knobs of a latency measurement."""
    import torch

    from explorer.devices import available_devices

    info = {d.name: d for d in available_devices()}
    c1, c2, c3, c4, c5 = st.columns([3, 1, 1, 1, 1], vertical_alignment="bottom")
    with c1:
        device = device_select(prefix + "device")
    batch = c2.number_input("Batch size", 1, 4096, step=1, key=prefix + "batch", persist_state="session")
    dtypes = list(info[device].dtypes)
    if st.session_state.get(prefix + "dtype") not in dtypes:
        st.session_state[prefix + "dtype"] = dtypes[0]
    dtype = c3.selectbox("dtype", dtypes, key=prefix + "dtype", persist_state="session",
                         help="only the dtypes this device runs natively are offered")
    cores = info["cpu"].cores or 1
    st.session_state.setdefault(prefix + "threads", torch.get_num_threads())
    threads = c4.number_input("CPU threads", 1, max(cores, 1), step=1, key=prefix + "threads",
                              persist_state="session", disabled=device != "cpu",
                              help="intra-op threads for a CPU measurement. On a busy shared CPU, 1 thread gives "
                              "steadier numbers: several threads wait on each other when another process runs.")
    channels_last = c5.toggle("channels_last", key=prefix + "channels_last", persist_state="session",
                              help="NHWC memory format, often faster on GPUs and with bfloat16")
    return {"device": device, "batch_size": int(batch), "dtype": dtype, "channels_last": channels_last,
            "threads": int(threads) if device == "cpu" else None}


def progress_reporter(label: str):  # noqa: ANN201 - a callable for explorer.latency's progress hook
    bar = st.progress(0.0, text=label)
    return lambda fraction, text: bar.progress(min(max(fraction, 0.0), 1.0), text=f"{label} — {text}")
