"""Long work (measurements) with a real progress bar, and a click elsewhere that stops it without losing it.

Streamlit stops a running script when the person interacts with the page: the next ``st`` call raises its
rerun exception. A measurement's progress callback is such a call. ``run`` catches that exception there,
tells the library to stop (its ``should_stop``), keeps the partial result the library returns, stores it,
and only then lets Streamlit rerun. The next run shows the partial result and says it was stopped.

The library asks ``should_stop`` after every timed run, but reports progress only once per round (and at most
every 0.1 s), so waiting for the exception could cost two runs and more of a large network (9.7 s for ResNet-152
at batch 8). ``should_stop`` therefore also looks at the session's pending request itself, without consuming it:
the measurement stops at the end of the run in progress.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException

from explorer import ExplorerError
from explorer.core.errors import Cancelled

from .widgets import error_text

T = TypeVar("T")
Progress = Callable[[float, str], None]
ShouldStop = Callable[[], bool]


@dataclass(frozen=True)
class Outcome:
    """What a long piece of work left: its result (None after an error), a note, and the settings it ran with."""

    key: Any
    result: Any
    note: str | None = None
    error: bool = False

    def show_note(self) -> None:
        if self.note:
            (st.error if self.error else st.info)(self.note, icon=":material/error:" if self.error
                                                  else ":material/info:")


class Interrupted:
    """Set when the person clicked elsewhere during the work; holds Streamlit's pending rerun once an ``st`` call
    raised it, and sees a request Streamlit has not acted on yet (:func:`rerun_requested`)."""

    def __init__(self) -> None:
        self.pending: RerunException | StopException | None = None
        self.requested = False

    def __call__(self) -> bool:
        if self.pending is None and not self.requested:
            self.requested = rerun_requested()
        return self.pending is not None or self.requested


def rerun_requested() -> bool:
    """Whether this session has asked for a rerun or a stop that its script has not reached yet.

    Streamlit acts on such a request at the script's next ``st`` call; this reads the same state without
    consuming it (``ScriptRequests._state``, the field Streamlit's own fast path reads), and says False where
    that state cannot be read.
    """
    try:
        from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        requests = getattr(get_script_run_ctx(suppress_warning=True), "script_requests", None)
        return getattr(requests, "_state", ScriptRequestType.CONTINUE) != ScriptRequestType.CONTINUE
    except Exception:  # noqa: BLE001 - another Streamlit version: the progress callback still catches the click
        return False


def run(label: str, work: Callable[[Progress, ShouldStop], T], store: str, key: Any) -> Outcome:
    """Run ``work(progress, should_stop)`` under a progress bar that ends at 100%, and keep what it gave.

    The ``Outcome`` goes to ``st.session_state[store]``, tagged with ``key`` (the settings it ran with, so a
    changed setting hides a stale figure). Library errors (bad input, device failures, memory refusals)
    become an outcome with the message. When the person clicked elsewhere, the partial result is stored
    first, then the rerun they asked for happens.
    """
    bar = st.progress(0.0, text=f"{label} — starting")
    stopped = Interrupted()

    def progress(fraction: float, text: str) -> None:
        if stopped.pending is not None:
            return
        try:
            bar.progress(min(max(fraction, 0.0), 1.0), text=f"{label} — {text}")
        except (RerunException, StopException) as e:  # the person clicked elsewhere: finish politely
            stopped.pending = e

    try:
        result = work(progress, stopped)
        note = "Stopped early because you clicked elsewhere; the runs made so far are kept." if stopped() else None
        outcome = Outcome(key, result, note)
    except Cancelled:
        outcome = Outcome(key, None, "Stopped before the first timed run, because you clicked elsewhere.")
    except ExplorerError as e:
        outcome = Outcome(key, None, error_text(e), error=True)
    st.session_state[_slot(store)] = outcome
    if stopped.pending is not None:
        raise stopped.pending
    bar.progress(1.0, text=f"{label} — {'done' if outcome.result is not None else 'not done'}")
    return outcome


def button(label: str, button_key: str, store: str, key: Any, work: Callable[[Progress, ShouldStop], Any],
           **button_args: Any) -> Any:
    """A button that runs ``work`` under a progress bar; then, on every run, the note of what it left for ``key``
    (stopped early, or an error). Returns the result made with ``key``, or None (not run yet, stale, or failed)."""
    if st.button(label, key=button_key, **button_args):
        run(label, work, store, key)
    outcome = shown(store, key)
    if outcome is None:
        return None
    outcome.show_note()
    return outcome.result


def shown(store: str, key: Any) -> Outcome | None:
    """The stored outcome of ``store`` if it was made with ``key``; None if there is none or it is stale."""
    outcome = latest(store)
    return outcome if outcome is not None and outcome.key == key else None


def latest(store: str) -> Outcome | None:
    """The last outcome of ``store``, whatever it was made with."""
    outcome = st.session_state.get(_slot(store))
    return outcome if isinstance(outcome, Outcome) else None


def _slot(store: str) -> str:
    """Outcomes live apart from widget keys, so a store may share its name with the button that fills it."""
    return f"outcome:{store}"


__all__ = ["Interrupted", "Outcome", "button", "latest", "rerun_requested", "run", "shown"]
