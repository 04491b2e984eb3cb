"""Analyses → pandas tables for the app and its CSV downloads. Pure functions, no Streamlit.

Headers are the human ones of :mod:`explorer.core.vocab` (with the unit where it is not a plain count); cells
hold exact integers (the app shows them with separators), text where a value does not apply is "—"
rather than None, and yes/no rather than True/False.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..core.analysis import Analysis, Rollup
from ..core.plan import OPS
from ..costs.comparison import Comparison
from ..costs.training import GPU_MEMORY, TrainCost, budget_from_gb, max_batch_size
from ..core.vocab import COLUMNS, METRICS, binary, ms_range, multiply_adds, shape

NA = "—"
# Rows whose names are unique module paths (a block's ReLU module is applied two or three times).
_UNIQUE_TYPES = tuple(t for t, info in OPS.items() if info.module and not info.shared)


def _unit(metric: str) -> str:
    return METRICS[metric].unit


def _opt(value: int | None) -> str:
    return NA if value is None else str(value)


def layers_frame(analysis: Analysis, metric: str = "macs") -> pd.DataFrame:
    """One row per layer in forward order; ``metric`` picks MACs or FLOPs (= 2 × MACs)."""
    rows = analysis.layers
    return pd.DataFrame({
        COLUMNS["stage"]: [r.stage for r in rows],
        COLUMNS["block"]: [r.block for r in rows],
        COLUMNS["name"]: [r.name for r in rows],
        COLUMNS["kind"]: [r.kind for r in rows],
        COLUMNS["in_shape"]: [shape(r.in_shape) for r in rows],
        COLUMNS["out_shape"]: [shape(r.out_shape) for r in rows],
        COLUMNS["kernel"]: [_opt(r.kernel) for r in rows],
        COLUMNS["stride"]: [_opt(r.stride) for r in rows],
        COLUMNS["groups"]: [_opt(r.groups) for r in rows],
        COLUMNS["params"]: [r.params for r in rows],
        _unit(metric): [multiply_adds(r.macs, metric) for r in rows],
        COLUMNS["output_elements"]: [r.output_elements for r in rows],
        COLUMNS["activations"]: [r.activations for r in rows],
        COLUMNS["other_ops"]: [r.other_ops for r in rows],
    })


def rollup_frame(rollups: Sequence[Rollup], metric: str = "macs", level: str = "Stage") -> pd.DataFrame:
    """Per stage or per block totals, with each one's share of the network."""
    params = [r.params for r in rollups]
    macs = [multiply_adds(r.macs, metric) for r in rollups]
    total_p, total_m = sum(params) or 1, sum(macs) or 1
    unit = _unit(metric)
    return pd.DataFrame({
        level: [r.name for r in rollups],
        COLUMNS["out_shape"]: [shape(r.out_shape) for r in rollups],
        COLUMNS["params"]: params,
        "% params": [round(100 * p / total_p, 2) for p in params],
        unit: macs,
        f"% {unit}": [round(100 * m / total_m, 2) for m in macs],
        COLUMNS["activations"]: [r.activations for r in rollups],
        COLUMNS["other_ops"]: [r.other_ops for r in rollups],
    })


def kinds_frame(analysis: Analysis, metric: str = "macs") -> pd.DataFrame:
    """Totals per kind of layer (dense 1×1 conv, grouped 3×3 conv, BN, …), with each one's share."""
    kinds = analysis.by_kind()
    total = multiply_adds(analysis.macs, metric) or 1
    unit = _unit(metric)
    return pd.DataFrame({
        COLUMNS["kind"]: list(kinds),
        "Layers": [v["count"] for v in kinds.values()],
        COLUMNS["params"]: [v["params"] for v in kinds.values()],
        unit: [multiply_adds(v["macs"], metric) for v in kinds.values()],
        f"% {unit}": [round(100 * multiply_adds(v["macs"], metric) / total, 2) for v in kinds.values()],
        COLUMNS["activations"]: [v["activations"] for v in kinds.values()],
    })


def compare_frame(c: Comparison, metric: str = "macs") -> pd.DataFrame:
    """Totals of several configurations with differences and ratios against the first."""
    unit = _unit(metric)
    rows = []
    for i, a in enumerate(c.analyses):
        ratio_p, ratio_m, ratio_a = (c.ratio(a, k) for k in ("params", "macs", "activations"))
        rows.append({
            COLUMNS["config"]: f"{i + 1}. {a.name}",
            COLUMNS["input"]: shape(a.input_size),
            COLUMNS["params"]: a.params,
            "Δ parameters": c.delta(a, "params"),
            "× parameters": round(ratio_p, 4) if ratio_p is not None else None,
            unit: multiply_adds(a.macs, metric),
            f"Δ {unit}": multiply_adds(c.delta(a, "macs"), metric),
            f"× {unit}": round(ratio_m, 4) if ratio_m is not None else None,
            COLUMNS["activations"]: a.activations,
            "× activations": round(ratio_a, 4) if ratio_a is not None else None,
        })
    return pd.DataFrame(rows)


