"""Training cost from the layer plan, without building a model: MACs of one step, memory, largest batch.

Conventions (the same as :mod:`explorer.core.analysis`, for the whole batch here):

- MACs: multiply-accumulates of conv and linear layers. Forward as in the analysis. Backward, per layer:
  the gradient with respect to the input (as many MACs as the forward) wherever autograd computes it — not
  for the first conv, whose input (the image) needs no gradient — plus the gradient with respect to the
  weights (as many MACs again). A bias gradient is a sum over the batch, not a MAC; BN, ReLU, pooling and
  the residual add are not MACs either.
- FLOPs = 2 × MACs, so ``train_flops = 2 × (forward_macs + backward_macs)``. ``FlopCounterMode`` counts the
  same, except that torch 2.14.1 over-counts grouped convolutions (see :func:`flop_counter_excess`).
- Memory in bytes. ``saved_bytes`` is exactly what autograd keeps for backward during a train-mode forward
  pass — what ``torch.autograd.graph.saved_tensors_hooks`` sees, parameters and buffers excluded, each
  storage counted once — on CPU, for float32 and for bfloat16/float16 autocast (tests check it to the
  byte). Each storage is listed on the first layer that saves it. The rules, per op:

  ========================  ==========================================================================
  conv                      its input (the image itself for the first conv; under autocast a
                            low-precision copy of it); under autocast also its low-precision weight copy
  batch norm                its input, plus ``save_mean`` and ``save_invstd``: float32, C each, always
  group norm                its input, plus its mean and inverse deviation: float32, batch × 32 each
  in-place ReLU             its output, which *is* the storage of the BN output (or sum) it overwrote;
                            the next conv (or the next block) saves that same storage again
  max pool                  its input (the stem ReLU's storage) and the int64 indices of the maxima
  2×2 average pool          its input (ResNet-D's shortcut, anti-aliasing: a storage already saved)
  SE / ECA gate             the squeeze (a mean) nothing; the 1×1 or 1-D convs their input; the sigmoid
                            its output; ``x * gate`` both operands (the gated branch's BN output is new)
  global average pool       nothing (for a 1×1 output it is a ``mean``, whose backward needs only shapes)
  flatten + fc              fc saves its input, a view of the pool's output; under autocast also the
                            low-precision weight copy (the bias copy is not saved)
  residual add, sum,        nothing: their backward passes the gradient through (concat splits it)
  concat, option A shortcut
  ========================  ==========================================================================

  Under autocast conv and linear run in the low precision with float32 weights: activations are 2 bytes
  (BN is not on CPU autocast's float32 list, so it takes and returns the low precision), BN's statistics
  stay float32, and so do weights, gradients and optimizer state. Exact on CPU, tested for every preset
  in float32 and for a sample in bfloat16 and float16; on CUDA the same autograd formulas apply, but
  cuDNN batch norm may also keep a reserve buffer, so there it is an estimate.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from ..core import plan as P
from ..core.analysis import analyze
from .counters import flop_counter_excess  # what torch over-counts: one rule, kept with the tools' rules
from ..core.errors import SpecError
from ..core.fields import Field
from ..core.run_fields import COUNTED_BATCH, MAX_COUNTED_BATCH
from ..core.spec import ArchSpec

PRECISIONS = ("float32", "bfloat16", "float16")
ACT_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}  # activations; weights stay float32 under autocast
WEIGHT_BYTES = 4  # parameters, gradients and optimizer state are float32 in every precision here
STAT_BYTES = 4  # BN's save_mean / save_invstd and running statistics are float32 under autocast too
INDEX_BYTES = 8  # max pooling keeps int64 indices
GiB = 2**30


@dataclass(frozen=True)
class Optimizer:
    """What a ``torch.optim`` optimizer keeps and allocates per parameter tensor.

    Attributes:
        name: the key in :data:`OPTIMIZERS` (``"adam"``).
        label: what a person reads (``"Adam"``).
        torch_class: the class in ``torch.optim``; ``kwargs`` the settings modelled (torch's defaults else).
        buffers: float32 buffers of the parameter's size in its state (momentum; Adam's two moments).
        step_bytes: bytes of other state per parameter tensor: Adam's ``step`` is a float32 scalar tensor
            (4 bytes; with ``capturable``/``fused`` it lives on the GPU, still 4 bytes).
        temporaries: parameter-sized float32 temporaries of one ``step()`` (CUDA's multi-tensor Adam makes
            ``sqrt(exp_avg_sq)`` for every parameter at once; SGD updates in place).

    Build the real one with ``getattr(torch.optim, o.torch_class)(params, **dict(o.kwargs))``.
    """

    name: str
    label: str
    torch_class: str
    kwargs: tuple[tuple[str, Any], ...]
    buffers: int
    step_bytes: int
    temporaries: int

    def state_bytes(self, params: int, tensors: int) -> int:
        """Optimizer state after the first ``step()`` for ``params`` parameters in ``tensors`` tensors."""
        return self.buffers * params * WEIGHT_BYTES + self.step_bytes * tensors


OPTIMIZERS: dict[str, Optimizer] = {
    o.name: o
    for o in (
        Optimizer("sgd", "SGD", "SGD", (("lr", 0.1),), 0, 0, 0),
        Optimizer("sgd_momentum", "SGD with momentum", "SGD", (("lr", 0.1), ("momentum", 0.9)), 1, 0, 0),
        Optimizer("adam", "Adam", "Adam", (("lr", 1e-3),), 2, 4, 1),
        Optimizer("adamw", "AdamW", "AdamW", (("lr", 1e-3),), 2, 4, 1),
    )
}

# Common GPU memory sizes for a budget picker. GPU makers' "GB" are binary: an "80 GB" A100 has 80 GiB.
GPU_MEMORY: tuple[tuple[str, int], ...] = (
    ("8 GB (RTX 3070, RTX 4060)", 8 * GiB),
    ("12 GB (RTX 3060, RTX 4070)", 12 * GiB),
    ("16 GB (T4, V100, RTX 4080)", 16 * GiB),
    ("24 GB (RTX 3090, RTX 4090, A10, L4)", 24 * GiB),
    ("32 GB (V100 32GB, RTX 5090)", 32 * GiB),
    ("40 GB (A100 40GB)", 40 * GiB),
    ("48 GB (A6000, L40S)", 48 * GiB),
    ("80 GB (A100 80GB, H100)", 80 * GiB),
    ("141 GB (H200)", 141 * GiB),
)


CONVENTIONS = {
    "macs": "multiply-accumulates of conv and linear layers for the whole batch, bias not counted",
    "backward_macs": "gradient w.r.t. each layer's input (none for the first conv: the image needs no gradient) "
    "+ gradient w.r.t. its weights; each as many MACs as the forward; the bias gradient is a sum, not a MAC",
    "train_flops": "2 × (forward MACs + backward MACs)",
    "saved_activation_bytes": "what autograd saves for backward in a train-mode forward pass "
    "(saved_tensors_hooks), parameters and buffers excluded, each storage once",
    "peak_bytes": "conservative estimate of one training step: weights + buffers + gradients + optimizer state "
    "+ saved activations + input batch (autocast) + gradients in flight + workspace + optimizer temporaries",
}


@dataclass(frozen=True)
class TrainRow:
    """One op in forward order, for the whole batch. ``name`` is the row's name in :func:`analyze`.

    ``saved_bytes`` lists each saved storage once, on the first op that saves it (a conv after an in-place
    ReLU shows 0: the ReLU already listed that storage).
    """

    name: str
    type: str
    stage: str
    block: str
    forward_macs: int
    backward_input_macs: int
    backward_weight_macs: int
    param_bytes: int
    grad_bytes: int
    optimizer_bytes: int
    buffer_bytes: int
    saved_bytes: int

    @property
    def backward_macs(self) -> int:
        return self.backward_input_macs + self.backward_weight_macs


_SUMMED = ("forward_macs", "backward_input_macs", "backward_weight_macs", "param_bytes", "grad_bytes",
           "optimizer_bytes", "buffer_bytes", "saved_bytes")


@dataclass(frozen=True)
class Peak:
    """The parts of one training step's peak memory, in bytes (see :func:`train_cost` for what each holds)."""

    weights: int
    buffers: int
    gradients: int
    optimizer_state: int
    saved_activations: int
    input_batch: int
    gradients_in_flight: int
    workspace: int
    optimizer_temporaries: int

    @property
    def total(self) -> int:
        return sum(self.parts().values())

    def parts(self) -> dict[str, int]:
        """Part name → bytes, in the order a stacked bar shows them."""
        return asdict(self)


