"""ResNet and ResNeXt in plain PyTorch: readable modules with explicit constructor arguments.

    model = build()            # the network described by CONFIG at the bottom of this file

This file needs only torch. Architecture Explorer builds every model from these very classes, and its
code export is this file with CONFIG set, so exported code is the library's own. For every network
torchvision can express, the module tree and state_dict keys equal torchvision's, so its weights load
with ``strict=True``.

Papers: ResNet, He et al., CVPR 2016 (arXiv 1512.03385); ResNeXt, Xie et al., CVPR 2017 (arXiv 1611.05431).
"""

from collections import OrderedDict
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

GN_GROUPS = 32  # group norm's groups (timm's resnet50_gn)


def make_norm(kind, channels):
    """The network's normalization: batch norm ('bn'), or group norm with 32 groups ('gn', Wu & He 2018)."""
    return nn.GroupNorm(GN_GROUPS, channels) if kind == "gn" else nn.BatchNorm2d(channels)


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


def make_shortcut(kind, c_in, c_out, stride, norm="bn"):
    """The shortcut of a block (ResNet §3.3), or None for the identity.

    'B': a 1×1 conv + norm where the shape changes (torchvision's ``downsample``); 'C': that projection on
    every block; 'D': a 2×2 average pool (none at stride 1), then a 1×1 conv + norm, where the shape changes
    (ResNet-D, Bag of Tricks §4.3; timm's ``downsample_avg``, whose indices 1 and 2 stay without the pool);
    'A': subsampling and zero padding where the shape changes; 'none': no shortcut at all.
    """
    changes_shape = stride != 1 or c_in != c_out
    if kind == "C" or (kind == "B" and changes_shape):
        return nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), make_norm(norm, c_out))
    if kind == "D" and changes_shape:
        layers = OrderedDict()
        if stride > 1:
            layers["0"] = nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False)
        layers["1"] = nn.Conv2d(c_in, c_out, 1, bias=False)
        layers["2"] = make_norm(norm, c_out)
        return nn.Sequential(layers)
    if kind == "A" and changes_shape:
        return ShortcutA(c_in, c_out, stride)
    return None


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2018) as timm writes it: the channel means → 1×1 conv down to ``rd``
    channels → ReLU → 1×1 conv back up → sigmoid, which scales each channel of the input."""

    def __init__(self, channels, rd):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, rd, 1)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(rd, channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * self.gate(self.fc2(self.act(self.fc1(s))))


class EfficientChannelAttention(nn.Module):
    """ECA (Wang et al. 2020): the channel means, one bias-free 1-D conv of ``kernel`` across them, a sigmoid
    that scales each channel of the input."""

    def __init__(self, kernel):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, kernel, padding=(kernel - 1) // 2, bias=False)
        self.gate = nn.Sigmoid()

    def forward(self, x):
        y = self.conv(x.mean((2, 3)).view(x.shape[0], 1, -1))
        return x * self.gate(y).view(x.shape[0], -1, 1, 1)


def make_attention(attention, channels):
    """The channel gate at the end of a residual branch: None, ('se', channels of its bottleneck) or
    ('eca', its kernel size)."""
    if attention is None:
        return None
    kind, size = attention
    return SqueezeExcite(channels, size) if kind == "se" else EfficientChannelAttention(size)


def anti_alias(stride, aa):
    """With anti-aliasing a strided 3×3 runs at stride 1 and this average pool subsamples after it."""
    return nn.AvgPool2d(stride) if aa and stride > 1 else None


class BasicBlock(nn.Module):
    """Two 3×3 convs (ResNet Fig. 2 left); the stride sits on the first."""

    kind, form = "basic", "c"

    def __init__(self, c_in, width, c_out, stride=1, groups=1, stride_on="3x3", shortcut="B", *, norm="bn",
                 attention=None, aa=False):
        super().__init__()  # width is c_out and groups 1 (ResNeXt Fig. 4); every block takes the same arguments
        self.aa = anti_alias(stride, aa)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, 1 if self.aa else stride, 1, bias=False)
        self.bn1 = make_norm(norm, c_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = make_norm(norm, c_out)
        self.se = make_attention(attention, c_out)
        self.downsample = make_shortcut(shortcut, c_in, c_out, stride, norm)
        self.shortcut = shortcut

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        if self.aa is not None:
            out = self.aa(out)
        out = self.bn2(self.conv2(out))
        if self.se is not None:
            out = self.se(out)
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

    def __init__(self, c_in, width, c_out, stride=1, groups=1, stride_on="3x3", shortcut="B", *, norm="bn",
                 attention=None, aa=False):
        super().__init__()
        s1, s2 = split_stride(stride, stride_on)
        self.aa = anti_alias(s2, aa)
        self.conv1 = nn.Conv2d(c_in, width, 1, s1, bias=False)
        self.bn1 = make_norm(norm, width)
        self.conv2 = nn.Conv2d(width, width, 3, 1 if self.aa else s2, 1, groups=groups, bias=False)
        self.bn2 = make_norm(norm, width)
        self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
        self.bn3 = make_norm(norm, c_out)
        self.relu = nn.ReLU(inplace=True)
        self.se = make_attention(attention, c_out)
        self.downsample = make_shortcut(shortcut, c_in, c_out, stride, norm)
        self.stride, self.groups, self.stride_on, self.shortcut = stride, groups, stride_on, shortcut

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        if self.aa is not None:
            out = self.aa(out)
        out = self.bn3(self.conv3(out))
        if self.se is not None:
            out = self.se(out)
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

    def __init__(self, c_in, width, c_out, stride=1, groups=1, stride_on="3x3", shortcut="B", form="a", *,
                 attention=None):
        super().__init__()
        d = width // groups
        self.paths = nn.ModuleList(Path(c_in, d, c_out, stride, stride_on, form) for _ in range(groups))
        if form == "b":
            self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.se = make_attention(attention, c_out)
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
        if self.se is not None:
            out = self.se(out)
        if self.shortcut != "none":
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class PreActProjection(nn.Module):
    """A pre-activation shortcut (timm's DownsampleConv / DownsampleAvg): [a 2×2 average pool →] a 1×1 conv, with
    no norm — its input is the block's pre-activated input."""

    def __init__(self, c_in, c_out, stride, pool=False):
        super().__init__()
        self.pool = nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False) if pool and stride > 1 else None
        self.conv = nn.Conv2d(c_in, c_out, 1, 1 if self.pool else stride, bias=False)

    def forward(self, x):
        return self.conv(x if self.pool is None else self.pool(x))


