"""Build views that set our numbers beside others': the papers and torchvision, fvcore run live."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer import Analysis, ArchSpec, analyze, reference
from explorer.errors import ResourceError
from explorer.guard import check_memory
from explorer.vocab import METRICS, exact, md_text, multiply_adds
from ui import cache
from ui.state import metric

from .counts import number_columns


def papers(spec: ArchSpec, analysis: Analysis) -> None:
    """What the papers and torchvision report, beside our numbers, and why the stride placement matters."""
    m = metric()
    name = reference.match(spec)  # by structure: ResNet-34 with shortcut C is Table 3's, whatever its name
    if name:
        rows = reference.source_rows(name, analysis.params, analysis.macs, m)
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="build.papers_table")
        for i, r in enumerate(reference.reported(name), 1):
            st.caption(f"{i}. **{r.source}** — {r.note}")
        for note in reference.CONVENTION_NOTES:
            st.markdown(f"- {note}")
    else:
        st.info("No published figures for this architecture: it is none of the networks the papers or torchvision "
                "report (compared by structure, whatever its name). Pick a preset to compare with what they report.",
                icon=":material/info:")
    if spec.block == "bottleneck":
        other = spec.edit(downsample_on="1x1" if spec.downsample_on == "3x3" else "3x3")
        unit = METRICS[m].unit
        st.markdown(
            f"**Stride placement.** With the stride on the **{spec.downsample_on}** this network has "
            f"{exact(multiply_adds(analysis.macs, m))} {unit}; on the **{other.downsample_on}** it would have "
            f"{exact(multiply_adds(analyze(other).macs, m))} {unit}, with the same {exact(analysis.params)} "
            f"parameters. {reference.STRIDE_NOTE}")


def fvcore_check(spec: ArchSpec, analysis: Analysis) -> None:
    """fvcore's counts beside ours, on request (it builds and traces the model)."""
    st.markdown("Builds the network and traces it with **fvcore**'s `FlopCountAnalysis` (eval mode, one image), then "
                "joins its per-module counts with ours on the module name. fvcore counts one multiply-add as one "
                "'flop', so its conv and linear counts must equal our MACs exactly.")
    asked = st.session_state.get("build.checked") == spec.to_json()
    if st.button("Run the fvcore check", key="build.check", icon=":material/fact_check:", disabled=asked):
        st.session_state["build.checked"] = spec.to_json()
        asked = True
    if not asked:
        return
    try:
        check_memory(analysis, batch_size=1, what="tracing")
    except ResourceError as e:
        st.error(f"**Not built** — {md_text(e)}", icon=":material/memory:")
        return
    p = cache.fvcore_profile(spec.to_json(), analysis.input_size)
    if p["mac_rows_agree"]:
        st.success(f"All {p['mac_rows']} conv and linear layers agree exactly with fvcore.")
    else:
        st.error("Some conv/linear layers disagree with fvcore — please report this spec.")
    frame = pd.DataFrame([{"Op": r["op"], "Ours": r["ours"], "fvcore": r["fvcore"], "What is counted": r["counts"]}
                          for r in p["by_type"]])
    st.dataframe(frame, hide_index=True, column_config=number_columns(frame))
    unsupported = ", ".join(f"{k} ×{v}" for k, v in p["unsupported_ops"].items()) or "nothing"
    st.markdown(f"fvcore's total, {exact(p['fvcore_total'])}, is our {exact(p['analytic_macs'])} MACs plus BN and "
                f"average pooling. It **ignores** {', '.join(p['ignored_ops'])} and reports as **unsupported** "
                f"(counted as 0): {unsupported}; we count those under other ops.")
    bad = [r for r in p["rows"] if not r["agrees"]]
    if bad:
        st.dataframe(pd.DataFrame(bad), hide_index=True)
