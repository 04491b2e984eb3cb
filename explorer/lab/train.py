"""The degradation experiment (ResNet paper Fig. 1 and Fig. 6), trained live on real images.

Every net of the experiment (:func:`explorer.lab.twins.twins`) is trained alike, for each seed ``k``:

- initialization: ``torch.manual_seed(k)`` right before ``build_model`` (torchvision's rule: Kaiming normal,
  fan-out, for every conv; BN weight 1, bias 0; the fc's default);
- data order: a ``torch.Generator`` seeded with ``k`` draws each epoch's permutation (and, for CIFAR-10, the
  paper's augmentation: 4-pixel padding, a random 32×32 crop and a horizontal flip), so every net of a seed sees
  the same batches in the same order; each epoch uses its ``N // batch_size`` full batches;
- optimizer: SGD with momentum 0.9 and weight decay 1e-4, the learning rate divided by 10 at 50% and 75% of the
  epochs (the paper's schedule, 32k and 48k of 64k iterations); cross-entropy loss.

Errors are fractions of images misclassified, measured after each epoch in eval mode: the training error on all
the training images (without augmentation), the test error on the held-out ones. The error counted during the
epoch's own steps (train mode, the model as it learns) is kept too, as ``running_error``.

Bounded and cancellable: the nets advance in rounds — epoch 1 of every net and seed, then epoch 2, … — so a
stop leaves every net with (nearly) the same number of epochs. Every net's first epoch runs; no later epoch
starts that would likely end past ``max_seconds`` (judged by that net's previous epoch); ``should_stop`` is
polled after every step and keeps the epochs finished so far (an unfinished
epoch is dropped, and its net goes back to its weights at the last finished epoch). Memory is checked against
the budget with :func:`explorer.costs.training.train_cost` before anything is built. On a CPU, two runs with the same
settings give the same numbers to the bit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..core.analysis import analyze
from ..core.errors import Cancelled
from ..build.guard import check_budget, estimate_memory, mib
from ..build.model import build_model
from ..measure.timing import LOCK, Progress, Reporter, Settings, ShouldStop, guarded, torch_state
from ..costs.training import train_cost
from .data import Dataset, load_dataset
from .spread import Spread
from .settings import LR_STEPS, MOMENTUM, WEIGHT_DECAY, DegradationSettings
from .twins import Net, twins

EVAL_BATCH = 500
STOPPED_BY = ("epochs", "time_limit", "cancelled")


@dataclass(frozen=True)
class NetRun:
    """One net trained with one seed. Errors are fractions (0.25 = 25%), one value per finished epoch.

    ``state`` holds the weights after the last finished epoch (numpy arrays, for the probes); it is left out of
    comparisons and of ``to_dict``. ``epoch_seconds`` (wall time) is left out of comparisons too: two runs with
    the same seed compare equal when every error and loss is equal.
    """

    label: str
    family: str
    depth: int
    seed: int
    train_error: tuple[float, ...]
    test_error: tuple[float, ...]
    train_loss: tuple[float, ...]
    running_error: tuple[float, ...]
    epoch_seconds: tuple[float, ...] = field(compare=False)
    state: dict[str, np.ndarray] | None = field(default=None, compare=False, repr=False)

    @property
    def epochs(self) -> int:
        return len(self.train_error)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "family": self.family, "depth": self.depth, "seed": self.seed,
                "train_error": list(self.train_error), "test_error": list(self.test_error),
                "train_loss": list(self.train_loss), "running_error": list(self.running_error),
                "epoch_seconds": list(self.epoch_seconds)}


@dataclass(frozen=True)
class DegradationResult:
    """What the experiment measured: every net's runs, how it stopped, where and how long it ran."""

    settings: DegradationSettings
    nets: tuple[Net, ...]
    runs: tuple[NetRun, ...]
    data: str
    stopped_by: str
    total_seconds: float
    device: str
    threads: int

    @property
    def epochs_done(self) -> int:
        """The epochs every run finished (the end points compare nets at this epoch)."""
        return min((r.epochs for r in self.runs), default=0)

    def runs_of(self, label: str) -> list[NetRun]:
        return [r for r in self.runs if r.label == label and r.epochs > 0]

    def net(self, label: str) -> Net:
        return next(n for n in self.nets if n.label == label)

    def end(self, label: str, which: str = "train_error") -> Spread | None:
        """A net's error (``train_error`` or ``test_error``) at epoch ``epochs_done``, over its seeds."""
        runs, e = self.runs_of(label), self.epochs_done
        return Spread.of([getattr(r, which)[e - 1] for r in runs]) if runs and e > 0 else None

    def curve(self, label: str, which: str = "train_error") -> list[Spread]:
        """Per epoch, the spread over the seeds that finished it."""
        runs = self.runs_of(label)
        longest = max((r.epochs for r in runs), default=0)
        return [Spread.of([getattr(r, which)[e] for r in runs if r.epochs > e]) for e in range(longest)]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: the settings, each net's counts and its per-seed, per-epoch curves, and the end points."""
        nets = []
        for n in self.nets:
            a = analyze(n.spec)
            ends = {w: self.end(n.label, w) for w in ("train_error", "test_error")}
            nets.append({"label": n.label, "family": n.family, "depth": n.depth, "params": a.params, "macs": a.macs,
                         "spec": n.spec.to_dict(), "runs": [r.to_dict() for r in self.runs_of(n.label)],
                         **{f"end_{w}": None if s is None else vars(s) for w, s in ends.items()}})
        return {"settings": self.settings.to_dict(), "data": self.data, "epochs_done": self.epochs_done,
                "stopped_by": self.stopped_by, "total_seconds": self.total_seconds, "device": self.device,
                "threads": self.threads, "nets": nets}


