"""Subcommands about what a count means: train-cost (one training step's MACs and memory, optionally measured)
and conventions (what each counting tool prints for a network, and why). Analytic and instant; torch is
imported only to measure (``--measure``) or to run the tools (``--live``)."""

from __future__ import annotations

import argparse
from typing import Any

from ..core.analysis import analyze
from ..costs.counters import TOOL_IDS, check_batch_size, paper_figures, tool_counts
from ..costs.training import CONVENTIONS, GPU_MEMORY, OPTIMIZERS, TRAIN_FIELDS, TrainCost, budget_from_gb, \
    max_batch_size, train_cost
from ..core.vocab import CONVENTION_ASCII, binary, si
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
from .inspect import describe
from .measure import DEVICE_HELP

_ASCII = str.maketrans({"×": "x", "−": "-", "–": "-", "—": "-", "·": "*", "≤": "<=", "≥": ">=",
                        "…": "..."})


def ascii_text(text: str) -> str:
    """Terminal-safe text: the library's ×, −, – and · as x, -, - and *."""
    return text.translate(_ASCII)


def signed(delta: int, base: int) -> str:
    """'+22,328,320 (+0.55%)': a difference and its share of ``base``."""
    return f"{delta:+,} ({100 * delta / base:+.2f}%)" if base else f"{delta:+,}"


# --- train-cost --------------------------------------------------------------------------------------
def add_train_cost(sub: argparse._SubParsersAction) -> None:
    f = TRAIN_FIELDS  # the same bounds, labels and help as the library's validation and the app's widgets
    optimizers = ", ".join(f"{k} ({o.label})" for k, o in OPTIMIZERS.items())
    p = add_command(
        sub, "train-cost", "MACs and memory of one training step, the largest batch that fits, optionally measured",
        "The cost of one training step (forward, backward, optimizer step) from the layer plan, without building "
        "the network: forward and backward MACs, train FLOPs, the bytes of parameters, gradients, optimizer state "
        "and saved activations, the estimated peak and its parts, and the largest batch whose peak fits each "
        "common GPU size (or the one given with --budget-gb). Every figure is for the whole batch.",
        ascii_text(f"Training convention: backward MACs = {CONVENTIONS['backward_macs']}; train FLOPs = "
                   f"{CONVENTIONS['train_flops']}; peak = {CONVENTIONS['peak_bytes']}."),
        "--measure also builds the network and times real training steps on --device (warm-up, then timed "
        "steps; the same method as 'bench'), reporting the median, p10/p90, images trained per second and, on "
        "CUDA, the measured peak memory beside the estimate.",
        "--json prints TrainCost's figures: forward_macs, backward_macs, train_flops, param_bytes, grad_bytes, "
        "optimizer_bytes, buffer_bytes, saved_activation_bytes, peak_bytes (integers), peak (its parts), "
        "by_stage, by_type, layers, budgets (label, budget_bytes, max_batch_size); with --budget-gb also "
        "budget_bytes and max_batch_size; with --measure, measured. " + DEVICE_HELP,
    )
    add_spec_args(p)
    add_input_size(p)
    p.add_argument("--batch-size", type=int, default=1, help=f"{f['batch_size'].help} (default 1)")
    p.add_argument("--precision", default="float32", help=f"{ascii_text(f['precision'].help)} (default float32)")
    p.add_argument("--optimizer", default="sgd", help=f"{optimizers}: {f['optimizer'].help} (default sgd)")
    p.add_argument("--budget-gb", type=float, metavar="G",
                   help=f"{f['budget_gb'].help} (default: a table of common GPU sizes)")
    p.add_argument("--measure", action="store_true", help="also build the network and time training steps")
    add_settings_args(p, batch=False)
    add_json(p, "the figures (described above)")
    p.set_defaults(run=cmd_train_cost)


