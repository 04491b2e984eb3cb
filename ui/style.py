"""The few CSS rules the layout needs, in one place: headline numbers that fit at 1100 px, a compact stage grid."""

from __future__ import annotations

import streamlit as st

_CSS = """
<style>
/* Less empty space above the title: the navigation bar already sits at the top. */
[data-testid="stMainBlockContainer"] { padding-top: 3rem; }
h1 { font-size: 2.2rem !important; }
/* Headline numbers: SI values with their unit fit four to a row at 1100 px. */
[data-testid="stMetricValue"] { font-size: 1.7rem; }
[data-testid="stMetricValue"] > div { overflow: visible; }
/* The architecture editor: +/- steppers would leave no room for a five-digit width in its narrow boxes. */
[class*="st-key-build_editor"] [data-testid="stNumberInputStepUp"],
[class*="st-key-build_editor"] [data-testid="stNumberInputStepDown"] { display: none; }
/* A stale result (the editor holds an invalid value) is shown dimmed. */
.st-key-stale, .st-key-stale_view { opacity: 0.55; }
</style>
"""


def apply() -> None:
    """Insert the rules (once per run, from app.py)."""
    st.html(_CSS)
