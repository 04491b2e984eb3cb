"""Build a real PyTorch model of a spec: the classes of :mod:`explorer.build.nets`, given the layer plan's numbers.

The plan decides every channel count and stride (it is what the analysis counts); this module only hands
those numbers to the readable classes in ``nets.py``. Tests pin the two together: the built model's
``named_modules()`` are the plan's names, with the plan's shapes and parameter counts.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ..core import plan as P
from ..core.analysis import analyze
from .devices import resolve_device
from .guard import check_memory
from .nets import ResNet, Stage, build
from ..core.spec import ArchSpec


def _attention(spec: ArchSpec, b: P.BlockPlan) -> tuple[str, int] | None:
    """A block's channel gate as ``nets`` takes it: ('se', its bottleneck's channels), ('eca', its kernel), None."""
    gate = next((op for op in b.main if isinstance(op, P.Gate) and op.name == P.attention_name(spec, b.name)), None)
    if gate is None:
        return None
    conv = gate.ops[1]
    return ("eca", conv.kernel) if isinstance(conv, P.ChannelConv) else ("se", conv.c_out)


def network_config(spec: ArchSpec) -> dict[str, Any]:
    """The keyword arguments of ``nets.ResNet`` for a spec, read from its layer plan."""
    plan = P.make_plan(spec)
    stages = [Stage(len(blocks), blocks[0].width, blocks[0].c_out, blocks[0].stride,
                    _attention(spec, blocks[0]))
              for blocks in plan.stages]
    stem_convs = [op for op in plan.stem if isinstance(op, P.Conv) and ".pool" not in op.name
                  and not op.name.startswith(("maxpool", "pool0"))]
    return {
        "block": spec.block, "stages": stages, "in_channels": spec.input_size[0], "stem": spec.stem,
        "stem_width": spec.stem_width,
        "deep_widths": tuple(c.c_out for c in stem_convs[:-1]) if len(stem_convs) > 1 else None,
        "stem_pool": spec.stem_pool, "groups": spec.cardinality, "form": spec.form, "stride_on": spec.downsample_on,
        "shortcut": spec.shortcut, "norm": spec.norm, "aa": spec.aa, "zero_init": spec.zero_init,
        "num_classes": spec.num_classes, "order": spec.order, "layout": spec.layout,
    }


def build_model(spec: ArchSpec, device: str | torch.device = "cpu", *, budget: float | None = None) -> ResNet:
    """Build the model of a spec on a device, after checking that its weights fit the memory budget.

    Args:
        spec: the architecture.
        device: ``"cpu"``, ``"cuda[:N]"``, ``"mps"``, or ``"meta"`` (instant, no memory, never refused).
        budget: bytes the weights may take; default the configured budget (``explorer.build.guard``);
            ``math.inf`` skips the check.

    Raises:
        ResourceError: the parameters and buffers would exceed the budget; nothing was allocated.
        SpecError: the device is not available.
    """
    dev = resolve_device(device)
    if dev.type != "meta" and budget != math.inf:
        check_memory(analyze(spec), batch_size=0, device=str(dev), budget=budget, what="building")
    with dev:
        return build(network_config(spec))
