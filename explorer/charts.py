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


def cardinality_chart(choices: Sequence[object], target_params: int) -> go.Figure:
    """Table 2: template-block params (bars) and MACs (line) against C at matched complexity."""
    labels = [f"{w.cardinality}×{w.d}d" for w in choices]
    fig = go.Figure()
    fig.add_bar(x=labels, y=[w.params for w in choices], name="parameters",
                hovertemplate="%{x}<br>%{y:,} parameters<extra></extra>")
    fig.add_scatter(x=labels, y=[w.macs for w in choices], name="MACs", yaxis="y2", mode="lines+markers",
                    hovertemplate="%{x}<br>%{y:,} MACs<extra></extra>")
    fig.add_hline(y=target_params, line_dash="dot", annotation_text=f"target {target_params:,}")
    fig.update_layout(
        title="Template block at matched complexity: cardinality C × width d",
        xaxis_title="C × d (cardinality × width per path)", yaxis_title="parameters (convs)",
        yaxis2={"title": "MACs (multiply-accumulates)", "overlaying": "y", "side": "right", "rangemode": "tozero"},
        yaxis={"rangemode": "tozero"}, legend={"orientation": "h", "y": -0.25}, height=380, margin={"t": 60},
    )
    return fig


def table3_chart(rows: Sequence[dict], depth: int, latency_ms: Sequence[float] | None = None) -> go.Figure:
    """Table 3: the paper's top-1 error at each C×d, with our MACs (and measured latency) on hover."""
    labels = [f"{r['C']}×{r['d']}d" for r in rows]
    extra = [f"{ms:,.1f} ms" for ms in latency_ms] if latency_ms else ["not measured"] * len(rows)
    fig = go.Figure(
        go.Scatter(
            x=labels, y=[r["top-1 error % (paper)"] for r in rows], mode="lines+markers+text",
            text=[f"{r['top-1 error % (paper)']}" for r in rows], textposition="top center", name="top-1 error",
            customdata=[[r["params"], r["macs"], e] for r, e in zip(rows, extra)],
            hovertemplate="%{x}<br>top-1 error %{y}% (paper)<br>%{customdata[0]:,} parameters<br>"
            "%{customdata[1]:,} MACs<br>latency %{customdata[2]}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"ResNeXt-{depth}: more cardinality at about the same cost (ResNeXt Table 3)",
        xaxis_title="C × d (cardinality × width per path)", yaxis_title="ImageNet top-1 error, % (paper)",
        height=380, margin={"t": 60},
    )
    return fig


def latency_bars(names: Sequence[str], results: Sequence[object], title: str) -> go.Figure:
    """Median latency per configuration with p10–p90 whiskers (ms)."""
    med = [r.median_ms for r in results]
    fig = go.Figure(
        go.Bar(
            x=list(names), y=med,
            error_y={"type": "data", "symmetric": False, "array": [r.p90_ms - r.median_ms for r in results],
                     "arrayminus": [r.median_ms - r.p10_ms for r in results]},
            customdata=[[r.p10_ms, r.p90_ms, r.runs] for r in results],
            hovertemplate="%{x}<br>median %{y:,.2f} ms<br>p10 %{customdata[0]:,.2f} ms · p90 %{customdata[1]:,.2f} ms"
            "<br>%{customdata[2]} runs<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis_title="configuration", yaxis_title="latency per forward pass (ms)",
                      height=360, margin={"t": 60})
    return fig


def latency_histogram(result: object) -> go.Figure:
    """Distribution of the per-run times of one measurement, median and p10/p90 marked."""
    fig = go.Figure(go.Histogram(x=list(result.times_ms), nbinsx=30, name="runs",
                                 hovertemplate="%{x} ms<br>%{y} runs<extra></extra>"))
    for value, label in ((result.p10_ms, "p10"), (result.median_ms, "median"), (result.p90_ms, "p90")):
        fig.add_vline(x=value, line_dash="dot" if label != "median" else "solid",
                      annotation_text=f"{label} {value:,.2f} ms")
    fig.update_layout(
        title=f"{result.runs} timed runs — {result.name}, batch {result.batch_size}, {result.dtype}, {result.device}",
        xaxis_title="latency per forward pass (ms)", yaxis_title="runs", height=340, margin={"t": 60},
        showlegend=False,
    )
    return fig


def sweep_chart(sweep: object) -> go.Figure:
    """Throughput (images/s) and latency against batch size."""
    rs = sweep.results
    fig = go.Figure()
    fig.add_scatter(x=[r.batch_size for r in rs], y=[r.throughput for r in rs], mode="lines+markers",
                    name="throughput", customdata=[[r.median_ms] for r in rs],
                    hovertemplate="batch %{x}<br>%{y:,.1f} images/s<br>median %{customdata[0]:,.2f} ms"
                    "<extra></extra>")
    fig.update_layout(
        title=f"Throughput vs batch size — {rs[0].name if rs else ''} on {rs[0].device if rs else ''}",
        xaxis={"title": "batch size", "type": "log"}, yaxis={"title": "throughput (images/s)", "rangemode": "tozero"},
        height=360, margin={"t": 60},
    )
    return fig


def macs_vs_latency(analyses: Sequence[Analysis], results: Sequence[object], metric: str = "macs") -> go.Figure:
    """Side by side, relative to the first configuration: MACs (or FLOPs) and measured latency."""
    base_a, base_r = analyses[0], results[0]
    names = [f"{i + 1}. {a.name}" for i, a in enumerate(analyses)]
    unit = "MACs" if metric == "macs" else "FLOPs"
    fig = go.Figure()
    fig.add_bar(x=names, y=[a.macs / base_a.macs for a in analyses], name=f"{unit} (relative)",
                customdata=[[getattr(a, metric)] for a in analyses],
                hovertemplate="%{x}<br>%{y:.3f}× the first<br>%{customdata[0]:,} " + unit + "<extra></extra>")
    fig.add_bar(x=names, y=[r.median_ms / base_r.median_ms for r in results], name="latency (relative)",
                customdata=[[r.median_ms, r.p10_ms, r.p90_ms] for r in results],
                hovertemplate="%{x}<br>%{y:.3f}× the first<br>median %{customdata[0]:,.2f} ms "
                "(p10 %{customdata[1]:,.2f}, p90 %{customdata[2]:,.2f})<extra></extra>")
    fig.add_hline(y=1, line_dash="dot")
    fig.update_layout(
        barmode="group", title=f"{unit} are not speed: both relative to {analyses[0].name}",
        xaxis_title="configuration", yaxis_title="× the first configuration", height=380, margin={"t": 60},
    )
    return fig
