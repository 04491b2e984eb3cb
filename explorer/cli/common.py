"""What every subcommand shares: specs from NAME or --spec FILE, measurement settings, tables, JSON.

Each subcommand is two small functions in its module: ``add_<name>(sub)`` declares its arguments and
``cmd_<name>(args)`` runs it and returns an exit status. ``explorer.cli.main`` is the one place that turns
errors into exit statuses and one-line messages.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core.bounds import MAX_SPEC_BYTES
from ..core.errors import SpecError
from ..core.presets import get_preset, list_presets
from ..core.spec import ArchSpec
from ..core.vocab import CONVENTION_ASCII

PROG = "python -m explorer"

CONVENTION_HELP = (
    f"Counting convention: {CONVENTION_ASCII} Other ops (BN, ReLU, pooling, residual add) are counted "
    "separately. Activations = output elements of the conv and linear layers. Batch 1 unless a batch size "
    "is given."
)


class UsageError(SpecError):
    """Bad command-line input that is not a spec problem (e.g. both NAME and --spec)."""

    def __init__(self, reason: str) -> None:
        super().__init__("usage", reason)

    def __str__(self) -> str:
        return self.reason


# --- specs ------------------------------------------------------------------------------------
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
        return ArchSpec.from_json(read_spec_file(name_or_path))
    return get_preset(name_or_path)  # raises the SpecError that lists every valid name


def _looks_like_path(text: str) -> bool:
    return text.endswith(".json") or "/" in text or os.sep in text or Path(text).exists()


def read_spec_file(path: str) -> bytes:
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
        raise SpecError("spec", f"file {path!r} is larger than 1 MB; a spec file is a small JSON object")
    return data


def add_spec_args(p: argparse.ArgumentParser) -> None:
    """The ``NAME | --spec FILE | --from LIBRARY:NAME`` choice; ``spec_from_args`` resolves it."""
    p.add_argument("name", nargs="?", metavar="NAME",
                   help="a preset (see 'list') or the path of a JSON spec file")
    p.add_argument("--spec", metavar="FILE", dest="spec_file",
                   help="a JSON spec file ('-' reads standard input); instead of NAME")
    p.add_argument("--from", metavar="LIBRARY:NAME", dest="from_model",
                   help="a torchvision or timm ResNet read back into a spec, built without weights (nothing is "
                   "downloaded): timm:resnet50d, torchvision:resnext50_32x4d; instead of NAME")


def spec_from_args(args: argparse.Namespace) -> ArchSpec:
    """The spec named by exactly one of NAME, ``--spec FILE`` and ``--from LIBRARY:NAME``."""
    given = [x for x in (args.name, args.spec_file, getattr(args, "from_model", None)) if x is not None]
    if len(given) != 1:
        raise UsageError("give exactly one of NAME, --spec FILE and --from LIBRARY:NAME" +
                         (f" (got {len(given)})" if given else ""))
    if args.spec_file is not None:
        return ArchSpec.from_json(read_spec_file(args.spec_file))
    if getattr(args, "from_model", None) is not None:
        from ..build.from_model import spec_from_name

        return spec_from_name(args.from_model)
    return load_spec(args.name)


def add_input_size(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input-size", nargs=3, type=int, metavar=("C", "H", "W"),
                   help="input channels, height and width (default: the spec's input_size, e.g. 3 224 224)")


def add_json(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--json", action="store_true", help=f"print {what} as JSON instead of a table")


# --- measurement settings -------------------------------------------------------------------------
def add_settings_args(p: argparse.ArgumentParser, *, max_seconds: float = 10.0, batch: bool = True) -> None:
    """--device, --batch-size, --dtype, --channels-last, --threads, --max-seconds (see explorer.measure.timing)."""
    from ..core.run_fields import SETTINGS_FIELDS as F

    p.add_argument("--device", default="cpu", help=F["device"].help + " (default cpu)")
    if batch:
        p.add_argument("--batch-size", type=int, default=1, help=F["batch_size"].help + " (default 1)")
    p.add_argument("--dtype", default="float32", help=f"{F['dtype'].help}: {', '.join(F['dtype'].choices)}")
    p.add_argument("--channels-last", action="store_true", help=F["channels_last"].help)
    p.add_argument("--threads", type=int, help=F["threads"].help + " (default: torch's)")
    p.add_argument("--max-seconds", type=float, default=max_seconds,
                   help=f"bound on the measurement in seconds (default {max_seconds:g})")


def settings_from_args(args: argparse.Namespace, **overrides: Any) -> Any:
    """A validated ``explorer.measure.timing.Settings`` (a ``SpecError`` names the field of a bad value)."""
    from ..measure.timing import Settings

    values = {"device": args.device, "dtype": args.dtype, "channels_last": args.channels_last,
              "threads": args.threads, "max_seconds": args.max_seconds}
    if hasattr(args, "batch_size"):
        values["batch_size"] = args.batch_size
    return Settings(**{**values, **overrides})


# --- output ---------------------------------------------------------------------------------------
def paragraphs(*texts: str) -> str:
    return "\n\n".join(textwrap.fill(t, 79) for t in texts)


def add_command(sub: argparse._SubParsersAction, name: str, summary: str, *about: str) -> argparse.ArgumentParser:
    """A subcommand parser: one-line ``summary`` in the command list, ``about`` paragraphs and the
    counting convention in its ``--help``."""
    return sub.add_parser(name, help=summary, description=paragraphs(*about), epilog=paragraphs(CONVENTION_HELP),
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> list[str]:
    """Aligned columns; ``align`` has one letter per column, ``l`` (text) or ``r`` (numbers)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align)).rstrip()
        for r in [header, *rows]
    ]


def ascii_shape(shape: Sequence[int]) -> str:
    """(256, 56, 56) → '256x56x56' (terminals and pipes keep ASCII)."""
    return "x".join(map(str, shape))


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2))