@dataclass(frozen=True)
class TrainCost:
    """The cost of one training step of a spec at one batch size, input size, precision and optimizer."""

    spec: ArchSpec
    input_size: tuple[int, int, int]
    batch_size: int
    precision: str
    optimizer: str
    layers: tuple[TrainRow, ...]
    peak: Peak

    def _sum(self, key: str) -> int:
        return sum(getattr(r, key) for r in self.layers)

    @property
    def forward_macs(self) -> int:
        return self._sum("forward_macs")

    @property
    def backward_macs(self) -> int:
        return self._sum("backward_input_macs") + self._sum("backward_weight_macs")

    @property
    def train_flops(self) -> int:
        return 2 * (self.forward_macs + self.backward_macs)

    @property
    def param_bytes(self) -> int:
        return self._sum("param_bytes")

    @property
    def grad_bytes(self) -> int:
        return self._sum("grad_bytes")

    @property
    def optimizer_bytes(self) -> int:
        return self._sum("optimizer_bytes")

    @property
    def buffer_bytes(self) -> int:
        return self._sum("buffer_bytes")

    @property
    def saved_activation_bytes(self) -> int:
        return self._sum("saved_bytes")

    def by_stage(self) -> dict[str, dict[str, int]]:
        """Totals per stage (``stem``, ``layer1`` …, ``head``)."""
        return self._group("stage")

    def by_block(self) -> dict[str, dict[str, int]]:
        """Totals per block (``stem``, ``layer1.0`` …, ``head``)."""
        return self._group("block")

    def by_type(self) -> dict[str, dict[str, int]]:
        """Totals per op type (conv, bn, relu, maxpool, …), so nothing is silently dropped."""
        return self._group("type")

    def _group(self, key: str) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for r in self.layers:
            t = out.setdefault(getattr(r, key), dict.fromkeys(_SUMMED, 0))
            for k in _SUMMED:
                t[k] += getattr(r, k)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON, every figure for the whole batch; the issue's keys are integers at the top level."""
        return {
            "name": self.spec.name,
            "input_size": list(self.input_size),
            "batch_size": self.batch_size,
            "precision": self.precision,
            "optimizer": self.optimizer,
            "forward_macs": self.forward_macs,
            "backward_macs": self.backward_macs,
            "train_flops": self.train_flops,
            "param_bytes": self.param_bytes,
            "grad_bytes": self.grad_bytes,
            "optimizer_bytes": self.optimizer_bytes,
            "buffer_bytes": self.buffer_bytes,
            "saved_activation_bytes": self.saved_activation_bytes,
            "peak_bytes": self.peak.total,
            "peak": self.peak.parts(),
            "conventions": CONVENTIONS,
            "spec": self.spec.to_dict(),
            "by_stage": self.by_stage(),
            "by_type": self.by_type(),
            "layers": [{**asdict(r), "backward_macs": r.backward_macs} for r in self.layers],
        }