def stage_compare_frame(c: Comparison, metric: str = "macs") -> pd.DataFrame:
    """Long format: one row per (configuration, stage), for grouped bar charts and CSV."""
    return pd.DataFrame([
        {COLUMNS["config"]: f"{i + 1}. {a.name}", COLUMNS["stage"]: s.name, COLUMNS["params"]: s.params,
         _unit(metric): multiply_adds(s.macs, metric), COLUMNS["activations"]: s.activations}
        for i, a in enumerate(c.analyses) for s in a.stages
    ])


def kind_compare_frame(c: Comparison, metric: str = "macs") -> pd.DataFrame:
    """Per kind of layer, one column of MACs (or FLOPs) per configuration: where the work goes in each."""
    unit = _unit(metric)
    kinds: dict[str, None] = {}
    for a in c.analyses:
        kinds.update(dict.fromkeys(k for k, v in a.by_kind().items() if v["macs"] or v["params"]))
    out = pd.DataFrame({COLUMNS["kind"]: list(kinds)})
    for i, a in enumerate(c.analyses):
        by = a.by_kind()
        out[f"{unit} · {i + 1}. {a.name}"] = [multiply_adds(by.get(k, {}).get("macs", 0), metric) for k in kinds]
        out[f"Parameters · {i + 1}. {a.name}"] = [by.get(k, {}).get("params", 0) for k in kinds]
    return out


def layer_diff_frame(base: Analysis, other: Analysis, metric: str = "macs") -> pd.DataFrame:
    """Per-layer differences, joined on module name; a layer only one side has shows "—" on the other."""
    unit = _unit(metric)

    def side(a: Analysis) -> dict[str, tuple[str, str, int, int]]:
        return {r.name: (r.kind, shape(r.out_shape), r.params, multiply_adds(r.macs, metric))
                for r in a.layers if r.type in _UNIQUE_TYPES}

    a_rows, b_rows = side(base), side(other)
    names = list(dict.fromkeys([*a_rows, *b_rows]))  # forward order of A, then what only B has
    rows = []
    for name in names:
        a, b = a_rows.get(name), b_rows.get(name)
        kind = (a or b)[0]
        rows.append({
            COLUMNS["name"]: name, COLUMNS["kind"]: kind,
            "Output shape A": a[1] if a else NA, "Output shape B": b[1] if b else NA,
            "Parameters A": a[2] if a else None, "Parameters B": b[2] if b else None,
            "Δ parameters": (b[2] if b else 0) - (a[2] if a else 0),
            f"{unit} A": a[3] if a else None, f"{unit} B": b[3] if b else None,
            f"Δ {unit}": (b[3] if b else 0) - (a[3] if a else 0),
        })
    frame = pd.DataFrame(rows)
    for col in ("Parameters A", "Parameters B", f"{unit} A", f"{unit} B"):
        frame[col] = frame[col].astype("Int64")  # whole numbers; a layer only one side has is empty, not "None"
    return frame


# --- training: exact costs (explorer.costs.training) and measured steps ---------------------------------------
def train_stages_frame(cost: TrainCost, metric: str = "macs") -> pd.DataFrame:
    """One row per stage of a training step: what autograd saves, the forward and backward work, the weights."""
    unit = _unit(metric)
    return pd.DataFrame([{
        "Stage": s, "Saved activations (bytes)": v["saved_bytes"],
        f"Forward {unit}": multiply_adds(v["forward_macs"], metric),
        f"Backward {unit}": multiply_adds(v["backward_input_macs"] + v["backward_weight_macs"], metric),
        "Parameters (bytes)": v["param_bytes"],
    } for s, v in cost.by_stage().items()])


def gpu_batches_frame(cost: TrainCost) -> pd.DataFrame:
    """The largest batch of ``cost``'s network and setting for each common GPU memory size."""
    return pd.DataFrame([{"GPU memory": label, "Largest batch": _largest_batch(cost, size)}
                         for label, size in GPU_MEMORY])


