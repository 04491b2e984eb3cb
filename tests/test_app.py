"""The pages render in Streamlit's AppTest and show the right numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


def _app() -> AppTest:
    # Run once first: st.navigation registers the pages (and their url paths) during the first run.
    return AppTest.from_file(APP, default_timeout=90).run()


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _show(at: AppTest, view: str) -> AppTest:
    """Pick one of the Build page's views (one renders at a time)."""
    return at.button_group(key="build.view").set_value(view).run()


def _no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_home_page_explains_and_links() -> None:
    at = _app()
    _no_errors(at)
    assert at.title[0].value == "Architecture Explorer"
    text = " ".join(m.value for m in at.markdown)
    assert "FLOPs = 2 × MACs" in text and "arXiv 1611.05431" in text


def test_build_page_default_is_resnet50_and_presets_load() -> None:
    at = _app()
    at.switch_page("views/build.py").run()
    _no_errors(at)
    assert _metrics(at)["Parameters"] == "25,557,032"
    assert _metrics(at)["MACs"] == "4.09 GMACs"
    assert at.title[0].value == "Build — resnet50"
    at.selectbox(key="build.preset").select("resnext50_32x4d").run()
    assert _metrics(at)["Parameters"] == "25,028,904"
    assert at.number_input(key="build.cardinality").value == 32
    assert at.number_input(key="build.base_width").value == 4
    _show(at, "Charts")
    assert len(at.get("plotly_chart")) == 3
    at.selectbox(key="build.preset").select("resnet20").run()
    assert _metrics(at)["Parameters"] == "269,722"


def test_build_page_flops_toggle_doubles() -> None:
    at = _app()
    at.switch_page("views/build.py").run()
    at.radio(key="metric").set_value("FLOPs").run()
    metrics = _metrics(at)
    assert "MACs" not in metrics and metrics["FLOPs"] == "8.18 GFLOPs"


def test_build_page_edits_and_stride_placement() -> None:
    at = _app()
    at.switch_page("views/build.py").run()
    at.radio(key="build.downsample_on").set_value("1x1").run()
    assert _metrics(at)["MACs"] == "3.86 GMACs"  # the ResNet paper's 3.8e9
    assert _metrics(at)["Parameters"] == "25,557,032"
    _show(at, "Papers & torchvision")
    text = " ".join(m.value for m in at.markdown)
    assert "3,857,973,248" in text and "4,089,184,256" in text
    # four stages → three: layer4 disappears, the fc takes layer3's 1024 channels
    at.number_input(key="build.stages").set_value(3).run()
    _no_errors(at)
    assert _metrics(at)["Parameters"] != "25,557,032"
    assert any("Custom architecture" in c.value for c in at.caption)


def test_build_page_invalid_spec_names_the_field() -> None:
    at = _app()
    at.switch_page("views/build.py").run()
    at.selectbox(key="build.preset").select("resnet18").run()
    at.selectbox(key="build.shortcut").select("A").run()
    at.number_input(key="build.width.1").set_value(8).run()  # option A cannot shrink 64 → 8 channels
    _no_errors(at)
    assert at.error and "shortcut" in at.error[0].value
    assert not at.metric


def test_block_switch_resets_cardinality() -> None:
    at = _app()
    at.switch_page("views/build.py").run()
    at.selectbox(key="build.preset").select("resnext50_32x4d").run()
    at.radio(key="build.block").set_value("basic").run()
    _no_errors(at)
    assert not at.error
    assert _metrics(at)["Parameters"] == "21,797,672"  # ResNeXt-50's depths with basic blocks = ResNet-34


def test_build_edits_survive_a_page_switch_and_feed_compare() -> None:
    at = _app()
    at.switch_page("views/build.py").run()
    at.selectbox(key="build.preset").select("resnet18").run()
    at.switch_page("views/compare.py").run()
    at.multiselect(key="compare.configs").select("★ Build page architecture").run()
    _no_errors(at)
    assert "11,689,512" in [m.value for m in at.metric]
    at.switch_page("views/build.py").run()
    assert at.selectbox(key="build.preset").value == "resnet18"
    assert _metrics(at)["Parameters"] == "11,689,512"


def test_compare_page_default_pair() -> None:
    at = _app()
    at.switch_page("views/compare.py").run()
    _no_errors(at)
    values = [m.value for m in at.metric]
    assert values[0] == "25,557,032" and "25,028,904" in values
    text = " ".join(m.value for m in at.markdown)
    assert "resnext50_32x4d has 1.03× the MACs and 0.979× the parameters of resnet50" in text
    assert len(at.get("plotly_chart")) == 2
    totals = at.dataframe[0].value
    assert list(totals["params"]) == [25_557_032, 25_028_904]
    assert list(totals["Δ params"]) == [0, -528_128]


