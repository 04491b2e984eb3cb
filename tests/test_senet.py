"""timm's legacy SENet layout (``layout="senet"``): legacy_seresnet50 and what it brought.

Three rules came with it, each checked against its source of truth: the ceil-mode stem pool's output size against
torch's own pooling, SE's width rounded down (``C // r``) against timm's senet.py ``SEModule``, and the module tree
against ``timm.create_model("legacy_seresnet50")``. The oracle of the counts, the state_dict and the outputs is
tests/test_timm.py (it picks the preset up by name); here the figures, the export and the spec's rules.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from explorer import ArchSpec, SpecError, analyze, build_model, get_preset, list_presets
from explorer.build import nets
from explorer.build.export import NETS, export_python
from explorer.core import plan as P
from explorer.core.spec import make_divisible, se_channels
from explorer.present.links import params_to_spec, spec_to_params
from conftest import randomize_norms

pytestmark = pytest.mark.usefixtures("one_thread")
LEGACY = get_preset("legacy_seresnet50")


# --- the ceil-mode pool: torch's rule, the last window starting inside the input ------------------------------------
@pytest.mark.parametrize("kernel,stride,padding", [(3, 2, 0), (3, 2, 1), (2, 2, 0), (3, 3, 1), (2, 2, 1), (5, 3, 2)])
def test_ceil_mode_output_size_is_torchs(kernel: int, stride: int, padding: int) -> None:
    """Every side from 2 to 140 (97 and 131 among them); (3, 3, 1) at 5 and (2, 2, 1) at even sides are where a last
    window would start in the padding and torch drops it."""
    dropped = 0
    for side in range(max(2, kernel - 2 * padding), 141):
        x = torch.zeros(1, 1, side, side + 1)
        theirs = F.max_pool2d(x, kernel, stride, padding, ceil_mode=True).shape[2:]
        op = P.MaxPool("p", kernel, stride, padding, ceil=True)
        assert op.out_shape((1, side, side + 1))[1:] == tuple(theirs), (side, kernel, stride, padding)
        span = side + 2 * padding - kernel
        dropped += -(-span // stride) + 1 != theirs[0]
    assert (dropped > 0) == ((kernel, stride, padding) in ((3, 3, 1), (2, 2, 1)))


def test_the_senet_stem_pool_differs_from_the_padded_one_only_at_odd_sides() -> None:
    """After the 7×7/2 conv: 112 → 56 either way; 49 → 24 unpadded in ceil mode, 25 padded (torch's own pools)."""
    for conv_side, ceil_side, padded_side in ((112, 56, 56), (49, 24, 25), (66, 33, 33), (48, 24, 24)):
        x = torch.zeros(1, 1, conv_side, conv_side)
        assert nn.MaxPool2d(3, 2, ceil_mode=True)(x).shape[-1] == ceil_side
        assert nn.MaxPool2d(3, 2, 1)(x).shape[-1] == padded_side
    rows = {r.name: r for r in analyze(LEGACY, (3, 97, 131)).layers}
    assert rows["layer0.conv1"].out_shape == (64, 49, 66) and rows["pool0"].out_shape == (64, 24, 33)
    padded = {r.name: r for r in analyze(dataclasses.replace(LEGACY, stem_pool="max"), (3, 97, 131)).layers}
    assert padded["pool0"].out_shape == (64, 25, 33)


# --- SE's width: C // r --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("channels,reduction", [(c, r) for c in (16, 24, 64, 100, 200, 256, 1000, 2048)
                                                for r in (2, 4, 16, 32) if c >= r])
def test_senet_se_width_is_the_floor_timms_senet_module_takes(channels: int, reduction: int) -> None:
    from timm.models.senet import SEModule

    assert se_channels(channels, reduction, 8, "senet") == SEModule(channels, reduction).fc1.out_channels


