"""ResNeXt Fig. 3: forms a, b, c compute the same function; to_form is exact; Table 2 is reproduced exactly."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from explorer import ArchSpec, SpecError, analyze, build_model, get_preset, list_presets
from explorer.costs.design import table2, template_macs, template_params, width_for
from explorer.measure.equivalence import equivalence, make_block, network_equivalence, randomize_
from explorer.core.errors import ResourceError
from explorer.build.forms import form_of, to_form
from explorer.build.nets import BasicBlock, Bottleneck
from explorer.measure.timing import Settings

FORMS = ("a", "b", "c")
TOL = {torch.float32: 1e-5, torch.float64: 1e-10}  # relative to the largest |value| of form c
# Forms a and b rewrite post-activation bottlenecks with batch norm and no anti-aliasing (the spec refuses the rest).
BOTTLENECK_PRESETS = [n for n in list_presets() if get_preset(n).block == "bottleneck" and get_preset(n).order == "post"
                      and get_preset(n).norm == "bn" and not get_preset(n).aa and get_preset(n).layout == "timm"]
# One preset per distinct block shape (C, base_width): with depths reduced, the others are duplicates
# (resnet101 is resnet50, resnext101_32x4d is resnext50_32x4d).
_firsts: dict[tuple[int, int], str] = {}
for _name in BOTTLENECK_PRESETS:
    _firsts.setdefault((get_preset(_name).cardinality, get_preset(_name).base_width), _name)
SHAPES = list(_firsts.values())
RESNEXT_SHAPES = [n for n in SHAPES if get_preset(n).cardinality > 1]


pytestmark = pytest.mark.usefixtures("one_thread")


def _rel(value: torch.Tensor, ref: torch.Tensor) -> float:
    return ((value - ref).abs().max() / ref.abs().max().clamp_min(torch.finfo(ref.dtype).tiny)).item()


def _run(module: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Output and d(⟨out, g⟩)/d(input) for a fixed random g (drawn in float64: the same g in every dtype)."""
    x = x.clone().requires_grad_(True)
    out = module(x)
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    out.backward(g.to(out.dtype))
    return out.detach(), x.grad


def _assert_forms_agree(grouped: nn.Module, x: torch.Tensor, train: bool, strict32: bool = True) -> None:
    """Forms a, b, c of ``grouped`` agree in float32 and float64: outputs, input gradients, updated BN stats.

    Each quantity of forms a and b must be within ``TOL`` of form c's, relative to its largest value.
    ``strict32=False`` (whole networks in train mode) relaxes float32 to 4× form c's own float32 error
    against float64 where that is larger: the input gradient through many train-mode BNs, each over few
    values per channel, is ill-conditioned, and float32 cannot reach 1e-5 in any form (form c alone is
    then up to ~1e-2 from float64). float64 stays strict, so the forms are still shown to be one function.
    """
    results: dict[torch.dtype, dict[str, list[torch.Tensor]]] = {}
    for dtype in (torch.float32, torch.float64):
        base = copy.deepcopy(grouped).to(dtype).train(train)
        models = {f: to_form(base, f) for f in FORMS}
        assert {f: form_of(m) for f, m in models.items()} == {f: f for f in FORMS}
        results[dtype] = {f: [*_run(m, x.to(dtype))] for f, m in models.items()}
        if train:  # the running statistics moved: compare them too, gathered back into form c
            before = base.state_dict()
            for f, m in models.items():
                state = (m if f == "c" else to_form(m, "c")).state_dict()
                assert list(state) == list(before)
                results[dtype][f] += [v for k, v in state.items() if k.endswith(("running_mean", "running_var"))]
                tracked = [k for k in state if k.endswith("num_batches_tracked")]
                assert tracked and all(torch.equal(state[k], before[k] + 1) for k in tracked)
            moved = [k for k in before if k.endswith("running_mean")]
            assert moved and not any(torch.equal(models["c"].state_dict()[k], before[k]) for k in moved)
    exact = results[torch.float64]["c"]
    for dtype, by_form in results.items():
        ref = by_form["c"]
        for f in "ab":
            assert len(by_form[f]) == len(ref)
            for i, (value, r) in enumerate(zip(by_form[f], ref)):
                assert value.dtype == dtype and value.shape == r.shape
                tol = TOL[dtype]
                if dtype == torch.float32 and not strict32:
                    tol = max(tol, 4 * _rel(r.double(), exact[i]))
                assert _rel(value, r) <= tol, (f, dtype, train, ["output", "input grad", "running stats"][min(i, 2)])


