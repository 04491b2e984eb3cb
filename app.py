"""Architecture Explorer — entry point: `streamlit run app.py`."""

import streamlit as st

st.set_page_config(page_title="Architecture Explorer", page_icon="🧱", layout="wide")

page = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon="🏠", default=True),
        st.Page("pages/build.py", title="Build", icon="🛠️", url_path="build"),
        st.Page("pages/compare.py", title="Compare", icon="⚖️", url_path="compare"),
    ]
)
page.run()
