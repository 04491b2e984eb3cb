"""The real app in a real browser: `streamlit run app.py` (the ``server`` fixture) driven by Playwright and
Debian's Chromium (the ``browser`` fixture).

What each test guards against (a finding that must not come back):

- every page works at its defaults: every button, segmented-control option, toggle and expander is used —
  on Build at each preset family — and no exception, error alert or traceback appears; a measurement's
  progress bar ends at 100% with "done" (measurements use 1 thread, the smallest budget, small networks);
- the layout fits at 1100×800 and 1500×1000: no headline number, label, button or option is cut off;
- names follow the architecture; invalid input keeps the last valid results, marked stale, with the
  message beside the field in its visible label;
- links reproduce every page's state, and a bad parameter is named while the good ones apply;
- uploads are refused beside the uploader, naming the problem, and a valid one loads;
- a click during a long measurement stops it and keeps what was measured; a comparison ends in a verdict.

Expected numbers are derived from the library (``explorer.analyze``, ``width_for``), never copied from the
screen. Screenshots go to ``tests/_screens/`` (not tracked).

How the tests wait: ``App.settle`` waits until the script run that an action started has finished (the app
root's ``data-test-script-state`` goes back to ``notRunning``, recorded by a small observer so a fast run is
not missed) and ``[data-testid="stStatusWidget"]`` is gone, then until Streamlit's lazy first render has
replaced every ``stSkeleton`` placeholder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from explorer import ArchSpec, analyze, get_preset
from explorer.costs.design import width_for
from explorer.core.run_fields import SETTINGS_FIELDS, SWEEP_FIELDS
from explorer.core.vocab import exact
from ui.pages import BUILD_VIEWS, COMPARE_VIEWS  # every view the app offers is visited

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
SCREENS = ROOT / "tests" / "_screens"
TIMEOUT_MS = 90_000
MEASURE_TIMEOUT_MS = 150_000  # a measurement's own cap is 60 s; the machine is shared
SMALL, LARGE = {"width": 1100, "height": 800}, {"width": 1500, "height": 1000}
PAGES = {"Home": "/", "Build": "/build", "Compare": "/compare", "Fig. 3 lab": "/fig3", "Design space": "/design",
         "Residual lab": "/residual_lab"}
ONE_THREAD = int(SETTINGS_FIELDS["threads"].low)  # the fewest threads a measurement may use: 1
SMALLEST_BUDGET = SWEEP_FIELDS["time_budget_s"].low  # the sweep's smallest time budget, in seconds

# Records every change of the app's script state, so a run that starts and ends between two polls is seen,
# and every text a progress bar shows with its value.
OBSERVE = """
window.__states = [];
window.__progress = [];
new MutationObserver((records) => {
  for (const r of records) {
    if (r.type === 'attributes' && r.attributeName === 'data-test-script-state') {
      window.__states.push(r.target.getAttribute('data-test-script-state'));
    }
  }
  for (const bar of document.querySelectorAll('[data-testid="stProgress"]')) {
    const value = bar.querySelector('[role="progressbar"]');
    const seen = [bar.innerText.trim(), value ? Number(value.getAttribute('aria-valuenow')) : null];
    const last = window.__progress[window.__progress.length - 1];
    if (!last || last[0] !== seen[0] || last[1] !== seen[1]) window.__progress.push(seen);
  }
}).observe(document, {subtree: true, childList: true, characterData: true, attributes: true,
                      attributeFilter: ['data-test-script-state', 'aria-valuenow']});
"""

IDLE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]');
}"""

# The controls inside a scope, in page order: buttons, download buttons, segmented-control options, toggles
# and checkboxes, expanders. Each is named by the key of its container (st-key-…) and its visible label; only
# what a person can see counts (not the inside of a closed expander).
CONTROLS = """(scope) => {
  const root = document.querySelector(scope) || document.body;
  const keyOf = (el) => {
    const box = el.closest('[class*="st-key-"]');
    return box ? Array.from(box.classList).find((c) => c.startsWith('st-key-')).slice(7) : null;
  };
  const shown = (el) => el.checkVisibility({visibilityProperty: true}) && el.getClientRects().length > 0;
  const out = [];
  const sel = ['[data-testid="stButton"] button', '[data-testid="stDownloadButton"] button',
               '[data-testid="stButtonGroup"] button[role="radio"]', '[data-testid="stCheckbox"] input',
               '[data-testid="stExpander"] summary'].join(',');
  for (const el of root.querySelectorAll(sel)) {
    const owner = el.closest('[data-testid="stButton"], [data-testid="stDownloadButton"], ' +
      '[data-testid="stButtonGroup"], [data-testid="stCheckbox"], [data-testid="stExpander"]');
    const kind = {stButton: 'button', stDownloadButton: 'download', stButtonGroup: 'option', stCheckbox: 'toggle',
                  stExpander: 'expander'}[owner.dataset.testid];
    const target = kind === 'toggle' ? owner : el;
    if (!shown(target)) continue;
    const label = kind === 'button' || kind === 'download'
      ? (el.querySelector('[data-testid="stMarkdownContainer"]') || el).innerText
      : kind === 'expander' ? el.innerText.replace(/^keyboard_arrow_\\w+/, '') : target.innerText;
    const checked = kind === 'option' ? el.getAttribute('aria-checked') === 'true'
      : kind === 'toggle' ? el.checked : kind === 'expander' ? el.closest('details').open : false;
    out.push({kind, key: keyOf(el), label: label.trim(), checked,
              disabled: !!el.disabled || el.getAttribute('aria-disabled') === 'true'});
  }
  return out;
}"""

