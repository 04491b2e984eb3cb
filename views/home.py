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
2. **Compare**: put two or more configurations side by side — by default ResNet-50 vs ResNeXt-50 (32×4d),
   the ResNeXt paper's headline comparison — with absolute and relative differences per stage and per layer.

**Counting conventions.** {METRIC_HELP} The sidebar switch shows either. Parameters count weights, BN scale
and shift, and the fc bias; BN running statistics are buffers, not parameters.

Papers: ResNet — He et al., *Deep Residual Learning for Image Recognition*, CVPR 2016 (arXiv 1512.03385);
ResNeXt — Xie et al., *Aggregated Residual Transformations for Deep Neural Networks*, CVPR 2017
(arXiv 1611.05431).
"""
)
c1, c2 = st.columns(2)
c1.page_link("views/build.py", label="Open the Build page", icon=":material/construction:")
c2.page_link("views/compare.py", label="Compare ResNet-50 and ResNeXt-50", icon=":material/compare_arrows:")
