"""What other counting tools report for a spec, derived from the layer plan with each tool's own rules.

Our convention is the baseline every figure here is compared with (see ``explorer.core.analysis``):
**MACs** = multiply-accumulates of conv and linear layers, bias not counted; **FLOPs** = 2 × MACs.
Each tool counts something slightly different; :func:`tool_counts` reproduces, to the unit, the number
each one prints, itemised into :class:`Term`\\ s (conv MACs, fc bias, BN, ReLU, pooling, …) with the
rule that produced each, and says in one sentence how it differs from our MACs. Where a tool
double-counts or miscounts, the figure reproduces what it prints and the term's rule says so.

The rules were read from the tool sources pinned in :data:`TOOLS` (installed package versions, or a
repository commit for pycls and timm, which are not installed here); ``tests/test_counters.py`` checks
every figure against the installed tool run live and fails when a pinned tool changes.

This module is pure Python and never imports torch, so it is instant; ``explorer.measure.counters_live`` runs
the tools themselves on the built model.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from ..core import plan as P
from ..core.analysis import Analysis, analyze
from .reference import RESNET_PAPER, RESNEXT_PAPER
from ..core.run_fields import COUNTED_BATCH
from ..core.spec import ArchSpec



@dataclass(frozen=True)
class Tool:
    """A counting tool: its id (the JSON key), what it is called, and where its rules were read."""

    id: str
    label: str
    package: str  # distribution name (``importlib.metadata``), or the repository when not installed
    version: str  # the version (or commit) the rules were read from
    unit: str  # the tool's own word for what it counts
    source: str  # the files and functions the rules come from


TOOLS: tuple[Tool, ...] = (
    Tool("fvcore", "fvcore FlopCountAnalysis", "fvcore", "0.1.5.post20221221", "flops (1 per multiply-add)",
         "fvcore/nn/flop_count.py _DEFAULT_SUPPORTED_OPS; jit_handles.py conv_flop_jit, linear_flop_jit, "
         "batchnorm_flop_jit, norm_flop_counter, elementwise_flop_counter; jit_analysis.py _IGNORED_OPS; "
         "activation_count.py"),
    Tool("ptflops_pytorch", "ptflops (pytorch backend)", "ptflops", "0.7.5", "Mac",
         "ptflops/pytorch_ops.py MODULES_MAPPING, FUNCTIONAL_MAPPING, TENSOR_OPS_MAPPING; pytorch_engine.py "
         "patch_functional, patch_tensor_ops; utils.py flops_to_string"),
    Tool("ptflops_aten", "ptflops (aten backend)", "ptflops", "0.7.5", "Mac",
         "ptflops/aten_ops.py ATEN_OPS_MAPPING (conv_flop, addmm_flop); aten_engine.py FlopCounterMode"),
    Tool("thop", "thop profile", "thop", "0.1.1.post2209072238", "MACs",
         "thop/profile.py register_hooks; vision/basic_hooks.py count_convNd, count_normalization, "
         "count_avgpool, count_adap_avgpool, count_linear, zero_ops; vision/calc_func.py"),
    Tool("torchinfo", "torchinfo summary", "torchinfo", "1.8.0", "mult-adds",
         "torchinfo/layer_info.py LayerInfo.calculate_macs; model_statistics.py ModelStatistics "
         "(total_mult_adds, total_output_bytes, total_param_bytes, format_output_num)"),
    Tool("torch_flop_counter", "PyTorch FlopCounterMode", "torch", "2.14.1", "FLOPs (2 per multiply-add)",
         "torch/utils/flop_counter.py conv_flop_count, addmm_flop/mm_flop, conv_backward_flop, "
         "convert_num_with_suffix"),
    Tool("pycls", "pycls complexity", "facebookresearch/pycls", "5719de641657c251f807c20a1fcf8ef6f4b60144",
         "flops (multiply-adds)",
         "pycls/models/blocks.py conv2d_cx, norm2d_cx, pool2d_cx, gap2d_cx, linear_cx, SE.complexity; "
         "pycls/models/resnet.py complexity; core/logging.py dump_log_data; dev/model_complexity.json"),
    Tool("timm", "timm benchmark (GMACs)", "huggingface/pytorch-image-models",
         "aa4b5850c1543fa488abf260f18390eda46cf85d", "GMACs",
         "benchmark.py profile_fvcore and InferenceBenchmarkRunner.run (round(macs / 1e9, 2), "
         "round(activations / 1e6, 2)); results/benchmark-infer-*.csv"),
)
TOOL_IDS: tuple[str, ...] = tuple(t.id for t in TOOLS)
_TOOL = {t.id: t for t in TOOLS}


@dataclass(frozen=True)
class Term:
    """One itemised part of a tool's figure: what it is, how many, and the tool's rule for it."""

    name: str
    count: int
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "count": self.count, "rule": self.rule}


# The figures a tool may report beside its headline value: key → what a person reads.
EXTRA_FIGURES = {
    "activations": "activations (output elements, the tool's own count)",
    "forward_backward_bytes": "torchinfo's \"Forward/backward pass size\" (bytes)",
    "params_bytes": "torchinfo's \"Params size\" (bytes)",
    "train_value": "forward + backward of out.sum() in train mode (FLOPs)",
}


@dataclass(frozen=True)
class ToolCount:
    """What one tool reports for a spec, an input size and a batch.

    Attributes:
        tool: the tool id (a key of :data:`TOOLS`).
        label: the tool's display name.
        version: the tool version (or commit) the rules were read from.
        value: the whole batch's figure, in eval mode, before the tool's own rounding; for tools that
            measure one image (ptflops, pycls, timm) it is their figure times the batch size.
        unit: the tool's own word for what it counts.
        printed: the string the tool itself shows (for one image where it measures one image).
        terms: the itemised parts; their counts sum exactly to ``value``.
        sentence: how this differs from our MACs, with the exact arithmetic.
        activations: the tool's activation count for the batch (fvcore, pycls, timm), else ``None``.
        forward_backward_bytes: torchinfo's "Forward/backward pass size" in bytes, else ``None``.
        params_bytes: torchinfo's "Params size" in bytes, else ``None``.
        train_value: FlopCounterMode's forward + backward count of ``out.sum()`` in train mode.
        train_terms: the itemised parts of ``train_value``; they sum exactly to it.
    """

    tool: str
    label: str
    version: str
    value: int
    unit: str
    printed: str
    terms: tuple[Term, ...]
    sentence: str
    activations: int | None = None
    forward_backward_bytes: int | None = None
    params_bytes: int | None = None
    train_value: int | None = None
    train_terms: tuple[Term, ...] = ()

    def extras(self) -> dict[str, int]:
        """The figures of :data:`EXTRA_FIGURES` this tool reports."""
        return {k: getattr(self, k) for k in EXTRA_FIGURES if getattr(self, k) is not None}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: value, unit, terms, and the optional figures only where the tool reports them."""
        out: dict[str, Any] = {
            "label": self.label, "version": self.version, "value": self.value, "unit": self.unit,
            "printed": self.printed, "terms": [t.to_dict() for t in self.terms], "sentence": self.sentence,
        }
        out.update(self.extras())
        if self.train_terms:
            out["train_terms"] = [t.to_dict() for t in self.train_terms]
        return out


