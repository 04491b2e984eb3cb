"""What the Streamlit pages share, in small modules with one job each.

- ``state``: session state — the page-settings schema (``PageState``), the Build page's draft architecture.
- ``links``: which link parameters each page has; applying a link once per session; the share button.
- ``editor``: the architecture editor (widgets from ``SPEC_FIELDS``; every change goes through ``edit_data``).
- ``widgets``: small shared widgets — metric switch, measurement settings, headline metrics, field messages.
- ``work``: long measurements with a real progress bar that reaches 100% and keeps a partial result when
  the person clicks elsewhere.
- ``cache``: cached library calls (analysis tables and figures by spec; built models, bounded).
- ``style``: the few CSS rules that make headline numbers and the editor fit.

Pages (``views/``) read widgets → a spec or settings → a cached library call → render. No arithmetic,
no torch modules built here: the library (``explorer``) does that.
"""
