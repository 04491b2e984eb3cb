"""Build: compose an architecture and see its exact complexity, layer by layer."""

import dataclasses
from functools import partial

import pandas as pd
import streamlit as st

from explorer import Analysis, ArchSpec, SpecError, analyze, get_preset, list_presets, reference
from explorer.charts import latency_histogram, rollup_bars, sweep_chart
from explorer.diagram import network_dot
from explorer.export import export_python, onnx_available
from explorer.guard import ResourceError, check_memory
from explorer.spec import BLOCKS, DOWNSAMPLE_ON, FORMS, STEMS
from explorer.tables import layers_frame, rollup_frame
from explorer.units import exact
from views._shared import (
    BUILD_SPEC,
    DEFAULT_PRESET,
    FORM_LABELS,
    KEEP,
    NUMBER,
    SHORTCUT_LABELS,
    build_link_params,
    cached_model,
    cached_onnx,
    cached_profile,
    convention_caption,
    ensure_stage_keys,
    latency_settings,
    load_spec_into_state,
    matching_preset,
    metric,
    progress_reporter,
    share_link,
    spec_from_state,
    totals,
)

P = "build."


def _load_preset() -> None:
    load_spec_into_state(get_preset(st.session_state[P + "preset"]))


def _load_upload() -> None:
    """Read an uploaded JSON spec (Streamlit caps uploads at 1 MB; JSON only, never code or pickles)."""
    file = st.session_state.get(P + "upload")
    if file is None:
        return
    try:
        spec = ArchSpec.from_json(file.getvalue())
    except SpecError as e:
        st.session_state[P + "upload_error"] = f"{file.name}: {e}"
        return
    st.session_state.pop(P + "upload_error", None)
    load_spec_into_state(spec)
    preset = matching_preset(spec)
    if preset:
        st.session_state[P + "preset"] = preset


def _show_cross_check(spec: ArchSpec, analysis: Analysis) -> None:
    """fvcore's counts next to ours, once the user asked (it builds and traces the model)."""
    try:
        check_memory(analysis)
    except ResourceError as e:
        st.error(f"**Not built** — {e}", icon="⚠️")
        return
    p = cached_profile(spec.to_json(), analysis.input_size)
    if p["mac_rows_agree"]:
        st.success(f"All {p['mac_rows']} conv and linear layers agree exactly with fvcore.")
    else:
        st.error("Some conv/linear layers disagree with fvcore — please report this spec.")
    st.dataframe(pd.DataFrame(p["by_type"]), hide_index=True, column_config={"ours": NUMBER, "fvcore": NUMBER})
    st.markdown(
        f"fvcore's total, {exact(p['fvcore_total'])}, is our {exact(p['analytic_macs'])} MACs plus BN and "
        f"average pooling. It **ignores** {', '.join(p['ignored_ops'])} and reports as **unsupported** "
        f"(counted as 0): {', '.join(f'{k} ×{v}' for k, v in p['unsupported_ops'].items()) or 'nothing'}; "
        "we count those under other ops."
    )
    bad = [r for r in p["rows"] if not r["agrees"]]
    if bad:
        st.dataframe(pd.DataFrame(bad), hide_index=True)


def _on_stem_change() -> None:
    # Each stem has its natural width and input (64 at 224×224, 16 at 32×32); start from those.
    cifar = st.session_state[P + "stem"] == "cifar"
    st.session_state[P + "stem_width"] = 16 if cifar else 64
    st.session_state[P + "input_h"] = st.session_state[P + "input_w"] = 32 if cifar else 224


def _on_block_change() -> None:
    # Basic blocks take no cardinality (ResNeXt Fig. 4): reset the fields that would be invalid.
    basic = st.session_state[P + "block"] == "basic"
    st.session_state[P + "expansion"] = 1 if basic else 4
    if basic:
        st.session_state.update({P + "cardinality": 1, P + "base_width": 64, P + "form": "c"})


if P + "preset" not in st.session_state:
    st.session_state[P + "preset"] = DEFAULT_PRESET
    load_spec_into_state(get_preset(DEFAULT_PRESET))
ensure_stage_keys()
m = metric()

