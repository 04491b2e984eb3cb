"""Build view of measured speed: the latency of one forward pass, and throughput against batch size."""

from __future__ import annotations

import streamlit as st

from explorer import Analysis, ArchSpec
from explorer.core.vocab import ms, ms_range, stopped
from ui import work
from ui.pages import BUILD_LATENCY
from ui.widgets import measure_settings, number

METHOD = ("Measured, not estimated: warm-up first, then timed runs (each synchronized on a GPU) until both a "
          "minimum count and a minimum time are reached; the median and the spread are reported. A click "
          "elsewhere stops a measurement at the end of the run in progress and keeps the runs made so far.")


def latency(spec: ArchSpec, analysis: Analysis) -> None:
    """Measured latency of one forward pass and a batch-size sweep, each on request."""
    from explorer.measure.latency import measure_latency
    from explorer.measure.roofline import roofline
    from explorer.measure.policies import BUILD_SWEEP
    from explorer.measure.sweep import throughput_sweep

    st.markdown(METHOD)
    BUILD_LATENCY.init()
    settings = measure_settings(BUILD_LATENCY)
    if settings is None:
        return
    result = work.button("Measure latency", "build.measure", "build.latency", (spec, settings), lambda p, stop: _measured(
        measure_latency(spec, settings, progress=p, should_stop=stop), analysis, roofline), type="primary",
        icon=":material/timer:")
    if result is not None:
        _show_latency(*result)

    st.subheader("Throughput vs batch size")
    c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
    with c1:
        number(BUILD_LATENCY, "time_budget_s")
    error = BUILD_LATENCY.check()
    budget = BUILD_LATENCY.get("time_budget_s")
    with c2:
        sweep = work.button("Run the batch-size sweep", "build.sweep", "build.sweep",
                            (spec, settings.edit(batch_size=1), budget), lambda p, stop: throughput_sweep(
                                spec, BUILD_SWEEP.apply(settings), time_budget_s=float(budget),
                                progress=p, should_stop=stop), icon=":material/stacked_line_chart:",
                            disabled=error is not None)
    if sweep is not None:
        from explorer.present.charts import sweep_chart

        if sweep.results:
            st.plotly_chart(sweep_chart(sweep), key="build.sweep_chart")
        st.info(f"Sweep: {sweep.message}.", icon=":material/info:")


def _measured(result, analysis: Analysis, roofline):  # noqa: ANN001, ANN202
    return result, roofline(result, analysis.macs)


def _show_latency(r, roof) -> None:  # noqa: ANN001
    from explorer.present.charts import latency_histogram

    top, bottom = st.columns(3), st.columns(3)  # two rows: five numbers with units do not fit one row at 1100 px
    top[0].metric("Median", ms(r.median_ms), help="per forward pass of the whole batch")
    top[1].metric("p10 – p90", ms_range(r.p10_ms, r.p90_ms), help=f"IQR {ms(r.iqr_ms)}, mean {ms(r.mean_ms)} ± "
                  f"{ms(r.std_ms)} over {r.runs} runs")
    top[2].metric("Throughput", f"{r.throughput:,.3g} img/s", help="batch size ÷ median")
    bottom[0].metric("Achieved", f"{roof['achieved_macs_per_s'] / 1e9:,.1f} GMAC/s",
                     help="MACs per image × batch ÷ median: multiply-accumulates per second")
    bottom[1].metric("Of the peak", f"{roof['percent_of_peak']:.0f}%",
                     help=f"the device's matmul peak, {roof['peak_macs_per_s'] / 1e9:,.1f} GMAC/s, measured on the "
                     "same device and dtype (a roofline view: convolutions rarely reach it)")
    st.caption(f"{r.device_name} · {r.device} · {r.dtype} · batch {r.batch_size} · {r.threads} thread(s) · "
               f"channels_last {'on' if r.channels_last else 'off'} · {r.runs} runs after {r.warmup_runs} warm-up · "
               f"{stopped(r.stopped_by)}")
    st.plotly_chart(latency_histogram(r), key="build.latency_hist")


def time_per_layer(spec: ArchSpec, analysis: Analysis) -> None:
    """Measured time per layer beside exact MACs per layer: per kind, per stage, on the roofline, and every layer."""
    from explorer.measure.layer_time import time_layers
    from explorer.measure.policies import BUILD_LAYER_TIMES

    st.markdown("Every layer timed with hooks around its module (the plain network timed in the same rounds), so "
                "its measured time sits beside its exact MACs. " + METHOD.split(". ", 1)[1])
    BUILD_LATENCY.init()
    settings = measure_settings(BUILD_LATENCY)
    if settings is None:
        return
    profile = work.button("Profile every layer", "build.profile", "build.profile", (spec, settings),
                          lambda p, stop: time_layers(spec, BUILD_LAYER_TIMES.apply(settings), progress=p,
                                                      should_stop=stop)[0], type="primary", icon=":material/timer:")
    if profile is not None:
        show_profile(profile, "build")


def show_profile(profile, key: str) -> None:  # noqa: ANN001 - an explorer.measure.layer_time.LayerProfile
    """A profile's finding, its shares per kind and stage, the roofline and the per-layer table with CSV."""

    from explorer.present.charts import roofline_chart, share_bars
    from explorer.present.tables import layer_times_frame, to_csv
    from explorer.core.vocab import slug

    st.markdown(f"**{profile.finding()}**")
    st.caption(profile.summary())
    c1, c2 = st.columns(2)
    c1.plotly_chart(share_bars(profile.groups("kind"), "Time and MACs per kind of layer", "kind"),
                    key=f"{key}.time_kinds")
    c2.plotly_chart(share_bars(profile.groups("stage"), "Time and MACs per stage", "stage"), key=f"{key}.time_stages")
    st.plotly_chart(roofline_chart(profile), key=f"{key}.roofline")
    frame = layer_times_frame(profile)
    st.download_button("Download the per-layer times (CSV)", to_csv(frame),
                       f"{slug(profile.name)}_layer_times.csv", "text/csv", key=f"{key}.profile_csv",
                       icon=":material/download:")
    st.dataframe(frame, hide_index=True, column_config={c: st.column_config.NumberColumn(format="localized")
                                                         for c in ("MACs", "Bytes moved")})
