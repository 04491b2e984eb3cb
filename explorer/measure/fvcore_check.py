"""Cross-check of the analytic counts with fvcore's ``FlopCountAnalysis`` (the only module importing fvcore).

fvcore counts one fused multiply-add as one flop, so its conv and linear counts must equal our MACs
exactly; on top it counts BN (2 per element in eval mode), group norm (5 per element) and adaptive
average pooling (1 per input element), which equal our ``other_ops`` for those layers. It ignores
``relu`` and reports the max pool, the residual add and the variants' average pools and gates (mean,
sigmoid, mul) as unsupported (counted as 0), so its total differs from ours by design.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import torch

from ..core.analysis import MAC_TYPES, analyze
from ..build.guard import check_memory
from ..build.model import build_model
from ..core.spec import ArchSpec

# Which analytic column fvcore's number corresponds to, per op type.
_COMPARED = {"conv": "macs", "conv1d": "macs", "linear": "macs", "bn": "other_ops", "gn": "other_ops",
             "avgpool": "other_ops"}


@dataclass(frozen=True)
class ProfileRow:
    name: str
    type: str
    analytic: int
    fvcore: int

    @property
    def agrees(self) -> bool:
        return self.analytic == self.fvcore


@dataclass(frozen=True)
class Profile:
    """Per-layer agreement between the analysis and fvcore, and what fvcore leaves out."""

    rows: tuple[ProfileRow, ...]
    fvcore_total: int
    fvcore_by_operator: dict[str, int]
    unsupported_ops: dict[str, int]
    ignored_ops: tuple[str, ...]
    analytic_macs: int
    by_type: tuple[dict[str, Any], ...] = ()

    @property
    def mac_rows_agree(self) -> bool:
        """Conv (ECA's 1-D one too) and linear layers: fvcore's count equals our MACs."""
        return all(r.agrees for r in self.rows if r.type in MAC_TYPES)

    @property
    def disagreements(self) -> tuple[ProfileRow, ...]:
        return tuple(r for r in self.rows if not r.agrees)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fvcore_total": self.fvcore_total,
            "analytic_macs": self.analytic_macs,
            "mac_rows_agree": self.mac_rows_agree,
            "mac_rows": sum(1 for r in self.rows if r.type in MAC_TYPES),
            "fvcore_by_operator": self.fvcore_by_operator,
            "unsupported_ops": self.unsupported_ops,
            "ignored_ops": list(self.ignored_ops),
            "by_type": list(self.by_type),
            "rows": [{**r.__dict__, "agrees": r.agrees} for r in self.rows],
        }


def profile(spec: ArchSpec, input_size: Any = None, *, budget: float | None = None) -> Profile:
    """Trace the built model with fvcore (eval mode, no grad, batch 1) and join with the analysis by name.

    Args:
        spec: the architecture.
        input_size: ``(channels, height, width)``; default ``spec.input_size``.
        budget: bytes the model and one traced forward pass may take; default the configured budget
            (``explorer.build.guard``); ``math.inf`` skips the check.

    Raises:
        SpecError: a bad input size; ``ResourceError`` when the weights and the traced forward pass
            (its activations included) would exceed the budget, before anything is built.
    """
    analysis = analyze(spec, input_size)
    check_memory(analysis, batch_size=1, budget=budget, what="tracing with fvcore")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # fvcore imports torch.jit.script
        from fvcore.nn import FlopCountAnalysis

    model = build_model(spec, budget=math.inf).eval()
    x = torch.randn(1, *analysis.input_size)
    with torch.no_grad():
        fca = FlopCountAnalysis(model, x)
        fca.unsupported_ops_warnings(False)
        fca.uncalled_modules_warnings(False)
        fca.tracer_warnings("none")
        by_module = fca.by_module()
        total = fca.total()
        by_operator = dict(fca.by_operator())
        unsupported = dict(fca.unsupported_ops())
    rows = tuple(
        ProfileRow(r.name, r.type, getattr(r, _COMPARED[r.type]), int(by_module.get(r.name, 0)))
        for r in analysis.layers
        if r.type in _COMPARED
    )
    # What fvcore skips by design, among the ops this network runs (ReLU always; concatenation in form b).
    ran = {"aten::relu_"} | ({"aten::cat"} if any(r.type == "concat" for r in analysis.layers) else set())
    ignored = tuple(sorted(op for op in ran if op in fca._ignored_ops))
    ours = analysis.by_type()
    by_type = tuple(
        {"op": label, "ours": sum(ours.get(kind, {}).get(column, 0) for kind in kinds),
         "fvcore": int(by_operator.get(fv_name, 0)), "counts": what}
        for label, kinds, column, fv_name, what in _BY_TYPE if any(kind in ours for kind in kinds)  # types it runs
    )
    return Profile(rows, int(total), by_operator, unsupported, ignored, analysis.macs, by_type)


def fvcore_totals(model: torch.nn.Module, x: torch.Tensor) -> tuple[int, int]:
    """``FlopCountAnalysis(model, x).total()`` and ``ActivationCountAnalysis(model, x).total()``, quietly
    (what fvcore prints, and what timm publishes from it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # fvcore imports torch.jit.script
        from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis

    out = []
    with torch.no_grad():
        for cls in (FlopCountAnalysis, ActivationCountAnalysis):
            counter = cls(model, x)
            counter.unsupported_ops_warnings(False)
            counter.uncalled_modules_warnings(False)
            counter.tracer_warnings("none")
            out.append(int(counter.total()))
    return out[0], out[1]


# (label, our op types, our column, fvcore's operator name, what is counted); fvcore's "conv" is every
# aten::_convolution, ECA's 1-D conv too
_BY_TYPE = (
    ("conv", ("conv", "conv1d"), "macs", "conv", "MACs"),
    ("linear", ("linear",), "macs", "linear", "MACs"),
    ("batch norm", ("bn",), "other_ops", "batch_norm", "2 per element (our 'other ops')"),
    ("group norm", ("gn",), "other_ops", "group_norm", "5 per element (our 'other ops')"),
    ("avg pool", ("avgpool",), "other_ops", "adaptive_avg_pool2d", "1 per input element (our 'other ops')"),
)