# --- what the tools need to know about the network, per image, from the analysis rows ------------
@dataclass(frozen=True)
class _Ops:
    """Per-image totals of one op type over the network (a ReLU module used three times counts three times)."""

    count: int = 0
    params: int = 0
    macs: int = 0
    elements_in: int = 0
    elements_out: int = 0
    other_ops: int = 0  # a conv's are its bias adds (output elements), 0 without a bias


@dataclass(frozen=True)
class _Facts:
    """Per-image totals by op type (``ops``), and the few whole-network facts the tools' rules need."""

    ops: tuple[tuple[str, _Ops], ...]
    first_conv_macs: int  # the stem conv: its input (the image) needs no gradient
    grouped_extra_macs: int  # sum of (groups − 1) × MACs over grouped convs
    params: int
    param_out: int  # output elements of the layers with parameters (convs, norms, fc)

    @property
    def has(self) -> frozenset[str]:
        """The op types the network runs."""
        return frozenset(t for t, _ in self.ops)

    def of(self, op_type: str) -> _Ops:
        return dict(self.ops).get(op_type, _Ops())

    @property
    def conv_macs(self) -> int:  # every convolution: the 2-D ones and ECA's 1-D one (all aten convolution)
        return self.of("conv").macs + self.of("conv1d").macs

    @property
    def linear_macs(self) -> int:
        return self.of("linear").macs

    @property
    def macs(self) -> int:
        return self.conv_macs + self.linear_macs

    @property
    def fc_out(self) -> int:  # the fc's output features: its bias adds
        return self.of("linear").elements_out

    @property
    def conv_out(self) -> int:
        return self.of("conv").elements_out + self.of("conv1d").elements_out

    @property
    def bn_elements(self) -> int:
        return self.of("bn").elements_out

    @property
    def maxpool_out(self) -> int:
        return self.of("maxpool").elements_out

    @property
    def avgpool_in(self) -> int:
        return self.of("avgpool").elements_in


def _facts(a: Analysis) -> _Facts:
    """Sum the analysis rows by op type (per image)."""
    ops: dict[str, _Ops] = {}
    for r in a.layers:
        o = ops.get(r.type, _Ops())
        ops[r.type] = _Ops(o.count + 1, o.params + r.params, o.macs + r.macs, o.elements_in + math.prod(r.in_shape),
                           o.elements_out + r.output_elements, o.other_ops + r.other_ops)
    convs = [r for r in a.layers if r.type == "conv"]
    return _Facts(
        ops=tuple(ops.items()),
        first_conv_macs=convs[0].macs,
        grouped_extra_macs=sum((r.groups - 1) * r.macs for r in convs if r.groups and r.groups > 1),
        params=a.params,
        param_out=sum(r.output_elements for r in a.layers if r.params),
    )


# --- each tool's rules: one handler per op type (fvcore's design), every type of explorer.core.plan.OPS ---------
Handler = Callable[[str, _Ops], list[Term]]  # (op type, its per-image totals) → the tool's terms for it


def _count(name: str, rule: str, per_image: Callable[[_Ops], int]) -> Handler:
    """One term: the tool counts ``per_image(totals)`` for this op type."""
    return lambda op_type, o: [Term(name, per_image(o), rule)]


def _zero(rule: str) -> Handler:
    """The tool sees the op but counts nothing for it: a zero term, so nothing vanishes silently."""
    return lambda op_type, o: [Term(P.OPS[op_type].words, 0, rule)]


def _both(*handlers: Handler) -> Handler:
    """Several terms for one op type (ptflops counts a ReLU module and the F.relu inside it)."""
    return lambda op_type, o: [t for h in handlers for t in h(op_type, o)]


