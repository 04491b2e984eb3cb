"""The training-cost analysis against torch itself: saved tensors, FLOPs, optimizer state, peak memory.

Every expected value comes from torch (``saved_tensors_hooks``, ``FlopCounterMode``, a real ``torch.optim``
step, the profiler's memory timeline) or from the reference figures, never from the code under test.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import explorer.build.devices
from explorer import ArchSpec, analyze, get_preset, list_presets
from explorer.core.errors import SpecError
from explorer.build.model import build_model
from explorer.costs.training import (
    GPU_MEMORY, OPTIMIZERS, PRECISIONS, budget_from_gb, flop_counter_excess, max_batch_size, min_batch_size,
    train_cost,
)

DTYPES = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}
# The optimizers as a person would write them, independently of explorer.costs.training's table.
TORCH_OPTIMIZERS = {
    "sgd": lambda params: torch.optim.SGD(params, lr=0.1),
    "sgd_momentum": lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9),
    "adam": lambda params: torch.optim.Adam(params),
    "adamw": lambda params: torch.optim.AdamW(params),
}
# The heaviest presets (3-13 s each on one core): ResNeXt-101 with its form (b) rewrite of up to 64 paths per
# block, ResNet-1202's 1,200 layers, Wide ResNet-101's 127 M parameters.
SLOW = {"resnext101_32x4d", "resnext101_32x8d", "resnext101_64x4d", "resnext101_2x64d", "resnet1202",
        "wide_resnet101_2"}


pytestmark = pytest.mark.usefixtures("one_thread")


# --- what torch says --------------------------------------------------------------------------------
def torch_train_step(model: nn.Module, x: torch.Tensor, precision: str = "float32") -> tuple[int, int]:
    """(bytes autograd saves for backward, FlopCounterMode's FLOPs of forward + backward) of ``model(x).sum()``.

    Saved bytes: each storage once, by its data pointer, parameters and buffers (and views of them) excluded.
    """
    model.train()
    excluded = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        s = t.untyped_storage()
        if s.data_ptr() not in excluded:
            storages[s.data_ptr()] = s.nbytes()
        return t

    with FlopCounterMode(display=False) as counter:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            with torch.autocast("cpu", dtype=DTYPES[precision], enabled=precision != "float32"):
                out = model(x)
        out.float().sum().backward()
    return sum(storages.values()), counter.get_total_flops()


def check_against_torch(spec: ArchSpec, batch: int, size: tuple[int, int, int], precision: str = "float32") -> None:
    """Saved bytes equal, and FlopCounterMode = ours + its documented grouped-conv excess."""
    torch.manual_seed(0)
    saved, flops = torch_train_step(build_model(spec), torch.randn(batch, *size), precision)
    cost = train_cost(spec, batch_size=batch, input_size=size, precision=precision)
    assert cost.saved_activation_bytes == saved, (spec, batch, size, precision)
    assert flops == cost.train_flops + flop_counter_excess(spec, batch_size=batch, input_size=size)


def small_input(spec: ArchSpec) -> tuple[int, int, int]:
    return (3, 32, 32) if spec.stem == "cifar" else (3, 64, 64)


# --- every preset -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in list_presets()]
)
def test_every_preset_matches_torch(name: str) -> None:
    """Saved bytes to the byte; FLOPs exact without groups; grouped: their dense form (b) rewrite is exact."""
    spec = get_preset(name)
    check_against_torch(spec, 2, small_input(spec))
    if spec.cardinality > 1:
        dense = dataclasses.replace(spec, form="b")  # same function, every conv dense
        saved, flops = torch_train_step(build_model(dense), torch.randn(2, *small_input(spec)))
        cost = train_cost(spec, batch_size=2, input_size=small_input(spec))
        assert flops == cost.train_flops  # the true count of the grouped network, from torch itself
        assert saved == train_cost(dense, batch_size=2, input_size=small_input(spec)).saved_activation_bytes
        assert flop_counter_excess(spec, batch_size=2, input_size=small_input(spec)) > 0


@pytest.mark.parametrize("form", ["a", "b", "c"])
@pytest.mark.parametrize("precision", PRECISIONS)
def test_resnext_forms(form: str, precision: str) -> None:
    """Fig. 3 (a) running sum, (b) concat, (c) grouped, in every precision; FLOPs of (a), (b) equal (c)'s."""
    spec = ArchSpec(name="rx", depths=(1, 2), widths=(16, 32), cardinality=4, base_width=8, form=form,
                    num_classes=10)
    check_against_torch(spec, 2, (3, 48, 40), precision)
    c = train_cost(dataclasses.replace(spec, form="c"), batch_size=2, input_size=(3, 48, 40))
    assert train_cost(spec, batch_size=2, input_size=(3, 48, 40)).train_flops == c.train_flops


@pytest.mark.parametrize("shortcut", ["A", "B", "C", "none"])
@pytest.mark.parametrize("block", ["basic", "bottleneck"])
@pytest.mark.parametrize("precision", PRECISIONS)
def test_shortcuts_and_blocks(shortcut: str, block: str, precision: str) -> None:
    spec = ArchSpec(name="s", block=block, depths=(2, 1), widths=(8, 16), stem="cifar", stem_width=8,
                    shortcut=shortcut, num_classes=10)
    check_against_torch(spec, 3, (3, 15, 17), precision)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("size", [(3, 33, 47), (3, 65, 64), (3, 29, 29)])
def test_odd_inputs_and_batches(batch: int, size: tuple[int, int, int]) -> None:
    """Odd sizes through the 7×7/2 stem and max pool, stride on the first 1×1 (the ResNet paper)."""
    spec = ArchSpec(name="odd", depths=(1, 1, 1), widths=(8, 16, 32), downsample_on="1x1", num_classes=7)
    check_against_torch(spec, batch, size)


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", ["resnet18", "resnet50", "resnext50_32x4d", "resnet20", "seresnet50", "ecaresnet50d",
                                  "resnet50_gn", "resnetaa50d", "resnetrs50"])
