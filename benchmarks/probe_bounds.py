"""Re-run issue 22's probes: the work bound (rows, time, memory of the worst valid request), the reproducers
(refused, and how fast), the caches under many names, and the CLI's exit status for every bad input.

    .venv/bin/python benchmarks/probe_bounds.py            # about a minute on 2 CPU cores, 1 thread
    .venv/bin/python benchmarks/probe_bounds.py --json     # the same, as JSON

Time is measured here, never asserted in tests; rows and tracemalloc'd memory are also tested
(tests/test_hostile.py).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer import ArchSpec, SpecError, analyze  # noqa: E402
from explorer.core import analysis
from explorer.core.bounds import MAX_ROWS, PLAN_CACHE_BYTES, estimate_rows  # noqa: E402
from explorer.core.plan import make_plan  # noqa: E402


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _run(spec: ArchSpec, what: str) -> tuple[int, str]:
    analysis._analyze.cache_clear()
    make_plan.cache_clear()
    try:
        if what == "train":
            from explorer.costs.training import train_cost

            train_cost(spec, batch_size=64)
        return len(analyze(spec).layers), "ok"
    except SpecError as e:
        return 0, f"refused: {str(e)[:90]}…"


def measure(label: str, spec: ArchSpec, what: str = "analyze") -> dict[str, Any]:
    """Rows, seconds (cold caches, no tracing) and memory (tracemalloc's peak, RSS growth) of one request."""
    gc.collect()
    before = rss_mib()
    t0 = time.perf_counter()
    rows, outcome = _run(spec, what)
    seconds = time.perf_counter() - t0
    grown = rss_mib() - before
    tracemalloc.start()
    _run(spec, what)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"request": label, "estimate": estimate_rows(spec), "rows": rows, "seconds": round(seconds, 3),
            "peak_mib": round(peak / 2**20, 1), "rss_growth_mib": round(grown, 1), "outcome": outcome}