# --- validation: one field per input, read by the CLI and the app too ---------------------------------
TRAIN_FIELDS: dict[str, Field] = {f.key: f for f in (
    dataclasses.replace(COUNTED_BATCH, help="images per training step"),
    Field("precision", "Precision", "float32, or bfloat16/float16 autocast (weights, gradients and optimizer "
          "state stay float32)", "choice", choices=PRECISIONS,
          choice_labels=("float32", "bfloat16 autocast", "float16 autocast")),
    Field("optimizer", "Optimizer", "what it keeps per parameter: SGD nothing, momentum one buffer, Adam/AdamW two "
          "(and a step count)", "choice", choices=tuple(OPTIMIZERS),
          choice_labels=tuple(o.label for o in OPTIMIZERS.values())),
    Field("budget_gb", "Memory budget (GB)", "the memory one training step may use; GPU makers' GB are binary "
          "(80 GB = 80 GiB)", "float", 0.001, 1_000_000),
)}


def check_batch_size(value: Any, field: str = "batch_size") -> int:
    """A whole number from 1 to ``run_fields.MAX_COUNTED_BATCH``, or a ``SpecError`` naming ``field``."""
    return TRAIN_FIELDS["batch_size"].check(value, field)


def check_optimizer(value: Any) -> Optimizer:
    """The :class:`Optimizer` named ``value``, or a ``SpecError`` listing the valid names."""
    return OPTIMIZERS[TRAIN_FIELDS["optimizer"].check(value)]


