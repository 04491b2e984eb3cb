"""The pages, driven through Streamlit's AppTest: each page and each Build view shows its own content, with
numbers derived independently (from the library, torchvision's published figures or REFERENCE.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer import analyze, get_preset
from explorer.core.vocab import binary, exact, si

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
R50, RX50 = 25_557_032, 25_028_904  # torchvision's parameter counts


def _app(page: str | None = None, params: dict[str, str] | None = None) -> AppTest:
    """The app opened on ``page`` (a deep link, with ``params`` as its query); no exception on the way."""
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    if page:
        at.switch_page(page)
    at.run()
    _ok(at)
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _metrics(at: AppTest) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def _text(at: AppTest) -> str:
    return " ".join(m.value for m in [*at.markdown, *at.caption, *at.success, *at.info, *at.warning, *at.error])


def _whole(value: float) -> int:
    """A number box's value (the editor's boxes are float boxes, shown as "%g") as the whole number it shows."""
    assert float(value).is_integer(), value
    return int(value)


def _view(at: AppTest, view: str) -> AppTest:
    at.button_group(key="build.view").set_value(view).run()
    _ok(at)
    return at


def _build(preset: str | None = None) -> AppTest:
    at = _app("views/build.py")
    if preset:
        at.selectbox(key="build.preset").select(preset).run()
        _ok(at)
    return at


# --- Home ---------------------------------------------------------------------------------------------
def test_home_shows_the_two_pictures_the_blocks_and_the_doors() -> None:
    at = _app()
    assert at.title[0].value == "Architecture Explorer"
    assert len(at.get("plotly_chart")) == 2 and len(at.get("graphviz_chart")) == 3
    text = _text(at)
    assert "Its 3×3 convs do 0.125× the MACs" in text and "its bottlenecks are 2× as wide" in text
    assert "4,089,184,256" in text  # the multiply-adds every tool starts from


# --- Build: the editor -----------------------------------------------------------------------------------
def test_build_defaults_to_resnet50_with_exact_numbers_under_si_headlines() -> None:
    at = _build()
    m = _metrics(at)
    assert m["Parameters"] == (si(R50), exact(R50)) == ("25.6 M", "25,557,032")
    assert m["MACs"] == ("4.09 GMACs", "4,089,184,256")
    assert m["Activations"][1] == "11,114,984" and m["Other ops"][1] == "39,063,016"
    assert at.title[0].value == "Build — resnet50"


def test_presets_load_and_the_flops_switch_doubles() -> None:
    at = _build("resnext50_32x4d")
    assert _metrics(at)["Parameters"][1] == exact(RX50)
    assert (at.number_input(key="build.cardinality").value, at.number_input(key="build.base_width").value) == (32, 4)
    at.button_group(key="app.metric").set_value("flops").run()
    assert _metrics(at)["FLOPs"] == ("8.46 GFLOPs", "8,460,959,744")
    at.selectbox(key="build.preset").select("resnet20").run()
    assert _metrics(at)["Parameters"][1] == "269,722"  # REFERENCE.md, CIFAR ResNet-20


def test_names_follow_the_architecture() -> None:
    at = _build("resnet50")
    at.number_input(key="build.cardinality").set_value(32).run()
    # no preset: a name that describes it (3·16 + 2 weighted layers, C = 32, d = 64), marked as edited
    assert at.title[0].value == "Build — resnext50_32x64d (edited)" and at.selectbox(key="build.preset").value is None
    at.number_input(key="build.base_width").set_value(4).run()
    assert at.title[0].value == "Build — resnext50_32x4d"
    assert at.selectbox(key="build.preset").value == "resnext50_32x4d"
    assert at.text_input(key="build.name").value == "resnext50_32x4d"
    assert _metrics(at)["Parameters"][1] == exact(RX50)
    at.text_input(key="build.depths").input("3, 4, 8, 3").run()  # 18 bottlenecks: 56 weighted layers
    assert at.title[0].value == "Build — resnext56_32x4d (edited)"
    at.button_group(key="build.block").set_value("basic").run()  # 18 basic blocks, 2 convs each: 38 layers
    assert at.title[0].value == "Build — resnet38 (edited)"
    at.selectbox(key="build.shortcut").select("none").run()
    assert at.title[0].value == "Build — plain38 (edited)"
    at.text_input(key="build.depths").input("3, 4, 6, 3").run()  # back to a preset: its name
    assert at.title[0].value == "Build — plain34"
    at.text_input(key="build.name").input("mine").run()
    at.number_input(key="build.num_classes").set_value(10).run()
    assert at.title[0].value == "Build — mine"  # a person's own name stays


def test_an_invalid_value_keeps_the_last_results_and_is_named_beside_its_field() -> None:
    at = _build("resnext50_32x4d")
    at.text_input(key="build.widths").input("8, 128, 256, 512").run()  # 8 × d 4 ÷ 64 = 0 channels per group
    _ok(at)
    assert _metrics(at)["Parameters"][1] == exact(RX50)  # the last valid architecture, still on screen
    assert "last valid architecture" in at.warning[0].value
    assert at.error[0].value.startswith("**Width d** — stage 1's width 8 × d 4 ÷ 64 rounds down to 0")
    assert at.text_input(key="build.widths").value == "8, 128, 256, 512"  # the person's value stays, to be fixed
    at.text_input(key="build.widths").input("64, 128, 256, 512").run()
    assert not at.error and not at.warning and _metrics(at)["Parameters"][1] == exact(RX50)
    at.text_input(key="build.depths").input("99999, 4, 6, 3").run()  # past the bound: a message, not a clamp
    assert at.error[0].value == "**Depth · stage 1** — must be between 1 and 1000, got 99999"
    at.text_input(key="build.depths").input("3, x, 6, 3").run()
    assert at.error[0].value.startswith("**Depth · stage 2** — must be an integer, got str 'x'")


def test_the_fields_that_follow_an_edit_follow_it() -> None:
    at = _build("resnext50_32x4d")
    at.button_group(key="build.block").set_value("basic").run()
    assert _metrics(at)["Parameters"][1] == "21,797,672"  # ResNeXt-50's depths with basic blocks = ResNet-34
    assert at.title[0].value == "Build — resnet34" and at.number_input(key="build.expansion").value == 1
    at.text_input(key="build.depths").input("3, 4, 6").run()  # three stages: the widths and strides follow
    assert at.text_input(key="build.widths").value == "64, 128, 256"
    a = analyze(get_preset("resnet34").edit(depths=(3, 4, 6)))
    assert _metrics(at)["Parameters"][1] == exact(a.params)
    at.selectbox(key="build.stem").select("cifar").run()
    assert (at.number_input(key="build.stem_width").value, at.number_input(key="build.input_size.1").value) == (64, 32)


def test_an_invalid_or_empty_list_changes_no_other_field() -> None:
    r50 = get_preset("resnet50")
    widths, strides = ", ".join(map(str, r50.widths)), ", ".join(map(str, r50.strides))
    at = _build("resnet50")
    for typed, message in (("", "**Depth** — needs 1 to 8 stages, got 0"),
                           ("3, 4, 6, 3, 3, 3, 3, 3, 3", "**Depth** — needs 1 to 8 stages, got 9")):
        at.text_input(key="build.depths").input(typed).run()
        _ok(at)
        assert at.error[0].value == message
        assert (at.text_input(key="build.widths").value, at.text_input(key="build.strides").value) == (widths, strides)
        assert at.text_input(key="build.name").value == "resnet50"  # the name does not follow an invalid entry
        assert _metrics(at)["Parameters"][1] == exact(R50)  # the last valid results stay
    at.text_input(key="build.depths").input("3, 4, 6, 3").run()  # typed back: the whole architecture is back
    assert not at.error and not at.warning and at.title[0].value == "Build — resnet50"
    at.text_input(key="build.widths").input("").run()  # an empty widths box: the depths stay
    assert at.text_input(key="build.depths").value == "3, 4, 6, 3"
    assert at.error[0].value == "**Width** — needs one width per stage (4 stages), got 0"


@pytest.mark.parametrize(("typed", "message"), [
    ("3, ², 6, 3", "**Depth · stage 2** — must be an integer, got str '"),  # the character itself as the
    ("3, ①, 6, 3", "**Depth · stage 2** — must be an integer, got str '"),  # library's describe() escapes it
    ("3, -128, 6, 3", "**Depth · stage 2** — must be between 1 and 1000, got -128"),
    ("3, 2.5, 6, 3", "**Depth · stage 2** — must be an integer, got float 2.5"),
])
def test_a_list_entry_that_is_not_a_whole_number_is_named(typed: str, message: str) -> None:
    at = _build()
    at.text_input(key="build.depths").input(typed).run()
    _ok(at)  # no ValueError on the page
    assert at.error[0].value.startswith(message), at.error[0].value
    assert _metrics(at)["Parameters"][1] == exact(R50)


# --- Build: every view shows its own content ---------------------------------------------------------------
def test_stages_view_tables_add_up() -> None:
    at = _view(_build(), "Stages")
    stages, kinds = at.dataframe[0].value, at.dataframe[1].value
    assert list(stages["Stage"]) == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
    assert stages["Parameters"].sum() == R50 and stages["MACs"].sum() == 4_089_184_256
    assert dict(zip(kinds["Kind"], kinds["Layers"]))["dense 3×3 conv"] == 16


def test_layers_view_lists_every_layer_in_forward_order() -> None:
    at = _view(_build(), "Layers")
    a = analyze(get_preset("resnet50"))
    table = at.dataframe[0].value
    assert list(table["Layer"]) == [r.name for r in a.layers] and table["Parameters"].sum() == R50
    assert list(table["Layer"])[:4] == ["conv1", "bn1", "relu", "maxpool"]


def test_charts_and_diagram_views() -> None:
    at = _view(_build(), "Charts")
    assert len(at.get("plotly_chart")) == 4
    _view(at, "Diagram")
    assert len(at.get("image")) == 1 and at.toggle(key="build.expanded").value is False
    assert at.toggle(key="build.colour_time").disabled  # nothing profiled yet


def test_papers_view_sets_sources_beside_ours_as_errors() -> None:
    at = _view(_build(), "Papers & torchvision")
    table = at.dataframe[0].value
    tv = table[table["Source"] == "torchvision 0.29.1"].iloc[0]
    assert tv["Parameters reported"] == tv["Parameters ours"] == "25,557,032" and tv["Δ parameters %"] == "+0.00"
    assert tv["Top-1 error %"] == "23.87"  # 100 − torchvision's acc@1 76.130
    assert "22.85" in list(table["Top-1 error %"])  # the ResNet paper's own figure, same column
    assert "3,857,973,248" in _text(at)  # the stride-placement sentence


@pytest.mark.parametrize(("preset", "shortcut", "top1", "top5"), [
    ("plain34", None, "28.54", "10.02"),  # ResNet paper Tables 2 and 3: the degradation baseline
    ("plain18", None, "27.94", "—"),  # Table 2
    ("resnet34", "A", "25.03", "7.76"),  # Table 3, option A (also Table 2)
    ("resnet34", "C", "24.19", "7.4"),  # Table 3, option C
    ("resnet18", "A", "27.88", "—"),  # Table 2 is of option A
    ("resnet20", "none", "—", "—"),  # the CIFAR plain-20 of Fig. 6: curves only, said in the note
])
def test_papers_view_finds_every_reported_network_by_structure(preset: str, shortcut: str | None, top1: str,
                                                               top5: str) -> None:
    at = _build(preset)
    if shortcut:
        at.selectbox(key="build.shortcut").select(shortcut).run()
    at.text_input(key="build.name").input("my net").run()  # a name of one's own: the structure still matches
    _view(at, "Papers & torchvision")
    assert "No published figures" not in _text(at)
    paper = at.dataframe[0].value
    paper = paper[paper["Source"] == "ResNet paper (arXiv 1512.03385)"].iloc[0]
    assert (paper["Top-1 error %"], paper["Top-5 error %"]) == (top1, top5)
    if preset == "resnet20":
        assert "Fig. 6" in _text(at) and paper["Parameters ours"] == exact(analyze(get_preset("resnet20")).params)


def test_papers_figures_stay_as_printed_under_the_flops_switch() -> None:
    at = _view(_build("resnext50_32x4d"), "Papers & torchvision")
    at.button_group(key="app.metric").set_value("flops").run()
    table = at.dataframe[0].value
    row = table[table["Source"] == "ResNeXt paper (arXiv 1611.05431)"].iloc[0]
    assert row["Multiply-adds as printed"] == "4.2×10⁹ FLOPs"  # the paper's Table 1, its own convention
    assert row["FLOPs ours"] == exact(2 * 4_230_479_872)
    assert row["Δ multiply-adds %"] == f"{100 * (4_230_479_872 - 4.2e9) / 4.2e9:+.2f}"  # like with like: MACs


def test_other_tools_view_lists_every_tool_and_the_papers() -> None:
    at = _view(_build(), "Other tools")
    table = at.dataframe[0].value
    value = dict(zip(table["Source"].str.split(" ").str[0], table["Value"]))
    assert len(table) == 10  # two papers, eight tools
    assert value["fvcore"] == 4_111_512_576 and value["thop"] == 4_133_742_592  # REFERENCE.md


def test_the_flops_switch_reaches_generated_text_and_other_tools_says_it_stays() -> None:
    # ResNeXt-50's 3×3 convs against ResNet-50's: 231,211,008 vs 1,849,688,064 MACs (tests/test_presentation.py)
    three = (si(2 * 231_211_008, "FLOPs"), si(2 * 1_849_688_064, "FLOPs"))
    for page in (None, "views/compare.py"):
        at = _app(page)
        at.button_group(key="app.metric").set_value("flops").run()
        text = _text(at)
        assert "resnext50_32x4d has 1.03× the FLOPs and 0.979× the parameters of resnet50" in text, page
        assert f"({three[0]} vs {three[1]})" in text and "the MACs" not in text, page
    at = _view(_build(), "Other tools")
    at.button_group(key="app.metric").set_value("flops").run()
    assert f"({exact(2 * 4_089_184_256)} FLOPs = 2 × MACs)" in _text(at)


def test_the_live_tool_run_fills_every_cell_beside_what_each_tool_prints() -> None:
    at = _view(_build("resnet20"), "Other tools")
    at.button(key="build.tools_live").click().run()
    _ok(at)
    table = at.dataframe[0].value
    assert list(table.columns[:4]) == ["Source", "Prints", "Measured live", "Check"]  # on screen at 1100 px
    assert not table.isna().any().any(), table  # paper rows too: no "None" cells
    fvcore = table[table["Source"].str.startswith("fvcore")].iloc[0]
    assert fvcore["Check"] == "equal to the unit" and fvcore["Measured live"] == f"{fvcore['Value']:,}"


@pytest.mark.slow
def test_fvcore_check_runs_on_request() -> None:
    at = _view(_build("resnet20"), "fvcore check")
    at.button(key="build.check").click().run()
    _ok(at)
    assert at.success[0].value == "All 20 conv and linear layers agree exactly with fvcore."
    assert "aten::add" in _text(at)


def test_training_view_shows_the_exact_cost() -> None:
    from explorer.costs.training import train_cost

    at = _view(_build(), "Training")
    cost = train_cost(get_preset("resnet50"), batch_size=32, precision="float32", optimizer="sgd_momentum")
    m = _metrics(at)
    assert m["Peak memory (estimate)"] == (binary(cost.peak.total), f"{exact(cost.peak.total)} bytes")
    assert m["Saved activations"][0] == binary(cost.saved_activation_bytes)
    at.number_input(key="build.train_batch").set_value(0).run()
    assert at.error[0].value.startswith("**Batch size** — must be between 1 and")


def test_spec_view_shows_the_json_and_offers_the_downloads() -> None:
    at = _view(_build("resnext50_32x4d"), "Spec & export")
    from explorer import ArchSpec

    assert ArchSpec.from_json(next(c.value for c in at.code if c.language == "json")) == get_preset("resnext50_32x4d")
    assert len(at.get("download_button")) >= 2


@pytest.mark.parametrize(("view", "button", "shown"), [
    ("Latency", "build.measure", "Median"),
    ("Time per layer", "build.profile", "add up to"),
])
def test_measurements_run_on_request(view: str, button: str, shown: str) -> None:
    at = _view(_build("resnet20"), view)
    at.number_input(key="measure.threads").set_value(1).run()
    assert not at.get("plotly_chart")  # nothing runs until asked
    at.button(key=button).click().run()
    _ok(at)
    assert shown in _metrics(at) or shown in _text(at)
    assert at.get("plotly_chart")


def test_memory_budget_refusals_are_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPLORER_MEMORY_BUDGET_MB", "1")
    at = _view(_build(), "Latency")
    at.button(key="build.measure").click().run()
    _ok(at)
    assert at.error[0].value.startswith("**Memory** — running resnet50 at batch 1") and "1 MiB budget" in at.error[0].value


# --- uploads ----------------------------------------------------------------------------------------------
def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="build.upload").set_value((name, data, "application/octet-stream")).run()
    _ok(at)
    return at


def test_uploads_load_or_say_why_not_beside_the_uploader() -> None:
    at = _view(_build(), "Spec & export")
    _upload(at, "net.txt", b"{}")
    assert "a .json file" in at.error[0].value and _metrics(at)["Parameters"][1] == exact(R50)
    _upload(at, "big.json", b" " * (2**20 + 10))
    assert "at most 1 MiB" in at.error[0].value
    _upload(at, "bad.json", b'{"depths": "3,4,6,3"}')
    assert "Depth" in at.error[0].value and "unchanged" in at.error[0].value
    at.button_group(key="app.metric").set_value("flops").run()
    assert not at.error  # the message went with the next action
    example = (ROOT / "assets" / "example_spec.json").read_bytes()
    _upload(at, "example_spec.json", example)
    assert at.success[0].value == "Loaded example_spec.json." and _metrics(at)["Parameters"][1] == "13,537,700"


# --- links --------------------------------------------------------------------------------------------------
def test_a_link_reproduces_the_build_page() -> None:
    at = _app("views/build.py", {"preset": "resnet50", "downsample_on": "1x1", "metric": "flops", "view": "Diagram"})
    assert not at.warning
    assert _metrics(at)["FLOPs"] == ("7.72 GFLOPs", "7,715,946,496")  # 2 × 3,857,973,248, the ResNet paper's
    assert at.title[0].value == "Build — resnet50 (edited)"
    assert at.button_group(key="build.view").value == "Diagram"
    assert dict(at.query_params) == {"preset": "resnet50", "downsample_on": "1x1", "view": "Diagram",
                                     "metric": "flops"}


def test_a_partly_bad_link_applies_the_good_parts_and_names_each_bad_one() -> None:
    at = _app("views/build.py", {"preset": "resnet50", "depths": "3,x,6,3", "block": "basic", "metric": "GIGA"})
    warning = at.warning[0].value
    assert "`depths`" in warning and "`metric`" in warning and "`block`" not in warning
    assert at.title[0].value == "Build — resnet34"  # block=basic applied: resnet50's depths, basic blocks


def test_compare_links_carry_configurations_sizes_and_the_build_spec() -> None:
    at = _app("views/compare.py", {"compare": "resnet18,resnet34,bogus", "h": "160", "w": "160"})
    assert "bogus" in at.warning[0].value
    assert at.multiselect(key="compare.configs").value == ["resnet18", "resnet34"]
    assert at.toggle(key="compare.same_input").value is True
    assert at.query_params["compare"] == "resnet18,resnet34" and at.query_params["h"] == "160"
    at = _app("views/compare.py", {"compare": "resnet50,build", "preset": "resnet50", "downsample_on": "1x1"})
    totals = at.dataframe[0].value
    assert list(totals["Parameters"]) == [R50, R50] and list(totals["MACs"]) == [4_089_184_256, 3_857_973_248]
    at = _app("views/compare.py", {"compare": "resnet50"})
    assert "at least two" in at.info[0].value and at.multiselect(key="compare.configs").value == ["resnet50"]


def test_fig3_and_design_links() -> None:
    at = _app("views/fig3.py", {"cardinality": "4", "d": "8", "channels": "64", "size": "9"})
    assert [m.value for m in at.metric if m.label == "Convolutions"] == ["12", "9", "3"]
    at = _app("views/design.py", {"cardinality": "8", "depth": "101"})
    assert _metrics(at)["Width d"][0] == "14" and at.button_group(key="design.depth").value == "101"


def test_fig3_block_too_big_is_refused_under_the_field_that_made_it_so() -> None:
    at = _app("views/fig3.py", {"cardinality": "1024", "d": "16"})  # C·d = 16,384 channels: 67.4 GMACs
    assert [e.value.split(" — ")[0] for e in at.error] == ["**Cardinality C**"]
    assert "67.4 GMACs (at most 20)" in at.error[0].value and not at.get("graphviz_chart")


# --- Compare --------------------------------------------------------------------------------------------------
def test_compare_explains_the_default_pair() -> None:
    at = _app("views/compare.py")
    text = _text(at)
    assert "resnext50_32x4d has 1.03× the MACs and 0.979× the parameters of resnet50" in text
    assert "grouped into C = 32 (vs 1), each 3×3 with 0.125× the weights" in text
    totals = at.dataframe[0].value
    assert list(totals["Parameters"]) == [R50, RX50] and list(totals["Δ parameters"]) == [0, -528_128]
    assert len(at.get("plotly_chart")) == 2


@pytest.mark.parametrize("view", ["Latency", "Time per layer", "Training", "Other tools"])
def test_compare_views_render(view: str) -> None:
    at = _app("views/compare.py")
    at.button_group(key="compare.view").set_value(view).run()
    _ok(at)
    if view == "Other tools":
        table = at.dataframe[0].value
        assert table.iloc[0]["Source"] == "Our MACs" and list(table.iloc[0][["resnet50", "resnext50_32x4d"]]) == [
            4_089_184_256, 4_230_479_872]


def test_compare_latency_gives_a_verdict_with_its_interval() -> None:
    at = _app("views/compare.py")
    at.multiselect(key="compare.configs").set_value(["resnet20", "resnet56"]).run()
    at.button_group(key="compare.view").set_value("Latency").run()
    at.number_input(key="measure.threads").set_value(1).run()
    at.button(key="compare.measure").click().run()
    _ok(at)
    verdict = next(m.value for m in at.markdown if "paired rounds" in m.value)
    assert verdict.startswith("**resnet56 has 3.09× the MACs of resnet20 and ")
    assert "confidence at least 95% (here " in verdict and "1 thread(s)" in verdict
    table = at.dataframe[0].value
    assert list(table["Configuration"]) == ["resnet20", "resnet56"] and table["× the first (CI, its confidence)"][0] == "1 (baseline)"


def test_compare_latency_takes_the_time_limit_the_person_sets() -> None:
    at = _app("views/compare.py")
    at.multiselect(key="compare.configs").set_value(["resnet20", "resnet56"]).run()
    at.button_group(key="compare.view").set_value("Latency").run()
    at.number_input(key="measure.threads").set_value(1).run()
    at.number_input(key="compare.max_seconds").set_value(2.0).run()
    at.button(key="compare.measure").click().run()
    _ok(at)
    results = at.session_state["outcome:compare.latency"].result
    assert max(r.total_seconds for r in results) <= 2.0 + 0.5  # the limit bounds warm-up plus timed runs
    at.number_input(key="compare.max_seconds").set_value(0.0).run()  # below the field's bound: a message, no run
    assert at.error[0].value.startswith("**Time limit (s)** — must be between")


# --- Fig. 3 lab and Design space ----------------------------------------------------------------------------------
def test_fig3_lab_defaults_show_one_function_three_forms() -> None:
    at = _app("views/fig3.py")
    params = [m for m in at.metric if m.label == "Parameters"]
    assert [m.delta for m in params] == ["71,168"] * 3  # 70,144 conv weights (Table 2) + 1,024 BN parameters
    assert [m.value for m in at.metric if m.label == "Convolutions"] == ["96", "65", "3"]
    assert len(at.get("graphviz_chart")) == 3 and "Same function" in at.success[0].value
    assert "known within ±5% or the time limit" in _text(at)  # the timing's target, from FORMS_HALF_WIDTH


@pytest.mark.slow
def test_fig3_lab_measures_its_defaults() -> None:
    """Finding 1 of the experience issue: measuring the three forms failed at the defaults (256 channels)."""
    at = _app("views/fig3.py")
    at.number_input(key="measure.threads").set_value(1).run()
    at.button(key="fig3.measure").click().run()
    _ok(at)
    assert not at.error
    assert any("Form (a) takes" in m.value and "form c" in m.value for m in at.markdown)
    caption = next(c.value for c in at.caption if "on cpu (" in c.value)
    assert ", float32, batch 1, 1 thread(s)." in caption and caption.count("batch") == 1, caption  # said once


def test_design_page_shows_both_framings_and_the_three_tables() -> None:
    at = _app("views/design.py")
    values = [m.value for m in at.metric]
    assert {"1,179,648", "69,632", "73,728"} <= set(values)
    table2 = at.dataframe[0].value
    assert list(table2["d"]) == [64, 40, 24, 14, 4] and set(table2["Matches the paper"]) == {"yes"}
    table3 = at.dataframe[1].value
    assert list(table3["Top-1 error %"]) == [23.9, 23.0, 22.6, 22.3, 22.2]  # ResNeXt Table 3, depth 50
    table4 = at.dataframe[2].value
    assert list(table4["Network"])[-1] == "resnext101_64x4d" and list(table4["Parameters"])[-1] == 83_455_272
    at.number_input(key="design.cardinality").set_value(8).run()
    assert _metrics(at)["Width d"][0] == "14"  # ResNeXt Table 2


def test_streamlit_settings_take_effect() -> None:
    """Streamlit reads .streamlit/config.toml only; it is a symlink to streamlit_config.toml."""
    link = ROOT / ".streamlit" / "config.toml"
    assert link.is_symlink() and link.resolve() == (ROOT / "streamlit_config.toml").resolve()
    code = ("import streamlit.config as c; c.get_config_options(force_reparse=True); "
            "print(c.get_option('server.address'), c.get_option('server.maxUploadSize'), "
            "c.get_option('server.enableXsrfProtection'), c.get_option('browser.gatherUsageStats'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["localhost", "2", "True", "False"]


@pytest.fixture(scope="module")
def build_page() -> AppTest:
    return _app("views/build.py")


@pytest.mark.parametrize("name", [n for n in __import__("explorer").list_presets()])
def test_the_editor_shows_every_preset_field_for_field(build_page: AppTest, name: str) -> None:
    """Widget state round-trips: loading a preset puts each field into its widget, and the widgets read back give
    the preset exactly."""
    from explorer import ArchSpec
    from explorer.core.spec import SPEC_FIELDS

    at = build_page
    at.selectbox(key="build.preset").select(name).run()
    _ok(at)
    read: dict = {}
    for key, f in SPEC_FIELDS.items():
        if key == "input_size":
            read[key] = [_whole(at.number_input(key=f"build.{key}.{i}").value) for i in range(3)]
        elif f.kind == "ints":
            read[key] = [int(v) for v in at.text_input(key=f"build.{key}").value.split(", ")]
        elif key in ("name",):
            read[key] = at.text_input(key="build.name").value
        elif key in ("form", "shortcut", "stem", "stem_pool", "order", "attention", "norm"):
            read[key] = at.selectbox(key=f"build.{key}").value
        elif f.kind == "choice":
            read[key] = at.button_group(key=f"build.{key}").value
        elif f.kind == "bool":
            read[key] = at.toggle(key=f"build.{key}").value
        else:
            read[key] = _whole(at.number_input(key=f"build.{key}").value)
    assert ArchSpec.from_dict(read) == get_preset(name)
    assert at.title[0].value == f"Build — {name}" and _metrics(at)["Parameters"][1] == exact(analyze(get_preset(name)).params)


def test_library_errors_read_with_the_label_the_person_sees() -> None:
    """One label per input key across the library's field tables, and the app's error text uses it."""
    from explorer import SpecError
    from explorer.costs.design import DESIGN_FIELDS
    from explorer.core.run_fields import BLOCK_FIELDS, SETTINGS_FIELDS, SWEEP_FIELDS
    from explorer.core.spec import SPEC_FIELDS
    from explorer.costs.training import TRAIN_FIELDS, train_cost
    from ui.widgets import error_text

    seen: dict[str, str] = {}
    for table in (SPEC_FIELDS, SETTINGS_FIELDS, SWEEP_FIELDS, BLOCK_FIELDS, TRAIN_FIELDS, DESIGN_FIELDS):
        for key, f in table.items():
            assert seen.setdefault(key, f.label) == f.label, key
    with pytest.raises(SpecError) as e:
        train_cost(get_preset("resnet18"), batch_size=0)
    assert error_text(e.value).startswith("**Batch size** — ")
    with pytest.raises(SpecError) as e:
        get_preset("resnet18").edit(widths=[64, 0, 256, 512])
    assert error_text(e.value).startswith("**Width · stage 2** — ")


def test_the_server_freezes_its_heap_once_per_wave_of_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    """The collector's full passes skip what was loaded (they cost 60–150 ms of an edit before; see ui.cache)."""
    import gc

    from ui import cache

    collects: list[int] = []
    monkeypatch.setattr(cache, "_frozen_modules", 0)
    monkeypatch.setattr(gc, "collect", lambda *a: collects.append(1) or 0)
    try:
        cache.freeze_loaded()
        frozen = gc.get_freeze_count()
        assert frozen > 0 and collects == [1]
        cache.freeze_loaded()  # nothing new imported: no second full pass
        assert collects == [1]
        monkeypatch.setattr(cache, "_frozen_modules", len(sys.modules) - 21)  # as if 21 modules had come since
        cache.freeze_loaded()
        assert collects == [1, 1]
    finally:
        gc.unfreeze()


