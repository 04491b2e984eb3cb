"""The train-cost and conventions commands: real numbers, derived independently where we can, and exit 2 with
one line naming the field for bad input.

Expected values come from the papers' arithmetic, torchvision's models (built on the meta device: shapes
only), ../shared/REFERENCE.md's table of what the tools print, and the tools themselves (``--live``).
"""

from __future__ import annotations

import json

import pytest
import torch
import torchvision

import explorer.build.devices
import explorer.measure.train_step
from explorer import get_preset
from explorer.cli import main
from explorer.costs.counters import TOOL_IDS
from explorer.measure.counters_live import installed_version
from explorer.core.errors import OutOfMemory
from explorer.costs.training import GPU_MEMORY, max_batch_size, train_cost
from explorer.core.vocab import CONVENTION_ASCII

R50_PARAMS, R50_MACS = 25_557_032, 4_089_184_256
R50_STEM_MACS = 7 * 7 * 3 * 64 * 112 * 112  # the first conv: its input, the image, needs no gradient
COST_KEYS = ("forward_macs", "backward_macs", "train_flops", "param_bytes", "grad_bytes", "optimizer_bytes",
             "saved_activation_bytes", "peak_bytes")
GiB = 2**30

# ../shared/REFERENCE.md: what the tools print for torchvision's networks at 1x3x224x224.
PRINTED = {
    "resnet50": {"fvcore": 4_111_512_576, "ptflops_pytorch": 4_132_436_968, "ptflops_aten": 4_089_185_256,
                 "thop": 4_133_742_592, "torchinfo": 4_089_238_376, "torch_flop_counter": 8_178_368_512,
                 "pycls": 4_089_185_256, "timm": 4_111_512_576},
    "resnext50_32x4d": {"fvcore": 4_259_381_248, "ptflops_pytorch": 4_286_878_696, "ptflops_aten": 4_230_480_872,
                        "thop": 4_288_184_320, "torchinfo": 4_230_549_096, "torch_flop_counter": 8_460_959_744,
                        "timm": 4_259_381_248},
}
ACTIVATIONS = {"resnet50": {"fvcore": 11_114_984, "timm": 11_114_984, "pycls": 11_315_688},
               "resnext50_32x4d": {"fvcore": 14_401_512, "timm": 14_401_512}}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    code, out, err = run(capsys, *argv, "--json")
    assert (code, err) == (0, ""), err
    return json.loads(out)


def torchvision_resnet50() -> torch.nn.Module:
    """torchvision's own ResNet-50, shapes only (meta device): an independent count of tensors and bytes."""
    with torch.device("meta"):
        return torchvision.models.resnet50()


# --- train-cost ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("batch", [1, 8])
def test_train_cost_json_resnet50_from_first_principles(capsys: pytest.CaptureFixture[str], batch: int) -> None:
    d = run_json(capsys, "train-cost", "resnet50", "--batch-size", str(batch))
    assert all(isinstance(d[k], int) and not isinstance(d[k], bool) for k in COST_KEYS)
    assert d["forward_macs"] == batch * R50_MACS
    assert d["backward_macs"] == batch * (2 * R50_MACS - R50_STEM_MACS)  # input + weight gradients, no image grad
    assert d["train_flops"] == 2 * (d["forward_macs"] + d["backward_macs"])
    tv = torchvision_resnet50()
    assert d["param_bytes"] == d["grad_bytes"] == 4 * R50_PARAMS == sum(4 * p.numel() for p in tv.parameters())
    assert d["optimizer_bytes"] == 0  # plain SGD keeps no state
    assert d["buffer_bytes"] == sum(b.numel() * b.element_size() for b in tv.buffers())
    held = d["param_bytes"] + d["grad_bytes"] + d["saved_activation_bytes"]
    assert d["peak_bytes"] == sum(d["peak"].values()) >= held
    assert d["saved_activation_bytes"] == train_cost(get_preset("resnet50"), batch_size=batch).saved_activation_bytes
    assert [b["label"] for b in d["budgets"]] == [label for label, _ in GPU_MEMORY]
    assert "max_batch_size" not in d  # only for a budget given


@pytest.mark.parametrize(("optimizer", "state"), [
    ("sgd_momentum", lambda params, tensors: 4 * params),  # one momentum buffer
    ("adam", lambda params, tensors: 8 * params + 4 * tensors),  # two moments, and a float32 step per tensor
    ("adamw", lambda params, tensors: 8 * params + 4 * tensors),
])
def test_train_cost_optimizer_state(capsys: pytest.CaptureFixture[str], optimizer: str, state) -> None:  # noqa: ANN001
    d = run_json(capsys, "train-cost", "resnet50", "--optimizer", optimizer)
    tensors = len(list(torchvision_resnet50().parameters()))
    assert tensors == 161 and d["optimizer_bytes"] == state(R50_PARAMS, tensors) and d["optimizer"] == optimizer