with st.sidebar:
    st.header("Architecture")
    st.selectbox("Preset", list_presets(), key=P + "preset", on_change=_load_preset, **KEEP,
                 help="Loads every field below from a preset; then edit freely.")
    st.text_input("Name", key=P + "name", max_chars=100, **KEEP)
    st.radio("Block", BLOCKS, key=P + "block", horizontal=True, on_change=_on_block_change, **KEEP,
             help="basic: two 3×3 convs; bottleneck: 1×1 reduce → 3×3 → 1×1 expand")
    st.number_input("Stages", 1, 8, step=1, key=P + "stages", **KEEP)
    for i in range(int(st.session_state[P + "stages"])):
        c1, c2, c3 = st.columns(3)
        c1.number_input(f"Depth {i + 1}", 1, 1000, step=1, key=f"{P}depth.{i}", **KEEP,
                        help=f"blocks in stage {i + 1} (layer{i + 1})")
        c2.number_input(f"Width {i + 1}", 1, 16384, step=1, key=f"{P}width.{i}", **KEEP,
                        help="planes; a bottleneck stage outputs width × expansion channels")
        c3.number_input(f"Stride {i + 1}", 1, 4, step=1, key=f"{P}stride.{i}", **KEEP,
                        help="stride of the stage's first block")
    bottleneck = st.session_state[P + "block"] == "bottleneck"
    c1, c2, c3 = st.columns(3)
    c1.number_input("Cardinality C", 1, 4096, step=1, key=P + "cardinality", disabled=not bottleneck, **KEEP,
                    help="groups of the 3×3 conv (ResNeXt)")
    c2.number_input("Width d", 1, 4096, step=1, key=P + "base_width", disabled=not bottleneck, **KEEP,
                    help="bottleneck width per group at 64 planes (torchvision's width_per_group): "
                    "3×3 channels = int(width × d / 64) × C")
    c3.number_input("Expansion", 1, 64, step=1, key=P + "expansion", disabled=not bottleneck, **KEEP,
                    help="output channels / planes (4 in ResNet-50)")
    st.radio("Form (ResNeXt Fig. 3)", FORMS, key=P + "form", format_func=FORM_LABELS.get, horizontal=True,
             disabled=not bottleneck, **KEEP, help="three forms of the same function; the same params and MACs")
    st.radio("Stride on", DOWNSAMPLE_ON, key=P + "downsample_on", horizontal=True, **KEEP,
             help="bottleneck only: '3x3' is torchvision's 'V1.5' and the ResNeXt paper; "
             "'1x1' is the ResNet paper. Same parameters, different MACs.")
    st.selectbox("Shortcut", list(SHORTCUT_LABELS), key=P + "shortcut", format_func=SHORTCUT_LABELS.get, **KEEP)
    c1, c2 = st.columns(2)
    c1.radio("Stem", STEMS, key=P + "stem", on_change=_on_stem_change, **KEEP,
             help="imagenet: 7×7/2 conv + 3×3/2 max pool; cifar: 3×3/1 conv, no pool")
    c2.number_input("Stem width", 1, 16384, step=1, key=P + "stem_width", **KEEP)
    c1, c2, c3 = st.columns(3)
    c1.number_input("Input C", 1, 64, step=1, key=P + "input_c", **KEEP)
    c2.number_input("Input H", 1, 4096, step=1, key=P + "input_h", **KEEP)
    c3.number_input("Input W", 1, 4096, step=1, key=P + "input_w", **KEEP)
    st.number_input("Classes", 1, 100000, step=1, key=P + "num_classes", **KEEP)

upload_error = st.session_state.get(P + "upload_error")
if upload_error:
    st.error(f"**Could not load the uploaded spec** — {upload_error}. Your architecture is unchanged.",
             icon="⚠️")
spec, error = spec_from_state()
if error:
    st.title("Build")
    st.error(f"**Invalid architecture** — {error}", icon="⚠️")
    st.stop()
st.session_state[BUILD_SPEC] = spec.to_json()
analysis = analyze(spec)
preset = matching_preset(spec)

title, share = st.columns([5, 1], vertical_alignment="bottom")
title.title(f"Build — {spec.name}")
with share:
    share_link(build_link_params(spec), key="build.share")
st.caption(
    f"{'Preset ' + preset if preset else 'Custom architecture'} · {len(spec.depths)} stages · "
    f"{sum(spec.depths)} {spec.block} blocks · input {'×'.join(map(str, spec.input_size))} · "
    f"output {exact(analysis.output_shape[0])} classes"
)
totals(analysis, key="build")
convention_caption()


def _stages(spec: ArchSpec, analysis: Analysis, m: str, preset: str | None) -> None:
    """Per-stage and per-block totals."""
    st.dataframe(rollup_frame(analysis.stages, m), hide_index=True, key="build.stages_table",
                 column_config={"params": NUMBER, m: NUMBER, "activations": NUMBER, "other_ops": NUMBER})
    with st.expander(f"Per block ({len(analysis.blocks)} rows)"):
        st.dataframe(rollup_frame(analysis.blocks, m), hide_index=True,
                     column_config={"params": NUMBER, m: NUMBER, "activations": NUMBER, "other_ops": NUMBER})


