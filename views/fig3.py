"""Fig. 3 lab: the three forms of a ResNeXt block compute the same function — checked live, then timed."""

import pandas as pd
import streamlit as st

from explorer.present.diagram import block_dot
from explorer.build.forms import FORM_TITLES
from explorer.core.vocab import METRICS, exact, si
from ui import links, warm, work
from ui.pages import FIG3
from ui.state import metric
from ui.widgets import count, field_message, header, measure_settings, number, unit

FORMS = ("a", "b", "c")


def _network(size: int, progress, should_stop):  # noqa: ANN001, ANN202 - an EquivalenceReport
    from explorer.measure.equivalence import network_equivalence

    return network_equivalence("resnext50_32x4d", (3, size, size), progress=progress, should_stop=should_stop)


def _layer_times(profiles: dict) -> None:
    """Per kind of layer, the time of each form side by side, and what form (a) does with its extra time."""
    kinds = list(dict.fromkeys(g.name for p in profiles.values() for g in p.groups("kind")))
    table = {k: {f"form ({f})": next((round(g.median_ms, 3) for g in p.groups("kind") if g.name == k), None)
                 for f, p in profiles.items()} for k in kinds}
    table["between layers (Python, hooks)"] = {f"form ({f})": round(p.between_ms, 3) for f, p in profiles.items()}
    st.dataframe(pd.DataFrame([{"Kind (ms)": k, **v} for k, v in table.items()]), hide_index=True)
    c, a = profiles["c"], profiles["a"]
    convs_a = sum(g.layers for g in a.groups("kind") if "conv" in g.name)
    st.markdown(f"Form (c) runs its {len(c.layers)} layers in {c.layers_ms:,.3g} ms; form (a) runs {len(a.layers)} — "
                f"{convs_a} of them convolutions — in {a.layers_ms:,.3g} ms for the same {unit()}, and "
                f"{a.between_ms:,.2g} ms more pass between them. Each small convolution pays a fixed cost to launch "
                "and moves its own data, so the work is the same but the time is not: that is why the paper "
                "implements form (c).")
    st.caption(" ".join(f"Form ({f}): {p.summary()}" for f, p in profiles.items()))


@st.cache_data(max_entries=16, show_spinner="Building the three forms and comparing their outputs…")
def _check(cardinality: int, d: int, channels: int, size: int, train: bool) -> dict:
    from explorer.measure.equivalence import equivalence

    return equivalence(cardinality, d, channels, size, train=train).to_dict()


def block_inputs() -> tuple:
    """The block's fields (C, d, channels, size, training mode) and the problem with them, if any."""
    cols = st.columns(5, vertical_alignment="bottom")
    for col, name in zip(cols, ("cardinality", "d", "channels", "size")):
        with col:
            number(FIG3, name)
    cols[4].toggle(FIG3.fields["train"].label, key=FIG3.key("train"), help=FIG3.fields["train"].help,
                   persist_state="session")
    problem = FIG3.check()
    field_message(problem, FIG3.fields, *FIG3.fields)
    return problem, tuple(FIG3.get(k) for k in ("cardinality", "d", "channels", "size", "train"))


def checked(C: int, d: int, channels: int, size: int, train: bool) -> dict | None:  # noqa: N803 - the paper's C
    """The three forms built and compared (cached), or None with the refusal shown under its field."""
    from explorer import ExplorerError

    warm.need("torch", why="for the live check")
    try:
        return _check(C, d, channels, size, bool(train))
    except ExplorerError as e:
        field_message(e, FIG3.fields, *FIG3.fields) if e.field in FIG3.fields else st.error(
            f"**Not built** — {e}", icon=":material/memory:")
    return None


def same_function(report: dict, C: int, d: int, channels: int) -> None:  # noqa: N803
    """Each form's diagram, parameters, work and convolutions, and how far its output is from form (c)'s."""
    forms = report["forms"]
    for col, f in zip(st.columns(3), FORMS):
        r = forms[f]
        with col:
            st.subheader(FORM_TITLES[f])
            st.graphviz_chart(block_dot(f, C, d, channels))
            st.metric("Parameters", si(r["params"]), exact(r["params"]), delta_color="off", delta_arrow="off",
                      help="convs and BN; equal in every form")
            st.metric(METRICS[metric()].name, si(count(r["macs"]), unit()), exact(count(r["macs"])), delta_color="off",
                      delta_arrow="off", help=f"{METRICS[metric()].meaning}; per image")
            st.metric("Convolutions", exact(r["convs"]), help="separate conv layers the framework launches")
            if f != "c":
                st.metric("Largest |out − out(c)|", f"{r['max_abs_diff_float32']:.1e}",
                          f"float64: {r['max_abs_diff_float64']:.1e}", delta_color="off", delta_arrow="off",
                          help="in float32 (float64 below): rounding in another order of additions")
    st.success(f"Same function: outputs reach {report['output_max_abs']:.3g} in magnitude, and forms (a) and (b) "
               f"differ from (c) by at most {report['worst_float32']:.1e} in float32 and {report['worst_float64']:.1e} "
               f"in float64 ({report['mode']} "
               "mode) — rounding in a different order of additions, nothing more. Same parameters, same "
               f"{unit()}.", icon=":material/check:")