def _with_bias(macs: Handler, rule: str) -> Handler:
    """A conv's MACs, and a "conv bias" term where some conv has a bias (SE's fc1 and fc2) and the tool counts it."""
    return lambda op_type, o: macs(op_type, o) + ([Term("conv bias", o.other_ops, rule)] if o.other_ops else [])


def _terms(f: _Facts, rules: dict[str, Handler], batch: int) -> list[Term]:
    """A tool's terms for the whole batch, in its table's order, for the op types the network runs."""
    return [replace(t, count=batch * t.count) for op_type, h in rules.items() if op_type in f.has
            for t in h(op_type, f.of(op_type))]


def _macs(o: _Ops) -> int:
    return o.macs


def _out(o: _Ops) -> int:
    return o.elements_out


def _in(o: _Ops) -> int:
    return o.elements_in


def _fvcore_rules(via: str = "") -> dict[str, Handler]:
    """fvcore's handles, shared with timm (whose benchmark counts with fvcore)."""
    return {
        "conv": _count("conv MACs", f"{via}aten::_convolution: 1 flop per multiply-add, batch × prod(weight shape) × "
                       "output H×W (conv_flop_jit); a bias is not counted", _macs),
        "conv1d": _count("conv1d MACs", f"{via}aten::_convolution (nn.Conv1d too): batch × prod(weight shape) × "
                         "output length (conv_flop_jit)", _macs),
        "linear": _count("linear MACs", f"{via}aten::linear: batch × in × out, bias not counted (linear_flop_jit)",
                         _macs),
        "bn": _count("batch norm", f"{via}aten::batch_norm in eval mode: 2 per element with affine "
                     "(batchnorm_flop_jit; 5 in train mode)", lambda o: 2 * o.elements_out),
        "gn": _count("group norm", f"{via}aten::group_norm: 5 per element with affine, in eval mode too "
                     "(norm_flop_counter(2), 'a rough estimate')", lambda o: 5 * o.elements_out),
        "avgpool": _count("average pool", f"{via}aten::adaptive_avg_pool2d: 1 per input element "
                          "(elementwise_flop_counter(1, 0))", _in),
        "avgpool2d": _zero(f"{via}aten::avg_pool2d has no handle: unsupported, 0 with a warning"),
        "squeeze": _zero(f"{via}x.mean is aten::mean, which has no handle: unsupported, 0 with a warning"),
        "sigmoid": _zero(f"{via}aten::sigmoid has no handle: unsupported, 0 with a warning"),
        "scale": _zero(f"{via}`x * gate` is aten::mul, which has no handle: unsupported, 0 with a warning"),
        "relu": _zero(f"{via}aten::relu_ is in fvcore's _IGNORED_OPS: 0, silently"),
        "maxpool": _zero(f"{via}aten::max_pool2d has no handle: unsupported, 0 with a warning"),
        "add": _zero(f"{via}aten::add has no handle: unsupported, 0 with a warning"),
        "sum": _zero(f"{via}aten::add has no handle: unsupported, 0 with a warning"),
        "concat": _zero(f"{via}aten::cat is in _IGNORED_OPS: 0"),
        "shortcut_a": _zero(f"{via}slicing and aten::constant_pad_nd move data: not counted"),
        "flatten": _zero(f"{via}aten::flatten is in _IGNORED_OPS: 0"),
    }


def _module_and_functional(name: str, module: str, functional: str, per_image: Callable[[_Ops], int],
                           what: str) -> Handler:
    """ptflops' pytorch backend: a module hook, and the patched functional that the module's forward calls."""
    return _both(_count(f"{name} module", f"{module} hook: {what}", per_image),
                 _count(f"{name} functional", f"{functional} is patched and {module}.forward calls it: {what} "
                        "again (a double count)", per_image))


