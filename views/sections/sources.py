"""Build views that set our numbers beside others': the papers and torchvision, fvcore run live."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer import Analysis, ArchSpec
from explorer.costs import reference
from explorer.core.errors import ResourceError
from explorer.build.guard import check_memory
from explorer.core.vocab import exact, md_text
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
    placement = reference.stride_placement(spec, m)
    if placement is not None:
        st.markdown(f"**Stride placement.** {md_text(placement)}")


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
