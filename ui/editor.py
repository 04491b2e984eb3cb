"""The architecture editor: one widget per spec field, labelled, bounded and explained by ``SPEC_FIELDS``.

Every change runs ``explorer.core.spec.edit_draft`` on the draft (so the fields that follow a change follow it,
exactly as in ``ArchSpec.edit`` and in links) and writes the result back into the widgets. Number boxes
carry no bounds of their own: a typed value out of range stays visible and gets a message under the
field, in the words on screen, instead of being silently refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from explorer import ArchSpec, SpecError, get_preset, list_presets
from explorer.core.bounds import MAX_SPEC_BYTES, SPEC_FILE_LIMIT, check_work
from explorer.core.fields import label_of
from explorer.core.spec import MAX_STAGES, SPEC_FIELDS, edit_draft
from explorer.core.vocab import md_text

from .state import (DRAFT, PRESET_BOX, STAGE_FIELDS, draft, list_value, load_spec, set_draft, valid_spec,
                    widget_key)

F = SPEC_FIELDS


def _change(name: str) -> None:
    """A widget of field ``name`` changed: apply it to the draft with the one edit rule."""
    ss = st.session_state
    before = ss[DRAFT]
    if name in STAGE_FIELDS:
        value: Any = list_value(ss.get(widget_key(name)) or "")
    elif name == "input_size":
        value = [_whole(ss.get(widget_key(name, i))) for i in range(3)]
    else:
        value = _whole(ss.get(widget_key(name)))
    set_draft(edit_draft(before, valid_spec(), name, value))  # an invalid entry changes no other field


def _whole(value: Any) -> Any:
    """A number box's value as the spec takes it: 64.0 → 64; 2.5 stays 2.5, so the field's check says "must be an
    integer, got float 2.5" instead of the box rounding it to 2 unseen."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


FROM_BOX, FROM_ERROR = "build.from", "build.from_error"


def _start_from() -> None:
    """Read a torchvision or timm ResNet into the editor (built without weights: nothing is downloaded)."""
    from explorer.build.from_model import spec_from_name

    ss = st.session_state
    source = (ss.get(FROM_BOX) or "").strip()
    ss[FROM_ERROR] = None
    if not source:
        return
    try:
        load_spec(spec_from_name(source))
    except SpecError as e:
        ss[FROM_ERROR] = e.reason


def _choose_preset() -> None:
    name = st.session_state.get(PRESET_BOX)
    if name in list_presets():
        load_spec(get_preset(name))


def number(name: str, label: str | None = None, index: int | None = None, **kwargs: Any) -> None:
    f = F[name]
    # A float box (step 1.0): an integer box rounds 2.5 to 2 and marks a 20-digit value with a bare "!" in the
    # browser, before the app sees either; here the value arrives as typed and the field's check names it.
    st.number_input(label or f.label, key=widget_key(name, index), step=1.0, format="%g", on_change=_change,
                    args=(name,), help=f"{f.help} ({f.bounds_text()})", **kwargs)


def choice(name: str, widget: Callable = st.segmented_control, **kwargs: Any) -> None:
    f = F[name]
    extra = {"required": True} if widget is st.segmented_control else {}
    widget(f.label, f.choices, key=widget_key(name), format_func=f.choice_label, on_change=_change, args=(name,),
           help=f.help, **extra, **kwargs)


def message(error: SpecError | None, *names: str) -> None:
    """The validation message, under the widgets of the field it names, in the field's visible label."""
    if error is None or (error.field or "").split("[")[0] not in names:
        return
    st.error(f"**{md_text(label_of(error.field, F))}** — {md_text(error.reason)}", icon=":material/error:")


