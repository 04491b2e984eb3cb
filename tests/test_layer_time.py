"""Time per layer: the rows, names, rollups and the add-up bookkeeping — never absolute speed."""

from __future__ import annotations

import json

import pytest
import torch

from explorer import ArchSpec, analyze, get_preset
from explorer.cli import main
from explorer.build.devices import dtypes_for
from explorer.core.errors import ResourceError, SpecError
from explorer.measure.layer_time import COVERAGE_TOLERANCE, LayerProfile, _attribute, explain, time_layers
from explorer.measure.timing import Settings, summarize

TINY = ArchSpec(name="tiny", block="bottleneck", depths=(1, 1), widths=(8, 16), cardinality=2, base_width=32,
                stem="cifar", stem_width=8, num_classes=10, input_size=(3, 16, 16))
FAST = Settings(warmup=1, min_runs=4, min_seconds=0, max_seconds=30, threads=1)


def _fake_calls(rows, gap: float = 0.001, each: float = 0.01) -> list[tuple[str, float, float]]:  # noqa: ANN001
    """One module call per module row, ``each`` long, ``gap`` apart."""
    t, calls = 0.0, []
    for r in rows:
        if r.type in ("add", "sum", "concat"):
            continue
        calls.append((r.name, t, t + each))
        t += each + gap
    return calls


def test_gaps_go_to_the_work_no_module_does() -> None:
    rows = analyze(TINY).layers
    times, between = _attribute(rows, _fake_calls(rows))
    by_type = {}
    for r, t in zip(rows, times):
        by_type.setdefault(r.type, []).append(t)
    assert all(t == pytest.approx(0.01) for k, ts in by_type.items() if k not in ("add",) for t in ts)
    assert by_type["add"] == [pytest.approx(0.001)] * 2  # the gap before each block's last ReLU: the residual add
    module_calls = sum(r.type != "add" for r in rows)
    assert between == pytest.approx(0.001 * (module_calls - 1 - 2))  # every other gap: between layers


@pytest.mark.parametrize("form", ["a", "b"])
def test_form_a_sums_and_form_b_concatenates_between_modules(form: str) -> None:
    rows = analyze(TINY.edit(form=form)).layers
    times, between = _attribute(rows, _fake_calls(rows))
    merged = [t for r, t in zip(rows, times) if r.type in ("sum", "concat")]
    # form a with 2 paths: one add per block, after path 1, before the block's BN;
    # form b: the concatenation is the gap before conv3
    assert merged == [pytest.approx(0.001)] * 2 and between > 0


def test_form_a_gives_its_sum_row_one_gap_per_add() -> None:
    spec = TINY.edit(cardinality=4, base_width=16, depths=(1,), widths=(16,), form="a")
    rows = analyze(spec).layers
    times, _ = _attribute(rows, _fake_calls(rows))
    assert [t for r, t in zip(rows, times) if r.type == "sum"] == [pytest.approx(3 * 0.001)]  # C − 1 = 3 adds


def test_a_call_out_of_place_is_a_bug_not_a_silent_misattribution() -> None:
    rows = analyze(TINY).layers
    calls = _fake_calls(rows)
    calls[3], calls[4] = calls[4], calls[3]
    with pytest.raises(RuntimeError, match="expected module"):
        _attribute(rows, calls)


def _profile(layers_ms: float, e2e_ms: float) -> LayerProfile:
    from explorer.measure.layer_time import LayerTime

    e2e = summarize("x", [e2e_ms] * 3, Settings(), (3, 16, 16), "target", 0, 1.0)
    row = LayerTime(0, "conv1", "conv", "dense 3×3 conv", "stem", "stem", layers_ms, layers_ms, layers_ms, 1.0,
                    1000, 1.0, 100, 10.0, 1e9, 2e9)
    return LayerProfile("x", e2e, (row,), 0.1, 3, 2e9, 1e9)


