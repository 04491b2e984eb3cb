"""Tables, charts, diagrams and the reference panels as pure functions, over every preset and every Fig. 3 form.

Each builder's numbers are checked against the analysis it was given (independently re-summed here), its
headers are human and carry their unit, and no raw None/True reaches a cell.
"""

from __future__ import annotations

import math

import pytest

from explorer import analyze, get_preset, list_presets
from explorer.costs import reference
from explorer.costs.comparison import Comparison
from explorer.costs.design import table2_rows, table3_rows, table4_rows
from explorer.present.diagram import block_dot, network_svg
from explorer.core.presets import preset_of
from explorer.present.tables import (
    compare_frame,
    kind_compare_frame,
    kinds_frame,
    layer_diff_frame,
    layers_frame,
    rollup_frame,
    stage_compare_frame,
)

PRESETS = list_presets()
FORMS_OF = [get_preset("resnext50_32x4d").edit(form=f) for f in "abc"]
SPECS = [get_preset(n) for n in PRESETS] + FORMS_OF[:2]


def _ids(spec) -> str:  # noqa: ANN001
    return f"{spec.name}-{spec.form}"


def _cells(frame) -> list:  # noqa: ANN001
    return [v for col in frame.columns for v in frame[col].tolist()]


def _clean(frame) -> None:  # noqa: ANN001
    """Human headers (no snake_case), no None/True/False/NaN shown as text."""
    assert not any("_" in str(c) for c in frame.columns), list(frame.columns)
    for v in _cells(frame):
        assert v is not True and v is not False and v is not None and not (isinstance(v, float) and math.isnan(v))


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
@pytest.mark.parametrize("metric", ["macs", "flops"])
def test_layer_stage_block_and_kind_tables_add_up(spec, metric: str) -> None:  # noqa: ANN001
    a = analyze(spec)
    factor = 2 if metric == "flops" else 1
    unit = "FLOPs" if metric == "flops" else "MACs"
    layers = layers_frame(a, metric)
    assert len(layers) == len(a.layers) and list(layers["Layer"]) == [r.name for r in a.layers]
    assert layers["Parameters"].sum() == a.params and layers[unit].sum() == factor * a.macs
    for frame, level in ((rollup_frame(a.stages, metric), "Stage"), (rollup_frame(a.blocks, metric, "Block"), "Block")):
        _clean(frame)
        assert frame["Parameters"].sum() == a.params and frame[unit].sum() == factor * a.macs
        assert frame["% params"].sum() == pytest.approx(100, abs=0.005 * len(frame))  # each rounded to 0.01
        assert frame[level].tolist() == [r.name for r in (a.stages if level == "Stage" else a.blocks)]
    kinds = kinds_frame(a, metric)
    _clean(kinds)
    assert kinds["Layers"].sum() == len(a.layers) and kinds[unit].sum() == factor * a.macs
    assert set(kinds["Kind"]) == {r.kind for r in a.layers}
    _clean(layers.drop(columns=["Kernel", "Stride", "Groups"]))
    assert set(layers["Kernel"]) <= {"—", "1", "2", "3", "5", "7"}  # "—" where a layer has no kernel, never None


@pytest.mark.parametrize("names", [("resnet50", "resnext50_32x4d"), ("resnet20", "resnet56", "resnet110"),
                                   ("resnet18", "plain18")])
def test_comparison_tables(names: tuple[str, ...]) -> None:
    c = Comparison(tuple(analyze(get_preset(n)) for n in names))
    totals = compare_frame(c)
    _clean(totals)
    assert totals["Parameters"].tolist() == [a.params for a in c.analyses]
    assert totals["Δ parameters"].tolist() == [a.params - c.base.params for a in c.analyses]
    assert totals["× MACs"].tolist() == [round(a.macs / c.base.macs, 4) for a in c.analyses]
    stages = stage_compare_frame(c, "flops")
    assert stages.groupby("Configuration", sort=False)["FLOPs"].sum().tolist() == [2 * a.macs for a in c.analyses]
    kinds = kind_compare_frame(c)
    for i, a in enumerate(c.analyses):
        assert kinds[f"MACs · {i + 1}. {a.name}"].sum() == a.macs
    diff = layer_diff_frame(c.base, c.analyses[1])
    assert diff["Δ parameters"].sum() == c.analyses[1].params - c.base.params or names[1] == "plain18"


