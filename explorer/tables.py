"""Analysis → pandas tables for the app, the CSV downloads and the CLI. Pure functions, no Streamlit."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .analysis import Analysis, Rollup
from .vocab import shape

METRICS = ("params", "macs", "flops")
METRIC_LABELS = {
    "params": "parameters",
    "macs": "MACs (multiply-accumulates)",
    "flops": "FLOPs (= 2 × MACs)",
    "activations": "activations (output elements)",
    "other_ops": "other ops (BN, ReLU, pool, add)",
}
# Rows whose names are unique module paths (a block's ReLU module is applied two or three times).
_UNIQUE_TYPES = ("conv", "bn", "linear", "maxpool", "avgpool", "shortcut_a")


def check_metric(metric: str) -> str:
    if metric not in ("macs", "flops"):
        raise ValueError(f"metric: must be 'macs' or 'flops', got {metric!r}")
    return metric


def layers_frame(analysis: Analysis, metric: str = "macs") -> pd.DataFrame:
    """One row per layer in forward order; ``metric`` picks MACs or FLOPs (= 2 × MACs)."""
    factor = 2 if check_metric(metric) == "flops" else 1
    return pd.DataFrame(
        {
            "stage": [r.stage for r in analysis.layers],
            "block": [r.block for r in analysis.layers],
            "name": [r.name for r in analysis.layers],
            "type": [r.type for r in analysis.layers],
            "in_shape": [shape(r.in_shape) for r in analysis.layers],
            "out_shape": [shape(r.out_shape) for r in analysis.layers],
            "kernel": pd.array([r.kernel for r in analysis.layers], dtype="Int64"),
            "stride": pd.array([r.stride for r in analysis.layers], dtype="Int64"),
            "groups": pd.array([r.groups for r in analysis.layers], dtype="Int64"),
            "params": [r.params for r in analysis.layers],
            metric: [factor * r.macs for r in analysis.layers],
            "activations": [r.activations for r in analysis.layers],
            "other_ops": [r.other_ops for r in analysis.layers],
        }
    )


def rollup_frame(rollups: Sequence[Rollup], metric: str = "macs") -> pd.DataFrame:
    """Per stage or per block totals, with each one's share of the network."""
    factor = 2 if check_metric(metric) == "flops" else 1
    params = [r.params for r in rollups]
    macs = [factor * r.macs for r in rollups]
    total_p, total_m = sum(params) or 1, sum(macs) or 1
    return pd.DataFrame(
        {
            "name": [r.name for r in rollups],
            "out_shape": [shape(r.out_shape) for r in rollups],
            "params": params,
            "params_%": [round(100 * p / total_p, 2) for p in params],
            metric: macs,
            f"{metric}_%": [round(100 * m / total_m, 2) for m in macs],
            "activations": [r.activations for r in rollups],
            "other_ops": [r.other_ops for r in rollups],
        }
    )


def compare_frame(analyses: Sequence[Analysis], metric: str = "macs") -> pd.DataFrame:
    """Totals of several configurations with absolute and relative deltas against the first."""
    factor = 2 if check_metric(metric) == "flops" else 1
    base = analyses[0]
    rows = []
    for a in analyses:
        rows.append(
            {
                "name": a.name,
                "input": shape(a.input_size),
                "params": a.params,
                "Δ params": a.params - base.params,
                "params ×": round(a.params / base.params, 4),
                metric: factor * a.macs,
                f"Δ {metric}": factor * (a.macs - base.macs),
                f"{metric} ×": round(a.macs / base.macs, 4) if base.macs else None,
                "activations": a.activations,
                "activations ×": round(a.activations / base.activations, 4) if base.activations else None,
            }
        )
    return pd.DataFrame(rows)


def stage_compare_frame(analyses: Sequence[Analysis], metric: str = "macs") -> pd.DataFrame:
    """Long format: one row per (configuration, stage), for grouped bar charts and CSV."""
    factor = 2 if check_metric(metric) == "flops" else 1
    return pd.DataFrame(
        [
            {"config": f"{i + 1}. {a.name}", "stage": s.name, "params": s.params, metric: factor * s.macs,
             "activations": s.activations}
            for i, a in enumerate(analyses)
            for s in a.stages
        ]
    )


def layer_diff_frame(base: Analysis, other: Analysis, metric: str = "macs") -> pd.DataFrame:
    """Per-layer differences, joined on module name (layers present in only one side show as missing)."""
    factor = 2 if check_metric(metric) == "flops" else 1

    def side(a: Analysis) -> pd.DataFrame:
        rows = [r for r in a.layers if r.type in _UNIQUE_TYPES]
        return pd.DataFrame(
            {
                "name": [r.name for r in rows],
                "type": [r.type for r in rows],
                "out_shape": [shape(r.out_shape) for r in rows],
                "params": [r.params for r in rows],
                metric: [factor * r.macs for r in rows],
            }
        )

    merged = side(base).merge(side(other), on="name", how="outer", suffixes=(" A", " B"), sort=False)
    merged["type"] = merged["type A"].fillna(merged["type B"])
    for col in ("params", metric):
        merged[f"{col} A"] = merged[f"{col} A"].astype("Int64")
        merged[f"{col} B"] = merged[f"{col} B"].astype("Int64")
        merged[f"Δ {col}"] = merged[f"{col} B"].fillna(0) - merged[f"{col} A"].fillna(0)
    order = base.layers + other.layers
    position = {}
    for i, r in enumerate(order):
        position.setdefault(r.name, i)
    merged["_pos"] = merged["name"].map(position)
    merged = merged.sort_values("_pos", kind="stable").drop(columns=["_pos", "type A", "type B"])
    cols = ["name", "type", "out_shape A", "out_shape B", "params A", "params B", "Δ params",
            f"{metric} A", f"{metric} B", f"Δ {metric}"]
    return merged[cols].reset_index(drop=True)


def ratio_sentence(base: Analysis, other: Analysis) -> str:
    """One sentence a learner can quote: 'X has 1.03× the MACs and 0.98× the parameters of Y'."""
    return (
        f"{other.name} has {other.macs / base.macs:.3g}× the MACs and {other.params / base.params:.3g}× the "
        f"parameters of {base.name} ({other.activations / base.activations:.3g}× the activations)."
    )


def speed_sentence(base: Analysis, other: Analysis, base_ms: float, other_ms: float, where: str) -> str:
    """'X has 1.03× the MACs of Y and takes 1.4× as long on this CPU (…)'."""
    return (
        f"{other.name} has {other.macs / base.macs:.3g}× the MACs of {base.name} and takes "
        f"{other_ms / base_ms:.3g}× as long {where}."
    )