def test_autocast_presets(name: str, precision: str) -> None:
    """CPU autocast: low-precision activations and weight copies, float32 BN statistics — to the byte."""
    spec = get_preset(name)
    check_against_torch(spec, 2, (3, 32, 32), precision)  # CPU float16 convolutions are slow: keep it small


@st.composite
def specs(draw: st.DrawFn) -> tuple[ArchSpec, int, tuple[int, int, int], str]:
    stages = draw(st.integers(1, 3))
    block = draw(st.sampled_from(["basic", "bottleneck"]))
    cardinality = 1 if block == "basic" else draw(st.sampled_from([1, 2, 4]))
    stem = draw(st.sampled_from(["imagenet", "cifar"]))
    try:
        spec = ArchSpec(
            name="h", block=block, depths=tuple(draw(st.integers(1, 2)) for _ in range(stages)),
            widths=tuple(draw(st.sampled_from([4, 8, 16])) for _ in range(stages)),
            strides=tuple(draw(st.integers(1, 2)) for _ in range(stages)),
            cardinality=cardinality, base_width=64 if block == "basic" else draw(st.sampled_from([16, 32, 64])),
            form="c" if block == "basic" else draw(st.sampled_from(["a", "b", "c"])),
            stem=stem, stem_width=draw(st.sampled_from([4, 8])),
            downsample_on=draw(st.sampled_from(["3x3", "1x1"])),
            shortcut=draw(st.sampled_from(["A", "B", "C", "none"])),
            num_classes=draw(st.integers(1, 12)),
        )
    except SpecError:
        assume(False)
    low = 9 if stem == "imagenet" else 1
    size = (3, draw(st.integers(low, 40)), draw(st.integers(low, 40)))
    return spec, draw(st.integers(1, 3)), size, draw(st.sampled_from(PRECISIONS))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(specs())
def test_random_specs_match_torch(case: tuple[ArchSpec, int, tuple[int, int, int], str]) -> None:
    spec, batch, size, precision = case
    try:
        analyze(spec, size)
    except SpecError:
        assume(False)  # too small an input for this many strides
    if batch < min_batch_size(spec, size):  # a BN would see one value per channel: torch refuses, and so do we
        with pytest.raises(ValueError, match="more than 1 value per channel"):
            torch_train_step(build_model(spec), torch.randn(batch, *size))
        with pytest.raises(SpecError, match="^batch_size: batch 1 cannot train .* use batch 2 or more"):
            train_cost(spec, batch_size=batch, input_size=size)
        batch = 2
    check_against_torch(spec, batch, size, precision)


