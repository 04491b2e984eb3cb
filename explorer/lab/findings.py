"""The lab's sentences and tables, made from the measured numbers only (no sentence is written in advance).

A difference is called one only when the seeds' ranges do not overlap (otherwise the sentence says they overlap),
and never from a single seed. Errors are fractions in the results and percentages here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..core.analysis import analyze
from .spread import Spread

if TYPE_CHECKING:
    from .train import DegradationResult

STOPPED = {"epochs": "", "time_limit": "stopped by the time limit", "cancelled": "stopped because you asked"}


def pct(s: Spread) -> str:
    """'12.3% (3 seeds, 11.0–13.5%)', or '12.3% (1 seed)'."""
    if s.n == 1:
        return f"{100 * s.mean:.1f}% (1 seed)"
    return f"{100 * s.mean:.1f}% ({s.n} seeds, {100 * s.low:.1f}–{100 * s.high:.1f}%)"


def order(a: Spread, b: Spread) -> str:
    """``"higher"`` or ``"lower"`` when a's range lies wholly above or below b's, else ``"overlap"``."""
    if a.low > b.high:
        return "higher"
    if a.high < b.low:
        return "lower"
    return "overlap"


def _family(result: DegradationResult, family: str) -> list[str]:
    return [n.label for n in sorted((n for n in result.nets if n.family == family), key=lambda n: n.depth)
            if result.end(n.label) is not None]


def degradation_findings(result: DegradationResult) -> list[str]:
    """What the curves' end points say: the deepest against the shallowest net of each family, then plain against
    residual at each depth; each with its seeds and range."""
    e = result.epochs_done
    if e == 0:
        return ["No epoch finished, so there is nothing to report yet."]
    asked = result.settings.epochs
    when = f"after {e} epoch{'s' if e != 1 else ''}" + (f" of the {asked} asked ({STOPPED[result.stopped_by]})"
                                                       if e < asked else "")
    out = []
    for family, name in (("plain", "plain"), ("residual", "residual")):
        labels = _family(result, family)
        if len(labels) < 2:
            continue
        shallow, deep = labels[0], labels[-1]
        a, b = result.end(deep), result.end(shallow)
        gap = f", by {100 * abs(a.mean - b.mean):.1f} points"
        verdict = {"higher": f"the deeper {name} net has the higher training error{gap}",
                   "lower": f"the deeper {name} net has the lower training error{gap}",
                   "overlap": "the seeds' ranges overlap, so these runs show no difference"}[order(a, b)]
        if min(a.n, b.n) < 2:
            verdict = (f"{100 * abs(a.mean - b.mean):.1f} points {'higher' if a.mean > b.mean else 'lower'}, from "
                       "one seed: no spread to judge the difference by")
        ta, tb = result.end(deep, "test_error"), result.end(shallow, "test_error")
        out.append(f"{deep} ends at {pct(a)} training error vs {shallow}'s {pct(b)} {when}: {verdict}. Test error: "
                   f"{pct(ta)} vs {pct(tb)}.")
    plain = {result.net(label).depth: label for label in _family(result, "plain")}
    for label in _family(result, "residual"):
        twin = plain.get(result.net(label).depth)
        if twin is None:
            continue
        r, p = result.end(label), result.end(twin)
        word = {"lower": "below", "higher": "above", "overlap": "overlapping"}[order(r, p)]
        out.append(f"At {result.net(label).depth} layers, {label}'s training error {pct(r)} is {word} "
                   f"{twin}'s {pct(p)}.")
    return out or ["Only one net was trained: there is nothing to compare it with."]


def gradient_findings(flows: Sequence[Any]) -> list[str]:
    """Per net: how the gradient at the first block's output compares with the last block's."""
    out = []
    for f in flows:
        if len(f.blocks) < 2:
            continue
        (first, g0), (last, g1) = f.blocks[0], f.blocks[-1]
        ratio = g0 / g1 if g1 > 0 else float("inf")
        size = f"{ratio:.3g}× larger" if ratio >= 1 else f"{1 / ratio:.3g}× smaller"
        out.append(f"{f.label}: ‖∂L/∂output‖ is {g0:.3g} at {first} and {g1:.3g} at {last}: {size} at the first "
                   "block than at the last.")
    return out


def lesion_findings(probe: Any) -> list[str]:
    """Per net: its test error with every block, and after deleting one (mean, worst, what could not be deleted)."""
    out = []
    for n in probe.nets:
        base = Spread.of(n.base_errors)
        measured = [b for b in n.blocks if b.errors]
        kept = [b.name for b in n.blocks if not b.deletable]
        if not measured:
            continue
        means = [b.spread.mean for b in measured]
        worst = max(measured, key=lambda b: b.spread.mean)
        text = (f"{n.label}: test error {pct(base)} with every block; deleting one of {len(measured)} blocks gives "
                f"{100 * sum(means) / len(means):.1f}% on average, at worst {100 * worst.spread.mean:.1f}% "
                f"(without {worst.name}{', a downsampling block' if worst.downsampling else ''}).")
        if kept:
            text += f" Its downsampling block{'s' if len(kept) > 1 else ''} {', '.join(kept)} cannot be deleted: " \
                "without a shortcut nothing would carry the changed shape."
        out.append(text)
    return out


def response_findings(probe: Any) -> list[str]:
    """Per net, the mean and range over layers of the responses' standard deviation (Fig. 7)."""
    out = []
    for n in probe.nets:
        if not n.responses:
            continue
        values = [s.mean for _, s in n.responses]
        out.append(f"{n.label}: response std {sum(values) / len(values):.3g} on average over its {len(values)} "
                   f"3×3 layers (from {min(values):.3g} to {max(values):.3g}).")
    return out


def shortcut_rows(nets_by_option: Mapping[str, Sequence[Any]], trained: Mapping[str, DegradationResult | None]
                  ) -> list[dict[str, Any]]:
    """ResNet Table 3's options side by side: per option and depth, exact params and MACs, and the trained errors
    where that option has been trained with these settings (None where not)."""
    rows = []
    for option, nets in nets_by_option.items():
        result = trained.get(option)
        for n in nets:
            a = analyze(n.spec)
            tr = result.end(n.label) if result is not None else None
            te = result.end(n.label, "test_error") if result is not None else None
            rows.append({"option": option, "net": n.label, "params": a.params, "macs": a.macs,
                         "train_error": None if tr is None else pct(tr), "test_error": None if te is None else pct(te)})
    return rows


__all__ = ["degradation_findings", "gradient_findings", "lesion_findings", "order", "pct", "response_findings",
           "shortcut_rows"]
