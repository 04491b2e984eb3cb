"""ArchSpec: the declarative description of a ResNet/ResNeXt, its field schema and its JSON file format.

A spec is a frozen, hashable dataclass and the cache key for everything derived from it (layer plan,
analysis, built model). Three things live here and nowhere else:

- ``SPEC_FIELDS``: every field's type, bounds, label and help, read by validation, the app's widgets,
  links and the CLI;
- the derived defaults (``default_strides``, ``default_expansion``, ``default_stem_width``,
  ``default_input_size``) and the torchvision width rule (``group_width``);
- ``edit_data`` / ``ArchSpec.edit``: the one rule for which fields follow a change.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SpecError
from .fields import Field, check_printable, describe

BLOCKS = ("basic", "bottleneck")
STEMS = ("imagenet", "cifar", "deep", "tiered")
STEM_POOLS = ("max", "conv", "avg", "none", "max_ceil")
DOWNSAMPLE_ON = ("3x3", "1x1")
SHORTCUTS = ("B", "A", "C", "D", "none")
FORMS = ("c", "a", "b")
ATTENTIONS = ("none", "se", "eca")
ORDERS = ("post", "pre")
NORMS = ("bn", "gn")
LAYOUTS = ("timm", "senet")
GN_GROUPS = 32  # timm's GroupNorm (resnet50_gn) and Wu & He 2018

# Bounds keep every spec analysable and JSON sane; they are far above any published network.
MAX_STAGES = 8
MAX_DEPTH = 1000
MAX_WIDTH = 16384
MAX_GROUPS = 4096
MAX_CLASSES = 100_000
MAX_SIDE = 4096
MAX_CHANNELS_IN = 64
MAX_STRIDE = 4
MAX_EXPANSION = 64

SPEC_FIELDS: dict[str, Field] = {f.key: f for f in (
    Field("name", "Name", "a label for tables, charts and file names", "text", 1, 100),
    Field("block", "Block", "basic: two 3×3 convs; bottleneck: 1×1 reduce → 3×3 → 1×1 expand", "choice",
          choices=BLOCKS),
    Field("depths", "Depth", "blocks in the stage", "ints", 1, MAX_DEPTH, per_stage=True),
    Field("widths", "Width", "planes of the stage; a bottleneck stage outputs width × expansion channels",
          "ints", 1, MAX_WIDTH, per_stage=True),
    Field("strides", "Stride", "stride of the stage's first block", "ints", 1, MAX_STRIDE, per_stage=True),
    Field("expansion", "Expansion", "output channels ÷ planes (4 in ResNet-50; a basic block has 1)", "int", 1,
          MAX_EXPANSION),
    Field("cardinality", "Cardinality C", "groups of the 3×3 conv: the number of paths (ResNeXt)", "int", 1,
          MAX_GROUPS),
    Field("base_width", "Width d", "channels per group at 64 planes (torchvision's width_per_group): the 3×3 "
          "has int(width × d / 64) × C channels", "int", 1, MAX_GROUPS),
    Field("form", "Form (ResNeXt Fig. 3)", "three forms of one function, with the same params and MACs",
          "choice", choices=FORMS, choice_labels=("c — grouped conv", "a — C paths, summed",
                                                  "b — C paths, concatenated")),
    Field("stem", "Stem", "the first layers: one 7×7/2 conv (ImageNet), one 3×3/1 conv (CIFAR), or three 3×3 "
          "convs, the first /2 (timm's deep stem of ResNet-C/D/S, Bag of Tricks §4.2: the same receptive field "
          "for a little more compute; tiered: 3/8, 1/2 and all of the stem width)", "choice", choices=STEMS,
          choice_labels=("imagenet — 7×7/2", "cifar — 3×3/1", "deep — 3×3 ×3 (C, D, S)", "tiered — 3×3 ×3 (T)")),
    Field("stem_width", "Stem width", "channels out of the stem (a deep stem's first two convs have half as many, "
          "which timm calls its stem_width)", "int", 1, MAX_WIDTH),
    Field("stem_pool", "Stem pool", "how the stem halves the resolution after its convs: a 3×3/2 max pool, a "
          "3×3/2 conv + BN + ReLU (ResNet-RS), a 2×2/2 average pool (timm's anti-aliased ResNets), none "
          "(CIFAR), or the 3×3/2 max pool without padding in ceil mode (the original SENet's, kept for its Caffe "
          "weights: the same 56×56 at 224, but an odd side such as 49 gives 24 where the padded pool gives 25)",
          "choice", choices=STEM_POOLS,
          choice_labels=("max — 3×3/2 max pool", "conv — 3×3/2 conv (RS)", "avg — 2×2/2 average pool", "none",
                         "max_ceil — 3×3/2 max pool, no padding, ceil mode (SENet)")),
    Field("downsample_on", "Stride on", "bottleneck only: 3x3 is torchvision's 'V1.5' and the ResNeXt paper; "
          "1x1 is the ResNet paper. Same parameters, different MACs", "choice", choices=DOWNSAMPLE_ON),
    Field("shortcut", "Shortcut", "how a block's input reaches its sum: B, a 1×1 projection + BN where the shape "
          "changes, the identity elsewhere (torchvision); A, parameter-free subsampling and zero padding (the CIFAR "
          "ResNets); C, a projection on every block; D, a 2×2 average pool then a 1×1 conv + BN where the shape "
          "changes (ResNet-D, Bag of Tricks §4.3: the 1×1/2 of B ignores 3/4 of its input); none, no shortcut (a "
          "plain network)", "choice", choices=SHORTCUTS,
          choice_labels=("B — projection where needed", "A — zero-pad (CIFAR)", "C — projection everywhere",
                         "D — average pool + projection", "none — plain network")),
    Field("order", "Block order", "post: conv → BN → ReLU, the add, then a ReLU (ResNet, 2015); pre: BN → ReLU → "
          "conv, nothing after the add, so the shortcut is a clean identity path, and one BN + ReLU before the head "
          "(He et al. 2016, Identity Mappings; timm's ResNetV2, in its layout: stem, stages.N.blocks.M, head.fc)",
          "choice", choices=ORDERS, choice_labels=("post-activation (ResNet v1)", "pre-activation (ResNet v2)")),
    Field("attention", "Attention", "a channel gate at the end of each residual branch, before the add: SE "
          "(squeeze-and-excitation, Hu et al. 2018: global pool → 1×1 down → ReLU → 1×1 up → sigmoid, times the "
          "branch) or ECA (Wang et al. 2020: one 1-D conv across the channels instead of the two 1×1s)", "choice",
          choices=ATTENTIONS, choice_labels=("none", "SE — squeeze-and-excitation", "ECA — efficient channel attention")),
    Field("se_reduction", "SE reduction", "SE's bottleneck: channels ÷ reduction, rounded to the SE divisor "
          "(timm's make_divisible); 16 in SENet, 4 in ResNet-RS", "int", 1, 1024),
    Field("se_divisor", "SE divisor", "SE's channels are rounded to the nearest multiple of this (timm: 8); "
          "the SENet layout rounds down instead (channels // reduction, the original SENet's code) and does not "
          "use it", "int", 1, 64),
    Field("aa", "Anti-aliasing", "each strided 3×3 runs at stride 1 and a 2×2/2 average pool follows it (timm's "
          "resnetaa: blur before subsampling, Zhang 2019)", "bool"),
    Field("norm", "Normalization", "BN: batch norm; GN: group norm with 32 groups (timm's resnet50_gn; no "
          "dependence on the batch size)", "choice", choices=NORMS,
          choice_labels=("BN — batch norm", "GN — group norm, 32 groups")),
    Field("layout", "Module names", "which library's module names the network has, so its weights load: timm's "
          "ResNet (= torchvision's state_dict; pre-activation in timm's ResNetV2 names), or timm's legacy SENet "
          "(layer0, pool0, se_module, last_linear; SE's width channels // reduction, rounded down; its stem pool "
          "the ceil-mode max pool by default)", "choice", choices=LAYOUTS,
          choice_labels=("timm — ResNet / ResNetV2 (and torchvision)", "senet — timm's legacy SENet")),
    Field("zero_init", "Zero-init last norm", "start each residual branch's last norm at γ = 0, so every block "
          "starts as the identity (Goyal et al. 2017; timm's default). Changes no count", "bool"),
    Field("num_classes", "Classes", "outputs of the final fully connected layer", "int", 1, MAX_CLASSES),
    Field("input_size", "Input size", "channels × height × width of one image", "ints", 1, MAX_SIDE),
)}


# --- derived defaults: each rule once ---------------------------------------------------------
def default_strides(stages: int) -> tuple[int, ...]:
    """1 for the first stage (the stem has downsampled), 2 for each later one (ResNet Table 1)."""
    return (1,) + (2,) * (stages - 1)


def default_expansion(block: str) -> int:
    return 4 if block == "bottleneck" else 1


def default_stem_width(stem: str) -> int:
    return 16 if stem == "cifar" else 64


def default_stem_pool(stem: str, layout: str = "timm") -> str:
    """The CIFAR stem keeps the resolution (32×32 is small already); every ImageNet stem max-pools, the SENet
    layout's without padding in ceil mode (its ``pool0``)."""
    if stem == "cifar":
        return "none"
    return "max_ceil" if layout == "senet" else "max"


