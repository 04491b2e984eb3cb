"""Plotly figures for the app: every chart has a title, axis labels with units (SI ticks, e.g. "1.5G"), exact
hover values, and error bars wherever a value was measured.

User text (a network's name, a title a page passes) goes through ``vocab.html_text`` before Plotly sees it:
Plotly renders ``<a href>``, ``<b>``, ``<br>`` and entities in titles, legends, tick labels and hover text, so a
name is escaped to show as it is written, never as markup."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from ..core.analysis import Analysis
from ..costs.comparison import Comparison
from ..core.vocab import METRICS, html_text, multiply_adds

_HEIGHT = 360
# A horizontal legend goes above the plot, under the title: below it, it sat on the x-axis title.
LEGEND = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0}
LEGEND_TOP = 110  # px of top margin for a title and a row or two of legend above the plot
TITLE_AT_TOP = {"title_y": 0.98, "title_yanchor": "top"}  # the title pinned to the top, clear of the legend


def _label(key: str) -> str:
    """Axis title: 'Parameters', 'MACs', 'FLOPs', 'Activations (elements)'."""
    m = METRICS[key]
    return m.name if m.unit in ("parameters", m.name) else f"{m.name} ({m.unit})"


def _value(obj: Any, key: str) -> int:
    """A count of a rollup or an analysis; FLOPs are 2 × MACs."""
    return multiply_adds(obj.macs, key) if key in ("macs", "flops") else getattr(obj, key)


def _hover(key: str) -> str:
    return "%{x}<br>%{y:,} " + METRICS[key].unit + "<extra>%{fullData.name}</extra>"


def _layout(fig: go.Figure, title: str, x: str, y: str, **extra: Any) -> go.Figure:
    fig.update_layout(title=html_text(title), xaxis_title=x,
                      yaxis={"title": y, "tickformat": "~s", "rangemode": "tozero"},
                      margin={"t": LEGEND_TOP if "legend" in extra else 60, "b": 40, "l": 60, "r": 20},
                      height=_HEIGHT, separators=".,", **extra)
    if "legend" in extra:
        fig.update_layout(**TITLE_AT_TOP)
    return fig


def rollup_bars(analysis: Analysis, key: str, level: str = "stages") -> go.Figure:
    """One count (params, macs, flops, activations) per stage or per block."""
    rollups = analysis.stages if level == "stages" else analysis.blocks
    fig = go.Figure(go.Bar(x=[r.name for r in rollups], y=[_value(r, key) for r in rollups],
                           name=html_text(analysis.name),
                           hovertemplate=_hover(key)))
    return _layout(fig, f"{METRICS[key].name} per {level[:-1]} — {analysis.name}", level[:-1], _label(key))


def compare_bars(c: Comparison, key: str) -> go.Figure:
    """Grouped bars: one count per stage, one bar per configuration."""
    fig = go.Figure()
    for i, a in enumerate(c.analyses):
        fig.add_bar(x=[s.name for s in a.stages], y=[_value(s, key) for s in a.stages],
                    name=html_text(f"{i + 1}. {a.name}"),
                    hovertemplate=_hover(key))
    return _layout(fig, f"{METRICS[key].name} per stage", "stage", _label(key), barmode="group",
                   legend=LEGEND, **TITLE_AT_TOP)


def cardinality_chart(choices: Sequence[Any], target_params: int, key: str = "macs") -> go.Figure:
    """Table 2: template-block params (bars) and MACs or FLOPs (line) against C at matched complexity."""
    labels = [f"{w.cardinality}×{w.d}d" for w in choices]
    fig = go.Figure()
    fig.add_bar(x=labels, y=[w.params for w in choices], name="parameters",
                hovertemplate="%{x}<br>%{y:,} parameters<extra></extra>")
    fig.add_scatter(x=labels, y=[multiply_adds(w.macs, key) for w in choices], name=METRICS[key].unit, yaxis="y2",
                    mode="lines+markers", hovertemplate="%{x}<br>%{y:,} " + METRICS[key].unit + "<extra></extra>")
    fig.add_hline(y=target_params, line_dash="dot", annotation_text=f"target {target_params:,}")
    return _layout(fig, "Template block at matched complexity: cardinality C × width d",
                   "C × d (cardinality × width per path)", "Parameters (convs)",
                   yaxis2={"title": _label(key), "overlaying": "y", "side": "right", "rangemode": "tozero",
                           "tickformat": "~s"}, legend=LEGEND, **TITLE_AT_TOP)


def error_chart(rows: Sequence[dict], title: str, errors: Sequence[str] = ("top-1 error %",),
                latency: Sequence[Any] | None = None, key: str = "macs") -> go.Figure:
    """A paper's top-1 errors for several networks, with our counts (and measured latency) on hover."""
    labels = [r["label"] for r in rows]
    extra = [f"{r.median_ms:,.1f} ms (p10 {r.p10_ms:,.1f}, p90 {r.p90_ms:,.1f})" for r in latency] if latency \
        else ["not measured"] * len(rows)
    fig = go.Figure()
    for err in errors:
        values = [r.get(err) for r in rows]
        fig.add_scatter(
            x=labels, y=values, mode="lines+markers+text", name=err, textposition="top center",
            text=[f"{v}" if v is not None else "" for v in values],
            customdata=[[r["params"], multiply_adds(r["macs"], key), e] for r, e in zip(rows, extra)],
            hovertemplate="%{x}<br>" + err + " %{y} (paper)<br>%{customdata[0]:,} parameters<br>%{customdata[1]:,} "
            + METRICS[key].unit + "<br>latency %{customdata[2]}<extra></extra>")
    fig.update_layout(title=html_text(title), xaxis_title="network", yaxis_title="ImageNet error, % (paper)", height=_HEIGHT,
                      margin={"t": LEGEND_TOP, "b": 40}, legend=LEGEND, **TITLE_AT_TOP)
    return fig