def worst_valid() -> list[tuple[str, ArchSpec, str]]:
    c = (MAX_ROWS - 32) // 10 // 7 - 4  # the most paths 10 blocks of form (a) may have
    blocks = (MAX_ROWS - 32) // 24  # the most blocks form (c) may have
    return [
        (f"form a, C={c}, 10 blocks (largest accepted)", ArchSpec(form="a", cardinality=c, base_width=1, depths=(10,),
                                                                 widths=(64,)), "analyze"),
        (f"form a, C={c}, 10 blocks: train-cost", ArchSpec(form="a", cardinality=c, base_width=1, depths=(10,),
                                                          widths=(64,)), "train"),
        (f"form c, {blocks} blocks (largest accepted)", ArchSpec(depths=(blocks // 3, blocks // 3, blocks - 2 * (
            blocks // 3)), widths=(64, 128, 256)), "analyze"),
        (f"basic, {blocks} blocks, 2048² input", ArchSpec(block="basic", depths=(blocks // 4,) * 4,
                                                          input_size=(3, 2048, 2048)), "analyze"),
    ]


def reproducers() -> list[tuple[str, ArchSpec, str]]:
    return [
        ("issue: form a, C=4096, d=1, depths=(100,)", ArchSpec(form="a", cardinality=4096, base_width=1,
                                                               depths=(100,), widths=(64,)), "analyze"),
        ("issue: train-cost, 30 such blocks", ArchSpec(form="a", cardinality=4096, base_width=1, depths=(30,),
                                                       widths=(64,)), "train"),
        ("issue: depths=1000,1000,1000,1000 with C=4096 form a",
         ArchSpec(form="a", cardinality=4096, base_width=1, depths=(1000,) * 4), "analyze"),
        ("8 stages × 1000 basic blocks", ArchSpec(block="basic", depths=(1000,) * 8, widths=(8,) * 8,
                                                  strides=(1,) * 8), "analyze"),
    ]


def names_probe(count: int = 40) -> dict[str, Any]:
    """What the Build page computes for one architecture under ``count`` new names (the issue: +490 MB each)."""
    from ui import cache

    base = ArchSpec(form="a", cardinality=640, base_width=1, depths=(3, 4), widths=(64, 128))  # 31,000 rows
    gc.collect()
    before = rss_mib()
    t0 = time.perf_counter()
    for i in range(count):
        spec = base.edit(name=f"n{i}")
        analyze(spec)
        for name in ("stages", "kinds", "layers"):
            cache.arrow(name, spec, "macs")
        cache.figure("rollup", spec, "macs", "blocks")
    gc.collect()
    return {"names": count, "rows_each": len(analyze(base).layers), "seconds": round(time.perf_counter() - t0, 2),
            "rss_growth_mib": round(rss_mib() - before, 1),
            "held_mib": {"analysis": round(analysis._analyze.cache_bytes() / 2**20, 1),
                         "plans": round(make_plan.cache_bytes() / 2**20, 1),
                         "tables": round(cache.table.cache_bytes() / 2**20, 1),
                         "arrow": round(cache.arrow.cache_bytes() / 2**20, 1)},
            "limits_mib": {"analysis": analysis.ANALYSIS_CACHE_BYTES // 2**20, "plans": PLAN_CACHE_BYTES // 2**20,
                           "tables": cache.TABLE_BYTES // 2**20}}


def cli_probe(tmp: Path) -> list[dict[str, Any]]:
    files = {"surrogate": '{"name": "\\ud800x"}', "nul": '{"name": "a\\u0000b"}', "newline": '{"name": "a\\nb"}',
             "big_int": '{"depths": [' + "9" * 5000 + "]}", "deep": '{"depths": ' + "[" * 1000 + "]" * 1000 + "}",
             "paths": json.dumps({"form": "a", "cardinality": 4096, "base_width": 1, "depths": [100], "widths": [64]})}
    for name, text in files.items():
        (tmp / f"{name}.json").write_text(text)
    runs: list[tuple[list[str], dict[str, str], bool]] = []
    for name in files:
        for command in ("summary", "bench", "profile", "train-cost", "conventions"):
            runs.append(([command, "--spec", str(tmp / f"{name}.json")], {}, False))
    for var, value in (("EXPLORER_MEMORY_BUDGET_MB", "abc"), ("EXPLORER_MEMORY_BUDGET_MB", "nan"),
                       ("EXPLORER_MEMORY_BUDGET_MB", "inf"), ("EXPLORER_MEMORY_FRACTION", "5")):
        runs.append((["bench", "resnet18", "--threads", "1"], {var: value}, False))
    runs.append((["export", "resnet50", "-o", ""], {}, False))
    runs.append((["list", "--json"], {}, True))
    out = []
    for args, env, closed in runs:
        command = [sys.executable, "-m", "explorer", *args]
        if closed:
            command = ["sh", "-c", 'exec "$@" >&-', "sh", *command]
        t0 = time.perf_counter()
        p = subprocess.run(command, cwd=ROOT, text=True, stdout=None if closed else subprocess.PIPE,
                           stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT), **env}, timeout=600)
        out.append({"args": " ".join(args) + (" >&-" if closed else ""), "env": env, "exit": p.returncode,
                    "seconds": round(time.perf_counter() - t0, 2), "stderr": p.stderr.strip()[:120]})
    return out


def server_probe(names: int = 3) -> dict[str, Any]:
    """The issue's link under ``names`` new names, in a real browser against a real server: seconds per page and
    the server's resident memory before and after (the issue: 19 s and +489 MB for each name)."""
    import socket
    import urllib.request

    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import CHROMIUM, CHROMIUM_ARGS

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)

    def server_rss() -> float:
        with open(f"/proc/{proc.pid}/statm") as f:
            return round(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)

    out: dict[str, Any] = {"pages": []}
    try:
        for _ in range(180):
            try:
                with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.5)
        idle = "() => document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === " \
               "'notRunning' && !document.querySelector('[data-testid=stStatusWidget]')"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://localhost:{port}/build")
            page.wait_for_selector("h1")
            page.wait_for_function(idle, timeout=120_000)
            out["rss_before_mib"] = server_rss()
            links = [f"form=a&cardinality=4096&base_width=1&depths=30&name=n{i + 1}" for i in range(names)]
            links += [f"form=a&cardinality=709&base_width=1&depths=10&name=w{i + 1}&view={view}"
                      for i, view in enumerate(("Stages", "Layers", "Charts", "Diagram"))]  # the largest accepted
            for link in links:
                t0 = time.perf_counter()
                page.goto(f"http://localhost:{port}/build?preset=resnext50_32x4d&{link}")
                page.wait_for_selector("h1")
                page.wait_for_timeout(500)
                page.wait_for_function(idle, timeout=120_000)
                errors = page.locator("[data-testid='stAlertContentError']").all_inner_texts()
                out["pages"].append({"link": link, "seconds": round(time.perf_counter() - t0, 2),
                                     "rss_mib": server_rss(), "message": (errors or [""])[0][:110]})
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI runs (about 40 processes)")
    parser.add_argument("--server", action="store_true", help="also the issue's link in a browser, against a server")
    parser.add_argument("--server-only", action="store_true", help="only the browser and server probe")
    args = parser.parse_args()
    import tempfile

    import torch

    torch.set_num_threads(1)
    results: dict[str, Any] = {"max_rows": MAX_ROWS}
    if not args.server_only:
        results["worst_valid"] = [measure(label, spec, what) for label, spec, what in worst_valid()]
        results["reproducers"] = [measure(label, spec, what) for label, spec, what in reproducers()]
        results["names"] = names_probe()
    if not args.no_cli and not args.server_only:
        with tempfile.TemporaryDirectory() as d:
            results["cli"] = cli_probe(Path(d))
    if args.server or args.server_only:
        results["server"] = server_probe()
    results["max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for key in [k for k in ("worst_valid", "reproducers") if k in results]:
        print(f"\n{key}:")
        for r in results[key]:
            print(f"  {r['request']}: estimate {r['estimate']:,}, rows {r['rows']:,}, {r['seconds']} s, "
                  f"peak {r['peak_mib']} MiB (tracemalloc), RSS +{r['rss_growth_mib']} MiB — {r['outcome']}")
    if "names" in results:
        print(f"\nnames: {results['names']}")
    for r in results.get("cli", []):
        print(f"  exit {r['exit']} ({r['seconds']} s) {r['env'] or ''} {r['args'][-60:]}: {r['stderr']}")
    if "server" in results:
        print(f"\nserver: {results['server']}")
    print(f"\nmax RSS of this process: {results['max_rss_mib']} MiB")


if __name__ == "__main__":
    main()