# Text elements that are cut off: headline numbers, widget labels, button labels, segmented-control options
# and every element inside them that holds text; an element counts when its content is wider than its box.
CUT = """() => {
  const roots = ['[data-testid="stMetricValue"]', '[data-testid="stMetricLabel"]', '[data-testid="stMetricDelta"]',
    '[data-testid="stWidgetLabel"]', '[data-testid="stButton"] button', '[data-testid="stDownloadButton"] button',
    '[data-testid="stPopover"] button', '[data-testid="stButtonGroup"] button', '[data-testid="stPageLink"] a',
    '[data-testid="stCheckbox"] label'];
  const seen = new Set();
  const cut = [];
  const shown = (el) => {
    const s = getComputedStyle(el);
    return el.getClientRects().length > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  for (const root of document.querySelectorAll(roots.join(','))) {
    for (const el of [root, ...root.querySelectorAll('*')]) {
      if (seen.has(el) || el instanceof SVGElement) continue;
      seen.add(el);
      const text = (el.innerText || '').trim();
      if (!text || el.clientWidth === 0 || !shown(el)) continue;
      if (el.scrollWidth > el.clientWidth + 1) {
        const box = el.closest('[class*="st-key-"]');
        cut.push({text: text.slice(0, 60), element: root.closest('[data-testid]').dataset.testid,
                  key: box ? Array.from(box.classList).find((c) => c.startsWith('st-key-')).slice(7) : null,
                  content_px: el.scrollWidth, box_px: el.clientWidth});
      }
    }
  }
  return cut;
}"""


def css_key(key: str) -> str:
    """The class Streamlit gives a keyed element's container: ``st-key-`` + the key, every character other than
    a letter, digit, ``_`` or ``-`` replaced by ``-`` (``build.depths.2`` → ``st-key-build-depths-2``)."""
    return "st-key-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)


EDITOR = '[data-testid="stColumn"]:has(.st-key-build-preset)'  # the Build page's left column


def near(app: App, key: str, element: Any, within_px: float = 160) -> bool:
    """Whether ``element`` sits just under the widget ``key`` (its message, beside the field)."""
    field = app.keyed(key).bounding_box()
    box = element.bounding_box()
    return bool(field and box and 0 <= box["y"] - (field["y"] + field["height"]) <= within_px)


def params_of(spec: ArchSpec) -> str:
    """A spec's parameter count as the headline shows it under the SI value (``25,557,032``)."""
    return exact(analyze(spec).params)


