"""The devices this process can build and measure on: CPU always, CUDA GPUs and Apple's MPS when present."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import torch

from ..core.errors import SpecError


@dataclass(frozen=True)
class DeviceInfo:
    """A device this process can measure on.

    Attributes:
        name: the device string to pass back (``"cpu"``, ``"cuda:0"``, ``"mps"``).
        kind: ``"cpu"``, ``"cuda"`` or ``"mps"``.
        model: the CPU or GPU model name, e.g. ``"AMD EPYC"`` or ``"NVIDIA H100 80GB HBM3"``.
        cores: logical CPUs available to this process (CPU) or streaming multiprocessors (CUDA).
        memory_bytes: total memory of the device (host RAM for the CPU), None if unknown.
        dtypes: the dtypes :func:`measure_latency` accepts on it.
    """

    name: str
    kind: str
    model: str
    cores: int | None
    memory_bytes: int | None
    dtypes: tuple[str, ...]

    @property
    def label(self) -> str:
        """A one-line description for a select box, e.g. ``"cuda:0 (NVIDIA H100 80GB HBM3, 79.1 GiB)"``."""
        extra = [self.model]
        if self.kind == "cpu" and self.cores:
            extra.append(f"{self.cores} cores")
        elif self.memory_bytes:
            extra.append(f"{self.memory_bytes / 2**30:.1f} GiB")
        return f"{self.name} ({', '.join(extra)})"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "dtypes": list(self.dtypes), "label": self.label}


def available_devices() -> list[DeviceInfo]:
    """The devices present: ``cpu`` always, then ``cuda:N`` for each visible GPU, then ``mps``."""
    return list(_devices())


@lru_cache(maxsize=1)
def _devices() -> tuple[DeviceInfo, ...]:
    out = [DeviceInfo("cpu", "cpu", cpu_name(), _cpu_count(), meminfo("MemTotal"), dtypes_for("cpu"))]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            out.append(DeviceInfo(f"cuda:{i}", "cuda", p.name, p.multi_processor_count, p.total_memory,
                                  dtypes_for(f"cuda:{i}")))
    if _mps_available():
        mem = torch.mps.recommended_max_memory() if hasattr(torch.mps, "recommended_max_memory") else None
        out.append(DeviceInfo("mps", "mps", f"Apple GPU ({platform.machine()})", None, mem, dtypes_for("mps")))
    return tuple(out)


def device_model(device: str) -> str:
    """The model name of a device string (``"cpu"`` → the CPU's name), or the string itself if unknown."""
    return next((d.model for d in _devices() if d.name == device), device)


def cpu_name() -> str:
    """The CPU model name: /proc/cpuinfo's "model name", else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _cpu_count() -> int | None:
    try:
        return len(os.sched_getaffinity(0))  # a container may see fewer CPUs than the host has
    except (AttributeError, OSError):
        return os.cpu_count()


def meminfo(key: str) -> int | None:
    """A /proc/meminfo entry in bytes (Linux only)."""
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _mps_available() -> bool:
    return hasattr(torch.backends, "mps") and torch.backends.mps.is_available()


@lru_cache(maxsize=None)
def check_dtype(dtype: str, device: Any, field: str = "dtype") -> str:
    """``dtype`` if ``device`` runs it at real speed (:func:`dtypes_for`), else a ``SpecError`` naming ``field``
    (``"dtype"`` for a measurement, ``"precision"`` for a training step) that says why and what it runs."""
    dev = resolve_device(device)
    supported = dtypes_for(str(dev))
    if dtype in supported:
        return dtype
    why = {
        ("cpu", "float16"): "this CPU has no native half precision, so PyTorch would use a reference path "
        "30-50x slower than float32 and the figure would mislead",
        ("cuda", "bfloat16"): "this GPU has no native bfloat16 (it needs compute capability 8.0 or newer)",
        ("mps", "bfloat16"): "bfloat16 on MPS needs macOS 14 or newer",
    }.get((dev.type, dtype), "the device cannot run it")
    raise SpecError(field, f"{dtype} is not supported on {dev} ({why}); use {' or '.join(supported)}")


def dtypes_for(device: str) -> tuple[str, ...]:
    """The dtypes a device runs at real speed (see the module docstring for the policy)."""
    dev = torch.device(device)
    if dev.type == "cpu":
        return ("float32", "bfloat16") + (("float16",) if _cpu_has_fp16() else ())
    if dev.type == "cuda":
        with torch.cuda.device(dev):
            bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
        return ("float32", "float16") + (("bfloat16",) if bf16 else ())
    try:  # bfloat16 on MPS needs macOS 14
        torch.ones(1, device=dev, dtype=torch.bfloat16)
        return ("float32", "float16", "bfloat16")
    except (RuntimeError, TypeError):
        return ("float32", "float16")


def _cpu_has_fp16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_fp16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_device(device: str | torch.device) -> torch.device:
    """A present device with an explicit index (``"cuda"`` → ``cuda:0``), or a ``SpecError`` naming "device"."""
    names = ", ".join(d.name for d in _devices())
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise SpecError("device", f"{device!r} is not a device name; available devices: {names}") from None
    if dev.type in ("cpu", "meta"):
        return torch.device(dev.type)
    if dev.type == "cuda" and torch.cuda.is_available():
        index = torch.cuda.current_device() if dev.index is None else dev.index
        if index < torch.cuda.device_count():
            return torch.device("cuda", index)
    if dev.type == "mps" and _mps_available():
        return torch.device("mps")
    raise SpecError("device", f"{str(device)!r} is not available here; available devices: {names}")