RULES: dict[str, dict[str, Handler]] = {
    "fvcore": _fvcore_rules(),
    "ptflops_pytorch": {
        "conv": _with_bias(_count("conv MACs", "nn.Conv2d hook: k×k × c_in × c_out / groups per output position "
                                  "(conv_flops_counter_hook)", _macs),
                           "nn.Conv2d hook: + output elements when the conv has a bias"),
        "conv1d": _count("conv1d MACs", "nn.Conv1d hook: k × 1 × 1 per output position (conv_flops_counter_hook); no "
                         "bias", _macs),
        "linear": _both(_count("linear MACs", "nn.Linear hook: in × out per row (linear_flops_counter_hook)", _macs),
                        _count("fc bias", "nn.Linear hook: + out_features for the bias", _out)),
        "bn": _count("batch norm", "nn.BatchNorm2d hook: input elements × 2 with affine (bn_flops_counter_hook)",
                     lambda o: 2 * o.elements_out),
        "gn": _count("group norm", "nn.GroupNorm → bn_flops_counter_hook: input elements × 2 with affine; "
                     "F.group_norm is not patched", lambda o: 2 * o.elements_out),
        "relu": _both(_count("ReLU module", "nn.ReLU hook: output elements, per call (relu_flops_counter_hook)", _out),
                      _count("ReLU functional", "F.relu is patched while counting and nn.ReLU.forward calls it: "
                             "input elements again (a double count)", _out)),
        "maxpool": _module_and_functional("max pool", "nn.MaxPool2d", "F.max_pool2d", _in,
                                          "input elements (pool_flops_counter_hook)"),
        "avgpool": _module_and_functional("average pool", "nn.AdaptiveAvgPool2d", "F.adaptive_avg_pool2d", _in,
                                          "input elements (pool_flops_counter_hook)"),
        "avgpool2d": _module_and_functional("strided average pool", "nn.AvgPool2d", "F.avg_pool2d", _in,
                                            "input elements (pool_flops_counter_hook)"),
        "squeeze": _zero("x.mean is Tensor.mean, which ptflops does not patch: 0"),
        "sigmoid": _zero("nn.Sigmoid has no hook and torch.sigmoid is not patched: 0"),
        "scale": _zero("`x * gate` is Tensor.__mul__, which ptflops does not patch (only torch.mul, Tensor.mul): 0"),
        "add": _zero("`out + identity` is Tensor.__add__, which ptflops does not patch (only torch.add, Tensor.add): "
                     "0"),
        "sum": _zero("`out + path(x)` is Tensor.__add__, not patched: 0"),
        "concat": _zero("torch.cat is not patched: 0"),
        "shortcut_a": _zero("slicing and F.pad are not patched: 0"),
        "flatten": _zero("nn.Flatten has no hook and torch.flatten is not patched: 0"),
    },
    "ptflops_aten": {
        "conv": _with_bias(_count("conv MACs", "aten.convolution: batch × prod(weight shape) × output H×W "
                                  "(conv_flop)", _macs),
                           "aten.convolution: + batch × output elements when a bias is given (conv_flop_count)"),
        "conv1d": _count("conv1d MACs", "aten.convolution: batch × prod(weight shape) × output length (conv_flop)",
                         _macs),
        "linear": _both(_count("linear MACs", "aten.addmm: batch × in × out (addmm_flop)", _macs),
                        _count("fc bias", "aten.addmm: + batch × out when a bias is given", _out)),
        **{k: _zero("only mm, matmul, addmm, bmm and convolution are in ATEN_OPS_MAPPING: 0")
           for k in ("bn", "gn", "relu", "maxpool", "avgpool", "avgpool2d", "squeeze", "sigmoid", "add", "sum",
                     "concat", "scale", "shortcut_a", "flatten")},
    },
    "thop": {
        "conv": _count("conv MACs", "count_convNd: output elements × c_in / groups × k×k (calculate_conv2d_flops); "
                       "a bias is not counted", _macs),
        "conv1d": _count("conv1d MACs", "nn.Conv1d → count_convNd: output elements × c_in / groups × k", _macs),
        "linear": _count("linear MACs", "count_linear: in_features × output elements; bias not counted", _macs),
        "bn": _count("batch norm", "count_normalization: calculate_norm gives 2 per input element, then × 2 again "
                     "for affine: 4 per element (a double count)", lambda o: 4 * o.elements_out),
        "gn": _zero("nn.GroupNorm is not in register_hooks: no rule, 0"),
        "avgpool": _count("average pool", "count_adap_avgpool: (window H×W + 1) × output elements (the adds plus "
                          "one division)", lambda o: o.elements_in + o.elements_out),
        "avgpool2d": _count("strided average pool", "nn.AvgPool2d → count_avgpool: 1 per output element "
                            "(calculate_avgpool)", _out),
        "relu": _zero("nn.ReLU → zero_ops: 0"),
        "maxpool": _zero("nn.MaxPool2d → zero_ops: 0"),
        "sigmoid": _zero("nn.Sigmoid is not in register_hooks: no rule, 0"),
        "add": _zero("not a module, so no hook: 0"),
        "sum": _zero("not a module: 0"),
        "concat": _zero("not a module: 0"),
        "squeeze": _zero("x.mean is not a module: 0"),
        "scale": _zero("`x * gate` is not a module: 0"),
        "shortcut_a": _zero("no rule for the module: 0"),
        "flatten": _zero("nn.Flatten is not in register_hooks: no rule, 0"),
    },
    "torchinfo": {
        "conv": _with_bias(_count("conv MACs", "Conv layers: weight elements × batch × output H×W "
                                  "(LayerInfo.calculate_macs)", _macs),
                           "Conv layers: the bias's c_out parameters × batch × output H×W: output elements"),
        "conv1d": _count("conv1d MACs", "Conv layers (Conv1d too): k weights × batch × output length", _macs),
        "linear": _both(_count("linear MACs", "other layers: batch × parameter count, so the fc weight gives "
                               "batch × in × out", _macs),
                        _count("fc bias", "other layers: batch × parameter count, so the bias adds batch × out",
                               _out)),
        "bn": _count("batch norm", "BN: batch × its 2·C parameters (the same parameter rule), not per element",
                     lambda o: o.params),
        "gn": _count("group norm", "GroupNorm: batch × its 2·C parameters (the same parameter rule), not per element",
                     lambda o: o.params),
        **{k: _zero("no parameters: no mult-adds")
           for k in ("relu", "maxpool", "avgpool", "avgpool2d", "sigmoid", "shortcut_a", "flatten")},
        **{k: _zero("not a module: not counted") for k in ("add", "sum", "concat", "squeeze", "scale")},
    },
    "torch_flop_counter": {
        "conv": _count("conv", "aten.convolution: 2 per multiply-add, bias not counted (conv_flop_count)",
                       lambda o: 2 * o.macs),
        "conv1d": _count("conv1d", "aten.convolution (nn.Conv1d too): 2 per multiply-add (conv_flop_count)",
                         lambda o: 2 * o.macs),
        "linear": _count("linear", "aten.addmm: 2·m·n·k, bias not counted (addmm_flop → mm_flop)",
                         lambda o: 2 * o.macs),
        **{k: _zero("no formula in flop_registry: 0")
           for k in ("bn", "gn", "relu", "maxpool", "avgpool", "avgpool2d", "squeeze", "sigmoid", "add", "sum",
                     "concat", "scale", "shortcut_a", "flatten")},
    },
    "pycls": {
        "conv": _with_bias(_count("conv MACs", "conv2d_cx: k·k·w_in·w_out·h·w // groups", _macs),
                           "SE.complexity: conv2d_cx(bias=True) adds w_out once per conv; SE's fc1 and fc2 run at "
                           "1×1, so that is their output elements"),
        "conv1d": _count("conv1d MACs", "pycls has no ECA: counted as conv2d_cx counts a conv, k·w_in·w_out·length "
                         "(k · C), its C outputs activations", _macs),
        "linear": _both(_count("linear MACs", "linear_cx: w_in·w_out", _macs),
                        _count("fc bias", "ResHead uses linear_cx(bias=True): + w_out", _out)),
        "bn": _zero("norm2d_cx adds parameters only: 0 flops"),
        "gn": _zero("norm2d_cx (pycls' one norm cx) adds parameters only: 0 flops"),
        "maxpool": _zero("pool2d_cx adds activations only: 0"),
        "avgpool2d": _zero("pycls has no average pool: as pool2d_cx, its one pooling cx, it adds its outputs to "
                           "activations only: 0 flops"),
        "avgpool": _zero("gap2d_cx: 0"),
        "squeeze": _zero("SE.complexity starts with gap2d_cx: 0"),
        **{k: _zero("no cx function (SE.complexity counts only its pool and two convs): 0")
           for k in ("sigmoid", "scale")},
        **{k: _zero("no cx function: 0") for k in ("relu", "add", "sum", "concat", "shortcut_a", "flatten")},
    },
    "timm": _fvcore_rules(via="fvcore "),
}