@dataclass
class App:
    """One browser tab on the app, i.e. one Streamlit session, with the few moves the tests need."""

    page: Any
    base: str

    # --- waiting -----------------------------------------------------------------------------------
    def mark(self) -> int:
        return self.page.evaluate("window.__states.length")

    def settle(self, since: int | None = None, *, start_ms: int = 3_000, timeout: int = TIMEOUT_MS) -> None:
        """Wait for the run started after ``since`` (a ``mark()``) to finish and for the lazy render to end."""
        if since is not None:
            try:  # an action that starts no run (an expander) gives up here after start_ms
                self.page.wait_for_function(f"window.__states.length > {since}", timeout=start_ms)
            except Exception:  # noqa: BLE001 - playwright's TimeoutError: no run started
                pass
        self.page.wait_for_function(IDLE, timeout=timeout)
        try:
            self.page.wait_for_function('!document.querySelector("[data-testid=stSkeleton]")', timeout=15_000)
        except Exception:  # noqa: BLE001 - a placeholder that stays is not a failure by itself
            pass
        self.page.wait_for_timeout(50)  # React commits the last delta in the next frame

    def act(self, action: Callable[[], Any], **kwargs: Any) -> Any:
        """Do ``action`` and wait for the run it starts."""
        since = self.mark()
        result = action()
        self.settle(since, **kwargs)
        return result

    def open(self, path: str) -> App:
        self.page.goto(f"{self.base}{path}", timeout=TIMEOUT_MS)
        self.page.wait_for_function("window.__states.includes('notRunning')", timeout=TIMEOUT_MS)
        self.settle()
        return self

    # --- finding things ----------------------------------------------------------------------------
    def keyed(self, key: str, inner: str = "") -> Any:
        return self.page.locator(f".{css_key(key)} {inner}".strip()).first

    def wait(self, locator: Any, timeout: int = 30_000, state: str = "visible") -> Any:
        """Wait for ``locator``; if it never comes, fail with what the page shows instead (an error, say)."""
        try:
            locator.wait_for(timeout=timeout, state=state)
        except Exception as e:  # noqa: BLE001 - playwright's TimeoutError, turned into a readable failure
            shot = self.screenshot("missing")
            raise AssertionError(f"{locator} did not appear on {self.page.url}; the page shows problems "
                                 f"{self.problems()} and alerts {self.alerts()} (screenshot {shot})") from e
        return locator

    def texts(self, selector: str) -> list[str]:
        return [t.strip() for t in self.page.locator(selector).all_inner_texts()]

    def metric_values(self) -> list[str]:
        return self.texts('[data-testid="stMetricValue"]')

    def metric_exacts(self) -> list[str]:
        """The exact counts under the headline numbers (the metrics' second line)."""
        return self.texts('[data-testid="stMetricDelta"]')

    def alerts(self, kind: str = "") -> list[str]:
        """Texts of alerts (``Error``, ``Warning``, ``Info``, ``Success`` or all), without the icon's name."""
        sel = f'[data-testid="stAlertContent{kind}"]' if kind else '[data-testid="stAlertContainer"]'
        return [re.sub(r"^[a-z_]+\n+", "", t) for t in self.texts(sel)]

    def title(self) -> str:
        return self.texts("h1")[0]

    def problems(self) -> list[str]:
        """Exceptions, error alerts and tracebacks on the page now."""
        found = [f"exception: {t[:300]}" for t in self.texts('[data-testid="stException"]')]
        found += [f"error alert: {t[:300]}" for t in self.alerts("Error")
                  if not any(t[:200] in f for f in found)]
        body = self.page.inner_text("body")
        if "Traceback (most recent call last)" in body:
            found.append("a Python traceback in the page text")
        return found

    def controls(self, scope: str = "body") -> list[dict]:
        return self.page.evaluate(CONTROLS, scope)

    def option(self, key: str, label: str) -> Any:
        return self.keyed(key).get_by_role("radio", name=label, exact=True)

    def checked(self, key: str) -> str | None:
        for c in self.controls(f".{css_key(key)}"):
            if c["kind"] == "option" and c["checked"]:
                return c["label"]
        return None

    def tags(self, key: str) -> list[str]:
        """The chosen values of a multiselect."""
        return [t.get_attribute("aria-label") for t in
                self.page.locator(f".{css_key(key)} .react-aria-ComboBox [data-tag]").all()]

    def number(self, key: str) -> str:
        box = self.wait(self.keyed(key, "input"))
        return box.input_value()

    # --- doing things ------------------------------------------------------------------------------
    def click_option(self, key: str, label: str, **kwargs: Any) -> None:
        button = self.wait(self.option(key, label))
        if button.get_attribute("aria-checked") != "true":
            self.act(button.click, **kwargs)

    def set_number(self, key: str, value: Any) -> None:
        box = self.wait(self.keyed(key, "input"))
        if box.input_value() == str(value):
            return
        box.fill(str(value))
        self.act(lambda: box.press("Enter"))

    def set_text(self, key: str, value: str) -> None:
        box = self.wait(self.keyed(key, "input"))
        if box.input_value() == value:
            return
        box.fill(value)
        self.act(lambda: box.press("Enter"))

    def stage_box(self, field: str, index: int) -> tuple[str, int | None]:
        """The editor widget of one stage's value: its own number box (``build.depths.2``) or, where the stages
        of a field share one text box (``build.depths``: "3, 4, 6, 3"), that box and the position in it."""
        own = f"build.{field}.{index}"
        if self.page.locator(f".{css_key(own)} input").count():
            return own, None
        return f"build.{field}", index

    def set_stage(self, field: str, index: int, value: int) -> None:
        """Type ``value`` as stage ``index``'s depth, width or stride, as a person would, and commit it."""
        key, position = self.stage_box(field, index)
        if position is None:
            self.set_number(key, value)
            return
        parts = [p.strip() for p in self.number(key).split(",")]
        parts[position] = str(value)
        self.set_text(key, ", ".join(parts))

    def stage(self, field: str, index: int) -> str:
        key, position = self.stage_box(field, index)
        return self.number(key) if position is None else [p.strip() for p in self.number(key).split(",")][position]

    def choose(self, key: str, option: str) -> None:
        """Pick ``option`` in the selectbox ``key`` (typed to filter, then clicked by its exact name)."""
        box = self.wait(self.keyed(key, "input"))
        box.click()
        self.page.keyboard.type(option)
        self.act(self.page.get_by_role("option", name=option, exact=True).click)

    def view(self, key: str, label: str) -> None:
        self.click_option(key, label)

    def short_measurements(self) -> None:
        """Before a measure button: 1 thread, and the smallest time budget where the view has one."""
        for key, value in (("measure.threads", ONE_THREAD), ("build.time_budget_s", SMALLEST_BUDGET)):
            box = self.page.locator(f".{css_key(key)} input")
            if box.count() and box.first.is_visible() and box.first.is_enabled():
                self.set_number(key, f"{value:g}")

    def screenshot(self, name: str) -> Path:
        SCREENS.mkdir(parents=True, exist_ok=True)
        path = SCREENS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


class Findings:
    """What went wrong, step by step, so one run reports every problem rather than the first."""

    def __init__(self, app: App, where: str) -> None:
        self.app, self.where, self.items = app, where, []

    def check(self, step: str) -> None:
        problems = self.app.problems()
        if problems:
            shot = self.app.screenshot(f"problem_{len(self.items)}_{re.sub(r'[^A-Za-z0-9]+', '_', step)[:60]}")
            self.items.append(f"{self.where} · {step}: {problems} (screenshot {shot.relative_to(ROOT)})")

    def add(self, step: str, problem: str) -> None:
        self.items.append(f"{self.where} · {step}: {problem}")

    def assert_none(self) -> None:
        assert not self.items, "\n".join(self.items)




