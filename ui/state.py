"""Session state: page settings described by fields, and the Build page's draft architecture.

A page's settings (the Fig. 3 lab's C and d, the Build page's view, the measurement device…) are a
``PageState``: fields from the library's schema plus defaults. Their session keys are ``"<page>.<key>"``,
which are also the widgets' keys, and the same fields parse link parameters — one description per value.

The Build page edits a *draft*: a spec dict that may be invalid while the person types. Every change goes
through ``explorer.core.spec.edit_data`` (the one rule for derived fields); ``valid_spec`` is the last draft that
validated, which every page reads as "the Build page's architecture".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from explorer import ArchSpec, SpecError, get_preset
from explorer.core.bounds import check_work
from explorer.core.fields import Field
from explorer.present.links import DEFAULT_PRESET, encode
from explorer.core.presets import preset_of
from explorer.core.spec import SPEC_FIELDS
from explorer.core.vocab import MULTIPLY_ADD_METRICS


@dataclass(frozen=True)
class PageState:
    """Settings of one page (or one group shared by pages), each a field with a default."""

    page: str
    fields: Mapping[str, Field]
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def key(self, name: str) -> str:
        return f"{self.page}.{name}"

    def init(self) -> None:
        """Put the defaults into session state (widgets then take their values from there)."""
        for name, value in self.defaults.items():
            st.session_state.setdefault(self.key(name), value)

    def get(self, name: str) -> Any:
        return st.session_state.get(self.key(name), self.defaults.get(name))

    def values(self) -> dict[str, Any]:
        return {name: self.get(name) for name in self.fields}

    def check(self) -> SpecError | None:
        """The first invalid setting (as its field names it), or None."""
        for name, f in self.fields.items():
            value = self.get(name)
            if value is None and self.defaults.get(name) is None:
                continue
            try:
                f.check(value)
            except SpecError as e:
                return e
        return None

    def apply(self, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            if name in self.fields:
                st.session_state[self.key(name)] = value

    def params(self) -> dict[str, str]:
        """Link parameters for the settings that differ from their defaults."""
        return {name: encode(self.get(name)) for name in self.fields
                if self.get(name) != self.defaults.get(name) and self.get(name) is not None}


# --- the MACs/FLOPs switch: one choice for every page -----------------------------------------------
METRIC = PageState("app", {"metric": Field("metric", "Count multiply-adds as", "MACs (the papers' 'FLOPs') or "
                                           "FLOPs = 2 × MACs", "choice", choices=MULTIPLY_ADD_METRICS,
                                           choice_labels=("MACs", "FLOPs"))}, {"metric": "macs"})


def metric() -> str:
    """'macs' or 'flops', as chosen by the switch at the top of every page."""
    return METRIC.get("metric") if METRIC.get("metric") in MULTIPLY_ADD_METRICS else "macs"


# --- the Build page's draft -------------------------------------------------------------------------
DRAFT = "build.draft"  # the spec dict the editor shows (may be invalid)
VALID = "build.valid"  # the last valid spec, as JSON
PRESET_BOX = "build.preset"
STAGE_FIELDS = ("depths", "widths", "strides")  # one text box each: "3, 4, 6, 3"
LIST_FIELDS = (*STAGE_FIELDS, "input_size")


def widget_key(name: str, index: int | None = None) -> str:
    """The editor widget of a spec field (``build.cardinality``) or of one element (``build.widths.1``)."""
    return f"build.{name}" if index is None else f"build.{name}.{index}"


def draft() -> dict[str, Any]:
    if DRAFT not in st.session_state:
        load_spec(get_preset(DEFAULT_PRESET))
    return st.session_state[DRAFT]


def load_spec(spec: ArchSpec) -> None:
    """Show a whole spec in the editor (a preset, an upload, a link)."""
    set_draft(spec.to_dict())


def set_draft(data: dict[str, Any]) -> None:
    """Make ``data`` the draft: its values go into the editor's widgets; a valid one becomes the Build spec.

    Call from a callback or before the editor's widgets are drawn in a run (Streamlit's rule for widgets).
    """
    st.session_state[DRAFT] = data
    spec, _ = validate(data)
    if spec is not None:
        st.session_state[VALID] = spec.to_json()
    _show(data, preset_of(spec) if spec is not None else None)


def _show(data: dict[str, Any], preset: str | None) -> None:
    """Write the draft into the editor's widget keys, only where they differ (a write is a change to send)."""
    ss = st.session_state
    values: dict[str, Any] = {PRESET_BOX: preset}
    for name, value in data.items():
        if name in STAGE_FIELDS:
            values[widget_key(name)] = list_text(value)
        elif name == "input_size" and isinstance(value, (list, tuple)):
            values.update({widget_key(name, i): v for i, v in enumerate(value)})
        else:
            values[widget_key(name)] = value
    for key, value in values.items():
        if key not in ss or ss[key] != value:
            ss[key] = value


def list_text(value: Any) -> str:
    """A per-stage list as its text box shows it: '3, 4, 6, 3' (a value that is not a list, as typed)."""
    return ", ".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)


def list_value(text: str) -> list[Any]:
    """What a per-stage text box says: numbers where they are (``-128`` and ``2.5`` too, so the field's own check
    names the stage and says what is wrong), the typed words where they are not ("Depth · stage 2 — must be an
    integer, got str '²'"). Only ASCII digits are numbers: ``'²'.isdigit()`` is true but ``int('²')`` fails."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    return [_number(p) for p in parts]


def _number(part: str) -> Any:
    if re.fullmatch(r"[+-]?[0-9]{1,12}", part):
        return int(part)
    if re.fullmatch(r"[+-]?[0-9]{1,12}\.[0-9]{1,9}", part):
        return float(part)
    return part


def validate(data: dict[str, Any]) -> tuple[ArchSpec | None, SpecError | None]:
    try:
        spec = ArchSpec.from_dict(data)
        check_work(spec)  # an architecture too big to analyse is refused here, beside its field, not by a page
        return spec, None
    except SpecError as e:
        return None, e


def valid_spec() -> ArchSpec:
    """The Build page's architecture: its last valid draft."""
    draft()
    return ArchSpec.from_json(st.session_state[VALID])


def sync_widgets() -> None:
    """Before the editor is drawn: its widgets show the draft. (After a visit to another page Streamlit may have
    dropped the widgets' state, or kept an older value; the draft is the truth.)"""
    data = draft()
    spec, _ = validate(data)
    _show(data, preset_of(spec) if spec is not None else None)


__all__ = [
    "DRAFT", "METRIC", "PRESET_BOX", "SPEC_FIELDS", "STAGE_FIELDS", "VALID", "list_text", "list_value", "PageState", "draft", "load_spec", "metric",
    "set_draft", "sync_widgets", "valid_spec", "validate", "widget_key",
]