def _sentence(intro: str, terms: list[Term], value: int, baseline: str) -> str:
    """``intro: baseline + extra terms = value``; the conv and linear terms form the baseline."""
    extra = [f"{t.name} {t.count:,}" for t in terms if t.count and t.name not in MAC_TERMS]
    return f"{intro}: {' + '.join([baseline, *extra])} = {value:,}."


def _per_image(note: str, batch: int, one: int) -> str:
    """The clause for tools that measure one image, when the batch is larger."""
    return f" {note} measures one image ({one:,}), so the batch of {batch} is {batch} × that." if batch > 1 else ""


def _make(tool_id: str, terms: list[Term], printed: str, sentence: str, **extra: Any) -> ToolCount:
    """A ToolCount whose value is, by construction, the sum of its terms."""
    tool = _TOOL[tool_id]
    return ToolCount(tool_id, tool.label, tool.version, sum(t.count for t in terms), tool.unit, printed,
                     tuple(terms), sentence, **extra)


# --- the tools' own number formatting, reproduced --------------------------------------------------
def ptflops_string(macs: int) -> str:
    """ptflops ``flops_to_string(macs)`` with its defaults (units=None, precision=2): '4.13 GMac'."""
    for scale, unit in ((10**9, "GMac"), (10**6, "MMac"), (10**3, "KMac")):
        if macs // scale > 0:
            return f"{round(macs / float(scale), 2)} {unit}"
    return f"{macs} Mac"


def torchinfo_number(n: int) -> str:
    """torchinfo ``ModelStatistics.format_output_num(n, Units.AUTO)``: ' (Units.GIGABYTES): 4.09'.

    torchinfo 1.8.0 puts its ``Units`` enum (a ``str`` mixin, not a ``StrEnum``) in an f-string; since
    Python 3.11 that shows the member's name, so it prints '(Units.GIGABYTES)' where Python 3.10 printed '(G)'.
    """
    name, letter, scale = (("TERABYTES", "T", 1e12) if n >= 1e12 else ("GIGABYTES", "G", 1e9) if n >= 1e9
                           else ("MEGABYTES", "M", 1e6))
    unit = f"Units.{name}" if sys.version_info >= (3, 11) else letter
    x = n / scale
    return f" ({unit}): {int(x):,d}" if x.is_integer() else f" ({unit}): {x:,.2f}"


