"""What the networks do inside: gradient norms at initialization, response spreads (ResNet Fig. 7) and the
lesion study (Veit et al., NeurIPS 2016, arXiv 1605.06431) of the trained nets of the degradation experiment.

- **Gradient flow at initialization.** One batch of real training images (the first ``batch_size`` of seed
  ``seed``'s order), a train-mode forward pass (batch statistics, as training sees it), cross-entropy, one
  backward pass. Per conv: the Frobenius norm of the loss gradient with respect to its weight; per block: the
  norm of the loss gradient with respect to the block's output (all images of the batch together).
- **Responses (Fig. 7).** Per 3×3 conv (the stem's and each block's two), the standard deviation of its BN's
  output — after BN, before the ReLU or the addition — over all elements of all test images, in eval mode.
- **Lesion.** One block at a time is deleted: it is replaced by its shortcut, then the block's final ReLU, as
  the block itself does (``relu(shortcut(x))``: the identity where the shape stays, option A's subsampling and
  zero padding or B/C's projection where it changes). A plain net has no shortcut: deleting a block whose
  shape stays passes its input on (what removing its two layers leaves); a downsampling block of a plain net
  changes the shape and cannot be deleted — it is marked, not measured. The test error is measured in eval
  mode with the trained BN statistics, for every seed of the experiment.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import Cancelled
from ..build.guard import check_budget, estimate_memory, mib
from ..core.analysis import analyze
from ..build.model import build_model
from ..build.nets import BasicBlock, Bottleneck, PathsBottleneck
from ..measure.timing import LOCK, Progress, Reporter, Settings, ShouldStop, guarded, torch_state
from ..costs.training import train_cost
from .data import Dataset, load_dataset
from .settings import LAB_FIELDS, GradientSettings
from .spread import Spread
from .train import EVAL_BATCH, DegradationResult, error_rate, load_state
from .twins import Net, twins

BLOCKS = (BasicBlock, Bottleneck, PathsBottleneck)


def blocks_of(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The residual blocks in forward order, by their ``named_modules`` path (``layer2.0``)."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, BLOCKS)]


def changes_shape(block: nn.Module) -> bool:
    """A downsampling block: its output has another shape than its input (stride or channels)."""
    conv = block.conv1 if hasattr(block, "conv1") else block.paths[0].conv1
    last = block.bn3 if hasattr(block, "bn3") else block.bn2
    return conv.stride != (1, 1) or conv.in_channels != last.num_features or getattr(block, "stride", 1) != 1


# --- gradient flow at initialization ---------------------------------------------------------------------
@dataclass(frozen=True)
class Flow:
    """One net's gradient norms at initialization: ``(name, norm)`` per conv weight and per block output."""

    label: str
    family: str
    depth: int
    loss: float
    convs: tuple[tuple[str, float], ...]
    blocks: tuple[tuple[str, float], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "family": self.family, "depth": self.depth, "loss": self.loss,
                "conv_weight_grad_norms": [{"name": n, "norm": v} for n, v in self.convs],
                "block_output_grad_norms": [{"name": n, "norm": v} for n, v in self.blocks]}


@dataclass(frozen=True)
class GradientResult:
    settings: GradientSettings
    nets: tuple[Net, ...]
    flows: tuple[Flow, ...]
    data: str
    total_seconds: float

    def flow(self, label: str) -> Flow:
        return next(f for f in self.flows if f.label == label)

    def to_dict(self) -> dict[str, Any]:
        return {"settings": self.settings.to_dict(), "data": self.data, "total_seconds": self.total_seconds,
                "nets": [{**f.to_dict(), "params": analyze(n.spec).params, "macs": analyze(n.spec).macs}
                         for n, f in zip(self.nets, self.flows)]}


def gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, dict[str, float],
                                                                              dict[str, float]]:
    """(loss, conv name → ‖∂L/∂W‖, block name → ‖∂L/∂output‖): one train-mode forward and backward pass."""
    block_grads: dict[str, float] = {}
    handles = []
    for name, block in blocks_of(model):
        def keep(module: nn.Module, args: Any, out: torch.Tensor, name: str = name) -> None:
            out.register_hook(lambda g: block_grads.__setitem__(name, float(g.norm())))

        handles.append(block.register_forward_hook(keep))
    try:
        model.train()
        model.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
    finally:
        for h in handles:
            h.remove()
    convs = {name: float(m.weight.grad.norm()) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    return float(loss.detach()), convs, {name: block_grads[name] for name, _ in blocks_of(model)}


def first_batch(data: Dataset, batch_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first batch of seed ``seed``'s epoch order (what the first training step of that seed sees)."""
    order = torch.randperm(len(data.y_train), generator=torch.Generator().manual_seed(seed))[:batch_size]
    return data.normalize(data.x_train[order]), data.y_train[order]


def gradient_flow(s: GradientSettings, *, progress: Progress | None = None, should_stop: ShouldStop | None = None,
                  budget: float | None = None) -> GradientResult:
    """Gradient norms at initialization of every net of ``s`` (plain and residual at each depth), on one batch.

    Raises:
        SpecError: bad settings; ``ResourceError`` over the memory budget (checked per net before building).
        Cancelled: stopped before the first net was done (nets done before a stop are kept).
    """
    timing = Settings(device=s.device, threads=s.threads)
    data = load_dataset(s.dataset, s.data_dir)
    nets = twins(s.layers, s.width, s.shortcut, data.input_size, data.classes, base=s.base)
    batch = min(s.batch_size, len(data.y_train))
    for n in nets:
        check_budget(train_cost(n.spec, batch_size=batch).peak.total, what=f"a training step of {n.label} at batch "
                     f"{batch}", device=timing.device, budget=budget)
    start = time.perf_counter()
    report = Reporter(progress)
    stop = should_stop or (lambda: False)
    flows = []
    with LOCK, torch_state(timing, inference=False):
        x, y = first_batch(data, batch, s.seed)
        x, y = x.to(timing.torch_device), y.to(timing.torch_device)
        for i, n in enumerate(nets):
            report(i / len(nets), f"{n.label}: forward and backward", force=True)
            torch.manual_seed(s.seed)

            def one(n: Net = n) -> Flow:
                model = build_model(n.spec, timing.device, budget=math.inf)
                loss, convs, blocks = gradient_norms(model, x, y)
                return Flow(n.label, n.family, n.depth, loss, tuple(convs.items()), tuple(blocks.items()))

            flows.append(guarded(timing, one))
            if stop():
                break
    if not flows:
        raise Cancelled("stopped before the first net")
    report(1.0, f"done: {len(flows)} nets", force=True)
    return GradientResult(s, nets[:len(flows)], tuple(flows), data.summary(), time.perf_counter() - start)


# --- responses (Fig. 7) and the lesion study on the trained nets ---------------------------------------------
def response_layers(model: nn.Module) -> list[tuple[str, nn.BatchNorm2d]]:
    """The BN after each 3×3 conv on the main path, in forward order (not the projections' BN)."""
    out = []
    convs = {name: m for name, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    for name, m in model.named_modules():
        if isinstance(m, nn.BatchNorm2d) and "downsample" not in name:
            conv = convs.get(name.replace("bn", "conv"))
            if conv is not None and conv.kernel_size == (3, 3):
                out.append((name, m))
    return out


def response_std(model: nn.Module, data: Dataset, dev: torch.device) -> dict[str, float]:
    """BN output name → standard deviation of all its elements over the test images (eval mode)."""
    sums: dict[str, list[float]] = {}
    handles = []
    for name, bn in response_layers(model):
        sums[name] = [0.0, 0.0, 0]

        def add(module: nn.Module, args: Any, out: torch.Tensor, name: str = name) -> None:
            v = out.detach().double()
            acc = sums[name]
            acc[0] += float(v.sum())
            acc[1] += float((v * v).sum())
            acc[2] += v.numel()

        handles.append(bn.register_forward_hook(add))
    try:
        error_rate(model, data, data.x_test, data.y_test, dev)
    finally:
        for h in handles:
            h.remove()
    return {name: math.sqrt(max(0.0, s2 / n - (s1 / n) ** 2)) for name, (s1, s2, n) in sums.items()}


class Deleted(nn.Module):
    """A block deleted but its shortcut kept: ``relu(shortcut(x))``, the block's own final ReLU included."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        self.downsample = block.downsample
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(x if self.downsample is None else self.downsample(x))


@dataclass(frozen=True)
class Lesioned:
    """One block of a net: whether it downsamples, whether it could be deleted, the test error without it per
    seed (empty when it cannot be deleted, or was not reached before a stop)."""

    name: str
    stage: int
    downsampling: bool
    deletable: bool
    errors: tuple[float, ...]

    @property
    def spread(self) -> Spread | None:
        return Spread.of(self.errors) if self.errors else None


@dataclass(frozen=True)
class NetProbe:
    """A trained net's responses and lesions: ``base_errors`` are its test errors with every block, per seed."""

    label: str
    family: str
    depth: int
    base_errors: tuple[float, ...]
    responses: tuple[tuple[str, Spread], ...]
    blocks: tuple[Lesioned, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "family": self.family, "depth": self.depth, "base_errors": list(self.base_errors),
                "response_std": [{"name": n, **vars(s)} for n, s in self.responses],
                "lesions": [{"name": b.name, "stage": b.stage, "downsampling": b.downsampling,
                             "deletable": b.deletable, "errors": list(b.errors)} for b in self.blocks]}


@dataclass(frozen=True)
class ProbeResult:
    nets: tuple[NetProbe, ...]
    stopped_by: str
    total_seconds: float
    epochs: int

    def net(self, label: str) -> NetProbe | None:
        return next((n for n in self.nets if n.label == label), None)

    def to_dict(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "stopped_by": self.stopped_by, "total_seconds": self.total_seconds,
                "nets": [n.to_dict() for n in self.nets]}


def probe_trained(result: DegradationResult, *, lesion: bool = True, max_seconds: float = 300.0,
                  progress: Progress | None = None, should_stop: ShouldStop | None = None,
                  budget: float | None = None) -> ProbeResult:
    """Responses (Fig. 7) and, with ``lesion``, the lesion study of every trained run of ``result``.

    Bounded by ``max_seconds`` (no test evaluation starts past it) and ``should_stop`` (polled after each
    evaluation); what was measured so far is kept (``stopped_by`` says why it ended).
    """
    LAB_FIELDS["max_seconds"].check(max_seconds)
    s = result.settings
    timing = Settings(device=s.device, threads=s.threads)
    data = load_dataset(s.dataset, s.data_dir, s.train_images, s.test_images)
    for n in result.nets:
        e = estimate_memory(analyze(n.spec), min(EVAL_BATCH, len(data.y_test)))
        check_budget(e.total_bytes + data.nbytes, what=f"evaluating {n.label}", device=timing.device, budget=budget,
                     parts=f"images {mib(data.nbytes)}")
    with LOCK, torch_state(timing, inference=False):
        return guarded(timing, lambda: _probe(result, data, timing, lesion, max_seconds, progress,
                                              should_stop or (lambda: False)))


def _probe(result: DegradationResult, data: Dataset, timing: Settings, lesion: bool, max_seconds: float,
           progress: Progress | None, should_stop: ShouldStop) -> ProbeResult:
    start = time.perf_counter()
    report = Reporter(progress)
    dev = timing.torch_device
    work = [(n, r) for n in result.nets for r in result.runs_of(n.label) if r.state is not None]
    total = sum(1 + (len(blocks_of(build_model(n.spec, "meta"))) if lesion else 0) for n, _ in work)
    done, stopped_by = 0, "done"
    out: dict[str, dict[str, Any]] = {}

    def over() -> str | None:
        if should_stop():
            return "cancelled"
        return "time_limit" if time.perf_counter() - start > max_seconds else None

    for n, run in work:
        if stopped_by != "done":
            break
        model = load_state(build_model(n.spec, dev, budget=math.inf), run.state).eval()
        entry = out.setdefault(n.label, {"net": n, "base": [], "responses": {}, "blocks": {}})
        entry["base"].append(error_rate(model, data, data.x_test, data.y_test, dev))
        for name, v in response_std(model, data, dev).items():
            entry["responses"].setdefault(name, []).append(v)
        done += 1
        report(done / total, f"{n.label}, seed {run.seed}: responses")
        if not lesion:
            continue
        for i, (name, block) in enumerate(blocks_of(model)):
            if (why := over()) is not None:
                stopped_by = why
                break
            down = changes_shape(block)
            deletable = not (down and block.shortcut == "none")
            errors = entry["blocks"].setdefault(name, (i, down, deletable, []))[3]
            if deletable:
                parent_name, index = name.rsplit(".", 1)
                parent = model.get_submodule(parent_name)
                parent[int(index)] = Deleted(block)
                try:
                    errors.append(error_rate(model, data, data.x_test, data.y_test, dev))
                finally:
                    parent[int(index)] = block
            done += 1
            report(done / total, f"{n.label}, seed {run.seed}: without {name}")
    if not out:
        raise Cancelled("stopped before the first net was evaluated")
    nets = []
    for entry in out.values():
        n = entry["net"]
        stages = {}
        blocks = []
        for name, (i, down, deletable, errors) in entry["blocks"].items():
            stage = int(name.split(".")[0].removeprefix("layer"))
            stages.setdefault(stage, i)
            blocks.append(Lesioned(name, stage, down, deletable, tuple(errors)))
        nets.append(NetProbe(n.label, n.family, n.depth, tuple(entry["base"]),
                             tuple((k, Spread.of(v)) for k, v in entry["responses"].items()), tuple(blocks)))
    report(1.0, f"done ({stopped_by.replace('_', ' ')})", force=True)
    return ProbeResult(tuple(nets), stopped_by, time.perf_counter() - start, result.epochs_done)


__all__ = ["Deleted", "Flow", "GradientResult", "Lesioned", "NetProbe", "ProbeResult", "blocks_of", "changes_shape",
           "first_batch", "gradient_flow", "gradient_norms", "probe_trained", "response_layers", "response_std"]