def make_preact_shortcut(kind, c_in, c_out, stride):
    """A pre-activation block's shortcut: B and D project where the shape changes, C everywhere, A zero-pads."""
    changes_shape = stride != 1 or c_in != c_out
    if kind == "C" or (kind in ("B", "D") and changes_shape):
        return PreActProjection(c_in, c_out, stride, pool=kind == "D")
    if kind == "A" and changes_shape:
        return ShortcutA(c_in, c_out, stride)
    return None


class PreActBasicBlock(nn.Module):
    """Pre-activation basic block (He et al. 2016, "Identity Mappings", Fig. 4e): BN → ReLU → 3×3 → BN → ReLU →
    3×3, then the add and nothing after it; a projection shortcut reads the pre-activated input."""

    kind, form = "basic", "c"

    def __init__(self, c_in, width, c_out, stride=1, groups=1, stride_on="3x3", shortcut="B", *, norm="bn",
                 attention=None, aa=False):
        super().__init__()
        self.norm1 = make_norm(norm, c_in)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = conv3x3(c_in, c_out, stride)
        self.norm2 = make_norm(norm, c_out)
        self.conv2 = conv3x3(c_out, c_out)
        self.se = make_attention(attention, c_out)
        self.downsample = make_preact_shortcut(shortcut, c_in, c_out, stride)
        self.shortcut = shortcut

    def forward(self, x):
        x_pre = self.relu(self.norm1(x))
        out = self.conv2(self.relu(self.norm2(self.conv1(x_pre))))
        if self.se is not None:
            out = self.se(out)
        if self.shortcut == "none":
            return out
        return out + (x if self.downsample is None else self.downsample(x_pre))