def cmd_train_cost(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    # Validate everything (settings included) before any work, so bad input never waits on a computation.
    settings = settings_from_args(args, batch_size=args.batch_size) if args.measure else None
    cost = train_cost(spec, batch_size=args.batch_size, input_size=args.input_size, precision=args.precision,
                      optimizer=args.optimizer)
    from ..build.devices import check_dtype

    check_dtype(cost.precision, args.device, "precision")  # the device named (cpu by default) must train in it
    budgets = _budgets(args.budget_gb)
    fits = [(label, budget, max_batch_size(spec, budget, input_size=cost.input_size, precision=cost.precision,
                                           optimizer=cost.optimizer)) for label, budget in budgets]
    measured = None
    if settings is not None:
        from ..measure.train_step import measure_train_step

        measured = measure_train_step(spec, settings, precision=cost.precision, optimizer=cost.optimizer,
                                      input_size=cost.input_size)[0]
    if args.json:
        data = {**cost.to_dict(),
                "budgets": [{"label": label, "budget_bytes": b, "max_batch_size": n} for label, b, n in fits]}
        if args.budget_gb is not None:
            data["budget_bytes"], data["max_batch_size"] = fits[0][1], fits[0][2]
        if measured is not None:
            data["measured"] = measured.to_dict()
        print_json(data)
        return 0
    print("\n".join(train_cost_lines(cost, fits)))
    if measured is not None:
        print("\n".join(["", *measured_lines(measured, cost)]))
    return 0


def _budgets(gb: float | None) -> list[tuple[str, int]]:
    """The budget given (binary GB), or every common GPU size."""
    if gb is None:
        return list(GPU_MEMORY)
    return [(f"{gb:g} GB", budget_from_gb(gb))]


def train_cost_lines(cost: TrainCost, fits: list[tuple[str, int, int]]) -> list[str]:
    """The human report: per stage, the totals with their conventions, the peak's parts, the largest batches."""
    opt = OPTIMIZERS[cost.optimizer].label
    autocast = "" if cost.precision == "float32" else " autocast (float32 weights)"
    lines = [f"{cost.spec.name}: one training step at batch {cost.batch_size}, input {ascii_shape(cost.input_size)}, "
             f"{cost.precision}{autocast}, {opt}", f"  {describe(cost.spec)}", ""]
    rows = [[stage, f"{t['forward_macs']:,}", f"{t['backward_input_macs'] + t['backward_weight_macs']:,}",
             binary(t["saved_bytes"]), binary(t["param_bytes"])] for stage, t in cost.by_stage().items()]
    rows.append(["total", f"{cost.forward_macs:,}", f"{cost.backward_macs:,}", binary(cost.saved_activation_bytes),
                 binary(cost.param_bytes)])
    lines += table(["stage", "forward MACs", "backward MACs", "saved", "params"], rows, "lrrrr") + [""]
    totals = [
        ("forward MACs", cost.forward_macs, si(cost.forward_macs), CONVENTIONS["macs"]),
        ("backward MACs", cost.backward_macs, si(cost.backward_macs), CONVENTIONS["backward_macs"]),
        ("train FLOPs", cost.train_flops, si(cost.train_flops), CONVENTIONS["train_flops"]),
        ("param bytes", cost.param_bytes, binary(cost.param_bytes), "float32 weights"),
        ("grad bytes", cost.grad_bytes, binary(cost.grad_bytes), "float32, one per parameter"),
        ("optimizer bytes", cost.optimizer_bytes, binary(cost.optimizer_bytes), f"{opt} state after one step"),
        ("buffer bytes", cost.buffer_bytes, binary(cost.buffer_bytes), "BN running statistics"),
        ("saved activation bytes", cost.saved_activation_bytes, binary(cost.saved_activation_bytes),
         CONVENTIONS["saved_activation_bytes"]),
    ]
    lines += table(["total", "exact", "", "what it counts"],
                   [[k, f"{v:,}", short, ascii_text(note)] for k, v, short, note in totals], "lrrl") + [""]
    parts = [[name.replace("_", " "), f"{b:,}", binary(b)] for name, b in cost.peak.parts().items()]
    parts.append(["peak (estimate)", f"{cost.peak.total:,}", binary(cost.peak.total)])
    lines += table(["peak memory part", "bytes", ""], parts, "lrr")
    lines += [f"Peak = {ascii_text(CONVENTIONS['peak_bytes'])}; not counted: the CUDA context, allocator caching "
              "and fragmentation: leave headroom.", ""]
    rows = [[label, binary(budget), f"{n:,}" if n else "none fits"] for label, budget, n in fits]
    lines += table(["budget (GB = 2^30 bytes)", "bytes", "largest batch"], rows, "lrr")
    lines += ["", f"Convention: {CONVENTION_ASCII}"]
    return lines


def measured_lines(r: Any, cost: TrainCost) -> list[str]:
    """A measured step (``TrainStepResult``): conditions, times, throughput, memory."""
    lat = r.latency
    autocast = "" if r.precision == "float32" else f", {r.precision} autocast"
    return [
        f"measured: {lat.name} on {lat.device} ({lat.device_name}), float32 weights{autocast}, batch "
        f"{lat.batch_size}, {lat.threads} thread(s){', channels_last' if lat.channels_last else ''}",
        f"  step median {lat.median_ms:,.1f} ms   p10 {lat.p10_ms:,.1f}   p90 {lat.p90_ms:,.1f}   ({lat.runs} steps "
        f"after {lat.warmup_runs} warm-up, stopped by {lat.stopped_by.replace('_', ' ')})",
        f"  {lat.throughput:,.1f} images trained per second; {cost.train_flops / (lat.median_ms / 1000) / 1e9:,.1f} "
        "GFLOP/s of train FLOPs",
        f"  memory: {ascii_text(r.memory_note())}",
    ]


# --- conventions -------------------------------------------------------------------------------------
def add_conventions(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "conventions", "what fvcore, ptflops, thop, torchinfo, FlopCounterMode, pycls and timm print, and why",
        "For one network: the figure each counting tool prints, in its own words and units, reproduced to the "
        "unit from the layer plan with the tool's own rules, its difference from our MACs, and one sentence per "
        "tool with the itemised terms (BN, ReLU, pooling, the fc bias, double counts). Also the papers' "
        "figures: the ResNet paper's (v1, stride on the first 1x1) and the ResNeXt paper's (v1.5, stride on the "
        "3x3). --live runs the installed tools on the built network (CPU, eval mode) and shows their output "
        "beside the derived figure.",
        f"--json prints an object keyed by tool id ({', '.join(TOOL_IDS)}): each with value, unit, printed, "
        "terms, sentence, difference_from_macs (and activations, forward_backward_bytes, train_value where the "
        "tool reports them; with --live, measured); the papers under 'papers', our own figure under 'ours'.",
    )
    add_spec_args(p)
    add_input_size(p)
    p.add_argument("--batch-size", type=int, default=1, help="images per batch; every value is for the batch "
                                                             "(default 1)")
    p.add_argument("--live", action="store_true", help="also run the installed tools and compare")
    add_json(p, "the object described above")
    p.set_defaults(run=cmd_conventions)


def cmd_conventions(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    batch = check_batch_size(args.batch_size)
    a = analyze(spec, args.input_size)
    macs = batch * a.macs
    counts = tool_counts(spec, a.input_size, batch)
    papers = paper_figures(spec, a.input_size, batch)
    live = None
    if args.live:
        from ..measure.counters_live import live_counts

        live = live_counts(spec, a.input_size, batch)
    if args.json:
        tools = {t: {**(live[t].to_dict() if live else c.to_dict()), "difference_from_macs": c.value - macs}
                 for t, c in counts.items()}
        print_json({**tools,
                    "papers": {k: {**p.to_dict(), "difference_from_macs": p.value - macs} for k, p in papers.items()},
                    "ours": {"name": spec.name, "input_size": list(a.input_size), "batch_size": batch, "macs": macs,
                             "flops": 2 * macs, "convention": CONVENTION_ASCII}})
        return 0
    print("\n".join(conventions_lines(spec.name, a.input_size, batch, macs, counts, papers, live)))
    return 0


def conventions_lines(name: str, size: tuple[int, int, int], batch: int, macs: int, counts: dict[str, Any],
                      papers: dict[str, Any], live: dict[str, Any] | None) -> list[str]:
    """The table (papers, then tools; measured beside derived with --live) and one sentence each."""
    lines = [f"{name}: input {ascii_shape(size)}, batch {batch}; our MACs {macs:,} ({si(macs)})", ""]
    header = ["source", "what it prints", "value", "unit", "vs our MACs"]
    rows = [[ascii_text(p.label), ascii_text(p.printed), f"{p.value:,}", p.unit, signed(p.value - macs, macs)]
            for p in papers.values()]
    rows += [[c.label, ascii_text(c.printed), f"{c.value:,}", c.unit, signed(c.value - macs, macs)]
             for c in counts.values()]
    if live is not None:
        header += ["measured", "check"]
        rows[:len(papers)] = [r + ["-", "paper (nothing to run)"] for r in rows[:len(papers)]]
        for r, t in zip(rows[len(papers):], counts):
            m = live[t].measured
            r += [f"{m.value:,}" if m.value is not None else "-", _check(live[t])]
    lines += table(header, rows, "llrlr" + ("rl" if live is not None else ""))
    lines.append("")
    # Each sentence names its source first, so it stands alone.
    lines += [f"- {ascii_text(x.sentence)}" for x in (*papers.values(), *counts.values())]
    if live is not None and any(lc.agrees is False for lc in live.values()):
        lines += ["", "DIFFERS: a tool printed something other than its derived figure (see 'check'); the rules "
                  "were read from the versions listed in explorer.costs.counters.TOOLS."]
    lines += ["", f"Convention: {CONVENTION_ASCII}"]
    return lines


def _check(lc: Any) -> str:
    """'equal', 'DIFFERS: value +12', or why the tool did not run (a ``LiveCount``)."""
    if lc.measured.status != "ok":
        return lc.measured.status
    if not lc.differences:
        return "equal"
    return "DIFFERS: " + ", ".join(f"{k} {v:+,}" for k, v in lc.differences.items())


COMMANDS = (add_train_cost, add_conventions)
