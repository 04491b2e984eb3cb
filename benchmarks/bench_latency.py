"""Fidelity of the latency method, and ResNet-50 vs ResNeXt-50 on one device.

1. Our built resnet50 / resnext50_32x4d against torchvision's own models, all four interleaved in one
   process with the same weights: time ratio ours / torchvision (target 1.00 ± 0.05).
2. ``measure_latency`` against ``torch.utils.benchmark.Timer`` (``num_threads=torch.get_num_threads()``)
   on the same model, alternating three times: ratio of the medians (target 1.00 ± 0.05).
3. resnet50 vs resnext50_32x4d, interleaved, over batch sizes, dtypes and channels_last, with the
   achieved multiply-adds per second as a share of the device's matmul peak.

The figures go into ``benchmarks/README.md`` between the ``bench_latency`` markers, one block per
device kind (a GPU run keeps the CPU block and the other way round).

    .venv/bin/python benchmarks/bench_latency.py                 # CPU, about 2-3 minutes on 2 cores
    .venv/bin/python benchmarks/bench_latency.py --threads 1     # CPU shared with other work: steadier
    .venv/bin/python benchmarks/bench_latency.py --device cuda   # GPU: batch 1/32/256, fp32/bf16, NHWC on/off
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
from pathlib import Path

import torch
import torchvision
from torch.utils import benchmark

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer import analyze, build_model, get_preset  # noqa: E402
from explorer.devices import available_devices  # noqa: E402
from explorer.latency import (  # noqa: E402
    LatencyError,
    measure_interleaved,
    measure_latency,
    peak_macs_per_second,
)

README = Path(__file__).with_name("README.md")
START, END = "<!-- bench_latency:start -->", "<!-- bench_latency:end -->"
NAMES = ("resnet50", "resnext50_32x4d")
TARGET = 0.05  # both fidelity ratios should be within 1 ± TARGET


def fidelity_torchvision(device: str, seconds: float) -> list[dict]:
    """Ours vs torchvision, same weights, four models interleaved."""
    models = []
    for name in NAMES:
        tv = getattr(torchvision.models, name)(weights=None)
        ours = build_model(get_preset(name))
        ours.load_state_dict(tv.state_dict())  # identical values: timing cannot depend on them
        models += [ours, tv]
    rs = measure_interleaved(models, device=device, warmup=3, min_runs=20, min_seconds=seconds,
                             max_seconds=len(models) * seconds * 3 + 60)
    rows = []
    for i, name in enumerate(NAMES):
        ours, tv = rs[2 * i], rs[2 * i + 1]
        paired = statistics.median(a / b for a, b in zip(ours.times_ms, tv.times_ms, strict=True))
        rows.append({"model": name, "ours_ms": ours.median_ms, "tv_ms": tv.median_ms,
                     "ratio": ours.median_ms / tv.median_ms, "paired": paired, "runs": ours.runs})
    return rows


def fidelity_timer(device: str, seconds: float, rounds: int = 5) -> dict:
    """measure_latency vs torch.utils.benchmark.Timer on one resnet50, alternating in short rounds."""
    model = build_model(get_preset("resnet50"), device).eval()
    x = torch.randn(1, 3, 224, 224, device=device)
    ours, timer = [], []
    for _ in range(rounds):
        ours.append(measure_latency(model, device=device, warmup=2, min_seconds=seconds / 2,
                                    max_seconds=3 * seconds + 30).median_ms)
        with torch.inference_mode():
            t = benchmark.Timer(stmt="model(x)", globals={"model": model, "x": x},
                                num_threads=torch.get_num_threads()).blocked_autorange(min_run_time=seconds / 2)
        timer.append(t.median * 1000)
    paired = statistics.median(a / b for a, b in zip(ours, timer, strict=True))
    return {"ours_ms": ours, "timer_ms": timer, "ratio": statistics.median(ours) / statistics.median(timer),
            "paired": paired}


def matrix(device: str, batches: list[int], dtypes: list[str], seconds: float) -> list[dict]:
    """resnet50 vs resnext50_32x4d, interleaved, for every (batch, dtype, channels_last)."""
    specs = [get_preset(n) for n in NAMES]
    macs = [analyze(s).macs for s in specs]
    rows = []
    for dtype in dtypes:
        peak = peak_macs_per_second(device, dtype)
        for batch in batches:
            for cl in (False, True):
                try:
                    r50, rx50 = measure_interleaved(specs, device=device, batch_size=batch, dtype=dtype,
                                                    channels_last=cl, warmup=3, min_runs=10,
                                                    min_seconds=seconds, max_seconds=6 * seconds + 60)
                except LatencyError as e:  # out of memory at a large batch: record it, go on
                    rows.append({"batch": batch, "dtype": dtype, "channels_last": cl, "error": str(e)})
                    continue
                rows.append({
                    "batch": batch, "dtype": dtype, "channels_last": cl, "r50": r50, "rx50": rx50,
                    "pct": [100 * r.macs_per_second(m) / peak for r, m in zip((r50, rx50), macs, strict=True)],
                    "peak": peak,
                })
                print(f"  batch {batch:>3} {dtype:<8} channels_last={cl!s:<5} resnet50 {r50.median_ms:8.2f} ms  "
                      f"resnext50 {rx50.median_ms:8.2f} ms  ratio {rx50.median_ms / r50.median_ms:.2f}", flush=True)
    return rows


def _ok(ratio: float) -> str:
    return "yes" if abs(ratio - 1) <= TARGET else "**no**"


def render(kind: str, machine: str, command: str, tv: list[dict], timer: dict, rows: list[dict]) -> str:
    """The markdown block of one device kind."""
    mac_ratio = analyze(get_preset(NAMES[1])).macs / analyze(get_preset(NAMES[0])).macs
    out = [f"### {kind}: {machine}", "", f"Command: `{command}`", ""]
    out += ["**Ours vs torchvision** (batch 1, float32, same weights, four models interleaved; "
            "ratio = ours / torchvision of the medians; paired = median of per-round ratios):", "",
            "| model | ours (ms) | torchvision (ms) | ratio | paired | runs | within 1.00 ± 0.05 |",
            "|---|---:|---:|---:|---:|---:|---|"]
    out += [f"| {r['model']} | {r['ours_ms']:.2f} | {r['tv_ms']:.2f} | {r['ratio']:.3f} | {r['paired']:.3f} | "
            f"{r['runs']} | {_ok(r['ratio'])} |" for r in tv]
    n = len(timer["ours_ms"])
    out += ["", "**`measure_latency` vs `torch.utils.benchmark.Timer`** (our resnet50, batch 1, float32, "
            f"`num_threads={torch.get_num_threads()}`, alternating {n} times):", "",
            "| | " + " | ".join(f"round {i + 1}" for i in range(n)) + " | median |",
            "|---|" + "---:|" * (n + 1)]
    for label, key in (("measure_latency (ms)", "ours_ms"), ("Timer.blocked_autorange (ms)", "timer_ms")):
        vals = timer[key]
        out.append(f"| {label} | " + " | ".join(f"{v:.2f}" for v in vals) + f" | {statistics.median(vals):.2f} |")
    out += ["", f"Ratio of the medians: **{timer['ratio']:.3f}** (within 1.00 ± 0.05: {_ok(timer['ratio'])}); "
            f"median of the per-round ratios: {timer['paired']:.3f}.", ""]
    out += [f"**resnet50 vs resnext50_32x4d** (interleaved; resnext50 has {mac_ratio:.3f}× the MACs; "
            "% of peak = achieved MAC/s over the device's matmul MAC/s in that dtype):", "",
            "| batch | dtype | channels_last | resnet50 (ms) | resnext50 (ms) | time ratio | "
            "resnet50 (img/s) | resnext50 (img/s) | resnet50 % peak | resnext50 % peak |",
            "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        head = f"| {r['batch']} | {r['dtype']} | {'on' if r['channels_last'] else 'off'} |"
        if "error" in r:
            out.append(f"{head} {r['error']} | | | | | | |")
            continue
        a, b = r["r50"], r["rx50"]
        out.append(f"{head} {a.median_ms:.2f} | {b.median_ms:.2f} | {b.median_ms / a.median_ms:.2f} | "
                   f"{a.throughput:.1f} | {b.throughput:.1f} | {r['pct'][0]:.0f}% | {r['pct'][1]:.0f}% |")
    peaks = {r["dtype"]: r["peak"] for r in rows if "peak" in r}
    out += ["", "Peak (matmul probe): " + ", ".join(f"{d} {p / 1e9:,.0f} GMAC/s" for d, p in peaks.items()) + "."]
    first = next((r for r in rows if "error" not in r), None)
    if first is not None:
        ratio = first["rx50"].median_ms / first["r50"].median_ms
        out += ["", f"In words: ResNeXt-50 has {mac_ratio:.2f}× the MACs of ResNet-50 and takes {ratio:.2f}× as "
                f"long on this {kind.upper() if kind != 'cpu' else 'CPU'} (batch {first['batch']}, "
                f"{first['dtype']})."]
    return f"<!-- bench_latency:{kind}:start -->\n" + "\n".join(out) + f"\n<!-- bench_latency:{kind}:end -->"


INTRO = """## Latency (`benchmarks/bench_latency.py`)

