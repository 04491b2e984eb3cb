"""Subcommands that build and run networks: bench and equivalence. Torch is imported only when one runs."""

from __future__ import annotations

import argparse

from ..analysis import analyze
from .common import (
    add_command,
    add_input_size,
    add_json,
    add_settings_args,
    add_spec_args,
    ascii_shape,
    print_json,
    settings_from_args,
    spec_from_args,
    table,
)

DEVICE_HELP = "Exit status 2 for bad input (an unknown device, a dtype the device cannot run, over the memory " \
    "budget), 1 for a device failure such as running out of memory."


def add_bench(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "bench", "measure latency and throughput on a device",
                    "Build the network and time its forward pass: warm-up, then timed runs (synchronized on "
                    "a GPU) until both a minimum count and a minimum time are reached; reports the median, "
                    "p10/p90, throughput and the achieved multiply-adds per second against the device's peak.",
                    "--json prints LatencyResult.to_dict() plus 'macs' and 'roofline'. " + DEVICE_HELP)
    add_spec_args(p)
    add_settings_args(p)
    add_input_size(p)
    add_json(p, "the measurement")
    p.set_defaults(run=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    from ..latency import measure_latency
    from ..roofline import roofline

    spec = spec_from_args(args)
    a = analyze(spec, args.input_size)
    r = measure_latency(spec, settings_from_args(args), input_size=a.input_size)
    roof = roofline(r, a.macs)
    if args.json:
        print_json({**r.to_dict(), "macs": a.macs, "roofline": roof})
        return 0
    print(f"{r.name} on {r.device} ({r.device_name}), {r.dtype}, batch {r.batch_size}, input "
          f"{ascii_shape(r.input_size)}, {r.threads} thread(s){', channels_last' if r.channels_last else ''}")
    print(f"  median {r.median_ms:,.3f} ms   p10 {r.p10_ms:,.3f}   p90 {r.p90_ms:,.3f}   IQR {r.iqr_ms:,.3f}   "
          f"mean {r.mean_ms:,.3f} ± {r.std_ms:,.3f} ms   ({r.runs} runs after {r.warmup_runs} warm-up, "
          f"stopped by {r.stopped_by.replace('_', ' ')})")
    print(f"  throughput {r.throughput:,.1f} images/s   achieved {roof['achieved_macs_per_s'] / 1e9:,.1f} GMAC/s = "
          f"{roof['percent_of_peak']:.0f}% of the device's matmul peak ({roof['peak_macs_per_s'] / 1e9:,.1f} GMAC/s)")
    print(f"  {a.macs:,} MACs per image (multiply-accumulates of conv + linear; FLOPs = 2 x MACs)")
    return 0


def add_equivalence(sub: argparse._SubParsersAction) -> None:
    from ..schema import BLOCK_FIELDS as F

    p = add_command(sub, "equivalence", "check that ResNeXt Fig. 3 forms a, b, c compute the same function",
                    "Build one bottleneck block in form (c) with random weights and BN statistics, derive forms "
                    "(a) and (b) from it exactly, run all three on one input in float32 and float64, and report "
                    "per form: params, MACs, the largest absolute output difference against (c), and (unless "
                    "--no-latency) the median latency of interleaved runs with each form's time relative to (c).",
                    DEVICE_HELP)
    p.add_argument("--cardinality", "-C", type=int, default=32, metavar="C", help=F["cardinality"].help + " (32)")
    p.add_argument("--width", "-d", type=int, default=4, metavar="d", help=F["d"].help + " (default 4)")
    p.add_argument("--channels", type=int, default=256, help=F["channels"].help + " (default 256)")
    p.add_argument("--size", type=int, default=56, help=F["size"].help + " (default 56)")
    p.add_argument("--train", action="store_true", help=F["train"].help)
    p.add_argument("--no-latency", action="store_true", help="skip the timing")
    add_settings_args(p, max_seconds=30.0, batch=False)
    add_json(p, "the report (forms: params, macs, convs, max_abs_diff_float32/64, latency_ms; ratios)")
    p.set_defaults(run=cmd_equivalence)


def cmd_equivalence(args: argparse.Namespace) -> int:
    from ..equivalence import equivalence
    from ..forms import FORM_TITLES

    timing = None if args.no_latency else settings_from_args(args, batch_size=2)
    r = equivalence(args.cardinality, args.width, args.channels, args.size, device=args.device, train=args.train,
                    timing=timing)
    if args.json:
        print_json(r.to_dict())
        return 0
    rows = [[FORM_TITLES[f.form], f"{f.params:,}", f"{f.macs:,}", str(f.convs), f"{f.max_abs_diff_float32:.2e}",
             f"{f.max_abs_diff_float64:.2e}" if f.max_abs_diff_float64 is not None else "-",
             f"{f.latency_ms:.3f}" if f.latency_ms is not None else "-"] for f in r.forms]
    print(f"{r.subject}, batch {r.batch_size}, {r.mode} mode, {r.device}; outputs up to {r.output_max_abs:.3g}")
    print("\n".join(table(["form", "params", "MACs", "convs", "max|d| f32", "max|d| f64", "latency ms"],
                          rows, "lrrrrrr")))
    for form, ratio in zip("ab", r.ratios):
        print(f"form ({form}) vs (c): {ratio.phrase()}".replace("×", "x").replace("–", "-"))
    return 0


COMMANDS = (add_bench, add_equivalence)
