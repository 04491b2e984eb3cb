"""How fast is ``explorer.analyze`` next to the tools a user would otherwise reach for?

Times, per network, interleaved round-robin in one process (the tool order rotates every round), the
median over the rounds:

- ``analyze``: the analytic pass, uncached (``_analyze.__wrapped__`` and a cleared layer-plan cache), so
  the plan is rebuilt every call: what a widget edit costs the app the first time it sees a spec.
- ``build_model``: building the PyTorch model on CPU (weight init included), for scale.
- ``fvcore``: ``build_model`` + ``FlopCountAnalysis(model, x).total()`` (eval, no grad): the build and the
  JIT trace a user pays to get fvcore's numbers.
- ``torchinfo``: ``build_model`` + ``torchinfo.summary`` (verbose 0), when torchinfo is importable
  (``pip install -r benchmarks/requirements.txt``; it is not an app dependency).

Each tool's own count of multiply-adds is listed too, to show that they do not count the same thing.
With ``--write`` the medians (ms) and ratios go into ``benchmarks/README.md`` between the ``bench_analyze`` markers.

    .venv/bin/python benchmarks/bench_analyze.py --write      # about 2-4 minutes on 2 CPU cores, 1 thread
    .venv/bin/python benchmarks/bench_analyze.py --repeats 1 --models resnet20   # smoke test, prints only
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import add_threads, command, device_info, machine, set_threads, started, write_block  # noqa: E402

from explorer import build_model, get_preset  # noqa: E402
from explorer.core import plan as P  # noqa: E402
from explorer.core.analysis import _analyze  # noqa: E402
from explorer.core.spec import ArchSpec  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # fvcore imports torch.jit.script at import time
    from fvcore.nn import FlopCountAnalysis

try:
    import torchinfo
except ImportError:  # optional: only benchmarks/requirements.txt installs it
    torchinfo = None


NAMES = ("resnet50", "resnet152", "resnext101_64x4d", "resnet1202")
ANALYZE_CALLS = 10  # analyze takes milliseconds: several calls per round, each one a sample
TARGET_MS, TARGET_RATIO = 50.0, 10.0  # analyze on ResNet-152: well under 50 ms and >= 10x faster than fvcore


def _analyze_uncached(spec: ArchSpec) -> int:
    P.make_plan.cache_clear()
    return _analyze.__wrapped__(spec, spec.input_size).macs


def _build(spec: ArchSpec) -> int:
    return sum(p.numel() for p in build_model(spec).parameters())


def _fvcore(spec: ArchSpec) -> int:
    model = build_model(spec).eval()
    with torch.no_grad():
        fca = FlopCountAnalysis(model, torch.randn(1, *spec.input_size))
        fca.unsupported_ops_warnings(False)
        fca.uncalled_modules_warnings(False)
        fca.tracer_warnings("none")
        return int(fca.total())


def _torchinfo(spec: ArchSpec) -> int:
    model = build_model(spec).eval()
    stats = torchinfo.summary(model, input_size=(1, *spec.input_size), verbose=0, device="cpu")
    return int(stats.total_mult_adds)


TOOLS: dict[str, Callable[[ArchSpec], int]] = {"analyze": _analyze_uncached, "build_model": _build,
                                               "fvcore": _fvcore}
if torchinfo is not None:
    TOOLS["torchinfo"] = _torchinfo


def _timed(fn: Callable[[ArchSpec], int], spec: ArchSpec) -> tuple[float, int]:
    start = time.perf_counter()
    count = fn(spec)
    return (time.perf_counter() - start) * 1000, count


def run(names: tuple[str, ...] = NAMES, repeats: int = 5) -> dict:
    """Time every tool on every network, round-robin; return medians (ms), ratios and each tool's count."""
    torch.manual_seed(0)
    specs = {n: get_preset(n) for n in names}
    tools = list(TOOLS)
    small = get_preset("resnet18")
    for fn in TOOLS.values():  # warm-up: imports, first-call allocations, the JIT tracer
        fn(small)
    samples: dict[tuple[str, str], list[float]] = {(n, t): [] for n in names for t in tools}
    counts: dict[tuple[str, str], int] = {}
    for r in range(repeats):
        order = tools[r % len(tools):] + tools[: r % len(tools)]
        for name, spec in specs.items():
            for tool in order:
                calls = ANALYZE_CALLS if tool == "analyze" else 1
                for _ in range(calls):
                    ms, counts[name, tool] = _timed(TOOLS[tool], spec)
                    samples[name, tool].append(ms)
        print(f"round {r + 1}/{repeats} done", file=sys.stderr, flush=True)
    rows = []
    for name, spec in specs.items():
        med = {t: statistics.median(samples[name, t]) for t in tools}
        rows.append({
            "model": name,
            "input_size": list(spec.input_size),
            "median_ms": med,
            "ratio_to_analyze": {t: med[t] / med["analyze"] for t in tools if t != "analyze"},
            "count": {t: counts[name, t] for t in tools if t != "build_model"},
            "samples": {t: len(samples[name, t]) for t in tools},
        })
    return {"rows": rows, "repeats": repeats, "tools": tools}


