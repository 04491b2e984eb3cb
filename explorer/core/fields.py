"""One description of every value a person can give: type, bounds, the label they see and its help.

The spec's validation, the app's widgets (bounds, labels, help), the link parser and the CLI all read
these ``Field`` objects, so a limit or a label is written once. Error messages carry the field's key
(``"widths[1]"``); :func:`label_of` turns it into what the person saw (``"Width · stage 2"``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SpecError

MAX_VALUE_CHARS = 200  # longer text in a link or a CLI argument is refused before it is parsed
# Characters a text field refuses: control characters (NUL, newline, tab, escape, …: Cc), lone surrogates (Cs,
# which no encoding can write), line and paragraph separators (Zl, Zp) and the bidirectional overrides that
# make text read differently from what it holds.
_REFUSED_CATEGORIES = {"Cc": "a control character", "Cs": "a lone surrogate", "Zl": "a line separator",
                       "Zp": "a paragraph separator"}
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class Field:
    """One input.

    Attributes:
        key: the name in a spec, a link or a settings object (``"base_width"``).
        label: what a person sees next to the widget (``"Width d"``).
        help: one line saying what it means.
        low, high: inclusive bounds of a number (or of each element of a list).
        choices: the allowed strings of a choice; ``choice_labels`` what a person sees for each.
        kind: ``"int"``, ``"float"``, ``"choice"``, ``"text"``, ``"bool"`` or ``"ints"`` (a list of ints).
        per_stage: a list with one value per stage (its elements are labelled "· stage i").
    """

    key: str
    label: str
    help: str = ""
    kind: str = "int"
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    choice_labels: tuple[str, ...] = ()
    per_stage: bool = False

    def choice_label(self, value: str) -> str:
        """What a person sees for one of the choices."""
        labels = dict(zip(self.choices, self.choice_labels or self.choices))
        return labels.get(value, str(value))

    def bounds_text(self) -> str:
        """'a whole number from 1 to 1000', 'one of basic, bottleneck', … (for messages and help)."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "text":
            return f"text of {self.low:g} to {self.high:g} characters"
        what = "a number" if self.kind == "float" else "a whole number"
        return f"{what} from {_num(self.low)} to {_num(self.high)}"

    def check(self, value: Any, key: str | None = None) -> Any:
        """``value`` if it is valid for this field, else a ``SpecError`` naming ``key`` (default: the field)."""
        key = key or self.key
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise SpecError(key, f"must be {self.bounds_text()}; got {describe(value)}")
            return value
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise SpecError(key, f"must be true or false; got {describe(value)}")
            return value
        if self.kind == "text":
            if not isinstance(value, str):
                raise SpecError(key, f"must be a string, got {describe(value)}")
            if not self.low <= len(value) <= self.high:
                raise SpecError(key, f"must be {self.low:g} to {self.high:g} characters, got {len(value)}")
            check_printable(value, key)
            return value
        if self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise SpecError(key, f"must be a number, got {describe(value)}")
        else:
            check_whole(value, key)
        if not self.low <= value <= self.high:
            raise SpecError(key, f"must be between {_num(self.low)} and {_num(self.high)}, got {_num(value)}")
        return value

    def check_list(self, value: Any, length: int | None = None) -> tuple[int, ...]:
        """A list of valid elements (each named ``key[i]`` in a message)."""
        if not isinstance(value, (list, tuple)):
            raise SpecError(self.key, f"must be a list of integers, got {describe(value)}")
        for i, v in enumerate(value):
            self.check(v, f"{self.key}[{i}]")
        if length is not None and len(value) != length:
            raise SpecError(self.key, f"needs one value per stage ({length} stages), got {len(value)}")
        return tuple(value)

    def parse(self, text: str) -> Any:
        """A value typed as text (a link parameter, a CLI argument), checked; lists are comma-separated."""
        if self.kind != "text":  # text is kept exactly (a name may end in a space); numbers and choices are not
            text = text.strip()
        if len(text) > MAX_VALUE_CHARS:
            raise SpecError(self.key, f"too long ({len(text)} characters; at most {MAX_VALUE_CHARS})")
        if self.kind in ("choice", "text"):
            return self.check(text)
        if self.kind == "bool":
            if text.lower() not in ("1", "0", "true", "false", "on", "off"):
                raise SpecError(self.key, f"must be true or false, got {text[:20]!r}")
            return text.lower() in ("1", "true", "on")
        if self.kind == "ints":
            return tuple(_parse_number(v, self.key, integer=True) for v in text.split(",")) if text else ()
        return self.check(_parse_number(text, self.key, integer=self.kind == "int"))