# --- single blocks ------------------------------------------------------------------------------
# (C, d, c_in, c_out, stride, downsample_on, size): the two Table 2 extremes, odd sizes, projections.
BLOCKS = [
    (1, 64, 256, 256, 1, "3x3", 6),
    (32, 4, 256, 256, 1, "3x3", 6),
    (2, 40, 64, 64, 1, "3x3", 7),
    (4, 3, 12, 24, 2, "3x3", 9),
    (3, 5, 10, 16, 2, "1x1", 6),
    (16, 1, 8, 8, 1, "3x3", 5),
]


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("cfg", BLOCKS, ids=lambda c: "C{}d{}_{}-{}_s{}on{}_{}px".format(*c))
def test_block_forms_agree(cfg: tuple, train: bool) -> None:
    c, d, c_in, c_out, stride, on, size = cfg
    block = randomize_(make_block(c, d, c_in, c_out=c_out, stride=stride, downsample_on=on), seed=sum(cfg[:4]))
    assert (block.downsample is None) == (stride == 1 and c_in == c_out)
    x = torch.randn(3, c_in, size, size, generator=torch.Generator().manual_seed(1))
    _assert_forms_agree(block, x, train)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    c=st.integers(1, 8), d=st.integers(1, 6), c_in=st.integers(1, 20), c_out=st.integers(1, 20),
    stride=st.sampled_from([1, 2]), on=st.sampled_from(["3x3", "1x1"]), size=st.integers(1, 8),
    train=st.booleans(), seed=st.integers(0, 2**16),
)
def test_random_blocks_agree(
    c: int, d: int, c_in: int, c_out: int, stride: int, on: str, size: int, train: bool, seed: int
) -> None:
    block = randomize_(make_block(c, d, c_in, c_out=c_out, stride=stride, downsample_on=on), seed=seed)
    x = torch.randn(3, c_in, size, size, generator=torch.Generator().manual_seed(seed))
    _assert_forms_agree(block, x, train)


def test_weight_gradients_are_the_sliced_grouped_gradients() -> None:
    """Backward through the paths gives, concatenated, the grouped conv's own weight gradients."""
    block = randomize_(make_block(8, 3, 16), seed=3).double().train()
    x = torch.randn(2, 16, 5, 5, dtype=torch.float64)
    models = {f: to_form(block, f) for f in FORMS}
    for m in models.values():
        _run(m, x)
    c = models["c"]
    for f in "ab":
        paths = models[f].paths
        for name in ("conv1", "conv2", "bn1", "bn2"):
            grad = torch.cat([getattr(p, name).weight.grad for p in paths])
            assert _rel(grad, getattr(c, name).weight.grad) <= 1e-10, (f, name)
    assert _rel(torch.cat([p.conv3.weight.grad for p in models["a"].paths], 1), c.conv3.weight.grad) <= 1e-10
    assert _rel(models["b"].conv3.weight.grad, c.conv3.weight.grad) <= 1e-10


# --- to_form: exact, non-destructive, the same tree as build_model ------------------------------
def _small(name: str = "resnext50_32x4d", **changes) -> ArchSpec:
    """A preset with one block per stage and a small input: every block kind, in seconds."""
    spec = get_preset(name)
    return dataclasses.replace(spec, depths=(1,) * len(spec.depths), input_size=(3, 32, 32), **changes)


def _snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def _assert_state_equal(state: dict[str, torch.Tensor], module: nn.Module) -> None:
    now = module.state_dict()
    assert list(now) == list(state)
    assert all(torch.equal(now[k], v) and now[k].dtype == v.dtype for k, v in state.items())


@pytest.mark.parametrize("via", ["a", "b"])
def test_round_trip_reproduces_weights_exactly(via: str) -> None:
    net = randomize_(build_model(_small(shortcut="C")), seed=5)
    before = _snapshot(net)
    there = to_form(net, via)
    back = to_form(there, "c")
    _assert_state_equal(before, back)
    _assert_state_equal(before, net)  # the source is untouched
    assert all(isinstance(net.get_submodule(f"layer{i}.0"), Bottleneck) for i in range(1, 5))
    other = "b" if via == "a" else "a"
    state_there = _snapshot(there)
    _assert_state_equal(state_there, to_form(to_form(there, other), via))  # a → b → a, b → a → b
    assert not any(p.data_ptr() == q.data_ptr() for p in net.parameters() for q in there.parameters())


