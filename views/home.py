"""Home: what the explorer is and how to use it."""

import streamlit as st

from explorer import list_presets
from views._shared import METRIC_HELP

st.title("Architecture Explorer")
st.markdown(
    f"""
Compose a **ResNet** or **ResNeXt** — stages, depth and width per stage, basic or bottleneck blocks,
cardinality *C* and bottleneck width *d*, stem, stride placement, shortcut type — and see its exact
per-layer shapes, parameters and multiply-adds, instantly, computed from the architecture itself.
The app builds the network in PyTorch when you ask it to (cross-checks, latency).

**How to use it**
1. **Build**: pick one of {len(list_presets())} presets (torchvision's ten, the papers' others, the CIFAR
   ResNets, the plain baselines) in the sidebar, then edit any field. Invalid combinations are explained
   next to the fields. The tabs show totals, a per-stage and per-layer table (CSV download), charts, what the
   papers and torchvision report, and an fvcore cross-check.
   The Latency view measures real speed on the CPU or a GPU (median, spread, throughput, share of the
   device's peak) and sweeps the batch size.
2. **Compare**: put two or more configurations side by side — by default ResNet-50 vs ResNeXt-50 (32×4d),
   the ResNeXt paper's headline comparison — with absolute and relative differences per stage and per layer,
   and their latency measured in interleaved runs: equal MACs are not equal speed.
3. **Fig. 3 lab**: the ResNeXt block as C parallel paths, as early concatenation and as a grouped
   convolution — built from one set of weights and checked to compute the same function, then timed.
4. **Design space**: why bottlenecks, Table 2 solved from Eq. 4, and Table 3's networks with the paper's
   errors: more cardinality at about the same cost.

Every view has a **Share link** that reproduces it; specs download and upload as JSON, and export as a
standalone PyTorch file.

**Counting conventions.** {METRIC_HELP} The sidebar switch shows either. Parameters count weights, BN scale
and shift, and the fc bias; BN running statistics are buffers, not parameters.

Papers: ResNet — He et al., *Deep Residual Learning for Image Recognition*, CVPR 2016 (arXiv 1512.03385);
ResNeXt — Xie et al., *Aggregated Residual Transformations for Deep Neural Networks*, CVPR 2017
(arXiv 1611.05431).
"""
)
c1, c2, c3, c4 = st.columns(4)
c1.page_link("views/build.py", label="Build an architecture", icon=":material/construction:")
c2.page_link("views/compare.py", label="Compare ResNet-50 and ResNeXt-50", icon=":material/compare_arrows:")
c3.page_link("views/fig3.py", label="Fig. 3 lab", icon=":material/call_split:")
c4.page_link("views/design.py", label="Design space", icon=":material/tune:")