class PreActBottleneck(nn.Module):
    """Pre-activation bottleneck (timm's PreActBottleneck): BN → ReLU → 1×1 → BN → ReLU → 3×3 (``groups``) → BN →
    ReLU → 1×1, then the add and nothing after it."""

    kind, form = "bottleneck", "c"

    def __init__(self, c_in, width, c_out, stride=1, groups=1, stride_on="3x3", shortcut="B", *, norm="bn",
                 attention=None, aa=False):
        super().__init__()
        s1, s2 = split_stride(stride, stride_on)
        self.norm1 = make_norm(norm, c_in)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(c_in, width, 1, s1, bias=False)
        self.norm2 = make_norm(norm, width)
        self.conv2 = nn.Conv2d(width, width, 3, s2, 1, groups=groups, bias=False)
        self.norm3 = make_norm(norm, width)
        self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
        self.se = make_attention(attention, c_out)
        self.downsample = make_preact_shortcut(shortcut, c_in, c_out, stride)
        self.shortcut = shortcut

    def forward(self, x):
        x_pre = self.relu(self.norm1(x))
        out = self.relu(self.norm2(self.conv1(x_pre)))
        out = self.conv3(self.relu(self.norm3(self.conv2(out))))
        if self.se is not None:
            out = self.se(out)
        if self.shortcut == "none":
            return out
        return out + (x if self.downsample is None else self.downsample(x_pre))


class SEModule(nn.Module):
    """Squeeze-and-excitation as timm's legacy SENet names it (senet.py): the same gate as ``SqueezeExcite``, its
    children ``fc1``, ``relu``, ``fc2``, ``sigmoid``."""

    def __init__(self, channels, rd):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, rd, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(rd, channels, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * self.sigmoid(self.fc2(self.relu(self.fc1(s))))


def make_se_module(attention, channels):
    """The legacy SENet's gate: None, or ('se', channels of its bottleneck)."""
    return None if attention is None else SEModule(channels, attention[1])


class SENetBasicBlock(nn.Module):
    """timm's legacy SEResNetBlock (SENet-18/34): two 3×3 convs, the stride on the first, a ReLU after each BN
    (the second one too, unlike ``BasicBlock``: senet.py's code), ``se_module`` at the end of the branch."""

    kind, form = "basic", "c"

    def __init__(self, c_in, width, c_out, stride=1, groups=1, stride_on="3x3", shortcut="B", *, norm="bn",
                 attention=None, aa=False):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = make_norm(norm, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = make_norm(norm, c_out)
        self.relu = nn.ReLU(inplace=True)
        self.se_module = make_se_module(attention, c_out)
        self.downsample = make_shortcut(shortcut, c_in, c_out, stride, norm)
        self.shortcut = shortcut

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        if self.se_module is not None:
            out = self.se_module(out)
        if self.shortcut != "none":
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class SENetBottleneck(nn.Module):
    """timm's legacy SEResNetBottleneck (stride on the first 1×1, ``stride_on="1x1"``: Hu et al.'s SE-ResNet) or
    SEResNeXtBottleneck (stride on the 3×3): 1×1 → 3×3 (``groups``) → 1×1, ``se_module`` at the end of the branch."""

    kind, form = "bottleneck", "c"

    def __init__(self, c_in, width, c_out, stride=1, groups=1, stride_on="1x1", shortcut="B", *, norm="bn",
                 attention=None, aa=False):
        super().__init__()
        s1, s2 = split_stride(stride, stride_on)
        self.conv1 = nn.Conv2d(c_in, width, 1, s1, bias=False)
        self.bn1 = make_norm(norm, width)
        self.conv2 = nn.Conv2d(width, width, 3, s2, 1, groups=groups, bias=False)
        self.bn2 = make_norm(norm, width)
        self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
        self.bn3 = make_norm(norm, c_out)
        self.relu = nn.ReLU(inplace=True)
        self.se_module = make_se_module(attention, c_out)
        self.downsample = make_shortcut(shortcut, c_in, c_out, stride, norm)
        self.shortcut = shortcut

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.se_module is not None:
            out = self.se_module(out)
        if self.shortcut != "none":
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Stage(NamedTuple):
    """One stage: ``depth`` blocks; the 3×3s have ``width`` channels; it outputs ``c_out`` channels; its first
    block has stride ``stride``; ``attention`` is each block's channel gate: None, ('se', channels) or ('eca',
    kernel)."""

    depth: int
    width: int
    c_out: int
    stride: int
    attention: tuple = None


# Each block kind's class, by the spec's name for it (explorer.core.plan.BLOCK_KINDS plans the same kinds).
BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck, "preact_basic": PreActBasicBlock,
          "preact_bottleneck": PreActBottleneck, "senet_basic": SENetBasicBlock, "senet_bottleneck": SENetBottleneck}


def make_block(block, c_in, width, c_out, stride=1, groups=1, form="c", stride_on="3x3", shortcut="B", *,
               norm="bn", attention=None, aa=False):
    """One residual block of the given kind and Fig. 3 form."""
    if form != "c":  # Fig. 3 (a)/(b): the grouped 3×3 written as explicit paths
        return PathsBottleneck(c_in, width, c_out, stride, groups, stride_on, shortcut, form, attention=attention)
    return BLOCKS[block](c_in, width, c_out, stride, groups, stride_on, shortcut, norm=norm, attention=attention,
                         aa=aa)


def conv3x3(c_in, c_out, stride=1):
    return nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)