def check_precision(value: Any) -> str:
    """A precision of :data:`PRECISIONS`, else a ``SpecError``. Whether a device can train in it is the
    device's question (``explorer.build.devices.check_dtype``), asked where a step is measured."""
    return TRAIN_FIELDS["precision"].check(value)


def check_bytes(value: Any, field: str = "budget") -> int:
    """A memory budget in bytes: a positive, finite number (rounded down to whole bytes)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise SpecError(field, f"must be a positive number of bytes; got {value!r}")
    return int(value)


def budget_from_gb(gb: Any) -> int:
    """Bytes of a budget given in GB as GPU makers write them (binary: 1 GB = 2**30 bytes)."""
    return int(TRAIN_FIELDS["budget_gb"].check(gb) * GiB)


# --- the walk ---------------------------------------------------------------------------------------
def _param_tensors(op: P.Leaf) -> int:
    """Parameter tensors of an op (Adam keeps a ``step`` per tensor): a weight, and a bias where it has one."""
    if not op.params:
        return 0
    return 2 if getattr(op, "bias", True) else 1  # BN and fc have both; a conv has its bias only if asked


def _buffer_bytes(op: P.Leaf) -> int:
    """BN's running_mean and running_var (float32, C each) and num_batches_tracked (one int64)."""
    return 2 * op.channels * STAT_BYTES + INDEX_BYTES if isinstance(op, P.BatchNorm) else 0


def _stat_bytes(op: P.Leaf, batch: int) -> int:
    """The float32 statistics a norm saves for backward, mean and inverse deviation: batch norm's are per channel
    (C each), group norm's per image and group (batch × groups each)."""
    if isinstance(op, P.GroupNorm):
        return 2 * batch * op.groups * STAT_BYTES
    return 2 * op.channels * STAT_BYTES


@dataclass(frozen=True)
class _Value:
    """A tensor in the forward pass: its storage (``id``), shape without the batch, bytes per element."""

    id: int
    shape: P.Shape
    itemsize: int
    needs_grad: bool = True


class _Saved:
    """The training cost as a visitor of the plan's walk: MACs per op, and which storages autograd saves
    (each op type's ``saves`` rule in :data:`explorer.core.plan.OPS`)."""

    def __init__(self, batch: int, precision: str, optimizer: Optimizer) -> None:
        self.batch, self.optimizer = batch, optimizer
        self.act = ACT_BYTES[precision]
        self.autocast = precision != "float32"
        self.rows: list[TrainRow] = []
        self.stage = self.block = ""
        self.saved: set[int] = set()
        self.ids = 0
        self.largest_pair = 0  # elements of the largest (input + output) of one op, per image
        self.largest_tensor = 0  # elements of the largest input or output of one op, per image
        self.largest_block_input = 0  # a block keeps its input for the shortcut during backward

    def new(self, shape: P.Shape, itemsize: int | None = None, needs_grad: bool = True) -> _Value:
        self.ids += 1
        return _Value(self.ids, shape, self.act if itemsize is None else itemsize, needs_grad)

    def save(self, v: _Value) -> int:
        """Bytes newly kept by saving ``v`` (0 when its storage is already saved)."""
        if v.id in self.saved:
            return 0
        self.saved.add(v.id)
        return self.batch * math.prod(v.shape) * v.itemsize

    def enter(self, stage: str, block: str, x: _Value) -> None:
        self.stage, self.block = stage, block
        if block not in ("stem", "head"):
            self.largest_block_input = max(self.largest_block_input, math.prod(x.shape))

    def leaf(self, op: P.Leaf, x: _Value) -> _Value:
        view = getattr(op, "view", None)
        shape = view(x.shape) if view is not None else x.shape  # torch.flatten, ECA's channels: views
        out_shape = op.out_shape(shape)
        macs = self.batch * op.macs(out_shape)
        saved, out = 0, self.new(out_shape)
        rule = P.OPS[op.type].saves
        if P.OPS[op.type].mac:
            if self.autocast and x.itemsize != self.act:  # the float32 image: autocast saves its cast copy
                x = self.new(x.shape, needs_grad=x.needs_grad)
            saved = self.save(x)
            if self.autocast:  # the low-precision weight copy (a fresh storage; the bias copy is not saved)
                saved += op.weight_elements * self.act
        elif rule == "input+stats":
            saved = self.save(x) + _stat_bytes(op, self.batch)
        elif rule == "output":  # in place: the output is the input's storage
            out = x
            saved = self.save(out)
        elif rule == "input+indices":
            saved = self.save(x) + self.save(self.new(out_shape, INDEX_BYTES))
        elif rule == "input":
            saved = self.save(x)
        # "nothing": avgpool (a mean), option A (a strided view, then F.pad copies): a new storage out
        params = op.params
        self.largest_pair = max(self.largest_pair, math.prod(shape) + math.prod(out_shape))
        self.largest_tensor = max(self.largest_tensor, math.prod(shape), math.prod(out_shape))
        self.rows.append(TrainRow(
            name=op.name, type=op.type, stage=self.stage, block=self.block,
            forward_macs=macs,
            backward_input_macs=macs if x.needs_grad else 0,
            backward_weight_macs=macs,
            param_bytes=params * WEIGHT_BYTES, grad_bytes=params * WEIGHT_BYTES,
            optimizer_bytes=self.optimizer.state_bytes(params, _param_tensors(op)),
            buffer_bytes=_buffer_bytes(op),
            saved_bytes=saved,
        ))
        return out

    def merge(self, op: P.Merge, xs: list[_Value]) -> _Value:
        """The sum (Fig. 3a) or concat (3b) of paths and the residual add save nothing; a gate's product saves
        both its operands. Each makes a new storage."""
        shape = op.out_shape([x.shape for x in xs])
        saved = sum(self.save(x) for x in xs) if P.OPS[op.type].saves == "both" else 0
        self.rows.append(TrainRow(op.name, op.type, self.stage, self.block, 0, 0, 0, 0, 0, 0, 0, saved))
        self.largest_pair = max(self.largest_pair, 2 * math.prod(shape))  # its gradient passes to each input
        self.largest_tensor = max(self.largest_tensor, math.prod(shape))
        return self.new(shape)


