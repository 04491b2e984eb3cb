"""Compare: two to six configurations side by side — totals, why they differ, stages, kinds, layers, speed."""

import pandas as pd
import streamlit as st

from explorer import SpecError, get_preset, list_presets
from explorer.vocab import METRICS, exact, si
from ui import cache, links, state, work
from ui.pages import BUILD_TOKEN, COMPARE, CONFIGS, DEFAULT_PAIR, MAX_COMPARED
from ui.widgets import convention, count, header, measure_settings, number, unit
from views.sections.counts import number_columns

COMPARE.init()
st.session_state.setdefault(CONFIGS, list(DEFAULT_PAIR))
header("Compare", "compare", "Each configuration is a preset or the architecture on the Build page; differences and "
       "ratios are against the first.")
links.show_problems()


def _label(token: str) -> str:
    return f"★ Build page: {state.valid_spec().name}" if token == BUILD_TOKEN else token


st.multiselect("Configurations", [*list_presets(), BUILD_TOKEN], key=CONFIGS, format_func=_label,
               max_selections=MAX_COMPARED, persist_state="session",
               help="Presets, or ★ the Build page's architecture as it is now (its last valid version).")
c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
c1.toggle(COMPARE.fields["same_input"].label, key=COMPARE.key("same_input"), help=COMPARE.fields["same_input"].help,
          persist_state="session")
same = bool(COMPARE.get("same_input"))
with c2:
    number(COMPARE, "h", disabled=not same)
with c3:
    number(COMPARE, "w", disabled=not same)
problem = COMPARE.check()
if problem is not None and problem.field in ("h", "w"):
    st.error(f"**{COMPARE.fields[problem.field].label}** — {problem.reason}", icon=":material/error:")
    st.stop()

tokens = st.session_state[CONFIGS]
if len(tokens) < 2:
    st.info(f"Choose at least two configurations to compare ({len(tokens)} chosen).", icon=":material/info:")
    st.stop()
specs, sizes = [], []
for token in tokens:
    spec = state.valid_spec() if token == BUILD_TOKEN else get_preset(token)
    size = (spec.input_size[0], COMPARE.get("h"), COMPARE.get("w")) if same else spec.input_size
    specs.append(spec)
    sizes.append(size)
try:
    c = cache.comparison(tuple(specs), tuple(sizes))
except SpecError as e:
    st.error(f"**Input size** — {e.reason}", icon=":material/error:")
    st.stop()

m = state.metric()
base = c.base
for col, token, a in zip(st.columns(len(c.analyses)), tokens, c.analyses):
    with col.container(border=True):
        st.markdown(f"**{_label(token) if token == BUILD_TOKEN else a.name}**")
        for key, value in (("params", a.params), (m, count(a.macs)), ("activations", a.activations)):
            ratio = c.ratio(a, "macs" if key == m else key)
            relative = "" if a is base or ratio is None else f" · **{ratio:.3g}×**"
            st.markdown(f"{METRICS[key].name}: {si(value, METRICS[key].unit if key == m else '')}{relative}  \n"
                        f"<small>{exact(value)}</small>", unsafe_allow_html=True, help=METRICS[key].meaning)

st.subheader("Why they differ")
for a in c.analyses[1:]:
    st.markdown(f"**{c.headline(a)}** " + " ".join(c.why(a)))
convention()

st.subheader("Totals")
totals = cache.compare_table("totals", c, m)
st.dataframe(totals, hide_index=True, column_config=number_columns(totals), key="compare.totals")
st.download_button("Download totals (CSV)", totals.to_csv(index=False), "compare_totals.csv", "text/csv",
                   key="compare.totals_csv", icon=":material/download:")

st.subheader("Per stage and per kind of layer")
c1, c2 = st.columns(2)
c1.plotly_chart(cache.compare_figure(c, "params"), key="compare.chart_params")
c2.plotly_chart(cache.compare_figure(c, m), key="compare.chart_macs")
kinds = cache.compare_table("kinds", c, m)
st.dataframe(kinds, hide_index=True, column_config=number_columns(kinds), key="compare.kinds")
with st.expander("Per-stage table"):
    stages = cache.compare_table("stages", c, m)
    st.dataframe(stages, hide_index=True, column_config=number_columns(stages))
    st.download_button("Download per-stage table (CSV)", stages.to_csv(index=False), "compare_stages.csv",
                       "text/csv", key="compare.stages_csv", icon=":material/download:")

st.subheader("Latency — measured, interleaved")
st.markdown("All configurations on one device in rounds (A B A B …), so drift affects them alike. Each one's time "
            "relative to the first is the median of the per-round ratios with its 95% confidence interval; the "
            "measurement goes on until every interval is within ±3% or the time limit (60 s) is reached.")
settings = measure_settings(COMPARE)
if settings is not None:
    from explorer.latency import DEFAULT_PRECISION, measure_interleaved, paired_ratios

    key = (tuple(specs), tuple(sizes), settings)
    if st.button("Measure latency of all", key="compare.measure", type="primary", icon=":material/timer:"):
        names = [a.name for a in c.analyses]
        work.run("Measuring", lambda progress, stop: measure_interleaved(
            specs, settings.edit(max_seconds=60, min_runs=6), input_size=sizes[0] if same else None,
            precision=DEFAULT_PRECISION, names=names, progress=progress, should_stop=stop), "compare.latency", key)
    outcome = work.shown("compare.latency", key)
    if outcome is not None:
        outcome.show_note()
        results = outcome.result
        if results:
            from explorer.charts import ratio_chart

            ratios = paired_ratios(results)
            where = settings.where()
            for a, r in zip(c.analyses[1:], ratios):
                work_ratio = c.ratio(a, "macs")
                verdict = f"takes {r.phrase()}" if r.measurable else f"shows {r.phrase()}"
                st.markdown(f"**{a.name} has {work_ratio:.3g}× the {unit()} of {base.name} and {verdict} on {where}.**")
            st.plotly_chart(ratio_chart(c, ratios, m), key="compare.ratio_chart")
            st.dataframe(pd.DataFrame([{
                "Configuration": r.name, "Median ms": round(r.median_ms, 3), "p10 ms": round(r.p10_ms, 3),
                "p90 ms": round(r.p90_ms, 3), "Runs": r.runs, "Images/s": round(r.throughput, 1),
                "× the first (95% CI)": "1 (baseline)" if i == 0 else
                f"{ratios[i - 1].median:.3g} ({ratios[i - 1].low:.3g}–{ratios[i - 1].high:.3g})",
            } for i, r in enumerate(results)]), hide_index=True)

st.subheader("Per layer")
labels = [f"{i + 1}. {a.name}" for i, a in enumerate(c.analyses)]
other = st.selectbox("Compare the first configuration with", labels[1:], key="compare.diff_with")
b = c.analyses[labels.index(other)]
from explorer.tables import layer_diff_frame  # noqa: E402 - pandas work only for this section

diff = layer_diff_frame(base, b, m)
st.caption(f"A = {base.name}, B = {b.name}; joined on module name; a layer only one side has shows “—” on the other.")
st.dataframe(diff, hide_index=True, key="compare.diff", column_config=number_columns(diff))
st.download_button("Download per-layer differences (CSV)", diff.to_csv(index=False), "compare_layers.csv", "text/csv",
                   key="compare.diff_csv", icon=":material/download:")
