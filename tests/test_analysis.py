"""analyze: exact reference numbers, shapes equal to a real forward pass, and per-layer agreement with fvcore."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import explorer
from explorer import ArchSpec, SpecError, analyze, build_model, get_preset, list_presets
from explorer.core.analysis import MAC_TYPES

# ../shared/REFERENCE.md: torchvision 0.29.1, 224×224, batch 1; MACs = conv + linear multiply-adds.
TORCHVISION = {
    "resnet18": (11_689_512, 1_814_073_344),
    "resnet34": (21_797_672, 3_663_761_408),
    "resnet50": (25_557_032, 4_089_184_256),
    "resnet101": (44_549_160, 7_801_405_440),
    "resnet152": (60_192_808, 11_513_626_624),
    "resnext50_32x4d": (25_028_904, 4_230_479_872),
    "resnext101_32x8d": (88_791_336, 16_414_015_488),
    "resnext101_64x4d": (83_455_272, 15_460_270_080),
    "wide_resnet50_2": (68_883_240, 11_398_021_120),
    "wide_resnet101_2": (126_886_696, 22_753_050_624),
}
# ResNet paper Table 1, MACs with the stride on the first 1×1 (REFERENCE.md, to the printed 4 digits).
RESNET_PAPER_MACS = {"resnet18": 1.814, "resnet34": 3.664, "resnet50": 3.858, "resnet101": 7.570, "resnet152": 11.282}
MODULE_TYPES = {"conv", "bn", "relu", "maxpool", "avgpool", "linear", "shortcut_a"}
BLOCK_TYPES = {"add", "sum", "concat"}  # computed in a block's own forward, named after the block


def variant(name: str, **changes: object) -> ArchSpec:
    return dataclasses.replace(get_preset(name), **changes)


# --- exact reference numbers --------------------------------------------------------------------
@pytest.mark.parametrize("name", TORCHVISION)
def test_params_and_macs_equal_torchvisions_published_numbers(name: str) -> None:
    params, macs = TORCHVISION[name]
    a = analyze(get_preset(name))
    assert a.input_size == (3, 224, 224)
    assert a.params == params
    assert a.macs == macs
    assert sum(r.macs for r in a.layers if r.type in ("conv", "linear")) == macs  # nothing else has MACs
    assert a.flops == 2 * macs


@pytest.mark.parametrize("name", RESNET_PAPER_MACS)
def test_stride_on_first_1x1_gives_the_resnet_papers_macs(name: str) -> None:
    a = analyze(variant(name, downsample_on="1x1"))
    assert round(a.macs / 1e9, 3) == RESNET_PAPER_MACS[name]


def test_resnet50_downsample_on_1x1_vs_3x3_exact() -> None:
    paper = analyze(variant("resnet50", downsample_on="1x1"))
    v15 = analyze(variant("resnet50", downsample_on="3x3"))
    assert paper.macs == 3_857_973_248  # ResNet paper's "3.8 × 10⁹"
    assert v15.macs == 4_089_184_256  # ResNeXt paper's "4.1 × 10⁹", torchvision
    assert paper.params == v15.params == 25_557_032
    # only the first 1×1 of stages 2-4 differs: with the stride moved to the 3×3 it runs at full resolution
    v15_macs = {r.name: r.macs for r in v15.layers}
    changed = {r.name: v15_macs[r.name] - r.macs for r in paper.layers if r.macs != v15_macs[r.name]}
    # conv1 (c_in → c_in/2, 1×1) at the input resolution hw instead of hw/4: 77,070,336 MACs more per stage
    assert changed == {f"layer{s}.0.conv1": c_in // 2 * c_in * (hw - hw // 4)
                       for s, c_in, hw in ((2, 256, 56 * 56), (3, 512, 28 * 28), (4, 1024, 14 * 14))}
    assert set(changed.values()) == {77_070_336}
    assert sum(changed.values()) == 4_089_184_256 - 3_857_973_248


def test_the_stride_placement_sentence_states_both_placements_exactly() -> None:
    from explorer.costs.reference import STRIDE_NOTE, stride_placement

    v15 = stride_placement(variant("resnet50", downsample_on="3x3"))
    assert v15.startswith("With the stride on the 3x3 this network has 4,089,184,256 MACs; on the 1x1 it would have "
                          "3,857,973,248 MACs, with the same 25,557,032 parameters.") and v15.endswith(STRIDE_NOTE)
    paper = stride_placement(variant("resnet50", downsample_on="1x1"), "flops")
    assert "on the 1x1 this network has 7,715,946,496 FLOPs; on the 3x3 it would have 8,178,368,512 FLOPs" in paper
    assert stride_placement(variant("resnet18")) is None  # a basic block has no 1×1 to put it on


def test_resnext_template_block_params_table_2() -> None:
    """ResNeXt Eq. 4 / Table 2: parameters of the three convs of the conv2 template block (256 in, 256 out)."""
    expected = {"resnet50": 69_632, "resnext50_2x40d": 69_760, "resnext50_4x24d": 69_888,
                "resnext50_8x14d": 71_456, "resnext50_32x4d": 70_144}
    for name, params in expected.items():
        rows = analyze(get_preset(name)).layers
        convs = [r for r in rows if r.name in ("layer1.1.conv1", "layer1.1.conv2", "layer1.1.conv3")]
        assert [r.type for r in convs] == ["conv"] * 3
        assert sum(r.params for r in convs) == params, name


@pytest.mark.parametrize("name", list_presets())
def test_flops_are_twice_macs_and_rollups_add_up(name: str) -> None:
    a = analyze(get_preset(name))
    assert a.flops == 2 * a.macs
    assert a.macs > 0 and a.params > 0
    for rollups in (a.stages, a.blocks):
        assert sum(r.params for r in rollups) == a.params
        assert sum(r.macs for r in rollups) == a.macs
        assert sum(r.other_ops for r in rollups) == a.other_ops
        assert sum(r.activations for r in rollups) == a.activations
        assert all(r.flops == 2 * r.macs for r in rollups)
    stage = "stages.{}" if a.spec.order == "pre" else "layer{}"  # timm's ResNetV2 layout, or torchvision's
    first = 0 if a.spec.order == "pre" else 1
    assert [s.name for s in a.stages] == ["stem"] + [stage.format(i + first) for i in range(len(a.spec.depths))] + [
        "head"]
    assert len(a.blocks) == sum(a.spec.depths) + 2
    # activations: outputs of every conv (ECA's 1-D conv too) and linear layer
    assert a.activations == sum(math.prod(r.out_shape) for r in a.layers if r.type in ("conv", "conv1d", "linear"))
    assert a.output_shape == (a.spec.num_classes,)


def test_resnet50_totals_of_the_other_ops() -> None:
    """Non-MAC work is reported per type, not dropped: 53 BN, 17 ReLU modules used 49 times, 16 adds."""
    by_type = analyze(get_preset("resnet50")).by_type()
    assert {t: v["count"] for t, v in by_type.items()} == {
        "conv": 53, "bn": 53, "relu": 49, "maxpool": 1, "add": 16, "avgpool": 1, "linear": 1,
    }
    assert by_type["maxpool"]["other_ops"] == 64 * 56 * 56 * 8
    assert by_type["avgpool"]["other_ops"] == 2048 * 7 * 7
    assert by_type["linear"] == {"count": 1, "params": 2_049_000, "macs": 2_048_000, "activations": 1000,
                                 "output_elements": 1000, "other_ops": 1000}
    assert by_type["bn"]["activations"] == 0  # activations count conv and linear outputs only
    assert by_type["bn"]["output_elements"] == by_type["bn"]["other_ops"] // 2
    assert by_type["add"]["params"] == by_type["add"]["macs"] == 0


def test_to_dict_is_json_with_the_required_keys() -> None:
    a = analyze(get_preset("resnext50_32x4d"), (3, 97, 131))
    d = a.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert {"name", "input_size", "params", "macs", "flops", "activations", "layers", "stages"} <= set(d)
    assert d["name"] == "resnext50_32x4d" and d["input_size"] == [3, 97, 131]
    assert (d["params"], d["macs"], d["flops"], d["activations"]) == (a.params, a.macs, 2 * a.macs, a.activations)
    assert d["params"] == 25_028_904
    assert len(d["layers"]) == len(a.layers)
    for row in d["layers"]:
        assert {"name", "type", "in_shape", "out_shape", "params", "macs", "activations"} <= set(row)
        assert type(row["in_shape"]) is list and type(row["out_shape"]) is list
        assert row["output_elements"] == math.prod(row["out_shape"])
        assert row["activations"] == (row["output_elements"] if row["type"] in ("conv", "linear") else 0)
    assert sum(r["macs"] for r in d["layers"]) == d["macs"]
    assert [s["name"] for s in d["stages"]] == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
    assert sum(s["params"] for s in d["stages"]) == d["params"]
    assert d["layers"][0] == {
        **d["layers"][0], "name": "conv1", "type": "conv", "in_shape": [3, 97, 131], "out_shape": [64, 49, 66],
        "params": 64 * 3 * 49, "macs": 64 * 49 * 66 * 3 * 49,
    }


# --- shapes: analytic == real forward pass ------------------------------------------------------
SHAPE_CASES = {
    "resnet50 97x131": (get_preset("resnet50"), (3, 97, 131)),
    "resnet18 33x47": (get_preset("resnet18"), (3, 33, 47)),
    "resnext50 33x47": (get_preset("resnext50_32x4d"), (3, 33, 47)),
    "resnet20 33x47": (get_preset("resnet20"), (3, 33, 47)),
    "resnet20 1x1": (get_preset("resnet20"), (3, 1, 1)),
    "plain18 31x17": (get_preset("plain18"), (3, 31, 17)),
    "r50 1x1-stride": (variant("resnet50", downsample_on="1x1", depths=(2, 2, 2, 2)), (3, 97, 131)),
    "r50 shortcut A": (variant("resnet50", shortcut="A", depths=(1, 2, 1, 1)), (3, 45, 39)),
    "r50 shortcut C": (variant("resnet50", shortcut="C", depths=(2, 1, 1, 1)), (3, 33, 47)),
    "r50 shortcut none": (variant("resnet50", shortcut="none", depths=(1, 1, 2, 1)), (3, 33, 47)),
    "r18 shortcut A": (variant("resnet18", shortcut="A"), (3, 33, 47)),
    "r18 shortcut C": (variant("resnet18", shortcut="C"), (3, 3, 5)),
    "resnext form a": (variant("resnext50_8x14d", form="a", depths=(2, 1, 1, 1)), (3, 97, 131)),
    "resnext form b 1x1": (variant("resnext50_4x24d", form="b", depths=(1, 1, 2, 1), downsample_on="1x1"),
                           (3, 33, 47)),
    "bottleneck cifar stem": (variant("resnet50", stem="cifar", stem_width=None, input_size=None, strides=None,
                                      depths=(1, 1, 1), widths=(16, 32, 64)), (3, 33, 47)),
    "1 channel, strides": (ArchSpec(block="basic", depths=(1, 2), widths=(8, 16), strides=(3, 4), stem="cifar",
                                    input_size=(1, 28, 28), num_classes=3), (1, 97, 131)),
}


@pytest.mark.parametrize("spec,size", SHAPE_CASES.values(), ids=SHAPE_CASES.keys())
def test_analytic_shapes_equal_forward_hook_shapes(spec: ArchSpec, size: tuple[int, int, int], leaf_calls) -> None:
    torch.manual_seed(0)
    a = analyze(spec, size)
    model = build_model(spec).eval()
    calls = leaf_calls(model, torch.randn(1, *size))
    rows = [(r.name, r.in_shape, r.out_shape) for r in a.layers if r.type in MODULE_TYPES]
    assert calls == rows  # same modules, in the same order, with the same shapes
    assert {r.type for r in a.layers} <= MODULE_TYPES | BLOCK_TYPES
    assert a.layers[-1].out_shape == (spec.num_classes,)


@pytest.mark.parametrize("spec,size", SHAPE_CASES.values(), ids=SHAPE_CASES.keys())
def test_row_names_are_module_paths_and_adds_are_named_after_their_block(spec: ArchSpec, size) -> None:
    a = analyze(spec, size)
    modules = dict(build_model(spec, device="meta").named_modules())
    blocks = [f"layer{s + 1}.{i}" for s, d in enumerate(spec.depths) for i in range(d)]
    for r in a.layers:
        assert r.name in modules, r.name
        if r.type in BLOCK_TYPES:
            assert r.name in blocks and r.block == r.name
        else:
            assert r.type in MODULE_TYPES
    adds = [r.name for r in a.layers if r.type == "add"]
    assert adds == ([] if spec.shortcut == "none" else blocks)
    assert sum(r.params for r in a.layers) == sum(p.numel() for p in modules[""].parameters())


@pytest.mark.parametrize(
    "size,message",
    [
        ((3, 0, 224), "input_size: must be between 1 and 4096, got 0"),
        ((3, 224, -1), "input_size: must be between 1 and 4096, got -1"),
        ((1, 224, 224), "input_size: this network takes 3 input channels"),
        ((4, 224, 224), "input_size: this network takes 3 input channels"),
        ((3, 224), "input_size: must be [channels, height, width]"),
        ((3, 224, 224, 1), "input_size: must be [channels, height, width]"),
        ("3x224x224", "input_size: must be [channels, height, width]"),
        ((3, 224.0, 224), "input_size: must be a whole number"),
        ((3, "224", 224), "input_size: must be an integer"),
        ((3, True, 224), "input_size: must be an integer"),
        ((3, 4097, 224), "input_size: must be between 1 and 4096"),
        (None, None),
    ],
)
def test_bad_input_size_is_spec_error(size: object, message: str | None) -> None:
    if message is None:  # None means the spec's own input size
        assert analyze(get_preset("resnet50"), size).input_size == (3, 224, 224)
        return
    with pytest.raises(SpecError) as err:
        analyze(get_preset("resnet50"), size)
    assert str(err.value).startswith(message)


def test_smallest_input_still_analyses_and_runs(leaf_calls) -> None:
    """Every op pads ``kernel // 2``, so even 1×1 reaches the head at 1×1 (no size is 'too small' for these strides)."""
    spec = get_preset("resnet50")
    a = analyze(spec, (3, 1, 1))
    assert {r.out_shape[1:] for r in a.layers if len(r.out_shape) == 3} == {(1, 1)}
    assert a.macs == sum(r.params - (r.out_shape[0] if r.type == "linear" else 0)
                         for r in a.layers if r.type in ("conv", "linear"))


