"""One batch-norm layer in training and in evaluation mode, computed by hand and checked against torch.

The batch is ``N`` images of ``C`` channels, each image a 1×P map (``P`` positions). ``torch.nn.BatchNorm2d``
(Ioffe & Szegedy 2015; torch's conventions) does, per channel c, over the ``n = N·P`` values of the batch:

- training mode: ``mean_c`` and the **biased** variance ``var_c = Σ(x − mean_c)² / n`` normalize:
  ``y = (x − mean_c) / √(var_c + eps) · γ_c + β_c``; it then stores, with momentum ``m``,
  ``running_mean ← (1 − m)·running_mean + m·mean_c`` and
  ``running_var ← (1 − m)·running_var + m·var_c·n/(n − 1)``
  (the **unbiased** variance); a fresh layer starts from running_mean 0, running_var 1;
- evaluation mode: the stored statistics replace the batch's:
  ``y = (x − running_mean) / √(running_var + eps)·γ + β``,
  so each image's output no longer depends on the others.

With one value per channel (n = 1: batch size 1 and a 1×1 map) training mode has no variance to normalize with,
and torch refuses (``ValueError: Expected more than 1 value per channel when training``). Everything here runs
in float64 on the CPU, so the hand computation and torch's can be compared to the last digit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..core.errors import SpecError
from ..core.fields import Field

BN_FIELDS: dict[str, Field] = {f.key: f for f in (
    Field("value", "Value", "an input value", "float", -1e6, 1e6),
    Field("image", "Image", "which image of the batch the row belongs to (rows of one image are its positions)",
          "int", 1, 64),
    Field("gamma", "γ (scale)", "the learned scale per channel", "float", -1e3, 1e3),
    Field("beta", "β (shift)", "the learned shift per channel", "float", -1e3, 1e3),
    Field("momentum", "BN momentum", "the weight of the new batch in the running statistics (torch's 0.1)", "float",
          0.0, 1.0),
    Field("eps", "BN eps", "added to the variance before the square root (torch's 1e-5)", "float", 1e-12, 1.0),
)}

DEFAULT_ROWS = ((1, 1.0, 0.5), (2, 2.0, -1.0), (3, 3.0, 2.0), (4, 6.0, 0.0))  # (image, channel 1, channel 2)


@dataclass(frozen=True)
class BNSettings:
    """The batch: ``rows`` of ``(image, value of channel 1, …, value of channel C)``; γ, β per channel."""

    rows: tuple[tuple[float, ...], ...] = DEFAULT_ROWS
    gamma: tuple[float, ...] = (1.5, 1.0)
    beta: tuple[float, ...] = (0.0, 0.5)
    momentum: float = 0.1
    eps: float = 1e-5

    def __post_init__(self) -> None:
        f = BN_FIELDS
        if not self.rows:
            raise SpecError("value", "the batch needs at least one row")
        channels = len(self.gamma)
        if channels < 1 or len(self.beta) != channels:
            raise SpecError("beta", f"needs one β per channel ({channels}), got {len(self.beta)}")
        for i, row in enumerate(self.rows):
            if len(row) != channels + 1:
                raise SpecError("value", f"row {i + 1} needs an image and {channels} values, got {len(row) - 1}")
            f["image"].check(row[0], "image")
            for v in row[1:]:
                f["value"].check(v, "value")
        for v in self.gamma:
            f["gamma"].check(v)
        for v in self.beta:
            f["beta"].check(v)
        f["momentum"].check(self.momentum)
        f["eps"].check(self.eps)
        counts = {img: sum(1 for r in self.rows if r[0] == img) for img in self.images}
        if len(set(counts.values())) != 1:
            raise SpecError("image", "every image needs the same number of rows (positions of its map); got "
                            + ", ".join(f"image {k}: {v}" for k, v in counts.items()))

    @property
    def images(self) -> list[int]:
        return list(dict.fromkeys(int(r[0]) for r in self.rows))

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(N, C, 1, P)``."""
        n = len(self.images)
        return (n, len(self.gamma), 1, len(self.rows) // n)

    def tensor(self) -> torch.Tensor:
        """The batch as a float64 ``(N, C, 1, P)`` tensor; an image's rows are its positions, in order."""
        n, c, _, p = self.shape
        x = torch.zeros(self.shape, dtype=torch.float64)
        for i, img in enumerate(self.images):
            for j, row in enumerate(r for r in self.rows if int(r[0]) == img):
                x[i, :, 0, j] = torch.tensor(row[1:], dtype=torch.float64)
        return x


@dataclass(frozen=True)
class BNReport:
    """Per channel: the statistics by hand; the outputs by hand and by torch, in both modes, and how far apart.

    ``train_error`` is torch's message when training mode refuses the batch (then the training figures and the
    running statistics are None). Outputs are lists in the rows' order, one list per channel.
    """

    shape: tuple[int, int, int, int]
    values_per_channel: int
    mean: tuple[float, ...]
    var_biased: tuple[float, ...]
    var_unbiased: tuple[float, ...] | None
    running_mean: tuple[float, ...] | None
    running_var: tuple[float, ...] | None
    train_out: tuple[tuple[float, ...], ...] | None
    train_out_torch: tuple[tuple[float, ...], ...] | None
    eval_out: tuple[tuple[float, ...], ...]
    eval_out_torch: tuple[tuple[float, ...], ...]
    torch_running_mean: tuple[float, ...] | None
    torch_running_var: tuple[float, ...] | None
    max_diff: float
    max_ulps: float
    train_error: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def _rows(t: torch.Tensor) -> tuple[tuple[float, ...], ...]:
    """(N, C, 1, P) → one tuple per channel, values in the rows' order (image by image, position by position)."""
    return tuple(tuple(float(v) for v in t[:, c].reshape(-1)) for c in range(t.shape[1]))


def _torch_bn(s: BNSettings) -> nn.BatchNorm2d:
    bn = nn.BatchNorm2d(len(s.gamma), eps=s.eps, momentum=s.momentum).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(s.gamma, dtype=torch.float64))
        bn.bias.copy_(torch.tensor(s.beta, dtype=torch.float64))
    return bn


