"""Plotly figures for the app: every chart has a title, axis labels with units and exact hover values."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from .analysis import Analysis, Rollup
from .tables import METRIC_LABELS



def _hover(metric: str) -> str:
    unit = {"params": "parameters", "macs": "MACs", "flops": "FLOPs"}.get(metric, "elements")
    return "%{x}<br>%{y:,} " + unit + "<extra>%{fullData.name}</extra>"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _values(rollups: Sequence[Rollup], metric: str) -> list[int]:
    return [getattr(r, metric) for r in rollups]


def rollup_bars(analysis: Analysis, metric: str, level: str = "stages") -> go.Figure:
    """Bar chart of one metric (params, macs, flops, activations) per stage or per block."""
    rollups = analysis.stages if level == "stages" else analysis.blocks
    label = METRIC_LABELS[metric]
    fig = go.Figure(
        go.Bar(
            x=[r.name for r in rollups], y=_values(rollups, metric), name=analysis.name,
            hovertemplate=_hover(metric),
        )
    )
    fig.update_layout(
        title=f"{_cap(label)} per {level[:-1]} — {analysis.name}",
        xaxis_title=level[:-1], yaxis_title=label, margin={"t": 60, "b": 40}, height=360,
    )
    return fig


def compare_bars(analyses: Sequence[Analysis], metric: str) -> go.Figure:
    """Grouped bars: one metric per stage, one bar per configuration."""
    label = METRIC_LABELS[metric]
    fig = go.Figure()
    for i, a in enumerate(analyses):
        fig.add_bar(
            x=[s.name for s in a.stages], y=_values(a.stages, metric), name=f"{i + 1}. {a.name}",
            hovertemplate=_hover(metric),
        )
    fig.update_layout(
        barmode="group", title=f"{_cap(label)} per stage", xaxis_title="stage", yaxis_title=label,
        legend_title="configuration", margin={"t": 60, "b": 40}, height=380,
    )
    return fig
