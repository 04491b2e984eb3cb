"""from_model: a torchvision or timm ResNet read back into the spec that builds the same network.

The oracle is the original module itself: same parameter count, its state_dict loads with strict=True into
``build_model(spec)``, and the two give the same outputs in eval mode (BN statistics randomized first, so a
wrong mapping shows). Refusals are SpecErrors that say what was met.
"""

from __future__ import annotations

import random
from functools import partial
from typing import Any

import pytest
import torch
import torchvision
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from explorer import TORCHVISION_PRESETS, ArchSpec, SpecError, build_model, get_preset
from explorer.core.spec import eca_kernel, se_channels
from explorer.build.from_model import from_model, spec_from_name, torchvision_resnets
from conftest import randomize_norms

pytestmark = pytest.mark.usefixtures("one_thread")


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def assert_same_network(original: nn.Module, spec: ArchSpec, size: tuple[int, int] = (48, 48)) -> None:
    """Same params, strict state_dict load, same outputs (eval)."""
    randomize_norms(original)
    original.eval()
    ours = build_model(spec).eval()
    assert n_params(ours) == n_params(original)
    theirs_sd = original.state_dict()
    shapes = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    assert shapes == {k: tuple(v.shape) for k, v in theirs_sd.items()}
    result = ours.load_state_dict(theirs_sd, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    x = torch.randn(2, spec.input_size[0], *size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, actual = original(x), ours(x)
    assert actual.shape == expected.shape == (2, spec.num_classes)
    assert expected.abs().max() > 1e-3  # not a degenerate comparison
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)


# --- torchvision ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", TORCHVISION_PRESETS)
def test_torchvision_names_read_back_as_their_presets(name: str) -> None:
    """torchvision's ten, built on the meta device, read back field for field as the preset of that name."""
    assert spec_from_name(f"torchvision:{name}") == get_preset(name)
    with torch.device("meta"):
        assert from_model(getattr(torchvision.models, name)()) == get_preset(name)  # named after the preset


def _random_torchvision_configs(n: int, seed: int = 17) -> list[dict[str, Any]]:
    """Seeded configurations across torchvision's ResNet arguments (small enough to run on one core)."""
    rng = random.Random(seed)
    configs = []
    for i in range(n):
        block = "basic" if i % 3 == 0 else "bottleneck"
        layers = [rng.randint(1, 3) for _ in range(4)]
        if block == "basic":
            groups, width = 1, 64
        else:
            groups = rng.choice([1, 2, 4, 8, 32])
            width = rng.choice([w for w in (4, 8, 14, 16, 24, 40, 64) if groups * w <= 256])
        configs.append({"block": block, "layers": layers, "groups": groups, "width_per_group": width,
                        "num_classes": rng.choice([1, 7, 10, 100, 1000])})
    return configs


TORCHVISION_CONFIGS = _random_torchvision_configs(10)


def _tv_id(c: dict[str, Any]) -> str:
    return "{block}-{layers}-{groups}x{width_per_group}-{num_classes}".format(**c)


@pytest.mark.parametrize("config", TORCHVISION_CONFIGS, ids=_tv_id)
def test_random_torchvision_resnets_round_trip(config: dict[str, Any]) -> None:
    torch.manual_seed(0)
    block = BasicBlock if config["block"] == "basic" else Bottleneck
    original = ResNet(block, config["layers"], num_classes=config["num_classes"], groups=config["groups"],
                      width_per_group=config["width_per_group"])
    spec = from_model(original)
    assert spec.block == config["block"] and list(spec.depths) == config["layers"]
    assert spec.cardinality == config["groups"] and spec.num_classes == config["num_classes"]
    # the 3×3 width torchvision computed is the one the spec's rule gives, stage by stage
    for i in range(4):
        conv2 = getattr(original, f"layer{i + 1}")[0].conv2
        expected = spec.group_width(i) if spec.block == "bottleneck" else spec.widths[i]
        assert expected == conv2.out_channels
    assert_same_network(original, spec)


def test_zero_init_residual_reads_back_the_same_structure() -> None:
    a = from_model(torchvision.models.resnet18(zero_init_residual=True))
    assert a == get_preset("resnet18")


def test_input_channels_are_read_from_conv1() -> None:
    torch.manual_seed(0)
    original = torchvision.models.resnet18(num_classes=5)
    original.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)  # a grey-scale ResNet-18
    spec = from_model(original)
    assert spec.input_size == (1, 224, 224) and spec.name == "custom"
    assert_same_network(original, spec)