def batchnorm_report(s: BNSettings) -> BNReport:
    """One training step of a fresh BN layer on the batch, then evaluation mode, by hand and by torch."""
    x = s.tensor()
    n = x.shape[0] * x.shape[2] * x.shape[3]
    g = torch.tensor(s.gamma, dtype=torch.float64).view(1, -1, 1, 1)
    b = torch.tensor(s.beta, dtype=torch.float64).view(1, -1, 1, 1)
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = ((x - mean) ** 2).sum(dim=(0, 2, 3), keepdim=True) / n
    bn = _torch_bn(s)
    train_error = None
    try:
        with torch.no_grad():
            train_torch = bn(x)
    except ValueError as e:
        train_error = str(e)
    if train_error is None:
        train = (x - mean) / torch.sqrt(var + s.eps) * g + b
        unbiased = var * n / (n - 1)
        running_mean = s.momentum * mean
        running_var = (1 - s.momentum) * 1.0 + s.momentum * unbiased
    else:  # nothing was stored: the running statistics stay at 0 and 1
        train = train_torch = unbiased = None
        running_mean, running_var = torch.zeros_like(mean), torch.ones_like(var)
    evaluated = (x - running_mean) / torch.sqrt(running_var + s.eps) * g + b
    bn.eval()
    with torch.no_grad():
        eval_torch = bn(x)
    pairs = [(evaluated, eval_torch), (running_mean.flatten(), bn.running_mean),
             (running_var.flatten(), bn.running_var)]
    if train is not None:
        pairs.append((train, train_torch))
    diffs = [float((a - b).abs().max()) for a, b in pairs]
    ulps = [ulps_apart(float(u), float(v)) for a, b in pairs for u, v in zip(a.flatten(), b.flatten())]
    flat = lambda t: None if t is None else tuple(float(v) for v in t.flatten())  # noqa: E731
    return BNReport(
        shape=tuple(x.shape), values_per_channel=n, mean=flat(mean), var_biased=flat(var), var_unbiased=flat(unbiased),
        running_mean=flat(running_mean) if train is not None else None,
        running_var=flat(running_var) if train is not None else None,
        train_out=None if train is None else _rows(train),
        train_out_torch=None if train is None else _rows(train_torch),
        eval_out=_rows(evaluated), eval_out_torch=_rows(eval_torch),
        torch_running_mean=flat(bn.running_mean) if train is not None else None,
        torch_running_var=flat(bn.running_var) if train is not None else None,
        max_diff=max(diffs), max_ulps=max(ulps), train_error=train_error,
    )


def single_image(s: BNSettings) -> tuple[str | None, tuple[tuple[float, ...], ...] | None]:
    """Batch size 1 in training mode: the first image alone through a fresh BN layer.

    Returns torch's error message (a 1×1 map: one value per channel), or None and the outputs (a larger map:
    the image's own positions give the statistics, so each output is normalized against its own image only).
    """
    x = s.tensor()[:1]
    bn = _torch_bn(s)
    try:
        with torch.no_grad():
            return None, _rows(bn(x))
    except ValueError as e:
        return str(e), None


def ulps_apart(a: float, b: float) -> float:
    """How many units in the last place (of float64, at the larger magnitude) ``a`` and ``b`` are apart."""
    return 0.0 if a == b else abs(a - b) / math.ulp(max(abs(a), abs(b)))


__all__ = ["BN_FIELDS", "BNReport", "BNSettings", "DEFAULT_ROWS", "batchnorm_report", "single_image", "ulps_apart"]
