"""Resource guard: estimate memory from the analysis before allocating, refuse what won't fit.

Analysis alone works for any network; building and running allocate real memory, so every library
function that allocates (``build_model``, the measurements, the equivalence checks, the fvcore profile,
the live tool counts, ONNX export) calls ``check_memory`` itself before it allocates. The estimate is
deliberately conservative (it over-counts rather than under-counts) and the budget is configurable:

- ``EXPLORER_MEMORY_BUDGET_MB``: a fixed budget in MiB, or
- ``EXPLORER_MEMORY_FRACTION``: a fraction of what is available (default 0.5) — the machine's
  available RAM for the CPU (``MemAvailable``), the free memory of a GPU.

Library users can pass an explicit ``budget`` (bytes) to any of those functions; ``math.inf`` skips it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from ..core.analysis import Analysis
from ..core.errors import ResourceError, SpecError

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}
DEFAULT_FRACTION = 0.5


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes needed to build the model and run it forward (inference) at a batch size."""

    params_bytes: int
    buffers_bytes: int
    activations_bytes: int
    workspace_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.params_bytes + self.buffers_bytes + self.activations_bytes + self.workspace_bytes


def estimate_memory(analysis: Analysis, batch_size: int = 1, dtype: str = "float32") -> MemoryEstimate:
    """Parameters + BN running statistics + the peak of live activations + a conv workspace.

    ``batch_size=0`` estimates building alone. At inference a block keeps its input alive for the shortcut
    while its main branch runs, so the peak is bounded by the largest block input plus the largest
    (input + output) pair of one layer.
    """
    if dtype not in DTYPE_BYTES:
        raise SpecError("dtype", f"must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
    b = DTYPE_BYTES[dtype]
    bn_channels = sum(r.params // 2 for r in analysis.layers if r.type == "bn")
    biggest_pair = max(math.prod(r.in_shape) + math.prod(r.out_shape) for r in analysis.layers)
    biggest_input = max(math.prod(r.in_shape) for r in analysis.layers)
    biggest_output = max(r.output_elements for r in analysis.layers)
    return MemoryEstimate(
        params_bytes=analysis.params * b,
        buffers_bytes=(2 * bn_channels) * b,
        activations_bytes=batch_size * (biggest_pair + biggest_input) * b,
        # oneDNN / cuDNN scratch and allocator slack: ResNet-50 at batch 8 on CPU peaked 245 MiB above
        # the baseline against 196 MiB for the other terms, so allow four of the largest layer outputs.
        workspace_bytes=4 * batch_size * biggest_output * b,
    )


def available_bytes(device: str = "cpu") -> int:
    """What the device has available now: MemAvailable for the CPU, free memory for a CUDA device."""
    from .devices import meminfo, resolve_device

    dev = resolve_device(device)  # a SpecError naming "device" when it is not here
    if dev.type == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info(dev)
        return int(free)
    available = meminfo("MemAvailable")
    if available is not None:
        return available
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))


def budget_bytes(device: str = "cpu") -> int:
    """The memory budget for building and running, from the environment (see module docstring).

    Raises:
        SpecError: a variable is set but is not a finite positive number (the fraction: at most 1); the
            message names the variable.
    """
    fixed = os.environ.get("EXPLORER_MEMORY_BUDGET_MB", "").strip()
    if fixed:
        return int(_env_number("EXPLORER_MEMORY_BUDGET_MB", fixed, "a number of MiB above 0", high=2.0**40) * 2**20)
    raw = os.environ.get("EXPLORER_MEMORY_FRACTION", "").strip()
    fraction = _env_number("EXPLORER_MEMORY_FRACTION", raw, "a fraction above 0 and at most 1", high=1.0) \
        if raw else DEFAULT_FRACTION
    return int(available_bytes(device) * fraction)


def _env_number(name: str, text: str, what: str, high: float) -> float:
    """The number an environment variable holds, or a ``SpecError`` naming the variable."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= high):
        raise SpecError(name, f"must be {what}, got {text[:20]!r}")
    return value


def resolve_budget(budget: float | None, device: str = "cpu") -> float:
    """The budget in bytes a caller gave (``math.inf`` = none), or the environment's; the one place a budget is
    checked.

    Raises:
        SpecError: ``budget`` is not a number of bytes ≥ 0 or ``math.inf`` (NaN would turn every check off).
    """
    if budget is None:
        return budget_bytes(device)
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or math.isnan(budget) or budget < 0:
        raise SpecError("budget", f"must be a number of bytes (at least 0), or math.inf for none; got {budget!r}")
    return budget


def check_budget(need: int, *, what: str, device: str = "cpu", budget: float | None = None,
                 parts: str = "") -> None:
    """Raise ``ResourceError`` if ``need`` bytes exceed the budget (``math.inf`` never does)."""
    limit = resolve_budget(budget, device)
    if limit == math.inf:
        return
    if need > limit:
        raise ResourceError("memory", f"{what} needs about {mib(need)}{f' ({parts})' if parts else ''}, over the "
                            f"{mib(limit)} budget on {device}; use a smaller batch, input or network "
                            "(the analysis itself works at any size)")


def check_memory(
    analysis: Analysis, *, batch_size: int = 1, dtype: str = "float32", device: str = "cpu",
    budget: float | None = None, what: str = "running",
) -> MemoryEstimate:
    """The estimate, or a ``ResourceError`` (with the estimate and the limit) if it exceeds the budget."""
    estimate = estimate_memory(analysis, batch_size, dtype)
    doing = f"building {analysis.name}" if batch_size == 0 else f"{what} {analysis.name} at batch {batch_size}"
    check_budget(estimate.total_bytes, what=f"{doing} in {dtype}", device=device, budget=budget,
                 parts=f"parameters {mib(estimate.params_bytes)}, activations {mib(estimate.activations_bytes)}")
    return estimate


def mib(n: float) -> str:
    """Bytes in binary units, for messages."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}" if unit != "MiB" else f"{n / scale:,.0f} MiB"
    return f"{n / 2**10:,.1f} KiB"