def test_the_cifar_adaptation_reads_as_the_cifar_stem() -> None:
    """The usual CIFAR ResNet-18: a 3×3/1 conv and the max pool replaced by Identity."""
    torch.manual_seed(0)
    original = torchvision.models.resnet18(num_classes=10)
    original.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    original.maxpool = nn.Identity()
    spec = from_model(original)
    assert (spec.stem, spec.stem_width, spec.input_size) == ("cifar", 64, (3, 32, 32))
    assert_same_network(original, spec, size=(32, 32))


@pytest.mark.parametrize("stem,conv1,pool", [
    ("imagenet", nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.Identity()),
    ("cifar", nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.MaxPool2d(3, 2, 1)),
])
def test_the_stem_pool_is_read_apart_from_the_stem(stem: str, conv1: nn.Module, pool: nn.Module) -> None:
    torch.manual_seed(0)
    original = torchvision.models.resnet18(num_classes=10)
    original.conv1, original.maxpool = conv1, pool
    spec = from_model(original)
    assert (spec.stem, spec.stem_pool) == (stem, "none" if isinstance(pool, nn.Identity) else "max")
    assert_same_network(original, spec, size=(64, 64))


def test_torchvision_resnets_are_the_ten() -> None:
    assert sorted(torchvision_resnets()) == sorted(TORCHVISION_PRESETS)