# --- the public functions ----------------------------------------------------------------------------
def train_cost(
    spec: ArchSpec,
    *,
    batch_size: int = 1,
    input_size: Any = None,
    precision: str = "float32",
    optimizer: str = "sgd",
) -> TrainCost:
    """The MACs and memory of one training step (forward, backward, optimizer step), from the plan alone.

    The peak is a conservative estimate, the sum of (bytes):

    - ``weights``, ``buffers`` (BN running statistics), ``gradients`` (float32, one per parameter) and
      ``optimizer_state`` (see :class:`Optimizer`): all live for the whole step in steady state.
    - ``saved_activations``: exact (see the module docstring). Autograd frees them as backward proceeds
      while it allocates the gradients, so adding both over-counts — but less than one would think: a
      ResNet keeps most activations in its early layers and most parameters in its late ones, and backward
      runs late to early, so at the peak most of both are live (measured on CPU in float32 with SGD, this
      sum plus the two terms below came to 1.1–1.25× the real peak).
    - ``input_batch``: the float32 input, under autocast only (in float32 it is one of the saved tensors).
    - ``gradients_in_flight``: during backward one op holds the gradient arriving at it and the one it
      produces, while the block's shortcut holds the gradient of the block input: the largest
      (input + output) of one op plus the largest block input, in the activations' precision.
    - ``workspace``: one more tensor the size of the largest activation, for the scratch an op allocates
      beside its gradients (measured on CPU: batch-norm backward's ``empty_like`` and oneDNN's reorders of
      a conv's gradient each take one; cuDNN's workspaces are of that order).
    - ``optimizer_temporaries``: what ``step()`` allocates (multi-tensor Adam: one float32 copy of all
      parameters); it runs after the activations are freed, so adding it is conservative too.

    Not included: the CUDA context (a few hundred MiB outside PyTorch's allocator), the caching allocator's
    rounding and fragmentation, cuDNN workspaces larger than the one modelled (``benchmark=True`` may pick
    such algorithms) and a ``GradScaler``'s few bytes: leave some headroom below the device's size.

    Args:
        spec: the architecture.
        batch_size: images per step, 1 or more; every figure is for the whole batch.
        input_size: ``(channels, height, width)``; default ``spec.input_size``.
        precision: ``"float32"``, or ``"bfloat16"``/``"float16"`` autocast with float32 weights.
        optimizer: a key of :data:`OPTIMIZERS`: ``"sgd"``, ``"sgd_momentum"``, ``"adam"``, ``"adamw"``.

    Raises:
        SpecError: a bad batch size, input size, precision or optimizer. The cost is for any device.
    """
    batch_size = check_batch_size(batch_size)
    precision = check_precision(precision)
    opt = check_optimizer(optimizer)
    size = analyze(spec, input_size).input_size  # validates the size; names the field on error
    if batch_size < min_batch_size(spec, size):
        raise SpecError("batch_size", f"batch 1 cannot train {spec.name} at {'×'.join(map(str, size))}: "
                        f"{_single_value_bn(spec, size)} would see one value per channel, and batch norm "
                        "needs more than one to normalize; use batch 2 or more, or a larger input")
    return _train_cost(spec, size, batch_size, precision, opt)