# --- fvcore cross-check -------------------------------------------------------------------------
def _profile_size(spec: ArchSpec) -> tuple[int, int, int]:
    """A reduced input for ImageNet-stem networks keeps the traces fast; CIFAR nets use their natural 32×32."""
    return spec.input_size if spec.stem == "cifar" else (3, 64, 64)


def _traceable(spec: ArchSpec) -> ArchSpec:
    """At most 2 blocks per stage for the deep presets: tracing costs about 10 ms per op under fvcore, and the
    repeated blocks are identical, so ResNet-1202's 600 blocks would add about a minute and no information."""
    if sum(spec.depths) <= 20:
        return spec
    return dataclasses.replace(spec, depths=tuple(min(d, 2) for d in spec.depths))


@pytest.mark.parametrize("name", list_presets())
def test_fvcore_agrees_per_layer_for_every_preset(name: str) -> None:
    torch.manual_seed(0)
    spec = _traceable(get_preset(name))
    p = explorer.profile(spec, _profile_size(spec))
    a = analyze(spec, _profile_size(spec))
    compared = [r for r in a.layers if r.type in FVCORE_COUNTS]
    assert [r.name for r in p.rows] == [r.name for r in compared]
    assert p.disagreements == ()
    assert p.mac_rows_agree
    assert sum(r.fvcore for r in p.rows if r.type in MAC_TYPES) == a.macs
    # fvcore's total = our MACs + BN (2 per element) + GN (5 per element) + average pool (1 per input element),
    # nothing else
    norm_pool = sum(r.other_ops for r in a.layers if r.type in ("bn", "gn", "avgpool"))
    assert p.fvcore_total == a.macs + norm_pool
    assert all(t["ours"] == t["fvcore"] for t in p.by_type)
    assert p.analytic_macs == a.macs


