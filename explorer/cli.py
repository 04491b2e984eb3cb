"""Command line: ``python -m explorer list | spec | summary | compare | export | bench | width-for | equivalence``.

Every subcommand is two small functions: ``_add_<name>`` declares its arguments and ``cmd_<name>``
runs it and returns an exit status. A new subcommand (bench, equivalence, width-for, export) is one
more pair plus one entry in ``_SUBCOMMANDS``; specs come from ``load_spec`` and the
``NAME | --spec FILE`` pair from ``add_spec_args``, and ``main`` is the one place that turns bad
input (``SpecError``, ``OSError``, argparse usage errors) into exit status 2 with a one-line
``error: …`` on stderr.

Counting convention (also in every ``--help``): MACs are the multiply-accumulates of the conv and
linear layers, bias not counted (the papers' "FLOPs", torchvision's "GFLOPS"); FLOPs = 2 × MACs.

Only the pure-Python parts of the library are imported here (spec, presets, analysis): never
Streamlit, fvcore or the model builder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from .analysis import CONVENTIONS, Analysis, analyze
from .presets import get_preset, list_presets
from .spec import ArchSpec, SpecError

PROG = "python -m explorer"
MAX_SPEC_BYTES = 1024 * 1024  # a spec is a few hundred bytes; anything this big is the wrong file
EXIT_USAGE = 2

CONVENTION_HELP = (
    "Counting convention: MACs = multiply-accumulates of the conv and linear layers, bias not "
    "counted; this is what the ResNet/ResNeXt papers call 'FLOPs' and what torchvision publishes "
    "as 'GFLOPS'. FLOPs = 2 x MACs. Other ops (BN, ReLU, pooling, residual add) are counted "
    "separately. Activations = output elements of the conv and linear layers. Batch 1."
)


class UsageError(Exception):
    """Bad command-line input that is not a spec problem (e.g. both NAME and --spec)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one ``error: …`` line and exit 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {_one_line(message)} (see '{self.prog} --help')\n")


# --- shared helpers ---------------------------------------------------------------------------
def load_spec(name_or_path: str) -> ArchSpec:
    """A preset by name, or a JSON spec file by path (``-`` reads standard input).

    A known preset name wins; anything ending in ``.json``, containing a path separator or
    existing on disk is read as a file (write ``./resnet50`` for a file named like a preset).

    Raises:
        SpecError: unknown preset (the message lists the valid names), invalid JSON or spec, or a
            file larger than 1 MB.
        OSError: the file cannot be read.
    """
    if name_or_path in list_presets():
        return get_preset(name_or_path)
    if name_or_path == "-" or _looks_like_path(name_or_path):
        return ArchSpec.from_json(_read_spec_file(name_or_path))
    return get_preset(name_or_path)  # raises the SpecError that lists every valid name


def _looks_like_path(text: str) -> bool:
    return text.endswith(".json") or "/" in text or os.sep in text or Path(text).exists()


