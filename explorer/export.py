"""Export a spec: JSON, a standalone PyTorch file, or ONNX."""

from __future__ import annotations

import importlib.util
import pprint
from pathlib import Path

from .spec import ArchSpec, SpecError

FORMATS = ("json", "py", "onnx")
_TEMPLATE = Path(__file__).with_name("standalone.py")


def export_python(spec: ArchSpec) -> str:
    """A Python file that rebuilds the network with only torch: readable classes and ``build()``.

    The file is ``explorer/standalone.py`` with its ``CONFIG`` set to the spec; the spec's values go
    in through ``repr`` only, so a name cannot inject code.
    """
    config = "CONFIG = " + pprint.pformat(spec.to_dict(), sort_dicts=False, width=100)
    lines = _TEMPLATE.read_text().splitlines()
    out = [config if line.startswith("CONFIG = ") else line for line in lines]
    return "\n".join(out) + "\n"


def onnx_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxscript"))


def export_onnx(spec: ArchSpec, path: str | Path, opset: int = 18) -> Path:
    """Export the (randomly initialized) network to ONNX; needs the optional onnx and onnxscript packages."""
    if not onnx_available():
        raise SpecError("format: ONNX export needs the 'onnx' and 'onnxscript' packages (pip install onnx onnxscript)")
    import torch

    from .model import build_model

    model = build_model(spec).eval()
    x = torch.randn(1, *spec.input_size)
    torch.onnx.export(model, (x,), str(path), opset_version=opset, input_names=["image"], output_names=["logits"])
    return Path(path)