FVCORE_COUNTS = ("conv", "conv1d", "linear", "bn", "gn", "avgpool")  # what fvcore counts that we count
FVCORE_VARIANTS = {
    "form a": variant("resnext50_4x24d", form="a", depths=(1, 1, 1, 1)),
    "form b, 1x1": variant("resnext50_4x24d", form="b", downsample_on="1x1", depths=(1, 2, 1, 1)),
    "shortcut A": variant("resnet50", shortcut="A", depths=(1, 1, 2, 1)),
    "shortcut C": variant("resnet18", shortcut="C"),
    "shortcut none": variant("resnet50", shortcut="none", depths=(1, 1, 1, 1)),
    "cifar stem, strides 1-3-2": variant("resnext50_32x4d", stem="cifar", stem_width=None, input_size=None,
                                         depths=(1, 1, 1), widths=(16, 32, 64), strides=(1, 3, 2)),
    "SE, deep stem, shortcut D": variant("seresnet50", stem="deep", shortcut="D", depths=(1, 1, 1, 1)),
    "ECA, conv stem pool": variant("ecaresnet50d", stem_pool="conv", depths=(1, 1, 1, 1)),
    "GN, deep stem": variant("resnet50_gn", stem="deep", depths=(1, 1, 1, 1)),
}


@pytest.mark.parametrize("spec", FVCORE_VARIANTS.values(), ids=FVCORE_VARIANTS.keys())
def test_fvcore_agrees_per_layer_for_variants_at_an_odd_size(spec: ArchSpec) -> None:
    torch.manual_seed(0)
    p = explorer.profile(spec, (3, 33, 47))
    a = analyze(spec, (3, 33, 47))
    assert p.disagreements == ()
    assert len(p.rows) == sum(1 for r in a.layers if r.type in FVCORE_COUNTS)
    assert sum(r.fvcore for r in p.rows if r.type in MAC_TYPES) == a.macs
    adds = 0 if spec.shortcut == "none" else sum(spec.depths)
    if spec.form == "a":  # form (a) also sums its C paths: C - 1 adds per block
        adds += sum(spec.depths) * (spec.cardinality - 1)
    assert p.unsupported_ops.get("aten::add", 0) == adds  # unsupported by fvcore, counted as 0


