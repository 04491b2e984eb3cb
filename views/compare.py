"""Compare: two or more configurations side by side, totals, stages and layers."""

import pandas as pd
import streamlit as st

from explorer import ArchSpec, SpecError, analyze, get_preset, list_presets
from explorer.charts import compare_bars, macs_vs_latency
from explorer.guard import ResourceError, check_memory
from explorer.links import spec_to_params
from explorer.tables import compare_frame, layer_diff_frame, ratio_sentence, speed_sentence, stage_compare_frame
from explorer.units import exact, si
from views._shared import (
    BUILD_OPTION,
    BUILD_SPEC,
    BUILD_TOKEN,
    COMPARE,
    KEEP,
    MAX_COMPARED,
    NUMBER,
    convention_caption,
    latency_settings,
    metric,
    progress_reporter,
    share_link,
)

P = "compare."

st.title("Compare")
m = metric()
st.caption("Each configuration is a preset or the architecture currently on the Build page. "
           "Deltas and ratios are against the first one.")
st.session_state.setdefault(COMPARE, ["resnet50", "resnext50_32x4d"])
st.multiselect("Configurations", [*list_presets(), BUILD_OPTION], key=COMPARE, max_selections=MAX_COMPARED, **KEEP)
c1, c2, c3 = st.columns([2, 1, 1])
c1.toggle("Same input size for all", key=P + "same_input", **KEEP,
          help="Off: each network at its natural input (224×224 ImageNet, 32×32 CIFAR).")
same = st.session_state.get(P + "same_input", False)
st.session_state.setdefault(P + "h", 224)
st.session_state.setdefault(P + "w", 224)
c2.number_input("H", 1, 4096, step=1, key=P + "h", disabled=not same, **KEEP)
c3.number_input("W", 1, 4096, step=1, key=P + "w", disabled=not same, **KEEP)

names = st.session_state[COMPARE]
if len(names) < 2:
    st.info("Choose at least two configurations.")
    st.stop()

analyses = []
for name in names:
    try:
        if name == BUILD_OPTION:
            if BUILD_SPEC not in st.session_state:
                raise SpecError("Build page: no valid architecture there yet — open the Build page first")
            spec = ArchSpec.from_json(st.session_state[BUILD_SPEC])
        else:
            spec = get_preset(name)
        size = (spec.input_size[0], st.session_state[P + "h"], st.session_state[P + "w"]) if same else None
        analyses.append(analyze(spec, size))
    except SpecError as e:
        st.error(f"**{name}** — {e}", icon="⚠️")
if len(analyses) < 2:
    st.stop()

unit = "MACs" if m == "macs" else "FLOPs"
link = {"compare": ",".join(BUILD_TOKEN if n == BUILD_OPTION else n for n in names)}
if BUILD_OPTION in names and BUILD_SPEC in st.session_state:
    link.update(spec_to_params(ArchSpec.from_json(st.session_state[BUILD_SPEC]), st.session_state.get("build.preset")))
if same:
    link.update(h=str(st.session_state[P + "h"]), w=str(st.session_state[P + "w"]))
if m == "flops":
    link["metric"] = "FLOPs"
share_link(link, key=P + "share")
cols = st.columns(len(analyses))
base = analyses[0]
for col, a in zip(cols, analyses):
    with col:
        st.subheader(a.name)
        delta = None if a is base else f"{a.params - base.params:+,} ({a.params / base.params - 1:+.1%})"
        st.metric("Parameters", exact(a.params), delta, delta_color="off",
                  help="exact count; delta against the first configuration")
        value = a.macs if m == "macs" else a.flops
        base_value = base.macs if m == "macs" else base.flops
        st.metric(unit, si(value, unit), None if a is base else f"{value / base_value:.3g}× the first",
                  delta_color="off", help=f"{exact(value)} {unit}")
for a in analyses[1:]:
    st.markdown(f"- {ratio_sentence(base, a)}")
convention_caption()

st.subheader("Totals")
table = compare_frame(analyses, m)
st.dataframe(table, hide_index=True, key=P + "totals",
             column_config={c: NUMBER for c in ("params", "Δ params", m, f"Δ {m}", "activations")})
st.download_button("Download totals (CSV)", table.to_csv(index=False), "compare_totals.csv", "text/csv",
                   key=P + "totals_csv")

st.subheader("Per stage")
c1, c2 = st.columns(2)
c1.plotly_chart(compare_bars(analyses, "params"), key=P + "chart_params")
c2.plotly_chart(compare_bars(analyses, m), key=P + "chart_macs")
stages = stage_compare_frame(analyses, m)
with st.expander("Per-stage table"):
    st.dataframe(stages, hide_index=True, column_config={"params": NUMBER, m: NUMBER, "activations": NUMBER})
    st.download_button("Download per-stage table (CSV)", stages.to_csv(index=False), "compare_stages.csv",
                       "text/csv", key=P + "stages_csv")

st.subheader("Latency — measured, interleaved")
st.markdown("All configurations on the same device in rounds (A B A B …), so drift affects them alike. "
            "MACs count work; latency also depends on how well the hardware runs that work.")
settings = latency_settings(P + "lat.")
key = (tuple(a.spec.to_json() for a in analyses), tuple(a.input_size for a in analyses), tuple(sorted(settings.items())))
if st.button("Measure latency of all", key=P + "measure", type="primary", icon=":material/timer:"):
    from explorer.latency import LatencyError, measure_interleaved

    try:
        for a in analyses:
            check_memory(a, batch_size=settings["batch_size"], dtype=settings["dtype"], device=settings["device"])
        results = measure_interleaved([a.spec for a in analyses], input_size=analyses[0].input_size if same else None,
                                      max_seconds=60, progress=progress_reporter("Measuring"), **settings)
        st.session_state[P + "lat.result"] = (key, results)
    except (LatencyError, ResourceError) as e:
        st.error(f"**Not measured** — {e}", icon="⚠️")
stored = st.session_state.get(P + "lat.result")
if stored and stored[0] == key:
    results = stored[1]
    r0 = results[0]
    where = (f"on this {'CPU' if r0.device == 'cpu' else 'GPU'} ({r0.device_name}, {r0.dtype}, batch {r0.batch_size}"
             + (f", {r0.threads} thread(s))" if r0.device == "cpu" else ")"))
    for a, r in zip(analyses[1:], results[1:]):
        st.markdown(f"**{speed_sentence(base, a, r0.median_ms, r.median_ms, where)}**")
    st.plotly_chart(macs_vs_latency(analyses, results, m), key=P + "lat.chart")
    st.dataframe(pd.DataFrame([{"configuration": f"{i + 1}. {r.name}", "median ms": round(r.median_ms, 3),
                                "p10 ms": round(r.p10_ms, 3), "p90 ms": round(r.p90_ms, 3), "runs": r.runs,
                                "images/s": round(r.throughput, 1)} for i, r in enumerate(results)]),
                 hide_index=True)

st.subheader("Per layer")
labels = [f"{i + 1}. {a.name}" for i, a in enumerate(analyses)]
other = st.selectbox("Compare the first configuration with", labels[1:], key=P + "diff_with")
b = analyses[labels.index(other)]
diff = layer_diff_frame(base, b, m)
st.caption(f"A = {base.name}, B = {b.name}; joined on module name. Layers only one side has show as empty.")
st.dataframe(diff, hide_index=True, key=P + "diff",
             column_config={c: NUMBER for c in diff.columns if c.startswith(("params", "Δ", m))})
st.download_button("Download per-layer diff (CSV)", diff.to_csv(index=False), "compare_layers.csv", "text/csv",
                   key=P + "diff_csv")
