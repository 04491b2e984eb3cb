"""Shared fixtures for the whole test suite. Keep them small; add new shared ones here.

Nothing here imports torch at import time: the pure-Python tests (spec, plan, analysis, links, counters,
training cost) then run without paying for it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import torch
    from torch import nn

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# (module name, input shape, output shape) of one call of a leaf module, batch dimension dropped.
Call = tuple[str, tuple[int, ...], tuple[int, ...]]


def _leaf_calls(model: nn.Module, x: torch.Tensor) -> list[Call]:
    """Run ``model(x)`` without grad and record every leaf-module call in order (a ReLU reused is recorded each time)."""
    import torch

    calls: list[Call] = []

    def hook(name: str) -> Callable:
        def record(module: Any, args: tuple, out: Any) -> None:
            calls.append((name, tuple(args[0].shape[1:]), tuple(out.shape[1:])))

        return record

    handles = [
        m.register_forward_hook(hook(name)) for name, m in model.named_modules() if not any(m.children())
    ]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return calls


def randomize_norms(model: nn.Module, seed: int = 0) -> None:
    """Non-trivial BN/GN statistics and affine parameters: timm zero-inits each block's last BN, which would hide a
    wrong residual branch. Shared by the timm oracle and the from_model round trips (``from conftest import``)."""
    import torch
    from torch import nn

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                n = m.weight.numel()
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.randn(n, generator=g) * 0.1)
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)


@pytest.fixture(scope="session")
def leaf_calls() -> Callable[[nn.Module, torch.Tensor], list[Call]]:
    """The forward-hook recorder (session scoped, so hypothesis tests can use it too)."""
    return _leaf_calls


# --- the real app in a real browser (module scoped: one server per test file) ---------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`streamlit run app.py` on a free loopback port; yields its URL."""
    port = _free_port()
    log = tempfile.TemporaryFile("w+")  # a file, not a pipe: a full pipe buffer would block the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"streamlit did not start:\n{log.read()}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of Debian's Chromium; fails (not skips) in CI when it is missing."""
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        message = f"Chromium is missing at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium: str):  # noqa: ANN201
    """Debian's Chromium through Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """One intra-op torch thread for a module's tests, restored afterwards: on this shared 2-core machine OpenMP
    threads waiting on each other make small passes 5–50× slower. A module opts in with
    ``pytestmark = pytest.mark.usefixtures("one_thread")``; torch is imported only then."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def onnx_outputs_vs_torch(data: bytes, spec: Any, seed: int = 0) -> float:
    """Open ONNX ``data`` alone (no file beside it) with ``onnx.load`` and onnxruntime, run one random image, and
    return the largest difference from the torch model the file was exported from
    (``torch.manual_seed(seed); build_model(spec)``, see ``explorer.build.export.export_onnx``)."""
    import io

    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch

    from explorer import build_model

    onnx.checker.check_model(onnx.load(io.BytesIO(data)), full_check=True)  # loads every weight: none is external
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(spec).eval()
    x = torch.randn(1, *spec.input_size, generator=torch.Generator().manual_seed(1))  # the file takes batch 1
    with torch.inference_mode():
        want = model(x).numpy()
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    assert got.shape == want.shape, (got.shape, want.shape)
    return float(np.abs(got - want).max() / max(1e-12, float(np.abs(want).max())))