def test_a_click_during_a_measurement_is_seen_after_the_run_in_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    """``should_stop`` sees the person's click itself, so the library stops after the run in progress, not only
    after the next progress report (which came once per round: two runs and more of a large network)."""
    from types import SimpleNamespace

    import streamlit.runtime.scriptrunner_utils.script_run_context as context
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

    from ui.work import Interrupted

    requests = ScriptRequests()
    monkeypatch.setattr(context, "get_script_run_ctx", lambda suppress_warning=False: SimpleNamespace(
        script_requests=requests))
    stop = Interrupted()
    assert not stop()
    requests.request_rerun(RerunData())  # the click elsewhere
    assert stop() and stop()  # seen at once, and it stays seen
    assert requests.on_scriptrunner_yield() is not None  # not consumed: Streamlit still reruns as asked


@pytest.mark.parametrize(("typed", "message"), [
    (2.5, "**Cardinality C** — must be an integer, got float 2.5"),  # not rounded to 2 unseen
    (1e20, "**Cardinality C** — must be between 1 and"),  # a 20-digit value gets a message, not a bare "!"
])
def test_a_number_box_says_what_is_wrong_with_what_was_typed(typed: float, message: str) -> None:
    at = _build("resnext50_32x4d")
    at.number_input(key="build.cardinality").set_value(typed).run()
    _ok(at)
    assert at.error[0].value.startswith(message), at.error[0].value
    assert _metrics(at)["Parameters"][1] == exact(RX50)
    at.number_input(key="build.cardinality").set_value(32.0).run()  # a whole number typed back: valid again
    assert not at.error and at.title[0].value == "Build — resnext50_32x4d"


def test_the_editor_starts_from_a_timm_or_torchvision_model() -> None:
    """A model name fills every field from the model's modules; what cannot be read says what it met, and the last
    valid architecture stays."""
    at = _build()
    at.text_input(key="build.from").input("timm:resnetrs50").run()
    _ok(at)
    assert at.title[0].value == "Build — resnetrs50"
    assert _metrics(at)["Parameters"][1] == "35,691,912"  # timm's own count of resnetrs50
    assert at.selectbox(key="build.stem_pool").value == "conv" and at.selectbox(key="build.attention").value == "se"
    at.text_input(key="build.from").input("timm:vit_tiny_patch16_224").run()
    _ok(at)
    assert any("Start from a model" in e.value and "VisionTransformer" in e.value for e in at.error)
    assert at.title[0].value == "Build — resnetrs50"