# --- refusals --------------------------------------------------------------------------------------
class MyBlock(BasicBlock):
    """A user's block: the same modules, another forward."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) * 2


def _on_meta(builder: Any, *args: Any, **kwargs: Any) -> nn.Module:
    with torch.device("meta"):
        return builder(*args, **kwargs)


@pytest.mark.parametrize(
    "make,words",
    [
        (lambda: _on_meta(torchvision.models.resnet50, replace_stride_with_dilation=[False, True, True]),
         r"^model: layer3\.1\.conv2: dilation 2 \(replace_stride_with_dilation"),
        (lambda: _on_meta(ResNet, MyBlock, [1, 1, 1, 1]), r"^model: layer1\.0: a custom block .*MyBlock"),
        (lambda: _on_meta(ResNet, BasicBlock, [1, 1, 1, 1], norm_layer=nn.InstanceNorm2d),
         r"^model: bn1: a InstanceNorm2d normalization"),
        (lambda: _on_meta(ResNet, BasicBlock, [1, 1, 1, 1], norm_layer=partial(nn.BatchNorm2d, eps=1e-3)),
         r"^model: bn1: a BatchNorm2d with eps=0\.001"),
        (lambda: _on_meta(torchvision.models.vgg11), r"^model: a torchvision\.models\.vgg\.VGG is not a network"),
    ],
    ids=["dilation", "custom-block", "instance-norm", "bn-eps", "not-a-resnet"],
)
def test_what_a_spec_cannot_express_is_refused_with_what_was_met(make: Any, words: str) -> None:
    with pytest.raises(SpecError, match=words):
        from_model(make())


def test_dilation_is_named() -> None:
    model = _on_meta(torchvision.models.resnet50, replace_stride_with_dilation=[False, False, True])
    with pytest.raises(SpecError, match=r"^model: layer4\.1\.conv2: dilation 2"):
        from_model(model)


def test_a_changed_classifier_is_refused() -> None:
    model = _on_meta(torchvision.models.resnet18)
    model.fc = nn.Sequential(nn.Dropout(0.5), nn.Linear(512, 10))
    with pytest.raises(SpecError, match=r"^model: fc: a Sequential classifier"):
        from_model(model)


def test_torchvision_with_group_norm_reads_as_norm_gn() -> None:
    torch.manual_seed(0)
    original = ResNet(Bottleneck, [1, 1, 1, 1], num_classes=10, norm_layer=lambda c: nn.GroupNorm(32, c))
    spec = from_model(original)
    assert spec.norm == "gn"
    assert_same_network(original, spec)


def test_group_norm_of_other_groups_is_refused() -> None:
    model = _on_meta(ResNet, Bottleneck, [1, 1, 1, 1], norm_layer=lambda c: nn.GroupNorm(16, c))
    with pytest.raises(SpecError, match=r"^model: bn1: a GroupNorm with 16 groups"):
        from_model(model)


@pytest.mark.parametrize(
    "source,words",
    [
        ("resnet50", r"^from: must be 'timm:NAME' or 'torchvision:NAME'"),
        ("keras:resnet50", r"^from: unknown library 'keras'"),
        ("torchvision:vgg16", r"^from: torchvision has no ResNet named 'vgg16'; its ResNets are .*resnet50"),
        ("timm:resnet_nope", r"^from: timm has no model named 'resnet_nope'; list its ResNets with timm\.list_models"),
        ("timm:vit_tiny_patch16_224", r"^model: a timm\.models\.vision_transformer\.VisionTransformer is not"),
        ("timm:legacy_senet154", r"^model: layer0: a stem of conv1, bn1, relu1, conv2, .* \(input_3x3: SENet-154"),
    ],
)
def test_spec_from_name_refusals(source: str, words: str) -> None:
    pytest.importorskip("timm")
    with pytest.raises(SpecError, match=words):
        spec_from_name(source)


# --- timm's rules, against timm itself ----------------------------------------------------------
# timm's SEModule takes rd_ratio = 1 / r and computes channels * rd_ratio; C / r would round to other widths in a
# handful of cases (none in a preset): these are the ones with r ≤ 64 and C ≤ 4096, where the spec must still agree.
SE_DIVISION_GAPS = {(588, 49), (1372, 49), (2548, 49), (2940, 49)}


@pytest.mark.parametrize("channels,reduction", [
    *((c, r) for c in (8, 16, 24, 40, 64, 72, 100, 128, 200, 256, 512, 1000, 1024, 2048, 4096)
      for r in (2, 3, 4, 8, 16, 32)),
    *sorted(SE_DIVISION_GAPS),
])
def test_the_spec_se_width_is_timms(channels: int, reduction: int) -> None:
    timm_layers = pytest.importorskip("timm.layers")
    for divisor in (1, 4, 8):
        se = timm_layers.SEModule(channels, rd_ratio=1 / reduction, rd_divisor=divisor)
        assert se_channels(channels, reduction, divisor) == se.fc1.out_channels


def test_the_spec_eca_kernel_is_timms() -> None:
    timm_layers = pytest.importorskip("timm.layers")
    for c in (1, 2, 3, 8, 16, 24, 32, 64, 100, 128, 200, 256, 512, 1000, 1024, 2048, 4096, 8192, 12345):
        assert eca_kernel(c) == timm_layers.EcaModule(c).conv.kernel_size[0]


# --- timm ---------------------------------------------------------------------------------------
def _timm_and_spec(make: Any) -> tuple[nn.Module, ArchSpec]:
    """A timm model (built by ``make(timm)`` under a fixed seed) and the spec read from it."""
    timm = pytest.importorskip("timm")
    torch.manual_seed(0)
    model = make(timm)
    return model, from_model(model)


TIMM_NAMES = ["resnet18", "resnet26", "resnet50", "resnext50_32x4d", "resnet18d", "resnet26d", "resnet50c",
              "resnet50s", "resnet50t", "seresnet50", "seresnext26d_32x4d", "ecaresnet26t", "resnet26t",
              "resnetrs50", "resnet50_gn", "resnetaa50d", "resnetv2_50", "resnetv2_50d", "resnetv2_18",
              # timm's legacy SENet layout: SE-ResNet-18 (SE widths 64 // 16 = 4, where make_divisible gives 8),
              # SE-ResNeXt (the stride on the 3×3) and SE-ResNet-50 (on the 1×1)
              "legacy_seresnet18", "legacy_seresnext26_32x4d", "legacy_seresnet50"]


@pytest.mark.parametrize("name", TIMM_NAMES)
def test_timm_models_round_trip(name: str) -> None:
    model, spec = _timm_and_spec(lambda timm: timm.create_model(name, pretrained=False))
    assert spec.num_classes == 1000
    assert_same_network(model, spec, size=(64, 64))


def _random_timm_configs(n: int, seed: int = 23) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        basic = i % 4 == 0
        cfg: dict[str, Any] = {"block": "BasicBlock" if basic else "Bottleneck",
                               "layers": [rng.randint(1, 2) for _ in range(4)],
                               "num_classes": rng.choice([3, 10, 1000]),
                               "stem_type": rng.choice(["", "deep", "deep_tiered"]),
                               "stem_width": rng.choice([16, 32, 48]),
                               "avg_down": rng.random() < 0.5,
                               "replace_stem_pool": rng.random() < 0.25}
        if not basic:
            cfg["cardinality"] = rng.choice([1, 4, 32])
            cfg["base_width"] = rng.choice([w for w in (4, 8, 16, 64) if cfg["cardinality"] * w <= 256])
        attn = rng.choice([None, "se", "eca"])
        if attn:
            cfg["attn_layer"] = attn
        if rng.random() < 0.2 and not cfg["replace_stem_pool"]:
            cfg["aa_layer"] = "avg"
        gn_ok = (basic or (cfg["cardinality"], cfg["base_width"]) in ((1, 64), (32, 4))) and (
            cfg["stem_type"] == "" or cfg["stem_type"] == "deep" and cfg["stem_width"] == 32)
        if gn_ok and rng.random() < 0.5:  # 32 groups need channel counts divisible by 32
            cfg["norm_layer"] = "groupnorm"
        out.append(cfg)
    return out


TIMM_CONFIGS = _random_timm_configs(8)


def _timm_id(c: dict[str, Any]) -> str:
    return "-".join(f"{k}={v}" for k, v in c.items() if k != "layers")


@pytest.mark.parametrize("config", TIMM_CONFIGS, ids=_timm_id)
def test_random_timm_resnets_round_trip(config: dict[str, Any]) -> None:
    def make(timm: Any) -> nn.Module:
        from timm.models import resnet as tr

        kw = dict(config)
        block = getattr(tr, kw.pop("block"))
        attn = kw.pop("attn_layer", None)
        if kw.pop("aa_layer", None):
            kw["aa_layer"] = nn.AvgPool2d
        return tr.ResNet(block, kw.pop("layers"), block_args={"attn_layer": attn} if attn else None, **kw)

    model, spec = _timm_and_spec(make)
    assert list(spec.depths) == config["layers"] and spec.num_classes == config["num_classes"]
    assert_same_network(model, spec, size=(64, 64))


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({"output_stride": 16}, r"^model: layer4\.1\.conv2: dilation 2"),
        ({"drop_path_rate": 0.1}, r"drop-path"),
        ({"drop_block_rate": 0.1}, r"DropBlock"),
        ({"drop_rate": 0.2}, r"dropout before the classifier"),
        ({"block_reduce_first": 2}, r"no reduce_first"),
        ({"down_kernel_size": 3, "avg_down": False}, r"a 3×3 conv where the block has a 1×1"),
        ({"act_layer": "silu"}, r"a SiLU activation"),
        ({"global_pool": "max"}, r"global pool 'max'"),
        ({"aa_layer": nn.AvgPool2d, "replace_stem_pool": True, "stem_type": "deep"}, r"replace_stem_pool with "
                                                                                     r"anti-aliasing"),
    ],
    ids=["output-stride", "drop-path", "drop-block", "dropout", "reduce-first", "down-kernel", "silu", "max-pool",
         "aa-conv-pool"],
)
def test_timm_options_outside_the_space_are_refused(kwargs: dict[str, Any], words: str) -> None:
    timm = pytest.importorskip("timm")
    from timm.models.resnet import Bottleneck as TimmBottleneck, ResNet as TimmResNet

    with torch.device("meta"):
        model = TimmResNet(TimmBottleneck, [1, 1, 1, 2], **kwargs)
    with pytest.raises(SpecError, match=words):
        from_model(model)
    assert timm  # imported for its registry; the class is built directly


def test_timm_non_preact_resnetv2_is_refused() -> None:
    timm = pytest.importorskip("timm")
    with torch.device("meta"):
        model = timm.create_model("resnetv2_50x1_bit", pretrained=False)  # StdConv2d + GroupNormAct
    with pytest.raises(SpecError, match=r"^model: stem: a stem of conv, pad, pool \(preact=False, or a 'fixed'"):
        from_model(model)
    with torch.device("meta"):
        model = timm.create_model("resnetv2_50", pretrained=False, conv_layer=timm.layers.StdConv2d)
    with pytest.raises(SpecError, match=r"^model: stem\.conv: a StdConv2d where a Conv2d was expected"):
        from_model(model)


def _random_resnetv2_configs(n: int, seed: int = 29) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [{"layers": [rng.randint(1, 2) for _ in range(4)], "stem_type": rng.choice(["", "deep", "tiered"]),
             "avg_down": rng.random() < 0.5, "basic": i % 3 == 0, "num_classes": rng.choice([10, 1000])}
            for i in range(n)]


@pytest.mark.parametrize("config", _random_resnetv2_configs(4), ids=_timm_id)
def test_random_timm_resnetv2s_round_trip(config: dict[str, Any]) -> None:
    def make(timm: Any) -> nn.Module:
        from timm.layers import BatchNormAct2d, create_conv2d
        from timm.models.resnetv2 import ResNetV2

        kw = dict(config)
        basic = kw.pop("basic")
        channels = (64, 128, 256, 512) if basic else (256, 512, 1024, 2048)
        return ResNetV2(kw.pop("layers"), channels=channels, basic=basic, bottle_ratio=1.0 if basic else 0.25,
                        conv_layer=create_conv2d, norm_layer=BatchNormAct2d, **kw)

    model, spec = _timm_and_spec(make)
    assert spec.order == "pre" and list(spec.depths) == config["layers"]
    assert_same_network(model, spec, size=(64, 64))


def _timm_presets() -> list[str]:
    try:
        import timm
    except ImportError:
        return []
    from explorer import list_presets

    return [n for n in list_presets() if n in set(timm.list_models())]


@pytest.mark.parametrize("name", _timm_presets())
def test_timm_names_read_back_as_their_presets(name: str) -> None:
    """Every preset named as a timm model is what from_model reads from that timm model (built on meta)."""
    assert spec_from_name(f"timm:{name}") == get_preset(name)
