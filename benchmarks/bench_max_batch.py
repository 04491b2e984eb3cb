"""The largest training batch that fits on a GPU: predicted by the estimate against a probe of real steps.

Predicted: ``explorer.costs.training.max_batch_size(spec, free)``, the largest batch whose estimated peak of one
training step (``train_cost(...).peak``) fits ``free``, the device memory free when the probe starts
(``torch.cuda.mem_get_info``, after the CUDA context is made). Probed: real training steps
(``explorer.measure.train_step.measure_train_step``: one warm-up step and one timed step, the memory budget off),
first from the prediction up or down (by 1.25, then by the square of the last factor) until one batch ran
and another ran out of memory, then bisecting that bracket until it is within ``--tolerance`` (default 2%)
of the batch that ran, or until ``--max-seconds``. The result is the bracket: the largest batch that ran
and the smallest that ran out of memory (``OutOfMemory``; memory is freed after each step and each failure).

CUDA only: a CPU's memory is the host's, and probing it would swap the machine rather than fail. On any
other device the script says so and exits 0, so ``benchmarks/gpu_check.py`` can call it everywhere.

With ``--write`` the result goes into ``benchmarks/README.md`` between the ``bench_max_batch`` markers (the
cuda block).

    .venv/bin/python benchmarks/bench_max_batch.py --device cuda --write      # resnet50, float32 and bfloat16
    .venv/bin/python benchmarks/bench_max_batch.py --device cuda --models resnet18 --precisions float32
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import command, device_info, machine, started, write_block  # noqa: E402

from explorer.build.guard import mib  # noqa: E402
from explorer.core.run_fields import MAX_BATCH  # noqa: E402
from explorer.costs.training import OPTIMIZERS, PRECISIONS, max_batch_size, train_cost  # noqa: E402

NAMES = ("resnet50",)
STEP = 1.25  # the factor between the first probes, before the bisection
GiB = 2**30


@dataclass
class Bracket:
    """What a search found: ``fits`` ran (0: none did), ``fails`` ran out of memory (None: none did)."""

    fits: int = 0
    fails: int | None = None
    tried: list[tuple[int, bool]] = field(default_factory=list)
    stopped: str = ""  # why the search ended: "within tolerance", "at the limit", "out of time", or an error

    def add(self, batch: int, ok: bool) -> None:
        self.tried.append((batch, ok))
        if ok:
            self.fits = max(self.fits, batch)
        elif self.fails is None or batch < self.fails:
            self.fails = batch


def search_largest(fits: Callable[[int], bool], start: int, *, limit: int, tolerance: float = 0.02,
                   out_of_time: Callable[[], bool] = lambda: False) -> Bracket:
    """The largest batch for which ``fits(batch)`` holds, assuming it holds for every smaller one.

    From ``start`` (clamped to 1..limit) it steps up or down, by :data:`STEP` first and by the square of the
    last factor after that (a prediction far off costs a few probes, not dozens), until one batch fits and
    another does not (or ``limit`` fits, or batch 1 does not), then bisects until ``fails - fits`` is at most
    ``max(1, tolerance * fits)``. ``out_of_time()`` is asked before every probe; an exception from ``fits``
    ends the search with its message in ``stopped``.
    """
    r = Bracket()
    batch = min(max(1, start), limit)
    factor = STEP

    def probe(b: int) -> bool:
        ok = fits(b)
        r.add(b, ok)
        return ok

    try:
        while r.fits == 0 or r.fails is None:  # bracket it
            if out_of_time():
                r.stopped = "out of time"
                return r
            if probe(batch):
                if batch >= limit:
                    r.stopped = "at the limit"
                    return r
                batch = min(limit, max(batch + 1, math.ceil(batch * factor)))
            else:
                if batch <= 1:
                    r.stopped = "batch 1 does not fit"
                    return r
                batch = max(1, min(batch - 1, math.floor(batch / factor)))
            factor *= factor
        while r.fails - r.fits > max(1, tolerance * r.fits):  # then bisect it
            if out_of_time():
                r.stopped = "out of time"
                return r
            probe((r.fits + r.fails) // 2)
        r.stopped = "within tolerance"
    except Exception as e:  # noqa: BLE001 (a device failure other than out-of-memory: record it, keep the bracket)
        r.stopped = f"stopped: {str(e).splitlines()[0][:200] if str(e) else type(e).__name__}"
    return r


def probe_one(name: str, precision: str, optimizer: str, device: str, tolerance: float, seconds: float) -> dict:
    """Predict, then probe, the largest batch of one preset in one precision on a CUDA device."""
    import torch

    from explorer import get_preset
    from explorer.core.errors import OutOfMemory
    from explorer.measure.timing import Settings, free_memory
    from explorer.measure.train_step import measure_train_step

    spec = get_preset(name)
    base = Settings(device=device, warmup=1, min_runs=1, min_seconds=0.0, max_seconds=max(seconds, 1.0),
                    budget=math.inf)
    free_memory(base.torch_device)
    free, total = torch.cuda.mem_get_info(base.torch_device)
    predicted = max_batch_size(spec, free, precision=precision, optimizer=optimizer)
    peaks: dict[int, int | None] = {}
    end = time.monotonic() + seconds
    last = [0.0]  # the last probe's duration: stop before one that would end past the limit

    def fits(batch: int) -> bool:
        t0 = time.monotonic()
        try:
            [r] = measure_train_step(spec, base.edit(batch_size=batch), precision=precision, optimizer=optimizer)
            peaks[batch] = r.measured_peak_bytes
            ok = True
        except OutOfMemory:
            ok = False
        free_memory(base.torch_device)
        last[0] = time.monotonic() - t0
        print(f"  {name} {precision} batch {batch}: {'ran' if ok else 'out of memory'} ({last[0]:.1f} s)", flush=True)
        return ok

    limit = min(MAX_BATCH, 4 * max(predicted, 1) + 64)
    t0 = time.monotonic()
    bracket = search_largest(fits, predicted or 1, limit=limit, tolerance=tolerance,
                             out_of_time=lambda: time.monotonic() + last[0] > end)
    estimate = (train_cost(spec, batch_size=bracket.fits, precision=precision, optimizer=optimizer).peak.total
                if bracket.fits else None)
    return {"model": name, "precision": precision, "free": free, "total": total, "predicted": predicted,
            "bracket": bracket, "estimate_at_fits": estimate, "measured_at_fits": peaks.get(bracket.fits),
            "seconds": time.monotonic() - t0}


def _ratio(row: dict) -> str:
    b: Bracket = row["bracket"]
    return f"{row['predicted'] / b.fits:.0%}" if b.fits else "–"


def render(rows: list[dict], optimizer: str, tolerance: float, machine_line: str, cmd: str) -> str:
    """The markdown block of the cuda kind."""
    opt = OPTIMIZERS[optimizer].label
    out = [f"### cuda: {machine_line}", "", f"Command: `{cmd}`", "",
           f"**Largest training batch** ({opt}; free = device memory free at the start, after the CUDA context; "
           "predicted = `max_batch_size(spec, free)`; probe = real training steps, one warm-up and one timed, "
           f"the memory budget off, stepped by ×{STEP} from the prediction, then bisected to within "
           f"{tolerance:.0%}; peaks at the largest batch that ran):", "",
           "| network | precision | free | predicted | largest that ran | smallest out of memory | "
           "predicted / ran | estimated peak | measured peak | probes | seconds | ended |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        b: Bracket = r["bracket"]
        label = r["precision"] if r["precision"] == "float32" else f"{r['precision']} autocast"
        est = mib(r["estimate_at_fits"]) if r["estimate_at_fits"] else "–"
        meas = mib(r["measured_at_fits"]) if r["measured_at_fits"] else "–"
        out.append(f"| {r['model']} | {label} | {r['free'] / GiB:,.1f} GiB | {r['predicted']:,} | {b.fits:,} | "
                   f"{'–' if b.fails is None else f'{b.fails:,}'} | {_ratio(r)} | {est} | {meas} | {len(b.tried)} | "
                   f"{r['seconds']:.0f} | {b.stopped} |")
    out += ["", "Probes in order (batch: ran / OOM):", ""]
    out += [f"- {r['model']}, {r['precision']}: " + ", ".join(f"{n} {'ran' if ok else 'OOM'}"
                                                             for n, ok in r["bracket"].tried) for r in rows]
    return "\n".join(out)


INTRO = """## Largest training batch: predicted vs probed (`benchmarks/bench_max_batch.py`)