def test_train_cost_json_is_the_library_figures(capsys: pytest.CaptureFixture[str]) -> None:
    spec = get_preset("resnext50_32x4d")
    d = run_json(capsys, "train-cost", "resnext50_32x4d", "--batch-size", "8", "--precision", "bfloat16",
                 "--optimizer", "adam", "--input-size", "3", "97", "131", "--budget-gb", "24")
    cost = train_cost(spec, batch_size=8, input_size=(3, 97, 131), precision="bfloat16", optimizer="adam")
    extra = {"budgets", "budget_bytes", "max_batch_size"}
    assert {k: v for k, v in d.items() if k not in extra} == json.loads(json.dumps(cost.to_dict()))
    n = max_batch_size(spec, 24 * GiB, input_size=(3, 97, 131), precision="bfloat16", optimizer="adam")
    assert (d["budget_bytes"], d["max_batch_size"]) == (24 * GiB, n) and d["budgets"] == [
        {"label": "24 GB", "budget_bytes": 24 * GiB, "max_batch_size": n}]

    def peak(b: int) -> int:
        cost_b = train_cost(spec, batch_size=b, input_size=(3, 97, 131), precision="bfloat16", optimizer="adam")
        return cost_b.peak.total

    assert peak(n) <= 24 * GiB < peak(n + 1)  # the largest batch that fits, checked directly


def test_train_cost_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "train-cost", "resnet50", "--batch-size", "8")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "resnet50: one training step at batch 8, input 3x224x224, float32, SGD"
    assert any(line.startswith("forward MACs") and f"{8 * R50_MACS:,}" in line for line in lines)
    assert any(line.startswith("train FLOPs") and f"{2 * 8 * (3 * R50_MACS - R50_STEM_MACS):,}" in line
               for line in lines)
    peak = train_cost(get_preset("resnet50"), batch_size=8).peak.total
    assert any(line.startswith("peak (estimate)") and f"{peak:,}" in line for line in lines)
    n = max_batch_size(get_preset("resnet50"), 80 * GiB)
    assert any(line.startswith("80 GB (A100 80GB, H100)") and line.endswith(f"{n:,}") for line in lines)
    assert "2 x (forward MACs + backward MACs)" in out and "FLOPs = 2 x MACs" in out and out.isascii()


def test_train_cost_measure(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["train-cost", "resnet20", "--input-size", "3", "16", "16", "--batch-size", "2", "--measure",
            "--threads", "1", "--max-seconds", "2"]
    d = run_json(capsys, *argv)
    m = d["measured"]
    lat = m["latency"]
    assert (m["name"], m["precision"], m["optimizer"]) == ("resnet20", "float32", "sgd")
    assert lat["runs"] == len(lat["times_ms"]) >= 1 and lat["p10_ms"] <= lat["median_ms"] <= lat["p90_ms"]
    assert (lat["batch_size"], lat["threads"], lat["input_size"]) == (2, 1, [3, 16, 16])
    assert lat["throughput"] == pytest.approx(2 / (lat["median_ms"] / 1000))
    assert m["estimate_bytes"] == d["peak_bytes"] and m["measured_peak_bytes"] is None  # a CPU has no counter
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "images trained per second" in out and "step median" in out and "GFLOP/s" in out


# --- conventions ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(PRINTED))
def test_conventions_json_matches_what_the_tools_print(capsys: pytest.CaptureFixture[str], name: str) -> None:
    d = run_json(capsys, "conventions", name)
    macs = d["ours"]["macs"]
    assert set(TOOL_IDS) | {"papers", "ours"} == set(d) and not set(d["papers"]) & set(TOOL_IDS)
    for tool in TOOL_IDS:
        t = d[tool]
        assert isinstance(t["value"], int) and isinstance(t["unit"], str) and t["unit"]
        assert sum(term["count"] for term in t["terms"]) == t["value"]  # the terms itemise the figure
        assert t["difference_from_macs"] == t["value"] - macs
    assert {tool: d[tool]["value"] for tool in PRINTED[name]} == PRINTED[name]
    assert {tool: d[tool]["activations"] for tool in ACTIVATIONS[name]} == ACTIVATIONS[name]
    assert "forward_backward_bytes" in d["torchinfo"] and "train_value" in d["torch_flop_counter"]
    assert d["papers"]["resnext_paper"]["value"] == macs  # torchvision's network is the ResNeXt paper's (v1.5)


def test_conventions_resnet50_papers_and_training(capsys: pytest.CaptureFixture[str]) -> None:
    d = run_json(capsys, "conventions", "resnet50")
    assert d["ours"]["macs"] == R50_MACS and d["ours"]["flops"] == 2 * R50_MACS
    assert round(d["papers"]["resnet_paper"]["value"] / 1e9, 3) == 3.858  # stride on the 1x1 (REFERENCE.md)
    assert d["torch_flop_counter"]["train_value"] == 2 * (3 * R50_MACS - R50_STEM_MACS)
    d8 = run_json(capsys, "conventions", "resnet50", "--batch-size", "8")
    assert all(d8[t]["value"] == 8 * d[t]["value"] for t in TOOL_IDS)


def test_conventions_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "conventions", "resnet50")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    for tool, value in PRINTED["resnet50"].items():
        assert sum(f"{value:,}" in line for line in lines) >= 1, tool
    fv = next(line for line in lines if line.startswith("fvcore FlopCountAnalysis"))
    assert "+22,328,320 (+0.55%)" in fv  # batch norm 22,227,968 + average pool 100,352
    assert "3.9x10^9" in out and "4.1x10^9" in out
    sentences = [line for line in lines if line.startswith("- ")]
    assert len(sentences) == 2 + len(TOOL_IDS) and out.isascii()
    assert any("batch norm 44,455,936" in s and "= 4,133,742,592" in s for s in sentences)  # thop's itemised BN