def make_stem(stem, in_channels, stem_width, deep_widths, norm):
    """The stem's convs: one 7×7/2 ('imagenet'), one 3×3/1 ('cifar'), or three 3×3, the first /2 ('deep' and
    'tiered': timm's ``conv1`` Sequential, its inner widths ``deep_widths``)."""
    if stem == "imagenet":  # 7×7/2: 224 → 112
        return nn.Conv2d(in_channels, stem_width, 7, 2, 3, bias=False)
    if stem == "cifar":  # ResNet §4.2: one 3×3 conv, no pooling
        return conv3x3(in_channels, stem_width)
    w1, w2 = deep_widths
    return nn.Sequential(conv3x3(in_channels, w1, 2), make_norm(norm, w1), nn.ReLU(inplace=True),
                         conv3x3(w1, w2), make_norm(norm, w2), nn.ReLU(inplace=True), conv3x3(w2, stem_width))


def make_stem_pool(kind, channels, norm):
    """How the stem halves the resolution after its convs (timm keeps the name ``maxpool`` for each)."""
    if kind == "max":
        return nn.MaxPool2d(3, 2, 1)
    if kind == "max_ceil":  # the original SENet's: no padding, a last partial window (its Caffe weights expect it)
        return nn.MaxPool2d(3, 2, ceil_mode=True)
    if kind == "conv":  # ResNet-RS
        return nn.Sequential(conv3x3(channels, channels, 2), make_norm(norm, channels), nn.ReLU(inplace=True))
    if kind == "avg":  # timm's anti-aliased ResNets
        return nn.AvgPool2d(2)
    return None


