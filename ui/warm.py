"""The heavy imports, started in a background thread when the server runs its first script, and a message where a
page still waits for one.

PyTorch takes 8–19 s to import on a busy machine, pandas 2–3 s. Streamlit has no hook at server start, so the first
script run of the process (the first page anyone opens, usually Home) starts one daemon thread that imports them in
the order the pages need them; by the time someone opens Build or a measurement they are usually loaded. Where a
page needs one that is not loaded yet, :func:`need` says what is loading, and why it takes a while, until it is.
"""

from __future__ import annotations

import importlib
import os
import threading

import streamlit as st

# (module, what a person is told is loading), in the order the pages need them: Build's tables, charts, then the
# measurements (torch and the library modules that import it).
HEAVY: tuple[tuple[str, str], ...] = (
    ("pandas", "the table library (pandas)"),
    ("pyarrow", "the table library (pandas)"),
    ("plotly.graph_objects", "the chart library (plotly)"),
    ("torch", "PyTorch"),
    ("explorer.measure.latency", "the measurement code"),
    ("explorer.measure.layer_time", "the measurement code"),
)
LIBRARIES = ("pandas", "pyarrow", "plotly.graph_objects")  # what every page draws with
TORCH = ("torch", "explorer.measure.latency")  # what a measurement view needs before it can draw its settings

ENV = "EXPLORER_WARM_IMPORTS"  # "0": no background thread; each page imports what it needs when it needs it
_done = {name: threading.Event() for name, _ in HEAVY}
_lock = threading.Lock()
_thread: threading.Thread | None = None


def _load_all() -> None:
    for name, _ in HEAVY:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a page importing it later shows the real error where it matters
            pass
        finally:
            _done[name].set()


def start() -> None:
    """Start the background imports (once per process; every later call returns at once).

    numpy is imported here first, in the caller's thread: libraries (plotly) look it up in ``sys.modules``
    without importing it, and must never find it half-initialized by the background thread. For the same
    reason every page waits for :data:`LIBRARIES` (``need``) before it draws; only torch and the measurement
    code load while pages run, and nothing looks torch up without importing it.
    """
    global _thread
    with _lock:
        if _thread is None and os.environ.get(ENV, "1") != "0":
            import numpy  # noqa: F401

            _thread = threading.Thread(target=_load_all, name="explorer-warm-imports", daemon=True)
            _thread.start()


def loaded(*names: str) -> bool:
    """Whether the background imports of ``names`` have finished."""
    return all(_done[n].is_set() for n in names)


def need(*names: str, why: str = "") -> None:
    """Wait for the imports of ``names`` under a message that says what is loading (nothing is shown when they are
    already loaded, which is the usual case). ``why`` says what the page needs them for."""
    start()
    missing = [n for n in names if not _done[n].is_set()]
    if not missing:
        return
    what = " and ".join(dict.fromkeys(dict(HEAVY)[n] for n in missing))
    text = (f"Loading {what}{' ' + why if why else ''} — once after the server starts; it can take 10–20 s on a "
            "busy machine…")
    with st.spinner(text, show_time=True):
        for n in missing:
            if _thread is None:  # no background thread (EXPLORER_WARM_IMPORTS=0): import it here
                importlib.import_module(n)
                _done[n].set()
            _done[n].wait()


__all__ = ["ENV", "HEAVY", "LIBRARIES", "TORCH", "loaded", "need", "start"]
