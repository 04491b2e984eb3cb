"""Exports: the standalone PyTorch file is the library's own classes, verbatim, and runs with only torch;
diagrams are escaped DOT."""

from __future__ import annotations

import ast
import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from explorer import ArchSpec, build_model, get_preset
from explorer.build import nets
from explorer.present.diagram import network_svg
from explorer.core.errors import ResourceError, SpecError
from explorer.build.export import NETS, export_onnx, export_python

VARIANTS = [
    dataclasses.replace(get_preset("resnet50"), downsample_on="1x1", depths=(3, 4, 23, 3), name="r50-1x1"),
    dataclasses.replace(get_preset("resnext50_32x4d"), form="a"),
    dataclasses.replace(get_preset("resnext50_32x4d"), form="b", depths=(1, 2, 1, 1)),
    dataclasses.replace(get_preset("resnet18"), shortcut="C", strides=(1, 1, 2, 2), input_size=(3, 97, 131)),
    dataclasses.replace(get_preset("resnet20"), stem_width=32, widths=(32, 64, 128), name='quote"and\\slash'),
    dataclasses.replace(get_preset("plain18"), num_classes=7),
]
# A 10¹¹-parameter network: refused before anything is allocated.
HUGE = ArchSpec(name="huge", block="basic", depths=(200,), widths=(16384,), stem_width=16384)


def _definitions(source: str) -> dict[str, str]:
    """Every top-level class and function of a module, as source text."""
    tree = ast.parse(source)
    return {n.name: ast.get_source_segment(source, n) for n in tree.body
            if isinstance(n, (ast.ClassDef, ast.FunctionDef))}


@pytest.mark.parametrize("spec", [get_preset("resnext50_32x4d"), *VARIANTS], ids=lambda s: s.name)
def test_the_exported_classes_are_the_librarys_own_verbatim(spec: ArchSpec) -> None:
    exported = export_python(spec)
    assert _definitions(exported) == _definitions(NETS.read_text())
    model = build_model(spec, "meta")
    assert type(model) is nets.ResNet
    ours = {v for v in vars(nets).values() if isinstance(v, type) and issubclass(v, torch.nn.Module)}
    assert {type(m) for m in model.modules()} <= ours | {
        torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.ReLU, torch.nn.MaxPool2d, torch.nn.AdaptiveAvgPool2d,
        torch.nn.Linear, torch.nn.Sequential, torch.nn.ModuleList}


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
    assert ns["INPUT_SIZE"] == spec.input_size
    spec_line = next(line for line in export_python(spec).splitlines() if line.startswith("# Its spec"))
    assert ArchSpec.from_json(spec_line.split(": ", 1)[1]) == spec


def test_export_name_cannot_inject_code() -> None:
    spec = dataclasses.replace(get_preset("resnet18"), name='x""" ; import os; os.system("echo pwned") ; """')
    src = export_python(spec)
    compile(src, "exported.py", "exec")
    assert "\nimport os" not in src
    assert all(line.startswith("#") for line in src.splitlines() if "pwned" in line)  # only ever in comments
    with pytest.raises(SpecError, match="^name: .*control character"):  # a newline cannot even reach the export
        dataclasses.replace(get_preset("resnet18"), name='x"""\nimport os\n"""')


def test_build_and_onnx_export_refuse_a_huge_network_before_allocating(tmp_path: Path) -> None:
    assert sum(p.numel() for p in build_model(HUGE, "meta").parameters()) > 10**11
    with pytest.raises(ResourceError, match="^memory: building huge in float32 needs about"):
        build_model(HUGE)
    with pytest.raises(ResourceError, match="^memory: exporting huge at batch 1"):
        export_onnx(HUGE, tmp_path / "huge.onnx")
    assert not (tmp_path / "huge.onnx").exists()
    small = get_preset("resnet20")
    with pytest.raises(ResourceError):
        build_model(small, budget=1000)
    assert build_model(small, budget=math.inf) is not None  # the explicit override


# --- diagrams: user text is escaped, never drawn -------------------------------------------------------------
def test_diagram_labels_are_escaped_and_the_name_never_drawn() -> None:
    from explorer.present.diagram import _q

    assert _q('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    svg = network_svg(dataclasses.replace(VARIANTS[4], name='<script>alert("x")</script>'))
    assert "script" not in svg and "quote" not in network_svg(VARIANTS[4])


@pytest.mark.parametrize("spec", [get_preset("resnet20"), dataclasses.replace(get_preset("resnext50_32x4d"),
                                                                           depths=(1, 1, 1, 1), input_size=(3, 64, 64))])
def test_onnx_bytes_are_one_self_contained_file_equal_to_torch(spec: ArchSpec, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from explorer.build.export import onnx_bytes
    from tests.conftest import onnx_outputs_vs_torch

    data = onnx_bytes(spec)
    assert onnx_outputs_vs_torch(data, spec) < 1e-4  # relative to the largest logit; BN folded into the convs
    path = export_onnx(spec, tmp_path / "m.onnx")  # the CLI's file: the same bytes, nothing beside it
    assert path.read_bytes() == data and sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]