class ResNet(nn.Module):
    """Stem → stages ``layer1 … layerN`` → global average pool → ``fc`` (ResNet Table 1)."""

    def __init__(self, block, stages, *, in_channels=3, stem="imagenet", stem_width=64, deep_widths=None,
                 stem_pool="max", groups=1, form="c", stride_on="3x3", shortcut="B", norm="bn", aa=False,
                 zero_init=False, num_classes=1000):
        super().__init__()
        self.conv1 = make_stem(stem, in_channels, stem_width, deep_widths, norm)
        self.bn1 = make_norm(norm, stem_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = make_stem_pool(stem_pool, stem_width, norm)
        c = stem_width
        for i, (depth, width, c_out, stride, attention) in enumerate(stages):
            blocks = []
            for j in range(depth):
                blocks.append(make_block(block, c, width, c_out, stride if j == 0 else 1, groups, form, stride_on,
                                         shortcut, norm=norm, attention=attention, aa=aa))
                c = c_out
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
        self.num_stages = len(stages)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(c, num_classes)
        for m in self.modules():  # torchvision's initialization
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init:  # each block starts as its shortcut (Goyal et al. 2017)
            for m in self.modules():
                if isinstance(m, (BasicBlock, Bottleneck, PathsBottleneck)):
                    nn.init.zeros_((m.bn2 if isinstance(m, BasicBlock) else m.bn3).weight)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        if self.maxpool is not None:
            x = self.maxpool(x)
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        x = self.avgpool(x)
        return self.fc(torch.flatten(x, 1))


class PreActStage(nn.Module):
    """A pre-activation stage in timm's ResNetV2 layout: its blocks are ``blocks``."""

    def __init__(self, blocks):
        super().__init__()
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x):
        return self.blocks(x)


class PreActHead(nn.Module):
    """timm's ClassifierHead of a ResNetV2: global average pool → 1×1 conv with bias as the classifier → flatten."""

    def __init__(self, channels, num_classes):
        super().__init__()
        self.global_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Conv2d(channels, num_classes, 1)
        self.flatten = nn.Flatten(1)

    def forward(self, x):
        return self.flatten(self.fc(self.global_pool(x)))


class PreActResNet(nn.Module):
    """Pre-activation ResNet (He et al. 2016, "Identity Mappings"; timm's ResNetV2 layout): ``stem`` (convs and
    pool, no norm after the last conv) → ``stages.N.blocks.M`` → ``norm`` + ReLU → ``head``."""

    def __init__(self, block, stages, *, in_channels=3, stem="imagenet", stem_width=64, deep_widths=None,
                 stem_pool="max", groups=1, form="c", stride_on="3x3", shortcut="B", norm="bn", aa=False,
                 zero_init=False, num_classes=1000):
        super().__init__()
        layers = OrderedDict()
        if stem in ("deep", "tiered"):
            w1, w2 = deep_widths
            layers.update(conv1=conv3x3(in_channels, w1, 2), norm1=make_norm(norm, w1), relu=nn.ReLU(inplace=True),
                          conv2=conv3x3(w1, w2), norm2=make_norm(norm, w2), conv3=conv3x3(w2, stem_width))
        else:
            layers["conv"] = make_stem(stem, in_channels, stem_width, None, norm)
        pool = make_stem_pool(stem_pool, stem_width, norm)
        if pool is not None:
            layers["pool"] = pool
        self.stem = _PreActStem(layers)
        c, out = stem_width, []
        for depth, width, c_out, stride, attention in stages:
            blocks = []
            for j in range(depth):
                blocks.append(BLOCKS[f"preact_{block}"](c, width, c_out, stride if j == 0 else 1, groups, stride_on,
                                                        shortcut, norm=norm, attention=attention))
                c = c_out
            out.append(PreActStage(blocks))
        self.stages = nn.Sequential(*out)
        self.norm = make_norm(norm, c)
        self.relu = nn.ReLU(inplace=True)
        self.head = PreActHead(c, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        if zero_init:  # each residual branch starts at zero: its last conv (a pre-activation branch ends in one)
            for m in self.modules():
                if isinstance(m, (PreActBasicBlock, PreActBottleneck)):
                    nn.init.zeros_((m.conv2 if isinstance(m, PreActBasicBlock) else m.conv3).weight)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.head(self.relu(self.norm(x)))


class _PreActStem(nn.Module):
    """The stem's modules in forward order; a deep stem's one ReLU module follows each of its first two norms."""

    def __init__(self, layers):
        super().__init__()
        for name, module in layers.items():
            self.add_module(name, module)
        self.deep = "conv1" in layers

    def forward(self, x):
        if self.deep:
            x = self.relu(self.norm1(self.conv1(x)))
            x = self.conv3(self.relu(self.norm2(self.conv2(x))))
        else:
            x = self.conv(x)
        return x if getattr(self, "pool", None) is None else self.pool(x)


class GlobalPool(nn.Module):
    """timm's SelectAdaptivePool2d('avg', flatten=True): ``pool`` (the global average) then ``flatten``."""

    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)

    def forward(self, x):
        return self.flatten(self.pool(x))


