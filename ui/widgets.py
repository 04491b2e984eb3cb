"""Small widgets every page shares: the page header (title, Share, MACs/FLOPs), headline numbers, measurement
settings next to the button they govern, and the message beside a field."""

from __future__ import annotations

from typing import Any

import streamlit as st

from explorer import Analysis, ExplorerError, SpecError
from explorer.costs.design import DESIGN_FIELDS
from explorer.core.fields import Field, label_of
from explorer.core.run_fields import BLOCK_FIELDS, SETTINGS_FIELDS, SWEEP_FIELDS
from explorer.core.spec import SPEC_FIELDS
from explorer.costs.training import TRAIN_FIELDS
from explorer.core.vocab import CONVENTION, METRICS, exact, md_text, multiply_adds, si

from .links import share
from .state import METRIC, PageState, metric

NUMBER = st.column_config.NumberColumn(format="localized")  # a table's exact counts, with thousands separators

MEASURE = PageState(
    "measure",
    {k: SETTINGS_FIELDS[k] for k in ("device", "dtype", "threads", "channels_last")},
    {"device": "cpu", "dtype": "float32", "threads": 1, "channels_last": False},
)


def header(title: str, url_path: str, caption: str | None = None) -> None:
    """Title on the left; Share and the MACs/FLOPs switch on the right (the same on every page)."""
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    left.title(md_text(title))  # titles carry names: shown as written, never as markdown
    with right, st.container(horizontal=True, horizontal_alignment="right", vertical_alignment="bottom"):
        f = METRIC.fields["metric"]
        st.segmented_control(f.label, f.choices, key=METRIC.key("metric"), format_func=f.choice_label,
                             required=True, help=f"{CONVENTION} The choice holds on every page.",
                             persist_state="session", label_visibility="collapsed")
        share(url_path)
    if caption:
        st.caption(caption)


def unit() -> str:
    """'MACs' or 'FLOPs', as the switch says."""
    return METRICS[metric()].unit


def count(macs: int) -> int:
    """A MAC count in the chosen unit."""
    return multiply_adds(macs, metric())


def headline(a: Analysis) -> None:
    """Parameters, MACs or FLOPs, activations and other ops: SI with the unit, the exact count under it."""
    m = metric()
    values = (("params", a.params, ""), (m, count(a.macs), METRICS[m].unit), ("activations", a.activations, ""),
              ("other_ops", a.other_ops, "ops"))
    for col, (key, value, unit_) in zip(st.columns(4), values):
        meaning = METRICS[key].meaning
        col.metric(METRICS[key].name, si(value, unit_), exact(value), delta_color="off", delta_arrow="off",
                   help=f"{exact(value)} {METRICS[key].unit} per image: {meaning}.")


def convention() -> None:
    st.caption(f"**Conventions.** {CONVENTION} Activations: {METRICS['activations'].meaning}. Per image (batch 1).")


# Every input the library validates, by the key its errors name (the keys never clash: tests/test_presentation.py).
LIBRARY_FIELDS: dict[str, Field] = {**SPEC_FIELDS, **SETTINGS_FIELDS, **SWEEP_FIELDS, **BLOCK_FIELDS, **TRAIN_FIELDS,
                                    **DESIGN_FIELDS}


def error_text(e: ExplorerError) -> str:
    """A library error as the person reads it: the field's visible label, then the reason."""
    if not e.field:
        return md_text(e.reason)
    label = label_of(e.field, LIBRARY_FIELDS)  # a field's label, or a resource's name such as "memory"
    return f"**{md_text(label[:1].upper() + label[1:])}** — {md_text(e.reason)}"  # a reason can quote user text


def field_message(error: SpecError | None, fields: dict[str, Field], *names: str) -> None:
    """The message of ``error`` under the widget of one of ``names``, in the label the person sees."""
    if error is None or (error.field or "").split("[")[0] not in names:
        return
    label = fields[error.field.split("[")[0]].label if error.field.split("[")[0] in fields else error.field
    st.error(f"**{md_text(label)}** — {md_text(error.reason)}", icon=":material/error:")


def number(group: PageState, name: str, **kwargs: Any) -> Any:
    """A number box for a page setting, labelled and explained by its field; no bounds of its own (a value out of
    range stays visible and gets a message from ``group.check()``)."""
    f = group.fields[name]
    return st.number_input(f.label, key=group.key(name), step=1, help=f"{f.help} ({f.bounds_text()})",
                           persist_state="session", **kwargs)


@st.cache_resource
def devices() -> dict[str, Any]:
    """Device name → its description (probed once per server; imports torch)."""
    from explorer.build.devices import available_devices

    return {d.name: d for d in available_devices()}


def measure_settings(batch: PageState | None = None, batch_key: str = "batch_size") -> Any:
    """Device, dtype, threads, channels_last (and a batch size) as widgets; returns validated ``Settings`` or
    None after showing the message beside the field."""
    from . import warm

    warm.need(*warm.TORCH, why="to measure on this machine")
    from explorer.measure.timing import Settings  # imports torch

    MEASURE.init()
    info = devices()
    if MEASURE.get("device") not in info:
        st.session_state[MEASURE.key("device")] = "cpu"
    dtypes = list(info[MEASURE.get("device")].dtypes)
    if MEASURE.get("dtype") not in dtypes:
        st.session_state[MEASURE.key("dtype")] = dtypes[0]
    f = MEASURE.fields
    cols = st.columns([3, 2, 2, 2, 2] if batch is not None else [3, 2, 2, 2], vertical_alignment="bottom")
    cols[0].selectbox(f["device"].label, list(info), key=MEASURE.key("device"), format_func=lambda d: info[d].label,
                      help=f["device"].help, persist_state="session")
    cols[1].selectbox(f["dtype"].label, dtypes, key=MEASURE.key("dtype"), help=f["dtype"].help,
                      persist_state="session")
    with cols[2]:
        number(MEASURE, "threads", disabled=MEASURE.get("device") != "cpu")
    cols[3].toggle(f["channels_last"].label, key=MEASURE.key("channels_last"), help=f["channels_last"].help,
                   persist_state="session")
    if batch is not None:
        with cols[4]:
            number(batch, batch_key)
    error = MEASURE.check() or (batch.check() if batch is not None else None)
    fields = {**MEASURE.fields, **(batch.fields if batch is not None else {})}
    field_message(error, fields, *fields)
    if error is not None:
        return None
    values = MEASURE.values()
    threads = values.pop("threads") if values["device"] == "cpu" else None
    try:
        return Settings(**values, threads=threads, **({"batch_size": batch.get(batch_key)} if batch else {}))
    except SpecError as e:
        field_message(e, fields, *fields)
        return None


__all__ = ["MEASURE", "convention", "count", "devices", "field_message", "header", "headline", "measure_settings",
           "number", "unit"]
