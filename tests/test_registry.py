"""The registries are complete: every op type and block kind has its entry in every table that reads them.

A new op type or block kind that misses one of these fails here, instead of being counted as zero somewhere.
"""

from __future__ import annotations

import dataclasses

import pytest

from explorer import analyze, list_presets, get_preset
from explorer.costs import counters
from explorer.core import plan as P
from explorer.core.analysis import MAC_TYPES


def test_every_op_type_has_a_rule_in_every_counting_tool() -> None:
    for tool in counters.TOOL_IDS:
        assert set(counters.RULES[tool]) == set(P.OPS), f"{tool} lacks or has extra op types"


def test_every_op_type_is_described() -> None:
    for key, info in P.OPS.items():
        assert info.type == key and info.label and info.words
        assert info.saves in P.SAVES
        assert not (info.merge and info.module), key  # a merge is computed by the block's forward
    assert set(MAC_TYPES) == {"conv", "conv1d", "linear"}


def test_every_row_of_every_preset_has_a_registered_type() -> None:
    for name in list_presets():
        for r in analyze(get_preset(name)).layers:
            assert r.type in P.OPS, (name, r.name, r.type)
            assert r.kind, (name, r.name)


def test_block_kinds_have_a_plan_builder_and_a_module_class() -> None:
    pytest.importorskip("torch")
    from explorer.build import nets

    assert set(P.BLOCK_KINDS) == set(nets.BLOCKS)
    from explorer.core.spec import BLOCKS, LAYOUTS, ORDERS, ArchSpec, SpecError

    def kind(**fields: str) -> str | None:
        try:
            return P.block_kind(ArchSpec(**fields))
        except SpecError:  # the SENet layout has no pre-activation blocks
            return None

    kinds = {kind(block=b, order=o, layout=lay) for b in BLOCKS for o in ORDERS for lay in LAYOUTS} - {None}
    assert kinds == set(P.BLOCK_KINDS) == {"basic", "bottleneck", "preact_basic", "preact_bottleneck", "senet_basic",
                                           "senet_bottleneck"}


def test_every_op_class_is_a_frozen_dataclass_with_its_type() -> None:
    classes = [P.Conv, P.BatchNorm, P.GroupNorm, P.ReLU, P.MaxPool, P.AvgPool, P.GlobalAvgPool, P.Linear,
               P.ShortcutA, P.Squeeze, P.ChannelConv, P.Sigmoid, P.Flatten, P.Add, P.PathSum, P.Concat, P.Scale]
    assert {c.type for c in classes} == set(P.OPS)
    for c in classes:
        assert dataclasses.is_dataclass(c) and c.__dataclass_params__.frozen


# --- a new block kind is one small change ---------------------------------------------------------------------
class ToyGateBlock:  # replaced by a torch module in the test (the module must be importable without torch)
    pass


def _toy_plan(spec, a):  # noqa: ANN001, ANN202
    """A 3×3 conv + BN, then a parameter-free channel gate: x * sigmoid(mean(x))."""
    n = a.name
    return (P.Conv(f"{n}.conv1", a.c_in, a.c_out, 3, a.stride), P.BatchNorm(f"{n}.bn1", a.c_out),
            P.Gate(f"{n}.gate", (P.Squeeze(f"{n}.gate"), P.Sigmoid(f"{n}.gate.sigmoid"))))


def test_a_new_block_kind_is_one_small_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register a kind in the three places the README names (the spec's block names, a plan builder, a module
    class): counts, the model, training cost, the export and the diagram follow without touching anything else."""
    torch = pytest.importorskip("torch")
    from torch import nn

    from explorer import build_model, train_cost
    from explorer.build import nets
    from explorer.core import spec as S
    from explorer.present.diagram import network_svg
    from explorer.build.export import export_python

    class ToyGateBlock(nn.Module):
        """A 3×3 conv + BN, a parameter-free channel gate, the shortcut, a ReLU."""

        kind, form = "toy", "c"

        def __init__(self, c_in, width, c_out, stride=1, groups=1, stride_on="3x3", shortcut="B", *, norm="bn",
                     attention=None, aa=False):
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.gate = nn.Module()
            self.gate.sigmoid = nn.Sigmoid()
            self.relu = nn.ReLU(inplace=True)
            self.downsample = make_shortcut(shortcut, c_in, c_out, stride, norm)

        def forward(self, x):
            out = self.bn1(self.conv1(x))
            out = out * self.gate.sigmoid(out.mean((2, 3), keepdim=True))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    ToyGateBlock.__module__ = __name__  # as if it lived in a module of its own
    globals()["ToyGateBlock"] = ToyGateBlock
    globals()["make_shortcut"] = nets.make_shortcut
    # 1. the spec's block names; 2. the plan builder; 3. the module class
    monkeypatch.setattr(S, "BLOCKS", (*S.BLOCKS, "toy"))
    monkeypatch.setitem(S.SPEC_FIELDS, "block", dataclasses.replace(S.SPEC_FIELDS["block"], choices=S.BLOCKS))
    monkeypatch.setitem(P.BLOCK_KINDS, "toy", P.BlockKind("toy", _toy_plan, lambda spec, stage: spec.widths[stage]))
    monkeypatch.setitem(nets.BLOCKS, "toy", ToyGateBlock)

    spec = S.ArchSpec(name="toy", block="toy", depths=(1, 2), widths=(16, 32), stem="cifar", num_classes=10)
    a = analyze(spec)
    by_hand = (3 * 16 * 9 + 2 * 16) + (16 * 16 * 9 + 2 * 16) + (16 * 32 * 9 + 2 * 32 + 16 * 32 + 2 * 32) + (
        32 * 32 * 9 + 2 * 32) + (32 * 10 + 10)  # stem; layer1.0; layer2.0 with its projection; layer2.1; fc
    model = build_model(spec)
    assert a.params == by_hand == sum(p.numel() for p in model.parameters())
    assert {r.type for r in a.layers} >= {"squeeze", "sigmoid", "scale"}
    y = model.eval()(torch.randn(2, 3, 32, 32))
    assert y.shape == (2, 10)
    assert train_cost(spec, batch_size=2).forward_macs == 2 * a.macs

    source = export_python(spec)
    namespace: dict = {"__name__": "exported"}
    exec(compile(source, "exported.py", "exec"), namespace)  # the test's own export, never user input
    exported = namespace["build"]()
    exported.load_state_dict(model.state_dict(), strict=True)
    torch.testing.assert_close(exported.eval()(torch.ones(1, 3, 32, 32)), model(torch.ones(1, 3, 32, 32)))
    assert "toy · 3×3, 16" in network_svg(spec, a)