def latency_histogram(result: Any) -> go.Figure:
    """Distribution of the per-run times of one measurement, median and p10/p90 marked."""
    fig = go.Figure(go.Histogram(x=list(result.times_ms), nbinsx=30, name="runs",
                                 hovertemplate="%{x} ms<br>%{y} runs<extra></extra>"))
    for value, label in ((result.p10_ms, "p10"), (result.median_ms, "median"), (result.p90_ms, "p90")):
        fig.add_vline(x=value, line_dash="dot" if label != "median" else "solid",
                      annotation_text=f"{label} {value:,.2f} ms")
    fig.update_layout(
        title=html_text(f"{result.runs} timed runs — {result.name}, batch {result.batch_size}, {result.dtype}, "
                        f"{result.device}"),
        xaxis_title="latency per forward pass (ms)", yaxis_title="runs", height=_HEIGHT - 20, margin={"t": 60},
        showlegend=False)
    return fig


def sweep_chart(sweep: Any) -> go.Figure:
    """Throughput (images/s) against batch size, p10–p90 as whiskers; one tick per measured batch size."""
    rs = sweep.results
    sizes = [r.batch_size for r in rs]
    fig = go.Figure(go.Scatter(
        x=sizes, y=[r.throughput for r in rs], mode="lines+markers", name="throughput",
        error_y={"type": "data", "symmetric": False,
                 "array": [r.batch_size / (r.p10_ms / 1000) - r.throughput for r in rs],
                 "arrayminus": [r.throughput - r.batch_size / (r.p90_ms / 1000) for r in rs]},
        customdata=[[r.median_ms, r.runs] for r in rs],
        hovertemplate="batch %{x}<br>%{y:,.1f} images/s<br>median %{customdata[0]:,.2f} ms, %{customdata[1]} runs"
        "<extra></extra>"))
    fig.update_layout(
        title=html_text(f"Throughput vs batch size — {rs[0].name if rs else ''} on {rs[0].device if rs else ''}"),
        xaxis={"title": "batch size", "type": "log", "tickvals": sizes, "ticktext": [str(s) for s in sizes]},
        yaxis={"title": "throughput (images/s)", "rangemode": "tozero"}, height=_HEIGHT, margin={"t": 60})
    return fig


def ratio_chart(c: Comparison, ratios: Sequence[Any], key: str = "macs") -> go.Figure:
    """Relative to the first configuration: the counted work (exact) and the measured time (median of the paired
    rounds, with its confidence interval as whiskers)."""
    names = [html_text(f"{i + 1}. {a.name}") for i, a in enumerate(c.analyses)]
    fig = go.Figure()
    work = [c.ratio(a, "macs") for a in c.analyses]
    fig.add_bar(x=names, y=work, name=f"{METRICS[key].unit} (exact)", text=[f"{v:.3g}×" for v in work],
                textposition="outside", customdata=[[_value(a, key)] for a in c.analyses],
                hovertemplate="%{x}<br>%{y:.3f}× the first<br>%{customdata[0]:,} " + METRICS[key].unit
                + "<extra></extra>")
    lows = [1.0] + [r.low for r in ratios]
    highs = [1.0] + [r.high for r in ratios]
    meds = [1.0] + [r.median for r in ratios]
    fig.add_bar(x=names, y=meds, name="latency (measured)", text=[f"{m:.3g}×" for m in meds],
                textposition="inside", insidetextanchor="middle",
                error_y={"type": "data", "symmetric": False, "array": [h - m for h, m in zip(highs, meds)],
                         "arrayminus": [m - lo for m, lo in zip(meds, lows)]},
                customdata=[[lo, h] for lo, h in zip(lows, highs)],
                hovertemplate="%{x}<br>%{y:.3f}× the first<br>95% CI %{customdata[0]:.3f}–%{customdata[1]:.3f}×"
                "<extra></extra>")
    fig.add_hline(y=1, line_dash="dot")
    fig.update_layout(barmode="group", title=html_text(f"{METRICS[key].unit} are not speed: both relative to "
                      f"{c.base.name}"), xaxis_title="configuration",
                      yaxis={"title": "× the first configuration", "range": [0, _headroom(work + highs)]},
                      height=_HEIGHT + 20, margin={"t": LEGEND_TOP}, legend=LEGEND, **TITLE_AT_TOP)
    return fig


