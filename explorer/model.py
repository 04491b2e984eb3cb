"""Build a real PyTorch model from the layer plan.

For every spec that torchvision's ``ResNet`` can express, the module tree and ``state_dict`` are the
same as torchvision's (``conv1, bn1, layer1 … layerN, fc``; blocks with ``conv1/bn1/…/downsample``),
so torchvision weights load with ``strict=True``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import plan as P
from .devices import resolve_device
from .spec import ArchSpec


class ShortcutA(nn.Module):
    """Option A (ResNet §3.3): subsample by the stride and zero-pad the extra channels; no parameters."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.c_in, self.c_out, self.stride = c_in, c_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.c_out - self.c_in))

    def extra_repr(self) -> str:
        return f"{self.c_in}, {self.c_out}, stride={self.stride}"


class Path(nn.Module):
    """One path of ResNeXt Fig. 3 (a)/(b): 1×1 → BN → ReLU → 3×3 → BN → ReLU [→ 1×1 in form a]."""

    def __init__(self, plan: P.Path) -> None:
        super().__init__()
        _add_modules(self, plan.name, plan.ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        if hasattr(self, "conv3"):
            out = self.conv3(out)
        return out


def make_module(op: P.Op) -> nn.Module:
    """The torch module for one op of the plan."""
    if isinstance(op, P.Conv):
        return nn.Conv2d(op.c_in, op.c_out, op.kernel, op.stride, op.padding, groups=op.groups, bias=op.bias)
    if isinstance(op, P.BatchNorm):
        return nn.BatchNorm2d(op.channels)
    if isinstance(op, P.ReLU):
        return nn.ReLU(inplace=True)
    if isinstance(op, P.MaxPool):
        return nn.MaxPool2d(op.kernel, op.stride, op.padding)
    if isinstance(op, P.GlobalAvgPool):
        return nn.AdaptiveAvgPool2d((1, 1))
    if isinstance(op, P.Linear):
        return nn.Linear(op.c_in, op.c_out)
    if isinstance(op, P.ShortcutA):
        return ShortcutA(op.c_in, op.c_out, op.stride)
    if isinstance(op, P.Projection):
        return nn.Sequential(make_module(op.conv), make_module(op.bn))
    if isinstance(op, P.Paths):
        return nn.ModuleList(Path(p) for p in op.paths)
    raise TypeError(f"no module for {type(op).__name__}")


def _add_modules(parent: nn.Module, prefix: str, ops: tuple[P.Op, ...]) -> None:
    """Register each distinct op under its name relative to ``prefix`` (a ReLU used twice is one module)."""
    start = len(prefix) + 1 if prefix else 0
    for op in ops:
        local = op.name[start:]
        if local not in parent._modules:
            parent.add_module(local, make_module(op))


class _ResidualBlock(nn.Module):
    """What every block shares: its modules from the plan, the shortcut, and ``relu(out + shortcut(x))``."""

    def __init__(self, plan: P.BlockPlan) -> None:
        super().__init__()
        _add_modules(self, plan.name, plan.main)
        self.downsample = make_module(plan.shortcut) if plan.shortcut is not None else None
        self.residual = plan.residual
        if "relu" not in self._modules:  # forms a/b: the paths have their own ReLUs
            self.relu = nn.ReLU(inplace=True)

    def finish(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Add the shortcut (identity, projection or option A) unless the network is plain, then ReLU."""
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class BasicBlock(_ResidualBlock):
    """Two 3×3 convs (ResNet Fig. 2 left); the stride sits on the first."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.finish(x, out)


class Bottleneck(_ResidualBlock):
    """1×1 reduce → 3×3 (grouped: C = groups) → 1×1 expand (ResNet Fig. 5, ResNeXt Fig. 3c).

    The stride sits on the 3×3 ("ResNet V1.5", torchvision, the ResNeXt paper) or on the first
    1×1 (the ResNet paper), as the spec's ``downsample_on`` says.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.finish(x, out)


class PathsBottleneck(_ResidualBlock):
    """ResNeXt Fig. 3 (a) or (b): the same function as Fig. 3 (c), written as C explicit paths.

    (a) every path ends in its own 1×1 and the outputs are summed before the block's BN;
    (b) the paths stop after the 3×3, are concatenated, and one 1×1 + BN follows.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if hasattr(self, "conv3"):  # form b
            out = self.bn3(self.conv3(torch.cat([path(x) for path in self.paths], dim=1)))
        else:  # form a: a running sum holds one output at a time, not C
            out = self.paths[0](x)
            for path in self.paths[1:]:
                out = out + path(x)
            out = self.bn3(out)
        return self.finish(x, out)


class ResNet(nn.Module):
    """Stem → stages ``layer1 … layerN`` → global average pool → ``fc`` (ResNet Table 1)."""

    def __init__(self, plan: P.NetworkPlan) -> None:
        super().__init__()
        _add_modules(self, "", plan.stem)
        for s, blocks in enumerate(plan.stages):
            self.add_module(f"layer{s + 1}", nn.Sequential(*(_block_module(b) for b in blocks)))
        _add_modules(self, "", plan.head)
        self.num_stages = len(plan.stages)
        self.has_maxpool = "maxpool" in self._modules
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        if self.has_maxpool:
            x = self.maxpool(x)
        for s in range(self.num_stages):
            x = getattr(self, f"layer{s + 1}")(x)
        x = self.avgpool(x)
        return self.fc(torch.flatten(x, 1))


def _block_module(plan: P.BlockPlan) -> nn.Module:
    if plan.kind == "basic":
        return BasicBlock(plan)
    return Bottleneck(plan) if plan.form == "c" else PathsBottleneck(plan)


def _init_weights(model: nn.Module) -> None:
    """torchvision's initialization: He (fan-out) for convs, BN scale 1 and shift 0."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)


def build_model(spec: ArchSpec, device: str | torch.device = "cpu") -> ResNet:
    """Build the model of a spec on a device (``"meta"`` builds instantly, without memory)."""
    with resolve_device(device):
        return ResNet(P.make_plan(spec))