def default_input_size(stem: str) -> tuple[int, int, int]:
    return (3, 32, 32) if stem == "cifar" else (3, 224, 224)


def deep_stem_widths(stem: str, stem_width: int) -> tuple[int, int]:
    """Channels of a deep stem's first two 3×3 convs (its third outputs ``stem_width``): timm's ``stem_width``
    is half ours, and its tiered stem starts at 3 × (that // 4)."""
    half = stem_width // 2
    return (3 * (half // 4), half) if stem == "tiered" else (half, half)


def make_divisible(v: float, divisor: int, round_limit: float = 0.0) -> int:
    """timm's ``make_divisible`` as its SE module calls it: the nearest multiple of ``divisor``, at least one."""
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < round_limit * v else new


def se_channels(channels: int, reduction: int, divisor: int, layout: str = "timm") -> int:
    """Channels of the SE bottleneck of a ``channels``-channel block: timm's ``make_divisible(channels * rd_ratio,
    d)`` with ``rd_ratio = 1 / r``, in its float arithmetic (``C * (1 / r)`` and ``C / r`` round apart, e.g. at
    C = 588, r = 49); in the SENet layout ``channels // r``, rounded down with no divisor (timm's senet.py
    ``SEModule``, Hu et al.'s code: 64 // 16 = 4 where make_divisible gives 8, 200 // 16 = 12 where it gives 16)."""
    if layout == "senet":
        return channels // reduction
    return make_divisible(channels * (1 / reduction), divisor)


def eca_kernel(channels: int, gamma: int = 2, beta: int = 1) -> int:
    """ECA's 1-D kernel for ``channels`` (Wang et al. 2020, Eq. 12, as timm computes it): the odd
    ``|log2(C) + b| / γ``, at least 3."""
    t = int(abs(math.log(channels, 2) + beta) / gamma)
    return max(t if t % 2 else t + 1, 3)


def group_width(width: int, base_width: int, cardinality: int) -> int:
    """Channels of a bottleneck's 3×3 conv: torchvision's ``int(planes * width_per_group / 64) * groups``."""
    return int(width * base_width / 64) * cardinality


@dataclass(frozen=True)
class ArchSpec:
    """A ResNet/ResNeXt architecture (every field is described in ``SPEC_FIELDS``).

    Attributes:
        name: a label shown in tables and charts.
        block: ``"basic"`` (two 3×3 convs) or ``"bottleneck"`` (1×1 → 3×3 → 1×1).
        depths: blocks per stage, e.g. ``(3, 4, 6, 3)``.
        widths: planes per stage, e.g. ``(64, 128, 256, 512)``; a stage outputs
            ``widths[i] * expansion`` channels.
        strides: stride of each stage's first block; default 1 for the first stage, 2 after.
        expansion: output channels / planes; default 4 for bottleneck, 1 for basic.
        cardinality: C, the groups of the 3×3 conv.
        base_width: d at 64 planes (torchvision's ``width_per_group``); see :func:`group_width`.
        form: how a bottleneck computes its grouped 3×3 (ResNeXt Fig. 3): ``"c"`` grouped conv,
            ``"a"`` C parallel paths summed, ``"b"`` C paths concatenated before one 1×1.
        stem: ``"imagenet"`` (7×7/2 conv + 3×3/2 max pool) or ``"cifar"`` (3×3/1 conv, no pool).
        stem: also ``"deep"`` (three 3×3 convs, the first /2: timm's C/D/S stems) or ``"tiered"`` (the same,
            3/8, 1/2 and all of ``stem_width`` wide: timm's T).
        stem_width: channels out of the stem; default 64 (16 for cifar).
        stem_pool: ``"max"`` (3×3/2; default, ``"none"`` for cifar), ``"conv"`` (3×3/2 conv + BN + ReLU,
            ResNet-RS), ``"avg"`` (2×2/2 average pool, timm's anti-aliased ResNets), ``"none"``, or ``"max_ceil"``
            (3×3/2 without padding, ceil mode: SENet's ``pool0``, the default of the SENet layout).
        downsample_on: in a bottleneck, which conv carries the stride: ``"3x3"`` (torchvision
            "V1.5", the ResNeXt paper) or ``"1x1"`` (the ResNet paper). Basic blocks always put it
            on their first 3×3.
        shortcut: ``"B"`` projection where the shape changes, identity elsewhere; ``"A"``
            parameter-free subsampling + zero padding; ``"C"`` projection on every block;
            ``"D"`` a 2×2 average pool, then a 1×1 projection, where the shape changes (ResNet-D);
            ``"none"`` no shortcut (a plain network).
        order: ``"post"`` (post-activation, ResNet v1) or ``"pre"`` (pre-activation, ResNet v2: BN → ReLU →
            conv, a projection shortcut from the pre-activated input and without a norm, a final BN + ReLU; named
            in timm's ResNetV2 layout).
        attention: ``"none"``, ``"se"`` (squeeze-and-excitation with ``se_reduction`` and ``se_divisor``, as
            timm rounds it) or ``"eca"``, at the end of each residual branch.
        aa: anti-aliasing: a strided 3×3 runs at stride 1 and a 2×2/2 average pool follows it.
        norm: ``"bn"`` (batch norm) or ``"gn"`` (group norm, 32 groups), everywhere.
        layout: the module names: ``"timm"`` (timm's ResNet, which are torchvision's, or its ResNetV2 for
            pre-activation) or ``"senet"`` (timm's legacy SENet: ``layer0``, ``pool0``, ``se_module``,
            ``global_pool``, ``last_linear``; SE's width rounded down, :func:`se_channels`).
        zero_init: the last norm of each residual branch starts at γ = 0 (no count changes).
        num_classes: outputs of the final fully connected layer.
        input_size: the natural input ``(channels, height, width)``; default 3×224×224 for the
            imagenet stem, 3×32×32 for the cifar stem.
    """

    name: str = "custom"
    block: str = "bottleneck"
    depths: tuple[int, ...] = (3, 4, 6, 3)
    widths: tuple[int, ...] = (64, 128, 256, 512)
    strides: tuple[int, ...] | None = None
    expansion: int | None = None
    cardinality: int = 1
    base_width: int = 64
    form: str = "c"
    stem: str = "imagenet"
    stem_width: int | None = None
    stem_pool: str | None = None
    downsample_on: str = "3x3"
    shortcut: str = "B"
    order: str = "post"
    attention: str = "none"
    se_reduction: int = 16
    se_divisor: int = 8
    aa: bool = False
    norm: str = "bn"
    layout: str = "timm"
    zero_init: bool = False
    num_classes: int = 1000
    input_size: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        f = SPEC_FIELDS
        for key in ("name", "block", "form", "stem", "downsample_on", "shortcut", "cardinality", "base_width",
                    "num_classes", "order", "attention", "se_reduction", "se_divisor", "aa", "norm", "layout",
                    "zero_init"):
            f[key].check(getattr(self, key))
        depths = f["depths"].check_list(self.depths)
        if not 1 <= len(depths) <= MAX_STAGES:
            raise SpecError("depths", f"needs 1 to {MAX_STAGES} stages, got {len(depths)}")
        widths = f["widths"].check_list(self.widths)
        if len(widths) != len(depths):
            raise SpecError("widths", f"needs one width per stage ({len(depths)} stages), got {len(widths)}")
        strides = default_strides(len(depths)) if self.strides is None else f["strides"].check_list(self.strides)
        if len(strides) != len(depths):
            raise SpecError("strides", f"needs one stride per stage ({len(depths)} stages), got {len(strides)}")
        expansion = f["expansion"].check(default_expansion(self.block) if self.expansion is None else self.expansion)
        stem_width = f["stem_width"].check(default_stem_width(self.stem) if self.stem_width is None
                                           else self.stem_width)
        stem_pool = f["stem_pool"].check(default_stem_pool(self.stem, self.layout) if self.stem_pool is None
                                         else self.stem_pool)
        input_size = check_input_size(default_input_size(self.stem) if self.input_size is None else self.input_size)
        _check_combination(self, widths, expansion, stem_width)
        for name, value in (("depths", depths), ("widths", widths), ("strides", strides), ("expansion", expansion),
                            ("stem_width", stem_width), ("stem_pool", stem_pool), ("input_size", input_size)):
            object.__setattr__(self, name, value)

    # --- derived quantities -------------------------------------------------------------
    @property
    def stage_channels(self) -> tuple[int, ...]:
        """Output channels of each stage."""
        return tuple(w * self.expansion for w in self.widths)

    def group_width(self, stage: int) -> int:
        """Channels of the 3×3 conv of a bottleneck stage (:func:`group_width`)."""
        return group_width(self.widths[stage], self.base_width, self.cardinality)

    def edit(self, **changes: Any) -> ArchSpec:
        """A changed copy whose derived fields follow the change (see :func:`edit_data`)."""
        return ArchSpec.from_dict(edit_data(self.to_dict(), changes))

    # --- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values, every field resolved (defaults filled in)."""
        d = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, data: Any) -> ArchSpec:
        """Validate plain JSON values; unknown keys and wrong types are ``SpecError``s."""
        if not isinstance(data, dict):
            raise SpecError("spec", f"must be a JSON object, got {type(data).__name__}")
        unknown = sorted(str(k) for k in data if k not in SPEC_FIELDS)
        if unknown:  # the key is named as written only when it is short, printable text
            key = unknown[0] if 0 < len(unknown[0]) <= 40 and _printable(unknown[0]) else ascii(unknown[0][:40])
            raise SpecError(key, f"unknown field; valid fields are {', '.join(sorted(SPEC_FIELDS))}")
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if SPEC_FIELDS[key].kind == "ints":
                if value is None and key in ("strides", "input_size"):
                    continue
                if key == "input_size":
                    value = check_input_size(value)  # one message for every malformed input size
                elif not isinstance(value, (list, tuple)):
                    raise SpecError(key, f"must be a list of integers, got {describe(value)}")
                value = tuple(value)
            kwargs[key] = value
        return cls(**kwargs)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str | bytes) -> ArchSpec:
        """Parse a JSON spec; malformed JSON is a ``SpecError`` too."""
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as e:  # JSONDecodeError, bad UTF-8, absurd nesting
            raise SpecError("spec", f"not valid JSON ({e})") from None
        return cls.from_dict(data)


