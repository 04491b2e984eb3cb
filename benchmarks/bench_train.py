"""Measured training steps: ResNet-50 vs ResNeXt-50, and on a GPU the measured peak memory against the estimate.

1. Training steps of resnet50 and resnext50_32x4d, interleaved (``explorer.measure.train_step.measure_train_step``:
   zero_grad, forward in train mode, cross-entropy, backward, optimizer step), by default batch 8 on a CPU
   (64 on a GPU), float32, SGD with momentum, 1 thread: the medians, p10/p90, images/s, the achieved
   multiply-adds per second as a share of the device's matmul peak, and the paired time ratio with its
   confidence interval beside the exact ratio of training FLOPs (``explorer.costs.training.train_cost``).
2. On CUDA only: one ResNet-50 training step at batch 64 in float32 and in bfloat16 autocast: the peak the
   allocator measured (``torch.cuda.max_memory_allocated`` over the timed steps) against the analytic
   estimate, and their difference.

With ``--write`` the result goes into ``benchmarks/README.md`` between the ``bench_train`` markers, one
block per device kind (a GPU run keeps the CPU block and the other way round).

    .venv/bin/python benchmarks/bench_train.py --write                 # CPU, 1 thread: about 2-3 minutes on 2 cores
    .venv/bin/python benchmarks/bench_train.py --device cuda --write   # GPU: the comparison and the memory table
    .venv/bin/python benchmarks/bench_train.py --models resnet20 resnet32 --batch-size 2 --min-runs 3 --max-seconds 3
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import (  # noqa: E402
    add_threads,
    ci,
    command,
    device_info,
    machine,
    set_threads,
    started,
    write_block,
)

from explorer import get_preset  # noqa: E402
from explorer.build.devices import DeviceInfo  # noqa: E402
from explorer.core.errors import DeviceError, SpecError  # noqa: E402
from explorer.build.guard import mib  # noqa: E402
from explorer.measure.latency import paired_ratios  # noqa: E402
from explorer.measure.roofline import peak_macs_per_second  # noqa: E402
from explorer.measure.timing import Settings  # noqa: E402
from explorer.measure.train_step import WHY_PEAKS_DIFFER, TrainStepResult, measure_train_step  # noqa: E402
from explorer.costs.training import OPTIMIZERS, PRECISIONS, train_cost  # noqa: E402

NAMES = ("resnet50", "resnext50_32x4d")
MEMORY_MODEL, MEMORY_BATCH, MEMORY_PRECISIONS = "resnet50", 64, ("float32", "bfloat16")

INTRO = """## Training steps (`benchmarks/bench_train.py`)

One step (`explorer.measure.train_step`): `zero_grad(set_to_none=True)`, the forward pass in train mode (under
`torch.autocast` for bfloat16, with float32 weights, gradients and optimizer state), cross-entropy against
fixed random labels, `backward()`, `optimizer.step()` with the real `torch.optim` optimizer. Timed like
inference (`explorer.measure.timing`): warm-up steps first (they also allocate the gradients and optimizer state),
then every step timed alone, synchronized on a GPU, the networks in rounds A B A B …; the time ratio is the
median of the per-round ratios with its distribution-free confidence interval (coverage at least 95%).
Training FLOPs = 2 × (forward + backward MACs), exact from the layer plan (`explorer.costs.training.train_cost`);
% of peak = achieved (forward + backward) MACs per second over the device's matmul MAC/s in the compute
precision. Memory in MiB/GiB (2^20/2^30 bytes)."""


def compare(specs: Sequence, s: Settings, precision: str, optimizer: str) -> dict:
    """The interleaved steps, the paired ratio, and each network's exact training cost and peak."""
    results = measure_train_step(list(specs), s, precision=precision, optimizer=optimizer)
    costs = [train_cost(spec, batch_size=s.batch_size, precision=precision, optimizer=optimizer) for spec in specs]
    peak = peak_macs_per_second(s.edit(dtype=precision))
    return {"results": results, "costs": costs, "peak": peak,
            "ratio": paired_ratios([r.latency for r in results])[0]}


def memory(s: Settings, optimizer: str, info: DeviceInfo) -> list[dict]:
    """CUDA only: ResNet-50 at batch 64 per precision, measured allocator peak vs the estimate."""
    rows = []
    for precision in MEMORY_PRECISIONS:
        if precision not in info.dtypes:
            rows.append({"precision": precision, "error": f"{info.model} has no native {precision}"})
            continue
        try:
            [r] = measure_train_step(get_preset(MEMORY_MODEL), s, precision=precision, optimizer=optimizer)
        except (DeviceError, SpecError) as e:  # out of memory, or over the memory budget
            rows.append({"precision": precision, "error": str(e)})
            print(f"  {precision}: {e}", flush=True)
            continue
        rows.append({"precision": precision, "result": r})
        print(f"  {precision}: step {r.latency.median_ms:.1f} ms, {r.memory_note().split('. ')[0]}", flush=True)
    return rows


def _signed(n: int) -> str:
    return ("+" if n >= 0 else "−") + mib(abs(n))