def test_block_round_trip_and_same_form_is_a_copy() -> None:
    block = randomize_(make_block(4, 6, 32, c_out=48, stride=2), seed=2)
    before = _snapshot(block)
    for f in "ab":
        _assert_state_equal(before, to_form(to_form(block, f), "c"))
    same = to_form(block, "c")
    assert same is not block
    _assert_state_equal(before, same)
    _assert_state_equal(before, block)


@pytest.mark.parametrize("name, form", [("resnext50_32x4d", "a2")] + [(n, f) for n in SHAPES for f in "ab"])
def test_to_form_has_the_module_tree_of_build_model(name: str, form: str) -> None:
    """On meta (no memory). One block per stage (building thousands of paths takes seconds); form
    "a2" has two per stage, for the identity-shortcut blocks."""
    spec = _small(name)
    if form == "a2":
        spec, form = dataclasses.replace(spec, depths=(2, 2, 2, 2)), "a"
    target = dataclasses.replace(spec, form=form)
    expected = build_model(target, device="meta")
    got = to_form(build_model(spec, device="meta"), form)
    assert [(n, type(m)) for n, m in got.named_modules()] == [(n, type(m)) for n, m in expected.named_modules()]
    assert {k: v.shape for k, v in got.state_dict().items()} == {k: v.shape for k, v in expected.state_dict().items()}
    assert list(got.state_dict()) == list(expected.state_dict())
    assert str(got) == str(expected)  # every module's settings (channels, strides, groups) too
    assert sum(p.numel() for p in got.parameters()) == analyze(target).params


@pytest.mark.parametrize(
    "changes", [{"shortcut": "A"}, {"shortcut": "none"}, {"shortcut": "C", "downsample_on": "1x1"}],
    ids=["shortcutA", "plain", "shortcutC_1x1"],
)
def test_to_form_tree_and_function_for_other_block_options(changes: dict) -> None:
    spec = _small("resnext50_8x14d", **changes)
    net = randomize_(build_model(spec), seed=4)
    for f in "ab":
        expected = build_model(dataclasses.replace(spec, form=f), device="meta")
        assert str(to_form(net, f)) == str(expected)
    _assert_forms_agree(net, torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1)), train=False)


def test_modes_and_requires_grad_are_kept() -> None:
    net = randomize_(build_model(_small()), seed=6).train()
    net.layer2.eval()
    net.layer1[0].bn2.eval()
    net.layer3.note = "kept"  # plain attributes outside the blocks survive the copy
    for p in net.layer1[0].conv1.parameters():
        p.requires_grad_(False)
    a = to_form(net, "a")
    assert a.training and a.layer3.note == "kept" and a.layer1[0].paths.training
    assert all(p.training and not p.bn2.training for p in a.layer1[0].paths)
    assert all(p.bn1.training for p in a.layer1[0].paths)
    assert not any(m.training for m in a.layer2.modules())
    assert not any(p.conv1.weight.requires_grad for p in a.layer1[0].paths)
    assert all(p.conv2.weight.requires_grad for p in a.layer1[0].paths)
    back = to_form(a, "c")
    assert [(n, m.training) for n, m in back.named_modules()] == [(n, m.training) for n, m in net.named_modules()]
    assert [p.requires_grad for p in back.parameters()] == [p.requires_grad for p in net.parameters()]


def test_to_form_rejects_what_has_no_other_form() -> None:
    with pytest.raises(SpecError, match="form"):
        to_form(make_block(2, 2, 4), "d")
    with pytest.raises(TypeError, match="no ResNet block"):
        to_form(nn.Conv2d(3, 3, 1), "a")
    resnet18 = build_model(get_preset("resnet18"), device="meta")
    with pytest.raises(SpecError, match="Fig. 4"):
        to_form(resnet18, "a")
    assert isinstance(to_form(resnet18, "c").layer1[0], BasicBlock)
    biased = make_block(2, 2, 4)
    biased.conv2 = nn.Conv2d(4, 4, 3, padding=1, groups=2, bias=True)
    with pytest.raises(ValueError, match="bias"):
        to_form(biased, "a")


# --- whole networks -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, train",
    [(n, False) for n in RESNEXT_SHAPES]
    + [(n, True) for n in ("resnext50_32x4d", "resnext101_64x4d", "resnext50_2x40d")],
    ids=lambda v: ("train" if v else "eval") if isinstance(v, bool) else v,
)
def test_resnext_presets_agree_in_every_form(name: str, train: bool) -> None:
    """Every ResNeXt preset (one per distinct C×d) in eval mode, three in train mode; one block per stage."""
    net = randomize_(build_model(_small(name)), seed=len(name))
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    _assert_forms_agree(net, x, train, strict32=not train)


