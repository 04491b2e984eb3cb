"""The views of the Build and Compare pages, one module per theme; each view is a function of the spec (or the
comparison) that renders with Streamlit."""
