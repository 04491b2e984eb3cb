"""Read a built ResNet back into the ArchSpec that builds the same network.

    spec = from_model(torchvision.models.resnext50_32x4d())   # ArchSpec(name="resnext50_32x4d", …)
    spec = spec_from_name("timm:resnet50d")                  # built on the meta device: no weights, no download

``from_model`` reads the module structure only — classes, channel counts, kernel sizes, strides, groups — and
never runs the module or any code it carries. It reads torchvision's ``ResNet`` and timm's ``ResNet``,
``ResNetV2`` and legacy ``SENet`` (SE-ResNet and SE-ResNeXt; not SENet-154); whatever the spec cannot express (dilation, a custom block, drop-path, …) is a ``SpecError`` that
says what was met and where. The spec it returns builds a network with the same parameters and state_dict
keys, so the original's weights load with ``strict=True`` and give the same outputs.

This module imports neither torch nor timm nor torchvision when it is imported (``import explorer`` stays
light); a module handed to ``from_model`` has brought torch along already.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.errors import SpecError
from ..core.spec import (MAX_GROUPS, SPEC_FIELDS, ArchSpec, deep_stem_widths, default_input_size, eca_kernel, group_width,
                   se_channels)

FIELD = "model"  # the input a refusal is about: the module handed in
_DEFAULT_SE_DIVISOR = ArchSpec().se_divisor  # the SENet layout rounds SE's width down and keeps the default
SOURCE_FIELD = "from"  # spec_from_name's input, as the CLI's --from and the editor's field call it


def _refuse(where: str, what: str) -> SpecError:
    """A refusal naming the module path and what was met there."""
    place = f"{where}: " if where else ""
    return SpecError(FIELD, f"{place}{what}")


def _cls(m: Any) -> str:
    """``module.QualName`` of an object's class: classes are told apart without importing their packages."""
    t = type(m)
    return f"{t.__module__}.{t.__qualname__}"


def _name(m: Any) -> str:
    return type(m).__name__


# --- leaves ---------------------------------------------------------------------------------------
def _child(parent: Any, path: str, name: str) -> Any:
    m = getattr(parent, name, None)
    if m is None:
        raise _refuse(path, f"has no {name!r}; the explorer reads torchvision's and timm's ResNets")
    return m


def _is(m: Any, torch_name: str) -> bool:
    """Exactly the torch.nn class (a subclass may compute something else)."""
    t = type(m)
    return t.__module__.startswith("torch.nn.modules") and t.__name__ == torch_name


def _conv(m: Any, where: str, kernel: int, *, stride: int | None = None, bias: bool = False) -> Any:
    """A plain Conv2d with a square kernel, 'same'-style padding kernel // 2, no dilation; returns it."""
    if not _is(m, "Conv2d"):
        raise _refuse(where, f"a {_name(m)} where a Conv2d was expected (e.g. a weight-standardized or "
                      "dynamically padded conv); the explorer builds plain Conv2d layers")
    if m.kernel_size != (kernel, kernel):
        raise _refuse(where, f"a {m.kernel_size[0]}×{m.kernel_size[1]} conv where the block has a "
                      f"{kernel}×{kernel}")
    if m.dilation != (1, 1):
        raise _refuse(where, f"dilation {m.dilation[0]} (replace_stride_with_dilation or output_stride < 32); "
                      "the explorer builds undilated networks")
    if m.stride[0] != m.stride[1]:
        raise _refuse(where, f"a non-square stride {m.stride}")
    if m.padding != (kernel // 2, kernel // 2) or m.padding_mode != "zeros":
        raise _refuse(where, f"padding {m.padding} ({m.padding_mode}); the explorer pads a {kernel}×{kernel} conv "
                      f"by {kernel // 2} with zeros")
    if (m.bias is not None) != bias:
        raise _refuse(where, "a conv with a bias" if m.bias is not None else "a conv without its bias")
    if stride is not None and m.stride[0] != stride:
        raise _refuse(where, f"stride {m.stride[0]} where {stride} was expected")
    return m


def _norm(m: Any, where: str, channels: int) -> str:
    """'bn' or 'gn' for the norms the explorer builds (timm's BatchNormAct2d counts as a BN: same state_dict)."""
    mro = [f"{c.__module__}.{c.__qualname__}" for c in type(m).__mro__]
    if "torch.nn.modules.batchnorm.BatchNorm2d" in mro:
        if type(m).__name__ not in ("BatchNorm2d", "BatchNormAct2d"):
            raise _refuse(where, f"a {_name(m)} (a BatchNorm2d subclass the explorer does not know)")
        if not (m.affine and m.track_running_stats) or m.eps != 1e-5 or m.momentum != 0.1:
            raise _refuse(where, f"a BatchNorm2d with eps={m.eps}, momentum={m.momentum}, affine={m.affine}, "
                          f"track_running_stats={m.track_running_stats}; the explorer builds the defaults "
                          "(1e-05, 0.1, True, True)")
        kind = "bn"
        n = m.num_features
    elif "torch.nn.modules.normalization.GroupNorm" in mro:
        if type(m).__name__ not in ("GroupNorm", "GroupNormAct") or m.num_groups != 32 or m.eps != 1e-5 \
                or not m.affine:
            raise _refuse(where, f"a {_name(m)} with {m.num_groups} groups, eps={m.eps}, affine={m.affine}; "
                          "the explorer's GroupNorm has 32 groups, eps 1e-05 and an affine scale and shift")
        kind = "gn"
        n = m.num_channels
    else:
        raise _refuse(where, f"a {_name(m)} normalization; the explorer builds BatchNorm or GroupNorm")
    if n != channels:
        raise _refuse(where, f"normalizes {n} channels where the layer before has {channels}")
    if type(m).__name__.endswith("Act"):  # timm's norm + activation layers: ReLU, no drop
        act, drop = getattr(m, "act", None), getattr(m, "drop", None)
        if not _is(act, "ReLU") or not _is(drop, "Identity"):
            raise _refuse(where, f"a {_name(m)} with {_name(act)} and {_name(drop)}; the explorer's "
                          "pre-activation norms are followed by a ReLU")
    return kind


def _relu(m: Any, where: str) -> None:
    if not _is(m, "ReLU"):
        raise _refuse(where, f"a {_name(m)} activation; the explorer's networks use ReLU")


def _identity(m: Any, where: str, what: str) -> None:
    if m is not None and not _is(m, "Identity"):
        raise _refuse(where, f"{what} ({_name(m)}); the explorer builds the network without it")


def _avg_pool(m: Any, where: str, *, ceil_mode: bool, count_include_pad: bool, stride: int = 2) -> None:
    ok = (_is(m, "AvgPool2d") and _pair(m.kernel_size) == (2, 2) and _pair(m.stride) == (stride, stride)
          and _pair(m.padding) == (0, 0) and m.ceil_mode == ceil_mode and m.count_include_pad == count_include_pad)
    if not ok:
        raise _refuse(where, f"{m!r}; expected AvgPool2d(2, stride {stride}, ceil_mode={ceil_mode}, "
                      f"count_include_pad={count_include_pad})")


def _pair(v: Any) -> tuple[int, int]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)  # type: ignore[return-value]