def test_the_floor_and_make_divisible_differ_where_they_should() -> None:
    """200 channels at r = 16: 12 in SENet's code, 16 in timm's ResNet (make_divisible to 8); 64: 4 and 8."""
    from timm.layers import SEModule as TimmSE
    from timm.models.senet import SEModule as SENetSE

    for c, floor, rounded in ((200, 12, 16), (64, 4, 8), (256, 16, 16)):
        assert se_channels(c, 16, 8, "senet") == SENetSE(c, 16).fc1.out_channels == floor
        assert se_channels(c, 16, 8) == make_divisible(c / 16, 8) == TimmSE(c, rd_ratio=1 / 16).fc1.out_channels \
            == rounded
    spec = ArchSpec(block="basic", depths=(1,), widths=(200,), stem="cifar", stem_width=200, attention="se",
                    layout="senet", num_classes=10)
    fc1 = {r.name: r for r in analyze(spec).layers}["layer1.0.se_module.fc1"]
    assert fc1.out_shape[0] == 12 and fc1.params == 200 * 12 + 12


# --- the preset: timm's module tree, figures -------------------------------------------------------------------
def _timm_legacy() -> nn.Module:
    timm = pytest.importorskip("timm")
    with torch.device("meta"):
        return timm.create_model("legacy_seresnet50", pretrained=False).eval()


def test_the_module_tree_is_timms_name_for_name_in_order() -> None:
    theirs, ours = _timm_legacy(), build_model(LEGACY, device="meta")
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    mine = dict(ours.named_modules())
    leaves = [n for n, m in theirs.named_modules() if not any(m.children())]
    assert [repr(mine[n]) for n in leaves] == [repr(m) for n, m in theirs.named_modules() if n in set(leaves)]
    assert repr(mine["pool0"]) == "MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=True)"


def test_figures_at_224_are_seresnet50_with_the_stride_on_the_1x1_and_at_97x131_timms() -> None:
    """28,088,024 params and 3,860,488,192 MACs at 224 (the ResNet paper's ResNet-50, 3,857,973,248, plus SE's
    2,514,944); at 97×131 timm's model has 1,057,350,016 (forward hooks, tests/test_timm.py per layer)."""
    same = get_preset("seresnet50").edit(downsample_on="1x1")
    a = analyze(LEGACY)
    assert (a.params, a.macs) == (analyze(same).params, analyze(same).macs) == (28_088_024, 3_860_488_192)
    assert a.macs - analyze(get_preset("resnet50").edit(downsample_on="1x1")).macs == 2_514_944
    assert analyze(LEGACY, (3, 97, 131)).macs == 1_057_350_016
    assert analyze(same, (3, 97, 131)).macs > 1_057_350_016  # the padded pool keeps one more row at 49


def test_se_convs_are_named_the_same_kind_in_either_layout() -> None:
    """SE's fc1 and fc2 (1×1 convs on the channel means) are 'SE 1×1 fc' under se and se_module alike, so Compare
    and the kind table do not count them among the 1×1 convs of the residual branch in one layout only."""
    from collections import Counter

    from explorer.core.plan import GATE_MODULES
    from explorer.core.spec import LAYOUTS

    assert set(GATE_MODULES) == set(LAYOUTS)
    kinds = [Counter(r.kind for r in analyze(s).layers if r.macs) for s in (LEGACY, get_preset("seresnet50"))]
    assert kinds[0] == kinds[1] and kinds[0]["SE 1×1 fc"] == 2 * 16 and kinds[0]["dense 1×1 conv"] == 2 * 16 + 4


def test_the_exported_file_is_the_librarys_classes_and_loads_timms_weights() -> None:
    timm = pytest.importorskip("timm")
    source = export_python(LEGACY)
    assert "SENetBottleneck" in source and source.count("class SENet(") == 1
    ns: dict = {}
    exec(compile(source, "exported.py", "exec"), ns)  # our own generated file, not user data
    exported = ns["build"]().eval()
    assert type(exported).__name__ == "SENet"
    torch.manual_seed(0)
    theirs = timm.create_model("legacy_seresnet50", pretrained=False)
    randomize_norms(theirs)
    theirs.eval()
    assert [n for n, _ in exported.named_modules()] == [n for n, _ in theirs.named_modules()]
    exported.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(1, 3, 65, 47, generator=torch.Generator().manual_seed(2))  # odd: the ceil-mode pool matters
    with torch.no_grad():
        torch.testing.assert_close(exported(x), theirs(x), rtol=1e-4, atol=1e-5)
    assert type(build_model(LEGACY, device="meta")) is nets.SENet
    assert NETS.read_text().count("class SENet(") == 1