def _read_spec_file(path: str) -> bytes:
    """At most 1 MB + 1 bytes, so a huge or endless file (``/dev/zero``) is refused, not read."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_SPEC_BYTES + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(MAX_SPEC_BYTES + 1)
    except OSError as e:
        raise OSError(f"cannot read spec file {path!r}: {e.strerror or e}") from None
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(f"spec file {path!r} is larger than 1 MB; a spec file is a small JSON object")
    return data


def _paragraphs(*texts: str) -> str:
    return "\n\n".join(textwrap.fill(t, 79) for t in texts)


def add_command(sub: argparse._SubParsersAction, name: str, summary: str, *about: str) -> argparse.ArgumentParser:
    """A subcommand parser: one-line ``summary`` in the command list, ``about`` paragraphs and the
    counting convention in its ``--help``."""
    return sub.add_parser(name, help=summary, description=_paragraphs(*about), epilog=_paragraphs(CONVENTION_HELP),
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def add_spec_args(p: argparse.ArgumentParser) -> None:
    """The ``NAME | --spec FILE`` pair; ``spec_from_args`` resolves it."""
    p.add_argument("name", nargs="?", metavar="NAME",
                   help="a preset (see 'list') or the path of a JSON spec file")
    p.add_argument("--spec", metavar="FILE", dest="spec_file",
                   help="a JSON spec file ('-' reads standard input); instead of NAME")


def spec_from_args(args: argparse.Namespace) -> ArchSpec:
    """The spec named by exactly one of NAME and ``--spec FILE``."""
    if (args.name is None) == (args.spec_file is None):
        raise UsageError("give exactly one of NAME and --spec FILE" + (" (got both)" if args.name else ""))
    if args.spec_file is not None:
        return ArchSpec.from_json(_read_spec_file(args.spec_file))
    return load_spec(args.name)


def _add_input_size(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input-size", nargs=3, type=int, metavar=("C", "H", "W"),
                   help="input channels, height and width (default: the spec's input_size, e.g. 3 224 224)")


def _add_json(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--json", action="store_true", help=f"print {what} as JSON instead of a table")


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _si(n: float) -> str:
    """A count in G/M/k units, for reading at a glance next to the exact number."""
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:g}"


def _shape(shape: Sequence[int]) -> str:
    return "x".join(map(str, shape))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> list[str]:
    """Aligned columns; ``align`` has one letter per column, ``l`` (text) or ``r`` (numbers)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align)).rstrip()
        for r in [header, *rows]
    ]


def _describe(spec: ArchSpec) -> str:
    dash = "-".join
    text = f"{spec.block}, depths {dash(map(str, spec.depths))}, widths {dash(map(str, spec.widths))}"
    if spec.cardinality != 1 or spec.base_width != 64:
        text += f", {spec.cardinality}x{spec.base_width}d"
    return f"{text}, {spec.stem} stem, shortcut {spec.shortcut}, stride on {spec.downsample_on}"


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2))


# --- subcommands ------------------------------------------------------------------------------
def _add_list(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "list", "preset names with params and MACs",
                    "List the presets: name, natural input size, parameters and MACs.")
    _add_json(p, "a list of {name, input_size, params, macs, flops, activations}")
    p.set_defaults(run=cmd_list)


def cmd_list(args: argparse.Namespace) -> int:
    """One line per preset."""
    found = [analyze(get_preset(n)) for n in list_presets()]
    if args.json:
        _print_json([
            {"name": a.name, "input_size": list(a.input_size), "params": a.params, "macs": a.macs,
             "flops": a.flops, "activations": a.activations} for a in found
        ])
        return 0
    rows = [[a.name, _shape(a.input_size), f"{a.params:,}", _si(a.params), f"{a.macs:,}", _si(a.macs)] for a in found]
    print("\n".join(_table(["name", "input", "params", "", "MACs", ""], rows, "llrrrr")))
    return 0


def _add_spec(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "spec", "print a preset's JSON spec",
                    "Print the JSON spec of a preset, every field resolved; edit it and pass it back "
                    "with --spec FILE. With --spec FILE, validate a file and print it resolved.")
    add_spec_args(p)
    p.set_defaults(run=cmd_spec)


def cmd_spec(args: argparse.Namespace) -> int:
    """The spec as JSON (``ArchSpec.to_json``)."""
    print(spec_from_args(args).to_json())
    return 0


def _add_summary(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "summary", "per-stage table and totals of params, MACs, activations",
                    "Complexity of one network: per stage (stem, layer1..., head) the output shape, "
                    "params and MACs (or FLOPs with --flops), then the totals.",
                    "--json prints Analysis.to_dict(): name, input_size, params, macs, flops, "
                    "activations, other_ops, conventions, spec, by_type, layers, blocks and stages.")
    add_spec_args(p)
    _add_input_size(p)
    _add_json(p, "Analysis.to_dict()")
    p.add_argument("--flops", action="store_true", help="show FLOPs (= 2 x MACs) in the table instead of MACs")
    p.add_argument("--layers", action="store_true", help="also print every layer (conv, bn, relu, add, ...)")
    p.set_defaults(run=cmd_summary)


