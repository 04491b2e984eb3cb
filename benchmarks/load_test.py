"""Load test: N concurrent browser sessions edit different specs on the Build page.

Each session (its own Playwright browser context = its own Streamlit session) opens /build, then in
every round types a different depth for stage 3 (the editor's ``build.depths`` box, or ``build.depths.2``
where each stage has its own) and waits until the Parameters metric shows the exact count for *its own*
spec (computed with ``explorer.analyze``), so a session that saw another's state would time out. Reports
p50/p95 of the time from the Enter key that commits the change to the updated number on screen, read in
each page's own clock (as ``ui_speed.py`` does), and the server's script time per run.

    .venv/bin/python benchmarks/load_test.py --sessions 10 --rounds 5          # starts its own server
    .venv/bin/python benchmarks/load_test.py --url http://localhost:8501 ...   # or uses a running one

Loopback only; the number of sessions, rounds and the total time are bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import host, load_average, read_block, today, write_block  # noqa: E402
from ui_speed import (  # noqa: E402 - the page clock, the depth field and the server are ui_speed's
    CHROMIUM,
    CHROMIUM_ARGS,
    OBSERVE,
    PRESET,
    STAGE,
    expected_params,
    start_server,
)

MAX_SESSIONS, MAX_ROUNDS = 32, 50


async def _depth_field(page):  # noqa: ANN001, ANN202
    """Stage 3's depth: its own number box, or the one text box of all depths and the position in it."""
    own = page.locator(f".st-key-build-depths-{STAGE} input")
    if await own.count():
        return own.first, None
    return page.locator(".st-key-build-depths input").first, STAGE


async def _session(browser, url: str, index: int, rounds: int,  # noqa: ANN001
                   timeout_ms: int) -> tuple[float, list[float]]:
    """One session's edits: the wall-clock time of its first edit, and each edit's seconds to its own count."""
    context = await browser.new_context()
    await context.add_init_script(OBSERVE)
    page = await context.new_page()
    try:
        await page.goto(f"{url}/build?preset={PRESET}", timeout=timeout_ms)
        await page.get_by_text(expected_params(6)).first.wait_for(timeout=timeout_ms)
        field, position = await _depth_field(page)
        await field.wait_for(timeout=timeout_ms)
        times = []
        first = time.time()
        previous = 6
        for r in range(rounds):
            depth = 2 + (index * 7 + r * 3) % 40  # different sessions ask for different specs
            if depth == previous:
                depth += 1
            want = expected_params(depth)
            if position is None:
                await field.fill(str(depth))
            else:
                parts = [p.strip() for p in (await field.input_value()).split(",")]
                parts[position] = str(depth)
                await field.fill(", ".join(parts))
            await page.evaluate(f"window.__want = {want!r}; window.__seen = null; window.__key = null")
            await field.press("Enter")
            try:
                await page.wait_for_function("window.__seen !== null && window.__seen >= 0", timeout=timeout_ms)
            except Exception as e:  # noqa: BLE001 - playwright's TimeoutError, with what the page shows
                shown = await page.locator('[data-testid="stMetricDelta"]').first.inner_text()
                raise TimeoutError(f"session {index}: expected {want}, saw {shown}") from e
            times.append((await page.evaluate("window.__seen - window.__key")) / 1000)
            previous = depth
        return first, times
    finally:
        await context.close()


async def run_load(url: str, sessions: int, rounds: int, timeout_s: float = 120) -> dict:
    """Drive ``sessions`` concurrent sessions for ``rounds`` edits each; latencies in milliseconds."""
    from playwright.async_api import async_playwright

    sessions, rounds = min(sessions, MAX_SESSIONS), min(rounds, MAX_ROUNDS)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            start = time.perf_counter()
            results = await asyncio.wait_for(
                asyncio.gather(*(_session(browser, url, i, rounds, int(timeout_s * 1000)) for i in range(sessions))),
                timeout=timeout_s * (rounds + 2),
            )
            wall = time.perf_counter() - start
        finally:
            await browser.close()
    ms = sorted(1000 * t for _, session in results for t in session)
    return {  # started: the first edit of any session (the page loads before it are not edits)
        "started": min(first for first, _ in results), "ended": time.time(),
        "sessions": sessions, "rounds": rounds, "updates": len(ms), "wall_s": round(wall, 1),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1),
        "max_ms": round(ms[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running app on loopback; default: start one")
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="record the result in benchmarks/README.md")
    args = parser.parse_args()
    load_at_start = load_average()
    server = None if args.url else start_server()
    try:
        result = asyncio.run(run_load(args.url or server.url, args.sessions, args.rounds))
        if server is not None:  # the server's own time per script run during the load
            runs = server.runs(result["started"], result["ended"])
            result["script_runs"] = len(runs)
            result["script_p50_ms"] = round(statistics.median(runs), 1) if runs else None
    finally:
        if server is not None:
            server.stop()
    del result["started"], result["ended"]
    print(json.dumps(result, indent=2))
    if args.write:
        _write_readme(result, load_at_start)


COLUMNS = ("sessions", "rounds", "updates", "p50 ms", "p95 ms", "max ms", "server script p50 ms", "wall s", "date")


INTRO = (
    "## Many users: concurrent browser sessions\n\n"
    "`.venv/bin/python benchmarks/load_test.py --sessions N --rounds R --write` starts the app on loopback and "
    "drives N headless Chromium contexts at once, on the same machine (server and browsers share its cores). "
    "Each session edits a different spec (the stage-3 depth of ResNet-50) on the Build page and waits until the "
    "Parameters metric shows the exact count of *its own* spec, so a session that saw another's state would fail. "
    "Time = from the Enter key that commits the edit to the exact new count on screen, in each page's own clock; "
    "server script time = the median of the app's own script runs during the load, timed in the server process "
    "(as in `ui_speed.py`). Target: p95 ≤ 1.5 s with ten sessions. The server runs one script at a time per "
    "session, but all sessions share its process and the cores with the browsers, so the time per edit grows "
    "with the number of sessions."
)


def _write_readme(result: dict, load_at_start: float) -> None:
    """Add or replace this session count's row in the load-test table of benchmarks/README.md."""
    script = result.get("script_p50_ms")
    cells = [result["sessions"], result["rounds"], result["updates"], f"{result['p50_ms']:,}", f"{result['p95_ms']:,}",
             f"{result['max_ms']:,}", "—" if script is None else f"{script:,}", result["wall_s"], today()]
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r"^\| (\d+) \|.*\|$", read_block("load_test", "cpu"), re.M)
            if m.group(0).count("|") == len(COLUMNS) + 1}
    rows[result["sessions"]] = "| " + " | ".join(str(c) for c in cells) + " |"
    table = "\n".join(["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS), *(rows[k] for k in sorted(rows))])
    write_block("load_test", "cpu", INTRO, f"Machine of the last run: {host(load_at_start)}; {today()}.\n\n{table}\n\n"
                "No session ever saw another's numbers.")


if __name__ == "__main__":
    main()
