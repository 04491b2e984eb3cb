"""The residual lab's commands: degradation, gradients, lesion (``explorer.lab``). Torch loads when one runs."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from ..lab.settings import DATASETS, LAB_FIELDS, RESIDUAL_SHORTCUTS, DegradationSettings, GradientSettings
from .common import add_command, add_json, print_json, spec_from_args, table

F = {k: dataclasses.replace(f, help=f.help.replace("%", "%%")) for k, f in LAB_FIELDS.items()}  # argparse formats help
EXIT_HELP = ("Exit status 2 for bad input (a depth that is not 6n+2, a missing CIFAR-10 folder, an unknown device, "
             "over the memory budget), 1 for a device failure.")
TRAINING_HELP = ("Every net gets the same data order, initialization rule, optimizer (SGD, momentum 0.9, weight "
                 "decay 1e-4) and schedule (learning rate ÷10 at 50% and 75% of the epochs) for each seed 0, 1, …; "
                 "on a CPU two runs give the same numbers to the bit.")
D = DegradationSettings()


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="digits", choices=DATASETS, help=F["dataset"].help + " (default digits)")
    p.add_argument("--data-dir", default="", help=F["data_dir"].help)
    p.add_argument("--device", default="cpu", help=F["device"].help + " (default cpu)")
    p.add_argument("--threads", type=int, default=1, help=F["threads"].help + " (default 1)")


def _training_args(p: argparse.ArgumentParser, depths: tuple[int, ...]) -> None:
    _data_args(p)
    p.add_argument("--depths", type=int, nargs="+", default=list(depths), metavar="D",
                   help=f"{F['layers'].help} (default {' '.join(map(str, depths))})")
    p.add_argument("--width", type=int, default=D.width, help=f"{F['width'].help} (default {D.width})")
    p.add_argument("--shortcut", default="A", choices=RESIDUAL_SHORTCUTS, help=F["shortcut"].help + " (default A)")
    p.add_argument("--epochs", type=int, default=D.epochs, help=f"{F['epochs'].help} (default {D.epochs})")
    p.add_argument("--seeds", type=int, default=D.seeds, help=f"{F['seeds'].help} (default {D.seeds})")
    p.add_argument("--train-images", type=int, default=D.train_images, help=F["train_images"].help)
    p.add_argument("--test-images", type=int, default=D.test_images, help=F["test_images"].help)
    p.add_argument("--batch-size", type=int, default=D.batch_size, help=f"{F['batch_size'].help} (default "
                   f"{D.batch_size})")
    p.add_argument("--lr", type=float, default=D.lr, help=f"{F['lr'].help} (default {D.lr:g})")
    p.add_argument("--no-plain", action="store_true", help="train the residual nets only")
    p.add_argument("--max-seconds", type=float, default=D.max_seconds,
                   help=f"{F['max_seconds'].help} (default {D.max_seconds:g})")


def _degradation_settings(args: argparse.Namespace) -> DegradationSettings:
    return DegradationSettings(
        dataset=args.dataset, data_dir=args.data_dir, layers=tuple(args.depths), width=args.width, epochs=args.epochs,
        seeds=args.seeds, train_images=args.train_images, test_images=args.test_images, batch_size=args.batch_size,
        lr=args.lr, shortcut=args.shortcut, plain=not args.no_plain, max_seconds=args.max_seconds, device=args.device,
        threads=args.threads)


def _progress(quiet: bool) -> Any:
    import sys

    if quiet or not sys.stderr.isatty():
        return None
    return lambda fraction, text: print(f"\r{100 * fraction:5.1f}% {text[:70]:<70}", end="", file=sys.stderr,
                                        flush=True)


def add_degradation(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "degradation", "train plain and residual nets: the degradation problem (ResNet Fig. 6)",
                    "Train the CIFAR-style plain and residual networks (ResNet §4.2: 6n+2 layers, three stages) at "
                    "each depth on real images available offline, and report per net and epoch the training and test "
                    "error of every seed, the end points (mean and range over seeds), params and MACs.",
                    TRAINING_HELP, "--json prints DegradationResult.to_dict() plus 'findings'. " + EXIT_HELP)
    _training_args(p, D.layers)
    add_json(p, "every curve, the settings and the findings")
    p.set_defaults(run=cmd_degradation)


def cmd_degradation(args: argparse.Namespace) -> int:
    from ..core.analysis import analyze
    from ..lab.findings import degradation_findings, pct
    from ..lab.train import run_degradation

    r = run_degradation(_degradation_settings(args), progress=_progress(args.json))
    findings = degradation_findings(r)
    if args.json:
        print_json({**r.to_dict(), "findings": findings})
        return 0
    print(f"{r.data}\n{r.epochs_done} epoch(s), {r.settings.seeds} seed(s), {r.total_seconds:.1f} s on {r.device} "
          f"({r.threads} thread(s)), stopped by {r.stopped_by.replace('_', ' ')}")
    rows = []
    for n in r.nets:
        a = analyze(n.spec)
        tr, te = r.end(n.label), r.end(n.label, "test_error")
        rows.append([n.label, f"{a.params:,}", f"{a.macs:,}", pct(tr) if tr else "-", pct(te) if te else "-"])
    print("\n".join(table(["net", "params", "MACs", "train error", "test error"], rows, "lrrrr")))
    print("\n".join(f.replace("–", "-") for f in findings))
    return 0


def add_gradients(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "gradients", "gradient norms at initialization, plain vs residual, per layer",
                    "One batch of real images, a train-mode forward pass, cross-entropy and one backward pass at "
                    "initialization: per conv the norm of the loss gradient with respect to its weight, per block the "
                    "norm of the gradient with respect to its output. Without NAME: the CIFAR nets of --depths, plain "
                    "and residual; with NAME or --spec FILE: that network against its plain (or residual) twin, fitted "
                    "to the data set's images and classes.", "--json prints GradientResult.to_dict(). " + EXIT_HELP)
    p.add_argument("name", nargs="?", metavar="NAME", help="a preset or a JSON spec file (optional)")
    p.add_argument("--spec", metavar="FILE", dest="spec_file", help="a JSON spec file, instead of NAME")
    _data_args(p)
    g = GradientSettings()
    p.add_argument("--depths", type=int, nargs="+", default=list(g.layers), metavar="D", help=F["layers"].help)
    p.add_argument("--width", type=int, default=g.width, help=F["width"].help)
    p.add_argument("--shortcut", default="A", choices=RESIDUAL_SHORTCUTS, help=F["shortcut"].help)
    p.add_argument("--batch-size", type=int, default=g.batch_size, help=F["batch_size"].help)
    p.add_argument("--seed", type=int, default=0, help=F["seed"].help)
    add_json(p, "the norms")
    p.set_defaults(run=cmd_gradients)


def cmd_gradients(args: argparse.Namespace) -> int:
    from ..lab.findings import gradient_findings
    from ..lab.probes import gradient_flow

    base = spec_from_args(args) if args.name is not None or args.spec_file is not None else None
    s = GradientSettings(dataset=args.dataset, data_dir=args.data_dir, layers=tuple(args.depths), width=args.width,
                         shortcut=args.shortcut, batch_size=args.batch_size, seed=args.seed, device=args.device,
                         threads=args.threads, base=base)
    r = gradient_flow(s)
    if args.json:
        print_json({**r.to_dict(), "findings": gradient_findings(r.flows)})
        return 0
    print(f"{r.data}\nbatch {s.batch_size}, seed {s.seed}, train mode, {r.total_seconds:.1f} s")
    rows = [[f.label, f"{f.loss:.4f}", f"{f.blocks[0][1]:.3e}", f"{f.blocks[-1][1]:.3e}",
             f"{f.convs[0][1]:.3e}", f"{f.convs[-1][1]:.3e}"] for f in r.flows]
    print("\n".join(table(["net", "loss", "|dL/dout| first block", "last block", "|dL/dW| first conv", "last conv"],
                          rows, "lrrrrr")))
    print("\n".join(gradient_findings(r.flows)).replace("‖", "|").replace("∂", "d").replace("×", "x"))
    return 0


def add_lesion(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "lesion", "train plain and residual nets, then delete one block at a time (Veit et al.)",
                    "Train the nets as 'degradation' does, then delete each block in turn (keeping its shortcut: the "
                    "block's output becomes relu(shortcut(x))) and measure the test error, for every seed. A plain "
                    "net's block whose shape stays passes its input on; its downsampling blocks cannot be deleted "
                    "and are marked. Also reports each 3x3 layer's response std (ResNet Fig. 7).",
                    TRAINING_HELP, "--json prints the training result and the probe (lesions, responses). " + EXIT_HELP)
    _training_args(p, D.layers)
    p.add_argument("--lesion-seconds", type=float, default=300.0, help="time limit of the lesion study (s)")
    add_json(p, "the training result and the lesions")
    p.set_defaults(run=cmd_lesion)


def cmd_lesion(args: argparse.Namespace) -> int:
    from ..lab.findings import lesion_findings, response_findings
    from ..lab.probes import probe_trained
    from ..lab.train import run_degradation

    LAB_FIELDS["max_seconds"].check(args.lesion_seconds, "lesion_seconds")  # the unescaped field
    r = run_degradation(_degradation_settings(args), progress=_progress(args.json))
    probe = probe_trained(r, max_seconds=args.lesion_seconds, progress=_progress(args.json))
    findings = lesion_findings(probe) + response_findings(probe)
    if args.json:
        print_json({"training": r.to_dict(), "probe": probe.to_dict(), "findings": findings})
        return 0
    print(f"{r.data}\n{r.epochs_done} epoch(s), {r.settings.seeds} seed(s); lesions {probe.total_seconds:.1f} s, "
          f"stopped by {probe.stopped_by.replace('_', ' ')}")
    for n in probe.nets:
        rows = [[b.name, "yes" if b.downsampling else "", f"{100 * b.spread.mean:.1f}%" if b.spread else
                 ("cannot be deleted" if not b.deletable else "not measured")] for b in n.blocks]
        print(f"\n{n.label}")
        print("\n".join(table(["deleted block", "downsampling", "test error"], rows, "llr")))
    print()
    print("\n".join(findings).replace("–", "-").replace("×", "x"))
    return 0


COMMANDS = (add_degradation, add_gradients, add_lesion)
