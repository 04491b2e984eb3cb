"""Subcommands that read specs and counts: list, spec, summary, compare, export, width-for. No torch needed
(except to export code or ONNX)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.analysis import CONVENTIONS, Analysis, analyze
from ..costs.comparison import Comparison
from ..core.presets import get_preset, list_presets
from ..core.spec import ArchSpec
from ..core.vocab import CONVENTION_ASCII, si
from .common import (
    UsageError,
    add_command,
    add_input_size,
    add_json,
    add_spec_args,
    ascii_shape,
    load_spec,
    print_json,
    spec_from_args,
    table,
)


def add_list(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "list", "preset names with params and MACs",
                    "List the presets: name, natural input size, parameters and MACs.")
    add_json(p, "a list of {name, input_size, params, macs, flops, activations}")
    p.set_defaults(run=cmd_list)


def cmd_list(args: argparse.Namespace) -> int:
    found = [analyze(get_preset(n)) for n in list_presets()]
    if args.json:
        print_json([{"name": a.name, "input_size": list(a.input_size), "params": a.params, "macs": a.macs,
                     "flops": a.flops, "activations": a.activations} for a in found])
        return 0
    rows = [[a.name, ascii_shape(a.input_size), f"{a.params:,}", si(a.params), f"{a.macs:,}", si(a.macs)]
            for a in found]
    print("\n".join(table(["name", "input", "params", "", "MACs", ""], rows, "llrrrr")))
    return 0


def add_spec(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "spec", "print a preset's JSON spec",
                    "Print the JSON spec of a preset, every field resolved; edit it and pass it back "
                    "with --spec FILE. With --spec FILE, validate a file and print it resolved.")
    add_spec_args(p)
    p.set_defaults(run=cmd_spec)


def cmd_spec(args: argparse.Namespace) -> int:
    print(spec_from_args(args).to_json())
    return 0


def add_summary(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "summary", "per-stage table and totals of params, MACs, activations",
                    "Complexity of one network: per stage (stem, layer1..., head) the output shape, "
                    "params and MACs (or FLOPs with --flops), then the totals.",
                    "--json prints Analysis.to_dict(): name, input_size, params, macs, flops, "
                    "activations, other_ops, conventions, spec, by_type, layers, blocks and stages.")
    add_spec_args(p)
    add_input_size(p)
    add_json(p, "Analysis.to_dict()")
    p.add_argument("--flops", action="store_true", help="show FLOPs (= 2 x MACs) in the table instead of MACs")
    p.add_argument("--layers", action="store_true", help="also print every layer (conv, bn, relu, add, ...)")
    p.set_defaults(run=cmd_summary)


def cmd_summary(args: argparse.Namespace) -> int:
    a = analyze(spec_from_args(args), args.input_size)
    if args.json:
        print_json(a.to_dict())
        return 0
    print("\n".join(summary_lines(a, args.flops, args.layers)))
    return 0


def describe(spec: ArchSpec) -> str:
    """'bottleneck, depths 3-4-6-3, widths 64-128-256-512, 32x4d, imagenet stem, shortcut B, stride on 3x3'."""
    dash = "-".join
    text = f"{spec.block}, depths {dash(map(str, spec.depths))}, widths {dash(map(str, spec.widths))}"
    if spec.cardinality != 1 or spec.base_width != 64:
        text += f", {spec.cardinality}x{spec.base_width}d"
    return f"{text}, {spec.stem} stem, shortcut {spec.shortcut}, stride on {spec.downsample_on}"


def summary_lines(a: Analysis, flops: bool, layers: bool) -> list[str]:
    unit, scale = ("FLOPs", 2) if flops else ("MACs", 1)
    total = a.macs * scale
    lines = [f"{a.name}: input {ascii_shape(a.input_size)}, batch 1", f"  {describe(a.spec)}", ""]
    if layers:
        rows = [[r.name, r.type, ascii_shape(r.in_shape), ascii_shape(r.out_shape), f"{r.params:,}",
                 f"{r.macs * scale:,}", f"{r.other_ops:,}"] for r in a.layers]
        lines += table(["layer", "type", "in shape", "out shape", "params", unit, "other ops"], rows, "llllrrr") + [""]
    rows = [
        [s.name, ascii_shape(s.out_shape), f"{s.params:,}", si(s.params), f"{s.macs * scale:,}", si(s.macs * scale),
         f"{100 * s.macs / a.macs:.1f}%" if a.macs else "-"]
        for s in a.stages
    ]
    rows.append(["total", ascii_shape(a.output_shape), f"{a.params:,}", si(a.params), f"{total:,}", si(total),
                 "100.0%"])
    lines += table(["stage", "out shape", "params", "", unit, "", f"% {unit}"], rows, "llrrrrr")
    totals = [
        ("params", a.params, ""),
        ("MACs", a.macs, CONVENTIONS["macs"]),
        ("FLOPs", a.flops, CONVENTIONS["flops"]),
        ("activations", a.activations, CONVENTIONS["activations"]),
        ("other ops", a.other_ops, CONVENTIONS["other_ops"]),
    ]
    lines += ["", *table(["total", "exact", "", ""], [[k, f"{v:,}", si(v), note] for k, v, note in totals], "lrrl")]
    lines += ["", f"Convention: {CONVENTION_ASCII}"]
    return lines


def add_compare(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "compare", "params, MACs and activations of several networks, with deltas",
                    "Compare two or more networks, each a preset name or a JSON spec file (a path "
                    "ending in .json, containing '/', or existing on disk; '-' reads standard input; "
                    "a preset name wins, so write ./resnet50 for a file named like one). Every row "
                    "shows the absolute delta and the relative change against the first, and the "
                    "lines below say where the difference comes from.",
                    "--json prints a list, one object per network in argument order: name, source "
                    "(the argument), input_size, params, macs, flops, activations, other_ops, and for "
                    "each of params, macs, flops and activations a delta_<metric> (this - first) and "
                    "a ratio_<metric> (this / first; 1.0 for the first).")
    p.add_argument("specs", nargs="+", metavar="NAME_OR_FILE",
                   help="presets or JSON spec files; the first is the baseline")
    add_input_size(p)
    add_json(p, "a list of objects (described above)")
    p.add_argument("--flops", action="store_true", help="show FLOPs (= 2 x MACs) in the table instead of MACs")
    p.set_defaults(run=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    if len(args.specs) < 2:
        raise UsageError("compare needs at least two networks (presets or JSON spec files)")
    c = Comparison(tuple(analyze(load_spec(s), args.input_size) for s in args.specs))
    rows = c.rows(args.specs)
    if args.json:
        print_json(rows)
        return 0
    metric, unit = ("flops", "FLOPs") if args.flops else ("macs", "MACs")

    def delta(r: dict, k: str) -> str:
        if r is rows[0]:
            return "(baseline)"
        ratio = r[f"ratio_{k}"]
        return f"{r[f'delta_{k}']:+,} ({100 * (ratio - 1):+.2f}%)" if ratio is not None else f"{r[f'delta_{k}']:+,}"

    lines = [[r["name"], ascii_shape(r["input_size"]), f"{r['params']:,}", delta(r, "params"), f"{r[metric]:,}",
              si(r[metric]), delta(r, metric), f"{r['activations']:,}", delta(r, "activations")] for r in rows]
    header = ["name", "input", "params", "vs first", unit, "", "vs first", "activations", "vs first"]
    print("\n".join(table(header, lines, "llrrrrrrr")))
    for a in c.analyses[1:]:
        print(f"\n{c.headline(a)}".replace("×", "x"))
        print(f"  {c.where(a, metric)}".replace("×", "x"))
        for sentence in c.why(a):
            print(f"  {sentence}".replace("×", "x"))
    print(f"\nvs first: this - {rows[0]['name']} (relative change). {CONVENTION_ASCII}")
    return 0


def add_export(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "export", "write the spec as JSON, standalone PyTorch code or ONNX",
                    "Export a network: 'json' is the spec file; 'py' a standalone Python file that rebuilds "
                    "the network with only torch (the explorer's own module classes and build(), the same "
                    "state_dict keys as the explorer's model); 'onnx' the randomly initialized network as ONNX "
                    "(needs the optional onnx and onnxscript packages; refused above the memory budget).")
    add_spec_args(p)
    p.add_argument("--format", choices=("json", "py", "onnx"), default="json", help="what to write (default json)")
    p.add_argument("-o", "--output", metavar="FILE", type=_output_path,
                   help="where to write; default standard output (not for onnx)")
    p.set_defaults(run=cmd_export)


def _output_path(text: str) -> str:
    """A file name for -o: an empty one is a mistake (it would silently mean standard output)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("needs a file name, got an empty one (leave -o out for standard output)")
    return text