The estimate (`explorer.costs.training.max_batch_size`, from `train_cost(...).peak`) is meant to be conservative:
it adds the saved activations and the gradients as if all were live at once, and leaves out the CUDA
context and the allocator's caching. The probe runs real training steps (`explorer.measure.train_step`) on the
GPU and searches for the largest batch that does not run out of memory. "predicted / ran" below 100%
means the estimate left memory unused; above 100% would mean it promised a batch that does not fit."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="a CUDA device (default cuda); any other is skipped")
    parser.add_argument("--models", nargs="+", default=list(NAMES), help=f"presets (default {' '.join(NAMES)})")
    parser.add_argument("--precisions", nargs="+", default=["float32", "bfloat16"], choices=PRECISIONS,
                        help="default float32 bfloat16 (autocast)")
    parser.add_argument("--optimizer", default="sgd_momentum", choices=tuple(OPTIMIZERS),
                        help="default sgd_momentum, as in bench_train.py")
    parser.add_argument("--tolerance", type=float, default=0.02,
                        help="stop bisecting when the bracket is within this fraction (default 0.02)")
    parser.add_argument("--max-seconds", type=float, default=150.0,
                        help="time for all the probes together, shared equally (default 150)")
    parser.add_argument("--write", action="store_true", help="record the result in benchmarks/README.md")
    args = parser.parse_args(argv)

    from explorer import get_preset
    from explorer.core.errors import SpecError

    try:
        info = device_info(args.device)
        names = [get_preset(n).name for n in args.models]
        if not 0 < args.tolerance < 1 or args.max_seconds <= 0:
            raise SpecError("tolerance", "--tolerance must be between 0 and 1 and --max-seconds positive")
    except (SpecError, KeyError) as e:
        print(f"bench_max_batch: {e}", file=sys.stderr)
        return 2
    if info.kind != "cuda":
        print(f"bench_max_batch: no CUDA device: skipped the probe ({info.name} has no allocator that runs out; "
              "probing host memory would swap)", flush=True)
        return 0
    pairs = [(n, p) for n in names for p in args.precisions if p in info.dtypes]
    for n, p in [(n, p) for n in names for p in args.precisions if p not in info.dtypes]:
        print(f"  {n} {p}: skipped, {info.model} has no native {p}", flush=True)
    load_start = started(info, 1)
    rows = []
    for name, precision in pairs:
        print(f"{name}, {precision}:", flush=True)
        rows.append(probe_one(name, precision, args.optimizer, info.name, args.tolerance,
                              args.max_seconds / max(1, len(pairs))))
        b = rows[-1]["bracket"]
        print(f"  predicted {rows[-1]['predicted']}, ran {b.fits}, out of memory at {b.fails} ({b.stopped})",
              flush=True)
    block = render(rows, args.optimizer, args.tolerance, machine(info, 1, load_start),
                   command("bench_max_batch.py", argv))
    print("\n" + block)
    if args.write:
        write_block("bench_max_batch", info.kind, INTRO, block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
