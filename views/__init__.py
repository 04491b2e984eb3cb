"""Streamlit pages (listed explicitly by st.navigation in app.py) and their shared helpers."""