def train_compare_frame(costs: Sequence[TrainCost], budget_gb: float, metric: str = "macs") -> pd.DataFrame:
    """One row per configuration: its step's work and memory, exact, and its largest batch in ``budget_gb`` GB."""
    unit, budget = _unit(metric), budget_from_gb(budget_gb)
    return pd.DataFrame([{
        COLUMNS["config"]: c.spec.name, f"Forward {unit}": multiply_adds(c.forward_macs, metric),
        f"Backward {unit}": multiply_adds(c.backward_macs, metric),
        "Parameters + gradients (bytes)": c.param_bytes + c.grad_bytes, "Optimizer state (bytes)": c.optimizer_bytes,
        "Saved activations (bytes)": c.saved_activation_bytes, "Peak estimate (bytes)": c.peak.total,
        "Peak": binary(c.peak.total), f"Largest batch in {budget_gb:g} GB": _largest_batch(c, budget),
    } for c in costs])


def _largest_batch(cost: TrainCost, budget: int) -> int:
    return max_batch_size(cost.spec, budget, input_size=cost.input_size, precision=cost.precision,
                          optimizer=cost.optimizer)


def train_steps_frame(results: Sequence[Any]) -> pd.DataFrame:
    """One row per measured training step (``LatencyResult``s of ``measure_train_step``): median, spread, rate."""
    return pd.DataFrame([{COLUMNS["config"]: r.name, "Median step ms": round(r.median_ms, 2),
                          "p10–p90": ms_range(r.p10_ms, r.p90_ms), "Images/s": round(r.throughput, 1),
                          "Steps": r.runs} for r in results])


# --- measured figures: whole networks and layer by layer (results of measure.latency and measure.layer_time) ---
def latency_frame(results: Sequence[Any], ratios: Sequence[Any]) -> pd.DataFrame:
    """One row per configuration of an interleaved measurement: its times, and its time against the first as the
    median of the per-round ratios with the interval (``explorer.measure.latency.paired_ratios``)."""
    return pd.DataFrame([{
        COLUMNS["config"]: r.name, "Median ms": round(r.median_ms, 3), "p10 ms": round(r.p10_ms, 3),
        "p90 ms": round(r.p90_ms, 3), "Runs": r.runs, "Images/s": round(r.throughput, 1),
        "× the first (CI, its confidence)": "1 (baseline)" if i == 0 else
        f"{ratios[i - 1].median:.3g} ({ratios[i - 1].low:.3g}–{ratios[i - 1].high:.3g}; {ratios[i - 1].level()})",
    } for i, r in enumerate(results)])


def layer_times_frame(profile: Any) -> pd.DataFrame:
    """One row per timed layer of a ``LayerProfile``, in forward order: its time and share, its MACs and share,
    the rate it reached and its roofline bound (GMAC/s = 10^9 MACs per second), intensity and bytes moved."""
    return pd.DataFrame([{
        COLUMNS["name"]: r.name, COLUMNS["kind"]: r.kind, "Median ms": round(r.median_ms, 4),
        "% time": round(100 * r.share, 2), COLUMNS["macs"]: r.macs, "% MACs": round(100 * r.mac_share, 2),
        "GMAC/s": round(r.achieved_macs_per_s / 1e9, 2), "Roofline bound GMAC/s": round(r.bound_macs_per_s / 1e9, 2),
        "MACs per byte": round(r.intensity, 2), "Bytes moved": r.bytes,
    } for r in profile.layers])


def kind_times_frame(profiles: Sequence[Any]) -> pd.DataFrame:
    """Per kind of layer, the profiles side by side (numbered as in the comparison): each one's ms, % of its time
    and GMAC/s; empty where a profile has no layer of that kind, or the kind does no multiply-adds."""
    kinds = list(dict.fromkeys(g.name for p in profiles for g in p.groups("kind")))
    out = pd.DataFrame({COLUMNS["kind"]: kinds})
    for i, p in enumerate(profiles):
        by, name = {g.name: g for g in p.groups("kind")}, f"{i + 1}. {p.name}"
        for column, value in (("ms", lambda g: round(g.median_ms, 3)), ("% time", lambda g: round(100 * g.share, 1)),
                              ("GMAC/s", lambda g: round(g.achieved_macs_per_s / 1e9, 1) if g.macs else None)):
            out[f"{column} · {name}"] = pd.array([value(by[k]) if k in by else None for k in kinds], dtype="Float64")
    return out


def to_csv(frame: pd.DataFrame) -> str:
    """A table as CSV for a download, its text cells shown as text in a spreadsheet too: a cell that starts with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (what a spreadsheet reads as a formula) gets a leading
    apostrophe, the usual guard; numbers stay numbers."""
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(lambda v: f"'{v}" if isinstance(v, str) and v[:1] in _FORMULA else v)
    return safe.to_csv(index=False)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")

__all__ = [
    "NA", "compare_frame", "kind_compare_frame", "kind_times_frame", "kinds_frame", "latency_frame",
    "layer_diff_frame", "layer_times_frame", "layers_frame", "rollup_frame", "stage_compare_frame", "to_csv",
]
