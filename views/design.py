"""Design space: why bottlenecks, and cardinality vs width at equal cost (ResNeXt Tables 2, 3 and 4)."""

import pandas as pd
import streamlit as st

from explorer.present.charts import cardinality_chart, error_chart
from explorer.costs.design import (
    bottleneck_framings,
    table2,
    table2_rows,
    table3_rows,
    table3_specs,
    table4_rows,
    table4_specs,
    template_params,
    width_for,
)
from explorer.core.errors import SpecError
from explorer.core.vocab import METRICS, exact, si
from ui import links, work
from ui.pages import DESIGN
from ui.state import metric
from ui.widgets import NUMBER, count, field_message, header, measure_settings, number, unit


def why_a_bottleneck() -> None:
    """Section 1: the two framings of the bottleneck's saving (same width, same cost), as numbers."""
    st.header("1 · Why a bottleneck")
    st.markdown("The ResNet paper (arXiv 1512.03385, Fig. 5) reduces the channels with a 1×1, runs the expensive 3×3 "
                "narrow, and expands again. How much that saves depends on what you compare it with:")
    same_width, same_cost = bottleneck_framings()
    left, right = st.columns(2, gap="large")
    for col, framing, basic_label in ((left, same_width, "Basic block, 256 channels"),
                                      (right, same_cost, "Basic block, 64 channels")):
        with col:
            st.subheader(framing.title)
            c1, c2 = st.columns(2)
            c1.metric(basic_label, exact(framing.basic_params), si(count(framing.basic_macs), unit()), delta_color="off",
                      delta_arrow="off", help=f"two 3×3 convs: 2 · 3·3·{framing.basic_channels}·{framing.basic_channels} "
                      f"parameters; {unit()} at 56×56 below")
            c2.metric("Bottleneck 256 → 64 → 256", exact(framing.bottleneck_params),
                      si(count(framing.bottleneck_macs), unit()), delta_color="off", delta_arrow="off",
                      help="1×1 256→64, 3×3 64→64, 1×1 64→256 (ResNet-50's conv2 block)")
    left.markdown(f"At the same width the bottleneck has **{same_width.ratio:.1f}× fewer** parameters — but a basic "
                  "block is never used at 256 channels, so this overstates the saving.")
    right.markdown(f"A bottleneck costs about what a 64-channel basic block costs ({1 / same_cost.ratio:.2f}×) while "
                   "carrying **four times the channels**: that is how ResNet-50 gets deeper and wider than ResNet-34 at "
                   "about the same cost. ResNeXt keeps this template and asks how to spend its ~70k parameters.")
    st.caption(f"Conv parameters only, as the papers count them; {unit()} at 56×56 (the conv2 stage) under each.")


def table2_reproduced() -> None:
    """Section 2: ResNeXt Table 2 solved from Eq. 4, and the chart of cardinality against width."""
    st.header("2 · Table 2, reproduced")
    st.markdown("ResNeXt Eq. 4: a template with C paths of width d has C·(256·d + 3·3·d·d + d·256) parameters. For each C, "
                "d is the width whose count is nearest the ResNet template's 69,632 — solved, not looked up.")
    rows = table2_rows(metric=metric())
    frame = pd.DataFrame(rows)
    st.dataframe(frame, hide_index=True, key="design.table2",
                 column_config={c: NUMBER for c in frame.columns if c not in ("C", "d", "Matches the paper")})
    st.caption(f"{[r['Matches the paper'] for r in rows].count('yes')} of {len(rows)} rows match the paper's printed d, width and parameters. {unit()} of the "
               "template at 56×56 (conv2), multiply-accumulates = the paper's ~0.22 GFLOPs.")
    st.plotly_chart(cardinality_chart(table2(), template_params(1, 64, 256), metric()), key="design.chart2")


def your_own_cardinality() -> None:
    """The width d that a cardinality of the person's choosing needs for a parameter target."""
    st.subheader("Your own cardinality")
    c1, c2 = st.columns(2)
    with c1:
        number(DESIGN, "cardinality")
    with c2:
        number(DESIGN, "target_params")
    problem = DESIGN.check()
    field_message(problem, DESIGN.fields, "cardinality", "target_params")
    if problem is None or problem.field == "depth":
        try:
            choice = width_for(int(DESIGN.get("cardinality")), target_params=int(DESIGN.get("target_params")))
        except SpecError as e:
            field_message(e, DESIGN.fields, *DESIGN.fields)
        else:
            c1, c2, c3, c4 = st.columns(4)
            c1.metric("Width d", choice.d, help="channels per path")
            c2.metric("Group-conv width C·d", exact(choice.width))
            c3.metric("Parameters", exact(choice.params), f"{choice.params - choice.target_params:+,} vs the target",
                      delta_color="off", delta_arrow="off")
            c4.metric(f"{unit()} at 56×56", si(count(choice.macs), unit()), exact(count(choice.macs)), delta_color="off",
                      delta_arrow="off")


