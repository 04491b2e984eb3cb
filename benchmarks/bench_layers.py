"""Where the time goes in ResNet-50 and ResNeXt-50: measured time per layer kind and per stage, side by side.

One interleaved ``explorer.measure.layer_time.time_layers([resnet50, resnext50_32x4d], Settings(...))`` run: each
round runs every network once plain (the end-to-end time) and once with a timing hook on every layer.
It prints, for each network, per layer kind and per stage: the median time (ms, whole batch), its share of
the summed layer times, the share of the network's MACs, and the achieved GMAC/s; then the end-to-end
medians with their paired ratio and its confidence interval, how the layers add up to the end-to-end time
(they must, within 15%, for the profile to be recorded), the finding sentences, why the second network
takes longer (``explain``), and the device's two roofs.

With ``--write`` the result goes into ``benchmarks/README.md`` between the ``bench_layers`` markers, one
block per device kind and dtype (a GPU run keeps the CPU blocks and the other way round).

    .venv/bin/python benchmarks/bench_layers.py --write                            # CPU, 1 thread: about 1 minute
    .venv/bin/python benchmarks/bench_layers.py --device cuda --write              # GPU, batch 32, float32
    .venv/bin/python benchmarks/bench_layers.py --device cuda --dtype bfloat16 --write
    .venv/bin/python benchmarks/bench_layers.py --models resnet20 resnet32 --min-runs 5 --max-seconds 3   # smoke test
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
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

from explorer import analyze, get_preset  # noqa: E402
from explorer.build.devices import DeviceInfo  # noqa: E402
from explorer.core.errors import DeviceError, SpecError  # noqa: E402
from explorer.measure.latency import paired_ratios  # noqa: E402
from explorer.measure.layer_time import COVERAGE_TOLERANCE, LayerProfile, explain, time_layers  # noqa: E402
from explorer.measure.timing import Settings  # noqa: E402

NAMES = ("resnet50", "resnext50_32x4d")
GROUPINGS = (("kind", "layer kind"), ("stage", "stage"))

INTRO = """## Time per layer kind and per stage (`benchmarks/bench_layers.py`)

