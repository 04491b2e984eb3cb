"""Issue 22 in a real browser: user text from a link (a name, a parameter's key) shows as literal text in titles,
messages, cards and chart titles and legends, and the browser fetches nothing from anywhere but the app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest

pytestmark = pytest.mark.browser

IDLE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]');
}"""

# What a rendering of markup would create: a link or an image to elsewhere, math, a heading or emphasis inside
# a message, a coloured span from a Streamlit directive.
MARKUP = """() => {
  const found = [];
  for (const a of document.querySelectorAll('a[href]')) {
    const href = a.getAttribute('href');
    if (!href.startsWith('#') && /evil|8631/.test(href)) found.push('link ' + href);  // '#…': a heading's anchor
  }
  for (const img of document.querySelectorAll('img[src], image[href]')) {
    const src = img.getAttribute('src') || img.getAttribute('href');
    if (/evil|8631/.test(src)) found.push('image ' + src);
  }
  for (const el of document.querySelectorAll('.katex, mjx-container')) found.push('math ' + el.textContent);
  const nested = '[data-testid="stAlert"] :is(h1,h2,h3,h4,h5,h6), h1 [data-heading-text] :is(strong,em,a,code)';
  for (const el of document.querySelectorAll(nested))
    found.push('heading or emphasis ' + el.textContent);
  for (const el of document.querySelectorAll('.js-plotly-plot a, .js-plotly-plot text b'))
    found.push('plotly ' + el.textContent);
  for (const el of document.querySelectorAll('span[class*="red"], [style*="color: red"]'))
    found.push('colour ' + el.textContent);
  return found;
}"""

# The payloads, and the ones a renderer of markdown, HTML, Plotly or Streamlit would read.
NAMES = (
    "[phish](https://evil.example/login)",
    "![t](http://127.0.0.1:8631/t.png)",
    '<a href="https://evil.example/x">click</a> <img src=https://evil.example/i.png>',
    "**bold** _em_ `code` # not a heading",
    "$x^2$ and $$y$$ :red[red] :material/home:",
    "www.evil.example and https://evil.example/auto",
    "<b>b</b> &amp; &lt; 100% %{x}",
)


@pytest.fixture(scope="module")
def page(server: str, browser: Any) -> Iterator[Any]:  # noqa: ARG001
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    p = context.new_page()
    p.set_default_timeout(90_000)
    p.requests = []  # type: ignore[attr-defined]
    p.on("request", lambda r: p.requests.append(r.url))
    yield p
    context.close()


def _text(page: Any, selector: str) -> str:
    """What a person reads (the invisible word joiners that stop an address becoming a link removed)."""
    return " ".join(page.locator(selector).all_inner_texts()).replace("\u2060", "").strip()


def _open(page: Any, url: str, charts: bool = False) -> None:
    page.goto(url)
    page.wait_for_selector("h1")
    page.wait_for_function(IDLE)
    if charts:
        page.wait_for_selector(".js-plotly-plot .gtitle")
    page.wait_for_timeout(300)


def _outside(page: Any, server: str) -> list[str]:
    """Requests that went anywhere but the app's own address (data: and blob: URLs stay in the browser)."""
    here = urlsplit(server).netloc
    return [u for u in page.requests if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != here]


@pytest.mark.parametrize("name", NAMES)
def test_a_name_shows_as_written_everywhere_and_fetches_nothing(page: Any, server: str, name: str) -> None:
    page.requests.clear()
    _open(page, f"{server}/build?{urlencode({'preset': 'resnet50', 'name': name, 'view': 'Charts'})}", charts=True)
    assert _text(page, "h1") == f"Build — {name}"
    titles = page.eval_on_selector_all(".js-plotly-plot .gtitle", "els => els.map(e => e.textContent)")
    assert any(t.endswith(f"— {name}") for t in titles), titles  # the chart's own title, literally
    assert page.evaluate(MARKUP) == []

    _open(page, f"{server}/compare?{urlencode({'preset': 'resnet50', 'name': name, 'compare': 'resnet18,build'})}",
          charts=True)
    cards = _text(page, "[data-testid='stMain']")
    assert f"★ Build page: {name}" in cards
    legends = page.eval_on_selector_all(".js-plotly-plot .legendtext", "els => els.map(e => e.textContent)")
    assert f"2. {name}" in legends, legends
    assert page.evaluate(MARKUP) == []
    assert _outside(page, server) == []


def test_a_bad_link_parameter_is_named_as_written(page: Any, server: str) -> None:
    """The "parts of this link" warning shows the keys and values of the link as text, never as markup."""
    page.requests.clear()
    keys = {"[k](https://evil.example/k)": "1", "![i](https://evil.example/i.png)": "2", "depths": "3,$x$,6"}
    _open(page, f"{server}/build?preset=resnet50&" + "&".join(f"{quote(k)}={quote(v)}" for k, v in keys.items()))
    warning = _text(page, "[data-testid='stAlertContentWarning']")
    for key in keys:
        assert key in warning, warning
    assert "'3,$x$,6'" in warning or "$x$" in warning, warning
    assert page.evaluate(MARKUP) == []
    assert _outside(page, server) == []


def test_an_unprintable_name_is_refused_by_field(page: Any, server: str) -> None:
    query = urlencode({"preset": "resnet50", "name": "two\nlines"})
    _open(page, f"{server}/build?{query}")
    assert _text(page, "h1") == "Build — resnet50"
    warning = _text(page, "[data-testid='stAlertContentWarning']")
    assert "Name" in warning and "control character (U+000A)" in warning, warning