# --- the pieces --------------------------------------------------------------------------------------
def lr_at(epoch: int, epochs: int, lr: float) -> float:
    """The paper's step schedule: ``lr``, ÷10 from 50% of the epochs, ÷100 from 75% (``epoch`` counts from 0)."""
    return lr * 0.1 ** sum(epoch >= f * epochs for f in LR_STEPS)


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """ResNet §4.2's CIFAR augmentation: pad 4 on each side, a random crop of the original size, a random flip."""
    n, _, h, w = x.shape
    padded = F.pad(x, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (n,), generator=g).tolist()
    dx = torch.randint(0, 9, (n,), generator=g).tolist()
    flip = torch.rand(n, generator=g) < 0.5
    out = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
    return torch.where(flip.to(x.device).view(-1, 1, 1, 1), out.flip(3), out)


def error_rate(model: torch.nn.Module, data: Dataset, x: torch.Tensor, y: torch.Tensor, dev: torch.device) -> float:
    """Fraction of ``x`` misclassified in eval mode."""
    model.eval()
    wrong = 0
    with torch.no_grad():
        for i in range(0, len(y), EVAL_BATCH):
            out = model(data.normalize(x[i:i + EVAL_BATCH].to(dev)))
            wrong += int((out.argmax(1) != y[i:i + EVAL_BATCH].to(dev)).sum())
    return wrong / len(y)


def snapshot(model: torch.nn.Module) -> dict[str, np.ndarray]:
    """The weights and buffers as numpy copies (picklable, device-free)."""
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def load_state(model: torch.nn.Module, state: dict[str, np.ndarray]) -> torch.nn.Module:
    dev = next(model.parameters()).device
    model.load_state_dict({k: torch.from_numpy(v).to(dev) for k, v in state.items()})
    return model


def check_training_memory(nets: Sequence[Net], seeds: int, batch_size: int, data: Dataset, device: str,
                          budget: float | None = None) -> int:
    """Refuse before building: every net and seed stays resident (weights, gradients, momentum, a snapshot of
    the weights), one steps at a time (its training peak above what it holds), plus the images; returns bytes."""
    resident, extra = 0, 0
    for n in nets:
        p = train_cost(n.spec, batch_size=batch_size, optimizer="sgd_momentum").peak
        held = p.weights + p.buffers + p.gradients + p.optimizer_state
        resident += seeds * (held + p.weights + p.buffers)
        evaluation = estimate_memory(analyze(n.spec), min(EVAL_BATCH, len(data.y_test)))
        extra = max(extra, p.total - held, evaluation.activations_bytes + evaluation.workspace_bytes)
    need = resident + extra + data.nbytes
    check_budget(need, what=f"training {len(nets)} nets × {seeds} seed(s) at batch {batch_size}", device=device,
                 budget=budget, parts=f"resident nets {mib(resident)}, one step {mib(extra)}, images "
                 f"{mib(data.nbytes)}")
    return need