@pytest.mark.parametrize(("layers", "e2e", "adds_up"), [(90, 100, True), (85.1, 100, True), (84.9, 100, False),
                                                       (114, 100, True), (116, 100, False)])
def test_adds_up_within_the_tolerance(layers: float, e2e: float, adds_up: bool) -> None:
    p = _profile(layers, e2e)
    assert p.coverage == pytest.approx(layers / e2e) and p.adds_up is adds_up and COVERAGE_TOLERANCE == 0.15
    assert f"{layers / e2e:.0%} of the end-to-end median" in p.summary()


@pytest.fixture(scope="module")
def profiles() -> list[LayerProfile]:
    return time_layers([TINY, TINY.edit(form="a"), get_preset("resnet20")], FAST)


def test_every_row_of_the_analysis_is_timed_in_order(profiles: list[LayerProfile]) -> None:
    for p, spec in zip(profiles, [TINY, TINY.edit(form="a"), get_preset("resnet20")]):
        a = analyze(spec)
        assert [r.name for r in p.layers] == [r.name for r in a.layers]
        assert [r.macs for r in p.layers] == [r.macs for r in a.layers]
        assert all(r.median_ms >= 0 and r.p10_ms <= r.median_ms <= r.p90_ms for r in p.layers)
        assert sum(r.share for r in p.layers) == pytest.approx(1.0)
        assert sum(r.mac_share for r in p.layers) == pytest.approx(1.0)
        assert p.runs >= FAST.min_runs and p.end_to_end.runs == p.runs  # plain and hooked in the same rounds


def test_rollups_add_up_to_the_layers(profiles: list[LayerProfile]) -> None:
    p = profiles[2]
    for key in ("stage", "block", "kind"):
        groups = p.groups(key)
        assert sum(g.median_ms for g in groups) == pytest.approx(p.layers_ms)
        assert sum(g.layers for g in groups) == len(p.layers)
        assert sum(g.macs for g in groups) == analyze(get_preset("resnet20")).macs
    assert [g.name for g in p.groups("stage")] == ["stem", "layer1", "layer2", "layer3", "head"]


def test_bytes_intensity_and_roofline_follow_their_definitions(profiles: list[LayerProfile]) -> None:
    import math

    p = profiles[2]
    conv = next(r for r in p.layers if r.name == "layer1.0.conv1")
    row = next(r for r in analyze(get_preset("resnet20")).layers if r.name == "layer1.0.conv1")
    assert conv.bytes == (math.prod(row.in_shape) + math.prod(row.out_shape) + row.params) * 4  # float32, batch 1
    assert conv.intensity == pytest.approx(row.macs / conv.bytes)
    assert conv.bound_macs_per_s == pytest.approx(min(p.peak_macs_per_s, conv.intensity * p.bandwidth_bytes_per_s))
    assert conv.achieved_macs_per_s == pytest.approx(row.macs / (conv.median_ms / 1000))


def test_the_profile_as_json_and_its_sentences(profiles: list[LayerProfile]) -> None:
    d = json.loads(json.dumps(profiles[2].to_dict()))
    assert d["end_to_end_median_ms"] == profiles[2].end_to_end.median_ms
    assert {"name", "median_ms", "macs", "achieved_macs_per_s"} <= set(d["layers"][0])
    assert {"by_stage", "by_kind", "by_block", "coverage", "adds_up", "finding"} <= set(d)
    assert "GMAC/s" in profiles[2].finding() and "dense 3×3 conv" in profiles[2].finding()
    why = " ".join(explain(profiles[0], profiles[1]))
    assert "ms" in why  # form a of the same block: its convs and its sums take the extra time


