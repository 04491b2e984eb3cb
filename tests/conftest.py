"""Shared fixtures for the whole test suite. Keep them small; add new shared ones here."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

# (module name, input shape, output shape) of one call of a leaf module, batch dimension dropped.
Call = tuple[str, tuple[int, ...], tuple[int, ...]]


def _leaf_calls(model: nn.Module, x: torch.Tensor) -> list[Call]:
    """Run ``model(x)`` without grad and record every leaf-module call in order (a ReLU reused is recorded each time)."""
    calls: list[Call] = []

    def hook(name: str) -> Callable:
        def record(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
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


@pytest.fixture(scope="session")
def leaf_calls() -> Callable[[nn.Module, torch.Tensor], list[Call]]:
    """The forward-hook recorder (session scoped, so hypothesis tests can use it too)."""
    return _leaf_calls