class _Trainee:
    """One net with one seed: its model, optimizer, data generator and the curves so far."""

    def __init__(self, net: Net, seed: int, s: DegradationSettings, dev: torch.device) -> None:
        self.net, self.seed, self.dev = net, seed, dev
        torch.manual_seed(seed)
        self.model = build_model(net.spec, dev, budget=math.inf)  # the budget was checked for all nets at once
        self.opt = torch.optim.SGD(self.model.parameters(), lr=s.lr, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
        self.gen = torch.Generator().manual_seed(seed)
        self.curves: dict[str, list[float]] = {"train_error": [], "test_error": [], "train_loss": [],
                                               "running_error": [], "epoch_seconds": []}
        self.state = snapshot(self.model)
        self.cost = max(1, analyze(net.spec).macs)

    def epoch(self, e: int, s: DegradationSettings, data: Dataset, step_done: Any, should_stop: ShouldStop) -> bool:
        """Train one epoch and evaluate; False (and the weights of the last finished epoch back) if stopped."""
        start = time.perf_counter()
        for group in self.opt.param_groups:
            group["lr"] = lr_at(e, s.epochs, s.lr)
        order = torch.randperm(len(data.y_train), generator=self.gen)
        steps = len(order) // s.batch_size
        self.model.train()
        wrong, loss_sum = 0, 0.0
        for i in range(steps):
            idx = order[i * s.batch_size:(i + 1) * s.batch_size]
            x = data.normalize(data.x_train[idx].to(self.dev))
            if data.name == "cifar10":
                x = augment(x, self.gen)
            y = data.y_train[idx].to(self.dev)
            out = self.model(x)
            loss = F.cross_entropy(out, y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            wrong += int((out.argmax(1) != y).sum())
            loss_sum += float(loss.detach())
            step_done(self, i + 1, steps)
            if should_stop():
                load_state(self.model, self.state)
                return False
        seen = steps * s.batch_size
        self.curves["running_error"].append(wrong / seen)
        self.curves["train_loss"].append(loss_sum / steps)
        self.curves["train_error"].append(error_rate(self.model, data, data.x_train, data.y_train, self.dev))
        self.curves["test_error"].append(error_rate(self.model, data, data.x_test, data.y_test, self.dev))
        self.curves["epoch_seconds"].append(time.perf_counter() - start)
        self.state = snapshot(self.model)
        return True

    def run(self) -> NetRun:
        c = self.curves
        return NetRun(self.net.label, self.net.family, self.net.depth, self.seed, tuple(c["train_error"]),
                      tuple(c["test_error"]), tuple(c["train_loss"]), tuple(c["running_error"]),
                      tuple(c["epoch_seconds"]), self.state)


# --- the entry point ---------------------------------------------------------------------------------
def experiment_nets(s: DegradationSettings, data: Dataset) -> tuple[Net, ...]:
    """The nets ``s`` describes, fitted to the data set's images and classes."""
    return twins(s.layers, s.width, s.shortcut, data.input_size, data.classes, plain=s.plain, base=s.base)


def run_degradation(s: DegradationSettings, *, progress: Progress | None = None,
                    should_stop: ShouldStop | None = None, budget: float | None = None) -> DegradationResult:
    """Train every net of ``s`` for every seed, in rounds of one epoch, and measure their errors.

    Args:
        s: the settings (validated on construction; see :class:`DegradationSettings`).
        progress: ``progress(fraction, text)``, at most ten times a second (the fraction is of the MACs to do).
        should_stop: polled after every step; True stops and keeps the epochs finished so far.
        budget: bytes the experiment may take (default the configured budget; ``math.inf`` skips the check).

    Returns:
        The runs; ``stopped_by`` is ``"epochs"`` (all done), ``"time_limit"`` or ``"cancelled"``.

    Raises:
        SpecError: bad settings (a device that is not here, CIFAR-10 files missing); ``ResourceError`` (field
            ``memory``) over the budget, before anything is built.
        DeviceError: the device failed. Cancelled: stopped before any epoch finished.
    """
    timing = Settings(device=s.device, threads=s.threads)  # validates and resolves the device
    data = load_dataset(s.dataset, s.data_dir, s.train_images, s.test_images)
    nets = experiment_nets(s, data)
    check_training_memory(nets, s.seeds, s.batch_size, data, timing.device, budget)
    with LOCK, torch_state(timing, inference=False):
        return guarded(timing, lambda: _run(s, timing, data, nets, progress, should_stop or (lambda: False)))


def _run(s: DegradationSettings, timing: Settings, data: Dataset, nets: tuple[Net, ...], progress: Progress | None,
         should_stop: ShouldStop) -> DegradationResult:
    start = time.perf_counter()
    report = Reporter(progress)
    report(0.0, f"building {len(nets)} nets × {s.seeds} seed(s)", force=True)
    trainees = [_Trainee(n, k, s, timing.torch_device) for n in nets for k in range(s.seeds)]
    total = sum(t.cost for t in trainees) * s.epochs
    done = 0.0
    cancelled = False

    def step_done(t: _Trainee, i: int, steps: int) -> None:
        fraction = (done + t.cost * i / steps) / total
        report(fraction, f"epoch {len(t.curves['train_error']) + 1}/{s.epochs} · {t.net.label}, seed {t.seed}")

    def stop() -> bool:
        nonlocal cancelled
        cancelled = cancelled or bool(should_stop())
        return cancelled

    stopped_by = "epochs"
    for e in range(s.epochs):
        for t in trainees:
            last = t.curves["epoch_seconds"][-1] if t.curves["epoch_seconds"] else None
            if last is not None and time.perf_counter() + last > start + s.max_seconds:  # the first epoch always runs
                stopped_by = "time_limit"
                break
            if not t.epoch(e, s, data, step_done, stop):
                stopped_by = "cancelled"
                break
            done += t.cost
        if stopped_by != "epochs":
            break
    runs = tuple(t.run() for t in trainees)
    if all(r.epochs == 0 for r in runs):
        raise Cancelled("the experiment stopped before any epoch finished")
    report(1.0, f"done: {min(r.epochs for r in runs)} epoch(s) ({stopped_by.replace('_', ' ')})", force=True)
    return DegradationResult(s, nets, runs, data.summary(), stopped_by, time.perf_counter() - start, timing.device,
                             torch.get_num_threads())


__all__ = ["STOPPED_BY", "DegradationResult", "NetRun", "Spread", "augment", "check_training_memory", "error_rate",
           "experiment_nets", "load_state", "lr_at", "run_degradation", "snapshot"]
