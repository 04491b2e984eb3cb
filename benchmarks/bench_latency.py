"""Fidelity of the latency method, and ResNet-50 vs ResNeXt-50 on one device.

1. Our built resnet50 / resnext50_32x4d against torchvision's own models, all four interleaved in one
   process with the same weights: time ratio ours / torchvision (target 1.00 ± 0.05).
2. ``measure_latency`` against ``torch.utils.benchmark.Timer`` (same threads, same cuDNN state) on the
   same model, alternating five times: ratio of the medians (target 1.00 ± 0.05).
3. resnet50 vs resnext50_32x4d, interleaved, over batch sizes, dtypes and channels_last, with the
   achieved multiply-adds per second as a share of the device's matmul peak.

Every ratio of two networks timed together is the paired ratio (the median of the per-round ratios) with
its distribution-free 95% confidence interval (``explorer.measure.latency.paired_ratios``).

With ``--write`` the figures go into ``benchmarks/README.md`` between the ``bench_latency`` markers, one
block per device kind (a GPU run keeps the CPU block and the other way round).

    .venv/bin/python benchmarks/bench_latency.py --write                 # CPU, 1 thread: about 3-4 minutes on 2 cores
    .venv/bin/python benchmarks/bench_latency.py --device cuda --write   # GPU: batch 1/32/256, fp32/bf16, NHWC on/off
    .venv/bin/python benchmarks/bench_latency.py --models resnet18 resnet34 --batches 1 --seconds 0.5   # smoke test

"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
import torchvision
from torch.utils import benchmark

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import add_threads, ci, command, device_info, machine, set_threads, started, write_block  # noqa: E402

from explorer import TORCHVISION_PRESETS, analyze, build_model, get_preset  # noqa: E402
from explorer.build.devices import DeviceInfo  # noqa: E402
from explorer.core.errors import DeviceError, ResourceError, SpecError  # noqa: E402
from explorer.measure.latency import measure_interleaved, measure_latency, paired_ratios  # noqa: E402
from explorer.measure.roofline import peak_macs_per_second, roofline  # noqa: E402
from explorer.measure.timing import Settings, torch_state  # noqa: E402

NAMES = ("resnet50", "resnext50_32x4d")
TARGET = 0.05  # both fidelity ratios should be within 1 ± TARGET


# --- 1. ours vs torchvision ------------------------------------------------------------------------
def fidelity_torchvision(names: Sequence[str], s: Settings) -> list[dict]:
    """Ours vs torchvision, same weights, all interleaved; each pair's paired ratio ours / torchvision."""
    models, labels = [], []
    for name in names:
        tv = getattr(torchvision.models, name)(weights=None)
        ours = build_model(get_preset(name))
        ours.load_state_dict(tv.state_dict())  # identical values: timing cannot depend on them
        models += [tv, ours]
        labels += [f"torchvision {name}", f"ours {name}"]
    rs = measure_interleaved(models, s, names=labels)
    rows = []
    for i, name in enumerate(names):
        tv, ours = rs[2 * i], rs[2 * i + 1]
        rows.append({"model": name, "ours": ours, "tv": tv, "paired": paired_ratios([tv, ours])[0]})
    return rows


# --- 2. measure_latency vs torch.utils.benchmark.Timer ---------------------------------------------
def fidelity_timer(name: str, s: Settings, rounds: int = 5) -> dict:
    """measure_latency vs Timer.blocked_autorange on one model, alternating in short rounds.

    The Timer runs under the same ``torch_state`` as our measurement (threads, inference mode and, on CUDA,
    cudnn.benchmark on), so the two differ only in how they time; on CUDA the Timer synchronizes per block.
    """
    model = build_model(get_preset(name), s.device).eval()
    x = torch.randn(s.batch_size, *get_preset(name).input_size, device=s.torch_device)
    ours, timer = [], []
    for _ in range(rounds):
        ours.append(measure_latency(model, s).median_ms)
        with torch_state(s):
            for _ in range(s.warmup):
                model(x)
            t = benchmark.Timer(stmt="model(x)", globals={"model": model, "x": x},
                                num_threads=torch.get_num_threads()).blocked_autorange(min_run_time=s.min_seconds)
        timer.append(t.median * 1000)
    paired = statistics.median(a / b for a, b in zip(ours, timer, strict=True))
    return {"model": name, "ours_ms": ours, "timer_ms": timer, "paired": paired,
            "ratio": statistics.median(ours) / statistics.median(timer)}