def test_conventions_live_equals_derived(capsys: pytest.CaptureFixture[str]) -> None:
    d = run_json(capsys, "conventions", "resnet20", "--input-size", "3", "16", "16", "--live")
    ran = [t for t in TOOL_IDS if d[t]["measured"]["status"] == "ok"]
    installed = [t for t in TOOL_IDS if t != "pycls" and installed_version("fvcore" if t == "timm" else t)]
    assert ran == installed and "torch_flop_counter" in ran
    for t in ran:
        m = d[t]["measured"]
        assert m["value"] == d[t]["value"] and m["agrees"] is True and m["differences"] == {}, t
    assert d["torch_flop_counter"]["measured"]["train_value"] == d["torch_flop_counter"]["train_value"]
    assert d["pycls"]["measured"]["status"] == "not run"
    code, out, _ = run(capsys, "conventions", "resnet20", "--input-size", "3", "16", "16", "--live")
    rows = [line for line in out.splitlines() if line.startswith(("fvcore", "thop", "torchinfo", "ptflops"))]
    assert code == 0 and rows and all(line.endswith("equal") for line in rows) and "DIFFERS" not in out


# --- help and bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["train-cost", "conventions"])
def test_help_states_the_convention(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = run(capsys, command, "--help")
    text = " ".join(out.split())
    assert code == 0
    assert CONVENTION_ASCII in text and "bias not counted" in text and "FLOPs = 2 x MACs" in text


def _no_half(device: str) -> tuple[str, ...]:
    return ("float32", "bfloat16")


BAD = [
    (["train-cost", "resnet50", "--batch-size", "0"], "batch_size"),
    (["train-cost", "resnet50", "--optimizer", "lion"], "optimizer"),
    (["train-cost", "resnet50", "--precision", "float8"], "precision"),
    (["train-cost", "resnet50", "--precision", "float16"], "precision"),  # this "CPU" has no half precision
    (["train-cost", "resnet20", "--measure", "--dtype", "bfloat16"], "dtype"),
    (["train-cost", "resnet50", "--budget-gb", "0"], "budget_gb"),
    (["train-cost", "resnet50", "--device", "tpu"], "device"),
    (["train-cost", "resnet50", "--input-size", "3", "0", "224"], "input_size"),
    (["conventions", "resnet50", "--batch-size", "0"], "batch_size"),
    (["conventions", "resnet50", "--input-size", "4", "224", "224"], "input_size"),
    (["conventions"], "usage"),
]


@pytest.mark.parametrize(("argv", "field"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_exits_2_naming_the_field(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                            argv: list[str], field: str) -> None:
    monkeypatch.setattr(explorer.build.devices, "dtypes_for", _no_half)
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"error: {field}" if field != "usage" else "error: give exactly one of NAME")


def test_measure_over_the_memory_budget_exits_2(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPLORER_MEMORY_BUDGET_MB", "1")
    code, out, err = run(capsys, "train-cost", "resnet50", "--measure")
    assert code == 2 and out == "" and err.startswith("error: memory: training resnet50 at batch 1")


def test_device_failure_exits_1(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def oom(*args: object, **kwargs: object) -> None:
        raise OutOfMemory("out of memory on cuda:0 at batch size 512 (float32); try a smaller batch size")

    monkeypatch.setattr(explorer.measure.train_step, "measure_train_step", oom)
    code, out, err = run(capsys, "train-cost", "resnet50", "--measure")
    assert code == 1 and out == "" and err == "error: out of memory on cuda:0 at batch size 512 (float32); " \
                                              "try a smaller batch size\n"
