"""Several analyses against the first: deltas, ratios, per-stage and per-kind figures, and a "why" in words.

One comparison value serves the CLI's ``compare``, the Compare page and its charts, so a delta or a ratio is
computed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.analysis import Analysis
from ..core.vocab import METRICS, multiply_adds, si

TOTALS = ("params", "macs", "flops", "activations", "other_ops")
# Families of layers whose multiply-adds explain a difference (named in the plural); each is a test on a row's kind.
FAMILIES = (
    ("1×1 convs", lambda kind: kind.endswith("1×1 conv") and not kind.startswith("stem")),
    ("3×3 convs", lambda kind: kind.endswith("3×3 conv") and not kind.startswith("stem")),
    ("stem convs", lambda kind: kind.startswith("stem")),
    ("fc layers", lambda kind: kind == "fc"),
)


def _counted(family: str, n: int) -> str:
    """'1 stem conv', '3 stem convs': a family's name agreeing with its count."""
    return f"{n} {family[:-1] if n == 1 else family}"


def cost_and_speed(macs: Sequence[int], times_ms: Sequence[float], metric: str = "macs") -> str:
    """What a set of networks' counted work and measured times say together, in one clause: 'about equal MACs
    (within 5%), unequal speed: the slowest takes 1.8× the time of the fastest', or, when the work differs by more
    than 10%, the two spreads side by side ('MACs from 7.8 G to 16 G (2.1×); times from 120 ms to 250 ms (2.1×)')."""
    from ..core.vocab import ms

    unit = METRICS[metric].unit
    low, high = min(macs), max(macs)
    fast, slow = min(times_ms), max(times_ms)
    speed = f"the slowest takes {slow / fast:.2g}× the time of the fastest" if fast > 0 else "times as measured"
    if low > 0 and high / low <= 1.1:
        return f"about equal {unit} (within {high / low - 1:.0%}), unequal speed: {speed}"
    return (f"{unit} from {si(multiply_adds(low, metric), unit)} to {si(multiply_adds(high, metric), unit)} "
            f"({high / low:.2g}×); times from {ms(fast)} to {ms(slow)} ({slow / fast:.2g}×)")