# --- 3. the matrix ---------------------------------------------------------------------------------
def matrix(names: Sequence[str], base: Settings, batches: Sequence[int], dtypes: Sequence[str]) -> list[dict]:
    """The two networks, interleaved, for every (dtype, batch, channels_last); a failure is recorded, not fatal."""
    specs = [get_preset(n) for n in names]
    macs = [analyze(spec).macs for spec in specs]
    rows = []
    for dtype in dtypes:
        for batch in batches:
            for cl in (False, True):
                row = {"batch": batch, "dtype": dtype, "channels_last": cl}
                try:
                    s = base.edit(dtype=dtype, batch_size=batch, channels_last=cl)
                    a, b = measure_interleaved(specs, s)
                except (DeviceError, ResourceError) as e:  # out of memory or over the budget at a large batch
                    rows.append({**row, "error": str(e)})
                    print(f"  batch {batch:>3} {dtype:<8} channels_last={cl!s:<5} {e}", flush=True)
                    continue
                ratio = paired_ratios([a, b])[0]
                pct = [roofline(r, m)["percent_of_peak"] for r, m in zip((a, b), macs, strict=True)]
                rows.append({**row, "a": a, "b": b, "ratio": ratio, "pct": pct})
                print(f"  batch {batch:>3} {dtype:<8} channels_last={cl!s:<5} {names[0]} {a.median_ms:8.2f} ms  "
                      f"{names[1]} {b.median_ms:8.2f} ms  ratio {ci(ratio)}", flush=True)
    return rows


# --- the README block ------------------------------------------------------------------------------
def _ok(low: float, high: float) -> str:
    return "yes" if 1 - TARGET <= low and high <= 1 + TARGET else "**no**"


