"""build_model: every preset builds and runs; torchvision's ten are module-for-module torchvision's models."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torchvision
from torch import nn

from explorer import TORCHVISION_PRESETS, ArchSpec, SpecError, analyze, build_model, get_preset, list_presets

# ../shared/REFERENCE.md: torchvision 0.29.1 parameter counts and the CIFAR ResNets' exact counts.
TORCHVISION_PARAMS = {
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032, "resnet101": 44_549_160,
    "resnet152": 60_192_808, "resnext50_32x4d": 25_028_904, "resnext101_32x8d": 88_791_336,
    "resnext101_64x4d": 83_455_272, "wide_resnet50_2": 68_883_240, "wide_resnet101_2": 126_886_696,
}
CIFAR_PARAMS = {
    "resnet20": (3, 269_722), "resnet32": (5, 464_154), "resnet44": (7, 658_586), "resnet56": (9, 853_018),
    "resnet110": (18, 1_727_962), "resnet1202": (200, 19_421_274),
}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def small_input(spec: ArchSpec, batch: int = 2) -> torch.Tensor:
    """3×64×64 for ImageNet-stem networks, the natural 3×32×32 for CIFAR ones."""
    c, h, w = (spec.input_size[0], 64, 64) if spec.stem == "imagenet" else spec.input_size
    return torch.randn(batch, c, h, w)


def randomize_bn(model: nn.Module, seed: int = 0) -> None:
    """Give every BN non-trivial statistics and affine parameters, so a wrong BN mapping shows in the outputs."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)


# --- every preset -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list_presets())
def test_every_preset_builds_on_meta_with_analytic_params(name: str) -> None:
    spec = get_preset(name)
    model = build_model(spec, device="meta")
    assert all(p.device.type == "meta" for p in model.parameters())
    assert n_params(model) == analyze(spec).params
    if spec.order == "pre":  # timm's ResNetV2 layout: stem, stages.N.blocks, norm, head.fc (a 1×1 conv)
        stem, fc = model.stem, model.head.fc
        assert [len(s.blocks) for s in model.stages] == list(spec.depths)
    else:  # torchvision's (and timm's ResNet's) names, or timm's legacy SENet's layer0 and last_linear
        stem, fc = (model.layer0, model.last_linear) if spec.layout == "senet" else (model.conv1, model.fc)
        assert [len(getattr(model, f"layer{i + 1}")) for i in range(len(spec.depths))] == list(spec.depths)
        assert not hasattr(model, f"layer{len(spec.depths) + 1}")
    assert (fc.out_features if isinstance(fc, nn.Linear) else fc.out_channels) == spec.num_classes
    convs = [m for m in stem.modules() if isinstance(m, nn.Conv2d)]  # one, or a deep stem's three
    assert convs[0].in_channels == spec.input_size[0] and convs[2 if len(convs) > 2 else -1].out_channels == \
        spec.stem_width


def _cheap_to_run(spec: ArchSpec) -> ArchSpec:
    """The preset itself when it is small; otherwise the same network with one block per stage.

    Widths, cardinality, stem, shortcut and stride placement are kept, so every kind of block still runs.
    The full-depth ResNet-1202 also overflows to NaN in eval mode at initialization (600 residual adds
    with identity BN statistics double the variance each time), which is arithmetic, not a bug.
    """
    if analyze(spec).params <= 26_000_000 and sum(spec.depths) <= 60:
        return spec
    return dataclasses.replace(spec, depths=(1,) * len(spec.depths))


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_runs_a_forward_pass_on_cpu(name: str) -> None:
    torch.manual_seed(0)
    spec = _cheap_to_run(get_preset(name))
    model = build_model(spec).eval()
    x = small_input(spec)
    with torch.no_grad():
        y = model(x)
    assert y.shape == (2, spec.num_classes)
    assert torch.isfinite(y).all()
    assert not torch.equal(y[0], y[1])  # the output depends on the input
    assert n_params(model) == analyze(spec).params


def test_full_depth_resnets_run_when_cheap() -> None:
    full = [n for n in list_presets() if _cheap_to_run(get_preset(n)) == get_preset(n)]
    assert {"resnet18", "resnet34", "resnet50", "resnext50_32x4d", "resnet20", "resnet110", "plain34"} <= set(full)