def test_layer_diff_shows_layers_only_one_side_has_as_empty() -> None:
    a, b = analyze(get_preset("resnet18")), analyze(get_preset("plain18"))
    diff = layer_diff_frame(a, b)
    only_a = diff[diff["Output shape B"] == "—"]
    assert list(only_a["Layer"]) == ["layer2.0.downsample.0", "layer2.0.downsample.1", "layer3.0.downsample.0",
                                     "layer3.0.downsample.1", "layer4.0.downsample.0", "layer4.0.downsample.1"]
    assert only_a["Parameters B"].isna().all() and str(diff["Parameters B"].dtype) == "Int64"


def test_why_names_the_width_and_the_grouping() -> None:
    from explorer.core.vocab import si

    c = Comparison((analyze(get_preset("resnet50")), analyze(get_preset("resnext50_32x4d"))))
    why = " ".join(c.why(c.analyses[1]))
    # the 1×1 convs: 3,879,206,912 vs 2,119,434,240 multiply-adds; the 3×3s: 231,211,008 vs 1,849,688,064
    assert f"{3_879_206_912 / 2_119_434_240:.3g}×" in why and f"{231_211_008 / 1_849_688_064:.3g}×" in why
    assert "128 vs 64 channels in layer1" in why and "C = 32" in why
    assert c.headline(c.analyses[1]).startswith("resnext50_32x4d has 1.03× the MACs and 0.979× the parameters")
    assert c.headline(c.analyses[1], "flops").startswith("resnext50_32x4d has 1.03× the FLOPs and 0.979×")
    flops = " ".join(c.why(c.analyses[1], "flops"))  # the same sentences, counts doubled
    assert f"{si(2 * 231_211_008, 'FLOPs')} vs {si(2 * 1_849_688_064, 'FLOPs')}" in flops and "MACs" not in flops


def test_why_counts_agree_with_their_nouns() -> None:
    # resnet50d's stem: 3×3 convs 3→32 (stride 2), 32→32, 32→64 at 112×112, against one 7×7 3→64 at 112×112
    deep = 112 * 112 * (32 * 3 * 9 + 32 * 32 * 9 + 64 * 32 * 9)
    seven = 112 * 112 * 64 * 3 * 49
    c = Comparison((analyze(get_preset("resnet50")), analyze(get_preset("resnet50d"))))
    assert f"Its stem convs do {deep / seven:.3g}× the MACs" in " ".join(c.why(c.analyses[1]))
    where = c.where(c.analyses[1])
    assert where.startswith(f"resnet50d vs resnet50: +19,232 parameters and +{deep - seven:,} MACs, all in the stem")
    # one fc layer each: 2048 → 1000 against 512 → 1000
    c = Comparison((analyze(get_preset("resnet18")), analyze(get_preset("resnet50"))))
    assert "Its fc layer does 4× the MACs" in " ".join(c.why(c.analyses[1]))

# --- charts: every figure has a title, axis titles and the values it was given -----------------------------------
@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_rollup_charts(spec) -> None:  # noqa: ANN001
    from explorer.present.charts import rollup_bars

    a = analyze(spec)
    for key, values in (("params", [s.params for s in a.stages]), ("flops", [2 * s.macs for s in a.stages]),
                        ("activations", [s.activations for s in a.stages])):
        fig = rollup_bars(a, key)
        assert list(fig.data[0].y) == values and fig.layout.title.text and fig.layout.yaxis.title.text
        assert fig.layout.yaxis.tickformat == "~s"  # SI ticks (1.5G), never "1.5B"
    blocks = rollup_bars(a, "macs", "blocks")
    assert sum(blocks.data[0].y) == a.macs


