"""Export a spec: JSON, a standalone PyTorch file, or ONNX."""

from __future__ import annotations

import importlib.util
import math
import pprint
import re
from pathlib import Path

from ..core.errors import SpecError
from ..core.spec import ArchSpec

ONNX_INLINE_LIMIT = 2**31 - 2**26  # protobuf's 2 GiB, less room for the graph itself
NETS = Path(__file__).with_name("nets.py")
# The lines of nets.py that describe its one network: from the comment above CONFIG to INPUT_SIZE.
_CONFIG_BLOCK = re.compile(r"^# The network this file builds.*?^INPUT_SIZE = .*?$", re.M | re.S)


def export_python(spec: ArchSpec) -> str:
    """A Python file that rebuilds the network with only torch: ``explorer/build/nets.py``, verbatim, with its
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


def export_onnx(spec: ArchSpec, path: str | Path, opset: int = 18, *, budget: float | None = None,
                seed: int = 0) -> Path:
    """Export the (randomly initialized) network to ONNX; needs the optional onnx and onnxscript packages.

    The weights are drawn with ``seed`` (the global random state is left as it was), so one spec always gives
    the same network: ``torch.manual_seed(seed); build_model(spec)`` is the model in the file. BN is folded into
    the convs by the exporter's optimizer. The memory budget is checked (by ``build_model``) before anything is
    built; ``budget`` as there.
    """
    from ..core.analysis import analyze
    from .guard import check_memory

    if budget != math.inf:  # tracing runs one image forward: count its activations too
        check_memory(analyze(spec), batch_size=1, budget=budget, what="exporting")
    if not onnx_available():
        raise SpecError("format", "ONNX export needs the 'onnx' and 'onnxscript' packages "
                        "(pip install onnx onnxscript)")
    import torch

    from .model import build_model

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(spec, budget=budget).eval()
        x = torch.randn(1, *spec.input_size)
    # One self-contained file (the weights inside), which is what a download must be; only a network past the
    # 2 GiB protobuf limit gets its weights in a ``<file>.data`` beside it.
    inline = sum(t.numel() * t.element_size() for t in model.state_dict().values()) < ONNX_INLINE_LIMIT
    torch.onnx.export(model, (x,), str(path), opset_version=opset, input_names=["image"], output_names=["logits"],
                      external_data=not inline)
    return Path(path)


def onnx_bytes(spec: ArchSpec, opset: int = 18, *, budget: float | None = None, seed: int = 0) -> bytes:
    """The ONNX file of ``spec`` as bytes, self-contained (``onnx.load`` and onnxruntime open it alone).

    Refuses a network whose weights pass the 2 GiB protobuf limit, which cannot be one file.
    """
    import tempfile

    from ..core.analysis import analyze

    if 4 * analyze(spec).params >= ONNX_INLINE_LIMIT:
        raise SpecError("format", "an ONNX file holds at most 2 GiB of weights; this network needs an external "
                        "data file (python -m explorer export --format onnx -o FILE writes both)")
    with tempfile.TemporaryDirectory() as d:
        path = export_onnx(spec, Path(d) / "model.onnx", opset, budget=budget, seed=seed)
        return path.read_bytes()