def cmd_summary(args: argparse.Namespace) -> int:
    """Per-stage table and totals, or the whole analysis as JSON."""
    a = analyze(spec_from_args(args), args.input_size)
    if args.json:
        _print_json(a.to_dict())
        return 0
    print("\n".join(_summary_lines(a, args.flops, args.layers)))
    return 0


def _summary_lines(a: Analysis, flops: bool, layers: bool) -> list[str]:
    unit, scale = ("FLOPs", 2) if flops else ("MACs", 1)
    total = a.macs * scale
    lines = [f"{a.name}: input {_shape(a.input_size)}, batch 1", f"  {_describe(a.spec)}", ""]
    if layers:
        rows = [[r.name, r.type, _shape(r.in_shape), _shape(r.out_shape), f"{r.params:,}", f"{r.macs * scale:,}",
                 f"{r.other_ops:,}"] for r in a.layers]
        lines += _table(["layer", "type", "in shape", "out shape", "params", unit, "other ops"], rows, "llllrrr") + [""]
    rows = [
        [s.name, _shape(s.out_shape), f"{s.params:,}", _si(s.params), f"{s.macs * scale:,}", _si(s.macs * scale),
         f"{100 * s.macs / a.macs:.1f}%" if a.macs else "-"]
        for s in a.stages
    ]
    rows.append(["total", _shape(a.output_shape), f"{a.params:,}", _si(a.params), f"{total:,}", _si(total), "100.0%"])
    lines += _table(["stage", "out shape", "params", "", unit, "", f"% {unit}"], rows, "llrrrrr")
    totals = [
        ("params", a.params, ""),
        ("MACs", a.macs, CONVENTIONS["macs"]),
        ("FLOPs", a.flops, CONVENTIONS["flops"]),
        ("activations", a.activations, CONVENTIONS["activations"]),
        ("other ops", a.other_ops, CONVENTIONS["other_ops"]),
    ]
    lines += ["", *_table(["total", "exact", "", ""], [[k, f"{v:,}", _si(v), note] for k, v, note in totals], "lrrl")]
    lines += ["", "Convention: MACs = multiply-accumulates of conv + linear layers, bias not counted "
              "= the papers' \"FLOPs\" and torchvision's \"GFLOPS\"; FLOPs = 2 x MACs."]
    return lines


def _add_compare(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "compare", "params, MACs and activations of several networks, with deltas",
                    "Compare two or more networks, each a preset name or a JSON spec file (a path "
                    "ending in .json, containing '/', or existing on disk; '-' reads standard input; "
                    "a preset name wins, so write ./resnet50 for a file named like one). Every row "
                    "shows the absolute delta and the relative change against the first.",
                    "--json prints a list, one object per network in argument order: name, source "
                    "(the argument), input_size, params, macs, flops, activations, other_ops, and for "
                    "each of params, macs, flops and activations a delta_<metric> (this - first) and "
                    "a ratio_<metric> (this / first; 1.0 for the first).")
    p.add_argument("specs", nargs="+", metavar="NAME_OR_FILE",
                   help="presets or JSON spec files; the first is the baseline")
    _add_input_size(p)
    _add_json(p, "a list of objects (described above)")
    p.add_argument("--flops", action="store_true", help="show FLOPs (= 2 x MACs) in the table instead of MACs")
    p.set_defaults(run=cmd_compare)


_COMPARED = ("params", "macs", "flops", "activations")


