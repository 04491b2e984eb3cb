"""Sharing: links, spec files, standalone code export, diagrams."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer import ArchSpec, SpecError, build_model, get_preset, list_presets
from explorer.diagram import block_dot, network_dot
from explorer.export import export_python
from explorer.links import params_to_spec, spec_to_params

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = [
    dataclasses.replace(get_preset("resnet50"), downsample_on="1x1", depths=(3, 4, 23, 3), name="r50-1x1"),
    dataclasses.replace(get_preset("resnext50_32x4d"), form="a"),
    dataclasses.replace(get_preset("resnet18"), shortcut="C", strides=(1, 1, 2, 2), input_size=(3, 97, 131)),
    dataclasses.replace(get_preset("resnet20"), stem_width=32, widths=(32, 64, 128), name='quote"and\\slash'),
]


# --- links ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", [get_preset(n) for n in list_presets()] + VARIANTS, ids=lambda s: s.name)
def test_link_round_trip(spec: ArchSpec) -> None:
    params = spec_to_params(spec)
    assert all(isinstance(v, str) for v in params.values())
    assert params_to_spec(params) == spec


def test_link_is_readable() -> None:
    assert spec_to_params(get_preset("resnext50_32x4d")) == {"preset": "resnext50_32x4d"}
    spec = dataclasses.replace(get_preset("resnet50"), downsample_on="1x1")
    assert spec_to_params(spec, "resnet50") == {"preset": "resnet50", "downsample_on": "1x1"}


@pytest.mark.parametrize(
    "params, field",
    [
        ({"preset": "resnet5O"}, "preset"),
        ({"preset": "resnet50", "depths": "3,4,-6,3"}, "depths"),
        ({"preset": "resnet50", "cardinality": "1e9"}, "cardinality"),
        ({"preset": "resnet50", "widths": "64,128"}, "widths"),
        ({"preset": "resnet50", "block": "<script>"}, "block"),
        ({"preset": "resnet50", "num_classes": "9" * 300}, "num_classes"),
        ({"preset": "resnet18", "cardinality": "32"}, "cardinality"),
        ({"preset": "resnet50", "input_size": "3,0,224"}, "input_size"),
    ],
)
def test_tampered_link_names_the_parameter(params: dict, field: str) -> None:
    with pytest.raises(SpecError, match=f"^{field}"):
        params_to_spec(params)


def test_link_without_spec_keys_is_none() -> None:
    assert params_to_spec({"metric": "FLOPs"}) is None


def _app_with(params: dict[str, str], page: str) -> tuple[AppTest, list[str]]:
    """Open a link; returns the app on ``page`` and the warnings shown on the link's first view."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    warnings = [w.value for w in at.warning]
    at.switch_page(page).run()
    return at, warnings


def test_link_reproduces_the_build_view() -> None:
    at, warnings = _app_with({"preset": "resnet50", "downsample_on": "1x1", "metric": "FLOPs"}, "views/build.py")
    assert not warnings
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Parameters"] == "25,557,032"
    assert metrics["FLOPs"] == "7.72 GFLOPs"  # 2 × 3,857,973,248
    assert at.radio(key="build.downsample_on").value == "1x1"
    assert dict(at.query_params) == {"preset": "resnet50", "downsample_on": "1x1", "metric": "FLOPs"}


def test_tampered_link_falls_back_with_a_message() -> None:
    at, warnings = _app_with({"preset": "resnet50", "depths": "3,x,6,3", "metric": "GIGA"}, "views/build.py")
    assert not at.exception
    warning = warnings[0]
    assert "depths" in warning and "metric" in warning
    assert {m.label: m.value for m in at.metric}["Parameters"] == "25,557,032"


def test_compare_link() -> None:
    at, warnings = _app_with({"compare": "resnet18,resnet34,bogus", "h": "160", "w": "160"}, "views/compare.py")
    assert not at.exception
    assert "bogus" in warnings[0]
    values = [m.value for m in at.metric]
    assert values[0] == "11,689,512" and "21,797,672" in values
    assert at.toggle(key="compare.same_input").value is True
    assert at.query_params["compare"] == "resnet18,resnet34"


# --- spec files -----------------------------------------------------------------------------------
def test_json_download_upload_round_trip() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    at.switch_page("views/build.py").run()
    at.selectbox(key="build.preset").select("resnext50_32x4d").run()
    at.button_group(key="build.view").set_value("Spec & export").run()
    at.radio(key="build.form").set_value("b").run()
    shown = next(c.value for c in at.code if c.language == "json")
    at.selectbox(key="build.preset").select("resnet18").run()
    assert {m.label: m.value for m in at.metric}["Parameters"] == "11,689,512"
    at.file_uploader(key="build.upload").set_value(("mine.json", shown.encode(), "application/json")).run()
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Parameters"] == "25,028,904"
    assert at.radio(key="build.form").value == "b"
    assert ArchSpec.from_json(shown) == ArchSpec.from_json(next(c.value for c in at.code if c.language == "json"))


