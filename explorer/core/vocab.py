"""The words and units of every number: metric names, their one-line meaning, the counting convention,
human column headers, and the two number styles (exact counts with separators; SI with the unit).

The CLI, the pages, the charts and the tables all read this module, so a label or a convention sentence is
written once.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """A counted quantity: its short name, its unit, and what it counts."""

    key: str
    name: str
    unit: str
    meaning: str


METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("params", "Parameters", "parameters", "trainable parameters: conv weights, BN scale and shift, fc weight "
           "and bias (BN running statistics are buffers, not parameters)"),
    Metric("macs", "MACs", "MACs", "multiply-accumulates of conv and linear layers, bias not counted: what the "
           "ResNet and ResNeXt papers call 'FLOPs' and torchvision publishes as 'GFLOPS'"),
    Metric("flops", "FLOPs", "FLOPs", "2 × MACs: one multiply and one add"),
    Metric("activations", "Activations", "elements", "output elements of every conv and linear layer (the RegNet "
           "paper's convention)"),
    Metric("other_ops", "Other ops", "ops", "work that is not a multiply-add, per element: BN 2 (scale, shift), "
           "GN 5, ReLU 1, sigmoid 1, residual add 1, conv bias 1, max pool k²−1 comparisons per output, average "
           "pool k² per output, global average pool and SE's squeeze 1 add per input, SE/ECA's gate 1 multiply"),
)}
MULTIPLY_ADD_METRICS = ("macs", "flops")

CONVENTION = (
    "MACs = multiply-accumulates of conv and linear layers, bias not counted: what the ResNet/ResNeXt papers call "
    "'FLOPs' and torchvision publishes as 'GFLOPS'. FLOPs = 2 × MACs."
)
CONVENTION_ASCII = CONVENTION.replace("×", "x")  # for terminals

# Human headers for the columns of every table (CSV downloads keep them too).
COLUMNS = {
    "stage": "Stage", "block": "Block", "name": "Layer", "type": "Type", "kind": "Kind", "in_shape": "Input shape",
    "out_shape": "Output shape", "kernel": "Kernel", "stride": "Stride", "groups": "Groups",
    "params": "Parameters", "macs": "MACs", "flops": "FLOPs", "activations": "Activations", "other_ops": "Other ops",
    "output_elements": "Output elements", "config": "Configuration", "input": "Input",
}


def metric(key: str) -> Metric:
    """The metric of a key, or a ``ValueError`` naming the valid ones."""
    try:
        return METRICS[key]
    except KeyError:
        raise ValueError(f"metric: must be one of {', '.join(METRICS)}, got {key!r}") from None


def multiply_adds(macs: int, key: str) -> int:
    """A MAC count in the chosen unit: ``macs`` itself, or FLOPs = 2 × MACs."""
    if key not in MULTIPLY_ADD_METRICS:
        raise ValueError(f"metric: must be 'macs' or 'flops', got {key!r}")
    return 2 * macs if key == "flops" else macs


# --- number styles ------------------------------------------------------------------------------
_PREFIXES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def exact(n: int) -> str:
    """An exact count with thousands separators: 25557032 → '25,557,032'."""
    return f"{n:,}"


def si(x: float, unit: str = "", digits: int = 3) -> str:
    """A rounded value with an SI prefix: (4089184256, 'MACs') → '4.09 GMACs'."""
    for scale, prefix in _PREFIXES:
        if abs(x) >= scale:
            return f"{x / scale:.{digits}g} {prefix}{unit}".rstrip()
    return f"{x:.{digits}g} {unit}".rstrip()


def binary(n: float) -> str:
    """Bytes in binary units: 102760448 → '98.0 MiB'."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,.0f} B"


def ms(x: float) -> str:
    """A time given in milliseconds, three significant figures, in ms below a second and in s from one second:
    '128 ms', '0.432 ms', '21.1 s' (never '2.11e+04 ms')."""
    return f"{x:.3g} ms" if abs(x) < 999.5 else _seconds(x)


def _seconds(x: float) -> str:
    return f"{x / 1000:.3g} s" if abs(x) < 999_500 else f"{x / 1000:,.0f} s"


def ms_range(low: float, high: float) -> str:
    """Two times in one unit (the unit of the larger): '143–193 ms', '4.37–4.41 s'; one value when both print the
    same ('4.37 s', not '4.37e+03–4.37e+03 ms')."""
    lo, hi = ms(low), ms(high)
    unit = hi.rsplit(" ", 1)[1]
    if unit == "s":
        lo = _seconds(low)
    return hi if lo == hi else f"{lo.rsplit(' ', 1)[0]}–{hi}"