# --- FLOPs ------------------------------------------------------------------------------------------
def test_resnet50_training_flops_from_the_reference() -> None:
    """2 × (3 × forward − the first conv's MACs): forward MACs from torchvision, conv1 = 112²·64·3·7²."""
    b, forward, conv1 = 64, 4_089_184_256, 112 * 112 * 64 * 3 * 49
    cost = train_cost(get_preset("resnet50"), batch_size=b)
    assert cost.forward_macs == b * forward
    assert cost.train_flops == 2 * b * (3 * forward - conv1)


def test_torch_miscounts_grouped_conv_backward() -> None:
    """torch 2.14.1 counts the weight gradient of a 32-group conv 32 times over; fails once torch fixes it."""
    conv = nn.Conv2d(128, 128, 3, padding=1, groups=32, bias=False)
    out = conv(torch.randn(1, 128, 8, 8, requires_grad=True))
    with FlopCounterMode(display=False) as counter:
        out.backward(torch.ones_like(out))
    forward_macs = 8 * 8 * 128 * (128 // 32) * 9
    true_backward = 2 * 2 * forward_macs  # input and weight gradients, 2 FLOPs per MAC
    assert true_backward == 1_179_648
    assert counter.get_total_flops() == 19_464_192 == true_backward + 2 * (32 - 1) * forward_macs


def test_resnext50_flop_counter_ratio() -> None:
    spec = get_preset("resnext50_32x4d")
    cost = train_cost(spec)
    assert (cost.train_flops + flop_counter_excess(spec)) / cost.train_flops == pytest.approx(1.57, abs=0.005)


# --- parameters, gradients, optimizer state ---------------------------------------------------------
@pytest.mark.parametrize("optimizer", list(TORCH_OPTIMIZERS))
def test_optimizer_state_equals_a_real_step(optimizer: str) -> None:
    spec = ArchSpec(name="o", depths=(1, 1), widths=(8, 16), cardinality=2, base_width=32, num_classes=10)
    model = build_model(spec)
    opt = TORCH_OPTIMIZERS[optimizer](model.parameters())
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    opt.step()
    cost = train_cost(spec, batch_size=2, input_size=(3, 32, 32), optimizer=optimizer)
    assert cost.param_bytes == sum(p.nbytes for p in model.parameters())
    assert cost.grad_bytes == sum(p.grad.nbytes for p in model.parameters())
    assert cost.buffer_bytes == sum(b.nbytes for b in model.buffers())
    state = sum(t.nbytes for s in opt.state.values() for t in s.values() if torch.is_tensor(t))
    assert cost.optimizer_bytes == state
    # per layer too, joined on the module name
    modules = dict(model.named_modules())
    for row in cost.layers:
        if row.param_bytes:
            params = list(modules[row.name].parameters())
            assert row.param_bytes == sum(p.nbytes for p in params)
            assert row.optimizer_bytes == sum(t.nbytes for p in params for t in opt.state[p].values()
                                              if torch.is_tensor(t))


def test_rows_join_the_analysis_and_the_model() -> None:
    spec = dataclasses.replace(get_preset("resnext50_32x4d"), depths=(1, 1, 1, 1), form="a")
    cost, analysis = train_cost(spec, batch_size=3), analyze(spec)
    assert [(r.name, r.type) for r in cost.layers] == [(r.name, r.type) for r in analysis.layers]
    assert [r.forward_macs for r in cost.layers] == [3 * r.macs for r in analysis.layers]
    assert cost.by_stage()["layer1"]["forward_macs"] == 3 * next(s.macs for s in analysis.stages if s.name == "layer1")
    assert sum(t["saved_bytes"] for t in cost.by_type().values()) == cost.saved_activation_bytes


# --- peak memory ------------------------------------------------------------------------------------
def measured_peak(spec: ArchSpec, batch: int, size: tuple[int, int, int], optimizer: str, precision: str) -> int:
    """Bytes live at the peak of a steady-state step (zero_grad, forward, backward, step), by the profiler."""
    torch.manual_seed(0)
    model = build_model(spec).train()
    opt = TORCH_OPTIMIZERS[optimizer](model.parameters())
    x = torch.randn(batch, *size)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=DTYPES[precision], enabled=precision != "float32"):
            out = model(x)
        out.float().sum().backward()
        opt.step()

    step()  # the first step allocates the optimizer state
    with torch.profiler.profile(profile_memory=True, record_shapes=True, with_stack=True) as prof:
        step()
    live: dict = {}
    peak = 0
    # The memory profiler (private, torch 2.14) replays every allocation and free in order.
    for _, action, key, nbytes in prof._memory_profile().timeline:
        if action.name in ("PREEXISTING", "CREATE"):
            live[key[0]] = nbytes  # a tensor, whatever its version
        elif action.name == "DESTROY":
            live.pop(key[0], None)
        peak = max(peak, sum(live.values()))
    return peak


