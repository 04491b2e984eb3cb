"""Cached library calls. Tables and figures are pure functions of (spec, metric), kept process-wide and bounded by
the bytes they hold (``explorer.core.bounds.sized_cache``: the same object is handed to every session; nothing mutates
it), so a few large architectures under new names cannot fill the server's memory. Built models are Streamlit
resources (bounded too); nothing here imports torch until a page asks for a model."""

from __future__ import annotations

import gc
import sys
from typing import Any

import streamlit as st

from explorer import ArchSpec, analyze
from explorer.core.bounds import ANALYSIS_ROW_BYTES, deep_size, sized_cache
from explorer.costs.comparison import Comparison

TABLE_BYTES = 32 * 2**20  # each of the frame and Arrow caches; ResNet-50's layer table is 30 KB
FIGURE_BYTES = 16 * 2**20
COMPARISON_BYTES = 64 * 2**20


def _figure_bytes(fig: Any) -> int:
    """About what a figure holds: its traces' points (a few hundred bytes each with labels) and the layout."""
    points = sum(len(getattr(t, axis, None) or ()) for t in fig.data for axis in ("x", "y"))
    return 20_000 + 200 * points


def _comparison_bytes(c: Comparison) -> int:
    return sum(len(a.layers) for a in c.analyses) * ANALYSIS_ROW_BYTES


@sized_cache(TABLE_BYTES, deep_size)
def table(name: str, spec: ArchSpec, metric: str, input_size: tuple[int, int, int] | None = None) -> Any:
    """A table of ``explorer.present.tables`` (``layers``, ``stages``, ``blocks``, ``kinds``) for one spec, as a pandas
    DataFrame (for CSV and filtering)."""
    from explorer.present import tables

    a = analyze(spec, input_size)
    if name == "layers":
        return tables.layers_frame(a, metric)
    if name == "kinds":
        return tables.kinds_frame(a, metric)
    return tables.rollup_frame(a.stages if name == "stages" else a.blocks, metric,
                               "Stage" if name == "stages" else "Block")


@sized_cache(TABLE_BYTES, deep_size)
def arrow(name: str, spec: ArchSpec, metric: str) -> Any:
    """The same table as Arrow, converted once: ``st.dataframe`` then sends it without converting it again on
    every rerun."""
    import pyarrow as pa

    return pa.Table.from_pandas(table(name, spec, metric), preserve_index=False)


@sized_cache(FIGURE_BYTES, _figure_bytes)
def figure(name: str, spec: ArchSpec, key: str, level: str = "stages") -> Any:
    """A figure of ``explorer.present.charts`` for one spec (``rollup``: one count per stage or block)."""
    from explorer.present import charts

    if name == "rollup":
        return charts.rollup_bars(analyze(spec), key, level)
    raise ValueError(f"figure: unknown {name!r}")


@sized_cache(COMPARISON_BYTES, _comparison_bytes)
def comparison(specs: tuple[ArchSpec, ...], input_sizes: tuple[Any, ...]) -> Comparison:
    return Comparison(tuple(analyze(s, size) for s, size in zip(specs, input_sizes)))


@sized_cache(TABLE_BYTES, deep_size)
def compare_table(name: str, c: Comparison, metric: str) -> Any:
    from explorer.present import tables

    return {"totals": tables.compare_frame, "stages": tables.stage_compare_frame,
            "kinds": tables.kind_compare_frame}[name](c, metric)


@sized_cache(FIGURE_BYTES, _figure_bytes)
def compare_figure(c: Comparison, key: str) -> Any:
    from explorer.present import charts

    return charts.compare_bars(c, key)


@st.cache_resource(max_entries=2, show_spinner="Building the model…")
def model(spec_json: str, device: str = "cpu") -> Any:
    """The built model, shared by every session (at most two kept). Never mutate what this returns: the
    measurements copy a model before converting it."""
    from explorer import build_model

    return build_model(ArchSpec.from_json(spec_json), device).eval()


@st.cache_data(max_entries=16, show_spinner="Tracing with fvcore…")
def fvcore_profile(spec_json: str, input_size: tuple[int, int, int]) -> dict[str, Any]:
    from explorer import profile

    return profile(ArchSpec.from_json(spec_json), input_size).to_dict()


@st.cache_data(max_entries=4, show_spinner="Exporting to ONNX…")
def onnx_bytes(spec_json: str) -> bytes:
    from explorer.build.export import onnx_bytes

    return onnx_bytes(ArchSpec.from_json(spec_json))


_frozen_modules = 0  # len(sys.modules) at the last freeze


def freeze_loaded() -> None:
    """Keep what the server has loaded (torch, plotly, pandas and their modules) out of the garbage collector's
    full passes. Without this, a full pass over that heap ran on nearly every edit and took 60–150 ms of it on a
    2-core machine (seen with ``gc.callbacks``). After one full collection, ``gc.freeze`` moves every object
    still alive to a generation the collector never scans again. It runs only when more modules were imported
    since the last time (a few times per process), so it never costs an edit in steady state."""
    global _frozen_modules
    if len(sys.modules) > _frozen_modules + 20:
        gc.collect()
        gc.freeze()
        _frozen_modules = len(sys.modules)
