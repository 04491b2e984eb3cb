"""Measurement on a device: timing, latency, sweeps, roofline, time per layer, training steps, live counters,
fvcore, equivalence, and the views' measurement policies. Imports from core, costs and build."""