def _max_pool(m: Any, where: str) -> str:
    """The stem pool a MaxPool2d is: 'max' (padding 1) or 'max_ceil' (no padding, ceil mode: SENet's)."""
    if _is(m, "MaxPool2d") and _pair(m.kernel_size) == (3, 3) and _pair(m.stride) == (2, 2) \
            and _pair(m.dilation) == (1, 1):
        if _pair(m.padding) == (1, 1) and not m.ceil_mode:
            return "max"
        if _pair(m.padding) == (0, 0) and m.ceil_mode:
            return "max_ceil"
    raise _refuse(where, f"{m!r}; the explorer's stem max pools are MaxPool2d(3, stride 2, padding 1) and "
                  "MaxPool2d(3, stride 2, ceil_mode=True)")


def _linear_head(fc: Any, where: str, c_in: int) -> int:
    if not _is(fc, "Linear") or fc.bias is None:
        raise _refuse(where, f"a {_name(fc)} classifier; expected a Linear with a bias")
    if fc.in_features != c_in:
        raise _refuse(where, f"takes {fc.in_features} features where the last stage gives {c_in}")
    return fc.out_features


# --- blocks ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Block:
    """What one residual block is, in the spec's terms."""

    where: str
    kind: str  # "basic" | "bottleneck"
    c_in: int
    width: int  # channels of the 3×3 conv(s)
    c_out: int
    stride: int
    stride_on: str | None  # "3x3" | "1x1" | None when the block does not downsample
    groups: int
    shortcut: str | None  # None (identity) | "B" | "D"
    norm: str
    attention: tuple[str, int, int] | tuple[str] = ("none",)  # ("se", squeeze width, channels) | ("eca",)
    aa: bool = False


def _shortcut_post(m: Any, where: str, c_in: int, c_out: int, stride: int) -> tuple[str | None, str | None]:
    """(kind, norm) of a post-activation block's ``downsample``: None, 'B' (conv, norm) or 'D' (pool, conv, norm)."""
    if m is None:
        return None, None
    if not _is(m, "Sequential"):
        raise _refuse(where, f"a {_name(m)} shortcut; expected a Sequential of conv and norm")
    parts = list(m.children())
    if len(parts) == 2:
        conv = _conv(parts[0], f"{where}.0", 1, stride=stride)
        kind = "B"
    elif len(parts) == 3:
        if stride == 1:
            _identity(parts[0], f"{where}.0", "a pool on a stride-1 shortcut")
        else:
            _avg_pool(parts[0], f"{where}.0", ceil_mode=True, count_include_pad=False, stride=stride)
        conv = _conv(parts[1], f"{where}.1", 1, stride=1)
        kind = "D"
    else:
        raise _refuse(where, f"a shortcut of {len(parts)} layers; the explorer builds conv + norm (B) or "
                      "average pool + conv + norm (D)")
    if (conv.in_channels, conv.out_channels) != (c_in, c_out):
        raise _refuse(where, f"projects {conv.in_channels} → {conv.out_channels} channels in a block of "
                      f"{c_in} → {c_out}")
    return kind, _norm(parts[-1], f"{where}.{len(parts) - 1}", c_out)


