"""Architecture Explorer: exact, instant ResNet/ResNeXt specs, builders and complexity analysis.

The library never imports Streamlit; the app's pages are thin layers over it.
"""

from .analysis import CONVENTIONS, Analysis, LayerRow, Rollup, analyze
from .model import build_model
from .plan import make_plan
from .presets import TORCHVISION_PRESETS, get_preset, list_presets
from .spec import ArchSpec, SpecError

__all__ = [
    "CONVENTIONS", "Analysis", "ArchSpec", "LayerRow", "Rollup", "SpecError", "TORCHVISION_PRESETS",
    "analyze", "build_model", "get_preset", "list_presets", "make_plan", "profile",
]


def profile(spec: ArchSpec, input_size=None):  # noqa: ANN001, ANN201 - documented in .fvcore_check
    """Cross-check the analysis with fvcore (imported lazily: fvcore is slow to import)."""
    from .fvcore_check import profile as _profile

    return _profile(spec, input_size)