def exercise(app: App, found: Findings, scope: str, *, buttons: bool, skip: Callable[[dict], bool] = lambda c: False,
             where: str = "") -> list[str]:
    """Use every control inside ``scope`` once: click each button (measurements made short first; a progress
    bar must end at 100% with "done"), each option of each segmented control (then the one chosen before),
    each toggle (on, then back), each expander. Checks the page after every step; returns what it did."""
    done: set[tuple] = set()
    steps: list[str] = []
    while True:
        todo = [c for c in app.controls(scope) if (c["kind"], c["key"], c["label"]) not in done]
        todo = [c for c in todo if not c["disabled"] and not skip(c) and not (c["kind"] == "option" and c["checked"])
                and (buttons or c["kind"] not in ("button", "download"))]
        if not todo:
            return steps
        c = todo[0]
        done.add((c["kind"], c["key"], c["label"]))
        step = f"{where}{c['kind']} {c['key'] or ''} “{c['label']}”"
        steps.append(step)
        if c["kind"] == "option":
            key_sel = f".st-key-{c['key']}"
            previous = next((x["label"] for x in app.controls(key_sel) if x["kind"] == "option" and x["checked"]), None)
            app.act(app.page.locator(key_sel).get_by_role("radio", name=c["label"], exact=True).click)
            found.check(step)
            if previous is not None:
                app.act(app.page.locator(key_sel).get_by_role("radio", name=previous, exact=True).click)
                found.check(f"{step}, then back to “{previous}”")
        elif c["kind"] == "toggle":  # on; back off unless it opened a section, whose controls come next
            box = app.page.locator(f".st-key-{c['key']} [data-testid='stCheckbox'] label").first
            before = len(app.controls(scope))
            app.act(box.click)
            found.check(step)
            if c["checked"] or len(app.controls(scope)) <= before:
                app.act(box.click)
                found.check(f"{step}, then back")
        elif c["kind"] == "expander":
            summary = app.page.locator(scope).locator("[data-testid='stExpander'] summary", has_text=c["label"]).first
            if not c["checked"]:
                summary.click()
                app.page.wait_for_timeout(200)
                found.check(step)
        elif c["kind"] == "download":
            button = app.page.locator(f".st-key-{c['key']} [data-testid='stDownloadButton'] button").first
            with app.page.expect_download(timeout=TIMEOUT_MS) as download:
                app.act(button.click, start_ms=1_000)
            if not download.value.suggested_filename:
                found.add(step, "the download has no file name")
            found.check(step)
        else:  # a button: measurements first made short
            app.short_measurements()
            button = app.page.locator(f".st-key-{c['key']} [data-testid='stButton'] button").first
            app.page.evaluate("window.__progress = []")
            app.act(button.click, timeout=MEASURE_TIMEOUT_MS)
            found.check(step)
            bars = app.page.evaluate("window.__progress")
            if bars and not (bars[-1][1] == 100 and re.search(r"(?<!not) done$", bars[-1][0])):
                text, value = bars[-1]
                found.add(step, f"the progress bar ended at {value}% with “{text}” (not 100%, “done”)")


# --- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def fresh_screens() -> None:
    """Screenshots of problems and missing elements are of this run only."""
    for old in (*SCREENS.glob("problem_*.png"), *SCREENS.glob("missing*.png")):
        old.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def context(browser):  # noqa: ANN001, ANN201
    """One browser context for the module (its cache keeps Streamlit's lazily loaded scripts)."""
    ctx = browser.new_context(viewport=LARGE, accept_downloads=True)
    ctx.add_init_script(OBSERVE)
    yield ctx
    ctx.close()


@pytest.fixture
def app(server: str, context) -> Iterator[App]:  # noqa: ANN001
    """A fresh tab, i.e. a fresh Streamlit session, at 1500×1000."""
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield App(page, server)
    page.close()


# --- 1. every page works at its defaults -------------------------------------------------------------
def test_home_controls_and_page_links(app: App) -> None:
    app.open("/")
    found = Findings(app, "Home")
    found.check("open")
    app.wait(app.page.get_by_role("img").first)  # the pictures render
    app.screenshot("home")
    steps = exercise(app, found, "body", buttons=True)
    assert any("FLOPs" in s for s in steps), steps
    app.page.locator('[data-testid="stPopover"] button').first.click()  # Share: the address to copy
    share = app.page.locator('[data-testid="stPopoverBody"] code').first
    app.wait(share)
    assert share.inner_text().startswith(app.base), share.inner_text()
    app.page.keyboard.press("Escape")
    titles = {"Build": "Build — ", "Compare": "Compare", "Fig. 3 lab": "Fig. 3 lab", "Design space": "Design space",
              "Residual lab": "Residual lab"}
    for name, path in list(PAGES.items())[1:]:  # each card's link opens its page; Back comes home again
        link = app.page.locator('[data-testid="stMainBlockContainer"] [data-testid="stPageLink"] a', has_text=name)
        app.act(app.wait(link.first).click)
        assert urlparse(app.page.url).path == path, (name, app.page.url)
        app.wait(app.page.locator("h1", has_text=titles[name]).first)
        found.check(f"the card link to {name}")
        app.act(app.page.go_back)
        if urlparse(app.page.url).path != "/":  # Back pressed before Build wrote its link into the address
            app.open("/")
        app.wait(app.page.locator("h1", has_text="Architecture Explorer").first)
    found.assert_none()


def editor_options(app: App, found: Findings, preset: str) -> None:
    """Each other option of the editor's segmented controls (block, stride on) and each other stem, then the
    preset again."""
    for stem in ("cifar — 3×3/1", "deep — 3×3 ×3 (C, D, S)", "tiered — 3×3 ×3 (T)"):
        app.choose("build.stem", stem)
        found.check(f"build.stem → {stem}")
        app.choose("build.preset", preset)
        found.check(f"{preset} again")
    for key in ("build.block", "build.downsample_on"):
        for c in app.controls(f".{css_key(key)}"):
            if c["kind"] != "option" or c["checked"] or c["disabled"]:
                continue
            app.act(app.option(key, c["label"]).click)
            found.check(f"{key} → {c['label']}")
            app.choose("build.preset", preset)
            found.check(f"{preset} again")
            assert params_of(get_preset(preset)) in app.metric_exacts()


