"""The command line: real numbers in every output, exit status 2 and one stderr line for bad input.

Most tests call ``main([...])`` in-process (fast); a few run ``python -m explorer`` for real to
prove the entry point and the import hygiene.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import ArchSpec, analyze, get_preset, list_presets
from explorer.cli import load_spec, main
from explorer.core.bounds import MAX_SPEC_BYTES
from explorer.core.vocab import CONVENTION_ASCII

ROOT = Path(__file__).resolve().parents[1]

R50_PARAMS, R50_MACS = 25_557_032, 4_089_184_256
RX50_PARAMS, RX50_MACS = 25_028_904, 4_230_479_872


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_spec(path: Path, spec: ArchSpec) -> Path:
    path.write_text(spec.to_json())
    return path


# --- list -----------------------------------------------------------------------------------
def test_list_table_has_every_preset_with_exact_numbers(capsys):
    code, out, err = run(capsys, "list")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == list_presets()
    r50 = next(line for line in lines if line.startswith("resnet50 "))
    assert "25,557,032" in r50 and "4,089,184,256" in r50 and "4.09 G" in r50
    rx50 = next(line for line in lines if line.startswith("resnext50_32x4d "))
    assert "25,028,904" in rx50 and "4,230,479,872" in rx50


def test_list_json(capsys):
    code, out, _ = run(capsys, "list", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and list(rows) == list_presets()
    assert rows["resnet50"] == {"name": "resnet50", "input_size": [3, 224, 224], "params": R50_PARAMS,
                                "macs": R50_MACS, "flops": 2 * R50_MACS, "activations": 11_114_984}
    assert (rows["resnext50_32x4d"]["params"], rows["resnext50_32x4d"]["macs"]) == (RX50_PARAMS, RX50_MACS)
    assert rows["resnet20"]["input_size"] == [3, 32, 32] and rows["resnet20"]["params"] == 269_722


# --- spec -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list_presets())
def test_spec_prints_the_preset(capsys, name):
    code, out, err = run(capsys, "spec", name)
    assert (code, err) == (0, "")
    assert ArchSpec.from_json(out) == get_preset(name)
    assert json.loads(out) == get_preset(name).to_dict()


def test_spec_file_is_validated_and_printed_resolved(capsys, tmp_path):
    (tmp_path / "s.json").write_text('{"name": "mini", "depths": [1, 1], "widths": [8, 16]}')
    code, out, _ = run(capsys, "spec", "--spec", str(tmp_path / "s.json"))
    assert code == 0
    assert json.loads(out) == ArchSpec(name="mini", depths=(1, 1), widths=(8, 16)).to_dict()
    assert json.loads(out)["strides"] == [1, 2] and json.loads(out)["expansion"] == 4


# --- summary --------------------------------------------------------------------------------
def test_summary_table_resnet50(capsys):
    code, out, err = run(capsys, "summary", "resnet50")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    stages = [line.split()[0] for line in lines if line.split()[:1] in (["stem"], ["head"]) or
              line.startswith("layer")]
    assert stages == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
    layer4 = next(line for line in lines if line.startswith("layer4"))
    assert "2048x7x7" in layer4 and "14,964,736" in layer4 and "809,238,528" in layer4
    total = next(line for line in lines if line.startswith("total "))
    assert "25,557,032" in total and "4,089,184,256" in total and "4.09 G" in total
    assert any(line.startswith("FLOPs") and "8,178,368,512" in line for line in lines)
    assert any(line.startswith("activations") and "11,114,984" in line for line in lines)
    assert any(line.startswith("other ops") and "39,063,016" in line for line in lines)
    convention = lines[-1]
    assert convention == f"Convention: {CONVENTION_ASCII}"  # the one sentence, from explorer.core.vocab
    assert "bias not counted" in convention and "GFLOPS" in convention and "FLOPs = 2 x MACs" in convention


def test_summary_flops_shows_twice_the_macs(capsys):
    code, out, _ = run(capsys, "summary", "resnext50_32x4d", "--flops")
    total = next(line for line in out.splitlines() if line.startswith("total "))
    assert code == 0 and "FLOPs" in out.splitlines()[3]
    assert f"{2 * RX50_MACS:,}" in total and "8.46 G" in total and f"{RX50_MACS:,}" not in total


def test_summary_layers_lists_every_layer(capsys):
    a = analyze(get_preset("resnet50"))
    code, out, _ = run(capsys, "summary", "resnet50", "--layers")
    rows = [line for line in out.splitlines() if line.split()[:1] and line.split()[0] in {r.name for r in a.layers}]
    assert code == 0 and len(rows) == len(a.layers) == 53 + 53 + 49 + 16 + 3  # conv, bn, relu, add, pools+fc
    conv3 = next(line for line in rows if line.startswith("layer4.2.conv3 "))
    assert conv3.split()[1:7] == ["conv", "512x7x7", "2048x7x7", "1,048,576", "51,380,224", "0"]


@pytest.mark.parametrize(
    ("name", "size"), [("resnet50", None), ("resnext50_32x4d", None), ("resnext50_32x4d", (3, 97, 131)),
                       ("resnet20", (3, 33, 17))],
)
def test_summary_json_is_analysis_to_dict(capsys, name, size):
    argv = ["summary", name, "--json"] + (["--input-size", *map(str, size)] if size else [])
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    assert json.loads(out) == analyze(get_preset(name), size).to_dict()


def test_summary_odd_input_size(capsys):
    code, out, _ = run(capsys, "summary", "resnet50", "--input-size", "3", "97", "131", "--json")
    d = json.loads(out)
    assert code == 0 and d["input_size"] == [3, 97, 131] and d["params"] == R50_PARAMS
    assert d["stages"][0]["out_shape"] == [64, 25, 33] and d["stages"][4]["out_shape"] == [2048, 4, 5]
    assert d["macs"] == analyze(get_preset("resnet50"), (3, 97, 131)).macs < R50_MACS


def test_summary_from_spec_file_and_path_argument(capsys, tmp_path):
    path = write_spec(tmp_path / "rx.json", get_preset("resnext50_32x4d"))
    _, by_flag, _ = run(capsys, "summary", "--spec", str(path), "--json")
    _, by_path, _ = run(capsys, "summary", str(path), "--json")
    assert json.loads(by_flag) == json.loads(by_path)
    assert (json.loads(by_flag)["params"], json.loads(by_flag)["macs"]) == (RX50_PARAMS, RX50_MACS)


def test_summary_reads_standard_input(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(get_preset("resnet50").to_json().encode())))
    code, out, _ = run(capsys, "summary", "--spec", "-", "--json")
    assert code == 0 and json.loads(out)["macs"] == R50_MACS


# --- compare --------------------------------------------------------------------------------
def test_compare_json_deltas(capsys):
    code, out, err = run(capsys, "compare", "resnet50", "resnext50_32x4d", "--json")
    assert (code, err) == (0, "")
    base, rx = json.loads(out)
    assert (base["name"], base["source"]) == ("resnet50", "resnet50")
    assert (base["params"], base["macs"]) == (R50_PARAMS, R50_MACS)
    assert base["delta_params"] == base["delta_macs"] == 0 and base["ratio_macs"] == base["ratio_params"] == 1.0
    assert (rx["params"], rx["macs"], rx["flops"]) == (RX50_PARAMS, RX50_MACS, 2 * RX50_MACS)
    assert rx["delta_params"] == -528_128 and rx["delta_macs"] == 141_295_616 and rx["delta_flops"] == 282_591_232
    assert rx["ratio_macs"] == pytest.approx(1.0346, abs=5e-5)
    assert rx["ratio_params"] == pytest.approx(0.97934, abs=1e-5)
    assert rx["delta_activations"] == 14_401_512 - 11_114_984
    assert set(rx) == {"name", "source", "input_size", "params", "macs", "flops", "activations", "other_ops",
                       *(f"{p}_{k}" for p in ("delta", "ratio") for k in ("params", "macs", "flops", "activations"))}


def test_compare_table(capsys):
    code, out, _ = run(capsys, "compare", "resnet50", "resnext50_32x4d", "wide_resnet50_2")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:4] == ["name", "input", "params", "vs"]
    assert "(baseline)" in lines[1]
    assert "-528,128 (-2.07%)" in lines[2] and "+141,295,616 (+3.46%)" in lines[2] and "4.23 G" in lines[2]
    assert "68,883,240" in lines[3] and "+43,326,208 (+169.53%)" in lines[3]
    assert "bias not counted" in out and "FLOPs = 2 x MACs" in out


def test_compare_files_input_size_and_flops(capsys, tmp_path):
    path = write_spec(tmp_path / "r50.json", get_preset("resnet50"))
    code, out, _ = run(capsys, "compare", "resnet50", str(path), "--input-size", "3", "97", "131", "--json")
    a, b = json.loads(out)
    assert code == 0 and b["source"] == str(path) and a["input_size"] == b["input_size"] == [3, 97, 131]
    assert b["delta_macs"] == 0 and b["ratio_macs"] == 1.0
    assert a["macs"] == analyze(get_preset("resnet50"), (3, 97, 131)).macs
    code, out, _ = run(capsys, "compare", "resnet50", "resnet18", "--flops")
    assert code == 0 and "FLOPs" in out.splitlines()[0] and f"{2 * 1_814_073_344:,}" in out


def test_load_spec_prefers_presets_then_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_spec(tmp_path / "resnet50", get_preset("resnext50_32x4d"))
    assert load_spec("resnet50") == get_preset("resnet50")
    assert load_spec("./resnet50") == get_preset("resnext50_32x4d")
    write_spec(tmp_path / "mine", get_preset("resnet18"))
    assert load_spec("mine") == get_preset("resnet18")  # exists on disk, no .json needed


# --- help states the convention -----------------------------------------------------------------
@pytest.mark.parametrize("argv", [[], ["list"], ["spec"], ["summary"], ["compare"]])
def test_help_states_the_convention(capsys, argv):
    code, out, _ = run(capsys, *argv, "--help")
    text = " ".join(out.split())
    assert code == 0
    assert CONVENTION_ASCII in text  # the one sentence, from explorer.core.vocab
    assert "MACs = multiply-accumulates of conv and linear layers, bias not counted" in text
    assert "'FLOPs'" in text and "'GFLOPS'" in text and "FLOPs = 2 x MACs" in text


# --- bad input: exit 2, one line on stderr, no traceback --------------------------------------
@pytest.fixture
def bad_files(tmp_path: Path) -> Path:
    (tmp_path / "broken.json").write_text("{nope")
    (tmp_path / "invalid.json").write_text('{"depths": [1, 2]}')
    (tmp_path / "unknown.json").write_text('{"depth": [1, 2]}')
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "latin1.json").write_bytes(b'{"name": "caf\xe9"}')
    (tmp_path / "big.json").write_bytes(b" " * MAX_SPEC_BYTES + b"{}")
    (tmp_path / "dir.json").mkdir()
    return tmp_path


BAD = [
    (["summary", "nope"], "valid names are resnet18, resnet34"),
    (["spec", "resnet51"], "unknown name 'resnet51'"),
    (["compare", "resnet50", "nope"], "valid names are"),
    (["summary", "--spec", "{d}/missing.json"], "cannot read spec file"),
    (["summary", "{d}/missing.json"], "No such file"),
    (["summary", "--spec", "{d}/dir.json"], "cannot read spec file"),
    (["summary", "--spec", "{d}/broken.json"], "not valid JSON"),
    (["compare", "resnet50", "{d}/broken.json"], "not valid JSON"),
    (["summary", "--spec", "{d}/latin1.json"], "not valid JSON"),
    (["summary", "--spec", "{d}/invalid.json"], "widths: needs one width per stage"),
    (["spec", "--spec", "{d}/unknown.json"], "depth: unknown field"),
    (["summary", "--spec", "{d}/list.json"], "must be a JSON object"),
    (["summary", "--spec", "{d}/big.json"], "larger than 1 MB"),
    (["summary", "resnet50", "--input-size", "3", "0", "224"], "input_size: must be between 1 and 4096, got 0"),
    (["summary", "resnet50", "--input-size", "3", "5000", "224"], "input_size"),
    (["summary", "resnet50", "--input-size", "1", "224", "224"], "takes 3 input channels"),
    (["compare", "resnet50", "resnet20", "--input-size", "4", "32", "32"], "takes 3 input channels"),
    (["summary", "resnet50", "--input-size", "3", "x", "224"], "invalid int value"),
    (["summary", "resnet50", "--input-size", "3", "224"], "--input-size"),
    (["summary"], "exactly one of NAME, --spec FILE and --from"),
    (["summary", "resnet50", "--spec", "{d}/invalid.json"], "(got 2)"),
    (["spec"], "exactly one of NAME, --spec FILE and --from"),
    (["compare", "resnet50"], "at least two"),
    (["compare"], "required"),
    (["summary", "resnet50", "--bogus"], "unrecognized arguments"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a) or "(none)" for a, _ in BAD])
def test_bad_input_exits_2_with_one_line(capsys, bad_files, argv, message):
    code, out, err = run(capsys, *(a.replace("{d}", str(bad_files)) for a in argv))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert message in err and "Traceback" not in err


# --- the real entry point -------------------------------------------------------------------------
def _python(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, input=stdin, capture_output=True,
                          text=True, timeout=120)


def test_python_m_explorer_summary_json():
    proc = _python("-m", "explorer", "summary", "resnext50_32x4d", "--input-size", "3", "97", "131", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == analyze(get_preset("resnext50_32x4d"), (3, 97, 131)).to_dict()


def test_python_m_explorer_bad_input():
    proc = _python("-m", "explorer", "summary", "--spec", "-", stdin='{"block": "bottle"}')
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: block: must be one of") and proc.stderr.count("\n") == 1


def test_cli_does_not_import_streamlit_or_fvcore():
    code = "import sys, explorer.cli; print(sorted(m for m in ('streamlit', 'fvcore') if m in sys.modules))"
    proc = _python("-c", code)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stderr


# --- export -------------------------------------------------------------------------------------
def test_export_json_round_trips(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "export", "resnext50_32x4d")
    assert code == 0 and err == ""
    assert ArchSpec.from_json(out) == get_preset("resnext50_32x4d")


def test_export_py_to_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "r20.py"
    code, out, err = run(capsys, "export", "resnet20", "--format", "py", "-o", str(target))
    assert code == 0 and out == "" and "wrote" in err
    namespace: dict = {}
    exec(compile(target.read_text(), str(target), "exec"), namespace)  # our own export
    assert sum(p.numel() for p in namespace["build"]().parameters()) == 269_722


def test_export_onnx_needs_output_or_packages(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "export", "resnet20", "--format", "onnx")
    assert code == 2 and err.startswith("error: ") and "-o FILE" in err
    from explorer.build.export import onnx_available

    if not onnx_available():
        code, out, err = run(capsys, "export", "resnet20", "--format", "onnx", "-o", str(tmp_path / "m.onnx"))
        assert code == 2 and "onnxscript" in err and len(err.strip().splitlines()) == 1


# --- bench ----------------------------------------------------------------------------------------
def test_bench_json_fields_are_consistent(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "bench", "resnet20", "--json", "--max-seconds", "2", "--threads", "1")
    assert code == 0, err
    r = json.loads(out)
    assert r["p10_ms"] <= r["median_ms"] <= r["p90_ms"]
    assert r["runs"] == len(r["times_ms"]) >= 1 and r["batch_size"] == 1 and r["threads"] == 1
    assert r["throughput"] == pytest.approx(1000 / r["median_ms"])
    assert r["macs"] == 40_551_040
    assert r["roofline"]["achieved_macs_per_s"] == pytest.approx(40_551_040 / (r["median_ms"] / 1000))


def test_bench_table_states_units(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "bench", "resnet20", "--max-seconds", "1", "--batch-size", "2")
    assert code == 0
    assert " ms" in out and "images/s" in out and "GMAC/s" in out and "FLOPs = 2 x MACs" in out


@pytest.mark.parametrize("argv, field", [
    (["--device", "tpu"], "device"),
    (["--device", "cuda:7"], "device"),
    (["--batch-size", "0"], "batch_size"),
])
def test_bench_bad_input_exits_2(capsys: pytest.CaptureFixture[str], argv: list[str], field: str | None) -> None:
    code, out, err = run(capsys, "bench", "resnet20", *argv)
    assert code == 2 and out == "" and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    if field:
        assert err.startswith(f"error: {field}")


def test_bench_refuses_over_memory_budget(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPLORER_MEMORY_BUDGET_MB", "1")
    code, _, err = run(capsys, "bench", "resnet50")
    assert code == 2 and err.startswith("error: memory: ") and "1 MiB budget" in err


def test_width_for_reproduces_table2(capsys: pytest.CaptureFixture[str]) -> None:
    for c, d, params in [(1, 64, 69_632), (2, 40, 69_760), (4, 24, 69_888), (8, 14, 71_456), (32, 4, 70_144)]:
        code, out, _ = run(capsys, "width-for", "--cardinality", str(c), "--json")
        r = json.loads(out)
        assert code == 0 and (r["cardinality"], r["d"], r["width"], r["params"]) == (c, d, c * d, params)


def test_equivalence_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "equivalence", "-C", "4", "-d", "8", "--channels", "64", "--size", "9", "--json")
    assert code == 0, err
    forms = json.loads(out)["forms"]
    assert {f["params"] for f in forms.values()} == {4 * (64 * 8 + 9 * 64 + 8 * 64) + 2 * (32 + 32 + 64)}
    assert len({f["macs"] for f in forms.values()}) == 1
    assert all(f["max_abs_diff_float32"] < 1e-4 and f["max_abs_diff_float64"] < 1e-10 for f in forms.values())
    assert all(f["latency_ms"] > 0 for f in forms.values())


def test_equivalence_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["-C", "0"], ["--device", "cuda:3", "--no-latency"], ["--size", "0"]):
        code, _, err = run(capsys, "equivalence", *argv)
        assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_example_spec_in_assets(capsys: pytest.CaptureFixture[str]) -> None:
    """The example file the README points to loads and has the documented size."""
    code, out, _ = run(capsys, "summary", "--spec", str(Path(__file__).resolve().parents[1] / "assets" /
                                                        "example_spec.json"), "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["params"], data["macs"]) == (13_537_700, 769_531_904)


def test_from_reads_a_timm_or_torchvision_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "summary", "--from", "timm:resnet50d", "--json")
    assert code == 0 and json.loads(out)["params"] == 25_576_264  # timm's resnet50d
    code, out, _ = run(capsys, "summary", "--from", "torchvision:resnext50_32x4d", "--json")
    assert code == 0 and json.loads(out)["macs"] == 4_230_479_872
    code, _, err = run(capsys, "summary", "--from", "timm:vit_tiny_patch16_224")
    assert code == 2 and "VisionTransformer" in err and "Traceback" not in err
    code, _, err = run(capsys, "summary", "resnet50", "--from", "timm:resnet50d")
    assert code == 2 and "exactly one of NAME, --spec FILE and --from" in err