# Small networks whose peak falls in the stem or in one wide form (a) block: the hardest cases for the estimate.
STEM_HEAVY = ArchSpec(name="stem_heavy", block="basic", depths=(1,), widths=(4,), stem="cifar", stem_width=64,
                      num_classes=10)
WIDE_FORM_A = ArchSpec(name="wide_form_a", depths=(1,), widths=(64,), cardinality=4, base_width=16, form="a",
                       stem="cifar", stem_width=8, num_classes=10)


@pytest.mark.parametrize(
    "name, batch, optimizer, precision",
    [
        ("resnet20", 16, "adam", "float32"),
        ("stem_heavy", 8, "sgd", "float32"),
        ("wide_form_a", 8, "sgd", "bfloat16"),
        pytest.param("resnet18", 8, "sgd", "float32", marks=pytest.mark.slow),
        pytest.param("resnet50", 8, "sgd_momentum", "bfloat16", marks=pytest.mark.slow),
        pytest.param("resnext50_32x4d", 4, "adamw", "float32", marks=pytest.mark.slow),
    ],
)
def test_peak_is_conservative(name: str, batch: int, optimizer: str, precision: str) -> None:
    spec = {"stem_heavy": STEM_HEAVY, "wide_form_a": WIDE_FORM_A}.get(name) or get_preset(name)
    size = small_input(spec)
    peak = train_cost(spec, batch_size=batch, input_size=size, optimizer=optimizer, precision=precision).peak
    measured = measured_peak(spec, batch, size, optimizer, precision)
    assert measured <= peak.total <= 1.5 * measured


def test_peak_parts() -> None:
    spec = get_preset("resnet50")
    f32 = train_cost(spec, batch_size=8, optimizer="adam")
    bf16 = train_cost(spec, batch_size=8, optimizer="adam", precision="bfloat16")
    assert f32.peak.total == sum(f32.peak.parts().values())
    assert f32.peak.input_batch == 0  # in float32 the input batch is one of the saved tensors
    assert bf16.peak.input_batch == 8 * 3 * 224 * 224 * 4
    assert f32.peak.optimizer_temporaries == f32.param_bytes  # multi-tensor Adam's sqrt(exp_avg_sq)
    assert (f32.peak.weights, f32.peak.gradients, f32.peak.optimizer_state) == (
        f32.param_bytes, f32.grad_bytes, f32.optimizer_bytes)
    assert train_cost(spec, batch_size=8).peak.optimizer_temporaries == 0


# --- largest batch ----------------------------------------------------------------------------------
@pytest.mark.parametrize("precision", PRECISIONS)
def test_max_batch_boundaries(precision: str) -> None:
    spec = get_preset("resnet50")

    def peak(b: int) -> int:
        return train_cost(spec, batch_size=b, precision=precision, optimizer="adam").peak.total

    assert peak(3) - peak(2) == peak(2) - peak(1) == peak(101) - peak(100)  # affine in the batch
    for b in (1, 2, 37, 500):
        assert max_batch_size(spec, peak(b), precision=precision, optimizer="adam") == b
        assert max_batch_size(spec, peak(b) - 1, precision=precision, optimizer="adam") == b - 1
        assert max_batch_size(spec, peak(b + 1) - 1, precision=precision, optimizer="adam") == b
    assert max_batch_size(spec, 2**20, precision=precision) == 0  # not even one image fits 1 MiB