Method (`explorer.measure.layer_time`): every leaf module gets a pre- and a post-forward hook that stamps the time
(CUDA events on a GPU, no synchronization inside the forward pass; `time.perf_counter` on a CPU). Each
round runs both networks once plain (the end-to-end time) and once hooked, interleaved, after a warm-up; a
layer's time is its median over the hooked runs. Work no module does (the residual add) is the gap between
the modules around it and is given to that row; the other gaps (Python, the hooks) are "between layers".
A profile is recorded only when its layers add up to the end-to-end median within ±15%. Times are for the
whole batch; MACs are multiply-adds (1 MAC = 2 FLOPs) of conv and linear layers; GMAC/s = 10^9 MACs
per second achieved; % of time is of the summed layer times; "–" marks a group without MACs."""


def gmacs(macs_per_s: float) -> str:
    """GMAC/s with one decimal, or two significant digits below 1 (an fc layer's 0.032)."""
    g = macs_per_s / 1e9
    return f"{g:,.1f}" if g >= 1 else f"{g:.2g}"


def _cells(p: LayerProfile, key: str) -> dict[str, str]:
    """Group name → 'ms | % time | % MACs | GMAC/s' cells of one network."""
    return {g.name: f"{g.median_ms:,.2f} | {g.share:.1%} | {g.mac_share:.1%} | "
            + (gmacs(g.achieved_macs_per_s) if g.macs else "–") for g in p.groups(key)}


def _union(lists: Iterable[list[str]]) -> list[str]:
    """The names of every list once, each list's own order kept: ResNeXt's grouped 3×3 row lands after its 1×1 row."""
    out: list[str] = []
    for names in lists:
        pos = 0
        for name in names:
            if name in out:
                pos = out.index(name) + 1
            else:
                out.insert(pos, name)
                pos += 1
    return out


def side_by_side(profiles: Sequence[LayerProfile], key: str, label: str) -> list[str]:
    """One markdown table: a row per group (in order of appearance, over both networks), four columns each."""
    cells = [_cells(p, key) for p in profiles]
    names = _union(list(c) for c in cells)
    empty = " | ".join(["–"] * 4)
    head = f"| {label} | " + " | ".join(f"{p.name} ms | % time | % MACs | GMAC/s" for p in profiles) + " |"
    out = [head, "|---|" + "---:|" * (4 * len(profiles))]
    out += [f"| {n} | " + " | ".join(c.get(n, empty) for c in cells) + " |" for n in names]
    total = " | ".join(f"**{p.layers_ms:,.2f}** | 100% | 100% | "
                       + gmacs(sum(r.macs for r in p.layers) * p.end_to_end.batch_size / (p.layers_ms / 1000))
                       for p in profiles)
    out.append(f"| sum of the layers | {total} |")
    return out


def render(info: DeviceInfo, s: Settings, profiles: list[LayerProfile], machine_line: str, cmd: str) -> str:
    """The markdown block of one device kind and dtype."""
    a, b = profiles
    ratio = paired_ratios([a.end_to_end, b.end_to_end])[0]
    macs = {p.name: analyze(get_preset(p.name), p.end_to_end.input_size).macs for p in profiles}
    peak, bandwidth = a.peak_macs_per_s, a.bandwidth_bytes_per_s
    where = "CPU" if info.kind == "cpu" else info.model
    out = [f"### {info.kind}, {s.dtype}: {machine_line}", "", f"Command: `{cmd}`", "",
           f"Batch {s.batch_size}, {s.dtype}, input {'×'.join(map(str, a.end_to_end.input_size))}, "
           f"{a.runs} hooked and {a.end_to_end.runs} plain runs per network, interleaved.", ""]
    for key, label in GROUPINGS:
        out += [f"**By {label}:**", "", *side_by_side(profiles, key, label), ""]
    out += ["**End to end** (plain runs, interleaved with the hooked ones):", "",
            "| network | MACs per image | median (ms) | p10–p90 (ms) | images/s | achieved GMAC/s | % of peak |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for p in profiles:
        e = p.end_to_end
        achieved = e.macs_per_second(macs[p.name])
        out.append(f"| {p.name} | {macs[p.name] / 1e9:,.3f} G | {e.median_ms:,.2f} | "
                   f"{e.p10_ms:,.2f}–{e.p90_ms:,.2f} | {e.throughput:,.1f} | {gmacs(achieved)} | "
                   f"{100 * achieved / peak:.0f}% |")
    out += ["", f"End to end on this {where}, {b.name}, with {macs[b.name] / macs[a.name]:.3f}× the MACs, takes "
            f"**{ratio.phrase()}** (paired ratio {b.name} / {a.name}: {ci(ratio)}).",
            "", "**How the layers add up:**", ""]
    out += [f"- {p.name}: {p.summary()}" for p in profiles]
    out += ["", "**Findings:**", ""]
    out += [f"- {p.name}: {p.finding()}" for p in profiles if p.finding()]
    reasons = explain(a, b)
    if reasons:
        out += ["", f"**Why {b.name} differs from {a.name}** (layer families whose time differs most):", ""]
        out += [f"- {r}" for r in reasons]
    out += ["", f"**The device's two roofs** ({s.dtype}"
            + (f", {s.threads} thread{'s' if s.threads != 1 else ''}" if info.kind == "cpu" else "")
            + f"): matmul peak {peak / 1e9:,.1f} GMAC/s; memory bandwidth {bandwidth / 1e9:,.1f} GB/s "
            f"(10^9 bytes/s, a large copy); ridge point {peak / bandwidth:,.1f} MACs per byte: a layer doing fewer "
            "MACs per byte it moves is bound by memory, not by arithmetic."]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps (default cpu)")
    parser.add_argument("--dtype", default="float32", help="float32, bfloat16 or float16 where the device runs it")
    parser.add_argument("--batch-size", type=int, default=None, help="default 1 on a CPU, 32 on a GPU")
    parser.add_argument("--models", nargs=2, default=list(NAMES), metavar=("A", "B"),
                        help=f"the two presets (default {' '.join(NAMES)})")
    parser.add_argument("--min-runs", type=int, default=50, help="hooked runs per network at least (default 50)")
    parser.add_argument("--max-seconds", type=float, default=300.0,
                        help="bound on warm-up plus timed rounds (default 300)")
    add_threads(parser)
    parser.add_argument("--write", action="store_true", help="record the result in benchmarks/README.md")
    args = parser.parse_args(argv)

    try:
        info = device_info(args.device)
        set_threads(args.threads)
        specs = [get_preset(n) for n in args.models]
        batch = args.batch_size or (1 if info.kind == "cpu" else 32)
        s = Settings(device=info.name, dtype=args.dtype, batch_size=batch, threads=args.threads, warmup=3,
                     min_runs=args.min_runs, min_seconds=1.0, max_seconds=args.max_seconds)
    except (SpecError, KeyError) as e:
        print(f"bench_layers: {e}", file=sys.stderr)
        return 2
    load_start = started(info, args.threads)
    print(f"profiling {' and '.join(sp.name for sp in specs)}: {s.where()}", flush=True)
    try:
        profiles = time_layers(specs, s)
    except (DeviceError, SpecError) as e:  # out of memory, or over the memory budget
        print(f"bench_layers: {e}", file=sys.stderr)
        return 1

    block = render(info, s, profiles, machine(info, args.threads, load_start), command("bench_layers.py", argv))
    print("\n" + block)
    off = [p.name for p in profiles if not p.adds_up]
    if off:
        print(f"\nbench_layers: the layers of {', '.join(off)} do not add up to the end-to-end median within "
              f"±{COVERAGE_TOLERANCE:.0%}: " + ("at this batch the GPU waits on each layer's launch; use a larger "
                                                 "--batch-size" if info.kind == "cuda" else
                                                 "the machine was probably busy; rerun on a quiet one")
              + (" (README not written)." if args.write else "."), file=sys.stderr)
        return 1 if args.write else 0  # a profile that does not add up is never recorded
    if args.write:
        write_block("bench_layers", f"{info.kind}_{s.dtype}", INTRO, block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
