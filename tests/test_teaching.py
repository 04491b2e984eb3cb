"""The teaching pages: Fig. 3 lab and Design space render and show the paper's numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def _page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_fig3_lab_defaults_show_one_function_three_forms() -> None:
    at = _page("views/fig3.py")
    metrics = [(m.label, m.value) for m in at.metric]
    params = [v for k, v in metrics if k == "Parameters"]
    assert params == ["71,168"] * 3  # 70,144 conv weights (Table 2) + 1,024 BN parameters
    assert [v for k, v in metrics if k == "Convolutions"] == ["96", "65", "3"]
    diffs = [float(v) for k, v in metrics if k.startswith("max |out")]
    assert len(diffs) == 4 and all(x < 1e-4 for x in diffs[0::2]) and all(x < 1e-12 for x in diffs[1::2])
    assert "70,144" in at.caption[0].value
    assert len(at.get("graphviz_chart")) == 3
    assert "Fig. 4" in at.info[0].value


def test_fig3_lab_train_mode_and_small_config() -> None:
    at = _page("views/fig3.py")
    at.number_input(key="fig3.cardinality").set_value(4).run()
    at.number_input(key="fig3.d").set_value(8).run()
    at.number_input(key="fig3.channels").set_value(64).run()
    at.number_input(key="fig3.size").set_value(9).run()
    at.toggle(key="fig3.train").set_value(True).run()
    assert not at.exception
    assert "train mode" in at.success[0].value
    params = [m.value for m in at.metric if m.label == "Parameters"]
    assert params == [f"{4 * (64 * 8 + 9 * 8 * 8 + 8 * 64) + 2 * (32 + 32 + 64):,}"] * 3


@pytest.mark.slow
def test_fig3_lab_whole_network_check() -> None:
    at = _page("views/fig3.py")
    at.button(key="fig3.network").click().run(timeout=300)
    assert not at.exception
    table = at.dataframe[-1].value
    assert list(table["params"]) == [25_028_904] * 3
    assert list(table["convs"]) == [1541, 1045, 53]


def test_design_page_reproduces_table2() -> None:
    at = _page("views/design.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Basic block at 256 channels"] == "1,179,648"
    assert metrics["Bottleneck 256 → 64 → 256"] == "69,632"
    table = at.dataframe[0].value
    assert list(table["C"]) == [1, 2, 4, 8, 32]
    assert list(table["d"]) == [64, 40, 24, 14, 4]
    assert list(table["params"]) == [69_632, 69_760, 69_888, 71_456, 70_144]
    assert table["matches paper"].all()
    nets = at.dataframe[1].value
    assert list(nets["params"]) == [25_557_032, 25_425_000, 25_292_968, 25_603_016, 25_028_904]
    assert list(nets["top-1 error % (paper)"]) == [23.9, 23.0, 22.6, 22.3, 22.2]
    assert len(at.get("plotly_chart")) == 2


def test_design_page_solves_for_d() -> None:
    at = _page("views/design.py")
    at.number_input(key="design.C").set_value(64).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Width d"] == "2" and metrics["Parameters"] == f"{64 * (256 * 2 + 9 * 4 + 2 * 256):,}"
    at.radio(key="design.depth").set_value(101).run()
    assert list(at.dataframe[1].value["top-1 error % (paper)"]) == [22.0, 21.7, 21.4, 21.3, 21.2]