@dataclass(frozen=True)
class Comparison:
    """Analyses compared with the first one (the baseline)."""

    analyses: tuple[Analysis, ...]

    def __post_init__(self) -> None:
        if len(self.analyses) < 1:
            raise ValueError("analyses: needs at least one analysis")

    @property
    def base(self) -> Analysis:
        return self.analyses[0]

    def delta(self, a: Analysis, key: str) -> int:
        """``a``'s total minus the baseline's (``key`` one of TOTALS)."""
        return getattr(a, key) - getattr(self.base, key)

    def ratio(self, a: Analysis, key: str) -> float | None:
        """``a``'s total over the baseline's; None when the baseline's is zero."""
        b = getattr(self.base, key)
        return getattr(a, key) / b if b else None

    def rows(self, sources: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """One plain dict per analysis: totals, ``delta_<key>`` and ``ratio_<key>`` against the first."""
        out = []
        for i, a in enumerate(self.analyses):
            row: dict[str, Any] = {"name": a.name}
            if sources is not None:
                row["source"] = sources[i]
            row["input_size"] = list(a.input_size)
            row.update({k: getattr(a, k) for k in TOTALS})
            row.update({f"delta_{k}": self.delta(a, k) for k in TOTALS[:4]})
            row.update({f"ratio_{k}": self.ratio(a, k) for k in TOTALS[:4]})
            out.append(row)
        return out

    def family_macs(self, a: Analysis) -> dict[str, tuple[int, int, int]]:
        """Per family of layers: (count, MACs, parameters)."""
        out = {}
        for family, test in FAMILIES:
            rows = [r for r in a.layers if test(r.kind)]
            out[family] = (len(rows), sum(r.macs for r in rows), sum(r.params for r in rows))
        return out

    def headline(self, a: Analysis, metric: str = "macs") -> str:
        """'X has 1.03× the MACs and 0.979× the parameters of Y (1.3× the activations).' (``metric`` "flops" names
        FLOPs; a ratio is the same in either unit.)"""
        def r(key: str) -> str:
            v = self.ratio(a, key)
            return "—" if v is None else f"{v:.3g}×"

        return (f"{a.name} has {r('macs')} the {METRICS[metric].unit} and {r('params')} the parameters of "
                f"{self.base.name} ({r('activations')} the activations).")

    def why(self, a: Analysis, metric: str = "macs") -> list[str]:
        """Where the difference comes from, family by family, with the structural reason the specs give; counts in
        the unit of ``metric`` ("macs" or "flops", FLOPs = 2 × MACs)."""
        unit = METRICS[metric].unit
        base, mine = self.family_macs(self.base), self.family_macs(a)
        out = []
        for family, _ in FAMILIES:
            (n0, m0, p0), (n1, m1, p1) = base[family], mine[family]
            if m0 == m1 and p0 == p1:
                continue
            if m0 == 0 or m1 == 0:
                out.append(f"It has {_counted(family, n1)} vs {n0} in {self.base.name}.")
                continue
            subject = f"Its {family} do" if n1 != 1 else f"Its {family[:-1]} does"
            text = (f"{subject} {m1 / m0:.3g}× the {unit} ({si(multiply_adds(m1, metric), unit)} vs "
                    f"{si(multiply_adds(m0, metric), unit)})")
            reasons = self._reasons(family, a, n0, n1, p0, p1)
            out.append(text + (": " + "; ".join(reasons) if reasons else "") + ".")
        act = self.ratio(a, "activations")
        if act is not None and abs(act - 1) > 0.01:
            out.append(f"It writes {act:.3g}× the activations ({si(a.activations)} vs {si(self.base.activations)} "
                       f"elements per image), memory traffic the {unit} do not show.")
        return out

    def _reasons(self, family: str, a: Analysis, n0: int, n1: int, p0: int, p1: int) -> list[str]:
        s0, s1 = self.base.spec, a.spec
        reasons = []
        if n0 != n1:
            reasons.append(f"{n1} of them vs {n0}")
        if family in ("1×1 convs", "3×3 convs") and s0.block == s1.block == "bottleneck":
            w0, w1 = s0.group_width(0), s1.group_width(0)
            if w0 != w1:
                reasons.append(f"its bottlenecks are {w1 / w0:.3g}× as wide ({w1} vs {w0} channels in layer1)")
        if family == "3×3 convs" and s1.cardinality != s0.cardinality:
            reasons.append(f"grouped into C = {s1.cardinality} (vs {s0.cardinality}), each 3×3 with "
                           f"{p1 / n1 / (p0 / n0):.3g}× the weights" if n0 and n1 else f"C = {s1.cardinality}")
        if family in ("1×1 convs", "3×3 convs") and s0.downsample_on != s1.downsample_on:
            reasons.append(f"the stride sits on the {s1.downsample_on} (vs the {s0.downsample_on})")
        if a.input_size != self.base.input_size:
            reasons.append(f"input {a.input_size[1]}×{a.input_size[2]} vs {self.base.input_size[1]}×"
                           f"{self.base.input_size[2]}")
        return reasons


    def parts(self, a: Analysis) -> dict[str, tuple[int, int]]:
        """(parameters, MACs) of ``a`` minus the baseline's, per part of the network (:data:`PARTS`), in order."""
        def totals(x: Analysis) -> dict[str, tuple[int, int]]:
            out = {p: (0, 0) for p, _ in PARTS}
            for r in x.layers:
                part = next(p for p, test in PARTS if test(r.block, r.name))
                params, macs = out[part]
                out[part] = (params + r.params, macs + r.macs)
            return out

        mine, base = totals(a), totals(self.base)
        return {p: (mine[p][0] - base[p][0], mine[p][1] - base[p][1]) for p, _ in PARTS}

    def where(self, a: Analysis, metric: str = "macs") -> str:
        """Where a variant's cost goes, from the numbers: 'resnet50d vs resnet50: +19,232 parameters and
        +239,640,576 MACs, all in the stem: three 3×3 convs at 112×112 instead of one 7×7 at 112×112.'"""
        from ..core.vocab import METRICS, multiply_adds

        unit = METRICS[metric].unit
        parts = {p: d for p, d in self.parts(a).items() if d != (0, 0)}
        dp, dm = self.delta(a, "params"), self.delta(a, "macs")
        head = f"{a.name} vs {self.base.name}: {dp:+,} parameters and {multiply_adds(dm, metric):+,} {unit}"
        if not parts:
            other = self.delta(a, "other_ops")
            rest = f"; {other:+,} other ops (work that is not a multiply-add)" if other else ""
            return f"{head}: the same convs and fc{rest}."
        if len(parts) == 1:
            part = next(iter(parts))
            detail = f": {_stem_words(a)} instead of {_stem_words(self.base)}" if part == "stem" else ""
            return f"{head}, all in the {part}{detail}."
        spread = "; ".join(f"{p} {d[0]:+,} parameters, {multiply_adds(d[1], metric):+,} {unit}"
                           for p, d in parts.items())
        return f"{head}: {spread}."


def _stem_words(a: Analysis) -> str:
    """'three 3×3 convs at 112×112' or 'one 7×7 conv at 112×112': the stem's convs, by kernel, at their output."""
    convs = [r for r in a.layers if r.block == "stem" and r.type == "conv" and "pool" not in r.name]
    kernels = {f"{r.kernel}×{r.kernel}" for r in convs}
    count = {1: "one", 2: "two", 3: "three"}.get(len(convs), str(len(convs)))
    h, w = convs[0].out_shape[1:]
    kind = next(iter(kernels)) if len(kernels) == 1 else "/".join(sorted(kernels))
    return f"{count} {kind} conv{'s' if len(convs) > 1 else ''} at {h}×{w}"


# The parts a variant changes, each a test on a row's (block, name): the first that matches claims the row.
PARTS: tuple[tuple[str, Any], ...] = (
    ("stem", lambda block, name: block == "stem"),
    ("head", lambda block, name: block == "head"),
    ("shortcuts", lambda block, name: ".downsample" in name),
    ("SE/ECA gates", lambda block, name: ".se" in name),
    ("residual branches", lambda block, name: True),
)


__all__ = ["FAMILIES", "PARTS", "TOTALS", "Comparison", "cost_and_speed"]