def render(info: DeviceInfo, names: Sequence[str], machine_line: str, cmd: str, tv: list[dict], timer: dict | None,
           rows: list[dict], peaks: dict[str, float]) -> str:
    """The markdown block of one device kind."""
    a_name, b_name = names
    mac_ratio = analyze(get_preset(b_name)).macs / analyze(get_preset(a_name)).macs
    where = "CPU" if info.kind == "cpu" else info.model
    out = [f"### {info.kind}: {machine_line}", "", f"Command: `{cmd}`", ""]
    if info.kind == "cuda":
        out += [f"float32 convolutions and the float32 peak use TF32: {torch.backends.cudnn.allow_tf32} "
                "(`torch.backends.cudnn.allow_tf32`).", ""]
    if tv:
        out += ["**Ours vs torchvision** (batch 1, float32, same weights, all interleaved; ratio = ours / "
                "torchvision; paired = median of the per-round ratios with its 95% CI):", "",
                "| model | ours (ms) | torchvision (ms) | ratio of medians | paired ratio (95% CI) | runs | "
                "CI within 1.00 ± 0.05 |", "|---|---:|---:|---:|---:|---:|---|"]
        out += [f"| {r['model']} | {r['ours'].median_ms:.2f} | {r['tv'].median_ms:.2f} | "
                f"{r['ours'].median_ms / r['tv'].median_ms:.3f} | {ci(r['paired'])} | {r['ours'].runs} | "
                f"{_ok(r['paired'].low, r['paired'].high)} |" for r in tv]
        out.append("")
    if timer:
        n = len(timer["ours_ms"])
        out += [f"**`measure_latency` vs `torch.utils.benchmark.Timer`** (our {timer['model']}, batch 1, float32, "
                f"`num_threads={torch.get_num_threads()}`, alternating {n} times):", "",
                "| | " + " | ".join(f"round {i + 1}" for i in range(n)) + " | median |",
                "|---|" + "---:|" * (n + 1)]
        for label, key in (("measure_latency (ms)", "ours_ms"), ("Timer.blocked_autorange (ms)", "timer_ms")):
            vals = timer[key]
            out.append(f"| {label} | " + " | ".join(f"{v:.2f}" for v in vals) + f" | {statistics.median(vals):.2f} |")
        ok = "yes" if abs(timer["ratio"] - 1) <= TARGET else "**no**"
        out += ["", f"Ratio of the medians: **{timer['ratio']:.3f}** (within 1.00 ± 0.05: {ok}); median of the "
                f"per-round ratios: {timer['paired']:.3f}.", ""]
    out += [f"**{a_name} vs {b_name}** (interleaved; {b_name} has {mac_ratio:.3f}× the MACs; time ratio = "
            f"{b_name} / {a_name}, the median of the per-round ratios with its 95% CI; % of peak = achieved "
            "MAC/s over the device's matmul MAC/s in that dtype):", "",
            f"| batch | dtype | channels_last | {a_name} (ms) | {b_name} (ms) | time ratio (95% CI) | rounds | "
            f"{a_name} (img/s) | {b_name} (img/s) | {a_name} % peak | {b_name} % peak |",
            "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        head = f"| {r['batch']} | {r['dtype']} | {'on' if r['channels_last'] else 'off'} |"
        if "error" in r:
            out.append(f"{head} {r['error']} | | | | | | | |")
            continue
        a, b = r["a"], r["b"]
        out.append(f"{head} {a.median_ms:.2f} | {b.median_ms:.2f} | {ci(r['ratio'])} | {r['ratio'].rounds} | "
                   f"{a.throughput:.1f} | {b.throughput:.1f} | {r['pct'][0]:.0f}% | {r['pct'][1]:.0f}% |")
    out += ["", "Peak (matmul probe): " + ", ".join(f"{d} {p / 1e9:,.0f} GMAC/s" for d, p in peaks.items()) + "."]
    first = next((r for r in rows if "error" not in r), None)
    if first is not None:
        out += ["", f"In words: on this {where} (batch {first['batch']}, {first['dtype']}), {b_name}, with "
                f"{mac_ratio:.2f}× the MACs of {a_name}, takes {first['ratio'].phrase()}."]
    return "\n".join(out)


INTRO = """## Latency (`benchmarks/bench_latency.py`)

Method (`explorer.measure.timing`): eval mode, `torch.inference_mode()`, warm-up runs first (on CUDA with
`cudnn.benchmark` on), then every run timed alone (CUDA events with a synchronize per run on a GPU,
`time.perf_counter` on a CPU) until both a minimum run count and a minimum timed duration are reached.
Figures are medians in milliseconds; throughput is batch size / median. Models have random weights
(timing does not depend on the values). Networks compared are timed in rounds (A B A B …); a time ratio
is the median of the per-round ratios with its distribution-free confidence interval, of at least 95%
coverage (`explorer.measure.latency.paired_ratios`; the exact coverage is in the sentences), so slow drift
cancels and the interval shows what noise is left.
With several threads, every parallel op waits for the thread the OS has descheduled, so on a busy CPU
multi-threaded timings become erratic (5-25x slower on a 2-core machine); `--threads 1` (the default)
keeps them steady."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps (default cpu)")
    parser.add_argument("--models", nargs=2, default=list(NAMES), metavar=("A", "B"),
                        help=f"the two presets to compare (default {' '.join(NAMES)}); parts 1 and 2 need "
                        "torchvision models")
    parser.add_argument("--batches", type=int, nargs="+", default=None,
                        help="batch sizes of part 3 (default 1 8 on a CPU, 1 32 256 on a GPU)")
    parser.add_argument("--dtypes", nargs="+", default=None,
                        help="dtypes of part 3 (default float32 and bfloat16 where the device runs it)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="minimum timed seconds per model in parts 1 and 2, a third of it in part 3 "
                        "(default 6 on a CPU, 3 on a GPU)")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="bound on each measurement's warm-up plus timed runs, in every part (default 6 × "
                        "seconds + 60 in part 3, and more in parts 1 and 2, which time more networks)")
    add_threads(parser)
    parser.add_argument("--write", action="store_true", help="record the result in benchmarks/README.md")
    args = parser.parse_args(argv)

    try:
        info = device_info(args.device)
        set_threads(args.threads)
        if args.seconds is not None and args.seconds <= 0:
            raise SpecError("seconds", f"must be positive, got {args.seconds}")
        if args.max_seconds is not None and args.max_seconds <= 0:
            raise SpecError("max_seconds", f"must be positive, got {args.max_seconds}")
        names = [get_preset(n).name for n in args.models]
        gpu = info.kind != "cpu"
        seconds = args.seconds or (3.0 if gpu else 6.0)
        batches = args.batches or ([1, 32, 256] if gpu else [1, 8])
        dtypes = args.dtypes or [d for d in ("float32", "bfloat16") if d in info.dtypes]
        base = Settings(device=info.name, threads=args.threads, warmup=3, min_runs=10, min_seconds=seconds / 3,
                        max_seconds=args.max_seconds or 6 * seconds + 60)
        for d in dtypes:
            base.edit(dtype=d)  # refuse an unsupported dtype before anything runs
        for b in batches:
            base.edit(batch_size=b)
    except (SpecError, KeyError) as e:
        print(f"bench_latency: {e}", file=sys.stderr)
        return 2
    load_start = started(info, args.threads)

    tv_names = [n for n in names if n in TORCHVISION_PRESETS]
    fidelity = base.edit(dtype="float32", batch_size=1, min_runs=20, min_seconds=seconds,
                         max_seconds=args.max_seconds or 2 * len(tv_names) * seconds * 3 + 60)  # ours and tv per name
    tv, timer = [], None
    if tv_names:
        print("1. ours vs torchvision", flush=True)
        tv = fidelity_torchvision(tv_names, fidelity)
        for r in tv:
            print(f"  {r['model']}: ours {r['ours'].median_ms:.2f} ms, torchvision {r['tv'].median_ms:.2f} ms, "
                  f"paired ratio {ci(r['paired'])}", flush=True)
        print("2. measure_latency vs torch.utils.benchmark.Timer", flush=True)
        timer = fidelity_timer(tv_names[0], fidelity.edit(warmup=2, min_runs=10, min_seconds=seconds / 2,
                                                          max_seconds=args.max_seconds or 3 * seconds + 30))
        print(f"  ours {[round(v, 2) for v in timer['ours_ms']]}, Timer {[round(v, 2) for v in timer['timer_ms']]}, "
              f"ratio {timer['ratio']:.3f}, paired {timer['paired']:.3f}", flush=True)
    else:
        print("1-2. skipped: neither model is a torchvision model", flush=True)
    print(f"3. {names[0]} vs {names[1]}", flush=True)
    rows = matrix(names, base, batches, dtypes)
    peaks = {d: peak_macs_per_second(base.edit(dtype=d)) for d in dtypes}

    block = render(info, names, machine(info, args.threads, load_start), command("bench_latency.py", argv), tv,
                   timer, rows, peaks)
    print("\n" + block)
    if args.write:
        write_block("bench_latency", info.kind, INTRO, block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