class SENet(nn.Module):
    """A post-activation ResNet in timm's legacy SENet layout (senet.py, Hu et al. 2018): ``layer0`` (conv1, bn1,
    relu1) → ``pool0`` → ``layer1 … layerN`` → ``global_pool`` → ``last_linear``. timm's dropout before the
    classifier (p = 0.2, the identity in eval mode) is left out."""

    def __init__(self, block, stages, *, in_channels=3, stem="imagenet", stem_width=64, deep_widths=None,
                 stem_pool="max_ceil", groups=1, form="c", stride_on="1x1", shortcut="B", norm="bn", aa=False,
                 zero_init=False, num_classes=1000):
        super().__init__()
        self.layer0 = nn.Sequential(OrderedDict(conv1=make_stem(stem, in_channels, stem_width, None, norm),
                                                bn1=make_norm(norm, stem_width), relu1=nn.ReLU(inplace=True)))
        self.pool0 = make_stem_pool(stem_pool, stem_width, norm)
        c = stem_width
        for i, (depth, width, c_out, stride, attention) in enumerate(stages):
            blocks = []
            for j in range(depth):
                blocks.append(BLOCKS[f"senet_{block}"](c, width, c_out, stride if j == 0 else 1, groups, stride_on,
                                                       shortcut, norm=norm, attention=attention))
                c = c_out
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
        self.num_stages = len(stages)
        self.global_pool = GlobalPool()
        self.last_linear = nn.Linear(c, num_classes)
        for m in self.modules():  # timm's senet.py initialization
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init:
            for m in self.modules():
                if isinstance(m, (SENetBasicBlock, SENetBottleneck)):
                    nn.init.zeros_((m.bn2 if isinstance(m, SENetBasicBlock) else m.bn3).weight)

    def forward(self, x):
        x = self.layer0(x)
        if self.pool0 is not None:
            x = self.pool0(x)
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.last_linear(self.global_pool(x))


NETWORKS = {"post": ResNet, "pre": PreActResNet, "senet": SENet}


# The network this file builds: ResNet-50 here; an exported file has its own.
CONFIG = {
    "block": "bottleneck",
    "stages": [Stage(3, 64, 256, 1), Stage(4, 128, 512, 2), Stage(6, 256, 1024, 2), Stage(3, 512, 2048, 2)],
    "in_channels": 3, "stem": "imagenet", "stem_width": 64, "deep_widths": None, "stem_pool": "max", "groups": 1,
    "form": "c", "stride_on": "3x3", "shortcut": "B", "norm": "bn", "aa": False, "zero_init": False,
    "num_classes": 1000, "order": "post", "layout": "timm",
}
INPUT_SIZE = (3, 224, 224)


def build(config=None):
    """The network of CONFIG (or of another config with the same keys): a ResNet, a PreActResNet for
    ``"order": "pre"``, or a SENet for ``"layout": "senet"``."""
    config = dict(CONFIG if config is None else config)
    order, layout = config.pop("order", "post"), config.pop("layout", "timm")
    return NETWORKS["senet" if layout == "senet" else order](**config)


if __name__ == "__main__":
    model = build().eval()
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters")
    with torch.no_grad():
        print("output shape:", tuple(model(torch.randn(1, *INPUT_SIZE)).shape))
