"""Build: compose an architecture and see its exact complexity, layer by layer."""

import streamlit as st

from explorer import analyze
from explorer.core.fields import label_of
from explorer.core.presets import preset_of
from explorer.core.spec import SPEC_FIELDS
from explorer.core.vocab import exact, md_text, shape
from ui import editor, links, state
from ui.pages import BUILD, BUILD_VIEWS
from ui.widgets import convention, header, headline
from views.sections import counts, export, sources, speed, tools, training

SECTIONS = {
    "Stages": counts.stages, "Layers": counts.layers, "Charts": counts.charts, "Diagram": counts.diagram,
    "Papers & torchvision": sources.papers, "Other tools": tools.other_tools, "fvcore check": sources.fvcore_check,
    "Latency": speed.latency, "Time per layer": speed.time_per_layer, "Training": training.training,
    "Spec & export": export.spec_and_export,
}
assert tuple(SECTIONS) == BUILD_VIEWS  # the link parameter "view" accepts exactly these

BUILD.init()
state.sync_widgets()
draft = state.draft()
candidate, error = state.validate(draft)
spec = candidate or state.valid_spec()  # an invalid edit keeps the last valid results on screen
analysis = analyze(spec)
preset = preset_of(spec)

header(f"Build — {spec.name}", "build",
       f"{'Preset ' + preset if preset else 'Custom architecture'} · {len(spec.depths)} stages · "
       f"{sum(spec.depths)} {spec.block} blocks · input {shape(spec.input_size)} · "
       f"output {exact(analysis.output_shape[0])} classes")
links.show_problems()
if error is not None:
    shown = md_text(label_of(error.field, SPEC_FIELDS))
    st.warning(f"The editor holds an invalid value (see the message beside **{shown}**): "
               f"the numbers below are those of the last valid architecture, **{md_text(spec.name)}**, until it is fixed.",
               icon=":material/history:")
with st.container(key="stale" if error is not None else "fresh"):
    headline(analysis)
left, right = st.columns([1, 2.4], gap="large")
with left:
    st.subheader("Architecture")
    editor.editor(error)
with right:
    f = BUILD.fields["view"]
    view = st.segmented_control(f.label, f.choices, key=BUILD.key("view"), required=True, help=f.help,
                                persist_state="session", label_visibility="collapsed", wrap=True)
    with st.container(key="stale_view" if error is not None else "fresh_view"):
        if view in ("Latency", "Time per layer"):  # they need torch before they can draw their settings
            from ui import warm

            warm.need(*warm.TORCH, why="to measure on this machine")
        SECTIONS[view or "Stages"](spec, analysis)
    convention()
