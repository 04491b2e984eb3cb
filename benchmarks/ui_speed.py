"""How fast the app feels, measured in a real browser (Playwright + Debian's Chromium) against the real server.

Three figures, each against its target:

(a) **Cold deep link**: a new browser context (empty cache, new Streamlit session) opens a deep link to /build;
    time from the server answering the page request (the navigation's ``responseStart``) to the first headline
    number (``stMetricValue``) on screen, on a freshly started server (its first session: imports, caches) and
    on a warm one. Median of N. Target ≤ 2.5 s.
(b) **Edit → exact new result** on every Build view: the depth of stage 3 goes 6 → 7 → 6 … (the key press
    that commits it starts the clock) until the Parameters metric shows the exact new count, computed here with
    ``explorer.analyze``. Both ends are read in the page's own clock (a key listener and a DOM observer,
    then the next animation frame), so Playwright's round trips are not counted. p50 and p95 of N edits per
    view. Target p95 ≤ 250 ms on every view.
(c) **Server script time per Build edit**: the server is started through this script, which wraps Streamlit's
    ``exec_func_with_error_handling`` (the call that runs app.py and the page for one rerun, widget callbacks
    included) with ``time.perf_counter``; the runs that (b)'s edits start are read back. Streamlit keeps no
    such timing itself. Median per view and over all edits. Target ≤ 30 ms median.

    .venv/bin/python benchmarks/ui_speed.py                 # prints the table
    .venv/bin/python benchmarks/ui_speed.py --write         # and records it in benchmarks/README.md
    .venv/bin/python benchmarks/ui_speed.py --edits 10 --cold 3 --warm 5   # quicker
    .venv/bin/python benchmarks/ui_speed.py --only-first 3                 # only (d), on 3 fresh servers

(d) **First visit to Build and to Latency on a fresh server**, as a new user meets them: a freshly started server,
    Home opened first (as a visitor does; its heavy imports start in the background then, see ``ui/warm.py``),
    then a click on Build in the navigation, then a click on the Latency view, then on "Measure latency"; and,
    on another fresh server, its first session opening /build?view=Latency by link (the worst case). For
    each click, in the page's own clock: time to the first feedback (a message saying what is loading, or the
    content itself; a progress bar) and to the first number (Build: a headline number; Latency: the view ready to measure,
    then the measured median). Median of N fresh servers. No target: the point is that no wait is silent.

For scale, (b) is also measured on Streamlit's floor: a page with one text box and one metric (``FLOOR_APP``),
served and edited the same way, so the table shows how much of an edit's time is the page's own.

Loopback only; every server it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import command, host, load_average, today, write_block  # noqa: E402 - beside this file; no torch

from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 - the flags of ../shared/STYLE.md, one place
from ui.pages import BUILD_VIEWS  # noqa: E402 - every Build view the app offers

ROOT = Path(__file__).resolve().parents[1]
TITLE = "## How fast the app feels (`benchmarks/ui_speed.py`)"
DEEP_LINK = "/build?preset=resnet50&downsample_on=1x1&view=Diagram&metric=flops"
# The least a Streamlit page can do for the same edit: the depths box and the exact Parameters count.
FLOOR_APP = """import streamlit as st
from explorer import analyze, get_preset
from explorer.core.vocab import exact
text = st.text_input("Depths", "3, 4, 6, 3", key="build.depths")
spec = get_preset("resnet50").edit(depths=tuple(int(x) for x in text.split(",")))
st.metric("Parameters", "", delta=exact(analyze(spec).params))
"""
TARGET_COLD_S, TARGET_EDIT_MS, TARGET_SCRIPT_MS = 2.5, 250.0, 30.0
PRESET, STAGE = "resnet50", 2  # edits change the depth of stage 3 (index 2) of ResNet-50: 6 ↔ 7

# In the page's own clock: when Enter went down, when the first headline number appeared, and when the
# Parameters metric first showed the count we wait for (then the next animation frame: on screen).
OBSERVE = """
window.__key = null; window.__want = null; window.__seen = null; window.__firstNumber = null;
document.addEventListener('keydown', (e) => { if (e.key === 'Enter') window.__key = performance.now(); }, true);
const parameters = () => {
  for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
    const label = m.querySelector('[data-testid="stMetricLabel"]');
    if (label && label.innerText.trim().startsWith('Parameters')) return m;
  }
  return null;
};
new MutationObserver(() => {
  if (window.__firstNumber === null) {
    const v = document.querySelector('[data-testid="stMetricValue"]');
    if (v && v.innerText.trim() && v.getClientRects().length) {
      const t = performance.now();
      requestAnimationFrame(() => { window.__firstNumber = t; window.__firstPainted = performance.now(); });
      window.__firstNumber = -1;  // seen; the frame fills in the times
    }
  }
  if (window.__want !== null && window.__seen === null) {
    const m = parameters();
    const d = m && m.querySelector('[data-testid="stMetricDelta"]');
    if (d && d.innerText.trim() === window.__want) {
      window.__seen = -1;
      requestAnimationFrame(() => { window.__seen = performance.now(); });
    }
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
window.__states = [];
new MutationObserver((records) => {
  for (const r of records) window.__states.push(r.target.getAttribute('data-test-script-state'));
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
"""
# (d): from a click (its time, in the page's clock) to the first feedback and to the first number.
FIRST_VISIT = """
window.__click = null; window.__feedback = null; window.__number = null; window.__doneTest = null;
document.addEventListener('click', () => { if (window.__click === null) window.__click = performance.now(); }, true);
const shownEl = (el) => el && el.getClientRects().length > 0 && el.innerText.trim() !== '';
new MutationObserver(() => {
  if (window.__click === null || window.__doneTest === null) return;
  const done = (new Function('return (' + window.__doneTest + ')();'))();
  const loading = Array.from(document.querySelectorAll('[data-testid="stSpinner"], [data-testid="stProgress"]'))
    .some(shownEl);
  const t = performance.now();
  if (window.__feedback === null && (loading || done)) window.__feedback = t;
  if (window.__number === null && done) window.__number = t;
}).observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
"""
BUILD_SHOWN = """() => { const h = document.querySelector('h1');
  return !!h && h.innerText.startsWith('Build') && Array.from(document.querySelectorAll('[data-testid="stMetricValue"]'))
    .some((v) => v.getClientRects().length && v.innerText.trim()); }"""
LATENCY_READY = """() => Array.from(document.querySelectorAll('.st-key-build-measure button'))
  .some((b) => b.getClientRects().length && !b.disabled)"""
MEDIAN_SHOWN = """() => Array.from(document.querySelectorAll('[data-testid="stMetric"]')).some((m) => {
  const l = m.querySelector('[data-testid="stMetricLabel"]'); const v = m.querySelector('[data-testid="stMetricValue"]');
  return l && v && l.innerText.trim().startsWith('Median') && v.innerText.trim(); })"""
IDLE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-testid="stSkeleton"]');
}"""


# --- the server, with each script run timed ----------------------------------------------------------
def _serve(port: int, log: str, app: str = "app.py") -> None:
    """Run `streamlit run APP` in this process, timing every script run into ``log`` (start, ms)."""
    import streamlit.runtime.scriptrunner.script_runner as runner
    from streamlit.web import cli

    inner = runner.exec_func_with_error_handling

    def timed(func: Any, ctx: Any) -> Any:
        start = time.time()
        t0 = time.perf_counter()
        try:
            return inner(func, ctx)
        finally:
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"{start:.6f} {1000 * (time.perf_counter() - t0):.3f}\n")

    runner.exec_func_with_error_handling = timed
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    sys.argv = ["streamlit", "run", app, "--server.port", str(port), "--server.headless", "true",
                "--server.address", "localhost"]
    cli.main()


@dataclasses.dataclass
class Server:
    """A server started by this script; ``runs(since, until)`` are its script runs started in that window."""

    proc: subprocess.Popen
    url: str
    log: Path
    started_s: float

    def runs(self, since: float, until: float) -> list[float]:
        if not self.log.exists():
            return []
        out = []
        for line in self.log.read_text(encoding="utf-8").splitlines():
            start, ms = line.split()
            if since <= float(start) <= until:
                out.append(float(ms))
        return out

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(timeout_s: float = 120, app: str = "app.py") -> Server:
    """Start ``app`` on a free loopback port through ``_serve``; returns once it answers its health check."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="ui_speed_runs_", suffix=".log")[1])
    log.write_text("")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port), str(log), app], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return Server(proc, url, log, time.perf_counter() - t0)
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("streamlit did not start")


# --- the page ------------------------------------------------------------------------------------------
def expected_params(depth: int, preset: str = PRESET, stage: int = STAGE) -> str:
    """The exact parameter count the Build page shows for ``preset`` with ``depth`` blocks in ``stage``."""
    from explorer import analyze, get_preset
    from explorer.core.vocab import exact

    spec = get_preset(preset)
    depths = list(spec.depths)
    depths[stage] = depth
    return exact(analyze(spec.edit(depths=tuple(depths))).params)


def settle(page: Any, since: int | None = None, timeout_ms: int = 60_000) -> None:
    """Wait for the script run started after ``since`` (a count of state changes) to end and the page to draw."""
    if since is not None:
        try:
            page.wait_for_function(f"window.__states.length > {since}", timeout=3_000)
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: no run started
            pass
    page.wait_for_function(IDLE, timeout=timeout_ms)


def depth_field(page: Any, stage: int = STAGE) -> tuple[Any, int | None]:
    """The widget of stage ``stage``'s depth: its own number box (key ``build.depths.<i>``) or the one text box
    of all depths (key ``build.depths``: "3, 4, 6, 3") and the position in it."""
    own = page.locator(f".st-key-build-depths-{stage} input")
    if own.count():
        return own.first, None
    return page.locator(".st-key-build-depths input").first, stage


def type_depth(page: Any, depth: int, stage: int = STAGE) -> str:
    """Type ``depth`` as the stage's depth (not committed yet); returns what the field then holds."""
    field, position = depth_field(page, stage)
    if position is None:
        text = str(depth)
    else:
        parts = [p.strip() for p in field.input_value().split(",")]
        parts[position] = str(depth)
        text = ", ".join(parts)
    field.fill(text)
    return text


def _pct(values: Sequence[float], q: float) -> float:
    """The q-quantile by the nearest-rank rule (p95 of 20 values is the 19th smallest)."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, -(-int(q * 100) * len(s) // 100) - 1))]


def _edit(page: Any, depth: int, want: str, timeout_ms: int = 30_000) -> float | None:
    """Commit ``depth`` as stage 3's depth with Enter; milliseconds until ``want`` is on screen, or None."""
    type_depth(page, depth)
    page.evaluate(f"window.__want = {want!r}; window.__seen = null; window.__key = null")
    depth_field(page)[0].press("Enter")
    try:
        page.wait_for_function("window.__seen !== null && window.__seen >= 0", timeout=timeout_ms)
    except Exception:  # noqa: BLE001 - playwright's TimeoutError
        return None
    return page.evaluate("window.__seen - window.__key")


def cold_link(browser: Any, server: Server, link: str) -> float:
    """Seconds from the server answering ``link`` to the first headline number on screen, in a new context."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    context.add_init_script(OBSERVE)
    page = context.new_page()
    try:
        page.goto(f"{server.url}{link}", timeout=120_000)
        page.wait_for_function("window.__firstNumber !== null && window.__firstNumber >= 0", timeout=120_000)
        return page.evaluate("""() => (window.__firstPainted
            - performance.getEntriesByType('navigation')[0].responseStart) / 1000""")
    finally:
        context.close()


def _timed_click(page: Any, target: Any, done: str, timeout_ms: int = 180_000) -> tuple[float, float]:
    """Click ``target``; seconds from the click to the first feedback and to ``done`` (a JS test) holding."""
    page.evaluate(f"window.__click = null; window.__feedback = null; window.__number = null; "
                  f"window.__doneTest = {done!r}")
    target.click()
    page.wait_for_function("window.__number !== null", timeout=timeout_ms)
    return page.evaluate("[(window.__feedback - window.__click) / 1000, (window.__number - window.__click) / 1000]")


def first_visits(browser: Any, server: Server) -> dict[str, tuple[float, float]]:
    """(d) On a fresh server: Home, then Build, then the Latency view, then one measurement; each click's seconds
    to the first feedback and to the first number."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    context.add_init_script(OBSERVE + FIRST_VISIT)
    page = context.new_page()
    out: dict[str, tuple[float, float]] = {}
    try:
        page.goto(server.url, timeout=120_000)
        page.wait_for_function("document.querySelector('h1') && "
                               "document.querySelector('h1').innerText.startsWith('Architecture')", timeout=120_000)
        settle(page, timeout_ms=120_000)
        nav = page.locator('[data-testid="stNavLink"], [data-testid="stTopNavLink"]').filter(has_text="Build").first
        out["Build"] = _timed_click(page, nav, BUILD_SHOWN)
        settle(page, timeout_ms=120_000)
        option = page.locator(".st-key-build-view").get_by_role("radio", name="Latency", exact=True)
        out["Latency"] = _timed_click(page, option, LATENCY_READY)
        settle(page, timeout_ms=120_000)
        out["Measure latency"] = _timed_click(page, page.locator(".st-key-build-measure button").first, MEDIAN_SHOWN)
    finally:
        context.close()
    server2 = start_server()  # the worst case, on a server of its own
    try:
        out["Link to /build?view=Latency (the server's first session)"] = deep_first(browser, server2)
    finally:
        server2.stop()
    return out


def deep_first(browser: Any, server: Server, link: str = "/build?view=Latency") -> tuple[float, float]:
    """(d) The worst case: the server's very first session opens a measurement view by link. Seconds from the
    server answering to the first feedback and to the view ready to measure."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    context.add_init_script(OBSERVE + FIRST_VISIT + f"window.__click = 0; window.__doneTest = {LATENCY_READY!r};")
    page = context.new_page()
    try:
        page.goto(f"{server.url}{link}", timeout=120_000)
        page.wait_for_function("window.__number !== null", timeout=180_000)
        return page.evaluate("""() => { const r = performance.getEntriesByType('navigation')[0].responseStart;
            return [(window.__feedback - r) / 1000, (window.__number - r) / 1000]; }""")
    finally:
        context.close()


def edits(browser: Any, server: Server, n: int, views: Sequence[str] | None) -> dict[str, dict[str, list[float]]]:
    """For each Build view (or, with ``views`` None, the one page ``server`` serves): ``n`` edits of the stage-3
    depth; each edit's milliseconds to the exact new count on screen, and the server's script milliseconds of
    the runs it started."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    context.add_init_script(OBSERVE)
    page = context.new_page()
    page.goto(f"{server.url}/build?preset={PRESET}" if views is not None else server.url, timeout=120_000)
    settle(page, 0)
    want = {d: expected_params(d) for d in (6, 7)}
    out: dict[str, dict[str, list[float]]] = {}
    depth_now = 6  # what the page holds, across views
    try:
        for view in views if views is not None else [None]:
            if view is not None:
                since = page.evaluate("window.__states.length")
                page.locator(".st-key-build-view").get_by_role("radio", name=view, exact=True).click()
                settle(page, since)
            got = out[view or "floor"] = {"ms": [], "script_ms": []}
            for i in range(n + 1):  # the first edit in a view warms its caches: not counted
                depth = 13 - depth_now  # 6 ↔ 7
                since = page.evaluate("window.__states.length")
                wall0 = time.time()
                ms = _edit(page, depth, want[depth])
                settle(page, since)
                wall1 = time.time()
                if ms is None:  # the page never showed the count: reported, not timed
                    got.setdefault("lost", []).append(depth)
                    print(f"  {view}: the edit to depth {depth} never showed {want[depth]} (page: "
                          f"{page.locator('[data-testid=stMetricDelta]').first.inner_text()})", flush=True)
                elif i > 0:
                    got["ms"].append(ms)
                    got["script_ms"].extend(server.runs(wall0, wall1))
                depth_now = depth if ms is not None else 13 - depth
                if len(got.get("lost", ())) > 3:
                    raise RuntimeError(f"{view}: edits keep getting lost; the page shows "
                                       f"{page.locator('[data-testid=stMetricDelta]').first.inner_text()}")
        if depth_now != 6:  # leave the page as it was
            type_depth(page, 6)
            depth_field(page)[0].press("Enter")
    finally:
        context.close()
    return out


def floor_edits(browser: Any, n: int) -> dict[str, list[float]]:
    """(b) and (c) on ``FLOOR_APP``: what any Streamlit page pays for the same edit on this machine."""
    with tempfile.TemporaryDirectory() as folder:
        app = Path(folder) / "floor.py"
        app.write_text(FLOOR_APP, encoding="utf-8")
        server = start_server(app=str(app))
        try:
            return edits(browser, server, n, None)["floor"]
        finally:
            server.stop()


# --- the report -----------------------------------------------------------------------------------------
def render_first(first: list[dict[str, tuple[float, float]]]) -> list[str]:
    """(d) as table rows: each click's median seconds to the first feedback and to the first number."""
    what = {"Build": "a headline number", "Latency": "the view ready to measure", "Measure latency": "the median",
            "Link to /build?view=Latency (the server's first session)": "the view ready to measure"}
    lines = [f"**(d) First visit on a fresh server** (Home first, then each click; median of {len(first)} fresh "
             "servers):", "", "| click | first feedback s | first number s | the number | max s |",
             "|---|---:|---:|---|---:|"]
    for click, number in what.items():
        if not all(click in r for r in first):
            continue
        fb, nb = [r[click][0] for r in first], [r[click][1] for r in first]
        lines.append(f"| {click} | {statistics.median(fb):.2f} | {statistics.median(nb):.2f} | {number} | "
                     f"{max(nb):.2f} |")
    return lines


def render(result: dict, cmd: str) -> str:
    if "edits" not in result:  # --only-first
        return "\n".join([f"Command: `{cmd}`; {result['machine']}.", "", *render_first(result["first"])])
    cold, warm, per_view = result["cold_s"], result["warm_s"], result["edits"]
    all_script = [ms for v in per_view.values() for ms in v["script_ms"]]
    worst = max(_pct(v["ms"], 0.95) for v in per_view.values() if v["ms"])
    ok = lambda good: "met" if good else "**not met**"  # noqa: E731
    lines = [
        f"Command: `{cmd}`; {result['machine']}.", "",
        "Measured in headless Chromium against the real server on loopback (server and browser share the cores). "
        "(a) A new browser context opens the deep link: time from the server answering the page request "
        "(`responseStart`) to the first headline number on screen. (b) The depth of stage 3 of ResNet-50 goes "
        "6 → 7 → 6 …; time from the Enter key that commits it to the Parameters metric showing the exact new "
        "count (both read in the page's clock, to the next frame; the first edit in each view is not counted). "
        "(c) Server script time: the app's own runs, timed by wrapping Streamlit's `exec_func_with_error_handling` "
        "(app.py + the page + widget callbacks) in the server process.", "",
        f"**(a) Cold deep link** `{result['link']}` — first number after the server answers:", "",
        "| server | runs | median s | min s | max s | target ≤ 2.5 s |", "|---|---:|---:|---:|---:|---|",
        f"| freshly started (its first session) | {len(cold)} | {statistics.median(cold):.2f} | {min(cold):.2f} | "
        f"{max(cold):.2f} | {ok(statistics.median(cold) <= TARGET_COLD_S)} |",
        f"| warm (a new session each) | {len(warm)} | {statistics.median(warm):.2f} | {min(warm):.2f} | "
        f"{max(warm):.2f} | {ok(statistics.median(warm) <= TARGET_COLD_S)} |", "",
        f"**(b) Edit → exact new result** and **(c) server script time per edit**, {result['n']} edits per view:", "",
        "| Build view | edit p50 ms | edit p95 ms | p95 ≤ 250 ms | script median ms | script p95 ms |",
        "|---|---:|---:|---|---:|---:|",
    ]
    lost = {view: len(v["lost"]) for view, v in per_view.items() if v.get("lost")}
    for view, v in per_view.items():
        p95 = _pct(v["ms"], 0.95)
        lines.append(f"| {view} | {statistics.median(v['ms']):.0f} | {p95:.0f} | {ok(p95 <= TARGET_EDIT_MS)} | "
                     f"{statistics.median(v['script_ms']):.1f} | {_pct(v['script_ms'], 0.95):.1f} |")
    floor = result.get("floor")
    if floor and floor["ms"]:
        lines.append(f"| *for scale: a page with only the depths box and the Parameters metric* | "
                     f"{statistics.median(floor['ms']):.0f} | {_pct(floor['ms'], 0.95):.0f} | | "
                     f"{statistics.median(floor['script_ms']):.1f} | {_pct(floor['script_ms'], 0.95):.1f} |")
    lines += [
        "", f"Targets: cold deep link ≤ {TARGET_COLD_S} s — {ok(statistics.median(cold) <= TARGET_COLD_S)} "
        f"(fresh server), {ok(statistics.median(warm) <= TARGET_COLD_S)} (warm); edit p95 ≤ {TARGET_EDIT_MS:.0f} ms "
        f"on every view — {ok(worst <= TARGET_EDIT_MS)} (worst view {worst:.0f} ms); server script time ≤ "
        f"{TARGET_SCRIPT_MS:.0f} ms median — {ok(statistics.median(all_script) <= TARGET_SCRIPT_MS)} "
        f"({statistics.median(all_script):.1f} ms over {len(all_script)} edits).",
    ]
    if result.get("first"):
        lines += ["", *render_first(result["first"])]
    if lost:
        lines += ["", "Edits whose new count never appeared within 30 s (not timed): "
                  + ", ".join(f"{view} {k}" for view, k in lost.items()) + "."]
    return "\n".join(lines)


def machine_line(load_at_start: float) -> str:
    """The host, its load at the start and the end, Streamlit's version, the date."""
    import streamlit

    return f"{host(load_at_start)}; Streamlit {streamlit.__version__}, headless Chromium; {today()}"


class _OnlyFirst(Exception):
    """--only-first: (d) is done, skip the rest."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", type=int, default=5, help="freshly started servers for (a) (default 5)")
    parser.add_argument("--warm", type=int, default=10, help="new sessions on a warm server for (a) (default 10)")
    parser.add_argument("--edits", type=int, default=20, help="counted edits per Build view for (b), (c) (default 20)")
    parser.add_argument("--views", nargs="+", default=list(BUILD_VIEWS), help="Build views to edit on (default all)")
    parser.add_argument("--link", default=DEEP_LINK, help=f"the deep link of (a) (default {DEEP_LINK})")
    parser.add_argument("--first", type=int, default=3, help="fresh servers for (d), the first visits (default 3)")
    parser.add_argument("--only-first", type=int, metavar="N", help="measure only (d), on N fresh servers")
    parser.add_argument("--write", action="store_true", help="record the result in benchmarks/README.md")
    parser.add_argument("--serve", nargs=3, metavar=("PORT", "LOG", "APP"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(int(args.serve[0]), args.serve[1], args.serve[2])
        return 0
    if min(args.cold, args.warm, args.edits) < 1 or max(args.cold, args.warm) > 50 or args.edits > 500:
        parser.error("--cold and --warm take 1 to 50, --edits 1 to 500")
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    result: dict[str, Any] = {"link": args.link, "n": args.edits, "cold_s": [], "warm_s": [], "first": []}
    load_at_start = load_average()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for i in range(args.only_first or args.first):
                server = start_server()
                try:
                    result["first"].append(first_visits(browser, server))
                finally:
                    server.stop()
                print(f"(d) fresh server {i + 1}: " + ", ".join(f"{k} {fb:.2f} s to feedback, {nb:.2f} s to number"
                                                              for k, (fb, nb) in result["first"][-1].items()),
                      flush=True)
            if args.only_first:
                raise _OnlyFirst
            print(f"(a) cold deep link {args.link}", flush=True)
            for i in range(args.cold):
                server = start_server()
                try:
                    result["cold_s"].append(cold_link(browser, server, args.link))
                finally:
                    server.stop()
                print(f"  fresh server {i + 1}: {result['cold_s'][-1]:.2f} s (server up in {server.started_s:.1f} s)",
                      flush=True)
            server = start_server()
            try:
                cold_link(browser, server, args.link)  # its first session: the server is warm from now on
                for i in range(args.warm):
                    result["warm_s"].append(cold_link(browser, server, args.link))
                print(f"  warm server: median {statistics.median(result['warm_s']):.2f} s over {args.warm}",
                      flush=True)
                print(f"(b, c) {args.edits} edits per view", flush=True)
                result["edits"] = edits(browser, server, args.edits, args.views)
            finally:
                server.stop()
            print(f"(b, c) {args.edits} edits on Streamlit's floor (one text box, one metric)", flush=True)
            result["floor"] = floor_edits(browser, args.edits)
        except _OnlyFirst:
            pass
        finally:
            browser.close()
    result["machine"] = machine_line(load_at_start)
    block = render(result, command("ui_speed.py", argv))
    print()
    print(block)
    if args.write:
        write_block("ui_speed", "first_visit" if args.only_first else "cpu", TITLE, block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
