"""ArchSpec: the declarative description of a ResNet/ResNeXt, and its JSON file format.

A spec is a frozen, hashable dataclass: edits are ``dataclasses.replace``, and the spec itself is
the cache key for everything derived from it (layer plan, analysis, built model).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

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


class SpecError(ValueError):
    """An invalid architecture spec or analysis input; the message names the field."""


@dataclass(frozen=True)
class ArchSpec:
    """A ResNet/ResNeXt architecture.

    Attributes:
        name: a label shown in tables and charts.
        block: ``"basic"`` (two 3×3 convs) or ``"bottleneck"`` (1×1 → 3×3 → 1×1).
        depths: blocks per stage, e.g. ``(3, 4, 6, 3)``.
        widths: planes per stage, e.g. ``(64, 128, 256, 512)``; a stage outputs
            ``widths[i] * expansion`` channels.
        strides: stride of each stage's first block; default 1 for the first stage, 2 after.
        expansion: output channels / planes; default 4 for bottleneck, 1 for basic.
        cardinality: C, the groups of the 3×3 conv.
        base_width: d at 64 planes (torchvision's ``width_per_group``): the 3×3 conv has
            ``int(widths[i] * base_width / 64) * cardinality`` channels.
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
        _check_str(self.name, "name")
        if not 1 <= len(self.name) <= 100:
            raise SpecError(f"name: must be 1 to 100 characters, got {len(self.name)}")
        check_choice(self.block, "block", BLOCKS)
        check_choice(self.form, "form", FORMS)
        check_choice(self.stem, "stem", STEMS)
        check_choice(self.downsample_on, "downsample_on", DOWNSAMPLE_ON)
        check_choice(self.shortcut, "shortcut", SHORTCUTS)
        depths = _int_tuple(self.depths, "depths", 1, MAX_DEPTH)
        if not 1 <= len(depths) <= MAX_STAGES:
            raise SpecError(f"depths: needs 1 to {MAX_STAGES} stages, got {len(depths)}")
        widths = _int_tuple(self.widths, "widths", 1, MAX_WIDTH)
        if len(widths) != len(depths):
            raise SpecError(
                f"widths: needs one width per stage ({len(depths)} stages in depths), "
                f"got {len(widths)}"
            )
        if self.strides is None:
            strides = (1,) + (2,) * (len(depths) - 1)
        else:
            strides = _int_tuple(self.strides, "strides", 1, MAX_STRIDE)
            if len(strides) != len(depths):
                raise SpecError(
                    f"strides: needs one stride per stage ({len(depths)} stages), got {len(strides)}"
                )
        default_expansion = 4 if self.block == "bottleneck" else 1
        expansion = default_expansion if self.expansion is None else self.expansion
        check_int(expansion, "expansion", 1, 64)
        check_int(self.cardinality, "cardinality", 1, MAX_GROUPS)
        check_int(self.base_width, "base_width", 1, MAX_GROUPS)
        stem_width = self.stem_width
        if stem_width is None:
            stem_width = 64 if self.stem == "imagenet" else 16
        check_int(stem_width, "stem_width", 1, MAX_WIDTH)
        check_int(self.num_classes, "num_classes", 1, MAX_CLASSES)
        input_size = self.input_size
        if input_size is None:
            input_size = (3, 224, 224) if self.stem == "imagenet" else (3, 32, 32)
        input_size = check_input_size(input_size)

        if self.block == "basic":
            # torchvision's BasicBlock has the same restriction; ResNeXt Fig. 4 explains why:
            # grouping a two-layer block only gives a wide dense module.
            if expansion != 1:
                raise SpecError(f"expansion: a basic block has expansion 1, got {expansion}")
            if self.cardinality != 1 or self.base_width != 64:
                raise SpecError(
                    "cardinality: a basic block supports only cardinality 1 and base_width 64 "
                    "(grouping a two-layer block gives a wide dense module, ResNeXt Fig. 4); "
                    "use block 'bottleneck' for ResNeXt"
                )
            if self.form != "c":
                raise SpecError("form: forms 'a' and 'b' exist only for bottleneck blocks")
        for i, w in enumerate(widths):
            if w * self.base_width // 64 < 1:
                raise SpecError(
                    f"base_width: widths[{i}]={w} with base_width={self.base_width} gives a "
                    f"3x3 conv of int({w}*{self.base_width}/64)=0 channels per group; "
                    "raise base_width or the width"
                )
        if self.shortcut == "A":
            channels = [stem_width] + [w * expansion for w in widths]
            for i in range(len(widths)):
                if channels[i + 1] < channels[i]:
                    raise SpecError(
                        f"shortcut: option 'A' zero-pads channels, so it cannot shrink them "
                        f"(stage {i + 1} goes from {channels[i]} to {channels[i + 1]}); use 'B'"
                    )
        for name, value in (
            ("depths", depths),
            ("widths", widths),
            ("strides", strides),
            ("expansion", expansion),
            ("stem_width", stem_width),
            ("input_size", input_size),
        ):
            object.__setattr__(self, name, value)

    # --- derived quantities -------------------------------------------------------------
    @property
    def stage_channels(self) -> tuple[int, ...]:
        """Output channels of each stage."""
        return tuple(w * self.expansion for w in self.widths)

    def group_width(self, stage: int) -> int:
        """Channels of the 3×3 conv of a stage (torchvision's width rule)."""
        return int(self.widths[stage] * self.base_width / 64) * self.cardinality

    def edit(self, **changes: Any) -> ArchSpec:
        """A changed copy whose derived defaults follow the change (``dataclasses.replace`` keeps them).

        Unless given too: new ``depths`` of another length re-derive ``strides``; a new ``block``
        re-derives ``expansion`` (and resets cardinality and base width for a basic block); a new
        ``stem`` re-derives ``stem_width`` and ``input_size``.
        """
        data = {**self.to_dict(), **changes}
        if "depths" in changes and "strides" not in changes and len(changes["depths"]) != len(self.depths):
            data["strides"] = None
        if "block" in changes and "expansion" not in changes:
            data["expansion"] = None
            if changes["block"] == "basic":
                data.update({k: v for k, v in (("cardinality", 1), ("base_width", 64), ("form", "c"))
                             if k not in changes})
        if "stem" in changes:
            data.update({k: None for k in ("stem_width", "input_size") if k not in changes})
        return ArchSpec.from_dict(data)

    # --- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values, every field resolved (defaults filled in)."""
        d = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, data: Any) -> ArchSpec:
        """Validate plain JSON values; unknown keys and wrong types are ``SpecError``s."""
        if not isinstance(data, dict):
            raise SpecError(f"spec: must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise SpecError(f"{unknown[0] or repr(unknown[0])}: unknown field; valid fields are {', '.join(sorted(known))}")
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key in ("depths", "widths", "strides", "input_size"):
                if value is None and key in ("strides", "input_size"):
                    continue
                if key == "input_size":
                    value = check_input_size(value)  # one message for every malformed input size
                elif not isinstance(value, (list, tuple)):
                    raise SpecError(f"{key}: must be a list of integers, got {_describe(value)}")
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
            raise SpecError(f"spec: not valid JSON ({e})") from None
        return cls.from_dict(data)


def check_input_size(value: Any) -> tuple[int, int, int]:
    """Validate a ``(channels, height, width)`` input size."""
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise SpecError(f"input_size: must be [channels, height, width], got {_describe(value)}")
    c, h, w = (check_int(v, "input_size", 1, MAX_SIDE) for v in value)
    if c > MAX_CHANNELS_IN:
        raise SpecError(f"input_size: at most {MAX_CHANNELS_IN} input channels, got {c}")
    return (c, h, w)


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'…' if len(text) > 40 else ''}"


def _check_str(value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise SpecError(f"{name}: must be a string, got {_describe(value)}")


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> None:
    """One of the allowed strings, or a SpecError naming the field and listing them."""
    if not isinstance(value, str) or value not in choices:
        raise SpecError(f"{name}: must be one of {', '.join(repr(c) for c in choices)}; got {_describe(value)}")


def check_int(value: Any, name: str, low: int, high: int) -> int:
    """An integer (not a bool, not a float) in [low, high], or a SpecError naming the field."""
    # bool is an int subclass, and floats like 64.0 are a sign of a wrong file: reject both.
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            raise SpecError(f"{name}: must be a whole number without a decimal point, got {value!r}")
        raise SpecError(f"{name}: must be an integer, got {_describe(value)}")
    if not low <= value <= high:
        raise SpecError(f"{name}: must be between {low} and {high}, got {value}")
    return value


def _int_tuple(value: Any, name: str, low: int, high: int) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)):
        raise SpecError(f"{name}: must be a list of integers, got {_describe(value)}")
    for i, v in enumerate(value):
        check_int(v, f"{name}[{i}]", low, high)
    return tuple(value)