@pytest.mark.parametrize("name", ["resnet18", "resnext50_32x4d", "resnet20"])
def test_forward_pass_in_training_mode_and_backward(name: str) -> None:
    torch.manual_seed(0)
    spec = dataclasses.replace(get_preset(name), depths=(1,) * len(get_preset(name).depths))
    model = build_model(spec).train()
    y = model(small_input(spec))
    y.square().mean().backward()
    assert y.shape == (2, spec.num_classes)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_build_is_deterministic_under_a_seed() -> None:
    spec = get_preset("resnet20")
    torch.manual_seed(0)
    a = build_model(spec).state_dict()
    torch.manual_seed(0)
    b = build_model(spec).state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_initialization_is_torchvisions() -> None:
    """He (fan-out) init for convs, BN weight 1 and bias 0."""
    torch.manual_seed(0)
    model = build_model(get_preset("resnet50"))
    w = model.layer3[0].conv2.weight  # 256×256×3×3: fan_out = 256 * 9
    assert abs(w.std().item() - (2 / (256 * 9)) ** 0.5) < 0.002
    assert torch.equal(model.layer3[0].bn2.weight, torch.ones(256))
    assert torch.equal(model.layer3[0].bn2.bias, torch.zeros(256))


def test_bad_device_is_spec_error() -> None:
    with pytest.raises(SpecError, match="^device: 'gpu0'"):
        build_model(get_preset("resnet18"), device="gpu0")


# --- torchvision's ten --------------------------------------------------------------------------
def _torchvision_on_meta(name: str) -> nn.Module:
    with torch.device("meta"):
        return getattr(torchvision.models, name)()  # random init, no download


@pytest.mark.parametrize("name", TORCHVISION_PRESETS)
def test_torchvision_state_dict_and_modules_identical(name: str) -> None:
    ours = build_model(get_preset(name), device="meta")
    theirs = _torchvision_on_meta(name)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    assert [tuple(v.shape) for v in ours_sd.values()] == [tuple(v.shape) for v in theirs_sd.values()]
    assert {n for n, _ in ours.named_modules()} == {n for n, _ in theirs.named_modules()}
    # same class names (ResNet, Bottleneck/BasicBlock, Sequential, …) and, for the leaves, the same
    # hyperparameters: stride, padding, groups, bias, eps, momentum, inplace
    ours_modules, theirs_modules = dict(ours.named_modules()), dict(theirs.named_modules())
    for n, m in theirs_modules.items():
        assert type(ours_modules[n]).__name__ == type(m).__name__, n
        if not any(m.children()):
            assert repr(ours_modules[n]) == repr(m), n
    assert n_params(ours) == n_params(theirs) == TORCHVISION_PARAMS[name]


@pytest.mark.parametrize(
    "name",
    [
        "resnet18", "resnet34", "resnet50", "resnext50_32x4d",
        pytest.param("wide_resnet50_2", marks=pytest.mark.slow),
        pytest.param("resnext101_64x4d", marks=pytest.mark.slow),
    ],
)
def test_torchvision_weights_load_strict_and_give_identical_outputs(name: str) -> None:
    torch.manual_seed(0)
    theirs = getattr(torchvision.models, name)(weights=None)  # torchvision's own random init
    randomize_bn(theirs)
    theirs.eval()
    ours = build_model(get_preset(name)).eval()
    result = ours.load_state_dict(theirs.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected, actual = theirs(x), ours(x)
    assert actual.shape == (1, 1000)
    assert expected.abs().max() > 0.01  # not a degenerate all-zero comparison
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)


# --- CIFAR ResNets (ResNet §4.2) ----------------------------------------------------------------
@pytest.mark.parametrize("name", CIFAR_PARAMS)
def test_cifar_resnets_exact_params_and_6n_plus_2_layers(name: str) -> None:
    n, params = CIFAR_PARAMS[name]
    spec = get_preset(name)
    model = build_model(spec, device="meta")
    assert n_params(model) == analyze(spec).params == params
    weighted = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(weighted) == 6 * n + 2  # option A adds no convs
    assert [getattr(model, f"layer{i}")[0].conv1.out_channels for i in (1, 2, 3)] == [16, 32, 64]
    assert [getattr(model, f"layer{i}")[0].conv1.stride for i in (1, 2, 3)] == [(1, 1), (2, 2), (2, 2)]
    assert model.maxpool is None and model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1)


# --- ResNeXt Fig. 3: forms a, b, c --------------------------------------------------------------
@pytest.mark.parametrize("form", ["a", "b"])
@pytest.mark.parametrize("name", ["resnext50_32x4d", "resnext101_64x4d", "resnext50_8x14d", "resnet50"])
def test_forms_a_b_have_the_params_and_macs_of_form_c(name: str, form: str) -> None:
    c = get_preset(name)
    v = dataclasses.replace(c, form=form)
    assert analyze(v).params == analyze(c).params
    assert analyze(v).macs == analyze(c).macs