def _networks(title: str, rows: list, specs: tuple, key: str, errors: tuple[str, ...], measured_with) -> None:  # noqa: ANN001
    """A table of networks (ours: params and MACs; the paper's errors), a chart, and their latency on request
    (``measured_with``: the measurement settings, or None while the latency toggle is off)."""
    unit_ = METRICS[metric()].unit
    table = pd.DataFrame([{"Network": r["network"], "Setting": r.get("setting", r["label"]), "Parameters": r["params"],
                           unit_: count(r["macs"]), **{e.capitalize(): r[e] for e in errors}} for r in rows])
    chart = st.empty()  # the table and chart, with latency once it is measured
    results = None
    if measured_with is not None:
        results = work.button(f"Measure the latency of these {len(specs)} networks", f"design.measure_{key}",
                              f"design.latency.{key}", (specs, measured_with), lambda p, stop: _measure(
                                  specs, measured_with, p, stop), icon=":material/timer:",
                              help="batch 1, interleaved rounds, with a progress bar")
    with chart.container():
        if results:
            table["Median latency ms"] = [round(r.median_ms, 2) for r in results]
        st.dataframe(table, hide_index=True, column_config={"Parameters": NUMBER, unit_: NUMBER}, key=f"design.{key}")
        st.plotly_chart(error_chart(rows, title, errors, results, metric()), key=f"design.chart_{key}")
        if results:
            from explorer.costs.comparison import cost_and_speed

            st.caption(f"Latency measured on {measured_with.where()}: "
                       f"{cost_and_speed([r['macs'] for r in rows], [r.median_ms for r in results], metric())}.")


def _measure(specs: tuple, settings, progress, should_stop) -> list:  # noqa: ANN001
    from explorer.measure.latency import measure_interleaved
    from explorer.measure.policies import DESIGN_LATENCY

    return measure_interleaved(list(specs), DESIGN_LATENCY.apply(settings), progress=progress,
                               should_stop=should_stop)


def latency_controls() -> object:
    """The measurement settings when the person asks for latency (they need torch's device list), else None."""
    if st.toggle("Measure the latency of these networks", key="design.timing", persist_state="session",
                 help="device, dtype and threads next to the measure buttons below"):
        return measure_settings()
    return None


def table3() -> object:
    """Section 3: ResNeXt Table 3 at the depth chosen: more cardinality at about the same cost. Returns the
    measurement settings its latency toggle gave (None while it is off), for Table 4's button too."""
    st.header("3 · Table 3: more cardinality at about the same cost")
    f = DESIGN.fields["depth"]
    st.segmented_control(f.label, f.choices, key=DESIGN.key("depth"), required=True, help=f.help,
                         format_func=lambda v: f"ResNeXt-{v}", persist_state="session")
    depth = int(DESIGN.get("depth"))
    st.caption("Top-1 error: ImageNet-1K validation, 224×224 single crop, as printed in ResNeXt Table 3. Parameters and "
               f"{unit()}: ours, exact, for the same networks.")
    measured_with = latency_controls()
    _networks(f"ResNeXt-{depth}: more cardinality at about the same cost (Table 3)", table3_rows(depth),
              table3_specs(depth), f"table3_{depth}", ("top-1 error %",), measured_with)
    return measured_with


def table4(measured_with) -> None:  # noqa: ANN001
    """Section 4: ResNeXt Table 4: twice ResNet-101's complexity spent on depth, width or cardinality."""
    st.header("4 · Table 4: twice the complexity — deeper, wider, or more cardinality?")
    st.markdown("At about twice ResNet-101's cost the paper compares going deeper (ResNet-200), wider (1×100d) and more "
                "cardinal (2×64d, 64×4d): cardinality wins.")
    _networks("ResNeXt Table 4: 2× the complexity of ResNet-101", table4_rows(), table4_specs(), "table4",
              ("top-1 error %", "top-5 error %"), measured_with)


DESIGN.init()
header("Design space", "design", "Why bottlenecks, and cardinality against width at equal cost (ResNeXt Tables 2, 3 and 4).")
links.show_problems()
why_a_bottleneck()
table2_reproduced()
your_own_cardinality()
table4(table3())