def _check_combination(spec: ArchSpec, widths: tuple[int, ...], expansion: int, stem_width: int) -> None:
    """Rules between fields; messages name the field to change, in words a person sees in the editor."""
    if spec.block == "basic":
        # torchvision's BasicBlock has the same restriction; ResNeXt Fig. 4 explains why:
        # grouping a two-layer block only gives a wide dense module.
        if expansion != 1:
            raise SpecError("expansion", f"a basic block has expansion 1, got {expansion}")
        if spec.cardinality != 1 or spec.base_width != 64:
            raise SpecError("cardinality", "a basic block has only C = 1 and d = 64 (grouping a two-layer block "
                            "gives a wide dense module, ResNeXt Fig. 4); choose the bottleneck block for ResNeXt")
        if spec.form != "c":
            raise SpecError("form", "forms a and b exist only for bottleneck blocks")
    if spec.order == "pre" and (spec.form != "c" or spec.aa):
        raise SpecError("order", "pre-activation blocks are planned for form c without anti-aliasing")
    if spec.form != "c" and (spec.aa or spec.norm == "gn"):
        what = "anti-aliasing" if spec.aa else "group norm"
        raise SpecError("form", f"forms a and b split the grouped 3×3 and its batch norms into paths; {what} is "
                        "planned for form c only")
    for i, w in enumerate(widths):
        if spec.block == "bottleneck" and w * spec.base_width // 64 < 1:
            raise SpecError("base_width", f"stage {i + 1}'s width {w} × d {spec.base_width} ÷ 64 rounds down to 0 "
                            "channels per group; raise d or that stage's width")
    if spec.stem in ("deep", "tiered") and (stem_width % 2 or min(deep_stem_widths(spec.stem, stem_width)) < 1):
        raise SpecError("stem_width", f"a {spec.stem} stem needs an even width of at least "
                        f"{8 if spec.stem == 'tiered' else 2} (its first convs have a half and 3/8 of it), got "
                        f"{stem_width}")
    if spec.norm == "gn":
        for where, c in _normalized_channels(spec, widths, expansion, stem_width):
            if c % GN_GROUPS:
                raise SpecError("norm", f"group norm splits channels into {GN_GROUPS} groups, and {where} has {c} "
                                f"channels; use widths that are multiples of {GN_GROUPS}, or BN")
    if spec.layout == "senet":
        _check_senet(spec, widths, expansion)
    if spec.shortcut == "A":
        channels = [stem_width] + [w * expansion for w in widths]
        for i in range(len(widths)):
            if channels[i + 1] < channels[i]:
                raise SpecError("shortcut", f"option A zero-pads channels, so it cannot shrink them (stage {i + 1} "
                                f"goes from {channels[i]} to {channels[i + 1]} channels); use B")