# --- the spec: validation, edits, JSON and links ---------------------------------------------------------------------
@pytest.mark.parametrize("fields,words", [
    ({"order": "pre"}, r"^layout: the SENet layout has post-activation blocks"),
    ({"stem": "deep"}, r"^layout: the SENet layout's layer0 here is one conv, BN and ReLU; the deep stem"),
    ({"attention": "eca"}, r"^layout: .* ECA is named in timm's ResNet layout"),
    ({"cardinality": 4, "base_width": 16, "form": "a"}, r"^layout: .* Fig. 3 form a is named"),
    ({"aa": True}, r"^layout: .* anti-aliasing is named"),
    ({"attention": "se", "se_reduction": 300}, r"^se_reduction: the SENet layout rounds SE's width down: stage 1's "
                                               r"256 channels // 300 is 0"),
    ({"layout": "resnet"}, r"^layout: must be one of 'timm', 'senet'; got str 'resnet'"),
])
def test_what_the_senet_layout_cannot_name_is_refused(fields: dict, words: str) -> None:
    with pytest.raises(SpecError, match=words):
        ArchSpec(**{"layout": "senet", **fields})


def test_the_stem_pool_follows_the_layout_and_the_stem() -> None:
    r50 = get_preset("resnet50")
    assert ArchSpec(layout="senet").stem_pool == "max_ceil" and ArchSpec().stem_pool == "max"
    senet = r50.edit(layout="senet")
    assert senet.stem_pool == "max_ceil" and senet.edit(layout="timm") == r50
    assert senet.edit(stem="cifar").stem_pool == "none" and senet.edit(stem="cifar").edit(stem="imagenet") == senet
    assert r50.edit(layout="senet", stem_pool="max").stem_pool == "max"  # a pool chosen with it stays
    assert get_preset("seresnet50").edit(layout="senet", downsample_on="1x1") == LEGACY  # the name follows too


def test_every_other_preset_keeps_the_timm_layout_and_its_json_reads_back() -> None:
    assert [n for n in list_presets() if get_preset(n).layout != "timm"] == ["legacy_seresnet50"]
    data = get_preset("resnet50").to_dict()
    assert data["layout"] == "timm" and data["stem_pool"] == "max"
    del data["layout"]  # a spec file written before the field existed
    assert ArchSpec.from_dict(data) == get_preset("resnet50")
    assert ArchSpec.from_json(LEGACY.to_json()) == LEGACY


def test_links_name_the_layout_and_leave_out_the_pool_that_follows() -> None:
    assert spec_to_params(LEGACY) == {"preset": "legacy_seresnet50"}
    spec = get_preset("resnet50").edit(layout="senet")
    assert spec_to_params(spec) == {"preset": "resnet50", "layout": "senet"}
    assert params_to_spec({"preset": "resnet50", "layout": "senet"}) == (spec, [])


# --- other networks in the layout: shapes, counts and training cost against torch -------------------------------
SENET_VARIANTS = {
    "basic se gn": ArchSpec(name="b", block="basic", depths=(1, 2), widths=(32, 64), attention="se", se_reduction=4,
                            norm="gn", layout="senet", num_classes=10),
    "resnext 3x3 D": ArchSpec(name="x", depths=(1, 1, 1), widths=(16, 32, 64), cardinality=4, base_width=16,
                              attention="se", shortcut="D", layout="senet", num_classes=10),
    "cifar plain none": ArchSpec(name="c", block="basic", depths=(1, 1), widths=(16, 32), stem="cifar",
                                 shortcut="none", layout="senet", zero_init=True, num_classes=10),
}


@pytest.mark.parametrize("spec", SENET_VARIANTS.values(), ids=SENET_VARIANTS.keys())
def test_senet_variants_shapes_params_and_training_cost_are_torchs(spec: ArchSpec, leaf_calls) -> None:
    from test_training import check_against_torch

    size = (3, 33, 47) if spec.stem == "cifar" else (3, 65, 47)
    a = analyze(spec, size)
    model = build_model(spec).eval()
    assert a.params == sum(p.numel() for p in model.parameters())
    module_types = {k for k, t in P.OPS.items() if t.module}
    assert leaf_calls(model, torch.randn(1, *size)) == [(r.name, r.in_shape, r.out_shape) for r in a.layers
                                                        if r.type in module_types]
    check_against_torch(spec, 2, size)