def compare_rows(sources: Sequence[str], input_size: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """One plain dict per network with deltas and ratios against the first (the ``--json`` output)."""
    found = [analyze(load_spec(s), input_size) for s in sources]
    base = found[0]
    out = []
    for src, a in zip(sources, found):
        row: dict[str, Any] = {"name": a.name, "source": src, "input_size": list(a.input_size),
                               "params": a.params, "macs": a.macs, "flops": a.flops,
                               "activations": a.activations, "other_ops": a.other_ops}
        for k in _COMPARED:
            row[f"delta_{k}"] = getattr(a, k) - getattr(base, k)
        for k in _COMPARED:
            b = getattr(base, k)
            row[f"ratio_{k}"] = getattr(a, k) / b if b else None
        out.append(row)
    return out


def cmd_compare(args: argparse.Namespace) -> int:
    """Totals side by side, deltas against the first."""
    if len(args.specs) < 2:
        raise UsageError("compare needs at least two networks (presets or JSON spec files)")
    rows = compare_rows(args.specs, args.input_size)
    if args.json:
        _print_json(rows)
        return 0
    metric, unit = ("flops", "FLOPs") if args.flops else ("macs", "MACs")

    def delta(r: dict[str, Any], k: str) -> str:
        if r is rows[0]:
            return "(baseline)"
        ratio = r[f"ratio_{k}"]
        return f"{r[f'delta_{k}']:+,} ({100 * (ratio - 1):+.2f}%)" if ratio is not None else f"{r[f'delta_{k}']:+,}"

    table = [
        [r["name"], _shape(r["input_size"]), f"{r['params']:,}", delta(r, "params"), f"{r[metric]:,}",
         _si(r[metric]), delta(r, metric), f"{r['activations']:,}", delta(r, "activations")]
        for r in rows
    ]
    header = ["name", "input", "params", "vs first", unit, "", "vs first", "activations", "vs first"]
    print("\n".join(_table(header, table, "llrrrrrrr")))
    print(f"\nvs first: this - {rows[0]['name']} (relative change). "
          "MACs = conv + linear multiply-accumulates, bias not counted (the papers' \"FLOPs\", "
          "torchvision's \"GFLOPS\"); FLOPs = 2 x MACs.")
    return 0


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "export", "write the spec as JSON, standalone PyTorch code or ONNX",
                    "Export a network: 'json' is the spec file; 'py' a standalone Python file that rebuilds "
                    "the network with only torch (readable classes and build(), the same state_dict keys as "
                    "the explorer's model); 'onnx' the randomly initialized network as ONNX (needs the "
                    "optional onnx and onnxscript packages).")
    add_spec_args(p)
    p.add_argument("--format", choices=("json", "py", "onnx"), default="json", help="what to write (default json)")
    p.add_argument("-o", "--output", metavar="FILE", help="where to write; default standard output (not for onnx)")
    p.set_defaults(run=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    """Write the export; the torch-needing formats import it only here."""
    spec = spec_from_args(args)
    if args.format == "onnx":
        if not args.output:
            raise UsageError("--format onnx needs -o FILE")
        from .export import export_onnx

        export_onnx(spec, args.output)
        print(f"wrote {args.output}", file=sys.stderr)
        return 0
    if args.format == "py":
        from .export import export_python

        text = export_python(spec)
    else:
        text = spec.to_json() + "\n"
    if args.output:
        try:
            Path(args.output).write_text(text)
        except OSError as e:
            raise OSError(f"output: cannot write {args.output!r}: {e.strerror or e}") from None
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _add_width_for(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "width-for", "the path width d that keeps a ResNeXt block at the ResNet block's cost",
                    "Solve ResNeXt Eq. 4 for d: the width per path whose template block (c_in -> C paths of d "
                    "-> c_in) has the parameter count nearest the ResNet bottleneck's (69,632 for 256-64-256). "
                    "Reproduces Table 2: C = 1, 2, 4, 8, 32 -> d = 64, 40, 24, 14, 4.")
    p.add_argument("--cardinality", "-C", type=int, required=True, metavar="C", help="number of paths (groups)")
    p.add_argument("--channels", type=int, default=256, help="block input/output channels (default 256)")
    p.add_argument("--reference-width", type=int, default=64, help="the ResNet bottleneck width (default 64)")
    p.add_argument("--target-params", type=int, help="aim at this many parameters instead")
    _add_json(p, "{cardinality, d, width, params, macs, target_params, c_in, c_out, size}")
    p.set_defaults(run=cmd_width_for)


def cmd_width_for(args: argparse.Namespace) -> int:
    from .design import width_for

    w = width_for(args.cardinality, c_in=args.channels, reference_width=args.reference_width,
                  target_params=args.target_params)
    if args.json:
        _print_json(w.to_dict())
    else:
        print(f"C = {w.cardinality}: d = {w.d}, group-conv width C*d = {w.width}, template params {w.params:,} "
              f"(target {w.target_params:,}), {w.macs:,} MACs at {w.size}x{w.size}")
    return 0


def _add_equivalence(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "equivalence", "check that ResNeXt Fig. 3 forms a, b, c compute the same function",
                    "Build one bottleneck block in form (c) with random weights and BN statistics, derive forms "
                    "(a) and (b) from it exactly, run all three on one input in float32 and float64, and report "
                    "per form: params, MACs, the largest absolute output difference against (c), and (unless "
                    "--no-latency) the median latency of interleaved runs.")
    p.add_argument("--cardinality", "-C", type=int, default=32, metavar="C", help="number of paths (default 32)")
    p.add_argument("--width", "-d", type=int, default=4, metavar="d", help="channels per path (default 4)")
    p.add_argument("--channels", type=int, default=256, help="block input/output channels (default 256)")
    p.add_argument("--size", type=int, default=56, help="spatial size, height = width (default 56)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps (default cpu)")
    p.add_argument("--train", action="store_true", help="compare in train mode (batch statistics)")
    p.add_argument("--no-latency", action="store_true", help="skip the timing")
    _add_json(p, "the report (forms: params, macs, convs, max_abs_diff_float32/64, latency_ms)")
    p.set_defaults(run=cmd_equivalence)


def cmd_equivalence(args: argparse.Namespace) -> int:
    from .forms import FORM_TITLES, equivalence
    from .latency import LatencyError

    try:
        r = equivalence(args.cardinality, args.width, args.channels, args.size, device=args.device,
                        train=args.train, measure=not args.no_latency)
    except LatencyError as e:
        raise UsageError(str(e)) from None
    if args.json:
        _print_json(r.to_dict())
        return 0
    rows = [[FORM_TITLES[f.form], f"{f.params:,}", f"{f.macs:,}", str(f.convs),
             f"{f.max_abs_diff_float32:.2e}", f"{f.max_abs_diff_float64:.2e}" if f.max_abs_diff_float64 is not None
             else "-", f"{f.latency_ms:.3f}" if f.latency_ms is not None else "-"] for f in r.forms]
    print(f"{r.subject}, batch {r.batch_size}, {r.mode} mode, {r.device}; outputs up to {r.output_max_abs:.3g}")
    print("\n".join(_table(["form", "params", "MACs", "convs", "max|d| f32", "max|d| f64", "latency ms"],
                           rows, "lrrrrrr")))
    return 0


EXIT_DEVICE = 1  # the input was fine but the device failed (out of memory, driver error)


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "bench", "measure latency and throughput on a device",
                    "Build the network and time its forward pass: warm-up, then timed runs (synchronized on "
                    "a GPU) until both a minimum count and a minimum time are reached; reports the median, "
                    "p10/p90, throughput and the achieved multiply-adds per second against the device's peak.",
                    "--json prints LatencyResult.to_dict() plus 'macs' and 'roofline'. Exit status 2 for bad "
                    "input (an unknown device, a dtype the device cannot run), 1 for a device failure such "
                    "as out of memory.")
    add_spec_args(p)
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps (default cpu)")
    p.add_argument("--batch-size", type=int, default=1, help="images per forward pass (default 1)")
    p.add_argument("--dtype", default="float32", choices=("float32", "float16", "bfloat16"))
    p.add_argument("--channels-last", action="store_true", help="NHWC memory format")
    p.add_argument("--threads", type=int, help="CPU threads for the measurement (default: torch's)")
    p.add_argument("--max-seconds", type=float, default=10.0, help="bound on the measurement (default 10)")
    _add_input_size(p)
    _add_json(p, "the measurement")
    p.set_defaults(run=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    from .guard import check_memory
    from .latency import LatencyError, measure_latency, roofline

    spec = spec_from_args(args)
    a = analyze(spec, args.input_size)
    check_memory(a, batch_size=args.batch_size, dtype=args.dtype, device=args.device)
    try:
        r = measure_latency(spec, device=args.device, batch_size=args.batch_size, dtype=args.dtype,
                            channels_last=args.channels_last, threads=args.threads, input_size=a.input_size,
                            max_seconds=args.max_seconds)
        roof = roofline(r, a.macs)
    except LatencyError as e:
        if e.field is not None:
            raise UsageError(str(e)) from None
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return EXIT_DEVICE
    if args.json:
        _print_json({**r.to_dict(), "macs": a.macs, "roofline": roof})
        return 0
    print(f"{r.name} on {r.device} ({r.device_name}), {r.dtype}, batch {r.batch_size}, input {_shape(r.input_size)}, "
          f"{r.threads} thread(s){', channels_last' if r.channels_last else ''}")
    print(f"  median {r.median_ms:,.3f} ms   p10 {r.p10_ms:,.3f}   p90 {r.p90_ms:,.3f}   IQR {r.iqr_ms:,.3f}   "
          f"mean {r.mean_ms:,.3f} ± {r.std_ms:,.3f} ms   ({r.runs} runs after {r.warmup_runs} warm-up, "
          f"stopped by {r.stopped_by})")
    print(f"  throughput {r.throughput:,.1f} images/s   achieved {roof['achieved_macs_per_s'] / 1e9:,.1f} GMAC/s = "
          f"{roof['percent_of_peak']:.0f}% of the device's matmul peak ({roof['peak_macs_per_s'] / 1e9:,.1f} GMAC/s)")
    print(f"  {a.macs:,} MACs per image (multiply-accumulates of conv + linear; FLOPs = 2 x MACs)")
    return 0


# Each entry declares one subcommand; add new ones here.
_SUBCOMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _add_list, _add_spec, _add_summary, _add_compare, _add_export, _add_bench, _add_width_for, _add_equivalence,
)

_EXAMPLES = f"""examples:
  {PROG} list
  {PROG} spec resnet50 > r50.json
  {PROG} summary resnet50 --input-size 3 97 131
  {PROG} summary --spec r50.json --json
  {PROG} compare resnet50 resnext50_32x4d r50.json
  {PROG} export resnext50_32x4d --format py -o resnext50.py
  {PROG} bench resnext50_32x4d --device cpu --batch-size 8 --threads 1
  {PROG} width-for --cardinality 8
  {PROG} equivalence --cardinality 32 --width 4 --channels 256 --size 56
Run '{PROG} COMMAND --help' for the options of each command."""


# --- entry point ------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand."""
    parser = _Parser(
        prog=PROG,
        description=_paragraphs("Architecture Explorer: exact, analytic complexity (params, MACs, "
                                "activations) of ResNet/ResNeXt networks, from a preset or a JSON spec.",
                                CONVENTION_HELP),
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in _SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help (0) and usage errors (2, message already printed)
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    try:
        status = args.run(args)
        sys.stdout.flush()  # surface a closed pipe here, not as noise at interpreter exit
        return status
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, like other Unix tools
        _silence_stdout()
        return 1
    except (SpecError, OSError, UsageError) as e:
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return EXIT_USAGE


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