def _layers(spec: ArchSpec, analysis: Analysis, m: str, preset: str | None) -> None:
    """Every layer, grouped per stage, with a CSV download."""
    layers = layers_frame(analysis, m)
    st.download_button("Download all layers (CSV)", layers.to_csv(index=False), f"{spec.name}_layers.csv",
                       "text/csv", key="build.layers_csv")
    st.caption("Grouped per stage; click a column header to sort. Names are the module paths in "
               "`model.named_modules()`; the residual add is computed by the block itself, so it bears "
               "the block's name.")
    config = {c: NUMBER for c in ("params", m, "activations", "other_ops")}
    for stage in analysis.stages:
        rows = layers[layers["stage"] == stage.name].drop(columns=["stage"])
        with st.expander(f"{stage.name} — {rows['block'].nunique()} block(s), {exact(stage.params)} params, "
                         f"{exact(getattr(stage, m))} {m.upper() if m == 'macs' else 'FLOPs'}",
                         expanded=stage.name == "stem"):
            st.dataframe(rows, hide_index=True, column_config=config)


def _charts(spec: ArchSpec, analysis: Analysis, m: str, preset: str | None) -> None:
    """Params and MACs per stage and per block."""
    c1, c2 = st.columns(2)
    c1.plotly_chart(rollup_bars(analysis, "params", "stages"), key="build.chart_params")
    c2.plotly_chart(rollup_bars(analysis, m, "stages"), key="build.chart_macs")
    st.plotly_chart(rollup_bars(analysis, m, "blocks"), key="build.chart_blocks")


def _diagram(spec: ArchSpec, analysis: Analysis, m: str, preset: str | None) -> None:
    """The architecture as a graph."""
    st.caption("Stem, each stage's first block, and its repeated blocks collapsed into “× n”; tensor shapes "
               "(channels×height×width) on the edges; the shortcut dashed in red.")
    st.graphviz_chart(network_dot(spec, analysis))


def _sources(spec: ArchSpec, analysis: Analysis, m: str, preset: str | None) -> None:
    """What the papers and torchvision report, beside our numbers."""
    if preset:
        rows = reference.source_rows(preset, analysis.params, analysis.macs)
        st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
            "params reported": NUMBER, "params ours": NUMBER, "MACs reported": NUMBER, "MACs ours": NUMBER})
        for note in reference.CONVENTION_NOTES:
            st.markdown(f"- {note}")
    else:
        st.info("A custom architecture: no published figures to compare with. Pick a preset to see what the "
                "papers and torchvision report.")
    if spec.block == "bottleneck":
        other = dataclasses.replace(spec, downsample_on="1x1" if spec.downsample_on == "3x3" else "3x3")
        other_macs = analyze(other).macs
        st.markdown(
            f"**Stride placement.** With the stride on the **{spec.downsample_on}** this network has "
            f"{exact(analysis.macs)} MACs; on the **{other.downsample_on}** it would have {exact(other_macs)} "
            f"MACs, with the same {exact(analysis.params)} parameters. {reference.STRIDE_NOTE}"
        )


def _cross_check_section(spec: ArchSpec, analysis: Analysis, m: str, preset: str | None) -> None:
    """fvcore's counts beside ours, on request."""
    st.markdown(
        "Builds the network and traces it with **fvcore**'s `FlopCountAnalysis` (eval mode, one image), then "
        "joins its per-module counts with ours on the module name. fvcore counts one multiply-add as one "
        "'flop', so its conv and linear counts must equal our MACs exactly."
    )
    if st.button("Run the cross-check", key="build.check"):
        st.session_state["build.checked"] = spec.to_json()
    if st.session_state.get("build.checked") == spec.to_json():
        _show_cross_check(spec, analysis)


def _spec_section(spec: ArchSpec, analysis: Analysis, m: str, preset: str | None) -> None:
    """The spec as JSON; downloads and upload."""
    st.markdown("**The spec** — JSON is the file format: save it, share it, load it again.")
    c1, c2, c3 = st.columns(3)
    c1.download_button("Download spec (JSON)", spec.to_json(), f"{spec.name}.json", "application/json",
                       key="build.spec_download", icon=":material/data_object:")
    c2.download_button("Download PyTorch code (.py)", export_python(spec), f"{spec.name}.py", "text/x-python",
                       key="build.code_download", icon=":material/code:",
                       help="A standalone file that rebuilds this network with only torch: readable classes "
                       "and build(); same state_dict keys as torchvision where torchvision has the model.")
    if onnx_available():
        c3.download_button("Download ONNX", partial(cached_onnx, spec.to_json()), f"{spec.name}.onnx",
                           "application/octet-stream", key="build.onnx_download", icon=":material/share:",
                           help="the network with random weights, opset 18")
    else:
        c3.caption("ONNX export needs the optional `onnx` and `onnxscript` packages "
                   "(`pip install onnx onnxscript`); JSON and PyTorch code work without them.")
    st.file_uploader("Load a spec (JSON, at most 1 MB)", type=["json"], key=P + "upload", on_change=_load_upload,
                     help="Validated field by field; a bad file leaves your architecture unchanged.")
    st.code(spec.to_json(), language="json")


