"""Subcommands that build and run networks: bench and equivalence. Torch is imported only when one runs."""

from __future__ import annotations

import argparse

from ..core.analysis import analyze
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
    from ..measure.latency import measure_latency
    from ..measure.roofline import roofline

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
    from ..core.run_fields import BLOCK_FIELDS as F

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
    from ..measure.equivalence import equivalence
    from ..build.forms import FORM_TITLES

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


def add_profile(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "profile", "measured time per layer beside exact MACs per layer",
                    "Time every layer of the network (hooks around each module, warm-up first, the plain network "
                    "timed in the same rounds for the end-to-end median) and print where the time goes: per kind "
                    "of layer and per stage, the share of the time beside the share of the MACs, the achieved "
                    "MAC/s against the device's roofline, and how closely the layers add up to the end-to-end "
                    "time.",
                    "--json prints an object with end_to_end_median_ms, layers (in forward order, each with name, "
                    "median_ms, macs, achieved_macs_per_s, share, bytes, intensity, bound_macs_per_s, …), by_stage, "
                    "by_block, by_kind, coverage and the finding. " + DEVICE_HELP)
    add_spec_args(p)
    add_settings_args(p, max_seconds=30.0)
    p.add_argument("--layers", action="store_true", help="also print every layer")
    add_json(p, "the profile")
    p.set_defaults(run=cmd_profile)


def cmd_profile(args: argparse.Namespace) -> int:
    from ..measure.layer_time import time_layers

    spec = spec_from_args(args)
    profile = time_layers(spec, settings_from_args(args, min_runs=10))[0]
    if args.json:
        print_json(profile.to_dict())
        return 0
    e = profile.end_to_end
    print(f"{profile.name} on {e.device} ({e.device_name}), {e.dtype}, batch {e.batch_size}, {e.threads} thread(s): "
          f"end-to-end median {e.median_ms:,.3f} ms (p10 {e.p10_ms:,.3f}, p90 {e.p90_ms:,.3f})")
    print(profile.summary())
    for key, title in (("kind", "kind"), ("stage", "stage")):
        rows = [[g.name, str(g.layers), f"{g.median_ms:,.3f}", f"{100 * g.share:.1f}%", f"{g.macs:,}",
                 f"{100 * g.mac_share:.1f}%", f"{g.achieved_macs_per_s / 1e9:,.1f}"] for g in profile.groups(key)]
        print()
        print("\n".join(table([title, "layers", "ms", "% time", "MACs", "% MACs", "GMAC/s"], rows, "lrrrrrr")))
    if args.layers:
        rows = [[r.name, r.kind, f"{r.median_ms:,.4f}", f"{100 * r.share:.2f}%", f"{r.macs:,}",
                 f"{r.achieved_macs_per_s / 1e9:,.1f}", f"{r.bound_macs_per_s / 1e9:,.1f}"] for r in profile.layers]
        print()
        print("\n".join(table(["layer", "kind", "ms", "% time", "MACs", "GMAC/s", "bound"], rows, "llrrrrr")))
    print()
    print(profile.finding().replace("×", "x"))
    print(f"Roofs: matmul peak {profile.peak_macs_per_s / 1e9:,.1f} GMAC/s, memory bandwidth "
          f"{profile.bandwidth_bytes_per_s / 1e9:,.1f} GB/s. MACs per image (FLOPs = 2 x MACs); times for the batch.")
    return 0


COMMANDS = (add_bench, add_equivalence, add_profile)
