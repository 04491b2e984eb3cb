"""Shareable links: an ArchSpec as readable URL query parameters, and back.

A link names a preset and lists only the fields that differ from it, e.g.
``?preset=resnet50&downsample_on=1x1`` or ``?preset=resnet18&depths=3,3,3&widths=32,64,128``.
Everything read from a URL is validated like any other user input: a tampered link gives a
``SpecError`` that names the parameter, never a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .presets import get_preset, list_presets
from .spec import ArchSpec, SpecError

MAX_VALUE_CHARS = 200
_LISTS = ("depths", "widths", "strides", "input_size")
_INTS = ("expansion", "cardinality", "base_width", "stem_width", "num_classes")
_STRS = ("name", "block", "form", "stem", "downsample_on", "shortcut")
SPEC_KEYS = ("preset", *_STRS, *_INTS, *_LISTS)


def _encode(value: Any) -> str:
    return ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)


def spec_to_params(spec: ArchSpec, base: str | None = None) -> dict[str, str]:
    """Query parameters for a spec: a preset name plus the fields that differ from it."""
    names = list_presets()
    base = base if base in names else next((n for n in names if get_preset(n) == spec), "resnet50")
    reference = get_preset(base).to_dict()
    params = {"preset": base}
    for key, value in spec.to_dict().items():
        if value != reference[key]:
            params[key] = _encode(value)
    return params


def _int(text: str, key: str) -> int:
    text = text.strip()
    if not text.isdigit() or len(text) > 9:  # isdigit rejects signs, dots, spaces, exponents
        raise SpecError(f"{key}: link parameter must be a positive whole number, got {text[:20]!r}")
    return int(text)


def params_to_spec(params: Mapping[str, Any]) -> ArchSpec | None:
    """The spec a link describes, or ``None`` if it names none; raises ``SpecError`` on tampered values."""
    if not any(k in params for k in SPEC_KEYS):
        return None
    values: dict[str, str] = {}
    for key in SPEC_KEYS:
        if key not in params:
            continue
        value = params[key]
        if isinstance(value, (list, tuple)):  # a parameter given twice: the last one wins, as in browsers
            value = value[-1] if value else ""
        value = str(value)
        if len(value) > MAX_VALUE_CHARS:
            raise SpecError(f"{key}: link parameter too long ({len(value)} characters; at most {MAX_VALUE_CHARS})")
        values[key] = value
    data = get_preset(values.pop("preset", "resnet50")).to_dict()
    for key, value in values.items():
        if key in _LISTS:
            data[key] = [_int(v, key) for v in value.split(",")] if value else []
        elif key in _INTS:
            data[key] = _int(value, key)
        else:
            data[key] = value
    # A hand-written link that changes the block or stem gets that block's or stem's defaults.
    if "block" in values and "expansion" not in values:
        data["expansion"] = None
    for key in ("stem_width", "input_size"):
        if "stem" in values and key not in values:
            data[key] = None
    return ArchSpec.from_dict(data)