def cmd_export(args: argparse.Namespace) -> int:
    """Write the export; the torch-needing formats import it only here."""
    spec = spec_from_args(args)
    if args.format == "onnx":
        if not args.output:
            raise UsageError("--format onnx needs -o FILE")
        from ..build.export import export_onnx

        export_onnx(spec, args.output)
        print(f"wrote {args.output}", file=sys.stderr)
        return 0
    if args.format == "py":
        from ..build.export import export_python

        text = export_python(spec)
    else:
        text = spec.to_json() + "\n"
    if args.output is not None:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as e:
            raise OSError(f"output: cannot write {args.output!r}: {e.strerror or e}") from None
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def add_width_for(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "width-for", "the path width d that keeps a ResNeXt block at the ResNet block's cost",
                    "Solve ResNeXt Eq. 4 for d: the width per path whose template block (c_in -> C paths of d "
                    "-> c_in) has the parameter count nearest the ResNet bottleneck's (69,632 for 256-64-256). "
                    "Reproduces Table 2: C = 1, 2, 4, 8, 32 -> d = 64, 40, 24, 14, 4.")
    p.add_argument("--cardinality", "-C", type=int, required=True, metavar="C", help="number of paths (groups)")
    p.add_argument("--channels", type=int, default=256, help="block input/output channels (default 256)")
    p.add_argument("--reference-width", type=int, default=64, help="the ResNet bottleneck width (default 64)")
    p.add_argument("--target-params", type=int, help="aim at this many parameters instead")
    add_json(p, "{cardinality, d, width, params, macs, target_params, c_in, c_out, size}")
    p.set_defaults(run=cmd_width_for)


def cmd_width_for(args: argparse.Namespace) -> int:
    from ..costs.design import width_for

    w = width_for(args.cardinality, c_in=args.channels, reference_width=args.reference_width,
                  target_params=args.target_params)
    if args.json:
        print_json(w.to_dict())
    else:
        print(f"C = {w.cardinality}: d = {w.d}, group-conv width C*d = {w.width}, template params {w.params:,} "
              f"(target {w.target_params:,}), {w.macs:,} MACs at {w.size}x{w.size}")
    return 0


COMMANDS = (add_list, add_spec, add_summary, add_compare, add_export, add_width_for)
