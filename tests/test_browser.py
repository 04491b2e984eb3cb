"""Real-browser test: `streamlit run app.py` on a free port, driven by Playwright and Debian's Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 90_000


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


def test_shared_link_reproduces_the_view(server: str, browser) -> None:  # noqa: ANN001
    page = browser.new_page()
    page.goto(f"{server}/build?preset=resnet50&downsample_on=1x1&metric=FLOPs", timeout=TIMEOUT_MS)
    page.get_by_text("7.72 GFLOPs").first.wait_for(timeout=TIMEOUT_MS)  # 2 × 3,857,973,248: the ResNet paper's
    wait_idle(page)
    assert "25,557,032" in metric_values(page)
    assert "downsample_on=1x1" in page.url  # the address keeps describing the view
    page.close()


def test_tampered_link_gives_a_message_not_a_traceback(server: str, browser) -> None:  # noqa: ANN001
    page = browser.new_page()
    page.goto(f"{server}/build?preset=resnet50&depths=3,-4,6,3", timeout=TIMEOUT_MS)
    page.get_by_text("could not be used in full").first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("25,557,032").first.wait_for(timeout=TIMEOUT_MS)  # fell back to the default resnet50
    wait_idle(page)
    assert "depths" in page.locator('[data-testid="stAlert"]').first.inner_text()
    assert "Traceback" not in page.content()
    page.close()