def test_fvcore_resnet50_at_224_equals_torchvisions_macs() -> None:
    p = explorer.profile(get_preset("resnet50"))
    conv_linear = sum(r.fvcore for r in p.rows if r.type in ("conv", "linear"))
    assert conv_linear == 4_089_184_256
    assert p.fvcore_by_operator["conv"] + p.fvcore_by_operator["linear"] == 4_089_184_256


def test_profile_lists_what_fvcore_does_not_count() -> None:
    p = explorer.profile(get_preset("resnet18"), (3, 64, 64))
    assert p.unsupported_ops == {"aten::max_pool2d": 1, "aten::add": 8}  # one max pool, eight residual adds
    assert "aten::relu" in p.ignored_ops or "aten::relu_" in p.ignored_ops
    d = p.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["mac_rows_agree"] is True and d["analytic_macs"] == analyze(get_preset("resnet18"), (3, 64, 64)).macs


def test_profile_of_a_plain_network_has_no_add() -> None:
    p = explorer.profile(get_preset("plain18"), (3, 64, 64))
    assert p.unsupported_ops == {"aten::max_pool2d": 1}


# --- property: random valid specs ---------------------------------------------------------------
@st.composite
def small_specs(draw: st.DrawFn) -> tuple[ArchSpec, tuple[int, int, int]]:
    n = draw(st.integers(1, 3))
    block = draw(st.sampled_from(["basic", "bottleneck"]))
    widths = draw(st.lists(st.integers(8, 64), min_size=n, max_size=n))
    shortcut = draw(st.sampled_from(["B", "A", "C", "none"]))
    fields: dict = {
        "block": block,
        "depths": tuple(draw(st.lists(st.integers(1, 2), min_size=n, max_size=n))),
        "strides": draw(st.none() | st.lists(st.integers(1, 2), min_size=n, max_size=n).map(tuple)),
        "stem": draw(st.sampled_from(["imagenet", "cifar"])),
        "stem_width": draw(st.none() | st.integers(4, 32)),
        "shortcut": shortcut,
        "num_classes": draw(st.integers(1, 20)),
    }
    if block == "bottleneck":
        fields |= {
            "cardinality": draw(st.sampled_from([1, 2, 3, 4, 8])),
            "base_width": draw(st.integers(8, 96)),
            "expansion": draw(st.none() | st.integers(1, 4)),
            "form": draw(st.sampled_from(["c", "a", "b"])),
            "downsample_on": draw(st.sampled_from(["3x3", "1x1"])),
        }
    if shortcut == "A":  # option A cannot shrink channels: make them non-decreasing
        widths = sorted(widths)
        expansion = fields.get("expansion") or (4 if block == "bottleneck" else 1)
        default_stem = 64 if fields["stem"] == "imagenet" else 16
        fields["stem_width"] = min(fields["stem_width"] or default_stem, widths[0] * expansion)
    c = draw(st.integers(1, 4))
    size = (c, draw(st.integers(16, 40)), draw(st.integers(16, 40)))
    spec = ArchSpec(widths=tuple(widths), input_size=(c, 32, 32), **fields)
    return spec, size


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=small_specs())
def test_random_specs_params_and_shapes_match_the_model(case, leaf_calls) -> None:
    spec, size = case
    torch.manual_seed(0)
    a = analyze(spec, size)
    model = build_model(spec).eval()
    assert a.params == sum(p.numel() for p in model.parameters())
    calls = leaf_calls(model, torch.randn(1, *size))
    assert calls == [(r.name, r.in_shape, r.out_shape) for r in a.layers if r.type in MODULE_TYPES]
    assert ArchSpec.from_json(spec.to_json()) == spec


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=small_specs())
def test_random_specs_agree_with_fvcore(case) -> None:
    spec, size = case
    torch.manual_seed(0)
    p = explorer.profile(spec, size)
    assert p.disagreements == ()
    assert sum(r.fvcore for r in p.rows if r.type in MAC_TYPES) == analyze(spec, size).macs