def same_work_not_same_speed(C: int, d: int, channels: int, size: int) -> None:  # noqa: N803
    """The three forms timed, interleaved, with verdicts against (c), and where each one's time goes."""
    st.header("Same work, not the same speed")
    from explorer.measure.policies import FIG3_FORMS, FIG3_LAYER_TIMES

    st.markdown("Form (a) runs 3·C small convolutions, (b) 2·C + 1, (c) three. Timed here on one block, interleaved "
                "(c a b c a b …), until each form's time relative to (c) is known "
                f"{FIG3_FORMS.target()} or the time limit.")
    settings = measure_settings()
    if settings is not None:
        from explorer.measure.equivalence import equivalence, time_forms

        key = (C, d, channels, size, settings)
        timing = FIG3_FORMS.apply(settings)
        timed = work.button("Measure the three forms", "fig3.measure", "fig3.latency", key, lambda p, stop: equivalence(
            C, d, channels, size, timing=timing, progress=p, should_stop=stop), type="primary",
            icon=":material/timer:")
        if timed is not None and timed.ratios:
            ratio = {"a": timed.ratios[0], "b": timed.ratios[1]}
            st.dataframe(pd.DataFrame([{
                "Form": FORM_TITLES[f], "Median ms": round(timed.form(f).latency.median_ms, 3),
                "p10–p90 ms": f"{timed.form(f).latency.p10_ms:.3g}–{timed.form(f).latency.p90_ms:.3g}",
                "× form (c) (CI, its confidence)": "1 (reference)" if f == "c" else
                f"{ratio[f].median:.3g} ({ratio[f].low:.3g}–{ratio[f].high:.3g}; {ratio[f].level()})",
                "Convolutions": timed.form(f).convs,
            } for f in FORMS]), hide_index=True)
            for f in "ab":
                st.markdown(f"- Form ({f}) takes {ratio[f].phrase()}, with the same {unit()}.")
            st.caption(f"{timed.subject}, on {timing.where()}.")

        st.subheader("Where the time goes, form by form")
        profiles = work.button("Time every layer of each form", "fig3.layers", "fig3.layer_times", key,
                               lambda p, stop: time_forms(C, d, channels, size,
                                                          settings=FIG3_LAYER_TIMES.apply(settings),
                                                          progress=p, should_stop=stop),
                               icon=":material/timer:",
                               help="hooks around every module of the three blocks, interleaved; a few seconds")
        if profiles:
            _layer_times(profiles)


def whole_network() -> None:
    """resnext50_32x4d in forms a, b and c, compared end to end."""
    st.header("The whole network")
    st.markdown("resnext50_32x4d built in form (c) with random weights, then converted to (a) and (b): 16 blocks, up to "
                "1,541 convolutions. The outputs of all three are compared.")
    f = FIG3.fields["net_size"]
    c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
    c1.segmented_control(f.label, f.choices, key=FIG3.key("net_size"), required=True, help=f.help,
                         format_func=lambda v: f"{v}×{v}", persist_state="session")
    net_size = int(FIG3.get("net_size"))
    with c2:
        net = work.button("Check resnext50_32x4d in forms a, b, c", "fig3.network", "fig3.network", net_size,
                          lambda p, stop: _network(net_size, p, stop), icon=":material/fact_check:")
    if net is not None:
        st.dataframe(pd.DataFrame([{
            "Form": FORM_TITLES[r.form], "Parameters": r.params, METRICS[metric()].unit: count(r.macs),
            "Convolutions": r.convs, "Largest |Δ|, float32": f"{r.max_abs_diff_float32:.2e}",
            "Largest |Δ|, float64": f"{r.max_abs_diff_float64:.2e}",
        } for r in net.forms]), hide_index=True, column_config={
            "Parameters": st.column_config.NumberColumn(format="localized"),
            METRICS[metric()].unit: st.column_config.NumberColumn(format="localized")})
        st.caption(f"Outputs (logits) reach {net.output_max_abs:.3g}; input 3×{net_size}×{net_size}, batch "
                   f"{net.batch_size}, {net.mode} mode.")


FIG3.init()
header("Fig. 3 lab", "fig3", "One ResNeXt block, three forms: the same function, checked live — and timed.")
links.show_problems()
st.markdown(
    "The ResNeXt paper (arXiv 1611.05431, Fig. 3) draws one block three ways: **(a)** C parallel paths, each "
    "1×1 → 3×3 → 1×1, summed; **(b)** the paths stop after the 3×3, are concatenated, and one 1×1 follows; **(c)** "
    "a single grouped 3×3 convolution with C groups. They are the *same function*: BN and ReLU act channel by "
    "channel, and a 1×1 over all C·d channels is the sum of C 1×1s over d channels each. Below, form (c) gets random "
    "weights and non-trivial BN statistics, (a) and (b) are made from it by slicing the very same tensors, and all "
    "three run on one random input.")
problem, (C, d, channels, size, train) = block_inputs()
report = checked(C, d, channels, size, train) if problem is None else None
if report is not None:
    same_function(report, C, d, channels)
    same_work_not_same_speed(C, d, channels, size)
whole_network()
st.info("**Fig. 4: why only blocks of depth ≥ 3.** In a two-layer (basic) block the grouping has nothing to be "
        "equivalent to: grouping both 3×3 convs just gives a wide, dense module. The reformulation is non-trivial "
        "only when a 1×1 sits on each side of the grouped 3×3 — the bottleneck.", icon=":material/school:")
