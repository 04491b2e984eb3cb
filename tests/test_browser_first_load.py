"""The first load of a freshly started server, in a real browser: every slow wait says what it is doing.

A module of its own, so the ``server`` fixture (module scoped) is fresh: its first session is the one measured.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

# Every text a spinner shows, recorded as it appears (a spinner can come and go between two polls).
SPINNERS = """
window.__spinners = [];
new MutationObserver(() => {
  for (const s of document.querySelectorAll('[data-testid="stSpinner"]')) {
    const t = s.innerText.trim();
    if (t && !window.__spinners.includes(t)) window.__spinners.push(t);
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def test_a_measurement_view_opened_first_says_it_is_loading_pytorch(server: str, browser) -> None:  # noqa: ANN001
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    context.add_init_script(SPINNERS)
    page = context.new_page()
    try:
        page.goto(f"{server}/build?view=Latency", timeout=120_000)
        page.locator(".st-key-build-measure button").first.wait_for(timeout=180_000)
        seen = page.evaluate("window.__spinners")
        assert any(t.startswith("Loading PyTorch") and "once after the server starts" in t for t in seen), seen
        assert page.locator('[data-testid="stMetricValue"]').count() >= 4  # the headline numbers are there too
    finally:
        context.close()
