"""Export a spec: JSON, a standalone PyTorch file, or ONNX."""

from __future__ import annotations

import importlib.util
import math
import pprint
import re
from pathlib import Path

from .errors import SpecError
from .spec import ArchSpec

NETS = Path(__file__).with_name("nets.py")
# The lines of nets.py that describe its one network: from the comment above CONFIG to INPUT_SIZE.
_CONFIG_BLOCK = re.compile(r"^# The network this file builds.*?^INPUT_SIZE = .*?$", re.M | re.S)


def export_python(spec: ArchSpec) -> str:
    """A Python file that rebuilds the network with only torch: ``explorer/nets.py``, verbatim, with its
    ``CONFIG`` set to this spec's layer-plan numbers.

    The classes are the ones ``build_model`` uses, so the file has the same module tree and ``state_dict``
    keys. The spec's values go in through ``repr`` only, so a name cannot inject code.
    """
    from .model import network_config

    config = pprint.pformat(network_config(spec), sort_dicts=False, width=110)
    block = "\n".join([
        *_registered_elsewhere(),
        f"# The network this file builds, exported by Architecture Explorer: {spec.name!r}.",
        f"# Its spec (python -m explorer summary --spec FILE reads it as JSON): {spec.to_json(indent=None)}",
        f"CONFIG = {config}",
        f"INPUT_SIZE = {tuple(spec.input_size)!r}",
    ])
    text = NETS.read_text()
    return _CONFIG_BLOCK.sub(lambda _: block, text, count=1)


def _registered_elsewhere() -> list[str]:
    """The source of block classes registered in ``nets.BLOCKS`` from another module (a kind added without
    editing nets.py), and their registration, so the exported file builds them too."""
    import inspect
    import textwrap

    from . import nets

    out = []
    for kind, cls in nets.BLOCKS.items():
        if cls.__module__ != nets.__name__:
            source = textwrap.dedent(inspect.getsource(cls)).rstrip()
            out += [source, "", "", f"BLOCKS[{kind!r}] = {cls.__name__}", "", ""]
    return out


def onnx_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxscript"))


def export_onnx(spec: ArchSpec, path: str | Path, opset: int = 18, *, budget: float | None = None) -> Path:
    """Export the (randomly initialized) network to ONNX; needs the optional onnx and onnxscript packages.

    The memory budget is checked (by ``build_model``) before anything is built; ``budget`` as there.
    """
    from .analysis import analyze
    from .guard import check_memory

    if budget != math.inf:  # tracing runs one image forward: count its activations too
        check_memory(analyze(spec), batch_size=1, budget=budget, what="exporting")
    if not onnx_available():
        raise SpecError("format", "ONNX export needs the 'onnx' and 'onnxscript' packages "
                        "(pip install onnx onnxscript)")
    import torch

    from .model import build_model

    model = build_model(spec, budget=budget).eval()
    x = torch.randn(1, *spec.input_size)
    torch.onnx.export(model, (x,), str(path), opset_version=opset, input_names=["image"], output_names=["logits"])
    return Path(path)