def _num(x: float) -> str:
    """A bound or value in a message: integers as they are typed (16384; a huge one cut short), others short (0.5)."""
    if isinstance(x, int):
        if x.bit_length() > 64:  # str() of a huge integer is slow, and refused over 4,300 digits
            return _short(x, 0)
        return str(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else f"{x:g}"


def _parse_number(text: str, key: str, integer: bool) -> float:
    text = text.strip()
    pattern = r"\d{1,12}" if integer else r"\d{1,12}(\.\d{1,9})?"
    if not re.fullmatch(pattern, text):  # no signs, spaces, exponents or words
        raise SpecError(key, f"must be a {'whole' if integer else 'positive'} number, got {text[:20]!r}")
    return int(text) if integer else float(text)


def check_printable(text: str, key: str) -> str:
    """``text`` if every character can be shown and written as it is, else a ``SpecError`` naming ``key``, the
    character's position and its code point (``U+D800``)."""
    for i, ch in enumerate(text):
        what = _REFUSED_CATEGORIES.get(unicodedata.category(ch)) or (
            "a bidirectional control" if ch in _BIDI_CONTROLS else None)
        if what:
            raise SpecError(key, f"must be printable text; character {i + 1} is {what} (U+{ord(ch):04X})")
    return text


def describe(value: Any) -> str:
    """A short, safe rendering of a bad value for a message: never fails (huge integers, deep nesting,
    surrogates) and never longer than about 60 characters; non-ASCII characters are escaped."""
    text = _short(value, 3)
    return f"{type(value).__name__} {text[:40]}{'…' if len(text) > 40 else ''}"


def _short(value: Any, depth: int) -> str:
    """``ascii(value)``, but digits of a huge integer counted, containers cut at ``depth`` levels and 5 items."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"{'-' if value < 0 else ''}<a {int(value.bit_length() * math.log10(2)) + 1}-digit integer>"
    if isinstance(value, (list, tuple, dict)):
        if depth == 0:
            return "[…]" if isinstance(value, list) else "(…)" if isinstance(value, tuple) else "{…}"
        items = list(value.items() if isinstance(value, dict) else value)
        parts = [f"{_short(k, 0)}: {_short(v, depth - 1)}" if isinstance(value, dict) else _short(v, depth - 1)
                 for k, v in ((i if isinstance(value, dict) else (None, i)) for i in items[:5])]
        if len(items) > 5:
            parts.append("…")
        inner = ", ".join(parts)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})" if isinstance(value, tuple) else f"{{{inner}}}"
    if isinstance(value, str):
        return ascii(value[:60])
    if isinstance(value, (bool, float, type(None), int)):
        return repr(value)
    return f"<{type(value).__name__}>"


def check_whole(value: Any, key: str) -> int:
    """An integer (not a bool, not a float such as 64.0, a sign of a wrong file), or a ``SpecError``."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            raise SpecError(key, f"must be a whole number without a decimal point, got {value!r}")
        raise SpecError(key, f"must be an integer, got {describe(value)}")
    return value


def label_of(key: str | None, fields: Mapping[str, Field]) -> str:
    """The label a person sees for an error's field key: ``"widths[1]"`` → ``"Width · stage 2"``."""
    if not key:
        return ""
    m = re.fullmatch(r"(\w+)\[(\d+)\]", key)
    base, index = (m.group(1), int(m.group(2))) if m else (key, None)
    f = fields.get(base)
    if f is None:
        return key
    if index is None:
        return f.label
    if f.per_stage:
        return f"{f.label} · stage {index + 1}"
    return f"{f.label} [{index}]"


__all__ = ["Field", "MAX_VALUE_CHARS", "check_printable", "check_whole", "describe", "label_of"]
