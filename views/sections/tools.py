"""Build view of what other tools print for this network, why, term by term — and confirmed live."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer import Analysis, ArchSpec
from explorer.costs.counters import EXTRA_FIGURES, paper_figures, tool_counts
from explorer.core.vocab import exact
from ui import work
from ui.state import metric

from .counts import number_columns


def figures_frame(spec: ArchSpec, live: dict | None = None) -> pd.DataFrame:
    """One row per paper and tool: what it prints (its own words), the exact value, and the difference from our
    MACs; with a live run, what the installed tool printed beside it."""
    from explorer import analyze

    macs = analyze(spec).macs
    rows = []
    for p in paper_figures(spec).values():
        live_cells = {"Measured live": "—", "Check": "— (a paper)"} if live is not None else {}
        rows.append({"Source": p.label, "Prints": p.printed, **live_cells, "Value": p.value, "Unit": p.unit,
                     "Δ from our MACs": p.value - macs})
    for c in tool_counts(spec).values():
        row = {"Source": f"{c.label} {c.version[:12]}", "Prints": c.printed}
        if live is not None:  # right after what the tool prints, so both are on screen at 1100 px
            lc = live.get(c.tool)
            row["Measured live"] = f"{lc.measured.value:,}" if lc is not None and lc.measured.value is not None else "—"
            row["Check"] = "—" if lc is None else lc.verdict
        row.update({"Value": c.value, "Unit": c.unit, "Δ from our MACs": c.value - macs})
        rows.append(row)
    return pd.DataFrame(rows)


def _live(spec: ArchSpec, progress) -> dict:  # noqa: ANN001
    from explorer.measure.counters_live import live_counts

    return live_counts(spec, progress=progress)


def other_tools(spec: ArchSpec, analysis: Analysis) -> None:
    """Every counter's number for this network, itemised; the installed ones run on request."""
    st.markdown(f"Our count: **{exact(analysis.macs)} MACs** (conv + fc multiply-accumulates, bias not counted). "
                "Every other figure starts from the same multiply-adds and adds or leaves out something — or "
                "doubles them as FLOPs. Each is derived here from the layer plan with that tool's own rules, for one "
                "image at the spec's input size.")
    if metric() == "flops":
        st.caption(f"The MACs/FLOPs switch does not change this view: each row is what a paper or tool prints, in "
                   f"its own unit, and ours is the MACs every one of them starts from ({exact(2 * analysis.macs)} "
                   "FLOPs = 2 × MACs).")
    table = st.empty()  # filled after the button: a live run adds its column to the same table
    live = work.button("Run the installed tools on the built model", "build.tools_live", "build.tools", spec,
                       lambda p, stop: _live(spec, p), icon=":material/play_arrow:",
                       help="Builds the network (after the memory check) and runs fvcore, ptflops (both backends), "
                       "thop, torchinfo and FlopCounterMode on one random image; their own output appears beside "
                       "each row.")
    frame = figures_frame(spec, live)
    narrow = {c: st.column_config.TextColumn(width="medium") for c in ("Source", "Prints")}  # "Check" on screen at 1100 px
    table.dataframe(frame, hide_index=True, column_config={**number_columns(frame), **narrow}, key="build.tools_table")
    for c in tool_counts(spec).values():
        with st.expander(f"{c.label}: {c.printed}"):
            st.markdown(c.sentence)
            st.markdown("\n".join(f"- **{t.name}**: {t.count:,} — {t.rule}" for t in c.terms))
            if c.extras():
                st.caption(" · ".join(f"{EXTRA_FIGURES[k]}: {v:,}" for k, v in c.extras().items()))
    for p in paper_figures(spec).values():
        st.caption(p.sentence)
