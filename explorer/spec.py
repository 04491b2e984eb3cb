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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SpecError
from .fields import Field, check_printable, describe

BLOCKS = ("basic", "bottleneck")
STEMS = ("imagenet", "cifar")
DOWNSAMPLE_ON = ("3x3", "1x1")
SHORTCUTS = ("B", "A", "C", "none")
FORMS = ("c", "a", "b")

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
    Field("stem", "Stem", "imagenet: 7×7/2 conv + 3×3/2 max pool; cifar: 3×3/1 conv, no pool", "choice",
          choices=STEMS),
    Field("stem_width", "Stem width", "channels out of the stem", "int", 1, MAX_WIDTH),
    Field("downsample_on", "Stride on", "bottleneck only: 3x3 is torchvision's 'V1.5' and the ResNeXt paper; "
          "1x1 is the ResNet paper. Same parameters, different MACs", "choice", choices=DOWNSAMPLE_ON),
    Field("shortcut", "Shortcut", "how a block's input reaches its sum: B, a 1×1 projection + BN where the shape "
          "changes, the identity elsewhere (torchvision); A, parameter-free subsampling and zero padding (the CIFAR "
          "ResNets); C, a projection on every block; none, no shortcut (a plain network)", "choice", choices=SHORTCUTS,
          choice_labels=("B — projection where needed", "A — zero-pad (CIFAR)", "C — projection everywhere",
                         "none — plain network")),
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
    return 64 if stem == "imagenet" else 16


def default_input_size(stem: str) -> tuple[int, int, int]:
    return (3, 224, 224) if stem == "imagenet" else (3, 32, 32)


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
        stem_width: channels out of the stem; default 64 (imagenet) or 16 (cifar).
        downsample_on: in a bottleneck, which conv carries the stride: ``"3x3"`` (torchvision
            "V1.5", the ResNeXt paper) or ``"1x1"`` (the ResNet paper). Basic blocks always put it
            on their first 3×3.
        shortcut: ``"B"`` projection where the shape changes, identity elsewhere; ``"A"``
            parameter-free subsampling + zero padding; ``"C"`` projection on every block;
            ``"none"`` no shortcut (a plain network).
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
    downsample_on: str = "3x3"
    shortcut: str = "B"
    num_classes: int = 1000
    input_size: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        f = SPEC_FIELDS
        for key in ("name", "block", "form", "stem", "downsample_on", "shortcut", "cardinality", "base_width",
                    "num_classes"):
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
        input_size = check_input_size(default_input_size(self.stem) if self.input_size is None else self.input_size)
        _check_combination(self, widths, expansion, stem_width)
        for name, value in (("depths", depths), ("widths", widths), ("strides", strides), ("expansion", expansion),
                            ("stem_width", stem_width), ("input_size", input_size)):
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
    for i, w in enumerate(widths):
        if spec.block == "bottleneck" and w * spec.base_width // 64 < 1:
            raise SpecError("base_width", f"stage {i + 1}'s width {w} × d {spec.base_width} ÷ 64 rounds down to 0 "
                            "channels per group; raise d or that stage's width")
    if spec.shortcut == "A":
        channels = [stem_width] + [w * expansion for w in widths]
        for i in range(len(widths)):
            if channels[i + 1] < channels[i]:
                raise SpecError("shortcut", f"option A zero-pads channels, so it cannot shrink them (stage {i + 1} "
                                f"goes from {channels[i]} to {channels[i + 1]} channels); use B")


def _printable(text: str) -> bool:
    try:
        check_printable(text, "key")
    except SpecError:
        return False
    return True


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
    - ``stem``: ``input_size`` takes the stem's default (224² or 32²); the stem width stays, so a
      valid spec stays valid (ResNet-18 with the CIFAR stem is the usual 64-channel CIFAR ResNet-18);
    - any change: a name given after a preset follows the architecture (``presets.follow_name``): the
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
    for key in ("depths", "widths", "strides", "input_size"):
        if isinstance(out.get(key), tuple):
            out[key] = list(out[key])
    if "name" not in changes:
        from .presets import follow_name  # presets import this module

        try:
            spec: ArchSpec | None = ArchSpec.from_dict({**out, "name": "custom"})
        except SpecError:
            spec = None
        out["name"] = follow_name(out.get("name"), spec)
    return out


__all__ = [
    "BLOCKS", "DOWNSAMPLE_ON", "FORMS", "SHORTCUTS", "SPEC_FIELDS", "STEMS", "ArchSpec", "SpecError",
    "check_input_size", "default_expansion", "default_input_size", "default_stem_width", "default_strides",
    "edit_data", "group_width", "resize_stages",
]