def test_bad_upload_keeps_the_architecture() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    at.switch_page("views/build.py").run()
    at.button_group(key="build.view").set_value("Spec & export").run()
    at.file_uploader(key="build.upload").set_value(("x.json", b'{"depths": "3,4,6,3"}', "application/json")).run()
    assert not at.exception
    assert "depths" in at.error[0].value and "unchanged" in at.error[0].value
    assert {m.label: m.value for m in at.metric}["Parameters"] == "25,557,032"


# --- code export ----------------------------------------------------------------------------------
_RUNNER = """
import json, runpy, sys
try:
    import explorer
    sys.exit("explorer must not be importable here")
except ImportError:
    pass
ns = runpy.run_path("model.py")
model = ns["build"]()
print(json.dumps({"params": sum(p.numel() for p in model.parameters()),
                  "keys": {k: list(v.shape) for k, v in model.state_dict().items()}}))
"""


@pytest.mark.parametrize("spec", [get_preset("resnet50"), get_preset("resnet20"), *VARIANTS], ids=lambda s: s.name)
def test_exported_python_rebuilds_the_model_without_explorer(spec: ArchSpec, tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(export_python(spec))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-I", "-c", _RUNNER], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    model = build_model(spec, "meta")
    assert result["params"] == sum(p.numel() for p in model.parameters())
    assert result["keys"] == {k: list(v.shape) for k, v in model.state_dict().items()}


def test_exported_python_computes_the_same_function() -> None:
    spec = dataclasses.replace(get_preset("resnext50_32x4d"), depths=(1, 2, 1, 1), form="b")
    ns: dict = {}
    exec(compile(export_python(spec), "exported.py", "exec"), ns)  # our own generated file, not user data
    ours, theirs = build_model(spec).eval(), ns["build"]().eval()
    theirs.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x))


def test_export_name_cannot_inject_code() -> None:
    spec = dataclasses.replace(get_preset("resnet18"), name='x"""\nimport os; os.system("echo pwned")\n"""')
    src = export_python(spec)
    compile(src, "exported.py", "exec")
    assert "\nimport os" not in src


# --- diagrams -------------------------------------------------------------------------------------
def test_network_diagram_collapses_repeats_and_draws_shortcuts() -> None:
    dot = network_dot(get_preset("resnet50"))
    assert dot.startswith("digraph G {") and dot.rstrip().endswith("}")
    assert "layer1.1 … layer1.2  (× 2)" in dot and "layer3.1 … layer3.5  (× 5)" in dot
    assert dot.count("style=dashed") == 8  # a first block and its repeats in each of 4 stages
    assert dot.count('label="projection 1×1, ') == 4 and dot.count('label="identity"') == 4
    assert 'label="256×56×56"' in dot and 'label="2048×7×7"' in dot
    plain = network_dot(get_preset("plain18"))
    assert "style=dashed" not in plain
    cifar = network_dot(get_preset("resnet20"))
    assert "zero-pad to 32, /2" in cifar and "max pool" not in cifar


def test_diagram_labels_are_escaped() -> None:
    from explorer.diagram import _q

    assert _q('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    assert "quote" not in network_dot(VARIANTS[3])  # the free-text name is never drawn


@pytest.mark.parametrize("form", ["a", "b", "c"])
def test_block_diagram_per_form(form: str) -> None:
    dot = block_dot(form, 32, 4, 256)
    if form == "c":
        assert "3×3, 128, groups = 32" in dot
    else:
        assert "… 29 more paths …" in dot and dot.count('[label="1×1, 4"]') == 3
        assert ("Σ (sum)" in dot) == (form == "a")
        assert ("concatenate, 128" in dot) == (form == "b")


def test_compare_link_with_the_build_spec() -> None:
    """A compare link that includes the Build page's architecture carries that spec along."""
    at, warnings = _app_with({"compare": "resnet50,build", "preset": "resnet50", "downsample_on": "1x1"},
                             "views/compare.py")
    assert not at.exception and not warnings and not at.error
    totals = at.dataframe[0].value
    assert list(totals["params"]) == [25_557_032, 25_557_032]
    assert list(totals["macs"]) == [4_089_184_256, 3_857_973_248]
