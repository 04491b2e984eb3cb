"""Build views of the exact counts: per stage, per layer, charts, the diagram."""

from __future__ import annotations

import streamlit as st

from explorer import Analysis, ArchSpec
from explorer.present.tables import to_csv
from explorer.core.vocab import METRICS, slug
from ui import cache, work
from ui.pages import BUILD
from ui.state import metric
from ui.widgets import NUMBER


def number_columns(frame) -> dict:  # noqa: ANN001 - a pandas DataFrame
    """Every integer column shown with separators."""
    return {c: NUMBER for c in frame.columns if str(frame[c].dtype).lower().startswith("int")}


def stages(spec: ArchSpec, analysis: Analysis) -> None:
    """Per-stage, per-kind and (on request) per-block totals."""
    m = metric()
    st.dataframe(cache.arrow("stages", spec, m), hide_index=True, column_config=number_columns(cache.table(
        "stages", spec, m)), key="build.stages_table")
    st.caption(f"Where the {METRICS[m].unit} go: per kind of layer.")
    st.dataframe(cache.arrow("kinds", spec, m), hide_index=True, column_config=number_columns(cache.table(
        "kinds", spec, m)))
    if st.toggle(f"Per block ({len(analysis.blocks)} blocks)", key="build.per_block", persist_state="session"):
        st.dataframe(cache.arrow("blocks", spec, m), hide_index=True,
                     column_config=number_columns(cache.table("blocks", spec, m)))


def layers(spec: ArchSpec, analysis: Analysis) -> None:
    """Every layer in forward order, with a CSV download."""
    m = metric()
    frame = cache.table("layers", spec, m)
    st.download_button("Download all layers (CSV)", to_csv(frame), f"{slug(spec.name)}_layers.csv",
                       "text/csv", key="build.layers_csv", icon=":material/download:")
    st.caption(f"{len(frame)} layers in forward order. Names are the module paths in `model.named_modules()`; the "
               "residual add is computed by the block itself, so it bears the block's name. Click a header to sort; "
               "the table's search finds a layer.")
    st.dataframe(cache.arrow("layers", spec, m), hide_index=True, column_config=number_columns(frame),
                 key="build.layers_table", height=420)


def charts(spec: ArchSpec, analysis: Analysis) -> None:
    """Params, MACs and activations per stage; MACs per block."""
    m = metric()
    c1, c2 = st.columns(2)
    c1.plotly_chart(cache.figure("rollup", spec, "params"), key="build.chart_params")
    c2.plotly_chart(cache.figure("rollup", spec, m), key="build.chart_macs")
    c1, c2 = st.columns(2)
    c1.plotly_chart(cache.figure("rollup", spec, "activations"), key="build.chart_acts")
    c2.plotly_chart(cache.figure("rollup", spec, m, "blocks"), key="build.chart_blocks")


def diagram(spec: ArchSpec, analysis: Analysis) -> None:
    """The network as a picture: stem, stages, head; shapes on the edges; params and MACs on every node."""
    from explorer.present.diagram import network_svg

    f = BUILD.fields["expanded"]
    c1, c2 = st.columns(2)
    c1.toggle(f.label, key=BUILD.key("expanded"), help=f.help, persist_state="session")
    profile = work.latest("build.profile")
    measured = profile is not None and profile.result is not None and profile.key[0] == spec
    colour = c2.toggle("Colour by measured time", key="build.colour_time", disabled=not measured,
                       help="after “Time per layer” has profiled this architecture: each box coloured by its share "
                       "of the measured time" if measured else "profile this architecture in “Time per layer” first")
    times = {g.name: g.median_ms for g in profile.result.groups("block")} if measured and colour else None
    svg = network_svg(spec, analysis, expanded=bool(BUILD.get("expanded")), metric=metric(), times_ms=times)
    st.download_button("Download the diagram (SVG)", svg, f"{slug(spec.name)}.svg", "image/svg+xml",
                       key="build.svg", icon=":material/download:")
    st.image(svg)
