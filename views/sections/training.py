"""Build view of what training costs: memory by part, activations per stage, forward vs backward work, the largest
batch for a memory budget — all exact, from the plan — and one measured training step on request."""

from __future__ import annotations

from functools import lru_cache

import streamlit as st

from explorer import Analysis, ArchSpec, ExplorerError
from explorer.core.vocab import METRICS, binary, exact, ms, ms_range, multiply_adds, si, stopped
from ui import work
from ui.pages import BUILD_TRAIN
from ui.state import PageState, metric
from ui.widgets import NUMBER, error_text, field_message, measure_settings, number

PART_NAMES = {"weights": "weights", "buffers": "BN running statistics", "gradients": "gradients",
              "optimizer_state": "optimizer state", "saved_activations": "activations saved for backward",
              "input_batch": "input batch", "gradients_in_flight": "gradients in flight",
              "workspace": "workspace", "optimizer_temporaries": "optimizer temporaries"}


def controls(group: PageState = BUILD_TRAIN) -> tuple | None:
    """Batch, precision, optimizer and budget as widgets; the values, or None after a message beside the field."""
    group.init()
    f = group.fields
    c1, c2 = st.columns(2, vertical_alignment="bottom")
    c3, c4 = st.columns(2, vertical_alignment="bottom")
    with c1:
        number(group, "train_batch")
    c2.selectbox(f["precision"].label, f["precision"].choices, key=group.key("precision"),
                 format_func=f["precision"].choice_label, help=f["precision"].help, persist_state="session")
    c3.selectbox(f["optimizer"].label, f["optimizer"].choices, key=group.key("optimizer"),
                 format_func=f["optimizer"].choice_label, help=f["optimizer"].help, persist_state="session")
    with c4:
        st.number_input(f["budget_gb"].label, key=group.key("budget_gb"), step=1.0, format="%g",
                        help=f"{f['budget_gb'].help} ({f['budget_gb'].bounds_text()})", persist_state="session")
    error = group.check()
    field_message(error, f, *f)
    if error is not None:
        return None
    return tuple(group.get(k) for k in ("train_batch", "precision", "optimizer", "budget_gb"))


def training(spec: ArchSpec, analysis: Analysis) -> None:
    """Memory, work and the largest batch of one training step, exact; a measured step on request."""
    from explorer.costs.training import budget_from_gb, max_batch_size, train_cost

    st.markdown("What one training step (forward, backward, optimizer step) costs, computed from the layer plan: no "
                "model is built. *Saved activations* are exactly what autograd keeps for the backward pass — checked "
                "to the byte against PyTorch in the tests.")
    values = controls()
    if values is None:
        return
    batch, precision, optimizer, budget_gb = values
    try:
        cost = train_cost(spec, batch_size=batch, precision=precision, optimizer=optimizer)
        fits = max_batch_size(spec, budget_from_gb(budget_gb), precision=precision, optimizer=optimizer)
    except ExplorerError as e:
        st.error(error_text(e), icon=":material/error:")
        return
    m = metric()
    unit = METRICS[m].unit
    peak = cost.peak
    c1, c2 = st.columns(2)
    c3, c4 = st.columns(2)
    c1.metric("Peak memory (estimate)", binary(peak.total), f"{exact(peak.total)} bytes", delta_color="off",
              delta_arrow="off", help="weights + gradients + optimizer state + saved activations + the transient "
              "terms; an upper estimate (the tests check it against a measured CPU peak)")
    c2.metric("Saved activations", binary(cost.saved_activation_bytes), f"{exact(cost.saved_activation_bytes)} bytes",
              delta_color="off", delta_arrow="off", help="what autograd keeps for backward, each storage once")
    c3.metric(f"Training {unit}", si(multiply_adds(cost.forward_macs + cost.backward_macs, m), unit),
              f"forward {si(multiply_adds(cost.forward_macs, m))} + backward {si(multiply_adds(cost.backward_macs, m))}",
              delta_color="off", delta_arrow="off", help="backward = the gradient w.r.t. each layer's input (none for "
              "the first conv) and w.r.t. its weights: about twice the forward")
    c4.metric(f"Largest batch in {budget_gb:g} GB", exact(fits), delta=f"batch {batch} needs {binary(peak.total)}",
              delta_color="off", delta_arrow="off", help="the peak grows linearly with the batch; solved exactly")
    figure, stages, sizes = _pictures(spec, batch, precision, optimizer, m)
    st.plotly_chart(figure, key="build.train_memory")
    st.dataframe(stages, hide_index=True, column_config={c: NUMBER for c in stages.column_names if c != "Stage"})
    if st.toggle("Largest batch for common GPU sizes", key="build.train_sizes", persist_state="session"):
        st.dataframe(sizes, hide_index=True, column_config={"Largest batch": NUMBER})
        st.caption("The estimate leaves out the CUDA context and allocator caching (a few hundred MiB), which a "
                   "real GPU also needs.")
    if st.toggle("Measure a real training step on this machine", key="build.train_timing", persist_state="session"):
        _measured(spec, batch, precision, optimizer, peak.total)


@lru_cache(maxsize=64)
def _pictures(spec: ArchSpec, batch: int, precision: str, optimizer: str, m: str) -> tuple:
    """The memory bar, the per-stage table and the GPU-size table of one setting (built once, as Arrow tables)."""
    import pyarrow as pa

    from explorer.costs.training import train_cost
    from explorer.present.charts import share_stack
    from explorer.present.tables import gpu_batches_frame, train_stages_frame

    cost = train_cost(spec, batch_size=batch, precision=precision, optimizer=optimizer)
    figure = share_stack([(f"batch {batch}", [(PART_NAMES[k], v) for k, v in cost.peak.parts().items() if v])],
                         "Memory of one training step, by part", "bytes")
    stages, sizes = train_stages_frame(cost, m), gpu_batches_frame(cost)
    return figure, pa.Table.from_pandas(stages, preserve_index=False), pa.Table.from_pandas(sizes, preserve_index=False)


def _measured(spec: ArchSpec, batch: int, precision: str, optimizer: str, estimate: int) -> None:
    st.subheader("Measured training step")
    settings = measure_settings()
    if settings is None:
        return
    from explorer.measure.policies import BUILD_TRAIN_STEP
    from explorer.measure.train_step import measure_train_step

    r = work.button("Time one training step", "build.train_measure", "build.train_step",
                    (spec, settings, batch, precision, optimizer), lambda p, stop: measure_train_step(
                        spec, BUILD_TRAIN_STEP.apply(settings, batch_size=batch), precision=precision,
                        optimizer=optimizer, progress=p, should_stop=stop)[0], icon=":material/timer:")
    if r is not None:
        lat = r.latency
        c1, c2, c3 = st.columns(3)
        c1.metric("Median step", ms(lat.median_ms), f"p10–p90 {ms_range(lat.p10_ms, lat.p90_ms)}",
                  delta_color="off", delta_arrow="off")
        c2.metric("Images per second", f"{lat.throughput:,.1f}", f"{lat.runs} timed steps", delta_color="off",
                  delta_arrow="off")
        if r.measured_peak_bytes is not None:
            c3.metric("Measured peak (CUDA)", binary(r.measured_peak_bytes), f"estimate {binary(estimate)}",
                      delta_color="off", delta_arrow="off", help="torch.cuda.max_memory_allocated during the timed steps")
        st.caption(f"{lat.device_name} · {lat.device} · {precision} · {optimizer} · batch {lat.batch_size} · "
                   f"{lat.threads} thread(s) · {stopped(lat.stopped_by)}")