def _headroom(values: Sequence[float]) -> float:
    """The top of a ratio axis: room above the tallest bar (or whisker) for its label."""
    return max(max(values), 1.0) * 1.18


def relative_chart(c: Comparison, measured: Any | None = None, key: str = "macs") -> go.Figure:
    """The second configuration relative to the first: parameters, MACs (or FLOPs), activations, and the measured
    time with its confidence interval when there is a measurement (a ``Ratio``)."""
    a = c.analyses[1]
    labels = ["Parameters", METRICS[key].unit, "Activations"]
    values = [c.ratio(a, "params"), c.ratio(a, "macs"), c.ratio(a, "activations")]
    fig = go.Figure(go.Bar(x=labels, y=values, name="counted (exact)", text=[f"{v:.3g}×" for v in values],
                           textposition="outside",
                           hovertemplate="%{x}: %{y:.4f}× " + html_text(c.base.name) + "<extra></extra>"))
    if measured is not None:
        fig.add_bar(x=["Latency (measured)"], y=[measured.median], name="measured, 95% CI",
                    text=[f"{measured.median:.3g}×"], textposition="outside",
                    error_y={"type": "data", "symmetric": False, "array": [measured.high - measured.median],
                             "arrayminus": [measured.median - measured.low]},
                    hovertemplate="latency: %{y:.3f}× (CI " + f"{measured.low:.3f}–{measured.high:.3f})<extra></extra>")
    fig.add_hline(y=1, line_dash="dot")
    fig.add_annotation(x=1, xref="paper", xanchor="left", y=1, text=html_text(f"= {c.base.name}"),
                       showarrow=False)  # beside the plot
    tops = values + ([measured.high] if measured is not None else [])
    fig.update_layout(title=html_text(f"{a.name} relative to {c.base.name}"),
                      yaxis={"title": html_text(f"× {c.base.name}"),
                      "range": [0, _headroom(tops)]}, height=_HEIGHT, margin={"t": 60, "b": 40, "r": 110},
                      showlegend=False)
    return fig


def differences_chart(rows: Sequence[Any], macs: int, title: str, key: str = "macs") -> go.Figure:
    """What each paper and tool prints, drawn as its difference from our MACs (which sit at zero): one bar per
    figure, stacked by what makes the difference, the figure itself at the end. A part too large for the
    scale (FLOPs' doubling) is cut at the edge and labelled."""
    labels = [r.label for r in rows][::-1]  # plotly draws the first category at the bottom
    small = [v for r in rows for name, v in r.parts if not name.startswith("×")] or [1]
    lo, hi = min(0, min(small)) * 1.25, max(0, max(small)) * 1.6 or 1
    fig = go.Figure()
    for name in dict.fromkeys(n for r in rows for n, _ in r.parts):
        values = [dict(r.parts).get(name, 0) for r in rows][::-1]
        fig.add_bar(y=labels, x=[min(v, hi) for v in values], name=name, orientation="h", customdata=values,
                    hovertemplate="%{y}<br>" + name + ": %{customdata:+,}<extra></extra>")
    fig.add_scatter(y=labels, x=[min(max(sum(v for _, v in r.parts), 0), hi) for r in rows][::-1], mode="text",
                    text=[f"  {r.value:,}" for r in rows][::-1], textposition="middle right", showlegend=False,
                    customdata=[r.printed for r in rows][::-1], hovertemplate="%{y} prints %{customdata}<extra></extra>")
    fig.add_vline(x=0, line_color="#555", annotation_text=f"our {METRICS[key].unit}: {macs:,}",
                  annotation_position="top")
    fig.update_layout(barmode="relative", title=html_text(title), height=110 + 30 * len(rows),
                      xaxis={"title": "difference from our MACs", "tickformat": "~s", "range": [lo, hi * 1.9]},
                      margin={"t": 70, "b": 40, "l": 10, "r": 10}, legend={"title": "what makes the difference"})
    return fig


