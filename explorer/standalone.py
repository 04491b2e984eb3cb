"""A ResNet/ResNeXt exported by Architecture Explorer. It needs only PyTorch.

    model = build()            # the network described by CONFIG below

The module tree and state_dict keys equal Architecture Explorer's ``build_model(spec)`` (and, for the
networks torchvision can express, torchvision's), so weights load with ``strict=True``.
Papers: ResNet, arXiv 1512.03385; ResNeXt, arXiv 1611.05431.
"""

import torch
import torch.nn.functional as F
from torch import nn

CONFIG = {"block": "bottleneck", "depths": [3, 4, 6, 3], "widths": [64, 128, 256, 512]}  # set on export


class ShortcutA(nn.Module):
    """Option A shortcut: subsample by the stride and zero-pad the extra channels; no parameters."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.c_in, self.c_out, self.stride = c_in, c_out, stride

    def forward(self, x):
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.c_out - self.c_in))


def make_shortcut(kind, c_in, c_out, stride):
    """'B': 1×1 conv + BN where the shape changes; 'C': on every block; 'A': zero-pad; 'none': no shortcut."""
    changes = stride != 1 or c_in != c_out
    if kind == "C" or (kind == "B" and changes):
        return nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
    if kind == "A" and changes:
        return ShortcutA(c_in, c_out, stride)
    return None


class BasicBlock(nn.Module):
    """Two 3×3 convs; the stride sits on the first."""

    def __init__(self, c_in, planes, stride, shortcut):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = make_shortcut(shortcut, c_in, planes, stride)
        self.residual = shortcut != "none"

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Bottleneck(nn.Module):
    """1×1 reduce → 3×3 with C groups → 1×1 expand (ResNeXt Fig. 3c)."""

    def __init__(self, c_in, width, c_out, stride, groups, stride_on, shortcut):
        super().__init__()
        s1, s2 = (stride, 1) if stride_on == "1x1" else (1, stride)
        self.conv1 = nn.Conv2d(c_in, width, 1, s1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, width, 3, s2, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.downsample = make_shortcut(shortcut, c_in, c_out, stride)
        self.residual = shortcut != "none"

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Path(nn.Module):
    """One of C paths: 1×1 → BN → ReLU → 3×3 → BN → ReLU, and in form (a) its own 1×1."""

    def __init__(self, c_in, d, c_out, s1, s2, with_conv3):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, d, 1, s1, bias=False)
        self.bn1 = nn.BatchNorm2d(d)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(d, d, 3, s2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(d)
        if with_conv3:
            self.conv3 = nn.Conv2d(d, c_out, 1, bias=False)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.conv3(out) if hasattr(self, "conv3") else out


class PathsBottleneck(nn.Module):
    """ResNeXt Fig. 3 (a) C paths summed, then BN; or (b) C paths concatenated, then one 1×1 + BN."""

    def __init__(self, c_in, width, c_out, stride, groups, stride_on, shortcut, form):
        super().__init__()
        s1, s2 = (stride, 1) if stride_on == "1x1" else (1, stride)
        d = width // groups
        self.paths = nn.ModuleList(Path(c_in, d, c_out, s1, s2, form == "a") for _ in range(groups))
        if form == "b":
            self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.downsample = make_shortcut(shortcut, c_in, c_out, stride)
        self.residual = shortcut != "none"
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        if hasattr(self, "conv3"):
            out = self.bn3(self.conv3(torch.cat([path(x) for path in self.paths], dim=1)))
        else:
            out = self.paths[0](x)
            for path in self.paths[1:]:
                out = out + path(x)
            out = self.bn3(out)
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class ResNet(nn.Module):
    """Stem → stages layer1 … layerN → global average pool → fc."""

    def __init__(self, block, depths, widths, strides, expansion, cardinality, base_width, form, stem,
                 stem_width, downsample_on, shortcut, num_classes, input_size, name=""):
        super().__init__()
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(input_size[0], stem_width, 7, 2, 3, bias=False)
        else:
            self.conv1 = nn.Conv2d(input_size[0], stem_width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_width)
        self.relu = nn.ReLU(inplace=True)
        if stem == "imagenet":
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.num_stages = len(depths)
        c = stem_width
        for s, (depth, planes) in enumerate(zip(depths, widths)):
            blocks = []
            for i in range(depth):
                stride = strides[s] if i == 0 else 1
                if block == "basic":
                    blocks.append(BasicBlock(c, planes, stride, shortcut))
                else:
                    width = int(planes * base_width / 64) * cardinality
                    args = (c, width, planes * expansion, stride, cardinality, downsample_on, shortcut)
                    blocks.append(Bottleneck(*args) if form == "c" else PathsBottleneck(*args, form))
                c = planes * expansion
            self.add_module(f"layer{s + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(c, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        if hasattr(self, "maxpool"):
            x = self.maxpool(x)
        for s in range(self.num_stages):
            x = getattr(self, f"layer{s + 1}")(x)
        x = self.avgpool(x)
        return self.fc(torch.flatten(x, 1))


def build(config=None):
    """The network of CONFIG (or of another config with the same keys)."""
    return ResNet(**(CONFIG if config is None else config))


if __name__ == "__main__":
    model = build().eval()
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters")
    with torch.no_grad():
        print("output shape:", tuple(model(torch.randn(1, *CONFIG["input_size"])).shape))
