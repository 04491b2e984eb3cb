"""The work bound: how many layer rows a spec's analysis would create, known from its fields alone, and the
one limit every request is held to before any plan is built.

Every valid spec is analysable, but forms (a) and (b) give each block C separate paths of seven ops, so
the rows grow as blocks × C × 7: ``cardinality=4096`` in form (a) with 100 blocks would be 2.9 M rows, tens of
seconds and gigabytes. :func:`check_work` refuses such a spec in O(stages), before anything is built
(``plan.make_plan`` calls it first, so the analysis, the model, the training cost, the tools' counts and the
diagram are all bounded by it). The estimate is an upper bound: a block is counted as ``ROWS_PER_BLOCK`` rows
(today's blocks have at most 20 outside their paths, with SE, anti-aliasing and the pooled shortcut D; the
headroom is for more), plus exactly ``PATH_ROWS`` rows per path in forms (a)/(b), plus ``FIXED_ROWS`` for the
stem and the head (at most 14 today, with a deep stem and a conv pool).

:func:`sized_cache` is the byte-bounded LRU cache the app's process-wide caches use, so a cache holds a
number of bytes, not a number of entries.

Torch-free and import-light: the CLI and the app call it before anything heavy.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import wraps
from typing import Any, TypeVar

from .errors import SpecError

ROWS_PER_BLOCK = 24  # an upper bound on the ops of one block outside its paths (20 today)
PATH_ROWS = 7  # one path of form (a): 1×1, BN, ReLU, 3×3, BN, ReLU, 1×1 (form (b) has 6)
FIXED_ROWS = 32  # the stem (a deep stem has about ten ops) and the head
MAX_ROWS = 50_000  # about a second and 30 MB of analysis on one core; ResNeXt-101 64×4d in form (a) has 15,000
ROW_BYTES = 600  # what one row keeps alive, its plan op and its analysis row together (550 measured)
ANALYSIS_ROW_BYTES = 400  # the analysis's share of it (340 measured with tracemalloc)
PLAN_ROW_BYTES = 250  # the plan's share (216 measured)
MAX_SPEC_BYTES = 2**20  # a spec file (CLI --spec, the app's upload) is a few hundred bytes: this big is the wrong file
SPEC_FILE_LIMIT = f"{MAX_SPEC_BYTES // 2**20} MiB"  # the limit in words, for the messages that state it
PLAN_CACHE_BYTES = 64 * 2**20  # ResNet-50's plan is 20 KB; the largest the bound allows 11 MB


def estimate_rows(spec: Any) -> int:
    """An upper bound on the layer rows of ``spec``'s analysis, from its fields alone (O(stages)).

    Args:
        spec: an ``ArchSpec`` (anything with ``depths``, ``form`` and ``cardinality``).
    """
    blocks = sum(spec.depths)
    paths = spec.cardinality if getattr(spec, "form", "c") in ("a", "b") else 0
    return FIXED_ROWS + blocks * (ROWS_PER_BLOCK + PATH_ROWS * paths)


def estimate_bytes(spec: Any) -> int:
    """An upper bound on what the analysis of ``spec`` keeps in memory (``estimate_rows`` × ``ROW_BYTES``)."""
    return estimate_rows(spec) * ROW_BYTES


def check_work(spec: Any, limit: int = MAX_ROWS) -> int:
    """The row estimate of ``spec``, or a ``SpecError`` naming the field to change if it is over ``limit``.

    Raises:
        SpecError: the analysis would create more than ``limit`` rows; the message says how many, and names
            ``cardinality`` (forms a/b, where the paths dominate) or ``depths``.
    """
    rows = estimate_rows(spec)
    if rows <= limit:
        return rows
    blocks = sum(spec.depths)
    if getattr(spec, "form", "c") in ("a", "b") and spec.cardinality > 1:
        fit = max(1, ((limit - FIXED_ROWS) // max(blocks, 1) - ROWS_PER_BLOCK) // PATH_ROWS)
        raise SpecError("cardinality", f"form ({spec.form}) with C = {spec.cardinality} paths in each of {blocks:,} "
                        f"blocks would be about {rows:,} layers to analyse, over the limit of {limit:,}; use form c "
                        f"(the same network as one grouped conv), fewer blocks, or C ≤ {fit:,}")
    fit = (limit - FIXED_ROWS) // (ROWS_PER_BLOCK + PATH_ROWS * (spec.cardinality if spec.form in ("a", "b") else 0))
    raise SpecError("depths", f"{blocks:,} blocks would be about {rows:,} layers to analyse, over the limit of "
                    f"{limit:,}; use at most {fit:,} blocks in all")


# --- caches sized by bytes ----------------------------------------------------------------------
F = TypeVar("F", bound=Callable[..., Any])


def sized_cache(max_bytes: int, weigh: Callable[..., int]) -> Callable[[F], F]:
    """An LRU cache (of a function of hashable positional arguments) holding at most ``max_bytes``:
    ``weigh(result)`` gives the bytes a result keeps alive. A result heavier than the whole cache is returned
    but not kept. ``f.cache_clear()`` empties it; ``f.cache_bytes()`` and ``f.cache_len()`` say what it holds;
    ``f.max_bytes`` is the limit (a test may lower it).
    """

    def decorate(f: F) -> F:
        entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        held = [0]
        lock = threading.Lock()

        @wraps(f)
        def wrapper(*args: Any) -> Any:
            with lock:
                if args in entries:
                    entries.move_to_end(args)
                    return entries[args][0]
            value = f(*args)
            size = int(weigh(value))
            limit = wrapper.max_bytes  # type: ignore[attr-defined]
            if size > limit:
                return value
            with lock:
                if args not in entries:
                    entries[args] = (value, size)
                    held[0] += size
                while held[0] > limit:
                    _, (_, s) = entries.popitem(last=False)
                    held[0] -= s
            return value

        def cache_clear() -> None:
            with lock:
                entries.clear()
                held[0] = 0

        wrapper.max_bytes = max_bytes  # type: ignore[attr-defined]
        wrapper.cache_clear = cache_clear  # type: ignore[attr-defined]
        wrapper.cache_bytes = lambda: held[0]  # type: ignore[attr-defined]
        wrapper.cache_len = lambda: len(entries)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def plan_cache(f: F) -> F:
    """The layer plan's cache (``plan.make_plan``), sized by the rows of each plan."""
    return sized_cache(PLAN_CACHE_BYTES, lambda plan: estimate_rows(plan.spec) * PLAN_ROW_BYTES)(f)


def deep_size(value: Any) -> int:
    """Bytes of a result to cache: a DataFrame's or an Arrow table's own count, else ``sys.getsizeof``."""
    usage = getattr(value, "memory_usage", None)
    if callable(usage):
        try:
            return int(usage(deep=True).sum())
        except TypeError:
            pass
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    return sys.getsizeof(value)


__all__ = ["ANALYSIS_ROW_BYTES", "FIXED_ROWS", "MAX_ROWS", "MAX_SPEC_BYTES", "SPEC_FILE_LIMIT", "PATH_ROWS",
           "PLAN_CACHE_BYTES", "PLAN_ROW_BYTES",
           "ROWS_PER_BLOCK", "ROW_BYTES", "check_work", "deep_size", "estimate_bytes", "estimate_rows", "plan_cache",
           "sized_cache"]
