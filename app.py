"""Architecture Explorer — entry point: `streamlit run app.py`."""

import streamlit as st

from pages._shared import METRIC, METRIC_HELP

st.set_page_config(page_title="Architecture Explorer", page_icon="🧱", layout="wide")

page = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon="🏠", default=True),
        st.Page("pages/build.py", title="Build", icon="🛠️", url_path="build"),
        st.Page("pages/compare.py", title="Compare", icon="⚖️", url_path="compare"),
    ]
)
with st.sidebar:
    st.radio("Count multiply-adds as", ["MACs", "FLOPs"], key=METRIC, horizontal=True, help=METRIC_HELP,
             persist_state="session")
page.run()