@pytest.mark.parametrize("preset", ["resnet50", "resnext50_8x14d", "plain18"])
def test_build_every_view_and_control(app: App, preset: str) -> None:
    """Each preset family: the editor's options, then every view, its options, toggles and expanders. No
    measurement and no download here: those run on resnet20 below."""
    app.open("/build")
    found = Findings(app, f"Build {preset}")
    found.check("open")
    if preset != "resnet50":
        app.choose("build.preset", preset)
        found.check(f"choose {preset}")
    assert app.title() == f"Build — {preset}"
    assert params_of(get_preset(preset)) in app.metric_exacts()
    views = [c["label"] for c in app.controls(f".{css_key('build.view')}") if c["kind"] == "option"]
    assert tuple(views) == BUILD_VIEWS
    exercise(app, found, f".{css_key('app.metric')}", buttons=False)
    editor_options(app, found, preset)
    for view in BUILD_VIEWS:
        app.view("build.view", view)
        found.check(f"view {view}")
        exercise(app, found, ".st-key-fresh_view", buttons=False, where=f"{view}: ")
    found.assert_none()


def test_build_editor_options_on_a_cifar_net(app: App) -> None:
    app.open("/build?preset=resnet20")
    found = Findings(app, "Build resnet20")
    editor_options(app, found, "resnet20")
    found.assert_none()


def test_build_measurements_on_resnet20(app: App) -> None:
    """Every button and download of every view on a small network, measurements at 1 thread and the smallest
    budget; the Diagram last, so its "Colour by measured time" is on once Time per layer has profiled."""
    app.open("/build?preset=resnet20")
    found = Findings(app, "Build resnet20")
    assert app.title() == "Build — resnet20"
    done: dict[str, list[str]] = {}
    for view in [v for v in BUILD_VIEWS if v != "Diagram"] + ["Diagram"]:
        app.view("build.view", view)
        found.check(f"view {view}")
        done[view] = exercise(app, found, ".st-key-fresh_view", buttons=True, where=f"{view}: ")
    used = [s for steps in done.values() for s in steps]
    for key in ("build.measure", "build.sweep", "build.profile", "build.train_measure", "build.tools_live",
                "build.check", "build.spec_download", "build.svg"):
        if not any(f" {css_key(key)[7:]} " in s for s in used):
            found.add(key, f"this control was not there to use; used: {used}")
    if not any("colour_time" in s for s in done["Diagram"]):
        found.add("Diagram", f"“Colour by measured time” stayed disabled after profiling; used: {done['Diagram']}")
    found.assert_none()


# The text of every headline number in a scope that runs past its own box (its column): [label, value, overflow px].
OVERFLOW = """(scope) => Array.from(document.querySelectorAll(scope + ' [data-testid="stMetric"]')).map((m) => {
  const value = m.querySelector('[data-testid="stMetricValue"]');
  const range = document.createRange(); range.selectNodeContents(value);
  const label = m.querySelector('[data-testid="stMetricLabel"]');
  return [label ? label.innerText.trim() : '', value.innerText.trim(),
          range.getBoundingClientRect().right - m.getBoundingClientRect().right];
}).filter((r) => r[2] > 1)"""


def test_latency_numbers_fit_their_columns_at_1100(app: App) -> None:
    app.page.set_viewport_size(SMALL)
    app.open("/build?preset=resnet50&view=Latency")
    app.short_measurements()
    app.set_number("build.batch_size", 8)  # times of a second or more: in s, not "2.11e+04 ms"
    app.act(app.keyed("build.measure", "button").click, timeout=MEASURE_TIMEOUT_MS)
    values = app.texts('.st-key-fresh_view [data-testid="stMetricValue"]')
    assert len(values) == 5 and not any("e+" in v for v in values), values
    assert app.page.evaluate(OVERFLOW, ".st-key-fresh_view") == []


def test_compare_every_view_and_control(app: App) -> None:
    app.open("/compare")
    found = Findings(app, "Compare")
    found.check("open")
    exercise(app, found, f".{css_key('app.metric')}", buttons=False)
    exercise(app, found, f".{css_key('compare.same_input')}", buttons=False)
    for view in COMPARE_VIEWS:  # the default pair, resnet50 and resnext50_32x4d: no measurement
        app.view("compare.view", view)
        found.check(f"view {view}")
        exercise(app, found, "[data-testid='stMain']", buttons=view == "Counts", where=f"{view}: ",
                 skip=lambda c: c["key"] in ("app-metric", "compare-view", "compare-same_input"))
    app.open(f"/compare?compare=resnet20,resnet32&threads={ONE_THREAD}")  # small networks to measure
    for view in COMPARE_VIEWS[1:4]:
        app.view("compare.view", view)
        steps = exercise(app, found, "[data-testid='stMain']", buttons=True, where=f"resnet20/32 {view}: ",
                         skip=lambda c: c["kind"] != "button")
        assert steps, f"no button on the {view} view"
    found.assert_none()