def _check_senet(spec: ArchSpec, widths: tuple[int, ...], expansion: int) -> None:
    """What timm's legacy SENet layout can name: post-activation blocks of form c with SE or no gate, a stem of one
    conv (``layer0``), SE widths of at least one channel when rounded down."""
    if spec.order != "post":
        raise SpecError("layout", "the SENet layout has post-activation blocks; pre-activation networks are named "
                        "in timm's ResNetV2 layout (choose timm)")
    if spec.stem not in ("imagenet", "cifar"):
        raise SpecError("layout", f"the SENet layout's layer0 here is one conv, BN and ReLU; the {spec.stem} stem is "
                        "named in timm's ResNet layout (conv1.0 …; SENet's own three-conv stem differs: a BN and ReLU "
                        "after each conv)")
    if spec.form != "c" or spec.aa or spec.attention == "eca":
        what = ("Fig. 3 form " + spec.form) if spec.form != "c" else "anti-aliasing" if spec.aa else "ECA"
        raise SpecError("layout", f"the SENet layout has grouped-conv blocks (form c) with an SE gate or none; {what} "
                        "is named in timm's ResNet layout (choose timm)")
    if spec.attention == "se":
        for i, w in enumerate(widths):
            if w * expansion // spec.se_reduction < 1:
                raise SpecError("se_reduction", f"the SENet layout rounds SE's width down: stage {i + 1}'s "
                                f"{w * expansion} channels // {spec.se_reduction} is 0; use a reduction of at most "
                                f"{w * expansion}")


