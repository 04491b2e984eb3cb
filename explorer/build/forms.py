"""The three equivalent forms of the ResNeXt block (Fig. 3): conversion between them and equivalence checks.

ResNeXt Fig. 3 draws one function three ways:

- (a) C parallel paths, each 1×1 → BN → ReLU → 3×3 → BN → ReLU → 1×1, summed, then the block's BN;
- (b) C paths of 1×1 → BN → ReLU → 3×3 → BN → ReLU, concatenated, then one 1×1 → BN;
- (c) 1×1 → BN → ReLU → grouped 3×3 (C groups) → BN → ReLU → 1×1 → BN.

They are the same function because everything before the last 1×1 works channel by channel or group
by group (BN normalizes each channel on its own, with running statistics in eval mode and with batch
statistics in train mode), and because the convs have no bias: a 1×1 over all C·d channels is the
sum over paths of a 1×1 over each path's d channels, so (a)'s C summed 1×1s followed by one BN is
(c)'s 1×1 + BN. ``to_form`` moves real weights between the forms by slicing and concatenating, which
is exact; only the order of floating-point additions differs.

The experiments that check it (``equivalence``, ``network_equivalence``) live in ``explorer.measure.equivalence``;
the cardinality-vs-width trade-off of Table 2 in ``explorer.costs.design``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..core.errors import SpecError
from .nets import BasicBlock, Bottleneck, PathsBottleneck
from ..core.spec import SPEC_FIELDS

FORM_TITLES = {"a": "(a) parallel paths, summed", "b": "(b) early concatenation", "c": "(c) grouped convolution"}
_BLOCKS = (BasicBlock, Bottleneck, PathsBottleneck)


# --- to_form ------------------------------------------------------------------------------------
def form_of(module: nn.Module) -> str:
    """The Fig. 3 form of a block or of a network's bottleneck blocks: ``"a"``, ``"b"`` or ``"c"``.

    Basic blocks count as ``"c"`` (they have only the one form). A network whose blocks mix forms
    raises ``ValueError``; a module with no ResNet block raises ``TypeError``.
    """
    if isinstance(module, _BLOCKS):
        return module.form
    forms = {m.form for m in module.modules() if isinstance(m, _BLOCKS)}
    if not forms:
        raise TypeError(f"module: {type(module).__name__} contains no ResNet block")
    if len(forms) > 1:
        raise ValueError(f"module: its blocks mix forms {sorted(forms)}")
    return forms.pop()


def to_form(module: nn.Module, form: str) -> nn.Module:
    """Re-express a bottleneck block, or every block of a network, in another form of ResNeXt Fig. 3.

    Returns a new module with the same function; ``module`` is not changed. Conv weights and BN
    parameters, running statistics and ``num_batches_tracked`` are sliced (c → a/b: path ``i`` takes
    output channels ``i*d:(i+1)*d`` of ``conv1``/``bn1``, group ``i`` of ``conv2``/``bn2``, and in form
    (a) input channels ``i*d:(i+1)*d`` of ``conv3``) or concatenated (a/b → c), exactly. a ↔ b goes
    through c. The shortcut, every BN's ``eps``/``momentum``, each parameter's ``requires_grad`` and
    each submodule's train/eval mode are carried over; gradients (``.grad``) are not.

    A network is deep-copied with each block replaced by its converted copy, so
    ``to_form(build_model(spec), f)`` has the module tree and ``state_dict`` keys of
    ``build_model(spec.edit(form=f))``. Each block is constructed anew (the ``explorer.build.nets`` class of the
    target form, from the source block's own constructor arguments) on the meta device, then filled with
    the source's tensors.

    Args:
        module: a ``Bottleneck`` or ``PathsBottleneck`` block, a ``BasicBlock`` (form ``"c"`` only), or
            any module containing them (a ``ResNet`` from ``build_model``, one stage).
        form: ``"a"``, ``"b"`` or ``"c"``.

    Raises:
        SpecError: ``form`` is not a form, or forms (a)/(b) are asked of basic blocks (ResNeXt Fig. 4:
            grouping a two-layer block only gives a wide dense module).
        TypeError: ``module`` contains no ResNet block.
        ValueError: the block cannot be re-expressed exactly (a conv with a bias, BN without affine
            parameters, paths whose BN settings disagree).
    """
    SPEC_FIELDS["form"].check(form)
    if not isinstance(module, nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    if isinstance(module, _BLOCKS):
        return _convert_block(module, form)
    blocks = [m for m in module.modules() if isinstance(m, _BLOCKS)]
    if not blocks:
        raise TypeError(f"module: {type(module).__name__} contains no ResNet block")
    # deepcopy takes a memo of already-copied objects: pre-filling it with the converted blocks copies
    # everything else (stem, head, attributes, modes) and puts the new blocks in the old ones' places.
    memo: dict[int, Any] = {id(b): _convert_block(b, form) for b in blocks}
    return copy.deepcopy(module, memo)


def _convert_block(block: nn.Module, form: str) -> nn.Module:
    if block.kind == "basic" and form != "c":
        raise SpecError(
            "form", "forms 'a' and 'b' exist only for bottleneck blocks; grouping a two-layer (basic) block "
            "only gives a wide dense module (ResNeXt Fig. 4)"
        )
    if block.form == form:
        return copy.deepcopy(block)
    grouped = block if isinstance(block, Bottleneck) else _paths_to_grouped(block)
    return grouped if form == "c" else _grouped_to_paths(grouped, form)


def _grouped_to_paths(src: Bottleneck, form: str) -> PathsBottleneck:
    """Fig. 3 (c) → (a) or (b) by slicing."""
    width = src.conv2.out_channels
    d = width // src.groups
    new = _new_block(src, width, form)
    for i, path in enumerate(new.paths):
        own = _narrow(0, i * d, d)
        for name in ("conv1", "bn1", "relu", "conv2", "bn2"):
            _fill(getattr(path, name), [getattr(src, name)], own)
        if form == "a":
            _fill(path.conv3, [src.conv3], _narrow(1, i * d, d))
    if form == "b":
        _fill(new.conv3, [src.conv3], _whole)
    _fill(new.bn3, [src.bn3], _whole)
    _fill(new.relu, [src.relu], _whole)
    return _checked(new, src)


def _paths_to_grouped(src: PathsBottleneck) -> Bottleneck:
    """Fig. 3 (a) or (b) → (c) by concatenation."""
    paths = list(src.paths)
    new = _new_block(src, paths[0].conv1.out_channels * len(paths), "c")
    for name in ("conv1", "bn1", "conv2", "bn2"):
        _fill(getattr(new, name), [getattr(p, name) for p in paths], _cat(0))
    if src.form == "b":  # the one 1×1 is already whole
        _fill(new.conv3, [src.conv3], _whole)
    else:  # form a: the 1×1 of path i reads channels i*d:(i+1)*d of the grouped output
        _fill(new.conv3, [p.conv3 for p in paths], _cat(1))
    _fill(new.bn3, [src.bn3], _whole)
    _fill(new.relu, [src.relu], _whole)
    return _checked(new, src)


def _new_block(src: Bottleneck | PathsBottleneck, width: int, form: str) -> Bottleneck | PathsBottleneck:
    """An empty (meta) block of ``form`` with the source's constructor arguments, its shortcut and its mode."""
    c_in, c_out = _c_in(src), src.bn3.num_features
    args = (c_in, width, c_out, src.stride, src.groups, src.stride_on, src.shortcut)
    with torch.device("meta"):
        new = Bottleneck(*args) if form == "c" else PathsBottleneck(*args, form)
    new.train(src.training)
    if src.downsample is not None:
        new.downsample = copy.deepcopy(src.downsample)
    return new


def _c_in(block: Bottleneck | PathsBottleneck) -> int:
    return block.conv1.in_channels if isinstance(block, Bottleneck) else block.paths[0].conv1.in_channels


Pick = Callable[[list[torch.Tensor]], torch.Tensor]


def _narrow(dim: int, start: int, length: int) -> Pick:
    return lambda ts: ts[0].narrow(dim, start, length)


def _cat(dim: int) -> Pick:
    return lambda ts: torch.cat(ts, dim)


def _whole(ts: list[torch.Tensor]) -> torch.Tensor:
    return ts[0]


def _fill(dst: nn.Module, srcs: list[nn.Module], pick: Pick) -> None:
    """Give ``dst`` (built on meta) the tensors of ``srcs`` combined by ``pick``, and their settings and mode."""
    first = srcs[0]
    for attr in ("eps", "momentum"):
        if hasattr(first, attr):
            if len({getattr(s, attr) for s in srcs}) > 1:
                raise ValueError(f"module: the paths' {type(first).__name__} layers have different {attr}")
            setattr(dst, attr, getattr(first, attr))
    dst.training = first.training
    with torch.no_grad():
        for store in ("_parameters", "_buffers"):
            slots = getattr(dst, store)
            for name in dict.fromkeys([*getattr(first, store), *slots]):
                values = [getattr(s, store).get(name) for s in srcs]
                if slots.get(name) is None and all(v is None for v in values):
                    continue
                if slots.get(name) is None or any(v is None for v in values):
                    raise ValueError(
                        f"module: {type(first).__name__}.{name} exists in only one of the forms, so they cannot "
                        "compute the same function (bias-free convs and affine BN are required)"
                    )
                value = _same_scalar(values, name) if values[0].ndim == 0 else pick(values)
                if value.shape != slots[name].shape:
                    raise ValueError(f"module: {type(first).__name__}.{name} has shape {tuple(value.shape)}, "
                                     f"expected {tuple(slots[name].shape)}")
                value = value.clone(memory_format=torch.contiguous_format)
                if store == "_parameters":
                    value = nn.Parameter(value, requires_grad=values[0].requires_grad)
                slots[name] = value


def _same_scalar(values: list[torch.Tensor], name: str) -> torch.Tensor:
    """``num_batches_tracked`` of merged paths: they saw the same batches, so it must agree."""
    if not values[0].is_meta and any(not torch.equal(v, values[0]) for v in values[1:]):
        raise ValueError(f"module: the paths disagree on {name}")
    return values[0]


def _checked(new: nn.Module, src: nn.Module) -> nn.Module:
    """Guard against a tensor left unfilled (still on meta) by a change in the block layout."""
    if not next(src.parameters()).is_meta:
        for name, t in [*new.named_parameters(), *new.named_buffers()]:
            if t.is_meta:
                raise RuntimeError(f"to_form: {name} of the new block was not filled (a bug in explorer.build.forms)")
    return new


__all__ = ["FORM_TITLES", "form_of", "to_form"]