def _attention(m: Any, where: str, channels: int) -> tuple[str, int, int] | tuple[str]:
    """timm's ``se`` module of a block: absent, SEModule (→ reduction, divisor) or EcaModule."""
    if m is None:
        return ("none",)
    name = _name(m)
    if name == "SEModule" and _cls(m).startswith("timm."):
        if getattr(m, "add_maxpool", False):
            raise _refuse(where, "an SE module with add_maxpool; the explorer's SE squeezes by the mean only")
        fc1 = _conv(m.fc1, f"{where}.fc1", 1, stride=1, bias=True)
        fc2 = _conv(m.fc2, f"{where}.fc2", 1, stride=1, bias=True)
        _identity(m.bn, f"{where}.bn", "a norm inside the SE module")
        _relu(m.act, f"{where}.act")
        if _name(m.gate) != "Sigmoid":
            raise _refuse(f"{where}.gate", f"a {_name(m.gate)} gate; the explorer's SE gates with a sigmoid")
        rd = fc1.out_channels
        if fc1.in_channels != channels or (fc2.in_channels, fc2.out_channels) != (rd, channels):
            raise _refuse(where, f"an SE module of {fc1.in_channels} → {rd} → {fc2.out_channels} channels on a "
                          f"block of {channels}")
        return ("se", rd, channels)  # reduction and divisor are solved over the whole network
    if name == "EcaModule" and _cls(m).startswith("timm."):
        if getattr(m, "conv2", None) is not None:
            raise _refuse(where, "an ECA module with an MLP (use_mlp); the explorer's ECA is one Conv1d")
        conv = m.conv
        k = eca_kernel(channels)
        ok = (_is(conv, "Conv1d") and conv.in_channels == conv.out_channels == 1 and conv.kernel_size == (k,)
              and conv.padding == ((k - 1) // 2,) and conv.bias is None and conv.stride == (1,)
              and conv.dilation == (1,))
        if not ok:
            raise _refuse(f"{where}.conv", f"{conv!r}; timm's rule gives Conv1d(1, 1, {k}, padding "
                          f"{(k - 1) // 2}, bias=False) for {channels} channels")
        if _name(m.gate) != "Sigmoid":
            raise _refuse(f"{where}.gate", f"a {_name(m.gate)} gate; the explorer's ECA gates with a sigmoid")
        return ("eca",)
    raise _refuse(where, f"a {name} attention module; the explorer builds SE and ECA")


def _se_module(m: Any, where: str, channels: int) -> tuple[str, int, int] | tuple[str]:
    """timm's legacy SENet ``se_module``: absent, or its SEModule (fc1, relu, fc2, sigmoid) → its squeeze width."""
    if m is None:
        return ("none",)
    if _cls(m) != "timm.models.senet.SEModule":
        raise _refuse(where, f"a {_cls(m)} gate; the explorer reads timm's senet.py SEModule")
    fc1 = _conv(m.fc1, f"{where}.fc1", 1, stride=1, bias=True)
    fc2 = _conv(m.fc2, f"{where}.fc2", 1, stride=1, bias=True)
    _relu(m.relu, f"{where}.relu")
    if _name(m.sigmoid) != "Sigmoid":
        raise _refuse(f"{where}.sigmoid", f"a {_name(m.sigmoid)} gate; the explorer's SE gates with a sigmoid")
    rd = fc1.out_channels
    if fc1.in_channels != channels or (fc2.in_channels, fc2.out_channels) != (rd, channels):
        raise _refuse(where, f"an SE module of {fc1.in_channels} → {rd} → {fc2.out_channels} channels on a block "
                      f"of {channels}")
    return ("se", rd, channels)


def _post_block(b: Any, where: str, kind: str, *, timm: bool, senet: bool = False) -> _Block:
    """A post-activation block (torchvision's BasicBlock/Bottleneck, timm's ResNet blocks, and with ``senet`` the
    legacy SENet's, whose one ReLU is ``relu`` as in torchvision and whose gate is ``se_module``)."""
    norms = []
    if timm:
        _identity(getattr(b, "drop_block", None), f"{where}.drop_block", "DropBlock (drop_block_rate > 0)")
        _identity(getattr(b, "drop_path", None), f"{where}.drop_path", "drop-path (stochastic depth, "
                  "drop_path_rate > 0), a structural change of training")
        acts = ("act1", "act2") if kind == "basic" else ("act1", "act2", "act3")
    else:
        acts = ("relu",)
    for a in acts:
        _relu(_child(b, where, a), f"{where}.{a}")
    aa_module = getattr(b, "aa", None) if timm else None
    aa = aa_module is not None and not _is(aa_module, "Identity")
    if aa:
        _avg_pool(aa_module, f"{where}.aa", ceil_mode=False, count_include_pad=True)
    if kind == "basic":
        conv1 = _conv(_child(b, where, "conv1"), f"{where}.conv1", 3)
        conv2 = _conv(_child(b, where, "conv2"), f"{where}.conv2", 3, stride=1)
        c_in, width, c_out = conv1.in_channels, conv1.out_channels, conv2.out_channels
        if conv1.groups != 1 or conv2.groups != 1:
            raise _refuse(where, "a grouped 3×3 in a basic block; the explorer groups bottlenecks only")
        if conv2.in_channels != width or width != c_out:
            raise _refuse(where, f"a basic block of {c_in} → {width} → {c_out} channels; the explorer's basic "
                          "block keeps the output width inside (no reduce_first)")
        norms += [_norm(b.bn1, f"{where}.bn1", width), _norm(b.bn2, f"{where}.bn2", c_out)]
        strides, groups = (conv1.stride[0], 1), 1
    else:
        conv1 = _conv(_child(b, where, "conv1"), f"{where}.conv1", 1)
        conv2 = _conv(_child(b, where, "conv2"), f"{where}.conv2", 3)
        conv3 = _conv(_child(b, where, "conv3"), f"{where}.conv3", 1, stride=1)
        c_in, width, c_out = conv1.in_channels, conv2.out_channels, conv3.out_channels
        if conv1.out_channels != width or conv2.in_channels != width or conv3.in_channels != width:
            raise _refuse(where, f"a bottleneck of {c_in} → {conv1.out_channels} → {width} → {c_out} channels; "
                          "the explorer's 1×1 reduces to the 3×3's width (no reduce_first)")
        norms += [_norm(b.bn1, f"{where}.bn1", width), _norm(b.bn2, f"{where}.bn2", width),
                  _norm(b.bn3, f"{where}.bn3", c_out)]
        strides, groups = (conv1.stride[0], conv2.stride[0]), conv2.groups
    if aa:
        if strides != (1, 1):
            raise _refuse(where, "an anti-aliasing pool after a strided conv; timm runs the conv at stride 1")
        stride, stride_on = 2, "3x3"
    elif strides[0] > 1 and strides[1] > 1:
        raise _refuse(where, f"strides {strides} on both convs; the explorer strides one of them")
    else:
        stride = max(strides)
        stride_on = None if stride == 1 else ("1x1" if kind == "bottleneck" and strides[0] > 1 else "3x3")
    shortcut, sc_norm = _shortcut_post(getattr(b, "downsample", None), f"{where}.downsample", c_in, c_out, stride)
    if sc_norm:
        norms.append(sc_norm)
    if senet:
        attention = _se_module(getattr(b, "se_module", None), f"{where}.se_module", c_out)
    else:
        attention = _attention(getattr(b, "se", None), f"{where}.se", c_out) if timm else ("none",)
    return _Block(where, kind, c_in, width, c_out, stride, stride_on, groups, shortcut, _one(norms, where, "norm"),
                  attention, aa)


def _pre_block(b: Any, where: str) -> _Block:
    """timm's ResNetV2 pre-activation blocks (PreActBottleneck, PreActBasic)."""
    _identity(getattr(b, "drop_path", None), f"{where}.drop_path", "drop-path (stochastic depth, "
              "drop_path_rate > 0), a structural change of training")
    name = _name(b)
    if name == "PreActBasic":
        kind = "basic"
        conv1 = _conv(b.conv1, f"{where}.conv1", 3)
        conv2 = _conv(b.conv2, f"{where}.conv2", 3, stride=1)
        c_in, width, c_out = conv1.in_channels, conv1.out_channels, conv2.out_channels
        if width != c_out or conv1.groups != 1 or conv2.groups != 1:
            raise _refuse(where, f"a pre-activation basic block of {c_in} → {width} → {c_out} channels, groups "
                          f"{conv1.groups}; the explorer's keeps the output width and does not group")
        norms = [_norm(b.norm1, f"{where}.norm1", c_in), _norm(b.norm2, f"{where}.norm2", width)]
        stride, groups = conv1.stride[0], 1
    elif name == "PreActBottleneck":
        kind = "bottleneck"
        conv1 = _conv(b.conv1, f"{where}.conv1", 1, stride=1)
        conv2 = _conv(b.conv2, f"{where}.conv2", 3)
        conv3 = _conv(b.conv3, f"{where}.conv3", 1, stride=1)
        c_in, width, c_out = conv1.in_channels, conv2.out_channels, conv3.out_channels
        if conv1.out_channels != width or conv3.in_channels != width:
            raise _refuse(where, f"a bottleneck of {c_in} → {conv1.out_channels} → {width} → {c_out} channels")
        norms = [_norm(b.norm1, f"{where}.norm1", c_in), _norm(b.norm2, f"{where}.norm2", width),
                 _norm(b.norm3, f"{where}.norm3", width)]
        stride, groups = conv2.stride[0], conv2.groups
    else:
        raise _refuse(where, f"a {name} block (ResNetV2 with preact=False, or a custom block); the explorer reads "
                      "timm's PreActBottleneck and PreActBasic")
    shortcut = None
    ds = getattr(b, "downsample", None)
    if ds is not None:
        dname = _name(ds)
        if dname == "DownsampleConv":
            _conv(ds.conv, f"{where}.downsample.conv", 1, stride=stride)
            shortcut = "B"
        elif dname == "DownsampleAvg":
            if stride == 1:
                _identity(ds.pool, f"{where}.downsample.pool", "a pool on a stride-1 shortcut")
            else:
                _avg_pool(ds.pool, f"{where}.downsample.pool", ceil_mode=True, count_include_pad=False, stride=stride)
            _conv(ds.conv, f"{where}.downsample.conv", 1, stride=1)
            shortcut = "D"
        else:
            raise _refuse(f"{where}.downsample", f"a {dname} shortcut; the explorer reads DownsampleConv and "
                          "DownsampleAvg")
        _identity(ds.norm, f"{where}.downsample.norm", "a norm on a pre-activation shortcut (preact=False)")
        if (ds.conv.in_channels, ds.conv.out_channels) != (c_in, c_out):
            raise _refuse(f"{where}.downsample", f"projects {ds.conv.in_channels} → {ds.conv.out_channels} channels "
                          f"in a block of {c_in} → {c_out}")
    stride_on = None if stride == 1 else "3x3"
    return _Block(where, kind, c_in, width, c_out, stride, stride_on, groups, shortcut, _one(norms, where, "norm"))


def _one(values: list[Any], where: str, what: str) -> Any:
    """The one value a list must hold throughout (one norm per network, one stride placement, …)."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) != 1:
        raise _refuse(where, f"mixes {what}s {', '.join(map(str, distinct))}; a spec has one")
    return distinct[0]


# --- the network ----------------------------------------------------------------------------------
def _stages(blocks: list[list[_Block]], stem_out: int, where: str, layout: str = "timm") -> dict[str, Any]:
    """Spec fields of the stages: depths, widths, strides, expansion, cardinality, base_width, downsample_on,
    shortcut, and the per-block variants (norm, attention, aa) that must hold throughout."""
    flat = [b for stage in blocks for b in stage]
    if not flat or any(not stage for stage in blocks):
        raise _refuse(where, "an empty stage; every stage of a spec has at least one block")
    kind = _one([b.kind for b in flat], where, "block kind")
    c = stem_out
    for b in flat:
        if b.c_in != c:
            raise _refuse(b.where, f"takes {b.c_in} channels where the layer before gives {c}")
        c = b.c_out
    for stage in blocks:
        for b in stage[1:]:
            if b.stride != 1 or b.c_out != stage[0].c_out or b.width != stage[0].width:
                raise _refuse(b.where, f"a block of stride {b.stride}, {b.width} → {b.c_out} channels after a stage "
                              f"start of {stage[0].width} → {stage[0].c_out}; a spec's stage repeats its first block")
    groups = _one([b.groups for b in flat], where, "group count")
    # the shortcut: projections exactly where the shape changes (B, D), or on every block (C)
    changes = [b.stride != 1 or b.c_in != b.c_out for b in flat]
    kinds = [b.shortcut for b in flat]
    if all(kinds) and not all(changes):
        shortcut = _one(kinds, where, "shortcut")
        if shortcut != "B":
            raise _refuse(where, "an average-pool projection on every block; the explorer's D projects only where "
                          "the shape changes")
        shortcut = "C"
    else:
        for b, change, k in zip(flat, changes, kinds):
            if change and k is None:
                raise _refuse(b.where, f"changes the shape ({b.c_in} → {b.c_out} channels, stride {b.stride}) "
                              "without a projection shortcut")
            if not change and k is not None:
                raise _refuse(b.where, "a projection shortcut where the shape does not change")
        shortcut = _one([k for k in kinds if k], where, "shortcut") if any(kinds) else "B"
    stride_on = _one([b.stride_on for b in flat if b.stride_on] or ["3x3"], where, "stride placement")
    out = {
        "block": kind,
        "depths": [len(stage) for stage in blocks],
        "strides": [stage[0].stride for stage in blocks],
        "shortcut": shortcut,
        "downsample_on": stride_on,
        "norm": _one([b.norm for b in flat], where, "norm"),
        "aa": _one([b.aa for b in flat if b.stride != 1] or [False], where, "anti-aliasing setting"),
    }
    if kind == "basic":
        out.update(widths=[stage[0].c_out for stage in blocks], expansion=1)
    else:
        out.update(_bottleneck_widths(blocks, groups, where))
    out.update(_attention_fields([b.attention for b in flat], where, layout))
    return out


def _bottleneck_widths(blocks: list[list[_Block]], groups: int, where: str) -> dict[str, Any]:
    """widths, expansion, cardinality, base_width of bottleneck stages: the widths are c_out / expansion, and
    base_width d solves torchvision's rule int(width · d / 64) · C = the 3×3's channels in every stage."""
    outs = [stage[0].c_out for stage in blocks]
    mids = [stage[0].width for stage in blocks]
    candidates = [4] + sorted({o // m for o, m in zip(outs, mids) if m and o % m == 0} - {4})
    for expansion in candidates:
        if any(o % expansion for o in outs):
            continue
        widths = [o // expansion for o in outs]
        if any(m % groups for m in mids):
            break
        first = mids[0] // groups * 64 / widths[0]
        ds = ([int(first)] if first == int(first) else []) + list(range(1, MAX_GROUPS + 1))
        for d in ds:
            if 1 <= d <= MAX_GROUPS and all(group_width(w, d, groups) == m for w, m in zip(widths, mids)):
                return {"widths": widths, "expansion": expansion, "cardinality": groups, "base_width": d}
    raise _refuse(where, f"bottleneck widths {mids} with {groups} groups and outputs {outs}: no expansion and width d "
                  "with int(width · d / 64) · C = the 3×3's channels in every stage")


def _attention_fields(found: list[tuple], where: str, layout: str = "timm") -> dict[str, Any]:
    """attention, se_reduction, se_divisor: one kind throughout; SE's reduction and divisor solved so the spec's
    rule (``spec.se_channels``: timm's make_divisible, or the SENet layout's floor, which takes no divisor and
    keeps the default) gives every block's squeeze width."""
    kind = _one([a[0] for a in found], where, "attention kind")
    if kind != "se":
        return {"attention": kind}
    pairs = [(a[2], a[1]) for a in found]  # (channels, squeeze width)
    c0, rd0 = pairs[0]
    reductions = list(dict.fromkeys([round(c0 / rd0)] + list(range(1, 1025))))
    for divisor in (8, 1, 2, 4, 16, 32) if layout == "timm" else (_DEFAULT_SE_DIVISOR,):
        for r in reductions:
            if r >= 1 and all(se_channels(c, r, divisor, layout) == rd for c, rd in pairs):
                return {"attention": "se", "se_reduction": r, "se_divisor": divisor}
    rule = "timm's make_divisible rule" if layout == "timm" else "the SENet layout's channels // reduction"
    raise _refuse(where, f"SE squeeze widths {sorted(set(pairs))} (channels, width) that no reduction ratio and "
                  f"divisor give under {rule}")


def _torchvision(m: Any) -> dict[str, Any]:
    conv1 = _child(m, "", "conv1")
    _relu(_child(m, "", "relu"), "relu")
    pool = _child(m, "", "maxpool")
    if _is(conv1, "Conv2d") and conv1.kernel_size == (3, 3):
        stem = "cifar"  # the usual CIFAR adaptation: a 3×3/1 conv (and the max pool replaced by Identity)
        _conv(conv1, "conv1", 3, stride=1)
    else:
        stem = "imagenet"
        _conv(conv1, "conv1", 7, stride=2)
    if _is(pool, "Identity"):
        stem_pool = "none"
    else:
        stem_pool = _max_pool(pool, "maxpool")
    stem_out = conv1.out_channels
    _norm(_child(m, "", "bn1"), "bn1", stem_out)
    kinds = {"BasicBlock": "basic", "Bottleneck": "bottleneck"}
    stages = []
    for i in range(1, 5):
        layer = _child(m, "", f"layer{i}")
        blocks = []
        for j, b in enumerate(layer):
            where = f"layer{i}.{j}"
            if _cls(b) not in ("torchvision.models.resnet.BasicBlock", "torchvision.models.resnet.Bottleneck"):
                raise _refuse(where, f"a custom block {_cls(b)}; the explorer reads torchvision's BasicBlock and "
                              "Bottleneck")
            blocks.append(_post_block(b, where, kinds[_name(b)], timm=False))
        stages.append(blocks)
    if not (_is(m.avgpool, "AdaptiveAvgPool2d") and _pair(m.avgpool.output_size) == (1, 1)):
        raise _refuse("avgpool", f"{m.avgpool!r}; expected AdaptiveAvgPool2d((1, 1))")
    data = _stages(stages, stem_out, "")
    data.update(stem=stem, stem_width=stem_out, stem_pool=stem_pool,
                input_size=[conv1.in_channels, *default_input_size(stem)[1:]],
                num_classes=_linear_head(_child(m, "", "fc"), "fc", stages[-1][-1].c_out))
    return data


def _deep_stem(where: str, widths: tuple[int, int, int]) -> str:
    """'deep' or 'tiered' for a three-conv stem of these widths (the spec's rule, ``deep_stem_widths``)."""
    w = widths[2]
    for stem in ("deep", "tiered"):
        if w % 2 == 0 and widths[:2] == deep_stem_widths(stem, w):
            return stem
    raise _refuse(where, f"a deep stem of widths {widths}; the explorer's deep stem is W/2, W/2, W and the tiered "
                  "one 3·(W/2 // 4), W/2, W")


def _timm_resnet(m: Any) -> dict[str, Any]:
    if getattr(m, "drop_rate", 0):
        raise _refuse("", f"dropout before the classifier (drop_rate={m.drop_rate}); the explorer's head has none")
    conv1 = _child(m, "", "conv1")
    if _is(conv1, "Sequential"):
        parts = list(conv1.children())
        if len(parts) != 7:
            raise _refuse("conv1", f"a deep stem of {len(parts)} layers; timm's has conv, norm, act × 2 and a conv")
        a = _conv(parts[0], "conv1.0", 3, stride=2)
        b = _conv(parts[3], "conv1.3", 3, stride=1)
        c = _conv(parts[6], "conv1.6", 3, stride=1)
        norms = [_norm(parts[1], "conv1.1", a.out_channels), _norm(parts[4], "conv1.4", b.out_channels)]
        _relu(parts[2], "conv1.2")
        _relu(parts[5], "conv1.5")
        if b.in_channels != a.out_channels or c.in_channels != b.out_channels:
            raise _refuse("conv1", "a deep stem whose convs do not chain")
        stem_out, stem_in = c.out_channels, a.in_channels
        stem = _deep_stem("conv1", (a.out_channels, b.out_channels, stem_out))
    else:
        _conv(conv1, "conv1", 7, stride=2)
        stem, stem_out, stem_in, norms = "imagenet", conv1.out_channels, conv1.in_channels, []
    norms.append(_norm(_child(m, "", "bn1"), "bn1", stem_out))
    _relu(_child(m, "", "act1"), "act1")
    stages = []
    for i in range(1, 5):
        layer = _child(m, "", f"layer{i}")
        blocks = []
        for j, b in enumerate(layer):
            where = f"layer{i}.{j}"
            if _cls(b) not in ("timm.models.resnet.BasicBlock", "timm.models.resnet.Bottleneck"):
                raise _refuse(where, f"a custom block {_cls(b)}; the explorer reads timm's BasicBlock and Bottleneck")
            blocks.append(_post_block(b, where, "basic" if _name(b) == "BasicBlock" else "bottleneck", timm=True))
        stages.append(blocks)
    data = _stages(stages, stem_out, "")
    pool = _child(m, "", "maxpool")
    if _is(pool, "AvgPool2d"):  # what aa_layer=nn.AvgPool2d makes of timm's stem max pool
        _avg_pool(pool, "maxpool", ceil_mode=False, count_include_pad=True)
        stem_pool = "avg"
    elif _is(pool, "Sequential"):
        parts = list(pool.children())
        if len(parts) == 4 and _is(parts[1], "AvgPool2d"):
            raise _refuse("maxpool", "replace_stem_pool with anti-aliasing (timm runs the stem conv at stride 1 and "
                          "pools after it); the explorer's conv stem pool is a stride-2 conv")
        if len(parts) != 3:
            raise _refuse("maxpool", f"a stem pool of {len(parts)} layers; the conv stem pool is conv, norm, act")
        _conv(parts[0], "maxpool.0", 3, stride=2)
        if parts[0].in_channels != stem_out or parts[0].out_channels != stem_out:
            raise _refuse("maxpool.0", "a stem pool conv that changes the channels")
        norms.append(_norm(parts[1], "maxpool.1", stem_out))
        _relu(parts[2], "maxpool.2")
        stem_pool = "conv"
    else:
        stem_pool = _max_pool(pool, "maxpool")
    data["norm"] = _one(norms + [data["norm"]], "", "norm")
    gp = _child(m, "", "global_pool")
    if getattr(gp, "pool_type", None) != "avg":
        raise _refuse("global_pool", f"global pool {getattr(gp, 'pool_type', _name(gp))!r}; the explorer averages")
    data.update(stem=stem, stem_width=stem_out, stem_pool=stem_pool, order="post", zero_init=True,
                input_size=[stem_in, *default_input_size("imagenet")[1:]],
                num_classes=_linear_head(_child(m, "", "fc"), "fc", stages[-1][-1].c_out))
    return data


def _timm_resnetv2(m: Any) -> dict[str, Any]:
    stem_m = _child(m, "", "stem")
    names = [n for n, _ in stem_m.named_children()]
    norms = []
    if names == ["conv", "pool"]:
        conv = _conv(stem_m.conv, "stem.conv", 7, stride=2)
        stem, stem_out, stem_in = "imagenet", conv.out_channels, conv.in_channels
    elif names == ["conv1", "norm1", "conv2", "norm2", "conv3", "pool"]:
        a = _conv(stem_m.conv1, "stem.conv1", 3, stride=2)
        b = _conv(stem_m.conv2, "stem.conv2", 3, stride=1)
        c = _conv(stem_m.conv3, "stem.conv3", 3, stride=1)
        norms += [_norm(stem_m.norm1, "stem.norm1", a.out_channels), _norm(stem_m.norm2, "stem.norm2", b.out_channels)]
        stem_out, stem_in = c.out_channels, a.in_channels
        stem = _deep_stem("stem", (a.out_channels, b.out_channels, stem_out))
    else:
        raise _refuse("stem", f"a stem of {', '.join(names)} (preact=False, or a 'fixed'/'same' padded stem); the "
                      "explorer reads timm's pre-activation stems")
    stem_pool = _max_pool(stem_m.pool, "stem.pool")
    stages = []
    for i, stage in enumerate(_child(m, "", "stages")):
        blocks = [_pre_block(b, f"stages.{i}.blocks.{j}") for j, b in enumerate(stage.blocks)]
        stages.append(blocks)
    # ResNetV2 projects on the first block of every stage; the spec projects where the shape changes
    data = _stages(stages, stem_out, "")
    c_last = stages[-1][-1].c_out
    data["norm"] = _one(norms + [data["norm"], _norm(_child(m, "", "norm"), "norm", c_last)], "", "norm")
    head = _child(m, "", "head")
    if getattr(head.global_pool, "pool_type", None) != "avg":
        raise _refuse("head.global_pool", f"global pool {head.global_pool.pool_type!r}; the explorer averages")
    if getattr(head.drop, "p", 0):
        raise _refuse("head.drop", f"dropout p={head.drop.p} before the classifier; the explorer's head has none")
    fc = _conv(head.fc, "head.fc", 1, stride=1, bias=True)
    if fc.in_channels != c_last:
        raise _refuse("head.fc", f"takes {fc.in_channels} channels where the last stage gives {c_last}")
    data.update(stem=stem, stem_width=stem_out, stem_pool=stem_pool, order="pre", zero_init=False,
                input_size=[stem_in, *default_input_size("imagenet")[1:]], num_classes=fc.out_channels)
    return data


SENET_BLOCKS = {"timm.models.senet.SEResNetBlock": "basic", "timm.models.senet.SEResNetBottleneck": "bottleneck",
                "timm.models.senet.SEResNeXtBottleneck": "bottleneck"}


def _timm_senet(m: Any) -> dict[str, Any]:
    """timm's legacy SENet (senet.py): ``layer0`` → ``pool0`` → layers → ``global_pool`` → ``last_linear``. Its
    dropout before the classifier (``drop_rate``, 0.2 by default) is the identity in eval mode, has no parameters
    and no multiply-adds; the explorer's SENet leaves it out."""
    layer0 = _child(m, "", "layer0")
    names = [n for n, _ in layer0.named_children()]
    if names != ["conv1", "bn1", "relu1"]:
        raise _refuse("layer0", f"a stem of {', '.join(names)} (input_3x3: SENet-154's three-conv stem); the "
                      "explorer's SENet stem is one 7×7/2 conv, BN and ReLU")
    conv1 = _conv(layer0.conv1, "layer0.conv1", 7, stride=2)
    stem_out = conv1.out_channels
    norms = [_norm(layer0.bn1, "layer0.bn1", stem_out)]
    _relu(layer0.relu1, "layer0.relu1")
    pool = _child(m, "", "pool0")
    stem_pool = "none" if _is(pool, "Identity") else _max_pool(pool, "pool0")
    stages = []
    for i in range(1, 5):
        layer = _child(m, "", f"layer{i}")
        blocks = []
        for j, b in enumerate(layer):
            where = f"layer{i}.{j}"
            if _cls(b) not in SENET_BLOCKS:
                raise _refuse(where, f"a {_cls(b)} block (SENet-154's SEBottleneck, or a custom block); the explorer "
                              "reads SEResNetBlock, SEResNetBottleneck and SEResNeXtBottleneck")
            blocks.append(_post_block(b, where, SENET_BLOCKS[_cls(b)], timm=False, senet=True))
        stages.append(blocks)
    data = _stages(stages, stem_out, "", "senet")
    data["norm"] = _one(norms + [data["norm"]], "", "norm")
    gp = _child(m, "", "global_pool")
    if getattr(gp, "pool_type", None) != "avg":
        raise _refuse("global_pool", f"global pool {getattr(gp, 'pool_type', _name(gp))!r}; the explorer averages")
    data.update(stem="imagenet", stem_width=stem_out, stem_pool=stem_pool, order="post", layout="senet",
                zero_init=False, input_size=[conv1.in_channels, *default_input_size("imagenet")[1:]],
                num_classes=_linear_head(_child(m, "", "last_linear"), "last_linear", stages[-1][-1].c_out))
    return data


def _spec(data: dict[str, Any]) -> ArchSpec:
    """The ArchSpec of the fields read, named after the preset it is, if any.

    Initialization is not structure: ``zero_init`` is the library's default (timm's ResNet zero-inits each
    block's last BN, torchvision and timm's ResNetV2 do not), and a preset's structure initialized the other
    way reads back as that preset.
    """
    out = {k: v for k, v in data.items() if k not in ("se_reduction", "se_divisor") or data["attention"] == "se"}
    try:
        spec = ArchSpec.from_dict({**out, "name": "custom"})
    except SpecError as e:
        raise SpecError(FIELD, f"reads as a spec the explorer refuses ({e})") from None
    from ..core.presets import get_preset, preset_of  # presets import the spec module; keep this module's import light

    match = preset_of(spec)
    if match is None:
        match = preset_of(ArchSpec.from_dict({**spec.to_dict(), "zero_init": not spec.zero_init}))
        if match is not None:
            return get_preset(match)
    return ArchSpec.from_dict({**spec.to_dict(), "name": match or "custom"})


def from_model(module: Any) -> ArchSpec:
    """The ArchSpec that builds the same network as a torchvision or timm ResNet.

    Reads the module's structure only (never runs it, never downloads). The spec's network has the same
    parameters and state_dict keys and shapes, so ``build_model(spec).load_state_dict(module.state_dict(),
    strict=True)`` works and gives the same outputs in eval mode. Its name is the matching preset's, else
    ``"custom"``; its input size is the stem's natural one with the model's input channels. Initialization is
    not structure: ``zero_init`` is the library's default (True for timm's ResNet, else False), and a network
    that is a preset but for it reads back as that preset.

    Args:
        module: a ``torchvision.models.ResNet`` (any block, layers, groups, width_per_group, num_classes) or a
            ``timm`` ``ResNet``/``ResNetV2``/legacy ``SENet`` built with options inside the explorer's space (a
            SENet's dropout before its classifier, the identity in eval mode, is left out). It may live on the
            meta device.

    Raises:
        SpecError: (field ``"model"``) the module is not one of those, or uses something a spec cannot express
            (dilation, a custom block, drop-path, DropBlock, dropout, another norm or activation, …); the message
            names the module path and what was met there.
    """
    cls = _cls(module)
    if cls == "torchvision.models.resnet.ResNet":
        data = _torchvision(module)
    elif cls == "timm.models.resnet.ResNet":
        data = _timm_resnet(module)
    elif cls == "timm.models.resnetv2.ResNetV2":
        data = _timm_resnetv2(module)
    elif cls == "timm.models.senet.SENet":
        data = _timm_senet(module)
    else:
        raise SpecError(FIELD, f"a {cls} is not a network the explorer can read; it reads torchvision's ResNet "
                        "and timm's ResNet, ResNetV2 and legacy SENet")
    return _spec(data)


def spec_from_name(source: str) -> ArchSpec:
    """The spec of a named torchvision or timm ResNet: ``"torchvision:resnet50"``, ``"timm:resnet50d"``.

    The model is built with no weights (torchvision ``weights=None``, timm ``pretrained=False``) on the meta
    device, so nothing is downloaded or allocated, and read with :func:`from_model`; the spec takes the model's
    name.

    Raises:
        SpecError: (field ``"from"``) a malformed source, an unknown name (the message says how to list the
            valid ones), or a model :func:`from_model` refuses.
    """
    if not isinstance(source, str) or ":" not in source:
        raise SpecError(SOURCE_FIELD, f"must be 'timm:NAME' or 'torchvision:NAME', got {source!r}")
    library, _, name = source.partition(":")
    library, name = library.strip().lower(), name.strip()
    if library == "torchvision":
        model = _torchvision_model(name)
    elif library == "timm":
        model = _timm_model(name)
    else:
        raise SpecError(SOURCE_FIELD, f"unknown library {library!r}; use 'timm:NAME' or 'torchvision:NAME'")
    spec = from_model(model)
    return ArchSpec.from_dict({**spec.to_dict(), "name": name})


def torchvision_resnets() -> list[str]:
    """torchvision's model names whose builder is in its ResNet module (resnet18 … wide_resnet101_2)."""
    import torchvision

    return [n for n in torchvision.models.list_models(module=torchvision.models)
            if torchvision.models.get_model_builder(n).__module__ == "torchvision.models.resnet"]


def _torchvision_model(name: str) -> Any:
    valid = torchvision_resnets()
    if name not in valid:
        raise SpecError(SOURCE_FIELD, f"torchvision has no ResNet named {name!r}; its ResNets are {', '.join(valid)}")
    import torch
    import torchvision

    with torch.device("meta"):
        return torchvision.models.get_model(name, weights=None)


def _timm_model(name: str) -> Any:
    try:
        import timm
    except ImportError:
        raise SpecError(SOURCE_FIELD, "timm is not installed (pip install timm)") from None
    if not timm.is_model(name):
        raise SpecError(SOURCE_FIELD, f"timm has no model named {name!r}; list its ResNets with "
                        "timm.list_models('*resnet*') (or 'resnext*', 'seresne*', 'ecaresnet*')")
    import torch

    try:
        with torch.device("meta"):
            return timm.create_model(name, pretrained=False)
    except Exception as e:  # a timm model that cannot be built on meta is not one of its ResNets
        raise SpecError(SOURCE_FIELD, f"timm could not build {name!r} without weights: {e}") from None


__all__ = ["from_model", "spec_from_name", "torchvision_resnets"]