def flop_counter_string(flops: int) -> str:
    """FlopCounterMode's table value: ``convert_num_with_suffix(n, get_suffix_str(n))``, e.g. '8178.369M'."""
    suffixes = ["", "K", "M", "B", "T"]
    index = max(0, min(len(suffixes) - 1, (len(str(flops)) - 2) // 3))
    return f"{flops / 1000**index:.3f}{suffixes[index]}"


# --- one function per tool: its rules' terms, its own printing, and the sentence that explains it ---------
def _norms(f: _Facts, bn: str, gn: str) -> str:
    """The network's norms in a sentence: ``bn``, ``gn`` or both (BN when it has neither)."""
    return " and ".join(w for t, w in (("bn", bn), ("gn", gn)) if t in f.has) or bn


def _if(f: _Facts, op_type: str, clause: str) -> str:
    """A clause of a sentence that only networks with this op type need."""
    return clause if op_type in f.has else ""


def _fvcore(f: _Facts, batch: int) -> ToolCount:
    terms = _terms(f, RULES["fvcore"], batch)
    value = sum(t.count for t in terms)
    sentence = _sentence(
        "fvcore counts one multiply-add as one flop, so its conv and linear counts are our MACs; it adds "
        f"{_norms(f, 'BN (2 per element in eval mode)', 'group norm (5 per element, in eval mode too)')} and "
        "adaptive average pooling (1 per input element), ignores ReLU and counts max pool"
        f"{_if(f, 'avgpool2d', ', the strided average pools')}{_if(f, 'squeeze', ', the gates (mean, sigmoid, mul)')}"
        " and the residual add as unsupported (0)", terms, value, f"our MACs {batch * f.macs:,}")
    return _make("fvcore", terms, str(value), sentence, activations=batch * (f.conv_out + f.fc_out))


def _ptflops_pytorch(f: _Facts, batch: int) -> ToolCount:
    terms = _terms(f, RULES["ptflops_pytorch"], batch)
    per_image = sum(t.count for t in terms) // batch
    sentence = _sentence(
        f"ptflops' pytorch backend adds the fc bias{' and the conv biases' if f.of('conv').other_ops else ''}, "
        f"{_norms(f, 'BN', 'group norm')} at 2 per element, and counts ReLU and pooling twice, once for the module "
        f"and once for the functional call inside it{_if(f, 'squeeze', '; the gates (mean, sigmoid, mul) not at all')}",
        terms, batch * per_image,
        f"our MACs {batch * f.macs:,}") + _per_image("ptflops", batch, per_image)
    return _make("ptflops_pytorch", terms, ptflops_string(per_image), sentence)


def _ptflops_aten(f: _Facts, batch: int) -> ToolCount:
    terms = _terms(f, RULES["ptflops_aten"], batch)
    per_image = sum(t.count for t in terms) // batch
    biases = " and the conv biases" if f.of("conv").other_ops else ""
    sentence = _sentence("ptflops' aten backend counts only convolutions and matrix products, with the fc "
                         f"bias{biases}", terms, batch * per_image, f"our MACs {batch * f.macs:,}") + _per_image(
        "ptflops", batch, per_image)
    return _make("ptflops_aten", terms, ptflops_string(per_image), sentence)


def _thop(f: _Facts, batch: int) -> ToolCount:
    terms = _terms(f, RULES["thop"], batch)
    value = sum(t.count for t in terms)
    bn = "BN at 4 per element (2, doubled again for the affine scale and shift)" if "bn" in f.has or "gn" not in f.has \
        else ""
    sentence = _sentence(f"thop counts {bn}{' and ' if bn else ''}adaptive average pooling at (H×W + 1) per output"
                         f"{_if(f, 'avgpool2d', ', strided average pools at 1 per output')}, and no ReLU, max pool"
                         f"{_if(f, 'gn', ', group norm')}{_if(f, 'squeeze', ', gate')} or add",
                         terms, value, f"our MACs {batch * f.macs:,}")
    return _make("thop", terms, repr(float(value)), sentence)


def _torchinfo(f: _Facts, batch: int) -> ToolCount:
    terms = _terms(f, RULES["torchinfo"], batch)
    value = sum(t.count for t in terms)
    fb_bytes = 2 * 4 * batch * f.param_out
    norm = _norms(f, "BN", "GN")
    biases = ", the conv biases once per output element" if f.of("conv").other_ops else ""
    sentence = _sentence(
        "torchinfo multiplies each non-conv layer's parameter count by the batch, so it adds the fc bias"
        f"{biases} and 2 per {norm} channel instead of per element", terms, value, f"our MACs {batch * f.macs:,}") + (
        f" Its forward/backward pass size is 2 × 4 bytes × the {fb_bytes // 8:,} output elements of the layers "
        f"with parameters (conv, {norm}, fc) = {fb_bytes / 1e6:.2f} MB: float32 outputs, × 2 for their gradients.")
    return _make("torchinfo", terms, f"Total mult-adds{torchinfo_number(value)}", sentence,
                 forward_backward_bytes=fb_bytes, params_bytes=4 * f.params)


def _flop_counter(f: _Facts, batch: int) -> ToolCount:
    terms = _terms(f, RULES["torch_flop_counter"], batch)
    value = sum(t.count for t in terms)
    train = [
        Term("forward conv", 2 * batch * f.conv_macs, "2 per multiply-add, as in eval mode"),
        Term("forward linear", 2 * batch * f.linear_macs, "2 per multiply-add"),
        Term("backward conv input gradients", 2 * batch * (f.conv_macs - f.first_conv_macs),
             "convolution_backward grad_input: 2 per MAC, for every conv but the first (the image needs no "
             "gradient)"),
        Term("backward conv weight gradients", 2 * batch * f.conv_macs, "convolution_backward grad_weight: 2 per MAC"),
        *([Term("grouped conv weight-gradient miscount", 2 * batch * f.grouped_extra_macs,
                "conv_backward_flop counts a grouped conv's grad_weight as a dense one (× groups): "
                "2·(groups − 1) per MAC too many (torch 2.14.1; fix proposed in pytorch/pytorch#183405)")]
          if f.grouped_extra_macs else []),
        Term("backward linear", 4 * batch * f.linear_macs, "two mm (input and weight gradients), 2 per MAC each; "
             "the bias gradient is a sum, not counted"),
    ]
    train_value = sum(t.count for t in train)
    sentence = (f"FlopCounterMode counts 2 FLOPs per multiply-add of conv and matrix products only: "
                f"2 × our MACs {batch * f.macs:,} = {value:,}; forward + backward of out.sum() is {train_value:,}")
    if f.grouped_extra_macs:
        true = train_value - 2 * batch * f.grouped_extra_macs
        sentence += (f", of which {2 * batch * f.grouped_extra_macs:,} is its grouped-convolution backward "
                     f"miscount (the true count is {true:,}).")
    else:
        sentence += f" = 2 × (3 × {batch * f.macs:,} − the first conv's {batch * f.first_conv_macs:,})."
    return _make("torch_flop_counter", terms, flop_counter_string(value), sentence,
                 train_value=train_value, train_terms=tuple(train))


def _pycls(f: _Facts, batch: int) -> ToolCount:
    terms = _terms(f, RULES["pycls"], batch)
    per_image = sum(t.count for t in terms) // batch
    acts = f.conv_out + f.maxpool_out + f.of("avgpool2d").elements_out + f.fc_out
    pool = _if(f, "maxpool", ", the max pool") + _if(f, "avgpool2d", ", the strided average pools")
    biases = " and SE's conv biases" if f.of("conv").other_ops else ""
    sentence = _sentence(f"pycls counts multiply-adds with the fc bias{biases}, and its activations are the outputs of "
                         f"every conv{pool} and the fc ({acts:,} per image)", terms, batch * per_image,
                         f"our MACs {batch * f.macs:,}") + _per_image("pycls", batch, per_image)
    # trainer.setup_model logs dump_log_data(net.complexity(model), "complexity"): sorted-key JSON after a tag
    printed = f'json_stats: {{"_type": "complexity", "acts": {acts}, "flops": {per_image}, "params": {f.params}}}'
    return _make("pycls", terms, printed, sentence, activations=batch * acts)


def _timm(f: _Facts, batch: int) -> ToolCount:
    terms = _terms(f, RULES["timm"], batch)
    value = sum(t.count for t in terms)
    one, acts = value // batch, f.conv_out + f.fc_out
    sentence = _sentence(
        "timm's benchmark counts with fvcore (FlopCountAnalysis and ActivationCountAnalysis, eval mode)", terms,
        value, f"our MACs {batch * f.macs:,}") + (
        f" It runs one image and publishes round(total / 1e9, 2) as GMACs, here {round(one / 1e9, 2)}, and "
        f"round(activations / 1e6, 2) as macts, here {round(acts / 1e6, 2)}; timm's own ResNets pool with x.mean "
        f"('fast'), which fvcore does not count, so its CSVs lack the {f.avgpool_in:,} pooling flops per image, "
        "invisible at two decimals.")
    printed = f"infer_gmacs {round(one / 1e9, 2)}, infer_macts {round(acts / 1e6, 2)}"
    return _make("timm", terms, printed, sentence, activations=batch * acts)


_BUILDERS = {
    "fvcore": _fvcore, "ptflops_pytorch": _ptflops_pytorch, "ptflops_aten": _ptflops_aten, "thop": _thop,
    "torchinfo": _torchinfo, "torch_flop_counter": _flop_counter, "pycls": _pycls, "timm": _timm,
}


def flop_counter_excess(spec: ArchSpec, *, batch_size: int = 1, input_size: Any = None) -> int:
    """FLOPs that torch 2.14.1's ``FlopCounterMode`` adds to a training step of ``spec``: 0 without groups.

    Its formula for ``convolution_backward`` counts the weight gradient of a conv with ``groups`` groups as
    if every output channel saw all input channels (``c_in`` instead of ``c_in / groups``), i.e. ``groups``
    times the forward MACs instead of once: ``2 × (groups − 1) × forward MACs`` extra FLOPs per grouped conv.
    E.g. a 128→128 3×3 conv with 32 groups at 8×8 (batch 1): 1,179,648 true backward FLOPs, 19,464,192
    counted. A fix was proposed upstream in pytorch/pytorch#183405.
    """
    batch = check_batch_size(batch_size)
    return 2 * batch * _facts(analyze(spec, input_size)).grouped_extra_macs


def check_batch_size(batch_size: Any) -> int:
    """An integer batch size within ``COUNTED_BATCH``'s bounds, or a ``SpecError`` naming ``batch_size``."""
    return COUNTED_BATCH.check(batch_size)


def tool_counts(spec: ArchSpec, input_size: Any = None, batch_size: int = 1) -> dict[str, ToolCount]:
    """Every tool's figure for a spec, derived from its analysis with the tool's own rules.

    Args:
        spec: the architecture (any spec the explorer accepts: blocks, forms, shortcuts, stems).
        input_size: ``(channels, height, width)``; default ``spec.input_size``.
        batch_size: images per batch; every ``value`` is for the whole batch.

    Returns:
        One :class:`ToolCount` per tool, keyed and ordered by :data:`TOOL_IDS`.

    Raises:
        SpecError: bad input size (from ``analyze``) or batch size.
    """
    batch = check_batch_size(batch_size)
    return dict(_tool_counts(spec, analyze(spec, input_size).input_size, batch))


@lru_cache(maxsize=256)
def _tool_counts(spec: ArchSpec, size: tuple[int, int, int], batch: int) -> tuple[tuple[str, ToolCount], ...]:
    f = _facts(analyze(spec, size))
    return tuple((tool_id, _BUILDERS[tool_id](f, batch)) for tool_id in TOOL_IDS)


# --- the papers' figures -----------------------------------------------------------------------------
@dataclass(frozen=True)
class PaperFigure:
    """The multiply-adds a paper's convention gives: conv + fc, bias not counted, at a stride placement."""

    id: str
    label: str
    downsample_on: str  # "1x1" (ResNet paper, "v1") or "3x3" (ResNeXt paper and torchvision, "v1.5")
    value: int  # the whole batch
    unit: str
    printed: str  # one image, in the papers' style
    terms: tuple[Term, ...]
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "downsample_on": self.downsample_on, "value": self.value, "unit": self.unit,
                "printed": self.printed, "terms": [t.to_dict() for t in self.terms], "sentence": self.sentence}


def paper_style(macs: int) -> str:
    """One decimal in the largest power of a thousand, as the papers' tables print: '3.8×10^9'."""
    for exp in (9, 6, 3):
        if macs >= 10**exp:
            return f"{macs / 10**exp:.1f}×10^{exp}"
    return str(macs)


def _printed_by(paper: str, spec: ArchSpec, input_size: Any) -> int | None:
    """The multiply-adds a paper prints for this very network (matched by its structure, at its own input), if it
    prints any."""
    from .reference import match, reported

    if input_size is not None and tuple(input_size) != spec.input_size:
        return None
    name = match(spec)
    return next((int(r.macs) for r in reported(name) if r.source == paper and r.macs), None) if name else None


def paper_figures(spec: ArchSpec, input_size: Any = None, batch_size: int = 1) -> dict[str, PaperFigure]:
    """The ResNet paper's ("v1", stride on the first 1×1) and the ResNeXt paper's ("v1.5", stride on
    the 3×3) multiply-adds for this spec, whatever its own ``downsample_on``.

    They are not tools (nothing to run), so they are kept apart from :func:`tool_counts`; both use our
    MACs convention, which is the papers' "FLOPs". For basic blocks the two are the same network.

    Raises:
        SpecError: bad input size or batch size.
    """
    batch = check_batch_size(batch_size)
    out: dict[str, PaperFigure] = {}
    for key, paper, where, version in (("resnet_paper", RESNET_PAPER, "1x1", "v1"),
                                       ("resnext_paper", RESNEXT_PAPER, "3x3", "v1.5")):
        f = _facts(analyze(replace(spec, downsample_on=where), input_size))
        terms = [Term("conv MACs", batch * f.conv_macs, "conv multiply-adds (the papers' 'FLOPs')"),
                 Term("linear MACs", batch * f.linear_macs, "fc multiply-adds, bias not counted")]
        value = sum(t.count for t in terms)
        if spec.block == "basic":
            how = "basic blocks put the stride on their first 3×3 in both papers"
        elif where == "1x1":
            how = "stride on the first 1×1 of each downsampling bottleneck, so that 1×1 outputs the lower resolution"
        else:
            how = ("stride on the 3×3 (torchvision's 'V1.5'), so the first 1×1 of each downsampling bottleneck "
                   "still outputs the higher resolution: more multiply-adds, the same parameters")
        sentence = (f"{paper} ({version}): {how}; conv {terms[0].count:,} + fc {terms[1].count:,} = {value:,} "
                    f"multiply-adds, our MACs for that stride placement.")
        printed = paper_style(value // batch)
        known = _printed_by(paper, spec, input_size)
        if known is not None:  # the paper's own rounding of its own network, e.g. ResNet-50's "3.8×10^9"
            printed = f"{paper_style(known)} (printed; {printed} rounded from ours)" if paper_style(known) != printed \
                else printed
        out[key] = PaperFigure(key, f"{paper}, {version}", where, value, "FLOPs (multiply-adds)", printed,
                               tuple(terms), sentence)
    return out


MAC_TERMS = ("conv MACs", "conv1d MACs", "linear MACs")
# What a term adds, grouped for one picture: a term name's first matching word decides.
CATEGORIES = (("batch norm", "batch norm"), ("ReLU", "ReLU"), ("pool", "pooling"), ("conv bias", "conv bias"),
              ("bias", "fc bias"), ("add", "residual add"))


def category(term: str) -> str:
    """The group of an extra term: 'batch norm', 'ReLU', 'pooling', 'conv bias', 'fc bias', 'residual add' or the
    term itself ('group norm')."""
    return next((group for word, group in CATEGORIES if word in term), term)


@dataclass(frozen=True)
class Difference:
    """One figure against our MACs: what it prints, and the signed parts that make the difference."""

    label: str
    printed: str
    value: int
    parts: tuple[tuple[str, int], ...]


def differences(macs: int, counts: dict[str, ToolCount], papers: dict[str, PaperFigure]) -> list[Difference]:
    """Every paper's and tool's figure as our MACs plus signed parts, grouped by ``category``: the picture of
    "which number is right?". The stride placement of a paper and FlopCounterMode's doubling are parts too."""
    rows = []
    for p in papers.values():
        delta = p.value - macs
        rows.append(Difference(p.label, p.printed, p.value, (("stride placement", delta),) if delta else ()))
    for c in counts.values():
        if c.tool == "torch_flop_counter":  # 2 per multiply-add: the whole second half is the doubling
            rows.append(Difference(c.label, c.printed, c.value, (("× 2: FLOPs, not MACs", c.value - macs),)))
            continue
        parts: dict[str, int] = {}
        for t in c.terms:
            if t.name not in MAC_TERMS and t.count:
                parts[category(t.name)] = parts.get(category(t.name), 0) + t.count
        base = sum(t.count for t in c.terms if t.name in MAC_TERMS)
        if base != macs:
            parts["stride placement"] = base - macs
        rows.append(Difference(c.label, c.printed, c.value, tuple(parts.items())))
    return rows


__all__ = [
    "CATEGORIES", "EXTRA_FIGURES", "MAC_TERMS", "Difference", "category", "differences", "flop_counter_excess", "TOOLS", "TOOL_IDS", "PaperFigure", "Term", "Tool", "ToolCount", "check_batch_size",
    "flop_counter_string", "paper_figures", "paper_style", "ptflops_string", "tool_counts", "torchinfo_number",
]
