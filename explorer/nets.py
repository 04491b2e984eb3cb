"""ResNet and ResNeXt in plain PyTorch: readable modules with explicit constructor arguments.

    model = build()            # the network described by CONFIG at the bottom of this file

This file needs only torch. Architecture Explorer builds every model from these very classes, and its
code export is this file with CONFIG set, so exported code is the library's own. For every network
torchvision can express, the module tree and state_dict keys equal torchvision's, so its weights load
with ``strict=True``.

Papers: ResNet, He et al., CVPR 2016 (arXiv 1512.03385); ResNeXt, Xie et al., CVPR 2017 (arXiv 1611.05431).
"""

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


class ShortcutA(nn.Module):
    """Option A shortcut (ResNet §3.3): subsample by the stride, zero-pad the extra channels; no parameters."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.c_in, self.c_out, self.stride = c_in, c_out, stride

    def forward(self, x):
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.c_out - self.c_in))

    def extra_repr(self):
        return f"{self.c_in}, {self.c_out}, stride={self.stride}"


def make_shortcut(kind, c_in, c_out, stride):
    """The shortcut of a block (ResNet §3.3), or None for the identity.

    'B': a 1×1 conv + BN where the shape changes (torchvision's ``downsample``); 'C': that projection on
    every block; 'A': subsampling and zero padding where the shape changes; 'none': no shortcut at all.
    """
    changes_shape = stride != 1 or c_in != c_out
    if kind == "C" or (kind == "B" and changes_shape):
        return nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
    if kind == "A" and changes_shape:
        return ShortcutA(c_in, c_out, stride)
    return None


class BasicBlock(nn.Module):
    """Two 3×3 convs (ResNet Fig. 2 left); the stride sits on the first."""

    kind, form = "basic", "c"

    def __init__(self, c_in, width, c_out, stride=1, groups=1, stride_on="3x3", shortcut="B"):
        super().__init__()  # width is c_out and groups 1 (ResNeXt Fig. 4); every block takes the same arguments
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = make_shortcut(shortcut, c_in, c_out, stride)
        self.shortcut = shortcut

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.shortcut != "none":  # a plain network has no residual connection
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


def split_stride(stride, stride_on):
    """(stride of the first 1×1, stride of the 3×3): torchvision and the ResNeXt paper stride the 3×3
    ("ResNet V1.5"); the ResNet paper strides the first 1×1."""
    return (stride, 1) if stride_on == "1x1" else (1, stride)


class Bottleneck(nn.Module):
    """1×1 reduce → 3×3 with ``groups`` groups → 1×1 expand (ResNet Fig. 5; ResNeXt Fig. 3c when groups > 1).

    ``width`` is the 3×3's channels: C × d for a ResNeXt (torchvision: ``int(planes * width_per_group / 64)
    * groups``).
    """

    kind, form = "bottleneck", "c"

    def __init__(self, c_in, width, c_out, stride=1, groups=1, stride_on="3x3", shortcut="B"):
        super().__init__()
        s1, s2 = split_stride(stride, stride_on)
        self.conv1 = nn.Conv2d(c_in, width, 1, s1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, s2, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = make_shortcut(shortcut, c_in, c_out, stride)
        self.stride, self.groups, self.stride_on, self.shortcut = stride, groups, stride_on, shortcut

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.shortcut != "none":
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Path(nn.Module):
    """One of the C paths of ResNeXt Fig. 3 (a)/(b): 1×1 → BN → ReLU → 3×3 → BN → ReLU, and in form (a)
    its own 1×1 back to the block's output channels."""

    def __init__(self, c_in, d, c_out, stride=1, stride_on="3x3", form="a"):
        super().__init__()
        s1, s2 = split_stride(stride, stride_on)
        self.conv1 = nn.Conv2d(c_in, d, 1, s1, bias=False)
        self.bn1 = nn.BatchNorm2d(d)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(d, d, 3, s2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(d)
        if form == "a":
            self.conv3 = nn.Conv2d(d, c_out, 1, bias=False)
        self.form = form

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.conv3(out) if self.form == "a" else out


class PathsBottleneck(nn.Module):
    """ResNeXt Fig. 3 (a) or (b): the function of Fig. 3 (c), written as ``groups`` explicit paths of width
    ``width // groups``.

    (a) each path ends in its own 1×1 and the paths are summed before the block's BN;
    (b) the paths stop after the 3×3, are concatenated, and one 1×1 + BN follows.
    """

    kind = "bottleneck"

    def __init__(self, c_in, width, c_out, stride=1, groups=1, stride_on="3x3", shortcut="B", form="a"):
        super().__init__()
        d = width // groups
        self.paths = nn.ModuleList(Path(c_in, d, c_out, stride, stride_on, form) for _ in range(groups))
        if form == "b":
            self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.downsample = make_shortcut(shortcut, c_in, c_out, stride)
        self.relu = nn.ReLU(inplace=True)
        self.stride, self.groups, self.stride_on, self.shortcut, self.form = stride, groups, stride_on, shortcut, form

    def forward(self, x):
        if self.form == "b":
            out = self.bn3(self.conv3(torch.cat([path(x) for path in self.paths], dim=1)))
        else:  # a running sum keeps one path's output alive at a time, not C
            out = self.paths[0](x)
            for path in self.paths[1:]:
                out = out + path(x)
            out = self.bn3(out)
        if self.shortcut != "none":
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Stage(NamedTuple):
    """One stage: ``depth`` blocks; the 3×3s have ``width`` channels; it outputs ``c_out`` channels; its first
    block has stride ``stride``."""

    depth: int
    width: int
    c_out: int
    stride: int


# Each block kind's class, by the spec's name for it (explorer.plan.BLOCK_KINDS plans the same kinds).
BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


def make_block(block, c_in, width, c_out, stride=1, groups=1, form="c", stride_on="3x3", shortcut="B"):
    """One residual block of the given kind and Fig. 3 form."""
    if form != "c":  # Fig. 3 (a)/(b): the grouped 3×3 written as explicit paths
        return PathsBottleneck(c_in, width, c_out, stride, groups, stride_on, shortcut, form)
    return BLOCKS[block](c_in, width, c_out, stride, groups=groups, stride_on=stride_on, shortcut=shortcut)


class ResNet(nn.Module):
    """Stem → stages ``layer1 … layerN`` → global average pool → ``fc`` (ResNet Table 1)."""

    def __init__(self, block, stages, *, in_channels=3, stem="imagenet", stem_width=64, groups=1, form="c",
                 stride_on="3x3", shortcut="B", num_classes=1000):
        super().__init__()
        if stem == "imagenet":  # 7×7/2 conv and 3×3/2 max pool: 224 → 56
            self.conv1 = nn.Conv2d(in_channels, stem_width, 7, 2, 3, bias=False)
        else:  # CIFAR (ResNet §4.2): one 3×3 conv, no pooling
            self.conv1 = nn.Conv2d(in_channels, stem_width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_width)
        self.relu = nn.ReLU(inplace=True)
        if stem == "imagenet":
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.stem = stem
        c = stem_width
        for i, (depth, width, c_out, stride) in enumerate(stages):
            blocks = []
            for j in range(depth):
                blocks.append(make_block(block, c, width, c_out, stride if j == 0 else 1, groups, form, stride_on,
                                         shortcut))
                c = c_out
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
        self.num_stages = len(stages)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(c, num_classes)
        for m in self.modules():  # torchvision's initialization
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        if self.stem == "imagenet":
            x = self.maxpool(x)
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        x = self.avgpool(x)
        return self.fc(torch.flatten(x, 1))


# The network this file builds: ResNet-50 here; an exported file has its own.
CONFIG = {
    "block": "bottleneck",
    "stages": [Stage(3, 64, 256, 1), Stage(4, 128, 512, 2), Stage(6, 256, 1024, 2), Stage(3, 512, 2048, 2)],
    "in_channels": 3, "stem": "imagenet", "stem_width": 64, "groups": 1, "form": "c", "stride_on": "3x3",
    "shortcut": "B", "num_classes": 1000,
}
INPUT_SIZE = (3, 224, 224)


def build(config=None):
    """The network of CONFIG (or of another config with the same keys)."""
    return ResNet(**(CONFIG if config is None else config))


if __name__ == "__main__":
    model = build().eval()
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters")
    with torch.no_grad():
        print("output shape:", tuple(model(torch.randn(1, *INPUT_SIZE)).shape))
