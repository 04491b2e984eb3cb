"""Import hygiene: the analytic core and the first screens need no torch (it takes seconds to import)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from explorer import LAYERS, TORCH_FREE_LAYERS

ROOT = Path(__file__).resolve().parents[1]
# every module of the torch-free folders, the package itself and the CLI's parser
_TORCH_FREE = ("explorer", "explorer.cli", *sorted(
    ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for layer in TORCH_FREE_LAYERS for p in (ROOT / "explorer" / layer).rglob("*.py")))


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
        "print(warm.loaded('torch', 'explorer.measure.latency') and 'torch' in sys.modules)\n"
    )
    assert _python(code) == "True"


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in a file, the ones inside functions too."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            if node.module is None:  # from . import x: x is a module of that package
                out += [(node.lineno, f"{module}.{a.name}") for a in node.names]
            else:
                out.append((node.lineno, module))
    return out


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "explorer" and len(parts) > 1 and parts[1] in LAYERS else None


def test_every_module_lives_in_a_layer_folder() -> None:
    loose = sorted(p.name for p in (ROOT / "explorer").glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert loose == [], "put each module in one of the layer folders: " + ", ".join(LAYERS)
    assert sorted(p.name for p in (ROOT / "explorer").iterdir() if p.is_dir() and p.name != "__pycache__") == \
        sorted(LAYERS)


def test_no_import_points_up_a_layer() -> None:
    """Each folder imports only from itself and the folders ``explorer.LAYERS`` lists for it (lazy imports too)."""
    wrong = []
    for path in sorted((ROOT / "explorer").rglob("*.py")):
        own = _layer(".".join(path.relative_to(ROOT).parts))
        if own is None:
            continue  # explorer/__init__.py, the facade, re-exports from every layer
        for line, module in _imports(path):
            target = _layer(module)
            if target is not None and target != own and target not in LAYERS[own]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({own}) imports {module} ({target})")
    assert wrong == []


def test_no_import_cycle() -> None:
    """No module reaches itself through the library's imports, lazy ones included."""
    paths = {_module(p): p for p in (ROOT / "explorer").rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        graph[name] = set()
        for _, module in _imports(path):
            while module and module not in paths:
                module = module.rpartition(".")[0]  # explorer.core.spec.ArchSpec → explorer.core.spec
            if module and module != name and _layer(module) is not None and _layer(name) is not None:
                graph[name].add(module)
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            assert state.get(nxt) != 1, " → ".join([*trail, node, nxt])
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert len(graph) > 40  # every module was read