def test_batch_one_with_a_one_by_one_batch_norm() -> None:
    """At 32×32 ResNet-50's last stage is 1×1: torch cannot train it at batch 1, so neither do we."""
    spec, size = get_preset("resnet50"), (3, 32, 32)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        build_model(spec).train()(torch.randn(1, *size))
    with pytest.raises(SpecError, match="layer4.0.bn2 would see one value per channel"):
        train_cost(spec, input_size=size)
    two = train_cost(spec, batch_size=2, input_size=size).peak.total
    assert min_batch_size(spec, size) == 2 and min_batch_size(spec) == 1
    assert max_batch_size(spec, two - 1, input_size=size) == 0
    assert max_batch_size(spec, two, input_size=size) == 2


def test_gpu_sizes_and_budget_in_gb() -> None:
    assert [gb for gb in (8, 16, 24, 40, 80) if gb * 2**30 not in dict(GPU_MEMORY).values()] == []
    assert budget_from_gb(24) == 24 * 2**30
    spec = get_preset("resnet50")
    sizes = [max_batch_size(spec, b) for _, b in GPU_MEMORY]
    assert sizes == sorted(sizes) and sizes[0] > 0


def test_json_keys() -> None:
    d = train_cost(get_preset("resnet18"), batch_size=4, optimizer="sgd_momentum").to_dict()
    keys = ["forward_macs", "backward_macs", "train_flops", "param_bytes", "grad_bytes", "optimizer_bytes",
            "saved_activation_bytes", "peak_bytes"]
    assert all(type(d[k]) is int for k in keys)
    assert d["train_flops"] == 2 * (d["forward_macs"] + d["backward_macs"])
    assert d["peak_bytes"] == sum(d["peak"].values())
    assert json.loads(json.dumps(d))["batch_size"] == 4


# --- bad input --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, field, words",
    [
        ({"batch_size": 0}, "batch_size", "between 1 and"),
        ({"batch_size": -3}, "batch_size", "between 1 and"),
        ({"batch_size": 2.0}, "batch_size", "whole number"),
        ({"batch_size": True}, "batch_size", "must be an integer"),
        ({"optimizer": "lbfgs"}, "optimizer", "'adamw'"),
        ({"precision": "float64"}, "precision", "'bfloat16'"),
        ({"input_size": (1, 224, 224)}, "input_size", "3 input channels"),
        ({"input_size": (3, 0, 224)}, "input_size", "between 1 and"),
        ({"input_size": (3, 224)}, "input_size", "[channels, height, width]"),
    ],
)
def test_bad_input(kwargs: dict, field: str, words: str) -> None:
    with pytest.raises(SpecError) as e:
        train_cost(get_preset("resnet50"), **kwargs)
    assert e.value.field == field and words in str(e.value)
    assert str(e.value).startswith(f"{field}: ")


def test_the_cost_is_for_any_device_and_the_device_answers_what_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost needs no device (costs sit below build); a measured step asks the device (``check_dtype``)."""
    from explorer.build.devices import check_dtype

    monkeypatch.setattr(explorer.build.devices, "dtypes_for", lambda device: ("float32", "bfloat16"))
    half = train_cost(get_preset("resnet18"), precision="float16")
    assert half.precision == "float16"
    with pytest.raises(SpecError) as e:
        check_dtype("float16", "cpu", "precision")
    assert e.value.field == "precision" and "float16 is not supported on cpu" in str(e.value)
    assert check_dtype("bfloat16", "cpu", "precision") == "bfloat16"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_absent_device() -> None:
    from explorer.build.devices import check_dtype

    with pytest.raises(SpecError) as e:
        check_dtype("float16", "cuda", "precision")
    assert e.value.field == "device"


@pytest.mark.parametrize("budget", [0, -1, math.nan, math.inf, "24"])
def test_bad_budget(budget: object) -> None:
    with pytest.raises(SpecError) as e:
        max_batch_size(get_preset("resnet18"), budget)
    assert e.value.field == "budget"
    with pytest.raises(SpecError):
        budget_from_gb(budget)


def test_import_is_torch_free() -> None:
    code = (
        "import sys; from explorer import get_preset; from explorer.costs.training import train_cost, max_batch_size; "
        "spec = get_preset('resnext50_32x4d'); train_cost(spec, batch_size=64, optimizer='adam').to_dict(); "
        "max_batch_size(spec, 24 * 2**30, precision='bfloat16'); assert 'torch' not in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_optimizer_table_names() -> None:
    assert set(OPTIMIZERS) == set(TORCH_OPTIMIZERS)
