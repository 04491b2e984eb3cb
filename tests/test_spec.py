"""ArchSpec: the JSON file format round-trips exactly, defaults resolve, and bad input is a SpecError naming the field."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer import ArchSpec, SpecError, get_preset, list_presets
from explorer.core.spec import BLOCKS, DOWNSAMPLE_ON, FORMS, SHORTCUTS, STEMS, edit_data

FIELDS = [f.name for f in dataclasses.fields(ArchSpec)]


# --- round trip ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list_presets())
def test_dict_and_json_round_trip_is_exact(name: str) -> None:
    spec = get_preset(name)
    d = spec.to_dict()
    assert list(d) == FIELDS
    assert ArchSpec.from_dict(d) == spec
    assert ArchSpec.from_dict(d).to_dict() == d
    text = spec.to_json()
    assert json.loads(text) == d
    back = ArchSpec.from_json(text)
    assert back == spec and hash(back) == hash(spec)
    assert back.to_json() == text
    assert ArchSpec.from_json(spec.to_json(indent=None)) == spec
    assert ArchSpec.from_json(text.encode()) == spec  # bytes, as read from an uploaded file


@pytest.mark.parametrize("name", list_presets())
def test_to_dict_is_plain_json_with_every_field_resolved(name: str) -> None:
    d = get_preset(name).to_dict()
    assert d["name"] == name
    for key in ("depths", "widths", "strides", "input_size"):
        assert type(d[key]) is list and all(type(v) is int for v in d[key]), key
    assert all(d[k] is not None for k in FIELDS)
    assert len(d["strides"]) == len(d["depths"]) == len(d["widths"])


def test_lists_and_tuples_give_the_same_hashable_spec() -> None:
    a = ArchSpec(depths=[2, 2], widths=[8, 16], input_size=[3, 32, 32])
    b = ArchSpec(depths=(2, 2), widths=(8, 16), input_size=(3, 32, 32))
    assert a == b and hash(a) == hash(b)
    assert a.depths == (2, 2) and a.input_size == (3, 32, 32)
    assert {a: 1}[b] == 1


def test_partial_dict_fills_in_defaults_and_round_trips() -> None:
    spec = ArchSpec.from_dict({"block": "basic", "depths": [2, 2, 2, 2]})
    assert spec == ArchSpec(name="custom", block="basic", depths=(2, 2, 2, 2))
    assert spec.to_dict()["strides"] == [1, 2, 2, 2]
    assert ArchSpec.from_dict(spec.to_dict()) == spec


def test_json_null_means_default_for_optional_fields() -> None:
    spec = ArchSpec.from_dict({"strides": None, "input_size": None, "expansion": None, "stem_width": None})
    assert spec == ArchSpec()
    assert (spec.strides, spec.input_size, spec.expansion, spec.stem_width) == ((1, 2, 2, 2), (3, 224, 224), 4, 64)


# --- defaults -----------------------------------------------------------------------------------
def test_defaults_resolved_for_bottleneck_imagenet() -> None:
    spec = ArchSpec()
    assert spec.block == "bottleneck"
    assert spec.expansion == 4
    assert spec.stem_width == 64
    assert spec.input_size == (3, 224, 224)
    assert spec.strides == (1, 2, 2, 2)
    assert (spec.cardinality, spec.base_width, spec.form) == (1, 64, "c")
    assert (spec.downsample_on, spec.shortcut, spec.num_classes) == ("3x3", "B", 1000)
    assert spec.stage_channels == (256, 512, 1024, 2048)
    assert [spec.group_width(i) for i in range(4)] == [64, 128, 256, 512]


def test_defaults_resolved_for_basic_cifar() -> None:
    spec = ArchSpec(block="basic", depths=(3, 3, 3), widths=(16, 32, 64), stem="cifar")
    assert spec.expansion == 1
    assert spec.stem_width == 16
    assert spec.input_size == (3, 32, 32)
    assert spec.strides == (1, 2, 2)
    assert spec.stage_channels == (16, 32, 64)


@pytest.mark.parametrize("n_stages", [1, 2, 5, 8])
def test_default_strides_follow_the_number_of_stages(n_stages: int) -> None:
    spec = ArchSpec(depths=(1,) * n_stages, widths=(8,) * n_stages)
    assert spec.strides == (1,) + (2,) * (n_stages - 1)


def test_explicit_values_override_defaults() -> None:
    spec = ArchSpec(expansion=2, stem_width=32, strides=(2, 1, 2, 1), input_size=(1, 97, 131))
    assert (spec.expansion, spec.stem_width, spec.strides, spec.input_size) == (2, 32, (2, 1, 2, 1), (1, 97, 131))
    assert spec.stage_channels == (128, 256, 512, 1024)


def test_resnext_width_rule_matches_torchvision() -> None:
    """3×3 width = int(planes * base_width / 64) * C (ResNeXt Table 1: 128/256/512/1024 for 32×4d)."""
    assert [get_preset("resnext50_32x4d").group_width(i) for i in range(4)] == [128, 256, 512, 1024]
    assert [get_preset("resnext101_32x8d").group_width(i) for i in range(4)] == [256, 512, 1024, 2048]
    assert [get_preset("wide_resnet50_2").group_width(i) for i in range(4)] == [128, 256, 512, 1024]
    # ResNeXt Table 2: C·d of the conv2 stage (planes 64) = 64, 80, 96, 112, 128
    widths = [get_preset(n).group_width(0) for n in
              ("resnet50", "resnext50_2x40d", "resnext50_4x24d", "resnext50_8x14d", "resnext50_32x4d")]
    assert widths == [64, 80, 96, 112, 128]


# --- invalid input ------------------------------------------------------------------------------
# (fields to set on top of the defaults, text the message must start with, text it must contain)
INVALID = {
    "depths as string": ({"depths": "3,4,6,3"}, "depths:", "list of integers"),
    "widths as string": ({"widths": "64"}, "widths:", "list of integers"),
    "strides as string": ({"strides": "2"}, "strides:", "list of integers"),
    "input_size as string": ({"input_size": "224"}, "input_size:", "got str '224'"),
    "depths as dict": ({"depths": {"a": 1}}, "depths:", "list of integers"),
    "float width": ({"widths": [64.0, 128, 256, 512]}, "widths[0]:", "without a decimal point"),
    "fractional width": ({"widths": [64, 128.5, 256, 512]}, "widths[1]:", "must be an integer"),
    "float cardinality": ({"cardinality": 32.0}, "cardinality:", "without a decimal point"),
    "nan width": ({"widths": [float("nan"), 1, 1, 1]}, "widths[0]:", "must be an integer"),
    "string in depths": ({"depths": [3, "4", 6, 3]}, "depths[1]:", "must be an integer"),
    "zero depth": ({"depths": [3, 0, 6, 3]}, "depths[1]:", "between 1 and 1000"),
    "negative depth": ({"depths": [-3, 4, 6, 3]}, "depths[0]:", "between 1 and 1000"),
    "depth too large": ({"depths": [1001, 4, 6, 3]}, "depths[0]:", "between 1 and 1000"),
    "zero width": ({"widths": [0, 128, 256, 512]}, "widths[0]:", "between 1 and 16384"),
    "no stages": ({"depths": [], "widths": []}, "depths:", "1 to 8 stages"),
    "too many stages": ({"depths": [1] * 9, "widths": [8] * 9}, "depths:", "1 to 8 stages"),
    "zero cardinality": ({"cardinality": 0}, "cardinality:", "between 1 and"),
    "negative cardinality": ({"cardinality": -32}, "cardinality:", "between 1 and"),
    "zero base_width": ({"base_width": 0}, "base_width:", "between 1 and"),
    "zero classes": ({"num_classes": 0}, "num_classes:", "between 1 and 100000"),
    "negative stem_width": ({"stem_width": -1}, "stem_width:", "between 1 and"),
    "zero expansion": ({"expansion": 0}, "expansion:", "between 1 and 64"),
    "stride 5": ({"strides": [1, 2, 5, 2]}, "strides[2]:", "between 1 and 4"),
    "bool cardinality": ({"cardinality": True}, "cardinality:", "must be an integer"),
    "bool in depths": ({"depths": [True, 4, 6, 3]}, "depths[0]:", "must be an integer"),
    "bool classes": ({"num_classes": False}, "num_classes:", "must be an integer"),
    "null cardinality": ({"cardinality": None}, "cardinality:", "must be an integer"),
    "null depths": ({"depths": None}, "depths:", "list of integers"),
    "number as name": ({"name": 50}, "name:", "must be a string"),
    "empty name": ({"name": ""}, "name:", "1 to 100 characters"),
    "unknown key": ({"depth": [3, 4, 6, 3]}, "depth:", "unknown field; valid fields are"),
    "unknown block": ({"block": "resnet"}, "block:", "'basic', 'bottleneck'"),
    "block wrong case": ({"block": "Bottleneck"}, "block:", "'basic', 'bottleneck'"),
    "unknown stem": ({"stem": "tiny"}, "stem:", "'imagenet', 'cifar'"),
    "unknown shortcut": ({"shortcut": "E"}, "shortcut:", "'B', 'A', 'C', 'D', 'none'"),
    "lowercase shortcut": ({"shortcut": "b"}, "shortcut:", "'B', 'A', 'C', 'D', 'none'"),
    "unknown stem": ({"stem": "deep_tiered"}, "stem:", "'imagenet', 'cifar', 'deep', 'tiered'"),
    "unknown attention": ({"attention": "cbam"}, "attention:", "'none', 'se', 'eca'"),
    "aa not a bool": ({"aa": 1}, "aa:", "true or false"),
    "group norm of 48 channels": ({"norm": "gn", "widths": (48, 128, 256, 512)}, "norm:", "48 channels"),
    "odd deep stem": ({"stem": "deep", "stem_width": 63}, "stem_width:", "even width"),
    "form a with group norm": ({"norm": "gn", "form": "a", "cardinality": 32, "base_width": 4}, "form:",
                               "form c only"),
    "unknown downsample_on": ({"downsample_on": "2x2"}, "downsample_on:", "'3x3', '1x1'"),
    "unknown form": ({"form": "d"}, "form:", "'c', 'a', 'b'"),
    "block as list": ({"block": ["basic"]}, "block:", "'basic', 'bottleneck'"),
    "fewer widths": ({"depths": [3, 4], "widths": [64, 128, 256]}, "widths:", "one width per stage (2 stages"),
    "fewer strides": ({"strides": [1, 2]}, "strides:", "one stride per stage (4 stages)"),
    "basic with cardinality": ({"block": "basic", "cardinality": 32}, "cardinality:", "choose the bottleneck block"),
    "basic with base_width": ({"block": "basic", "base_width": 128}, "cardinality:", "d = 64"),
    "basic with expansion": ({"block": "basic", "expansion": 4}, "expansion:", "expansion 1"),
    "basic with form a": ({"block": "basic", "form": "a"}, "form:", "only for bottleneck"),
    "3x3 of 0 channels": ({"widths": [16, 128, 256, 512], "base_width": 2}, "base_width:",
                          "stage 1's width 16 × d 2 ÷ 64 rounds down to 0"),
    "shortcut A shrinks": ({"block": "basic", "widths": [64, 32, 256, 512], "shortcut": "A"}, "shortcut:",
                           "from 64 to 32"),
    "shortcut A below stem": ({"block": "basic", "widths": [32, 64, 128, 256], "shortcut": "A"}, "shortcut:",
                              "stage 1 goes from 64 to 32"),
    "input_size two values": ({"input_size": [3, 224]}, "input_size:", "[channels, height, width]"),
    "input_size zero": ({"input_size": [3, 0, 224]}, "input_size:", "between 1 and 4096"),
    "input_size float": ({"input_size": [3, 224.0, 224]}, "input_size:", "without a decimal point"),
    "input_size channels": ({"input_size": [65, 224, 224]}, "input_size:", "at most 64 input channels"),
}


@pytest.mark.parametrize("fields,prefix,detail", INVALID.values(), ids=INVALID.keys())
def test_invalid_field_raises_spec_error_naming_it(fields: dict, prefix: str, detail: str) -> None:
    with pytest.raises(SpecError) as err:
        ArchSpec.from_dict(fields)
    msg = str(err.value)
    assert msg.startswith(prefix), msg
    assert detail in msg, msg
    assert isinstance(err.value, ValueError)
    if "unknown field" not in msg:  # a spec built in Python gets the same message (an unknown kwarg is a TypeError)
        with pytest.raises(SpecError) as direct:
            ArchSpec(**fields)
        assert str(direct.value).startswith(prefix), str(direct.value)


@pytest.mark.parametrize("field", ["depths", "widths", "strides"])
def test_string_where_list_expected_in_python_too(field: str) -> None:
    with pytest.raises(SpecError, match=f"^{field}: must be a list of integers, got str"):
        ArchSpec(**{field: "3463"})


def test_unknown_key_message_lists_valid_fields() -> None:
    with pytest.raises(SpecError) as err:
        ArchSpec.from_dict({"groups": 32})
    for f in FIELDS:
        assert f in str(err.value)


@pytest.mark.parametrize(
    "text,detail",
    [
        ('{"depths": [3, 4,', "not valid JSON"),
        ("", "not valid JSON"),
        ("{'block': 'basic'}", "not valid JSON"),
        (b"\xff\xfe{", "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
        ("[3, 4, 6, 3]", "must be a JSON object, got list"),
        ('"resnet50"', "must be a JSON object, got str"),
        ("null", "must be a JSON object, got NoneType"),
        ("42", "must be a JSON object, got int"),
    ],
    ids=["truncated", "empty", "single quotes", "bad utf8", "absurd nesting", "list", "string", "null", "number"],
)
def test_malformed_or_non_object_json_is_spec_error(text: str | bytes, detail: str) -> None:
    with pytest.raises(SpecError, match="^spec: ") as err:
        ArchSpec.from_json(text)
    assert detail in str(err.value)


def test_get_preset_unknown_name_lists_valid_names() -> None:
    with pytest.raises(SpecError) as err:
        get_preset("resnet51")
    msg = str(err.value)
    assert "'resnet51'" in msg
    for name in list_presets():
        assert name in msg


def test_get_preset_non_string_is_spec_error() -> None:
    with pytest.raises(SpecError, match="valid names are resnet18"):
        get_preset(["resnet50"])  # type: ignore[arg-type]


def test_presets_list_is_complete_and_named_consistently() -> None:
    names = list_presets()
    assert len(names) == len(set(names)) == 25 + 20 + 6  # torchvision's, the papers', CIFAR, plain; timm's 20; preact CIFAR and WRN
    assert all(get_preset(n).name == n for n in names)
    assert {"resnet200", "resnext101_2x64d", "resnet101_1x100d", "resnet1202", "plain18", "plain34"} <= set(names)


def test_spec_is_frozen() -> None:
    spec = get_preset("resnet50")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.depths = (1, 1, 1, 1)  # type: ignore[misc]
    edited = dataclasses.replace(spec, cardinality=32, base_width=4, name="x")
    assert edited.group_width(0) == 128 and spec.group_width(0) == 64


def test_replace_revalidates() -> None:
    with pytest.raises(SpecError, match="^cardinality:"):
        dataclasses.replace(get_preset("resnet18"), cardinality=2)


# --- property: arbitrary JSON never crashes -----------------------------------------------------
_json_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
# values that look almost right, so that the deeper checks are reached too
_plausible = (
    st.sampled_from(BLOCKS + STEMS + DOWNSAMPLE_ON + SHORTCUTS + FORMS)
    | st.integers(-2, 300)
    | st.lists(st.integers(-1, 300), min_size=1, max_size=5)
    | st.lists(st.integers(1, 64), min_size=3, max_size=3)
    | st.none()
)
_fields = st.sampled_from(FIELDS)
_spec_dicts = (
    st.dictionaries(_fields, _plausible, max_size=6)
    | st.dictionaries(_fields, _plausible | _json, max_size=9)
    | st.dictionaries(_fields | st.text(max_size=6), _json, max_size=4)
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_spec_dicts | _json)
def test_arbitrary_json_gives_spec_or_spec_error(data: object) -> None:
    try:
        spec = ArchSpec.from_dict(data)
    except SpecError as e:
        msg = str(e)
        # an empty key is named by its repr, '', and one with unprintable characters (or over 40) by its ascii()
        keys = [str(k) for k in data] if isinstance(data, dict) else []
        names = set(FIELDS) | {"spec"} | set(keys) | {ascii(k[:40]) for k in keys}
        assert any(msg.startswith(f"{n}:") or msg.startswith(f"{n}[") for n in names), msg
        return
    assert ArchSpec.from_dict(spec.to_dict()) == spec
    assert ArchSpec.from_json(spec.to_json()) == spec
    assert len(spec.strides) == len(spec.widths) == len(spec.depths)
    hash(spec)


def test_edit_rederives_what_follows_from_the_change() -> None:
    r50 = get_preset("resnet50")
    assert r50.edit(depths=(2, 2, 2), widths=(64, 128, 256)).strides == (1, 2, 2)
    basic = get_preset("resnext50_32x4d").edit(block="basic", depths=(2, 2, 2, 2))
    assert (basic.expansion, basic.cardinality, basic.base_width) == (1, 1, 64)
    assert basic.edit(name="resnet18") == get_preset("resnet18")
    cifar = get_preset("resnet18").edit(stem="cifar")  # the usual CIFAR ResNet-18: a 64-channel 3×3 stem
    assert (cifar.stem_width, cifar.input_size) == (64, (3, 32, 32))
    imagenet = get_preset("resnet20").edit(stem="imagenet")  # shortcut A still has no channels to shrink
    assert (imagenet.stem_width, imagenet.input_size, imagenet.shortcut) == (16, (3, 224, 224), "A")
    assert imagenet.edit(stem="cifar") == get_preset("resnet20")
    assert r50.edit(downsample_on="1x1").strides == r50.strides  # unrelated fields untouched
    # another number of stages cuts or extends widths and strides (a new stage doubles the last width)
    assert (r50.edit(depths=(1, 1)).widths, r50.edit(depths=(1, 1)).strides) == ((64, 128), (1, 2))
    five = r50.edit(depths=(3, 4, 6, 3, 2))
    assert (five.widths, five.strides) == ((64, 128, 256, 512, 1024), (1, 2, 2, 2, 2))
    with pytest.raises(SpecError, match="^widths: needs one width per stage"):
        r50.edit(depths=(1, 1), widths=(64,))  # given explicitly, nothing follows


def test_names_follow_the_architecture() -> None:
    """A preset's name follows edits: the preset the spec becomes, or '<preset> (edited)'; a person's own stays."""
    r50 = get_preset("resnet50")
    assert r50.edit(cardinality=32, base_width=4) == get_preset("resnext50_32x4d")
    assert r50.edit(cardinality=32, base_width=4).name == "resnext50_32x4d"
    assert r50.edit(downsample_on="1x1").name == "resnet50 (edited)"
    assert r50.edit(downsample_on="1x1").edit(downsample_on="3x3").name == "resnet50"
    assert get_preset("resnext50_32x4d").edit(block="basic").name == "resnet34"  # ResNeXt-50's depths, basic
    mine = r50.edit(name="my net")
    assert mine.edit(cardinality=2, base_width=40).name == "my net"
    assert ArchSpec(name="custom").edit(depths=(1, 1, 1, 1)).name == "custom"


def test_edit_data_applies_the_rules_to_invalid_widget_values() -> None:
    """The app edits widget values that need not form a valid spec yet; the same rules apply."""
    draft = {**get_preset("resnext50_32x4d").to_dict(), "widths": [8, 128, 256, 512]}  # width 8 × d 4 / 64 = 0
    with pytest.raises(SpecError, match="^base_width: stage 1's width 8"):
        ArchSpec.from_dict(draft)
    out = edit_data(draft, {"block": "basic"})
    assert (out["expansion"], out["cardinality"], out["base_width"], out["form"]) == (1, 1, 64, "c")
    assert out["widths"] == [8, 128, 256, 512]  # the person's pending value is kept
    assert ArchSpec.from_dict(out).name == "resnet34 (edited)"  # 16 basic blocks: 34 layers, not ResNet-34
    assert edit_data(draft, {"stem": "cifar"})["input_size"] == [3, 32, 32]


def test_an_entry_invalid_by_itself_changes_no_other_field() -> None:
    """The editor's rule (``edit_draft``): a bad entry goes in as typed and nothing else moves; a good one edits."""
    from explorer.core.spec import edit_draft

    r50 = get_preset("resnet50")
    draft = r50.to_dict()
    empty = edit_draft(draft, r50, "depths", [])  # the depths box cleared
    assert empty == {**draft, "depths": []}  # widths and strides keep their four stages, the name stays
    back = edit_draft(empty, r50, "depths", [3, 4, 6, 3])
    assert ArchSpec.from_dict(back) == r50  # typing the value back restores the whole architecture
    two = edit_draft(draft, r50, "depths", [2, 2])  # valid: widths and strides follow, the name follows
    assert (two["widths"], two["strides"], two["name"]) == ([64, 128], [1, 2], "resnet14 (edited)")  # 3·4 + 2
    zero = edit_draft(draft, r50, "cardinality", 0)
    assert zero == {**draft, "cardinality": 0}
    basic = edit_draft(draft, r50, "block", "basic")  # valid: expansion follows the block
    assert basic["expansion"] == 1 and basic["name"] == "resnet34"  # ResNet-50 with basic blocks is ResNet-34


def test_a_custom_architecture_is_named_by_its_structure_not_after_the_default_preset() -> None:
    rx50 = get_preset("resnext50_32x4d")
    assert rx50.edit(depths=(3, 4, 8, 3)).name == "resnext56_32x4d (edited)"  # 3 · 18 + 2 weighted layers
    assert rx50.edit(depths=(3, 4, 8, 3)).edit(widths=(64, 128, 256, 1024)).name == "resnext56_32x4d (edited)"
    assert rx50.edit(block="basic", depths=(2, 2, 2)).name == "resnet14 (edited)"  # 2 · 6 + 2
    assert get_preset("resnet20").edit(shortcut="none", depths=(5, 5, 5)).name == "plain32 (edited)"
    assert rx50.edit(depths=(3, 4, 8, 3)).edit(depths=(3, 4, 6, 3)).name == "resnext50_32x4d"  # a preset again