@pytest.mark.parametrize("form", ["a", "b"])
@pytest.mark.parametrize("name", ["resnext50_8x14d", "resnet50"])
def test_forms_a_b_build_c_dense_paths(name: str, form: str) -> None:
    c = get_preset(name)
    model = build_model(dataclasses.replace(c, form=form), device="meta")
    assert n_params(model) == analyze(c).params
    block = model.layer2[0]
    assert len(block.paths) == c.cardinality
    d = c.group_width(1) // c.cardinality  # 8x14d: 224 / 8 = 28 channels per path in stage 2
    conv2 = block.paths[0].conv2
    assert (conv2.in_channels, conv2.out_channels, conv2.groups, conv2.stride) == (d, d, 1, (2, 2))
    if form == "a":
        assert block.paths[0].conv3.out_channels == c.stage_channels[1] and not hasattr(block, "conv3")
        assert block.paths[0].conv3.in_channels == d
    else:
        assert block.conv3.in_channels == c.group_width(1) and not hasattr(block.paths[0], "conv3")


def _form_c_to_paths(sd_c: dict[str, torch.Tensor], spec: ArchSpec, form: str) -> dict[str, torch.Tensor]:
    """Split a form-c state dict into the C paths of form a or b (ResNeXt Fig. 3: the three are equivalent)."""
    out: dict[str, torch.Tensor] = {}
    for key, value in sd_c.items():
        parts = key.split(".")
        if not key.startswith("layer") or parts[2] not in ("conv1", "bn1", "conv2", "bn2", "conv3"):
            out[key] = value
            continue
        stage, block, layer, param = int(parts[0][5:]) - 1, parts[1], parts[2], ".".join(parts[3:])
        groups = spec.cardinality
        d = spec.group_width(stage) // groups
        prefix = f"{parts[0]}.{block}"
        if layer == "conv3":
            if form == "b":
                out[key] = value
            else:  # form a: each path's 1×1 takes its own d input channels; the sum restores the full conv
                for i in range(groups):
                    out[f"{prefix}.paths.{i}.conv3.{param}"] = value[:, i * d:(i + 1) * d]
            continue
        for i in range(groups):  # grouped conv / BN over C·d channels = C dense ones over d channels
            out[f"{prefix}.paths.{i}.{layer}.{param}"] = value if value.dim() == 0 else value[i * d:(i + 1) * d]
    return out


@pytest.mark.parametrize("form", ["a", "b"])
@pytest.mark.parametrize("downsample_on", ["3x3", "1x1"])
def test_forms_a_b_compute_the_same_function_as_form_c(form: str, downsample_on: str) -> None:
    """ResNeXt Fig. 3: with form c's weights split into C paths, forms a and b give the same outputs."""
    torch.manual_seed(0)
    spec_c = ArchSpec(depths=(2, 1), widths=(16, 32), cardinality=4, base_width=16, downsample_on=downsample_on,
                      num_classes=7, input_size=(3, 40, 40))
    model_c = build_model(spec_c)
    randomize_bn(model_c)
    spec_p = dataclasses.replace(spec_c, form=form)
    model_p = build_model(spec_p)
    model_p.load_state_dict(_form_c_to_paths(model_c.state_dict(), spec_c, form), strict=True)
    x = torch.randn(2, 3, 40, 40)
    with torch.no_grad():
        expected, actual = model_c.eval()(x), model_p.eval()(x)
    assert expected.shape == (2, 7)
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)


# --- shortcuts (ResNet §3.3) --------------------------------------------------------------------
def _downsample_convs(model: nn.Module) -> int:
    return sum(1 for n, m in model.named_modules() if n.endswith("downsample.0") and isinstance(m, nn.Conv2d))