def editor(error: SpecError | None) -> None:
    """The whole editor; ``error`` is the draft's validation error, shown beside its field."""
    data = draft()
    bottleneck = data.get("block") == "bottleneck"
    st.selectbox("Preset", list_presets(), key=PRESET_BOX, on_change=_choose_preset, index=None,
                 placeholder="edited — pick a preset to start over",
                 help="Loads every field from a preset; then edit freely. The name follows: an edited preset "
                 "takes the name of the preset it becomes, or is marked as edited.")
    st.text_input("Start from a model", key=FROM_BOX, on_change=_start_from, max_chars=120,
                  placeholder="timm:resnet50d or torchvision:resnext50_32x4d",
                  help="A torchvision or timm ResNet, read back into every field from its modules (built without "
                  "weights: nothing is downloaded or run). timm's ResNet and ResNetV2 variants and torchvision's ten "
                  "ResNets are read; anything else is refused with what was met.")
    if st.session_state.get(FROM_ERROR):
        st.error(f"**Start from a model** — {md_text(st.session_state[FROM_ERROR])}", icon=":material/error:")
    st.text_input(F["name"].label, key=widget_key("name"), on_change=_change, args=("name",), max_chars=100,
                  help=F["name"].help)
    message(error, "name")
    choice("block")
    message(error, "block", "expansion")
    for name, label in (("depths", "Depths"), ("widths", "Widths"), ("strides", "Strides")):
        f = F[name]
        st.text_input(f"{label} — one per stage", key=widget_key(name), on_change=_change, args=(name,),
                      max_chars=200, help=f"{f.help}; whole numbers from {f.low:g} to {f.high:g}, separated by "
                      f"commas. Another number of depths adds or removes stages (1 to {MAX_STAGES}): the widths and "
                      "strides follow, a new stage twice as wide as the last, with stride 2.")
        message(error, name)
    with st.container(key="build_editor"):  # number boxes without +/- steppers: room for five digits
        c1, c2 = st.columns(2)
        with c1:
            number("cardinality", disabled=not bottleneck)
        with c2:
            number("base_width", disabled=not bottleneck)
        message(error, "cardinality", "base_width")
        c1, c2 = st.columns(2)
        with c1:
            number("expansion", disabled=not bottleneck)
        with c2:
            choice("downsample_on", disabled=not bottleneck)
        message(error, "downsample_on")
    choice("form", st.selectbox, disabled=not bottleneck)
    message(error, "form")
    choice("shortcut", st.selectbox)
    message(error, "shortcut")
    choice("stem", st.selectbox)
    with st.container(key="build_editor_2"):
        c1, c2 = st.columns(2)
        with c1:
            number("stem_width")
        with c2:
            number("num_classes")
        message(error, "stem", "stem_width", "num_classes")
        st.caption(f"{F['input_size'].label} — {F['input_size'].help}")
        c1, c2, c3 = st.columns(3)
        for col, i, text in ((c1, 0, "Channels"), (c2, 1, "Height"), (c3, 2, "Width")):
            with col:
                number("input_size", text, i)
        message(error, "input_size", "spec")
    variants(data, error)


VARIANTS = ("stem_pool", "order", "attention", "se_reduction", "se_divisor", "norm", "aa", "zero_init", "layout")


def variants(data: dict[str, Any], error: SpecError | None) -> None:
    """The knobs of the variants practitioners compare (timm's ResNet-D, SE, ECA, ResNetV2, GN, anti-aliasing),
    folded away until a spec uses one: each one's help says what it changes and why people use it."""
    defaults = ArchSpec(stem=data.get("stem") if data.get("stem") in F["stem"].choices else "imagenet").to_dict()
    used = [k for k in VARIANTS if k in data and data[k] != defaults[k]]
    label = "Variants" + (f" — {', '.join(F[k].label for k in used)}" if used else
                          " — stem pool, pre-activation, SE / ECA, group norm, anti-aliasing")
    with st.expander(label, expanded=bool(used)):
        c1, c2 = st.columns(2)
        with c1:
            choice("stem_pool", st.selectbox)
        with c2:
            choice("order", st.selectbox)
        c1, c2 = st.columns(2)
        with c1:
            choice("attention", st.selectbox)
        with c2:
            choice("norm", st.selectbox)
        with st.container(key="build_editor_3"):
            c1, c2 = st.columns(2)
            se = data.get("attention") == "se"
            with c1:
                number("se_reduction", disabled=not se)
            with c2:
                number("se_divisor", disabled=not se or data.get("layout") == "senet")
        for name in ("aa", "zero_init"):
            st.toggle(F[name].label, key=widget_key(name), on_change=_change, args=(name,), help=F[name].help)
        choice("layout")
        message(error, *VARIANTS)


def load_upload(file: Any) -> str | None:
    """Load an uploaded spec file into the editor; returns the refusal in words, or None if it loaded.

    Checked here rather than by the uploader, so every refusal (type, size, content) gets a message.
    """
    name = getattr(file, "name", "the file")
    if not name.lower().endswith(".json"):
        return f"{md_text(name)}: a spec file is JSON (a .json file); this one is not"
    data = file.getvalue()
    if len(data) > MAX_SPEC_BYTES:
        return (f"{md_text(name)}: {len(data) / 2**20:.1f} MiB; a spec file is a small JSON object of at most "
                f"{SPEC_FILE_LIMIT}")
    try:
        spec = ArchSpec.from_json(data)
        check_work(spec)  # refused with its reason here, not loaded into an editor that then refuses it
        load_spec(spec)
    except SpecError as e:
        return f"{md_text(name)}: **{md_text(label_of(e.field, F))}** — {md_text(e.reason)}"
    return None