def test_full_resnext50_agrees_in_every_form() -> None:
    report = network_equivalence("resnext50_32x4d", (3, 32, 32))
    assert report.subject == "resnext50_32x4d" and (report.cardinality, report.d) == (32, 4)
    assert report.output_max_abs > 0
    for f in FORMS:
        r = report.form(f)
        assert r.params == 25_028_904  # REFERENCE.md, torchvision
        assert r.max_abs_diff_float32 <= 1e-5 * report.output_max_abs
        assert r.max_abs_diff_float64 <= 1e-10 * report.output_max_abs
    assert {report.form(f).macs for f in FORMS} == {analyze(get_preset("resnext50_32x4d"), (3, 32, 32)).macs}
    assert [report.form(f).convs for f in FORMS] == [53 + 16 * 3 * 31, 53 + 16 * 2 * 31, 53]


def test_full_resnext50_train_mode_backward() -> None:
    """Train mode over the whole 16-block network, forward and backward, in float64 (the strict check)."""
    net = randomize_(build_model(get_preset("resnext50_32x4d")), seed=9).double().train()
    x = torch.randn(4, 3, 32, 32, dtype=torch.float64)
    results = {f: _run(to_form(net, f), x) for f in FORMS}
    for f in "ab":
        assert _rel(results[f][0], results["c"][0]) <= 1e-10
        assert _rel(results[f][1], results["c"][1]) <= 1e-10


# --- counts: equal across forms -----------------------------------------------------------------
@pytest.mark.parametrize("name", BOTTLENECK_PRESETS)
def test_params_and_macs_are_equal_across_forms(name: str) -> None:
    spec = get_preset(name)
    counts = {f: analyze(dataclasses.replace(spec, form=f)) for f in FORMS}
    assert len({(a.params, a.macs) for a in counts.values()}) == 1
    if name == "resnext50_32x4d":
        assert (counts["a"].params, counts["a"].macs) == (25_028_904, 4_230_479_872)  # REFERENCE.md


def test_block_equivalence_report() -> None:
    report = equivalence(4, 3, 16, 7)
    assert report.input_size == (16, 7, 7) and report.mode == "eval" and report.device == "cpu"
    conv_params = template_params(4, 3, 16)
    bn_params = 2 * (2 * 12 + 16)
    flops = {}
    for f in FORMS:
        block = make_block(4, 3, 16, form=f)
        with FlopCounterMode(display=False) as counter:
            block(torch.randn(1, 16, 7, 7))
        flops[f] = counter.get_total_flops()
        r = report.form(f)
        assert r.params == conv_params + bn_params == sum(p.numel() for p in block.parameters())
        assert r.macs == template_macs(4, 3, 16, size=7) == flops[f] // 2  # analytic = counted by torch
        assert r.max_abs_diff_float32 <= 1e-5 * report.output_max_abs
        assert r.max_abs_diff_float64 <= 1e-10 * report.output_max_abs
        assert r.latency is None and r.latency_ms is None
    assert [report.form(f).convs for f in FORMS] == [12, 9, 3]
    assert report.form("c").max_abs_diff_float32 == 0.0 and report.ratios == ()
    d = report.to_dict()
    assert set(d["forms"]) == set(FORMS) and d["forms"]["a"]["latency_ms"] is None and d["input_size"] == [16, 7, 7]
    train = equivalence(4, 3, 16, 7, train=True)
    assert train.mode == "train" and train.form("a").max_abs_diff_float64 <= 1e-10 * train.output_max_abs


def test_equivalence_times_the_forms_interleaved_against_c() -> None:
    report = equivalence(2, 2, 8, 4, timing=Settings(warmup=1, min_runs=6, min_seconds=0, max_seconds=20))
    runs = {report.form(f).latency.runs for f in FORMS}
    assert len(runs) == 1 and runs.pop() >= 6  # interleaved: the same number of rounds for each form
    a, b = report.ratios
    assert (a.baseline, a.name, b.name) == ("form c", "form a", "form b") and a.rounds >= 6
    assert a.low <= a.median <= a.high
    assert report.to_dict()["ratios"][0]["baseline"] == "form c"


def test_equivalence_refuses_what_does_not_fit_before_building() -> None:
    with pytest.raises(ResourceError, match="^memory: comparing the three forms needs about"):
        equivalence(32, 4, 256, 56, budget=2**20)
    with pytest.raises(ResourceError, match="^memory: comparing resnext50_32x4d in three forms"):
        network_equivalence("resnext50_32x4d", budget=2**20)


