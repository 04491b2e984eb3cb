"""Architecture Explorer — entry point: `streamlit run app.py`."""

import streamlit as st

from ui import cache, links, pages, style  # noqa: F401 - ui.pages registers every page's link parameters
from ui import warm

warm.start()  # torch, pandas, plotly load in the background from the first page anyone opens (ui/warm.py)

# An emoji icon is drawn in the browser; a ":material/…:" page icon is fetched from fonts.gstatic.com.
st.set_page_config(page_title="Architecture Explorer", page_icon="🧱", layout="wide")

page = st.navigation(
    [
        st.Page("views/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("views/build.py", title="Build", icon=":material/construction:", url_path="build"),
        st.Page("views/compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
        st.Page("views/fig3.py", title="Fig. 3 lab", icon=":material/call_split:", url_path="fig3"),
        st.Page("views/design.py", title="Design space", icon=":material/tune:", url_path="design"),
        st.Page("views/residual_lab.py", title="Residual lab", icon=":material/timeline:", url_path="residual_lab"),
    ],
    position="top",
)
style.apply()
links.apply_once(page.url_path)
warm.need(*warm.LIBRARIES)  # every page draws tables or charts: wait (saying so) if they are still loading
page.run()
cache.freeze_loaded()  # after the page: what it imported stays out of the collector's full passes
