"""The degradation experiment (ResNet Fig. 6) as a benchmark figure: end points with their spread, and wall time.

Runs ``explorer.lab.train.run_degradation`` (plain and residual CIFAR nets trained alike, several seeds) and
records per net the training and test error at the last epoch (mean and range over the seeds), the parameters
and MACs, and the time per epoch. Two presets:

- ``--preset defaults`` (the app's defaults: scikit-learn digits, 8×8, width 8, 8 epochs, 3 seeds): about two
  minutes of one CPU thread;
- ``--preset cifar10 --data-dir DIR`` (the paper's setting on a GPU: CIFAR-10 from DIR, 50,000 training images
  with the paper's augmentation, width 16, batch 128, lr 0.1, plain and ResNet 20/56; 160 epochs ≈ 64k
  iterations, the paper's schedule, ÷10 at 50% and 75%), for the record next to the paper's Table 6 and Fig. 6.

With ``--write`` the result goes into ``benchmarks/README.md`` between the ``bench_degradation`` markers, one
block per device kind.

    .venv/bin/python benchmarks/bench_degradation.py --write                       # CPU, the app's defaults
    .venv/bin/python benchmarks/bench_degradation.py --preset cifar10 --data-dir ~/data --device cuda --write
    .venv/bin/python benchmarks/bench_degradation.py --epochs 1 --seeds 1          # a quick check
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import add_threads, command, device_info, machine, set_threads, started, write_block  # noqa: E402

from explorer import analyze  # noqa: E402
from explorer.core.errors import DeviceError, SpecError  # noqa: E402
from explorer.lab.findings import degradation_findings, pct  # noqa: E402
from explorer.lab.settings import DegradationSettings  # noqa: E402
from explorer.lab.train import DegradationResult, run_degradation  # noqa: E402

PRESETS = {
    "defaults": DegradationSettings(),
    "cifar10": DegradationSettings(dataset="cifar10", data_dir="-", width=16, epochs=160, seeds=1, batch_size=128,
                                   lr=0.1, max_seconds=86_400.0),
}
PAPER = ("The paper (Table 6, CIFAR-10 test error): ResNet-20 8.75%, ResNet-56 6.97%; plain nets only in Fig. 6 "
         "(plain-56 above plain-20 in training and test error throughout). A public reproduction (5 runs, 64k "
         "iterations): plain-20 9.78±0.13, plain-56 12.95±0.22, ResNet-20 8.51±0.22, ResNet-56 7.40±0.27% test error.")

INTRO = """## The degradation experiment (`benchmarks/bench_degradation.py`)

`explorer.lab.train.run_degradation`: plain and residual CIFAR nets (ResNet §4.2, 6n+2 layers, option A) trained
alike — the same images in the same order, the same initialization rule, SGD (momentum 0.9, weight decay 1e-4),
learning rate ÷10 at 50% and 75% of the epochs — for each seed. Errors after the last epoch, in eval mode: the
training error on all training images, the test error on the held-out ones; mean and range over the seeds. """ + PAPER


def render(r: DegradationResult, where: str, cmd: str) -> str:
    s = r.settings
    rows = ["| net | params | MACs | train error | test error | s / epoch |", "|---|---|---|---|---|---|"]
    for n in r.nets:
        a = analyze(n.spec)
        runs = r.runs_of(n.label)
        per_epoch = sum(sum(x.epoch_seconds) for x in runs) / max(1, sum(x.epochs for x in runs))
        tr, te = r.end(n.label), r.end(n.label, "test_error")
        rows.append(f"| {n.label} | {a.params:,} | {a.macs:,} | {pct(tr) if tr else '—'} | "
                    f"{pct(te) if te else '—'} | {per_epoch:.2f} |")
    lines = [f"{r.data} Width {s.width}, batch {s.batch_size}, lr {s.lr:g}, {r.epochs_done} of {s.epochs} epochs, "
             f"{s.seeds} seed(s); {r.total_seconds:,.1f} s in all (stopped by {r.stopped_by.replace('_', ' ')}).",
             "", *rows, "", *(f"- {f}" for f in degradation_findings(r)), "", f"{where}", "", f"`{cmd}`"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="defaults", choices=tuple(PRESETS))
    parser.add_argument("--data-dir", default="", help="the CIFAR-10 folder (for --preset cifar10)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps (default cpu)")
    parser.add_argument("--epochs", type=int, help="instead of the preset's")
    parser.add_argument("--seeds", type=int, help="instead of the preset's")
    add_threads(parser)
    parser.add_argument("--write", action="store_true", help="record the result in benchmarks/README.md")
    args = parser.parse_args(argv)
    try:
        info = device_info(args.device)
        set_threads(args.threads)
        changes = {"device": info.name, "threads": args.threads if info.kind == "cpu" else None}
        if args.preset == "cifar10":
            changes["data_dir"] = args.data_dir
        changes.update({k: v for k, v in (("epochs", args.epochs), ("seeds", args.seeds)) if v is not None})
        s = dataclasses.replace(PRESETS[args.preset], **changes)
    except SpecError as e:
        print(f"bench_degradation: {e}", file=sys.stderr)
        return 2
    load = started(info, args.threads)

    def progress(fraction: float, text: str) -> None:
        print(f"\r{100 * fraction:5.1f}% {text[:70]:<70}", end="", file=sys.stderr, flush=True)

    try:
        r = run_degradation(s, progress=progress)
    except (DeviceError, SpecError) as e:
        print(f"\nbench_degradation: {e}", file=sys.stderr)
        return 1
    block = render(r, machine(info, args.threads, load), command("bench_degradation.py", argv))
    print("\n\n" + block)
    if args.write:
        write_block("bench_degradation", info.kind, INTRO, block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