def test_compare_page_needs_two() -> None:
    at = _app()
    at.switch_page("views/compare.py").run()
    at.multiselect(key="compare.configs").set_value(["resnet50"]).run()
    _no_errors(at)
    assert "at least two" in at.info[0].value


def test_streamlit_settings_take_effect() -> None:
    """Streamlit reads .streamlit/config.toml only; it is a symlink to streamlit_config.toml."""
    link = ROOT / ".streamlit" / "config.toml"
    assert link.is_symlink() and link.resolve() == (ROOT / "streamlit_config.toml").resolve()
    code = (
        "import streamlit.config as c; c.get_config_options(force_reparse=True); "
        "print(c.get_option('server.address'), c.get_option('server.maxUploadSize'), "
        "c.get_option('server.enableXsrfProtection'), c.get_option('browser.gatherUsageStats'))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["localhost", "1", "True", "False"]


@pytest.mark.parametrize("page", ["views/home.py", "views/build.py", "views/compare.py", "views/fig3.py",
                                  "views/design.py"])
def test_every_page_renders_without_exception(page: str) -> None:
    at = _app()
    at.switch_page(page).run()
    _no_errors(at)


def test_cross_check_runs_fvcore_on_request() -> None:
    at = _app()
    at.switch_page("views/build.py").run()
    at.selectbox(key="build.preset").select("resnet20").run()
    _show(at, "Cross-check (fvcore)")
    at.button(key="build.check").click().run()
    _no_errors(at)
    assert at.success[0].value == "All 20 conv and linear layers agree exactly with fvcore."
    text = " ".join(m.value for m in at.markdown)
    assert "aten::add" in text and "aten::relu" in text


def test_cross_check_refuses_over_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPLORER_MEMORY_BUDGET_MB", "1")
    at = _app()
    at.switch_page("views/build.py").run()
    _show(at, "Cross-check (fvcore)")
    at.button(key="build.check").click().run()
    _no_errors(at)
    assert "Not built" in at.error[0].value and "1 MiB budget" in at.error[0].value


@pytest.mark.parametrize("view", ["Stages", "Layers", "Charts", "Diagram", "Papers & torchvision",
                                  "Cross-check (fvcore)", "Latency", "Spec & export"])
def test_every_build_view_renders(view: str) -> None:
    at = _app()
    at.switch_page("views/build.py").run()
    _show(at, view)
    _no_errors(at)
    assert _metrics(at)["Parameters"] == "25,557,032"


def test_build_page_measures_latency_on_request() -> None:
    at = _app()
    at.switch_page("views/build.py").run()
    at.selectbox(key="build.preset").select("resnet20").run()
    _show(at, "Latency")
    assert "Median" not in _metrics(at)  # nothing runs until asked
    at.number_input(key="build.lat.threads").set_value(1).run()
    at.button(key="build.measure").click().run()
    _no_errors(at)
    metrics = _metrics(at)
    median = float(metrics["Median"].removesuffix(" ms").replace(",", ""))
    low, high = (float(v.replace(",", "")) for v in metrics["p10 – p90"].removesuffix(" ms").split(" – "))
    assert low <= median <= high
    assert float(metrics["Throughput"].removesuffix(" img/s").replace(",", "")) == pytest.approx(1000 / median, rel=0.02)
    assert metrics["Achieved"].endswith("GMAC/s") and metrics["Of the device's peak"].endswith("%")
    assert len(at.get("plotly_chart")) == 1


def test_build_page_sweep_stops_within_budget() -> None:
    at = _app()
    at.switch_page("views/build.py").run()
    at.selectbox(key="build.preset").select("resnet20").run()
    _show(at, "Latency")
    at.slider(key="build.lat.budget").set_value(5).run()
    at.button(key="build.sweep").click().run()
    _no_errors(at)
    assert at.info and ("budget" in at.info[0].value or "every batch size" in at.info[0].value)
    assert len(at.get("plotly_chart")) == 1


def test_latency_refused_over_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPLORER_MEMORY_BUDGET_MB", "1")
    at = _app()
    at.switch_page("views/build.py").run()
    _show(at, "Latency")
    at.button(key="build.measure").click().run()
    _no_errors(at)
    assert "Not measured" in at.error[0].value and "memory" in at.error[0].value


def test_compare_page_measures_interleaved() -> None:
    at = _app()
    at.switch_page("views/compare.py").run()
    at.multiselect(key="compare.configs").set_value(["resnet20", "resnet56"]).run()
    at.number_input(key="compare.lat.threads").set_value(1).run()
    at.button(key="compare.measure").click().run()
    _no_errors(at)
    sentence = next(m.value for m in at.markdown if "as long" in m.value)
    assert sentence.startswith("**resnet56 has 3.09× the MACs of resnet20 and takes ")
    assert "on this CPU" in sentence and "1 thread(s)" in sentence