def test_comparison_and_design_charts() -> None:
    from explorer.present.charts import cardinality_chart, compare_bars, error_chart, relative_chart
    from explorer.costs.design import table2

    c = Comparison((analyze(get_preset("resnet50")), analyze(get_preset("resnext50_32x4d"))))
    fig = compare_bars(c, "macs")
    assert [sum(t.y) for t in fig.data] == [a.macs for a in c.analyses]
    rel = relative_chart(c)
    assert list(rel.data[0].y) == [c.ratio(c.analyses[1], k) for k in ("params", "macs", "activations")]
    assert rel.layout.yaxis.range[1] > max(rel.data[0].y)  # room for the labels above the tallest bar
    assert [a.text for a in rel.layout.annotations] == ["= resnet50"]
    card = cardinality_chart(table2(), 69_632, "flops")
    assert list(card.data[1].y) == [2 * w.macs for w in table2()]
    rows = table3_rows(50)
    err = error_chart(rows, "Table 3", ("top-1 error %",))
    assert list(err.data[0].y) == [23.9, 23.0, 22.6, 22.3, 22.2]


def test_ratio_chart_labels_every_bar_and_keeps_the_whiskers_inside() -> None:
    from explorer.present.charts import ratio_chart
    from explorer.measure.latency import Ratio

    c = Comparison((analyze(get_preset("resnet20")), analyze(get_preset("resnet56"))))
    r = Ratio("resnet56", "resnet20", median=2.6, low=2.52, high=2.67, coverage=0.95, rounds=94)
    fig = ratio_chart(c, [r])
    work, time = fig.data
    assert list(work.y) == [1.0, c.analyses[1].macs / c.analyses[0].macs]
    assert list(work.text) == ["1×", f"{work.y[1]:.3g}×"] and list(time.text) == ["1×", "2.6×"]
    assert list(time.error_y.array) == pytest.approx([0, 0.07]) and list(time.error_y.arrayminus) == pytest.approx([0, 0.08])
    assert fig.layout.yaxis.range[1] > max(work.y) > max(time.y) + time.error_y.array[1]


def test_sweep_chart_ticks_are_the_batch_sizes() -> None:
    from explorer.present.charts import sweep_chart
    from explorer.measure.sweep import SweepResult
    from explorer.measure.timing import Settings, summarize

    results = tuple(summarize("n", [10.0 * b, 11.0 * b, 12.0 * b], Settings(batch_size=b), (3, 8, 8), "target", 0, 1)
                    for b in (1, 2, 4, 8))
    fig = sweep_chart(SweepResult(results, "done", "measured all 4 batch sizes"))
    assert list(fig.layout.xaxis.tickvals) == [1, 2, 4, 8] and list(fig.layout.xaxis.ticktext) == ["1", "2", "4", "8"]
    assert fig.data[0].error_y.array is not None  # the spread, as whiskers


# --- diagrams -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_network_svg_names_every_stage_with_its_counts(spec) -> None:  # noqa: ANN001
    a = analyze(spec)
    svg = network_svg(spec, a)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    for s in a.stages[1:-1]:
        assert f"{s.name} · {s.params:,} params" in svg
    assert svg.count("<rect") >= len(a.stages)


def test_network_svg_expands_and_colours_by_time() -> None:
    spec = get_preset("resnet50")
    collapsed, expanded = network_svg(spec), network_svg(spec, expanded=True)
    assert "(× 2)" in collapsed and "(× 2)" not in expanded and expanded.count("layer3.") > collapsed.count("layer3.")
    times = {b.name: 1.0 for b in analyze(spec).blocks}
    times["layer3.0"] = 10.0
    hot = network_svg(spec, times_ms=times)
    assert "10 ms measured" in hot and "#ff8737" in hot  # the slowest box gets the strongest colour


