"""The core: the spec and its fields, presets, the layer plan and its analysis, the vocabulary, bounds, errors.

Plain Python (no torch); imports nothing from the other layers."""
