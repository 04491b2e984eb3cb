"""What every benchmark script shares, so they all describe a run the same way: the machine line (device, host
CPU, threads, load average at start and end, versions, date), the command that reproduces a run, the thread
setting, the cell of a paired ratio with its interval, and the writer of ``benchmarks/README.md`` sections.

``BENCH_README`` in the environment names another file to write them to (``benchmarks/gpu_check.py`` writes a copy
under its output folder, so a GPU run never edits the repository's README in place).

Importing it does not import torch (the browser benchmarks start the app's server through their own module,
and the app's first screens never load torch); the functions that need torch import it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if TYPE_CHECKING:
    from explorer.build.devices import DeviceInfo
    from explorer.measure.latency import Ratio

README = Path(os.environ.get("BENCH_README") or Path(__file__).with_name("README.md"))


def device_info(device: str) -> DeviceInfo:
    """The ``DeviceInfo`` of a device string (``"cuda"`` → ``cuda:0``); ``SpecError`` naming "device" if absent."""
    from explorer.build.devices import available_devices, resolve_device

    name = str(resolve_device(device))
    return next(d for d in available_devices() if d.name == name)


def load_average() -> float:
    """The 1-minute load average (NaN where the OS has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def today() -> str:
    return f"{dt.datetime.now(dt.UTC):%Y-%m-%d}"


def host(load_at_start: float, threads: int | None = None) -> str:
    """The host CPU, its cores, the threads used (if given), and the load average at the start and now."""
    from explorer.build.devices import cpu_name  # imports torch

    used = f", {threads} thread{'s' if threads != 1 else ''}" if threads is not None else ""
    return (f"{cpu_name()} ({os.cpu_count()} cores){used}, load average {load_at_start:.1f} at start and "
            f"{load_average():.1f} at the end")


def machine(info: DeviceInfo, threads: int, load_at_start: float) -> str:
    """Where and when a run was made: device, host CPU, threads, load average at start and now, versions, date."""
    import torch
    import torchvision

    host_line = host(load_at_start, threads)
    versions = f"torch {torch.__version__}, torchvision {torchvision.__version__}"
    if info.kind == "cuda":
        memory = f", {info.memory_bytes / 2**30:.0f} GiB" if info.memory_bytes else ""
        cudnn = torch.backends.cudnn.version()
        versions += f", CUDA {torch.version.cuda}, cuDNN {cudnn}"
        host_line = f"{info.model}{memory}; host {host_line}"
    elif info.kind == "mps":
        host_line = f"{info.model}; host {host_line}"
    return f"{host_line}; {versions}; {today()}"


def started(info: DeviceInfo, threads: int) -> float:
    """Print what the run is on; return the load average at its start (the machine line quotes it)."""
    import torch

    load = load_average()
    print(f"{info.label}, {threads} thread{'s' if threads != 1 else ''}, load average {load:.1f}; "
          f"torch {torch.__version__}", flush=True)
    return load


def command(script: str, argv: Sequence[str] | None) -> str:
    """The command line that reproduces this run."""
    return " ".join([f".venv/bin/python benchmarks/{script}", *(sys.argv[1:] if argv is None else argv)])


def ci(r: Ratio) -> str:
    """A table cell: '1.112 (1.081–1.140)'; the coverage is added when it is below 95% (fewer than 6 rounds)."""
    low = f", {r.coverage:.0%} CI" if r.coverage < 0.95 else ""
    return f"{r.median:.3f} ({r.low:.3f}–{r.high:.3f}{low})"


def add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for the whole run (default 1: on a shared CPU several threads wait on "
                        "each other whenever another process runs, and timings become erratic)")


def set_threads(threads: int) -> None:
    """Validate and apply the thread count for the whole process (model building, probes, timers)."""
    import torch

    from explorer.measure.timing import Settings

    Settings(threads=threads)  # the library's own check: a SpecError naming "threads"
    torch.set_num_threads(threads)


def _blocks(section: str, text: str) -> tuple[re.Match | None, dict[str, str]]:
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    match = re.search(re.escape(start) + r"(.*?)" + re.escape(end), text, re.S)
    if not match:
        return None, {}
    pattern = rf"(<!-- {re.escape(section)}:(\w+):start -->\n?(.*?)\n?<!-- {re.escape(section)}:\2:end -->)"
    return match, {k: body for _, k, body in re.findall(pattern, match.group(1), re.S)}


def read_block(section: str, kind: str) -> str:
    """The ``kind`` block of ``section`` in benchmarks/README.md, or "" where there is none."""
    text = README.read_text(encoding="utf-8") if README.exists() else ""
    return _blocks(section, text)[1].get(kind, "")


def write_block(section: str, kind: str, intro: str, block: str) -> None:
    """Put ``block`` as the ``kind`` block (cpu, cuda, mps) of ``section`` in benchmarks/README.md.

    The section is ``<!-- section:start -->`` + intro + one ``<!-- section:kind:start -->`` block per device
    kind + ``<!-- section:end -->``; the other kinds' blocks and the rest of the README are kept.
    """
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    match, blocks = _blocks(section, text)
    blocks[kind] = block.strip()
    order = sorted(blocks, key=lambda k: (not k.startswith("cpu"), k))  # CPU blocks first
    body = f"{start}\n{intro.strip()}\n\n" + "\n\n".join(
        f"<!-- {section}:{k}:start -->\n{blocks[k]}\n<!-- {section}:{k}:end -->" for k in order) + f"\n{end}"
    if match:
        text = text[: match.start()] + body + text[match.end():]
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    README.write_text(text, encoding="utf-8")
    print(f"wrote the {kind} block of {section} in {README}", file=sys.stderr)