# How a measurement ended (``LatencyResult.stopped_by``), in words.
STOPPED = {"target": "reached its target (enough runs and time)", "time_limit": "stopped at its time limit",
           "cancelled": "stopped early by your click elsewhere"}


def stopped(reason: str) -> str:
    """How a measurement ended, as a phrase: 'stopped at its time limit'."""
    return STOPPED.get(reason, reason.replace("_", " "))


def ratio(a: float, b: float) -> str:
    """'1.03×' style ratio a/b; '—' when b is zero."""
    return f"{a / b:.3g}×" if b else "—"


def shape(s: Sequence[int]) -> str:
    """(256, 56, 56) → '256×56×56'."""
    return "×".join(str(v) for v in s)


# --- user text shown as text -----------------------------------------------------------------------
# The characters that make markdown (CommonMark + GitHub's extensions + Streamlit's): emphasis, code, links and
# images, HTML and entities, headings, tables, strikethrough, $math$, :emoji: and :color[directives].
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>#$:|~&])")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")  # an underscore inside a word is never emphasis
_MD_BLOCK_START = re.compile(r"^(\d*)([-+=.)])(?=[\s=-]|$)")  # a list item or a rule, were it to start a block
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029\x85]+")
# Some syntax is read after escapes are: GitHub-flavoured markdown's bare addresses (``https://…``, ``www.…``,
# ``a@b.c``) and Streamlit's ``:material/icon:``, ``:emoji:`` and ``:color[…]``. An invisible word joiner goes where
# it breaks each pattern: before "://", after "www", after "@", after a colon that a letter follows.
_AUTOLINK = re.compile(r"(?i)(?=://)|(?<=www)(?=\.)|(?<=@)|(?<=:)(?=[a-z])")
WORD_JOINER = "\u2060"


def md_text(text: object) -> str:
    """User text (a name, a link's key or value, a file's name, a message quoting them) for a place that renders
    markdown, shown exactly as written: the characters that make markdown are backslash-escaped (so no link,
    image, emphasis, heading, code, HTML, entity, ``$…$`` math or Streamlit ``:directive[…]`` can form), a bare
    web or mail address or a Streamlit ``:icon:`` gets an invisible word joiner (U+2060) that breaks it, line
    breaks become spaces and leading spaces an entity (so no new block, list or code block can start). The one escaping rule
    for markdown; pages and messages call it."""
    out = _AUTOLINK.sub(WORD_JOINER, _LINE_BREAKS.sub(" ", str(text)))
    out = _MD_UNDERSCORE.sub(r"\\_", _MD_SPECIAL.sub(r"\\\1", out))
    out = _MD_BLOCK_START.sub(r"\1\\\2", out)
    stripped = out.lstrip(" ")
    return "&#32;" * (len(out) - len(stripped)) + stripped


def md_code(text: object) -> str:
    """User text as an inline code span (literal by definition): fenced by more backticks than it holds, padded
    when it starts or ends with one (CommonMark's rule); line breaks become spaces."""
    body = _LINE_BREAKS.sub(" ", str(text)) or " "
    fence = "`" * (max((len(r) for r in re.findall(r"`+", body)), default=0) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def html_text(text: object) -> str:
    """User text for Plotly's titles, legends, tick labels and hover text, shown exactly as written: Plotly reads
    ``<a href>``, ``<b>``, ``<br>`` and entities there, and ``%{…}`` in a hover template, so ``&``, ``<``, ``>``,
    ``$`` and ``%`` become entities (which Plotly shows as the characters)."""
    out = html.escape(_LINE_BREAKS.sub(" ", str(text)), quote=False)
    return out.replace("$", "&#36;").replace("%", "&#37;")


def slug(name: str) -> str:
    """A file-name-safe form of a network's name: 'resnet50 (edited)' → 'resnet50-edited'."""
    out = "".join(c if c.isalnum() or c in "._-" else "-" for c in name)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-.") or "network"


__all__ = [
    "STOPPED", "ms_range", "stopped",
    "COLUMNS", "CONVENTION", "CONVENTION_ASCII", "METRICS", "MULTIPLY_ADD_METRICS", "Metric", "binary", "exact",
    "WORD_JOINER", "html_text", "md_code", "md_text", "metric", "ms", "multiply_adds", "ratio", "shape", "si", "slug",
]