def _latency(spec: ArchSpec, analysis: Analysis, m: str, preset: str | None) -> None:
    """Measured latency and a throughput sweep, on request; FLOPs are not speed."""
    from explorer.latency import LatencyError, measure_latency, roofline, throughput_sweep

    st.markdown("Measured, not estimated: warm-up first, then timed runs (each synchronized on a GPU) until "
                "both a minimum count and a minimum time are reached; the median and the spread are reported. "
                "Any click elsewhere stops a measurement.")
    settings = latency_settings(P + "lat.")
    key = (spec.to_json(), tuple(sorted(settings.items())))
    c1, c2 = st.columns(2)
    if c1.button("Measure latency", key=P + "measure", type="primary", icon=":material/timer:"):
        try:
            check_memory(analysis, batch_size=settings["batch_size"], dtype=settings["dtype"],
                         device=settings["device"])
            model = cached_model(spec.to_json(), settings["device"])
            result = measure_latency(model, input_size=spec.input_size, progress=progress_reporter("Measuring"),
                                     **settings)
            st.session_state[P + "lat.result"] = (key, result, roofline(result, analysis.macs))
        except (LatencyError, ResourceError) as e:
            st.error(f"**Not measured** — {e}", icon="⚠️")
    stored = st.session_state.get(P + "lat.result")
    if stored and stored[0] == key:
        _, r, roof = stored
        cols = st.columns(5)
        cols[0].metric("Median", f"{r.median_ms:,.2f} ms", help="per forward pass of the whole batch")
        cols[1].metric("p10 – p90", f"{r.p10_ms:,.2f} – {r.p90_ms:,.2f} ms", help=f"IQR {r.iqr_ms:,.2f} ms, "
                       f"mean {r.mean_ms:,.2f} ± {r.std_ms:,.2f} ms over {r.runs} runs")
        cols[2].metric("Throughput", f"{r.throughput:,.1f} img/s", help="batch size / median")
        cols[3].metric("Achieved", f"{roof['achieved_macs_per_s'] / 1e9:,.1f} GMAC/s",
                       help="MACs per image × batch / median: multiply-accumulates per second")
        cols[4].metric("Of the device's peak", f"{roof['percent_of_peak']:.0f}%",
                       help=f"peak {roof['peak_macs_per_s'] / 1e9:,.1f} GMAC/s, from a large matmul on the same "
                       "device and dtype (a roofline view: convolutions rarely reach it)")
        st.caption(f"{r.device_name} · {r.device} · {r.dtype} · batch {r.batch_size} · {r.threads} thread(s) · "
                   f"channels_last {'on' if r.channels_last else 'off'} · {r.runs} runs after {r.warmup_runs} "
                   f"warm-up · stopped by {r.stopped_by.replace('_', ' ')}")
        st.plotly_chart(latency_histogram(r), key=P + "lat.hist")

    st.subheader("Throughput vs batch size")
    budget = st.slider("Time budget (s)", 5, 120, 30, key=P + "lat.budget", persist_state="session")
    if c2.button("Run the batch-size sweep", key=P + "sweep", icon=":material/stacked_line_chart:"):
        settings_sweep = {k: v for k, v in settings.items() if k != "batch_size"}
        try:
            check_memory(analysis, batch_size=1, dtype=settings["dtype"], device=settings["device"])
            sweep = throughput_sweep(spec, time_budget_s=budget, progress=progress_reporter("Sweeping"),
                                     **settings_sweep)
            st.session_state[P + "lat.sweep"] = (spec.to_json(), sweep)
        except (LatencyError, ResourceError) as e:
            st.error(f"**Not measured** — {e}", icon="⚠️")
    stored = st.session_state.get(P + "lat.sweep")
    if stored and stored[0] == spec.to_json() and stored[1].results:
        st.plotly_chart(sweep_chart(stored[1]), key=P + "lat.sweep_chart")
        st.info(stored[1].message, icon=":material/info:")


SECTIONS = {
    "Stages": _stages,
    "Layers": _layers,
    "Charts": _charts,
    "Diagram": _diagram,
    "Papers & torchvision": _sources,
    "Cross-check (fvcore)": _cross_check_section,
    "Latency": _latency,
    "Spec & export": _spec_section,
}
st.session_state.setdefault(P + "view", "Stages")
view = st.segmented_control("Show", list(SECTIONS), key=P + "view", required=True, **KEEP,
                            help="One view at a time keeps every edit instant.")
SECTIONS[view or "Stages"](spec, analysis, m, preset)