def _single_value_bn(spec: ArchSpec, size: tuple[int, int, int]) -> str | None:
    """The first BN whose output is 1×1 (torch refuses to train it on a single image), if any."""
    return next((r.name for r in analyze(spec, size).layers if r.type == "bn" and r.out_shape[1:] == (1, 1)), None)


def min_batch_size(spec: ArchSpec, input_size: Any = None) -> int:
    """The smallest batch torch can train: 2 where some BN sees a 1×1 map (batch statistics of one value), else 1."""
    size = analyze(spec, input_size).input_size
    return 2 if _single_value_bn(spec, size) else 1


@lru_cache(maxsize=512)  # specs are hashable; the app asks again for every GPU size and every rerun
def _train_cost(
    spec: ArchSpec, size: tuple[int, int, int], batch: int, precision: str, opt: Optimizer
) -> TrainCost:
    w = _Saved(batch, precision, opt)
    image = _Value(0, size, 4, needs_grad=False)  # the float32 input batch; no gradient flows into it
    P.walk(P.make_plan(spec), w, image)
    rows = tuple(w.rows)
    param_bytes = sum(r.param_bytes for r in rows)
    peak = Peak(
        weights=param_bytes,
        buffers=sum(r.buffer_bytes for r in rows),
        gradients=sum(r.grad_bytes for r in rows),
        optimizer_state=sum(r.optimizer_bytes for r in rows),
        saved_activations=sum(r.saved_bytes for r in rows),
        input_batch=batch * math.prod(size) * 4 if w.autocast else 0,
        gradients_in_flight=batch * (w.largest_pair + w.largest_block_input) * w.act,
        workspace=batch * w.largest_tensor * w.act,
        optimizer_temporaries=opt.temporaries * param_bytes,
    )
    return TrainCost(spec, size, batch, precision, opt.name, rows, peak)


def max_batch_size(
    spec: ArchSpec,
    budget_bytes: float,
    *,
    input_size: Any = None,
    precision: str = "float32",
    optimizer: str = "sgd",
) -> int:
    """The largest batch size whose estimated peak (:func:`train_cost`) fits ``budget_bytes``; 0 if none.

    0 also when only batch 1 fits but the network cannot train at batch 1 (see :func:`min_batch_size`).

    The peak is affine in the batch size (every batch-dependent term is per image), so the answer is
    solved exactly from batches 1 and 2, then checked at its boundary.
    """
    budget = check_bytes(budget_bytes)
    precision = check_precision(precision)
    opt = check_optimizer(optimizer)
    size = analyze(spec, input_size).input_size

    def peak(b: int) -> int:
        return _train_cost(spec, size, b, precision, opt).peak.total

    low = min_batch_size(spec, size)
    one, two = peak(1), peak(2)
    if peak(low) > budget:
        return 0
    per_image, fixed = two - one, 2 * one - two
    b = min(MAX_COUNTED_BATCH, (budget - fixed) // per_image)
    while b > low and peak(b) > budget:  # guards the affine solution; runs zero times when it holds
        b -= 1
    while b < MAX_COUNTED_BATCH and peak(b + 1) <= budget:
        b += 1
    return b


__all__ = [
    "CONVENTIONS", "GPU_MEMORY", "OPTIMIZERS", "PRECISIONS", "TRAIN_FIELDS", "Optimizer", "Peak", "TrainCost", "TrainRow",
    "budget_from_gb", "check_batch_size", "check_bytes", "check_optimizer", "check_precision",
    "flop_counter_excess", "max_batch_size", "min_batch_size", "train_cost",
]
