"""Real-browser test: `streamlit run app.py` on a free port, driven by Playwright and Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 90_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
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
                raise RuntimeError(f"streamlit did not start:\n{proc.stdout.read() if proc.stdout else ''}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        message = f"Chromium is missing at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def wait_idle(page) -> None:  # noqa: ANN001
    """Wait until the script run finished: the running-status widget is gone."""
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=TIMEOUT_MS)


def metric_values(page) -> list[str]:  # noqa: ANN001
    return page.locator('[data-testid="stMetricValue"]').all_inner_texts()


def test_build_page_shows_exact_params_and_switches_preset(server: str, browser) -> None:  # noqa: ANN001
    page = browser.new_page()
    page.goto(f"{server}/build", timeout=TIMEOUT_MS)
    page.get_by_text("25,557,032").first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    assert "25,557,032" in metric_values(page)

    preset = page.locator('[data-testid="stSelectbox"]').filter(has_text="Preset")
    preset.locator("input").click()
    page.keyboard.type("resnext50_32x4d")
    page.keyboard.press("Enter")
    page.get_by_text("25,028,904").first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    assert "25,028,904" in metric_values(page)
    assert "4.23 GMACs" in metric_values(page)
    page.screenshot(path=str(ROOT / "tests" / "_last_build.png"), full_page=True) if os.environ.get(
        "SCREENSHOTS") else None
    page.close()


def test_compare_page_default_pair_in_browser(server: str, browser) -> None:  # noqa: ANN001
    page = browser.new_page()
    page.goto(f"{server}/compare", timeout=TIMEOUT_MS)
    page.get_by_text("25,028,904").first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    values = metric_values(page)
    assert "25,557,032" in values and "25,028,904" in values
    # the sidebar switch is there on every page and doubles the counts
    page.locator('[data-testid="stSidebar"]').get_by_text("FLOPs", exact=True).click()
    page.get_by_text("8.46 GFLOPs").first.wait_for(timeout=TIMEOUT_MS)
    page.close()
