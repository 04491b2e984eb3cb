"""Command line: ``python -m explorer COMMAND``.

Subcommands live in small modules (``inspect``: list, spec, summary, compare, export, width-for;
``measure``: bench, equivalence, profile; ``cost``: train-cost, conventions; ``lab``: degradation, gradients, lesion); each declares itself with an ``add_<name>`` function listed in its
``COMMANDS``. ``main`` is the one place that turns errors into exit statuses and one ``error: …`` line on
stderr: bad input (``SpecError``, unreadable files, usage errors) exits 2, a device failure exits 1, and
nothing ever prints a traceback.

Only the pure-Python parts of the library are imported to parse arguments; torch loads when a command
that builds or runs a network does.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import NoReturn

from ..core.errors import Cancelled, DeviceError, SpecError
from . import cost, inspect, lab, measure
from .common import CONVENTION_HELP, PROG, load_spec, one_line, paragraphs

EXIT_USAGE = 2  # bad input
EXIT_DEVICE = 1  # the input was fine but the device failed (out of memory, driver error)

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
  {PROG} train-cost resnet50 --batch-size 64 --precision bfloat16 --optimizer adam
  {PROG} train-cost resnet20 --batch-size 8 --measure --threads 1
  {PROG} conventions resnet50 --json
  {PROG} degradation --depths 20 56 --epochs 8 --seeds 3 --json
Run '{PROG} COMMAND --help' for the options of each command."""


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one ``error: …`` line and exit 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {one_line(message)} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand."""
    parser = _Parser(
        prog=PROG,
        description=paragraphs("Architecture Explorer: exact, analytic complexity (params, MACs, activations) of "
                               "ResNet/ResNeXt networks, from a preset or a JSON spec; measured latency.",
                               CONVENTION_HELP),
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)
    for add in (*inspect.COMMANDS, *measure.COMMANDS, *cost.COMMANDS, *lab.COMMANDS):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 bad input, 1 device failure)."""
    if sys.stdout is None or sys.stderr is None:  # started with a closed descriptor (`>&-`): nowhere to write
        _fail("standard output or standard error is closed; nothing can be written", EXIT_USAGE)
        return EXIT_USAGE
    for stream in (sys.stdout, sys.stderr):  # a character the terminal's encoding lacks is escaped, not fatal
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")
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
    except (SpecError, OSError) as e:
        return _fail(e, EXIT_USAGE)
    except (DeviceError, Cancelled) as e:
        return _fail(e, EXIT_DEVICE)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as e:  # noqa: BLE001 - a bug must still end in one line, not a traceback
        return _fail(f"unexpected {type(e).__name__}: {e} (please report this with the command you ran)",
                     EXIT_DEVICE)


def _fail(error: object, status: int) -> int:
    if sys.stderr is not None:
        print(f"error: {one_line(error)}", file=sys.stderr)
    return status


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


__all__ = ["EXIT_DEVICE", "EXIT_USAGE", "build_parser", "load_spec", "main"]