def _fmt_ms(ms: float) -> str:
    return f"{ms:,.1f}" if ms < 100 else f"{ms:,.0f}"


def to_markdown(result: dict, command: str, machine_line: str) -> str:
    """The README section: medians, ratios, each tool's count and the target check."""
    tools = result["tools"]
    head = "| model | input | " + " | ".join(f"{t} ms" for t in tools) + " | " + " | ".join(
        f"{t} / analyze" for t in tools if t != "analyze") + " |"
    lines = [head, "|" + "---|" * (2 + 2 * len(tools) - 1)]
    for row in result["rows"]:
        size = "×".join(map(str, row["input_size"]))
        lines.append(
            f"| {row['model']} | {size} | " + " | ".join(_fmt_ms(row["median_ms"][t]) for t in tools) + " | "
            + " | ".join(f"{row['ratio_to_analyze'][t]:,.0f}×" for t in tools if t != "analyze") + " |"
        )
    counted = [t for t in tools if t != "build_model"]
    count_lines = ["| model | " + " | ".join(counted) + " |", "|" + "---|" * (1 + len(counted))]
    for row in result["rows"]:
        count_lines.append(f"| {row['model']} | " + " | ".join(f"{row['count'][t]:,}" for t in counted) + " |")
    r152 = next((r for r in result["rows"] if r["model"] == "resnet152"), None)
    verdict = ""
    if r152 is not None:
        ms, ratio = r152["median_ms"]["analyze"], r152["ratio_to_analyze"]["fvcore"]
        ok = ms < TARGET_MS and ratio >= TARGET_RATIO
        verdict = (f"**Target** (analyze on ResNet-152 well under {TARGET_MS:.0f} ms and ≥ {TARGET_RATIO:.0f}× "
                   f"faster than fvcore): {ms:.1f} ms, {ratio:,.0f}× — {'met' if ok else 'NOT met'}.\n\n")
    return (
        f"Machine: {machine_line}.\n\nCommand: `{command}` "
        f"({result['repeats']} interleaved rounds, median; analyze {ANALYZE_CALLS} uncached calls per round).\n\n"
        f"{verdict}"
        "Median wall time per call, batch 1. `analyze` is uncached (layer plan rebuilt too); `fvcore` and "
        "`torchinfo` include `build_model` (CPU, weight init), as a user pays it; `build_model` alone is shown "
        "for scale. Ratios are tool time / analyze time.\n\n"
        + "\n".join(lines)
        + "\n\nWhat each tool counts (not the same thing): analyze = conv + linear MACs (the papers' "
        "\"FLOPs\"); fvcore total = those MACs + BN (2 per element) + average pool, with max pool and the "
        "residual add unsupported; torchinfo `total_mult_adds` = its own per-module estimate.\n\n"
        + "\n".join(count_lines)
        + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--models", nargs="+", default=list(NAMES), help="presets to time")
    add_threads(parser)
    parser.add_argument("--write", action="store_true", help="record the result in benchmarks/README.md")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    if torchinfo is None:
        print("torchinfo not importable: pip install -r benchmarks/requirements.txt", file=sys.stderr)
    info = device_info("cpu")
    load = started(info, args.threads)
    result = run(tuple(args.models), args.repeats)
    block = to_markdown(result, command("bench_analyze.py", argv), machine(info, args.threads, load))
    print(block)
    if args.write:
        write_block("bench_analyze", "cpu", "## analyze vs fvcore vs torchinfo", block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
