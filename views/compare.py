"""Compare: two to six configurations side by side — why they differ, counted exactly and measured honestly."""

import streamlit as st

from explorer import SpecError, get_preset, list_presets
from explorer.core.vocab import METRICS, exact, md_text, si
from ui import cache, links, state
from ui.pages import BUILD_TOKEN, COMPARE, COMPARE_VIEWS, CONFIGS, DEFAULT_PAIR, MAX_COMPARED
from ui.widgets import convention, count, header, number
from views.sections import comparing

COMPARE.init()
st.session_state.setdefault(CONFIGS, list(DEFAULT_PAIR))
header("Compare", "compare", "Each configuration is a preset or the architecture on the Build page; differences and "
       "ratios are against the first.")
links.show_problems()


def _label(token: str) -> str:
    return f"★ Build page: {state.valid_spec().name}" if token == BUILD_TOKEN else token


st.multiselect("Configurations", [*list_presets(), BUILD_TOKEN], key=CONFIGS, format_func=_label,
               max_selections=MAX_COMPARED, persist_state="session",
               help="Presets, or ★ the Build page's architecture as it is now (its last valid version).")
c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
c1.toggle(COMPARE.fields["same_input"].label, key=COMPARE.key("same_input"), help=COMPARE.fields["same_input"].help,
          persist_state="session")
same = bool(COMPARE.get("same_input"))
with c2:
    number(COMPARE, "h", disabled=not same)
with c3:
    number(COMPARE, "w", disabled=not same)
problem = COMPARE.check()
if problem is not None and problem.field in ("h", "w"):
    st.error(f"**{COMPARE.fields[problem.field].label}** — {md_text(problem.reason)}", icon=":material/error:")
    st.stop()

tokens = st.session_state[CONFIGS]
if len(tokens) < 2:
    st.info(f"Choose at least two configurations to compare ({len(tokens)} chosen).", icon=":material/info:")
    st.stop()
specs, sizes = [], []
for token in tokens:
    spec = state.valid_spec() if token == BUILD_TOKEN else get_preset(token)
    size = (spec.input_size[0], COMPARE.get("h"), COMPARE.get("w")) if same else spec.input_size
    specs.append(spec)
    sizes.append(size)
try:
    c = cache.comparison(tuple(specs), tuple(sizes))
except SpecError as e:
    st.error(f"**Input size** — {md_text(e.reason)}", icon=":material/error:")
    st.stop()

m = state.metric()
base = c.base
for col, token, a in zip(st.columns(len(c.analyses)), tokens, c.analyses):
    with col.container(border=True):
        st.markdown(f"**{md_text(_label(token) if token == BUILD_TOKEN else a.name)}**")
        for key, value in (("params", a.params), (m, count(a.macs)), ("activations", a.activations)):
            ratio = c.ratio(a, "macs" if key == m else key)
            relative = "" if a is base or ratio is None else f" · **{ratio:.3g}×**"
            st.markdown(f"{METRICS[key].name}: {si(value, METRICS[key].unit if key == m else '')}{relative}  \n"
                        f"<small>{exact(value)}</small>", unsafe_allow_html=True, help=METRICS[key].meaning)

f = COMPARE.fields["view"]
view = st.segmented_control(f.label, f.choices, key=COMPARE.key("view"), required=True, help=f.help,
                            persist_state="session", label_visibility="collapsed", wrap=True)
if view in ("Latency", "Time per layer"):
    from ui import warm

    warm.need(*warm.TORCH, why="to measure on this machine")
comparing.VIEWS[view or COMPARE_VIEWS[0]](c, specs, sizes[0] if same else None)
convention()