def test_the_tables_of_measured_times(profiles: list[LayerProfile]) -> None:
    from explorer.measure.latency import paired_ratios
    from explorer.present.tables import NA, kind_times_frame, latency_frame, layer_times_frame

    tiny, form_a, resnet20 = profiles
    rows = layer_times_frame(resnet20)
    assert list(rows["Layer"]) == [r.name for r in analyze(get_preset("resnet20")).layers]
    assert list(rows["MACs"]) == [r.macs for r in resnet20.layers]
    conv = rows[rows["Layer"] == "layer1.0.conv1"].iloc[0]
    row = next(r for r in resnet20.layers if r.name == "layer1.0.conv1")
    assert conv["GMAC/s"] == round(row.macs / (row.median_ms / 1000) / 1e9, 2) and conv["Bytes moved"] == row.bytes
    assert rows["% time"].sum() == pytest.approx(100, abs=0.005 * len(rows))
    side = kind_times_frame([tiny, form_a])
    assert list(side.columns[1:4]) == ["ms · 1. tiny", "% time · 1. tiny", "GMAC/s · 1. tiny"]
    kinds = list(side["Kind"])
    assert "grouped 3×3 conv" in kinds and "path sum" in kinds  # form a sums its paths: its own kind
    grouped = kinds.index("grouped 3×3 conv")
    assert side["ms · 2. tiny"].isna()[grouped]  # form a has no grouped conv: empty, not "None" or 0
    assert side["% time · 1. tiny"].sum() == pytest.approx(100, abs=0.05 * len(side))
    relu = kinds.index("ReLU")
    assert side["GMAC/s · 1. tiny"].isna()[relu]  # no multiply-adds, no rate
    ratios = paired_ratios([tiny.end_to_end, form_a.end_to_end])
    table = latency_frame([tiny.end_to_end, form_a.end_to_end], ratios)
    assert list(table["× the first (CI, its confidence)"]) == [
        "1 (baseline)", f"{ratios[0].median:.3g} ({ratios[0].low:.3g}–{ratios[0].high:.3g}; {ratios[0].level()})"]
    assert list(table["Runs"]) == [tiny.runs, form_a.runs] and NA not in table.to_string()


def test_bad_input_is_named() -> None:
    with pytest.raises(SpecError, match="^specs: "):
        time_layers([])
    with pytest.raises(SpecError, match="^specs: "):
        time_layers(["resnet50"])
    with pytest.raises(SpecError, match="^device: "):
        Settings(device="tpu")
    with pytest.raises(ResourceError, match="^memory: "):
        time_layers(get_preset("resnet50"), FAST.edit(batch_size=65_536))


def test_the_cli_profile_prints_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["profile", "resnet20", "--threads", "1", "--max-seconds", "10", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    d = json.loads(out)
    assert d["end_to_end_median_ms"] > 0 and len(d["layers"]) == len(analyze(get_preset("resnet20")).layers)
    first = d["layers"][0]
    assert (first["name"], first["macs"]) == ("conv1", 442_368) and first["median_ms"] > 0
    assert first["achieved_macs_per_s"] == pytest.approx(442_368 / (first["median_ms"] / 1000))
    code = main(["profile", "resnet20", "--device", "cuda:9"])
    assert code == 2 and capsys.readouterr().err.startswith("error: device: ")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_cuda_layers_are_timed_with_events(dtype: str) -> None:
    if dtype not in dtypes_for("cuda:0"):
        pytest.skip(f"{torch.cuda.get_device_name(0)} has no native {dtype}")
    specs = [TINY, TINY.edit(form="a")]
    profiles = time_layers(specs, FAST.edit(device="cuda", dtype=dtype, batch_size=4))
    for p, spec in zip(profiles, specs, strict=True):
        assert (p.end_to_end.device, p.end_to_end.dtype) == ("cuda:0", dtype)
        assert [r.name for r in p.layers] == [r.name for r in analyze(spec).layers]
        assert all(r.median_ms >= 0 and r.p10_ms <= r.median_ms <= r.p90_ms for r in p.layers)
        assert sum(r.share for r in p.layers) == pytest.approx(1.0) and p.runs >= FAST.min_runs