@pytest.mark.parametrize("form", ["a", "b", "c"])
@pytest.mark.parametrize(("cardinality", "d"), [(32, 4), (2, 40), (1, 64)])
def test_block_diagrams_per_form(form: str, cardinality: int, d: int) -> None:
    dot = block_dot(form, cardinality, d, 256)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    if form == "c":
        assert f"3×3, {cardinality * d}, groups = {cardinality}" in dot
    else:
        assert dot.count(f'[label="3×3, {d}"]') == min(cardinality, 3)
        assert ("Σ (sum)" in dot) == (form == "a") and (f"concatenate, {cardinality * d}" in dot) == (form == "b")


# --- the reference panels -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [n for n in PRESETS if reference.reported(n)])
def test_every_reported_figure_matches_ours(name: str) -> None:
    """torchvision's figures are exact; the papers' are rounded as printed (±0.1e9 MACs, ±2% parameters)."""
    a = analyze(get_preset(name))
    for r in reference.reported(name):
        if r.params is not None:
            assert a.params == r.params if isinstance(r.params, int) else abs(a.params - r.params) / r.params < 0.02
        if r.macs is not None and r.source != reference.RESNET_PAPER:
            assert a.macs == r.macs if isinstance(r.macs, int) else abs(a.macs - r.macs) <= 0.1e9
    rows = reference.source_rows(name, a.params, a.macs)
    assert len(rows) == len(reference.reported(name))
    assert all(isinstance(v, str) for row in rows for k, v in row.items() if k != "Source")


def test_the_resnet_papers_figures_are_its_stride_on_the_1x1() -> None:
    for name in ("resnet50", "resnet101", "resnet152"):
        paper = next(r for r in reference.reported(name) if r.source == reference.RESNET_PAPER)
        v1 = analyze(get_preset(name).edit(downsample_on="1x1")).macs
        assert abs(v1 - paper.macs) <= 0.1e9  # 3.8e9, 7.6e9, 11.3e9 as printed


def test_design_tables_match_the_paper() -> None:
    assert [r["Matches the paper"] for r in table2_rows()] == ["yes"] * 5
    rows = table4_rows()
    assert [r["network"] for r in rows] == list(reference.TABLE4)
    assert all(preset_of(get_preset(r["network"])) == r["network"] for r in rows)
    assert [r["top-1 error %"] for r in rows] == [22.0, 21.2, 21.7, 21.3, 20.7, 20.4]
    assert [r["top-1 error %"] for r in table3_rows(101)] == [22.0, 21.7, 21.4, 21.3, 21.2]


def test_both_bottleneck_framings() -> None:
    """REFERENCE.md: 1,179,648 vs 69,632 at 256 channels; the paper's point, 73,728 at 64 channels vs 69,632."""
    from explorer.costs.design import bottleneck_framings

    same_width, same_cost = bottleneck_framings()
    assert (same_width.basic_params, same_width.bottleneck_params) == (2 * 9 * 256 * 256, 256 * 64 + 9 * 64 * 64 + 64 * 256)
    assert (same_cost.basic_params, same_cost.bottleneck_params) == (73_728, 69_632)
    assert same_width.ratio == pytest.approx(1_179_648 / 69_632) and same_cost.ratio == pytest.approx(73_728 / 69_632)
    assert same_cost.basic_macs == 73_728 * 56 * 56 and same_width.bottleneck_macs == 69_632 * 56 * 56


def test_times_print_in_seconds_from_one_second_and_ranges_share_one_unit() -> None:
    from explorer.core.vocab import ms, ms_range, stopped

    assert (ms(0.4321), ms(128.4), ms(2.11e4), ms(4370.0)) == ("0.432 ms", "128 ms", "21.1 s", "4.37 s")
    assert ms_range(143.2, 193.1) == "143–193 ms" and ms_range(4370, 4410) == "4.37–4.41 s"
    assert ms_range(4370.0, 4370.4) == "4.37 s"  # not "4.37e+03–4.37e+03 ms"
    assert "e+" not in "".join(ms(10.0 ** k) + ms_range(10.0 ** k, 2 * 10.0 ** k) for k in range(-3, 7))
    assert stopped("cancelled") == "stopped early by your click elsewhere" and "by cancelled" not in stopped("cancelled")