def test_fig3_measure_the_three_forms(app: App) -> None:
    app.open("/fig3")
    found = Findings(app, "Fig. 3 lab")
    found.check("open")
    app.wait(app.keyed("fig3.measure", "button"))
    exercise(app, found, "[data-testid='stMain']", buttons=False)
    app.short_measurements()
    app.page.evaluate("window.__progress = []")
    app.act(app.keyed("fig3.measure", "button").click, timeout=MEASURE_TIMEOUT_MS)
    found.check("Measure the three forms")
    bars = app.page.evaluate("window.__progress")
    assert bars and bars[-1][0].endswith("done") and bars[-1][1] == 100, bars[-3:]
    table = app.page.locator('[data-testid="stDataFrame"]').first
    app.wait(table)
    assert any("Form (a) takes" in t for t in app.texts('[data-testid="stMarkdownContainer"] li'))
    table.scroll_into_view_if_needed()
    app.screenshot("fig3_measured")
    app.click_option("fig3.net_size", "32×32")  # the smallest network check
    steps = exercise(app, found, "[data-testid='stMain']", buttons=True,
                     skip=lambda c: c["key"] == "fig3-measure" or c["kind"] != "button")
    assert len(steps) == 2, steps  # time every layer; check the network
    found.assert_none()


def test_design_controls_and_stopped_measurements(app: App) -> None:
    """Every control; each measure button is started, then stopped by a click elsewhere (Table 3 and 4 networks
    are large): the page keeps working and says it stopped."""
    app.open("/design")
    found = Findings(app, "Design space")
    found.check("open")
    steps = exercise(app, found, "[data-testid='stMain']", buttons=False)
    assert any("design-timing" in s for s in steps), steps  # the toggle that shows the measure buttons is on
    app.short_measurements()
    for key in ("design.measure_table3_50", "design.measure_table4"):
        button = app.wait(app.keyed(key, "button"))
        since = app.mark()
        button.click()
        app.wait(app.page.locator('[data-testid="stProgress"]').first, TIMEOUT_MS)
        app.page.wait_for_timeout(500)
        app.option("app.metric", "FLOPs").click()  # a click elsewhere stops the measurement
        app.settle(since, timeout=MEASURE_TIMEOUT_MS)
        found.check(f"{key}, stopped")  # the note and the partial result: test_click_during_measurement_…
        app.click_option("app.metric", "MACs")
    found.assert_none()


# --- 2. the layout fits -------------------------------------------------------------------------------
def test_layout_fits(app: App) -> None:
    """Each page at its defaults, at 1100×800 then 1500×1000: nothing a person reads is cut off."""
    cut_off: dict[str, list] = {}
    for name, path in PAGES.items():
        app.page.set_viewport_size(SMALL)
        app.open(path)
        for size in (SMALL, LARGE):
            if size is LARGE:
                app.page.set_viewport_size(size)
                app.page.wait_for_timeout(500)  # the new layout settles
                app.settle()
            app.wait(app.page.locator("h1").first)
            if name == "Build" and size is SMALL:
                app.screenshot("build_1100x800")
                scroller = app.page.locator('[data-testid="stDataFrame"] .dvn-scroller').first  # the stage table
                app.wait(scroller)
                widths = scroller.evaluate("e => [e.scrollWidth, e.clientWidth]")
                assert widths[0] <= widths[1] + 1, f"the stage table scrolls sideways at 1100×800: {widths}"
            cut = app.page.evaluate(CUT)
            if cut:
                cut_off[f"{name} at {size['width']}×{size['height']}"] = cut
    # the check itself sees a cut element: a headline number squeezed into 40 px
    app.page.evaluate("""() => { const d = document.createElement('div'); d.dataset.testid = 'stMetricValue';
        d.style.cssText = 'width:40px;white-space:nowrap;overflow:hidden'; d.innerText = '25,557,032 parameters';
        document.body.appendChild(d); }""")
    assert any(c["text"].startswith("25,557,032") for c in app.page.evaluate(CUT))
    assert not cut_off, json.dumps(cut_off, indent=1, ensure_ascii=False)


# --- 3. names follow the architecture ------------------------------------------------------------------
def test_names_follow_the_architecture(app: App) -> None:
    app.open("/build")
    app.choose("build.preset", "resnet50")
    app.set_number("build.cardinality", 32)
    app.set_number("build.base_width", 4)
    name = get_preset("resnext50_32x4d").name
    assert app.title() == f"Build — {name}"
    assert app.keyed("build.preset", "input").input_value() == name
    assert app.number("build.name") == name
    assert params_of(get_preset(name)) in app.metric_exacts()
    app.view("build.view", "Spec & export")
    with app.page.expect_download() as download:
        app.act(app.keyed("build.spec_download", "button").click, start_ms=1_000)
    assert download.value.suggested_filename == f"{name}.json"
    assert json.loads(Path(download.value.path()).read_text())["cardinality"] == 32
    app.click_option("build.downsample_on", "1x1")
    assert app.title() == f"Build — {name} (edited)"


