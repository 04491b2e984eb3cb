"""Plotly figures of the lab (pure functions of the results): the paper's Fig. 6 layout, gradient norms on a log
axis, Fig. 7's responses, the lesion study. Errors in percent; a band is the seeds' range around their mean."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..present.charts import LEGEND, LEGEND_TOP, TITLE_AT_TOP
from .spread import Spread

_HEIGHT = 400
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#e377c2")
_FRAME = {"height": _HEIGHT, "margin": {"t": LEGEND_TOP, "b": 40, "l": 60, "r": 20}, "legend": LEGEND, **TITLE_AT_TOP}
_TITLES = {"plain": "plain networks", "residual": "residual networks (ResNets)"}


def _band(fig: go.Figure, xs: Sequence[int], spreads: Sequence[Spread], color: str, name: str, col: int,
          dash: str, width: float, show: bool) -> None:
    """A mean line with a shaded min–max band over the seeds (the band only when there are several seeds)."""
    mean = [100 * s.mean for s in spreads]
    if any(s.n > 1 for s in spreads):
        fig.add_scatter(x=[*xs, *xs[::-1]], y=[100 * s.high for s in spreads] + [100 * s.low for s in spreads][::-1],
                        fill="toself", fillcolor=color, opacity=0.15, line={"width": 0}, hoverinfo="skip",
                        showlegend=False, legendgroup=name, row=1, col=col)
    fig.add_scatter(x=list(xs), y=mean, mode="lines+markers", name=name, legendgroup=name, showlegend=show,
                    line={"color": color, "dash": dash, "width": width}, marker={"size": 4},
                    customdata=[[s.n, 100 * s.low, 100 * s.high] for s in spreads],
                    hovertemplate="epoch %{x}<br>%{y:.2f}% (mean of %{customdata[0]} seeds, "
                    "%{customdata[1]:.2f}–%{customdata[2]:.2f}%)<extra>" + name + "</extra>", row=1, col=col)


def degradation_figure(result: Any) -> go.Figure:
    """ResNet Fig. 6: training error (dashed) and test error (solid) per epoch; plain left, residual right."""
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=[_TITLES["plain"], _TITLES["residual"]],
                        horizontal_spacing=0.06)
    depths = sorted({n.depth for n in result.nets})
    for n in result.nets:
        col = 1 if n.family == "plain" else 2
        color = _COLORS[depths.index(n.depth) % len(_COLORS)]
        for which, dash, width in (("train_error", "dash", 1.5), ("test_error", "solid", 2.5)):
            curve = result.curve(n.label, which)
            if curve:
                _band(fig, list(range(1, len(curve) + 1)), curve, color,
                      f"{n.label} {'train' if which == 'train_error' else 'test'}", col, dash, width, True)
    fig.update_layout(title="Error per epoch: training (dashed) and test (solid); bands: the seeds' range",
                      height=_HEIGHT + 40, margin={"t": LEGEND_TOP + 30, "b": 40, "l": 60, "r": 20},
                      legend={**LEGEND, "y": 1.1}, **TITLE_AT_TOP)  # above the two panels' own titles
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="error (%)", rangemode="tozero", col=1)
    return fig


def gradient_figure(result: Any, kind: str = "blocks") -> go.Figure:
    """Gradient norms at initialization per layer, log axis: ``kind="blocks"`` ‖∂L/∂block output‖, ``"convs"``
    ‖∂L/∂W‖ of each conv; plain nets dashed, residual solid, one colour per depth."""
    fig = go.Figure()
    depths = sorted({f.depth for f in result.flows})
    for f in result.flows:
        points = f.blocks if kind == "blocks" else f.convs
        fig.add_scatter(x=list(range(1, len(points) + 1)), y=[v for _, v in points], mode="lines+markers",
                        name=f.label, text=[name for name, _ in points], marker={"size": 4},
                        line={"color": _COLORS[depths.index(f.depth) % len(_COLORS)],
                              "dash": "dash" if f.family == "plain" else "solid"},
                        hovertemplate="%{text}<br>%{y:.3e}<extra>" + f.label + "</extra>")
    what = "‖∂L/∂output‖ of each block" if kind == "blocks" else "‖∂L/∂W‖ of each conv's weight"
    fig.update_layout(title=f"Gradient at initialization: {what} (one batch, train mode)",
                      xaxis_title="block, input to output" if kind == "blocks" else "conv, input to output",
                      yaxis={"title": "norm (log scale)", "type": "log", "exponentformat": "power"},
                      **_FRAME)
    return fig


def response_figure(probe: Any) -> go.Figure:
    """ResNet Fig. 7 (top): the standard deviation of each 3×3 layer's response (after BN, before ReLU or
    addition) on the test images, layers in their original order; plain dashed, residual solid."""
    fig = go.Figure()
    depths = sorted({n.depth for n in probe.nets})
    for n in probe.nets:
        fig.add_scatter(x=list(range(1, len(n.responses) + 1)), y=[s.mean for _, s in n.responses],
                        error_y={"type": "data", "symmetric": False, "array": [s.high - s.mean for _, s in n.responses],
                                 "arrayminus": [s.mean - s.low for _, s in n.responses], "thickness": 1},
                        mode="lines+markers", name=n.label, text=[name for name, _ in n.responses], marker={"size": 4},
                        line={"color": _COLORS[depths.index(n.depth) % len(_COLORS)],
                              "dash": "dash" if n.family == "plain" else "solid"},
                        hovertemplate="%{text}<br>std %{y:.3g}<extra>" + n.label + "</extra>")
    fig.update_layout(title="Response std per 3×3 layer (after BN, before ReLU/addition), trained nets",
                      xaxis_title="layer index (original order)", yaxis={"title": "std", "rangemode": "tozero"},
                      **_FRAME)
    return fig


def lesion_figure(probe: Any) -> go.Figure:
    """Test error after deleting one block, per block (Veit et al. Fig. 3); the dotted lines are each net's error
    with every block; downsampling blocks are drawn as diamonds, those that cannot be deleted as crosses at 0."""
    fig = go.Figure()
    depths = sorted({n.depth for n in probe.nets})
    for n in probe.nets:
        color = _COLORS[depths.index(n.depth) % len(_COLORS)]
        dash = "dash" if n.family == "plain" else "solid"
        xs = list(range(1, len(n.blocks) + 1))
        ys = [100 * b.spread.mean if b.spread else None for b in n.blocks]
        fig.add_scatter(x=xs, y=ys, mode="lines+markers", name=n.label, text=[b.name for b in n.blocks],
                        line={"color": color, "dash": dash},
                        marker={"symbol": ["diamond" if b.downsampling else "circle" for b in n.blocks],
                                "size": [10 if b.downsampling else 5 for b in n.blocks]},
                        hovertemplate="without %{text}<br>%{y:.2f}% test error<extra>" + n.label + "</extra>")
        blocked = [(x, b) for x, b in zip(xs, n.blocks) if not b.deletable]
        if blocked:
            fig.add_scatter(x=[x for x, _ in blocked], y=[0] * len(blocked), mode="markers",
                            name=f"{n.label}: cannot be deleted", text=[b.name for _, b in blocked],
                            marker={"symbol": "x", "size": 10, "color": color},
                            hovertemplate="%{text}: downsampling, no shortcut<extra></extra>")
        if n.base_errors:
            base = 100 * Spread.of(n.base_errors).mean
            fig.add_hline(y=base, line={"color": color, "dash": "dot", "width": 1})
    fig.update_layout(title="Lesion study: test error with one block deleted (dotted: with every block)",
                      xaxis_title="deleted block, input to output",
                      yaxis={"title": "test error (%)", "rangemode": "tozero"},
                      **_FRAME)
    return fig


__all__ = ["degradation_figure", "gradient_figure", "lesion_figure", "response_figure"]
