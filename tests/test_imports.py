"""Import hygiene: the analytic core and the first screens need no torch (it takes seconds to import)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_TORCH_FREE = ("explorer", "explorer.spec", "explorer.plan", "explorer.analysis", "explorer.links", "explorer.fields",
               "explorer.schema", "explorer.vocab", "explorer.comparison", "explorer.counters", "explorer.training",
               "explorer.design", "explorer.presets", "explorer.reference", "explorer.diagram", "explorer.cli")


def _python(code: str, **env: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, **env})
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_the_analytic_core_does_not_import_torch() -> None:
    code = f"import sys, importlib; [importlib.import_module(m) for m in {_TORCH_FREE!r}]; print('torch' in sys.modules)"
    assert _python(code) == "False"


def test_the_first_screens_do_not_import_torch() -> None:
    """Home, the Build page's default view and Compare's default view render without torch: they never wait for it.
    (The server imports it in the background from its first page, ``ui/warm.py``; switched off here to see what the
    pages themselves import.)"""
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('app.py', default_timeout=120).run()\n"
        "for page in ('views/build.py', 'views/compare.py', 'views/design.py'):\n"
        "    at.switch_page(page).run()\n"
        "    assert not at.exception, [e.value for e in at.exception]\n"
        "print('torch' in sys.modules)\n"
    )
    assert _python(code, EXPLORER_WARM_IMPORTS="0") == "False"


def test_the_server_imports_torch_in_the_background_from_its_first_page() -> None:
    """With the background imports on (the default), torch is loaded while the first pages render, not by them."""
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "from ui import warm\n"
        "at = AppTest.from_file('app.py', default_timeout=120).run()\n"
        "assert not at.exception, [e.value for e in at.exception]\n"
        "warm._thread.join(300)\n"
        "print(warm.loaded('torch', 'explorer.latency') and 'torch' in sys.modules)\n"
    )
    assert _python(code) == "True"