def _printable(text: str) -> bool:
    try:
        check_printable(text, "key")
    except SpecError:
        return False
    return True


def _normalized_channels(spec: ArchSpec, widths: tuple[int, ...], expansion: int,
                         stem_width: int) -> list[tuple[str, int]]:
    """Every channel count a norm sees, with where it is, in words."""
    out = [("the stem", stem_width)]
    if spec.stem in ("deep", "tiered"):
        out += [("the stem's first convs", c) for c in deep_stem_widths(spec.stem, stem_width)]
    for i, w in enumerate(widths):
        inner = w if spec.block == "basic" else group_width(w, spec.base_width, spec.cardinality)
        out += [(f"stage {i + 1}", inner), (f"stage {i + 1}'s output", w * expansion)]
    return out


def check_input_size(value: Any) -> tuple[int, int, int]:
    """Validate a ``(channels, height, width)`` input size."""
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise SpecError("input_size", f"must be [channels, height, width], got {describe(value)}")
    c, h, w = (SPEC_FIELDS["input_size"].check(v) for v in value)
    if c > MAX_CHANNELS_IN:
        raise SpecError("input_size", f"at most {MAX_CHANNELS_IN} input channels (an image's), got {c}")
    return (c, h, w)


# --- the one rule for edits -------------------------------------------------------------------
def resize_stages(values: list[Any] | tuple[Any, ...], stages: int, key: str) -> list[Any]:
    """A per-stage list cut or extended to ``stages``: a new stage copies the last one's depth, doubles its
    width (the usual pattern) and has stride 2."""
    values = list(values)[:stages]
    while values and len(values) < stages:
        last = values[-1]
        grown = {"widths": min(2 * last, MAX_WIDTH) if isinstance(last, int) else last, "strides": 2}
        values.append(grown.get(key, last))
    return values


