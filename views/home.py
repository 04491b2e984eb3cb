"""Home: what the explorer shows, in pictures — and a door to each page."""

import streamlit as st

from explorer import get_preset
from explorer.present.diagram import block_dot
from ui import cache, links, work
from ui.state import metric
from ui.widgets import header

header("Architecture Explorer", "")
links.show_problems()
st.markdown("Compose a **ResNet** or **ResNeXt** and see its exact parameters, multiply-adds and activations, layer "
            "by layer, the moment you change it — beside the papers, torchvision and every popular counting tool, "
            "with its speed measured honestly on this machine.")

cards = (
    ("views/build.py", "Build", ":material/construction:", "Edit any field; exact counts per stage and layer, "
     "charts, a diagram, latency, exports."),
    ("views/compare.py", "Compare", ":material/compare_arrows:", "Two to six networks side by side: why they "
     "differ, and how fast, with confidence intervals."),
    ("views/fig3.py", "Fig. 3 lab", ":material/call_split:", "Three forms of one block: the same function, checked "
     "live — and not the same speed."),
    ("views/design.py", "Design space", ":material/tune:", "Why bottlenecks; Table 2 solved from Eq. 4; Tables 3 "
     "and 4 with the paper's errors."),
    ("views/residual_lab.py", "Residual lab", ":material/timeline:", "Why shortcuts work: plain and residual nets "
     "trained live, gradients, lesions, batch norm."),
)
for col, (path, label, icon, text) in zip(st.columns(len(cards)), cards):
    with col.container(border=True):
        st.page_link(path, label=label, icon=icon)
        st.caption(text)

r50, rx50 = get_preset("resnet50"), get_preset("resnext50_32x4d")
c = cache.comparison((r50, rx50), (r50.input_size, rx50.input_size))
measured = None
outcome = work.latest("compare.latency")
if outcome is not None and outcome.result and [r.name for r in outcome.result][:2] == [r50.name, rx50.name]:
    from explorer.measure.latency import paired_ratios

    measured = paired_ratios(outcome.result[:2])[0]  # measured on the Compare page in this session


@st.cache_resource
def _pictures(key: str):  # noqa: ANN202 - plotly figures, built once per metric
    from explorer.present.charts import differences_chart, relative_chart
    from explorer.costs.counters import differences, paper_figures, tool_counts

    rows = differences(c.base.macs, tool_counts(r50), paper_figures(r50))
    story = differences_chart(rows, c.base.macs, "ResNet-50 at 224×224: what each one prints, and why")
    return relative_chart(c, None, key), story


st.subheader("ResNeXt-50 against ResNet-50: the same cost on paper")
left, right = st.columns([3, 2], gap="large")
with left:
    if measured is None:
        st.plotly_chart(_pictures(metric())[0], key="home.relative")
    else:
        from explorer.present.charts import relative_chart

        st.plotly_chart(relative_chart(c, measured, metric()), key="home.relative")
with right:
    st.markdown(c.headline(c.analyses[1], metric()))
    for sentence in c.why(c.analyses[1], metric()):
        st.markdown(f"- {sentence}")
    if measured is None:
        st.caption("Measured latency appears in the picture once you time the pair on the Compare page.")
    else:
        st.markdown(f"- Measured on this machine: it takes {measured.phrase()}.")

st.subheader("Which number is right? All of them")
st.plotly_chart(_pictures(metric())[1], key="home.story")
st.caption("Every paper and tool counts the same 4,089,184,256 multiply-adds of ResNet-50's convolutions and fc, then "
           "adds its own extras — batch norm, ReLU, pooling, the fc bias — moves the stride, or doubles everything as "
           "FLOPs. Hover a bar for what the tool prints; the Build page's “Other tools” view itemises every term for "
           "any network.")

st.subheader("One ResNeXt block, three ways (Fig. 3)")
cols = st.columns(3)
for col, form, title in zip(cols, "abc", ("(a) 32 paths, summed", "(b) concatenated", "(c) grouped conv")):
    col.caption(title)
    col.graphviz_chart(block_dot(form, 32, 4, 256, shown=2))

st.caption("Papers: ResNet — He et al., CVPR 2016 (arXiv 1512.03385); ResNeXt — Xie et al., CVPR 2017 "
           "(arXiv 1611.05431).")
