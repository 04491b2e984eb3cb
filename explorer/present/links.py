"""Shareable links: an ArchSpec (and any other settings) as readable URL query parameters, and back.

A link names a preset and lists only the fields that differ from it, e.g. ``?preset=resnet50&downsample_on=1x1``.
``?preset=p&k=v…`` means exactly ``get_preset(p).edit(k=v, …)`` — the fields that follow an edit (strides
after depths, expansion after block, …) follow it here too. Values are parsed by the fields' own schema
(``SPEC_FIELDS``), so a link accepts what the editor accepts. A partly bad link applies what is valid and
names each parameter it left out; nothing read from a URL is ever evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ..core.errors import SpecError
from ..core.fields import Field
from ..core.presets import get_preset, list_presets, origin_of, preset_of
from ..core.spec import SPEC_FIELDS, ArchSpec

DEFAULT_PRESET = "resnet50"
SPEC_KEYS = ("preset", *SPEC_FIELDS)


def encode(value: Any) -> str:
    """One link value: lists as comma-separated numbers, booleans as 1/0."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)


def last(value: Any) -> str:
    """A parameter given twice counts once: the last one, as in browsers."""
    if isinstance(value, (list, tuple)):
        return str(value[-1]) if value else ""
    return str(value)


def spec_to_params(spec: ArchSpec, base: str | None = None) -> dict[str, str]:
    """Query parameters for a spec: a preset name plus the fields that differ from it (the name only when
    the edit would not give it anyway), so ``params_to_spec`` gives the spec back.

    The preset is ``base`` if it is one, else the preset the spec is, else the one its name comes from.
    """
    return dict(_spec_to_params(spec, base))


@lru_cache(maxsize=256)
def _spec_to_params(spec: ArchSpec, base: str | None) -> tuple[tuple[str, str], ...]:
    base = base if base in list_presets() else preset_of(spec) or origin_of(spec.name) or DEFAULT_PRESET
    reference = get_preset(base)
    mine, theirs = spec.to_dict(), reference.to_dict()
    changes = {k: v for k, v in mine.items() if k != "name" and v != theirs[k]}
    for key in list(changes):  # leave out what follows from the rest (strides after depths, …)
        rest = {k: v for k, v in changes.items() if k != key}
        if _edit_or_none(reference, rest) == reference.edit(**changes):
            changes = rest
    params = {"preset": base, **{k: encode(v) for k, v in changes.items()}}
    if reference.edit(**changes).name != spec.name:
        params["name"] = spec.name
    return tuple(params.items())


def _edit_or_none(spec: ArchSpec, changes: dict[str, Any]) -> ArchSpec | None:
    try:
        return spec.edit(**changes)
    except SpecError:
        return None


def parse_params(params: Mapping[str, Any], fields: Mapping[str, Field]) -> tuple[dict[str, Any], list[SpecError]]:
    """The values of the parameters that ``fields`` describe, each parsed and checked by its field; the bad
    ones are left out and returned as errors naming them."""
    values: dict[str, Any] = {}
    problems: list[SpecError] = []
    for key, f in fields.items():
        if key in params:
            try:
                values[key] = f.parse(last(params[key]))
            except SpecError as e:
                problems.append(e)
    return values, problems


def params_to_spec(params: Mapping[str, Any]) -> tuple[ArchSpec | None, list[SpecError]]:
    """The spec a link describes (None if it names none) and the problems with its parameters.

    Each bad parameter is named and left out; the others are applied with ``ArchSpec.edit``. When the
    changes are valid one by one but not together, the change that breaks them is left out and named.
    """
    if not any(k in params for k in SPEC_KEYS):
        return None, []
    problems: list[SpecError] = []
    preset = last(params.get("preset", DEFAULT_PRESET))
    if preset not in list_presets():
        problems.append(SpecError("preset", f"unknown name {preset[:40]!r}; used {DEFAULT_PRESET}"))
        preset = DEFAULT_PRESET
    changes, bad = parse_params(params, SPEC_FIELDS)
    problems += bad
    base = get_preset(preset)
    while changes:
        try:
            return base.edit(**changes), problems
        except SpecError as e:
            culprit = _culprit(base, changes, e)
            problems.append(e if (e.field or "").split("[")[0] == culprit else SpecError(culprit, str(e)))
            del changes[culprit]
    return base, problems


def _culprit(base: ArchSpec, changes: dict[str, Any], error: SpecError) -> str:
    """The change to leave out: the field the error names, or the last change without which the rest is valid."""
    named = (error.field or "").split("[")[0]
    if named in changes:
        return named
    for key in reversed(list(changes)):
        try:
            base.edit(**{k: v for k, v in changes.items() if k != key})
            return key
        except SpecError:
            continue
    return next(reversed(list(changes)))


__all__ = ["DEFAULT_PRESET", "SPEC_KEYS", "encode", "last", "params_to_spec", "parse_params", "spec_to_params"]
