"""Design space: why bottlenecks, and cardinality vs width at equal cost (ResNeXt Tables 2 and 3)."""

import pandas as pd
import streamlit as st

from explorer.charts import cardinality_chart, table3_chart
from explorer.design import (
    basic_template_params,
    table2,
    table2_rows,
    table3_rows,
    table3_specs,
    template_params,
    width_for,
)
from explorer.units import exact, si
from views._shared import KEEP, NUMBER, device_select

P = "design."

st.title("Design space — cardinality vs width")

st.header("1 · Why a bottleneck")
basic, bottleneck = basic_template_params(256), template_params(1, 64, 256)
c1, c2, c3 = st.columns(3)
c1.metric("Basic block at 256 channels", exact(basic), help="two 3×3 convs: 2 · 3·3·256·256 parameters")
c2.metric("Bottleneck 256 → 64 → 256", exact(bottleneck), help="1×1 256→64, 3×3 64→64, 1×1 64→256")
c3.metric("Ratio", f"{basic / bottleneck:.1f}×")
st.markdown(
    "The ResNet paper (arXiv 1512.03385, Fig. 5) reduces the channels with a 1×1, runs the expensive 3×3 "
    "narrow, and expands again: deeper networks at a cost that stays affordable. ResNeXt keeps that template "
    "and asks how to spend the same ~70k parameters: wider paths, or more of them?"
)

st.header("2 · Table 2, reproduced")
st.markdown(
    "ResNeXt Eq. 4: a template with C paths of width d has C·(256·d + 3·3·d·d + d·256) parameters. For each "
    "C, d is the width whose count is nearest the ResNet template's 69,632 — solved, not looked up."
)
rows = table2_rows()
st.dataframe(pd.DataFrame(rows), hide_index=True, key=P + "table2",
             column_config={"params": NUMBER, "MACs": NUMBER, "paper params": NUMBER})
st.caption("MACs of the template at 56×56 (conv2 stage), multiply-accumulates = the paper's ~0.22 GFLOPs. "
           f"All rows match the paper: {all(r['matches paper'] for r in rows)}.")
st.plotly_chart(cardinality_chart(table2(), bottleneck), key=P + "chart2")

st.subheader("Your own cardinality")
st.session_state.setdefault(P + "C", 16)
st.session_state.setdefault(P + "target", bottleneck)
c1, c2 = st.columns(2)
C = c1.number_input("Cardinality C", 1, 4096, step=1, key=P + "C", **KEEP)
target = c2.number_input("Target parameters of the template", 1, 10**9, step=1000, key=P + "target", **KEEP,
                         help="69,632 = the ResNet-50 conv2 template (256-64-256)")
choice = width_for(int(C), target_params=int(target))
c1, c2, c3, c4 = st.columns(4)
c1.metric("Width d", choice.d)
c2.metric("Group-conv width C·d", exact(choice.width))
c3.metric("Parameters", exact(choice.params), f"{choice.params - choice.target_params:+,} vs target",
          delta_color="off")
c4.metric("MACs at 56×56", si(choice.macs, "MACs"), help=f"{exact(choice.macs)} multiply-accumulates")

st.header("3 · Whole networks: more cardinality at about the same cost")
depth = st.radio("Depth", [50, 101], key=P + "depth", horizontal=True, **KEEP)
net_rows = table3_rows(depth)
latency = st.session_state.get(P + f"latency.{depth}")
table = pd.DataFrame(net_rows)
if latency:
    table["median latency (ms)"] = [round(r.median_ms, 1) for r in latency[1]]
st.dataframe(table, hide_index=True, key=P + "table3", column_config={"params": NUMBER, "macs": NUMBER})
st.plotly_chart(table3_chart(net_rows, depth, [r.median_ms for r in latency[1]] if latency else None),
                key=P + "chart3")
st.caption("Top-1 error: ImageNet-1K validation, 224×224 single crop, as printed in ResNeXt Table 3. Params and "
           "MACs: ours, exact, for the same networks (MACs = multiply-accumulates, the paper's 'FLOPs').")
c1, c2 = st.columns([2, 1])
with c1:
    device = device_select(P + "device")
if c2.button(f"Measure latency of the five ResNeXt-{depth}s", key=P + "measure",
             help="batch 1, float32, interleaved runs; on a 2-core CPU this takes about a minute"):
    from explorer.latency import LatencyError, measure_interleaved

    with st.spinner("Measuring (interleaved, one network after another in rounds)…"):
        try:
            results = measure_interleaved(list(table3_specs(depth)), device=device, min_runs=5, max_seconds=120)
            st.session_state[P + f"latency.{depth}"] = (device, results)
            st.rerun()
        except LatencyError as e:
            st.error(f"**Latency** — {e}")
if latency:
    st.caption(f"Latency measured on {latency[0]}: equal MACs, unequal speed — grouped convolutions with many "
               "small groups use the hardware less efficiently than one dense convolution.")