def render(info: DeviceInfo, s: Settings, precision: str, optimizer: str, cmp: dict, mem: list[dict] | None,
           machine_line: str, cmd: str) -> str:
    """The markdown block of one device kind."""
    results: list[TrainStepResult] = cmp["results"]
    costs, peak, ratio = cmp["costs"], cmp["peak"], cmp["ratio"]
    a, b = results
    where = "CPU" if info.kind == "cpu" else info.model
    opt = OPTIMIZERS[optimizer].label
    how = "float32" if precision == "float32" else f"{precision} autocast (float32 weights)"
    out = [f"### {info.kind}: {machine_line}", "", f"Command: `{cmd}`", "",
           f"**{a.name} vs {b.name}**, one training step: batch {s.batch_size}, {how}, {opt}, "
           f"{a.latency.runs} steps each, interleaved:", "",
           "| network | training GFLOPs per step | median (ms) | p10 (ms) | p90 (ms) | images/s | % of peak | "
           "estimated peak memory |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r, c in zip(results, costs, strict=True):
        e = r.latency
        achieved = (c.forward_macs + c.backward_macs) / (e.median_ms / 1000)
        out.append(f"| {r.name} | {c.train_flops / 1e9:,.1f} | {e.median_ms:,.1f} | {e.p10_ms:,.1f} | "
                   f"{e.p90_ms:,.1f} | {e.throughput:,.2f} | {100 * achieved / peak:.0f}% | {mib(r.estimate_bytes)} |")
    flops = costs[1].train_flops / costs[0].train_flops
    out += ["", f"Time ratio {b.name} / {a.name} (median of the per-round ratios, 95% CI): {ci(ratio)}; exact "
            f"training FLOPs ratio: {flops:.3f}.", "",
            f"In words: on this {where}, a training step of {b.name}, with {flops:.3f}× the training FLOPs, takes "
            f"**{ratio.phrase()}**.", "",
            f"Peak (matmul probe, {precision}): {peak / 1e9:,.0f} GMAC/s."]
    if mem is not None:
        out += ["", f"**Peak memory of one {MEMORY_MODEL} training step at batch {MEMORY_BATCH}** ({opt}; measured = "
                "`torch.cuda.max_memory_allocated` over the timed steps, reset after the warm-up; estimate = "
                "`train_cost(...).peak`):", "",
                "| precision | step median (ms) | images/s | estimated peak | measured peak | measured − estimate | "
                "measured / estimate |", "|---|---:|---:|---:|---:|---:|---:|"]
        for row in mem:
            label = row["precision"] if row["precision"] == "float32" else f"{row['precision']} autocast"
            if "error" in row:
                out.append(f"| {label} | {row['error']} | | | | | |")
                continue
            r: TrainStepResult = row["result"]
            out.append(f"| {label} | {r.latency.median_ms:,.1f} | {r.latency.throughput:,.0f} | "
                       f"{mib(r.estimate_bytes)} | {mib(r.measured_peak_bytes)} | {_signed(r.difference_bytes)} | "
                       f"{r.measured_peak_bytes / r.estimate_bytes:.0%} |")
        out += ["", f"Why they differ: {WHY_PEAKS_DIFFER}."]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps (default cpu)")
    parser.add_argument("--models", nargs=2, default=list(NAMES), metavar=("A", "B"),
                        help=f"the two presets (default {' '.join(NAMES)})")
    parser.add_argument("--batch-size", type=int, default=None, help="default 8 on a CPU, 64 on a GPU")
    parser.add_argument("--precision", default="float32", choices=PRECISIONS,
                        help="float32, or bfloat16/float16 autocast (default float32)")
    parser.add_argument("--optimizer", default="sgd_momentum", choices=tuple(OPTIMIZERS),
                        help="default sgd_momentum (SGD, lr 0.1, momentum 0.9)")
    parser.add_argument("--min-runs", type=int, default=15, help="timed steps per network at least (default 15)")
    parser.add_argument("--max-seconds", type=float, default=600.0,
                        help="bound on each measurement's warm-up plus timed steps (default 600)")
    add_threads(parser)
    parser.add_argument("--write", action="store_true", help="record the result in benchmarks/README.md")
    args = parser.parse_args(argv)

    try:
        info = device_info(args.device)
        set_threads(args.threads)
        specs = [get_preset(n) for n in args.models]
        batch = args.batch_size or (8 if info.kind == "cpu" else 64)
        s = Settings(device=info.name, batch_size=batch, threads=args.threads, warmup=2, min_runs=args.min_runs,
                     min_seconds=1.0, max_seconds=args.max_seconds)
        s.edit(dtype=args.precision)  # refuse a precision the device cannot run before anything is built
    except (SpecError, KeyError) as e:
        print(f"bench_train: {e}", file=sys.stderr)
        return 2
    load_start = started(info, args.threads)
    try:
        print(f"1. {specs[0].name} vs {specs[1].name}: {s.where()}, precision {args.precision}, {args.optimizer}", flush=True)
        cmp = compare(specs, s, args.precision, args.optimizer)
        for r in cmp["results"]:
            print(f"  {r.name}: median {r.latency.median_ms:.1f} ms ({r.latency.runs} steps)", flush=True)
        print(f"  ratio {ci(cmp['ratio'])}", flush=True)
        mem = None
        if info.kind == "cuda":
            print(f"2. peak memory of {MEMORY_MODEL} at batch {MEMORY_BATCH}", flush=True)
            mem = memory(s.edit(batch_size=MEMORY_BATCH, warmup=3, min_runs=10, max_seconds=120), args.optimizer,
                         info)
    except (DeviceError, SpecError) as e:  # out of memory, or over the memory budget
        print(f"bench_train: {e}", file=sys.stderr)
        return 1

    block = render(info, s, args.precision, args.optimizer, cmp, mem, machine(info, args.threads, load_start),
                   command("bench_train.py", argv))
    print("\n" + block)
    if args.write:
        write_block("bench_train", info.kind, INTRO, block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