def edit_data(data: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` (a spec dict, possibly invalid) with ``changes`` applied and the fields that follow them
    re-derived, unless they are changed too. The only place these rules live:

    - ``depths`` of another length: ``widths`` and ``strides`` are cut or extended (:func:`resize_stages`);
    - ``block``: ``expansion`` takes the block's default; a basic block resets C to 1, d to 64, form to c;
    - ``stem``: ``input_size`` and ``stem_pool`` take the stem's defaults (224² or 32²; max pool or none);
    - ``layout``: ``stem_pool`` takes the layout's default (SENet's ceil-mode max pool, or the stem's);
      the stem width stays, so a
      valid spec stays valid (ResNet-18 with the CIFAR stem is the usual 64-channel CIFAR ResNet-18);
    - any change: a name given after a preset follows the architecture (``presets.follow_name``, installed by
      :func:`set_name_rule`): the
      matching preset's name, or ``"<preset> (edited)"``; a person's own name stays.

    Works on a dict, so the app can apply it to widget values that do not form a valid spec yet;
    ``ArchSpec.edit`` applies it to a valid spec and validates the result.
    """
    out = {**data, **changes}

    def follows(key: str) -> bool:
        return key not in changes

    depths = changes.get("depths")
    if isinstance(depths, (list, tuple)) and isinstance(data.get("depths"), (list, tuple)) and \
            len(depths) != len(data["depths"]):
        for key in ("widths", "strides"):
            if follows(key) and isinstance(data.get(key), (list, tuple)):
                out[key] = resize_stages(data[key], len(depths), key)
    if "block" in changes:
        if follows("expansion"):
            out["expansion"] = default_expansion(changes["block"])
        if changes["block"] == "basic":
            out.update({k: v for k, v in (("cardinality", 1), ("base_width", 64), ("form", "c")) if follows(k)})
    if "stem" in changes and follows("input_size"):
        out["input_size"] = list(default_input_size(changes["stem"]))
    if ("stem" in changes or "layout" in changes) and follows("stem_pool"):
        layout = out.get("layout", "timm")
        out["stem_pool"] = default_stem_pool(out.get("stem", "imagenet"), layout if layout in LAYOUTS else "timm")
    for key in ("depths", "widths", "strides", "input_size"):
        if isinstance(out.get(key), tuple):
            out[key] = list(out[key])
    if "name" not in changes:
        try:
            spec: ArchSpec | None = ArchSpec.from_dict({**out, "name": "custom"})
        except SpecError:
            spec = None
        out["name"] = _name_rule(out.get("name"), spec)
    return out


def edit_draft(draft: Mapping[str, Any], valid: ArchSpec, name: str, value: Any) -> dict[str, Any]:
    """The editor's draft after the person enters ``value`` in field ``name``: the one rule for a form's entry.

    An entry invalid by itself (an empty depths box, nine stages, a width of 0 — judged on ``valid``, the last
    valid spec, changed only there) changes no other field: it goes into the draft as typed and every other field
    keeps its value, so nothing the person built is lost and typing a valid value back restores it all. Any other
    entry runs :func:`edit_data`, so the fields that follow it follow it.
    """
    try:
        ArchSpec.from_dict(edit_data(valid.to_dict(), {name: value}))
    except SpecError as e:
        if (e.field or "").split("[")[0] == name:
            return {**draft, name: value}
    return edit_data(draft, {name: value})


NameRule = Callable[[Any, "ArchSpec | None"], Any]
_name_rule: NameRule = lambda name, spec: name  # noqa: E731 -- replaced by presets.follow_name at import


def set_name_rule(rule: NameRule) -> None:
    """Install the rule an edited spec's name follows. Only :mod:`explorer.core.presets` calls this, with
    ``follow_name``: the rule needs the preset table, and the presets import this module, so this module does not
    import them (no cycle). ``import explorer`` imports the presets, so the rule is always installed."""
    global _name_rule
    _name_rule = rule


__all__ = [
    "ATTENTIONS", "LAYOUTS", "ORDERS", "BLOCKS", "DOWNSAMPLE_ON", "FORMS", "GN_GROUPS", "NORMS", "SHORTCUTS", "SPEC_FIELDS", "STEMS",
    "STEM_POOLS", "ArchSpec", "SpecError", "check_input_size", "deep_stem_widths", "default_expansion",
    "default_input_size", "default_stem_pool", "default_stem_width", "default_strides", "eca_kernel", "edit_data",
    "edit_draft", "set_name_rule",
    "group_width", "make_divisible", "resize_stages", "se_channels",
]
