"""The Compare page's views: exact counts, measured latency, time per layer, training cost, other tools' numbers.

Each view takes the comparison, the specs and the input size every configuration runs at (None: each its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from explorer import ArchSpec, ExplorerError
from explorer.costs.comparison import Comparison
from explorer.present.tables import kind_times_frame, latency_frame, to_csv
from explorer.core.vocab import md_text
from ui import cache, work
from ui.pages import COMPARE, COMPARE_TRAIN
from ui.state import metric
from ui.widgets import NUMBER, error_text, field_message, measure_settings, unit

from .counts import number_columns


def counts(c: Comparison, specs: Sequence[ArchSpec], size: Any) -> None:
    """Why they differ, totals, per stage and per kind, per layer."""
    m = metric()
    st.subheader("Why they differ")
    for a in c.analyses[1:]:
        st.markdown(f"**{md_text(c.headline(a, m))}** " + " ".join(md_text(w) for w in (c.where(a, m), *c.why(a, m))))
    totals = cache.compare_table("totals", c, m)
    st.dataframe(totals, hide_index=True, column_config=number_columns(totals), key="compare.totals")
    st.download_button("Download totals (CSV)", to_csv(totals), "compare_totals.csv", "text/csv",
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
        st.download_button("Download per-stage table (CSV)", to_csv(stages), "compare_stages.csv",
                           "text/csv", key="compare.stages_csv", icon=":material/download:")
    st.subheader("Per layer")
    labels = [f"{i + 1}. {a.name}" for i, a in enumerate(c.analyses)]
    other = st.selectbox("Compare the first configuration with", labels[1:], key="compare.diff_with")
    b = c.analyses[labels.index(other)]
    from explorer.present.tables import layer_diff_frame

    diff = layer_diff_frame(c.base, b, m)
    st.caption(f"A = {md_text(c.base.name)}, B = {md_text(b.name)}; joined on module name; a layer only one side has is empty on the "
               "other.")
    st.dataframe(diff, hide_index=True, key="compare.diff", column_config=number_columns(diff))
    st.download_button("Download per-layer differences (CSV)", to_csv(diff), "compare_layers.csv",
                       "text/csv", key="compare.diff_csv", icon=":material/download:")


def _verdicts(c: Comparison, ratios: Sequence[Any], where: str, what: str = "") -> None:
    """One generated sentence per configuration: its counted work and its measured time against the first."""
    for a, r in zip(c.analyses[1:], ratios):
        verdict = f"takes {r.phrase()}" if r.measurable else f"shows {r.phrase()}"
        st.markdown(f"**{md_text(a.name)} has {c.ratio(a, 'macs'):.3g}× the {unit()} of {md_text(c.base.name)} and {verdict}"
                    f"{what} on {where}.**")


def latency(c: Comparison, specs: Sequence[ArchSpec], size: Any) -> None:
    """Forward latency of every configuration, interleaved, with paired verdicts."""
    from explorer.measure.latency import measure_interleaved, paired_ratios
    from explorer.measure.policies import COMPARE_LATENCY as POLICY

    st.markdown("All configurations on one device in rounds (A B A B …), so drift affects them alike. Each one's time "
                "relative to the first is the median of the per-round ratios with a confidence interval of at least 95% "
                "(the exact level of the order statistics used is given with each); the measurement goes on until "
                f"every interval is {POLICY.target()} or the time limit is reached.")
    settings = measure_settings(COMPARE)
    f = COMPARE.fields["max_seconds"]
    limit = st.columns([1, 3])[0].number_input(
        f.label, key=COMPARE.key("max_seconds"), step=5.0, format="%g", persist_state="session",
        help=f"{f.help}: the measurement stops there even if an interval is not yet {POLICY.target()} "
             f"({f.bounds_text()})")
    problem = COMPARE.check()
    field_message(problem, COMPARE.fields, "max_seconds")
    if settings is None or (problem is not None and problem.field == "max_seconds"):
        return
    results = work.button("Measure latency of all", "compare.measure", "compare.latency",
                          (tuple(specs), size, settings, limit), lambda p, stop: measure_interleaved(
                              list(specs), POLICY.apply(settings, max_seconds=float(limit)), input_size=size,
                              half_width=POLICY.half_width, names=[a.name for a in c.analyses], progress=p,
                              should_stop=stop), type="primary", icon=":material/timer:")
    if results:
        from explorer.present.charts import ratio_chart

        ratios = paired_ratios(results)
        _verdicts(c, ratios, settings.where())
        st.plotly_chart(ratio_chart(c, ratios, metric()), key="compare.ratio_chart")
        st.dataframe(latency_frame(results, ratios), hide_index=True)


def time_per_layer(c: Comparison, specs: Sequence[ArchSpec], size: Any) -> None:
    """Every configuration profiled layer by layer, interleaved: time and MACs per kind and per stage side by side,
    and the measured difference explained by kind."""
    from explorer.measure.latency import paired_ratios
    from explorer.measure.layer_time import explain, time_layers
    from explorer.measure.policies import COMPARE_LAYER_TIMES

    st.markdown("Every layer of every configuration timed in the same rounds (each network plain, then hooked), so "
                "the time per kind of layer can be set side by side and the difference explained.")
    if size is not None:
        st.info("Profiles run at each network's own input size.", icon=":material/info:")
    settings = measure_settings(COMPARE)
    if settings is None:
        return
    profiles = work.button("Profile every configuration", "compare.profile", "compare.profile", (tuple(specs), settings),
                           lambda p, stop: time_layers(list(specs), COMPARE_LAYER_TIMES.apply(settings),
                                                       progress=p, should_stop=stop), type="primary",
                           icon=":material/timer:")
    if not profiles:
        return
    ratios = paired_ratios([p.end_to_end for p in profiles])
    _verdicts(c, ratios, settings.where(), " end to end")
    for p, r in zip(profiles[1:], ratios):
        st.markdown("Why: " + "; ".join(md_text(w) for w in explain(profiles[0], p)) + ".")
    st.dataframe(kind_times_frame(profiles), hide_index=True)
    for p in profiles:
        st.caption(f"{md_text(p.name)}: {p.summary()}")


def training(c: Comparison, specs: Sequence[ArchSpec], size: Any) -> None:
    """The training cost of every configuration (exact), and a measured step of each, interleaved, on request."""
    from explorer.costs.training import train_cost
    from explorer.present.tables import train_compare_frame, train_steps_frame

    from .training import controls

    values = controls(COMPARE_TRAIN)
    if values is None:
        return
    batch, precision, optimizer, budget_gb = values
    costs = []
    try:
        for spec in specs:
            costs.append(train_cost(spec, batch_size=batch, precision=precision, optimizer=optimizer, input_size=size))
    except ExplorerError as e:
        st.error(f"{md_text(spec.name)}: {error_text(e)}", icon=":material/error:")
        return
    frame = train_compare_frame(costs, budget_gb, metric())
    st.dataframe(frame, hide_index=True, column_config=number_columns(frame))
    st.subheader("Measured training steps, interleaved")
    settings = measure_settings()
    if settings is None:
        return
    from explorer.measure.policies import COMPARE_TRAIN_STEPS
    from explorer.measure.train_step import measure_train_step

    steps = work.button("Time one training step of each", "compare.train_measure", "compare.train",
                        (tuple(specs), settings, batch, precision, optimizer), lambda p, stop: measure_train_step(
                            list(specs), COMPARE_TRAIN_STEPS.apply(settings, batch_size=batch),
                            precision=precision, optimizer=optimizer, input_size=size, progress=p, should_stop=stop),
                        icon=":material/timer:")
    if steps:
        from explorer.measure.latency import paired_ratios

        results = [r.latency for r in steps]
        _verdicts(c, paired_ratios(results), settings.edit(batch_size=batch).where(), " per training step")
        st.dataframe(train_steps_frame(results), hide_index=True)


def other_tools(c: Comparison, specs: Sequence[ArchSpec], size: Any) -> None:
    """What each paper and tool prints for every configuration."""
    from explorer.costs.counters import paper_figures, tool_counts

    rows: dict[str, dict[str, Any]] = {}
    for a, spec in zip(c.analyses, specs):
        figures = {**{p.label: p.value for p in paper_figures(spec, a.input_size).values()},
                   **{t.label: t.value for t in tool_counts(spec, a.input_size).values()}}
        rows.setdefault("Our MACs", {})[a.name] = a.macs
        for label, value in figures.items():
            rows.setdefault(label, {})[a.name] = value
    frame = pd.DataFrame([{"Source": k, **v} for k, v in rows.items()])
    st.dataframe(frame, hide_index=True, column_config=number_columns(frame))
    st.caption("Each figure derived from the plan with that tool's own rules, for one image; the Build page's “Other "
               "tools” view itemises every term and runs the installed tools to confirm them.")


VIEWS = {"Counts": counts, "Latency": latency, "Time per layer": time_per_layer, "Training": training,
         "Other tools": other_tools}
