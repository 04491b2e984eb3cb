"""The registries are complete: every op type and block kind has its entry in every table that reads them.

A new op type or block kind that misses one of these fails here, instead of being counted as zero somewhere.
"""

from __future__ import annotations

import dataclasses

import pytest

from explorer import analyze, list_presets, get_preset
from explorer import counters, plan as P
from explorer.analysis import MAC_TYPES


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
    from explorer import nets

    assert set(P.BLOCK_KINDS) == set(nets.BLOCKS)
    from explorer.spec import BLOCKS

    assert set(BLOCKS) == set(P.BLOCK_KINDS)


def test_every_op_class_is_a_frozen_dataclass_with_its_type() -> None:
    classes = [P.Conv, P.BatchNorm, P.GroupNorm, P.ReLU, P.MaxPool, P.AvgPool, P.GlobalAvgPool, P.Linear,
               P.ShortcutA, P.Squeeze, P.ChannelConv, P.Sigmoid, P.Add, P.PathSum, P.Concat, P.Scale]
    assert {c.type for c in classes} == set(P.OPS)
    for c in classes:
        assert dataclasses.is_dataclass(c) and c.__dataclass_params__.frozen
