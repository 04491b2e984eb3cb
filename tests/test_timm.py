"""The oracle for timm-named presets: every preset whose name is a timm model is that timm model.

Parametrized over the registry (``list_presets()`` ∩ ``timm.list_models()``), so a preset the core adds is
tested as soon as it exists. Every expected value comes from timm's own model, built with
``pretrained=False`` (nothing is downloaded): parameters from ``model.parameters()``, per-layer MACs from
forward hooks (conv: output elements × c_in/groups × k_h × k_w, Conv1d likewise, linear: in × out, bias not
counted), run on the meta device so full-size networks cost nothing; the state_dict keys and shapes; and,
on the CPU, the outputs after loading timm's weights with ``strict=True``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import pytest
import torch
from torch import nn

from explorer import analyze, build_model, get_preset, list_presets
from conftest import randomize_norms

timm = pytest.importorskip("timm")
pytestmark = pytest.mark.usefixtures("one_thread")

TIMM_PRESETS = [n for n in list_presets() if n in set(timm.list_models())]
MAC_LAYERS = (nn.Conv2d, nn.Conv1d, nn.Linear)
ODD_SIZE = (3, 97, 131)
# resnetaa50d's floor-mode aa pool and ceil-mode shortcut pool disagree on an odd stage input, so timm itself
# cannot run 97×131 (width 131 → 66 → 33 at layer2); 97×97 keeps every downsampled side even.
ODD_FALLBACK = (3, 97, 97)
BIG = 40_000_000  # parameters above which a CPU build and forward is marked slow (seconds each on one core)


@lru_cache(maxsize=4)
def timm_on_meta(name: str) -> nn.Module:
    with torch.device("meta"):
        return timm.create_model(name, pretrained=False).eval()


def hooked_layers(model: nn.Module, size: tuple[int, int, int]) -> dict[str, tuple[str, int, int]]:
    """name → (class, params, MACs) of every conv/linear module called in one forward pass of one image."""
    rows: dict[str, tuple[str, int, int]] = {}

    def hook(name: str):  # noqa: ANN202
        def record(m: nn.Module, args: tuple, out: torch.Tensor) -> None:
            if isinstance(m, nn.Linear):
                macs = out.numel() * m.in_features
            else:
                macs = out.numel() * (m.in_channels // m.groups) * math.prod(m.kernel_size)
            params = sum(p.numel() for p in m.parameters(recurse=False))
            assert name not in rows, f"{name} called twice"
            rows[name] = (type(m).__name__, params, macs)

        return record

    device = next(model.parameters()).device
    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if isinstance(m, MAC_LAYERS)]
    try:
        with torch.no_grad():
            model(torch.zeros(1, *size, device=device))
    finally:
        for h in handles:
            h.remove()
    return rows


def explorer_layers(name: str, size: tuple[int, int, int]) -> dict[str, tuple[int, int]]:
    """name → (params, MACs) of the analysis rows that do multiply-adds."""
    rows = analyze(get_preset(name), input_size=size).layers
    out = {r.name: (r.params, r.macs) for r in rows if r.macs > 0}
    assert len(out) == sum(1 for r in rows if r.macs > 0), "two analysis rows share a name"
    return out


def odd_size_for(model: nn.Module) -> tuple[int, int, int]:
    """97×131 where timm can run it, else 97×97."""
    try:
        with torch.no_grad():
            model(torch.zeros(1, *ODD_SIZE, device="meta"))
        return ODD_SIZE
    except RuntimeError:
        return ODD_FALLBACK


def test_the_registry_holds_timm_names() -> None:
    """The torchvision ten are timm names too; the issue-17 presets join them as the core adds them."""
    assert {"resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2"} <= set(TIMM_PRESETS)


@pytest.mark.parametrize("name", TIMM_PRESETS)
def test_params_equal_timms(name: str) -> None:
    theirs = sum(p.numel() for p in timm_on_meta(name).parameters())
    assert analyze(get_preset(name)).params == theirs
    assert sum(p.numel() for p in build_model(get_preset(name), device="meta").parameters()) == theirs


@pytest.mark.parametrize("name", TIMM_PRESETS)
def test_per_layer_macs_and_params_equal_timms_at_224_and_an_odd_size(name: str) -> None:
    model = timm_on_meta(name)
    for size in ((3, 224, 224), odd_size_for(model)):
        theirs = hooked_layers(model, size)
        ours = explorer_layers(name, size)
        assert sorted(ours) == sorted(theirs), f"layers differ at {size}: only ours " \
            f"{sorted(set(ours) - set(theirs))[:5]}, only timm's {sorted(set(theirs) - set(ours))[:5]}"
        wrong = [(n, ours[n], theirs[n][1:]) for n in theirs if ours[n] != theirs[n][1:]]
        assert not wrong, f"(params, MACs) differ at {size}: {wrong[:5]}"
        assert analyze(get_preset(name), input_size=size).macs == sum(m for _, _, m in theirs.values())


@pytest.mark.parametrize("name", TIMM_PRESETS)
def test_state_dict_keys_and_shapes_equal_timms(name: str) -> None:
    ours = build_model(get_preset(name), device="meta").state_dict()
    theirs = timm_on_meta(name).state_dict()
    assert sorted(ours) == sorted(theirs), f"only ours {sorted(set(ours) - set(theirs))[:5]}, " \
        f"only timm's {sorted(set(theirs) - set(ours))[:5]}"
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}


def _output_params() -> list:
    """Every timm preset; the big ones marked slow (they take seconds to initialize on one core)."""
    return [pytest.param(n, marks=pytest.mark.slow) if analyze(get_preset(n)).params > BIG else n
            for n in TIMM_PRESETS]


@pytest.mark.parametrize("name", _output_params())
def test_timms_weights_load_strict_and_give_timms_outputs(name: str) -> None:
    torch.manual_seed(0)
    theirs = timm.create_model(name, pretrained=False)
    randomize_norms(theirs)
    theirs.eval()
    ours = build_model(get_preset(name)).eval()
    result = ours.load_state_dict(theirs.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, actual = theirs(x), ours(x)
    assert actual.shape == expected.shape == (2, get_preset(name).num_classes)
    assert expected.abs().max() > 1e-3 and not torch.allclose(expected[0], expected[1])
    assert torch.allclose(actual, expected, rtol=1e-4, atol=1e-5), (actual - expected).abs().max()


def _fvcore_total(model: nn.Module, size: tuple[int, int, int]) -> int:
    from fvcore.nn import FlopCountAnalysis

    flops = FlopCountAnalysis(model, torch.ones(1, *size))
    flops.unsupported_ops_warnings(False)
    flops.uncalled_modules_warnings(False)
    return int(flops.total())


@pytest.mark.parametrize("name", _output_params())
def test_what_timm_prints_is_fvcore_on_timms_model(name: str) -> None:
    """timm's benchmark publishes fvcore's total on its own model (eval, one image) / 1e9 as GMACs; the
    explorer's "timm" figure, derived from the plan with fvcore's rules, is that total (at 3×64×64 to keep it
    fast: BN 2 and GroupNorm 5 per element, the global pool 1 per input element, pools and SE gates free)."""
    from explorer.costs.counters import tool_counts

    pytest.importorskip("fvcore")
    size = (3, 64, 64)
    theirs = _fvcore_total(timm.create_model(name, pretrained=False).eval(), size)
    ours = tool_counts(get_preset(name), size)["timm"]
    assert ours.value == theirs
    assert ours.printed.startswith(f"infer_gmacs {round(theirs / 1e9, 2)},")
