"""Links that reproduce the whole state of every page: which parameters each page has, applying a link once
per session (what is valid applies, each bad parameter is named), and the Share button.

Each page's parameters are its ``PageState`` groups (parsed by their fields) plus, on pages that show the
Build architecture, the spec parameters of ``explorer.present.links`` (``?preset=p&k=v`` = ``get_preset(p).edit(k=v)``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from explorer import SpecError
from explorer.core.fields import label_of
from explorer.present.links import params_to_spec, parse_params, spec_to_params
from explorer.core.spec import SPEC_FIELDS
from explorer.core.vocab import md_code, md_text

from .state import METRIC, PageState, draft, load_spec, valid_spec

ERRORS = "links.errors"  # the problems of the link this session was opened with, shown once


@dataclass(frozen=True)
class PageLinks:
    """The link parameters of one page: its settings groups, whether it carries the Build spec, and any
    parameters of its own (``read`` applies them and returns their problems; ``write`` gives them)."""

    groups: tuple[PageState, ...]
    spec: bool = False
    own: tuple[str, ...] = ()
    read: Callable[[Mapping[str, Any]], list[SpecError]] | None = None
    write: Callable[[], dict[str, str]] | None = None


REGISTRY: dict[str, PageLinks] = {}


def register(url_path: str, links: PageLinks) -> PageLinks:
    """Declare a page's link parameters (pages do this at import; ``app.py`` imports them all)."""
    REGISTRY[url_path] = links
    return links


def apply_once(url_path: str) -> None:
    """On a session's first run, load the state the address describes into the page it opens."""
    if st.session_state.get("links.applied"):
        return
    st.session_state["links.applied"] = True
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    problems: list[SpecError] = []
    links = REGISTRY.get(url_path, PageLinks(()))
    known = {"metric"}
    for group in (METRIC, *links.groups):
        group.init()
        values, bad = parse_params(params, group.fields)
        group.apply(values)
        problems += bad
        known |= set(group.fields)
    if links.spec:
        spec, bad = params_to_spec(params)
        if spec is not None:
            draft()  # a valid architecture first, kept on screen if the link's is refused (over the work bound)
            load_spec(spec)
        problems += bad
        known |= {"preset", *SPEC_FIELDS}
    if links.read is not None:
        problems += links.read(params)
    known |= set(links.own)
    problems += [SpecError(k, "is not a setting of this page; ignored") for k in sorted(params) if k not in known]
    if problems:
        st.session_state[ERRORS] = problems


def show_problems() -> None:
    """The link's problems, each named, once (the next run no longer shows them)."""
    problems = st.session_state.pop(ERRORS, None)
    if problems:
        items = "\n".join(f"- **{md_text(_label(e.field))}** ({md_code(e.field)}): {md_text(e.reason)}"
                           for e in problems)  # a link's keys and values are user text: never markdown
        st.warning(f"Parts of this link could not be used; everything else in it applied.\n{items}",
                   icon=":material/link_off:")


def _label(key: str | None) -> str:
    for group in (METRIC, *(g for links in REGISTRY.values() for g in links.groups)):
        if key in group.fields:
            return group.fields[key].label
    return label_of(key, SPEC_FIELDS) if key else "link"


def params_of(url_path: str) -> dict[str, str]:
    """The link parameters that reproduce a page as it is now."""
    links = REGISTRY.get(url_path, PageLinks(()))
    params: dict[str, str] = {}
    if links.spec:
        params.update(spec_to_params(valid_spec()))
    if links.write is not None:
        params.update(links.write())
    for group in (*links.groups, METRIC):
        params.update(group.params())
    return params


def share(url_path: str) -> None:
    """Put the page's state into the address bar and offer the address to copy."""
    params = params_of(url_path)
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)
    base = (st.context.url or "").split("?")[0]
    with st.popover("Share", icon=":material/link:"):
        st.code(f"{base}?{urlencode(params)}" if params else base, language=None, wrap_lines=True)
        st.caption("Copy this address (button at the right of the box): it reproduces this page as you see it. "
                   "The address bar holds it too.")


__all__ = ["PageLinks", "REGISTRY", "apply_once", "params_of", "register", "share", "show_problems"]