def test_cost_and_speed_says_equal_work_only_when_it_is() -> None:
    from explorer.costs.comparison import cost_and_speed
    from explorer.costs.design import table4_rows

    macs = [r["macs"] for r in table4_rows()]  # Table 4: ResNet-101 and ResNeXt-101 32×4d are the 1× baselines
    assert max(macs) / min(macs) > 1.8
    text = cost_and_speed(macs, [100.0, 110, 190, 200, 210, 230])
    assert "equal" not in text and text.endswith("times from 100 ms to 230 ms (2.3×)")
    assert cost_and_speed([100, 104, 102], [10.0, 18.0, 12.0]) == ("about equal MACs (within 4%), unequal speed: the "
                                                                   "slowest takes 1.8× the time of the fastest")
    assert cost_and_speed([100, 104], [1.0, 2.0], "flops").startswith("about equal FLOPs")


def test_horizontal_legends_sit_above_the_plot_not_on_the_axis_title() -> None:
    """Finding 12 of issue 21: a legend below the plot covered the x-axis title. Every chart takes charts.LEGEND."""
    import re
    from pathlib import Path

    from explorer.present import charts

    c = Comparison(tuple(analyze(get_preset(n)) for n in ("resnet50", "resnet50d")))
    fig = charts.compare_bars(c, "macs")
    assert fig.layout.legend.orientation == "h" and fig.layout.legend.y > 1 and fig.layout.legend.yanchor == "bottom"
    assert fig.layout.title.yanchor == "top" and fig.layout.margin.t >= charts.LEGEND_TOP
    root = Path(charts.__file__).parent
    below = [f"{p.name}:{i}" for p in root.rglob("*.py") for i, line in enumerate(p.read_text().splitlines(), 1)
             if re.search(r'legend=\{"orientation": "h", "y": -', line)]
    assert below == []


def test_training_frames_state_the_exact_costs_and_the_largest_batch_that_fits() -> None:
    import types

    from explorer.costs.training import GPU_MEMORY, GiB, train_cost
    from explorer.present.tables import gpu_batches_frame, train_compare_frame, train_stages_frame, train_steps_frame

    r50, rx50 = get_preset("resnet50"), get_preset("resnext50_32x4d")
    costs = [train_cost(s, batch_size=8, optimizer="adam") for s in (r50, rx50)]
    frame = train_compare_frame(costs, 24, "flops")
    row = frame.iloc[0]
    assert row["Configuration"] == "resnet50" and row["Forward FLOPs"] == 8 * 2 * 4_089_184_256
    assert row["Parameters + gradients (bytes)"] == 2 * 4 * 25_557_032  # float32 weights and their gradients
    tensors = 53 + 2 * 53 + 2  # 53 convs, 53 BNs (weight, bias), the fc (weight, bias)
    assert row["Optimizer state (bytes)"] == 2 * 4 * 25_557_032 + 4 * tensors  # Adam: 2 moments, a float32 step each
    for cost, n in zip(costs, frame["Largest batch in 24 GB"]):  # the boundary, from the cost itself
        assert train_cost(cost.spec, batch_size=n, optimizer="adam").peak.total <= 24 * GiB
        assert train_cost(cost.spec, batch_size=n + 1, optimizer="adam").peak.total > 24 * GiB
    stages = train_stages_frame(costs[0])
    assert stages["Forward MACs"].sum() == costs[0].forward_macs and stages["Backward MACs"].sum() == \
        costs[0].backward_macs
    sizes = gpu_batches_frame(costs[0])
    assert list(sizes["GPU memory"]) == [label for label, _ in GPU_MEMORY]
    assert list(sizes["Largest batch"]) == sorted(sizes["Largest batch"])  # more memory, no smaller batch
    step = types.SimpleNamespace(name="resnet50", median_ms=812.345, p10_ms=800.0, p90_ms=830.0, throughput=9.84,
                                 runs=6)
    assert train_steps_frame([step]).iloc[0].to_dict() == {"Configuration": "resnet50", "Median step ms": 812.35,
                                                          "p10–p90": "800–830 ms", "Images/s": 9.8, "Steps": 6}