def share_stack(rows: Sequence[tuple[str, Sequence[tuple[str, int]]]], title: str, x_title: str) -> go.Figure:
    """Horizontal stacked bars, one per label, one segment per named part, exact values on hover."""
    labels = [label for label, _ in rows][::-1]  # plotly draws the first category at the bottom
    fig = go.Figure()
    for name in dict.fromkeys(n for _, parts in rows for n, _ in parts):
        values = [dict(parts).get(name, 0) for _, parts in rows][::-1]
        fig.add_bar(y=labels, x=values, name=name, orientation="h",
                    hovertemplate="%{y}<br>" + name + ": %{x:,}<extra></extra>")
    fig.update_layout(barmode="stack", title=html_text(title), xaxis={"title": x_title, "tickformat": "~s"},
                      height=150 + 40 * len(rows), margin={"t": LEGEND_TOP, "b": 40, "l": 10, "r": 10},
                      legend=LEGEND, **TITLE_AT_TOP)
    return fig


def share_bars(groups: Sequence[Any], title: str, x_title: str) -> go.Figure:
    """Share of the measured time beside share of the MACs, per group (stage or kind of layer)."""
    names = [g.name for g in groups]
    fig = go.Figure()
    fig.add_bar(x=names, y=[100 * g.mac_share for g in groups], name="share of MACs (exact)",
                customdata=[[g.macs] for g in groups], hovertemplate="%{x}<br>%{y:.1f}% of the MACs<br>%{customdata[0]:,}"
                " MACs per image<extra></extra>")
    fig.add_bar(x=names, y=[100 * g.share for g in groups], name="share of the time (measured)",
                customdata=[[g.median_ms, g.achieved_macs_per_s / 1e9] for g in groups],
                hovertemplate="%{x}<br>%{y:.1f}% of the time<br>%{customdata[0]:,.3g} ms, %{customdata[1]:,.1f} GMAC/s"
                "<extra></extra>")
    fig.update_layout(barmode="group", title=html_text(title), xaxis_title=x_title, yaxis={"title": "% of the network",
                      "rangemode": "tozero"}, height=_HEIGHT, margin={"t": LEGEND_TOP, "b": 40},
                      legend=LEGEND, **TITLE_AT_TOP)
    return fig


def roofline_chart(profile: Any) -> go.Figure:
    """Every layer with multiply-adds: arithmetic intensity against achieved MAC/s, under the device's two roofs
    (memory bandwidth × intensity, and the matmul peak), log-log, names on hover."""
    rows = [r for r in profile.layers if r.macs > 0 and r.median_ms > 0]
    peak, bw = profile.peak_macs_per_s, profile.bandwidth_bytes_per_s
    fig = go.Figure()
    for kind in dict.fromkeys(r.kind for r in rows):
        sel = [r for r in rows if r.kind == kind]
        fig.add_scatter(x=[r.intensity for r in sel], y=[r.achieved_macs_per_s / 1e9 for r in sel], mode="markers",
                        name=kind, customdata=[[r.name, r.median_ms, r.bound_macs_per_s / 1e9] for r in sel],
                        hovertemplate="%{customdata[0]}<br>%{x:.3g} MACs/byte<br>%{y:.3g} GMAC/s achieved, bound "
                        "%{customdata[2]:.3g}<br>%{customdata[1]:.3g} ms<extra></extra>")
    if rows:
        lo = min(r.intensity for r in rows) / 2
        hi = max(r.intensity for r in rows) * 2
        ridge = peak / bw
        xs = [lo, min(max(ridge, lo), hi), hi]
        fig.add_scatter(x=xs, y=[min(peak, x * bw) / 1e9 for x in xs], mode="lines", name="roofline",
                        line={"color": "#555", "dash": "dash"}, hoverinfo="skip")
    fig.update_layout(title=html_text(f"Layers on the roofline — {profile.name} ({profile.end_to_end.device}, "
                                      f"{profile.end_to_end.dtype}, batch {profile.end_to_end.batch_size})"),
                      xaxis={"title": "arithmetic intensity (MACs per byte moved)", "type": "log"},
                      yaxis={"title": "achieved GMAC/s", "type": "log"}, height=_HEIGHT + 60, margin={"t": 60})
    return fig


__all__ = ["roofline_chart", "share_bars", "share_stack", "cardinality_chart", "differences_chart", "relative_chart", "compare_bars", "error_chart", "latency_histogram", "ratio_chart",
           "rollup_bars", "sweep_chart"]
