"""The pre-activation CIFAR nets of the papers: exact counts derived by hand, and the papers' rounded figures.

He et al. 2016, "Identity Mappings in Deep Residual Networks" (arXiv 1603.05027), Table 4 / §4: ResNet-110
(basic blocks, 6n+2, n = 18) 1.7M, ResNet-164 (bottleneck, 9n+2, n = 18) 1.7M, ResNet-1001 (n = 111) 10.2M.
Zagoruyko & Komodakis 2016, "Wide Residual Networks" (arXiv 1605.07146), Table: WRN-40-4 8.9M, WRN-16-8 11.0M,
WRN-28-10 36.5M (depth 6N+4, pre-activation basic blocks, widths 16k, 32k, 64k, a 1×1 projection where the
shape changes).

The structure counted (the papers', and timm's ResNetV2 layout): a 3×3 stem conv 3 → 16 with nothing after
it; each block BN → ReLU → conv …, the BN before each conv, on that conv's input; a projection shortcut is one
bias-free 1×1 conv on the pre-activated input, without a BN; after the last block one BN + ReLU, the global
average pool and the fc with its bias. No conv has a bias.
"""

from __future__ import annotations

import pytest

from explorer import analyze, get_preset, list_presets


def preact_cifar_params(
    block: str, n: int, widths: tuple[int, ...], classes: int, *, projection: bool, norms: bool = True, stem: int = 16
) -> int:
    """Parameters of a pre-activation CIFAR ResNet, counted layer by layer.

    A basic block c → w: BN(c) 2c, 3×3 conv 9·c·w, BN(w) 2w, 3×3 conv 9·w². A bottleneck c → w → 4w: BN(c) 2c,
    1×1 c·w, BN(w) 2w, 3×3 9·w², BN(w) 2w, 1×1 w·4w. Where the shape changes (stride 2, or other channels)
    a projection adds c·c_out when ``projection`` (option B), nothing for option A (zero padding).
    ``norms=False`` leaves out the BN scales and shifts (how the Identity Mappings paper's 10.2M counts).
    """
    total = 3 * stem * 9  # the stem conv
    c = stem
    for i, w in enumerate(widths):
        c_out = w if block == "basic" else 4 * w
        for j in range(n):
            stride = 2 if i > 0 and j == 0 else 1
            if block == "basic":
                weights, bn_channels = 9 * c * w + 9 * w * w, c + w
            else:
                weights, bn_channels = c * w + 9 * w * w + w * c_out, c + 2 * w
            total += weights + (2 * bn_channels if norms else 0)
            if projection and (stride != 1 or c != c_out):
                total += c * c_out
            c = c_out
    return total + (2 * c if norms else 0) + c * classes + classes  # final BN, fc weight and bias


def preact_cifar_macs(block: str, n: int, widths: tuple[int, ...], classes: int, *, projection: bool,
                      side: int = 32, stem: int = 16) -> int:
    """Multiply-adds at side × side: a conv's are its output positions × c_out × c_in × k²; the stride of a
    stage's first block sits on its (first) 3×3, so a bottleneck's first 1×1 runs at the stage's input size."""
    total = side * side * stem * 3 * 9
    c, r = stem, side
    for i, w in enumerate(widths):
        c_out = w if block == "basic" else 4 * w
        for j in range(n):
            stride = 2 if i > 0 and j == 0 else 1
            r_in, r = r, -(-r // stride)
            if block == "basic":
                total += r * r * (9 * c * w + 9 * w * w)
            else:
                total += r_in * r_in * c * w + r * r * (9 * w * w + w * c_out)
            if projection and (stride != 1 or c != c_out):
                total += r * r * c * c_out
            c = c_out
    return total + c * classes


# name: (block, blocks per stage, stage widths (a bottleneck's 3×3 width), the paper's figure in millions)
PAPERS = {
    "preact_resnet110": ("basic", 18, (16, 32, 64), 1.7),
    "preact_resnet164": ("bottleneck", 18, (16, 32, 64), 1.7),
    "preact_resnet1001": ("bottleneck", 111, (16, 32, 64), 10.2),
    "wrn_16_8": ("basic", 2, (128, 256, 512), 11.0),
    "wrn_28_10": ("basic", 4, (160, 320, 640), 36.5),
    "wrn_40_4": ("basic", 6, (64, 128, 256), 8.9),
}


@pytest.mark.parametrize("name", PAPERS)
def test_the_papers_figures_are_the_hand_count_rounded(name: str) -> None:
    """The formula against the papers (10 classes, as they report CIFAR-10), independent of the explorer."""
    block, n, widths, paper = PAPERS[name]
    depth = (6 if block == "basic" else 9) * n + 2 + (2 if name.startswith("wrn") else 0)
    assert depth == int(name.split("_")[1].removeprefix("resnet"))
    with_bn = preact_cifar_params(block, n, widths, 10, projection=True)
    weights_only = preact_cifar_params(block, n, widths, 10, projection=True, norms=False)
    assert round(weights_only / 1e6, 1) == paper
    if name != "preact_resnet1001":  # 10,327,706 with BN's 149,216 scales and shifts: 10.3M, not the paper's 10.2M
        assert round(with_bn / 1e6, 1) == paper


def test_hand_counts_pinned() -> None:
    """The formula's own numbers, for the record (B shortcuts, 10 classes)."""
    count = {name: preact_cifar_params(b, n, w, 10, projection=True) for name, (b, n, w, _) in PAPERS.items()}
    assert count == {
        "preact_resnet110": 1_730_522, "preact_resnet164": 1_703_258, "preact_resnet1001": 10_327_706,
        "wrn_16_8": 10_961_370, "wrn_28_10": 36_479_194, "wrn_40_4": 8_949_210,
    }
    # with option A (zero padding), pre-activation ResNet-110 has exactly the original CIFAR ResNet-110's
    # 1,727,962 parameters: one BN per conv either way, the stem's moved to the final one
    assert preact_cifar_params("basic", 18, (16, 32, 64), 10, projection=False) == 1_727_962


@pytest.mark.parametrize("name", PAPERS)
def test_preset_params_equal_the_hand_count(name: str) -> None:
    assert name in list_presets()
    block, n, widths, _ = PAPERS[name]
    spec = get_preset(name)
    assert (spec.block, tuple(spec.depths), spec.input_size, spec.order) == (block, (n, n, n), (3, 32, 32), "pre")
    assert spec.shortcut in ("A", "B") and (spec.shortcut == "B" or not name.startswith("wrn"))
    expected = preact_cifar_params(block, n, widths, spec.num_classes, projection=spec.shortcut == "B")
    assert analyze(spec).params == expected
    macs = preact_cifar_macs(block, n, widths, spec.num_classes, projection=spec.shortcut == "B")
    assert analyze(spec).macs == macs
