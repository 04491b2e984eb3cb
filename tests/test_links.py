"""Links: ``?preset=p&k=v`` is exactly ``get_preset(p).edit(k=v)``; a partly bad link applies what is valid and
names each bad parameter; every spec round-trips through a readable link."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer import ArchSpec, SpecError, get_preset, list_presets
from explorer.present.links import encode, params_to_spec, parse_params, spec_to_params
from explorer.core.run_fields import SETTINGS_FIELDS
from explorer.core.spec import BLOCKS, DOWNSAMPLE_ON, FORMS, SHORTCUTS, STEMS

VARIANTS = [
    dataclasses.replace(get_preset("resnet50"), downsample_on="1x1", depths=(3, 4, 23, 3), name="r50-1x1"),
    dataclasses.replace(get_preset("resnext50_32x4d"), form="a"),
    dataclasses.replace(get_preset("resnet18"), shortcut="C", strides=(1, 1, 2, 2), input_size=(3, 97, 131)),
    dataclasses.replace(get_preset("resnet20"), stem_width=32, widths=(32, 64, 128), name='quote"and\\slash'),
    get_preset("resnet50").edit(depths=(2, 2), widths=(64, 128)),
]


@pytest.mark.parametrize("spec", [get_preset(n) for n in list_presets()] + VARIANTS, ids=lambda s: s.name)
def test_link_round_trip(spec: ArchSpec) -> None:
    params = spec_to_params(spec)
    assert all(isinstance(v, str) for v in params.values())
    assert params_to_spec(params) == (spec, [])


def test_link_is_readable() -> None:
    assert spec_to_params(get_preset("resnext50_32x4d")) == {"preset": "resnext50_32x4d"}
    spec = get_preset("resnet50").edit(downsample_on="1x1")
    assert spec_to_params(spec) == {"preset": "resnet50", "downsample_on": "1x1"}
    # what follows an edit is left out of the link: the strides follow the depths
    assert spec_to_params(get_preset("resnet50").edit(depths=(2, 2))) == {"preset": "resnet50", "depths": "2,2"}
    assert spec_to_params(get_preset("resnet50").edit(cardinality=32, base_width=4)) == {"preset": "resnext50_32x4d"}


def test_the_issues_two_links_reproduce_edit() -> None:
    spec, problems = params_to_spec({"preset": "resnet50", "depths": "2,2", "widths": "64,128"})
    assert not problems and spec == get_preset("resnet50").edit(depths=(2, 2), widths=(64, 128))
    spec, problems = params_to_spec({"preset": "resnext50_32x4d", "block": "basic"})
    assert not problems and spec == get_preset("resnext50_32x4d").edit(block="basic") == get_preset("resnet34")


# Random edits: each field's value drawn from its own bounds (and a few lists of another length).
_INT = {k: st.integers(1, 64) for k in ("cardinality", "base_width", "expansion", "stem_width")}
_EDITS = st.fixed_dictionaries({}, optional={
    "block": st.sampled_from(BLOCKS), "form": st.sampled_from(FORMS), "stem": st.sampled_from(STEMS),
    "downsample_on": st.sampled_from(DOWNSAMPLE_ON), "shortcut": st.sampled_from(SHORTCUTS),
    "num_classes": st.integers(1, 2000), "depths": st.lists(st.integers(1, 4), min_size=1, max_size=5),
    "widths": st.lists(st.integers(1, 128), min_size=1, max_size=5), "input_size": st.tuples(
        st.just(3), st.integers(16, 96), st.integers(16, 96)), **_INT,
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(preset=st.sampled_from(list_presets()), edits=_EDITS)
def test_a_link_is_exactly_edit(preset: str, edits: dict) -> None:
    """``?preset=p&k=v`` equals ``get_preset(p).edit(k=v)`` whenever that is valid, and names the field otherwise."""
    params = {"preset": preset, **{k: encode(v) for k, v in edits.items()}}
    try:
        expected = get_preset(preset).edit(**edits)
    except SpecError:
        expected = None
    spec, problems = params_to_spec(params)
    if expected is not None:
        assert (spec, problems) == (expected, [])
    else:  # the invalid part is named and left out; what remains is applied and valid
        assert problems and all(p.field.split("[")[0] in {*edits, "preset"} for p in problems)
        assert isinstance(spec, ArchSpec)
        kept = {k: v for k, v in edits.items() if k not in {p.field.split("[")[0] for p in problems}}
        assert spec == get_preset(preset).edit(**kept)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"preset": "resnet5O"}, "preset"),
        ({"preset": "resnet50", "depths": "3,4,-6,3"}, "depths"),
        ({"preset": "resnet50", "cardinality": "1e9"}, "cardinality"),
        ({"preset": "resnet50", "cardinality": "99999"}, "cardinality"),
        ({"preset": "resnet50", "block": "<script>"}, "block"),
        ({"preset": "resnet50", "num_classes": "9" * 300}, "num_classes"),
        ({"preset": "resnet18", "cardinality": "32"}, "cardinality"),
        ({"preset": "resnet50", "input_size": "3,0,224"}, "input_size"),
    ],
)
def test_a_bad_parameter_is_named_and_the_rest_applies(params: dict, field: str) -> None:
    spec, problems = params_to_spec({**params, "downsample_on": "1x1"})
    assert [p.field.split("[")[0] for p in problems] == [field]
    assert spec.downsample_on == "1x1"  # the good parameter applied


def test_every_bad_parameter_is_named_not_only_the_first() -> None:
    spec, problems = params_to_spec({"preset": "resnet50", "depths": "3,x", "block": "nope", "num_classes": "10"})
    assert sorted(p.field for p in problems) == ["block", "depths"]
    assert spec == get_preset("resnet50").edit(num_classes=10)


def test_link_without_spec_keys_is_none() -> None:
    assert params_to_spec({"metric": "FLOPs"}) == (None, [])


def test_other_settings_parse_by_their_fields() -> None:
    values, problems = parse_params({"batch_size": "8", "threads": "0", "dtype": "bfloat16", "x": "1"},
                                    SETTINGS_FIELDS)
    assert values == {"batch_size": 8, "dtype": "bfloat16"}
    assert [p.field for p in problems] == ["threads"]
