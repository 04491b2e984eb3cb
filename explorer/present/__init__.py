"""What the app and CLI show: tables, charts, the SVG diagram, share links. Plain Python (no torch); imports from
core and costs."""