def test_equivalence_rejects_bad_input() -> None:
    for kwargs, field in [
        ({"cardinality": 0}, "cardinality"), ({"d": 2.0}, "d"), ({"channels": True}, "channels"),
        ({"size": 0}, "size"), ({"size": 4000}, "size"), ({"device": "nonsense"}, "device"),
        ({"cardinality": 1024, "d": 32}, "d"),
        ({"train": True, "batch_size": 1}, "batch_size"),
    ]:
        with pytest.raises(SpecError, match=f"^{field}:"):
            equivalence(**kwargs)
    with pytest.raises(SpecError, match="basic blocks"):
        network_equivalence("resnet18")
    with pytest.raises(SpecError, match="preset"):
        network_equivalence("resnext9000")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"cardinality": 1024, "d": 16}, "cardinality"),  # C from 32 to 1,024 is the 32× of 16,384 channels
    ({"cardinality": 64, "d": 64}, "d"),  # d from 4 to 64 (16×) outweighs C from 32 to 64 (2×)
    ({"size": 1024}, "size"), ({"batch_size": 200}, "batch_size"),
])
def test_a_block_too_big_to_run_names_the_field_that_made_it_so(kwargs: dict, field: str) -> None:
    with pytest.raises(SpecError, match=f"^{field}: the block's forward pass would take") as e:
        equivalence(**kwargs)
    # form (c) at 56×56, 256 channels in and out, width w = C·d: 1×1 256→w, 3×3 w→w in C groups, 1×1 w→256
    c, d, size, batch = (kwargs.get(k, v) for k, v in (("cardinality", 32), ("d", 4), ("size", 56), ("batch_size", 2)))
    w = c * d
    macs = batch * size * size * (256 * w + 9 * w * d + w * 256)
    assert f"{macs / 1e9:,.1f} GMACs (at most 20)" in str(e.value) and f"C × d = {w:,} channels" in str(e.value)


# --- Table 2 ------------------------------------------------------------------------------------
def test_table2_is_reproduced_exactly() -> None:
    rows = table2()
    assert [(r.cardinality, r.d, r.width, r.params) for r in rows] == [
        (1, 64, 64, 69_632), (2, 40, 80, 69_760), (4, 24, 96, 69_888), (8, 14, 112, 71_456), (32, 4, 128, 70_144),
    ]
    assert all(r.target_params == 69_632 for r in rows)
    assert [r.macs for r in rows] == [r.params * 56 * 56 for r in rows]
    assert round(rows[0].macs / 1e9, 2) == 0.22  # "~0.22 GFLOPs" (multiply-adds) per conv2 block
    assert template_params(1, 64) == 256 * 64 + 9 * 64 * 64 + 64 * 256 == 69_632  # Eq. 4 with C = 1
    assert width_for(8).to_dict() == {
        "cardinality": 8, "d": 14, "width": 112, "params": 71_456, "macs": 71_456 * 3136, "target_params": 69_632,
        "c_in": 256, "c_out": 256, "size": 56,
    }


@pytest.mark.parametrize("c_in, c_out, ref", [(256, None, 64), (512, None, 128), (64, 256, 64), (1024, 2048, 512)])
def test_width_for_is_the_nearest_d_and_shrinks_with_cardinality(c_in: int, c_out: int | None, ref: int) -> None:
    target = template_params(1, ref, c_in, c_out)
    ds = []
    for c in range(1, 65):
        w = width_for(c, c_in=c_in, c_out=c_out, reference_width=ref)
        brute = min(range(1, 4 * ref), key=lambda d: (abs(template_params(c, d, c_in, c_out) - target), d))
        assert w.d == brute and w.width == c * w.d and w.params == template_params(c, w.d, c_in, c_out)
        ds.append(w.d)
    assert ds[0] == ref and all(a >= b for a, b in zip(ds, ds[1:]))


def test_width_for_target_and_errors() -> None:
    assert width_for(1, target_params=69_632).d == 64
    # twice the complexity at C = 32: d = 8 (32×8d), as resnext101_32x8d doubles resnext101_32x4d's width
    assert (width_for(32, target_params=2 * 69_632).d, width_for(32, target_params=2 * 69_632).params) == (8, 149_504)
    assert width_for(4096).d == 1  # more paths than the budget: at least one channel each
    for kwargs, field in [({"cardinality": 0}, "cardinality"), ({"cardinality": 2, "c_in": -1}, "c_in"),
                          ({"cardinality": 2, "target_params": 0}, "target_params"),
                          ({"cardinality": "8"}, "cardinality")]:
        with pytest.raises(SpecError, match=f"^{field}:"):
            width_for(**kwargs)