@pytest.mark.parametrize(
    "spec,projections,params",
    [
        (get_preset("resnet18"), 3, 11_689_512),
        (dataclasses.replace(get_preset("resnet18"), shortcut="C"), 8, None),
        (dataclasses.replace(get_preset("resnet18"), shortcut="none"), 0, 11_515_688),
        (dataclasses.replace(get_preset("resnet18"), shortcut="A"), 0, 11_515_688),
        (dataclasses.replace(get_preset("resnet50"), shortcut="C"), 16, None),
        (dataclasses.replace(get_preset("resnet50"), depths=(1, 1, 1, 1), shortcut="A"), 0, None),
        (get_preset("resnet20"), 0, 269_722),
        (dataclasses.replace(get_preset("resnet20"), shortcut="B"), 2, None),
        (dataclasses.replace(get_preset("resnet20"), shortcut="C"), 9, None),
        (get_preset("plain34"), 0, 21_623_848),
    ],
    ids=["r18-B", "r18-C", "r18-none", "r18-A", "r50-C", "r50-A", "r20-A", "r20-B", "r20-C", "plain34"],
)
def test_shortcut_variants_build_and_run(spec: ArchSpec, projections: int, params: int | None) -> None:
    torch.manual_seed(0)
    model = build_model(spec).eval()
    assert _downsample_convs(model) == projections
    assert n_params(model) == analyze(spec).params
    if params is not None:
        assert n_params(model) == params
    with torch.no_grad():
        y = model(small_input(spec))
    assert y.shape == (2, spec.num_classes) and torch.isfinite(y).all()


def test_shortcut_c_adds_exactly_one_projection_per_identity_block() -> None:
    b, c = get_preset("resnet18"), dataclasses.replace(get_preset("resnet18"), shortcut="C")
    # identity blocks of resnet18: layer1.0, layer1.1, layer2.1, layer3.1, layer4.1; each gains a 1×1 conv + BN
    assert analyze(c).params - analyze(b).params == sum(ch * ch + 2 * ch for ch in (64, 64, 128, 256, 512))


def test_shortcut_a_subsamples_and_zero_pads() -> None:
    torch.manual_seed(0)
    model = build_model(get_preset("resnet20")).eval()
    shortcut = model.layer2[0].downsample
    x = torch.randn(2, 16, 31, 31)  # odd size: stride-2 subsampling keeps ceil(31 / 2) = 16
    y = shortcut(x)
    assert y.shape == (2, 32, 16, 16)
    assert torch.equal(y[:, :16], x[:, :, ::2, ::2])
    assert torch.equal(y[:, 16:], torch.zeros(2, 16, 16, 16))
    assert sum(p.numel() for p in shortcut.parameters()) == 0


@pytest.mark.parametrize("shortcut,adds_input", [("B", True), ("none", False)])
def test_plain_network_has_no_residual_add(shortcut: str, adds_input: bool) -> None:
    """With the last BN of a block zeroed, a residual block gives relu(x) and a plain one gives 0."""
    spec = dataclasses.replace(get_preset("resnet18"), shortcut=shortcut)
    model = build_model(spec).eval()
    block = model.layer1[1]
    nn.init.zeros_(block.bn2.weight)
    nn.init.zeros_(block.bn2.bias)
    x = torch.rand(1, 64, 9, 9)
    with torch.no_grad():
        y = block(x)
    torch.testing.assert_close(y, x if adds_input else torch.zeros_like(x), rtol=0, atol=0)


# --- stride placement (V1.5 vs the ResNet paper) ------------------------------------------------
@pytest.mark.parametrize("downsample_on,conv1_stride,conv2_stride", [("3x3", 1, 2), ("1x1", 2, 1)])
def test_downsample_on_places_the_stride(downsample_on: str, conv1_stride: int, conv2_stride: int) -> None:
    spec = dataclasses.replace(get_preset("resnet50"), downsample_on=downsample_on)
    model = build_model(spec, device="meta")
    for stage in (2, 3, 4):
        first = getattr(model, f"layer{stage}")[0]
        assert first.conv1.stride == (conv1_stride,) * 2 and first.conv2.stride == (conv2_stride,) * 2
        assert first.downsample[0].stride == (2, 2)
        assert getattr(model, f"layer{stage}")[1].conv1.stride == (1, 1)
    assert model.layer1[0].conv1.stride == model.layer1[0].conv2.stride == (1, 1)
    assert n_params(model) == 25_557_032  # parameters do not depend on where the stride sits


def test_downsample_on_changes_outputs_not_shapes() -> None:
    torch.manual_seed(0)
    small = dataclasses.replace(get_preset("resnet50"), depths=(1, 1, 1, 1))
    v15 = build_model(small).eval()
    paper = build_model(dataclasses.replace(small, downsample_on="1x1")).eval()
    paper.load_state_dict(v15.state_dict(), strict=True)
    x = torch.randn(1, 3, 65, 65)
    with torch.no_grad():
        a, b = v15(x), paper(x)
    assert a.shape == b.shape == (1, 1000)
    assert not torch.allclose(a, b)


def test_basic_block_ignores_downsample_on() -> None:
    a = build_model(get_preset("resnet18"), device="meta")
    b = build_model(dataclasses.replace(get_preset("resnet18"), downsample_on="1x1"), device="meta")
    assert repr(a) == repr(b)