Method (`explorer.latency`): eval mode, `torch.inference_mode()`, warm-up runs first (on CUDA with
`cudnn.benchmark` on), then every run timed alone (CUDA events with a synchronize per run on a GPU,
`time.perf_counter` on a CPU) until both a minimum run count and a minimum timed duration are reached.
Figures are medians in milliseconds; throughput is batch size / median. Models have random weights
(timing does not depend on the values). On a shared machine other processes add noise: interleaving
the configurations cancels slow drift, not sudden contention, so rerun when a ratio looks off. With
several threads, every parallel op waits for the thread the OS has descheduled, so on a busy CPU
multi-threaded timings become erratic (5-25x slower on the 2-core machine below); `--threads 1` keeps
them steady, which is why the CPU figures below use it."""


def write_readme(kind: str, block: str) -> None:
    """Replace this device kind's block inside the bench_latency section; keep everything else."""
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    match = re.search(re.escape(START) + r"(.*?)" + re.escape(END), text, re.S)
    blocks: dict[str, str] = {}
    if match:
        for full, k in re.findall(r"(<!-- bench_latency:(\w+):start -->.*?<!-- bench_latency:\2:end -->)",
                                  match.group(1), re.S):
            blocks[k] = full
    blocks[kind] = block
    order = sorted(blocks, key=lambda k: (k != "cpu", k))
    section = START + "\n" + INTRO + "\n\n" + "\n\n".join(blocks[k] for k in order) + "\n" + END
    if match:
        text = text[: match.start()] + section + text[match.end():]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    README.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps (default cpu)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="minimum timed seconds per model and measurement (default 6 on CPU, 3 on a GPU)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads for the whole run (default: torch's own); on a CPU shared "
                        "with other work, 1 thread avoids OpenMP barrier stalls that make timings erratic")
    parser.add_argument("--no-readme", action="store_true", help="print only; leave benchmarks/README.md alone")
    args = parser.parse_args(argv)

    try:
        info = next(d for d in available_devices() if d.name == str(args.device) or
                    (args.device == "cuda" and d.name == "cuda:0"))
    except StopIteration:
        print(f"device: {args.device!r} is not available; available devices: "
              f"{', '.join(d.name for d in available_devices())}", file=sys.stderr)
        return 2
    if args.threads is not None:
        if args.threads < 1:
            print(f"threads: must be at least 1; got {args.threads}", file=sys.stderr)
            return 2
        torch.set_num_threads(args.threads)
    gpu = info.kind != "cpu"
    seconds = args.seconds or (3.0 if gpu else 6.0)
    batches = [1, 32, 256] if gpu else [1, 8]
    dtypes = [d for d in ("float32", "bfloat16") if d in info.dtypes]
    cpu = available_devices()[0]
    load = f", load average {os.getloadavg()[0]:.1f} at start" if hasattr(os, "getloadavg") else ""
    host = f"{cpu.model} ({cpu.cores} cores), torch.get_num_threads() = {torch.get_num_threads()}{load}"
    if gpu:
        host = f"{info.model}" + (f", {info.memory_bytes / 2**30:.0f} GiB" if info.memory_bytes else "") + \
            f"; host CPU {host}"
    machine = (f"{host}; torch {torch.__version__}, torchvision {torchvision.__version__}; "
               f"{dt.datetime.now(dt.UTC):%Y-%m-%d}")
    command = " ".join([".venv/bin/python benchmarks/bench_latency.py", *(argv if argv is not None else sys.argv[1:])])
    print(f"{info.name}: {machine}", flush=True)

    print("1. ours vs torchvision", flush=True)
    tv = fidelity_torchvision(info.name, seconds)
    for r in tv:
        print(f"  {r['model']}: ours {r['ours_ms']:.2f} ms, torchvision {r['tv_ms']:.2f} ms, "
              f"ratio {r['ratio']:.3f}, paired {r['paired']:.3f}", flush=True)
    print("2. measure_latency vs torch.utils.benchmark.Timer", flush=True)
    timer = fidelity_timer(info.name, seconds)
    print(f"  ours {[round(v, 2) for v in timer['ours_ms']]}, Timer {[round(v, 2) for v in timer['timer_ms']]}, "
          f"ratio {timer['ratio']:.3f}, paired {timer['paired']:.3f}", flush=True)
    print("3. resnet50 vs resnext50_32x4d", flush=True)
    rows = matrix(info.name, batches, dtypes, seconds / 3)

    block = render(info.kind, machine, command, tv, timer, rows)
    if not args.no_readme:
        write_readme(info.kind, block)
        print(f"wrote {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
