"""The residual lab's results, cached by their settings across sessions, without losing the progress bar.

A training run reports progress to a bar drawn outside it, which ``st.cache_data`` cannot replay, so the cached
function does no work: ``stored(kind, key)`` returns what was put under the frozen settings ``key`` (or raises
``Missing``: exceptions are never cached), and ``compute`` runs the library call under ``ui.work``'s bar, then
puts a finished result there. A run the person stopped is kept in the session (``ui.work``) but not cached: the
same settings would give a longer run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from . import work


class Missing(Exception):
    """Nothing is cached under these settings yet."""


@st.cache_data(max_entries=8, show_spinner=False)  # a result holds its nets' weights: a few MB each
def _stored(kind: str, key: Any, _value: Any = None) -> Any:
    if _value is None:
        raise Missing(kind)
    return _value


def stored(kind: str, key: Any) -> Any:
    """The cached result of ``kind`` for ``key``, or None."""
    try:
        return _stored(kind, key)
    except Missing:
        return None


def compute(kind: str, key: Any, fn: Callable[..., Any], progress: work.Progress, should_stop: work.ShouldStop) -> Any:
    """``fn(progress=…, should_stop=…)``; a result not stopped by the person is cached under ``key``."""
    result = fn(progress=progress, should_stop=should_stop)
    if getattr(result, "stopped_by", None) != "cancelled" and not should_stop():
        _stored(kind, key, result)
    return result


def button(label: str, kind: str, key: Any, fn: Callable[..., Any], **button_args: Any) -> Any:
    """A ``ui.work`` button for ``fn``, whose result (or the cached one for ``key``) is returned."""
    result = work.button(label, f"lab.{kind}", f"lab.{kind}", key,
                         lambda p, stop: compute(kind, key, fn, p, stop), **button_args)
    return result if result is not None else stored(kind, key)


__all__ = ["Missing", "button", "compute", "stored"]