# --- 4. invalid input keeps the last valid results ------------------------------------------------------
def test_invalid_input_keeps_last_valid_results(app: App) -> None:
    app.open("/build?preset=resnext50_32x4d")
    want = params_of(get_preset("resnext50_32x4d"))
    assert want == "25,028,904"
    app.set_stage("widths", 0, 8)
    assert app.stage("widths", 0) == "8"  # the typed value stays visible
    assert want in app.metric_exacts()
    warnings = app.alerts("Warning")
    assert any("last valid architecture" in w and "resnext50_32x4d" in w for w in warnings), warnings
    assert app.page.locator(".st-key-stale").count() == 1  # the stale numbers are marked (dimmed)
    editor = app.page.locator(EDITOR)
    errors = editor.locator('[data-testid="stAlertContentError"]')
    assert any("Width d" in e for e in errors.all_inner_texts()), errors.all_inner_texts()
    assert near(app, "build.base_width", errors.filter(has_text="Width d").first)
    app.set_stage("widths", 0, 64)  # fixed: fresh again
    assert app.page.locator(".st-key-stale").count() == 0
    assert errors.count() == 0
    app.set_stage("depths", 0, 99999)
    message = errors.filter(has_text="Depth · stage 1")
    assert message.count() == 1 and message.first.is_visible(), errors.all_inner_texts()
    assert near(app, app.stage_box("depths", 0)[0], message.first)
    assert want in app.metric_exacts()
    assert app.stage("depths", 0) == "99999"


def test_number_boxes_say_what_is_wrong_with_what_was_typed(app: App) -> None:
    """2.5 is not rounded to 2 unseen; a 20-digit value gets a message, not a bare "!"."""
    app.open("/build?preset=resnext50_32x4d")
    errors = app.page.locator(f"{EDITOR} [data-testid='stAlertContentError']")
    for typed, words in (("2.5", "must be an integer, got float 2.5"), ("1" + "0" * 19, "must be between 1 and")):
        app.set_number("build.cardinality", typed)
        app.wait(errors.filter(has_text="Cardinality C").first)
        assert any(words in t for t in errors.all_inner_texts()), errors.all_inner_texts()
        assert params_of(get_preset("resnext50_32x4d")) in app.metric_exacts()
    app.set_number("build.cardinality", "32")
    assert errors.count() == 0 and app.title() == "Build — resnext50_32x4d"


# --- 5. links reproduce every page's state ----------------------------------------------------------------
def test_links_reproduce_build_and_compare(app: App) -> None:
    app.open("/build?preset=resnet50&downsample_on=1x1&view=Diagram&metric=flops")
    assert not app.alerts("Warning"), app.alerts()
    assert app.checked("build.view") == "Diagram"
    assert app.checked("app.metric") == "FLOPs"
    assert app.checked("build.downsample_on") == "1x1"
    v1 = get_preset("resnet50").edit(downsample_on="1x1")
    assert exact(2 * analyze(v1).macs) in app.metric_exacts()  # FLOPs = 2 × MACs, stride on the 1×1
    app.wait(app.keyed("build.svg", "button"))  # the diagram view is the one shown

    app.open("/compare?compare=resnet18,resnet34&h=160&w=160")
    chosen = app.tags("compare.configs")
    assert chosen == ["resnet18", "resnet34"], chosen
    assert app.number("compare.h") == "160" and app.number("compare.w") == "160"
    assert app.keyed("compare.same_input", "input").is_checked()
    text = app.page.inner_text("[data-testid='stMain']")
    for preset in ("resnet18", "resnet34"):
        assert exact(analyze(get_preset(preset), (3, 160, 160)).macs) in text, preset


def test_links_reproduce_fig3_and_design(app: App) -> None:
    app.open("/fig3?cardinality=8&d=8")
    assert app.number("fig3.cardinality") == "8" and app.number("fig3.d") == "8"
    convs = [t for t in app.metric_values() if t.isdigit()]  # "Convolutions": 3·C, 2·C + 1, 3
    assert convs == ["24", "17", "3"], app.metric_values()
    app.open("/design?cardinality=4")
    assert app.number("design.cardinality") == "4"
    d = width_for(4, target_params=69_632).d
    assert str(d) in app.metric_values(), app.metric_values()


def test_partial_links_name_the_bad_parameter(app: App) -> None:
    app.open("/build?preset=resnet50&depths=3,x,6,3&block=basic")
    good = get_preset("resnet50").edit(block="basic")
    assert app.checked("build.block") == "basic"
    assert params_of(good) in app.metric_exacts()
    assert app.title() == f"Build — {good.name}"
    warning = " ".join(app.alerts("Warning"))
    assert "depths" in warning and "Depth" in warning, warning

    app.open("/compare?compare=resnet50")
    chosen = app.tags("compare.configs")
    assert chosen == ["resnet50"], chosen
    assert any("at least two" in t for t in app.alerts("Info")), app.alerts()

    app.open("/compare?compare=resnet50,bogus,resnet18")
    assert any("bogus" in t for t in app.alerts("Warning")), app.alerts()
    chosen = app.tags("compare.configs")
    assert chosen == ["resnet50", "resnet18"], chosen


