"""Fig. 3 lab: the three forms of a ResNeXt block compute the same function — checked live."""

import pandas as pd
import streamlit as st

from explorer.design import template_params
from explorer.diagram import block_dot
from explorer.forms import FORM_TITLES
from explorer.units import exact, si
from views._shared import KEEP, NUMBER, cached_equivalence, cached_network_equivalence, device_select

P = "fig3."

st.title("Fig. 3 lab — one block, three forms")
st.markdown(
    "The ResNeXt paper (arXiv 1611.05431, Fig. 3) draws one block three ways: **(a)** C parallel paths, "
    "each 1×1 → 3×3 → 1×1, summed; **(b)** the paths stop after the 3×3, are concatenated, and one 1×1 "
    "follows; **(c)** a single grouped 3×3 convolution with C groups. They are the *same function*: BN "
    "and ReLU act channel by channel, and a 1×1 over all C·d channels is the sum of C 1×1s over d channels "
    "each. Below, form (c) gets random weights and non-trivial BN statistics, (a) and (b) are made from it "
    "by slicing the very same tensors, and all three run on one random input."
)
for key, value in (("cardinality", 32), ("d", 4), ("channels", 256), ("size", 56)):
    st.session_state.setdefault(P + key, value)
c1, c2, c3, c4, c5 = st.columns(5)
C = c1.number_input("Cardinality C", 1, 256, step=1, key=P + "cardinality", **KEEP, help="number of paths (groups)")
d = c2.number_input("Width d", 1, 256, step=1, key=P + "d", **KEEP, help="channels per path")
channels = c3.number_input("Channels in/out", 1, 2048, step=1, key=P + "channels", **KEEP)
size = c4.number_input("Spatial size", 1, 112, step=1, key=P + "size", **KEEP, help="height = width")
train = c5.toggle("Train mode", key=P + "train", **KEEP, help="BN uses the batch's statistics instead of the "
                  "running ones; the forms still agree")
if C * d > 4096:
    st.error(f"**Width d** — C × d = {C * d} channels; at most 4,096.")
    st.stop()

report = cached_equivalence(C, d, channels, size, train)
conv_params = template_params(C, d, channels)
forms = report["forms"]
cols = st.columns(3)
for col, f in zip(cols, ("a", "b", "c")):
    r = forms[f]
    with col:
        st.subheader(FORM_TITLES[f])
        st.graphviz_chart(block_dot(f, C, d, channels))
        st.metric("Parameters", exact(r["params"]), help="convs and BN; equal in every form")
        st.metric("MACs", si(r["macs"], "MACs"), help=f"{exact(r['macs'])} multiply-accumulates per image")
        st.metric("Convolutions", exact(r["convs"]), help="separate conv layers the framework launches")
        if f != "c":
            st.metric("max |out − out(c)|, float32", f"{r['max_abs_diff_float32']:.2e}")
            st.metric("max |out − out(c)|, float64", f"{r['max_abs_diff_float64']:.2e}")
scale = report["output_max_abs"]
worst32 = max(forms[f]["max_abs_diff_float32"] for f in "ab")
worst64 = max(forms[f]["max_abs_diff_float64"] for f in "ab")
st.success(
    f"Same function: outputs reach {scale:.3g} in magnitude, and forms (a) and (b) differ from (c) by at most "
    f"{worst32:.1e} in float32 and {worst64:.1e} in float64 ({report['mode']} mode) — rounding in a "
    "different order of additions, nothing more. Same parameters, same MACs."
)
st.caption(f"Parameters include BN scale and shift; the paper's Table 2 counts the convs only: "
           f"{exact(conv_params)} for this block.")

st.header("Same MACs, not the same speed")
st.markdown(
    "Form (a) launches 3·C small convolutions, (b) 2·C + 1, (c) three. Each launch has a fixed cost, small "
    "convolutions use the hardware poorly, and the C partial results must be written and summed in memory — "
    "so (a) is much slower although it does the same multiply-adds. That is why the paper implements (c)."
)
c1, c2 = st.columns([2, 1])
with c1:
    device = device_select(P + "device")
if c2.button("Measure the three forms", key=P + "measure", help="interleaved A B C runs, medians"):
    from functools import partial

    from explorer.forms import equivalence
    from explorer.latency import LatencyError, measure_interleaved

    with st.spinner("Timing forms a, b, c (interleaved)…"):
        try:
            timed = equivalence(C, d, channels, size, device=device,
                                measure=partial(measure_interleaved, max_seconds=30))
            st.session_state[P + "latency"] = (report["subject"], device, timed)
        except LatencyError as e:
            st.error(f"**Latency** — {e}")
if P + "latency" in st.session_state:
    subject, dev, timed = st.session_state[P + "latency"]
    ms = {f.form: f.latency_ms for f in timed.forms}
    st.dataframe(pd.DataFrame([{"form": FORM_TITLES[f], "median latency (ms)": round(ms[f], 3),
                                "× form (c)": round(ms[f] / ms["c"], 2)} for f in "abc"]), hide_index=True)
    st.caption(f"{subject}, batch {timed.batch_size}, float32, on {dev}.")

st.header("The whole network")
st.markdown("resnext50_32x4d built in form (c) with random weights, then converted to (a) and (b): 16 blocks, "
            "up to 1,541 convolutions. The outputs of all three are compared.")
net_size = st.select_slider("Input size", [32, 64, 96], key=P + "net_size", **KEEP)
if st.button("Check resnext50_32x4d in forms a, b, c", key=P + "network"):
    st.session_state[P + "net_checked"] = net_size
if st.session_state.get(P + "net_checked") == net_size:
    net = cached_network_equivalence(net_size)
    st.dataframe(pd.DataFrame([{
        "form": FORM_TITLES[f], "params": r["params"], "MACs": r["macs"], "convs": r["convs"],
        "max |Δ| float32": f"{r['max_abs_diff_float32']:.2e}", "max |Δ| float64": f"{r['max_abs_diff_float64']:.2e}",
    } for f, r in net["forms"].items()]), hide_index=True, column_config={"params": NUMBER, "MACs": NUMBER})
    st.caption(f"Outputs (logits) reach {net['output_max_abs']:.3g}; input 3×{net_size}×{net_size}, batch "
               f"{net['batch_size']}, {net['mode']} mode.")

st.info(
    "**Fig. 4: why only blocks of depth ≥ 3.** In a two-layer (basic) block the grouping has nothing to be "
    "equivalent to: grouping both 3×3 convs just gives a wide, dense module. The reformulation is non-trivial "
    "only when a 1×1 sits on each side of the grouped 3×3 — the bottleneck.", icon=":material/school:"
)