# --- 6. uploads -------------------------------------------------------------------------------------------
def test_uploads_refused_beside_the_uploader(app: App, tmp_path: Path) -> None:
    app.open("/build?preset=resnet50&view=Spec%20%26%20export")
    uploader = app.keyed("build.upload", "input[type=file]")
    app.wait(uploader, state="attached")
    near = f"[data-testid='stMain'] .{css_key('build.upload')} ~ div [data-testid='stAlertContentError']"
    text = tmp_path / "spec.txt"
    text.write_text(get_preset("resnet18").to_json())
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"name": "x" * (3 * 2**19)}))  # 1.5 MiB
    invalid = tmp_path / "invalid.json"
    invalid.write_text('{"block": "bottleneck", "depths": [3, 4]')  # not even JSON
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**get_preset("resnet18").to_dict(), "depths": [2, 2, 2, -1]}))
    want = params_of(get_preset("resnet50"))
    for file, words in ((text, ["spec.txt", ".json"]), (big, ["big.json", "MiB"]), (invalid, ["invalid.json"]),
                        (wrong, ["wrong.json", "Depth"])):
        app.act(lambda f=file: app.keyed("build.upload", "input[type=file]").set_input_files(str(f)))
        refusal = app.page.locator(near)
        app.wait(refusal.first)  # the upload itself takes a moment before its run starts
        app.settle()
        assert refusal.count() == 1, (file.name, app.alerts())
        message = refusal.first.inner_text()
        assert all(w in message for w in words), (words, message)
        assert want in app.metric_exacts()  # the architecture is unchanged
        app.click_option("app.metric", "FLOPs" if app.checked("app.metric") == "MACs" else "MACs")  # another action
        assert app.page.locator(near).count() == 0, f"the refusal of {file.name} stayed after another action"
    app.act(lambda: app.keyed("build.upload", "input[type=file]").set_input_files(str(ROOT / "assets" /
                                                                                     "example_spec.json")))
    app.wait(app.page.locator('[data-testid="stAlertContentSuccess"]', has_text="example_spec.json").first)
    app.settle()
    example = ArchSpec.from_json((ROOT / "assets" / "example_spec.json").read_text())
    assert params_of(example) == "13,537,700"
    assert params_of(example) in app.metric_exacts()
    assert app.title() == f"Build — {example.name}"
    assert any("Loaded example_spec.json" in t for t in app.alerts("Success")), app.alerts()


def test_the_onnx_download_opens_alone_and_computes_what_torch_computes(app: App) -> None:
    """The downloaded file is all there is: ``onnx.load`` and onnxruntime open it, with torch's outputs."""
    pytest.importorskip("onnxruntime")
    from tests.conftest import onnx_outputs_vs_torch

    app.open("/build?preset=resnet20&view=Spec%20%26%20export")
    with app.page.expect_download(timeout=MEASURE_TIMEOUT_MS) as download:
        app.act(app.wait(app.keyed("build.onnx_download", "button")).click, start_ms=1_000)
    assert download.value.suggested_filename == "resnet20.onnx"
    data = Path(download.value.path()).read_bytes()
    assert onnx_outputs_vs_torch(data, get_preset("resnet20")) < 1e-4


# --- 7. a click during a long measurement stops it and keeps the partial result -----------------------------
def test_click_during_measurement_keeps_partial_result(app: App) -> None:
    # networks slow enough (≥ 6 rounds of ~0.5 s at one thread) that the click lands long before the end
    app.open(f"/compare?compare=resnet50,resnet101&view=Latency&threads={ONE_THREAD}")
    button = app.keyed("compare.measure", "button")
    app.wait(button)
    before = app.checked("app.metric")
    assert before in ("MACs", "FLOPs"), before
    other = "FLOPs" if before == "MACs" else "MACs"  # a change, whatever the tab started with
    since = app.mark()
    button.click()
    app.page.wait_for_function("""() => { const b = document.querySelector('[data-testid="stProgress"]');
        return b && /timing/.test(b.innerText); }""", timeout=TIMEOUT_MS)
    app.option("app.metric", other).click()  # another control, while it runs
    app.page.wait_for_function(r"""() => { const t = document.querySelector('[data-testid="stMain"]').innerText;
        return /Stopped early|before the first timed run|has [\d.]+× the/.test(t); }""", timeout=MEASURE_TIMEOUT_MS)
    app.settle(since, timeout=MEASURE_TIMEOUT_MS)
    assert not app.problems(), app.problems()
    assert app.checked("app.metric") == other  # the click was not lost
    notes = " ".join(app.alerts("Info"))
    assert "Stopped early" in notes or "before the first timed run" in notes, app.alerts()
    text = app.page.inner_text("[data-testid='stMain']")
    if "Stopped early" in notes:  # the partial result: the verdict sentence of the runs made so far
        assert re.search(r"resnet101 has [\d.]+× the (MACs|FLOPs) of resnet50 and (takes|shows)", text), text[-2000:]


# --- 8. a comparison with a verdict ----------------------------------------------------------------------
def test_compare_verdict_with_confidence_interval(app: App) -> None:
    app.open(f"/compare?compare=resnet20,resnet56&view=Latency&threads={ONE_THREAD}")
    app.page.evaluate("window.__progress = []")
    app.act(app.keyed("compare.measure", "button").click, timeout=MEASURE_TIMEOUT_MS)
    assert not app.problems(), app.problems()
    bars = app.page.evaluate("window.__progress")
    assert bars and bars[-1][0].endswith("done") and bars[-1][1] == 100, bars[-3:]
    verdict = next((t for t in app.texts('[data-testid="stMarkdownContainer"] p') if t.startswith("resnet56 has")),
                   None)
    assert verdict is not None, app.page.inner_text("[data-testid='stMain']")[-2000:]
    assert "confidence at least 95% (here " in verdict and "paired rounds" in verdict, verdict
    macs = analyze(get_preset("resnet56")).macs / analyze(get_preset("resnet20")).macs
    assert f"{macs:.3g}× the MACs of resnet20" in verdict, verdict
    chart = app.keyed("compare.ratio_chart")
    app.wait(chart)
    chart.scroll_into_view_if_needed()
    assert chart.locator(".main-svg").count() > 0  # plotly drew it
    app.screenshot("compare_verdict")
