"""Residual lab: why shortcuts work (the ResNet paper's lesson), measured live on real images."""

import pandas as pd
import streamlit as st

from explorer import SpecError, analyze
from explorer.lab.batchnorm import DEFAULT_ROWS, BNSettings
from explorer.lab.findings import (
    degradation_findings,
    gradient_findings,
    lesion_findings,
    pct,
    response_findings,
    shortcut_rows,
)
from explorer.lab.settings import (
    DATASET_SHAPES,
    RESIDUAL_SHORTCUTS,
    DegradationSettings,
    GradientSettings,
    label,
    parse_layers,
)
from explorer.lab.twins import twins
from explorer.core.vocab import METRICS
from ui import lab, links
from ui.pages import LAB
from ui.state import metric, valid_spec
from ui.widgets import MEASURE, count, devices, header, number, unit

F = LAB.fields
# which page widget shows a settings error: the settings name "layers", the page edits "layers_text"
WIDGET_OF = {"layers": "layers_text", "base": "use_build", "spec": "use_build"}


def problem(e: SpecError, *names: str) -> bool:
    """Show ``e`` beside the first of ``names`` it is about (in its visible label); True if shown."""
    key = WIDGET_OF.get((e.field or "").split("[")[0], (e.field or "").split("[")[0])
    if key not in names and e.field not in names:
        return False
    st.error(f"**{label(e.field)}** — {e.reason}", icon=":material/error:")
    return True


def device() -> tuple[str, int | None] | None:
    """The device picker shared by every page that runs something (device and CPU threads)."""
    MEASURE.init()
    info = devices()
    if MEASURE.get("device") not in info:
        st.session_state[MEASURE.key("device")] = "cpu"
    f = MEASURE.fields
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    c1.selectbox(f["device"].label, list(info), key=MEASURE.key("device"), format_func=lambda d: info[d].label,
                 help=f["device"].help, persist_state="session")
    on_cpu = MEASURE.get("device") == "cpu"
    with c2:
        number(MEASURE, "threads", disabled=not on_cpu)
    try:
        threads = f["threads"].check(MEASURE.get("threads")) if on_cpu else None
    except SpecError as e:
        st.error(f"**{f['threads'].label}** — {e.reason}", icon=":material/error:")
        return None
    return MEASURE.get("device"), threads


def nets_table(nets: tuple) -> None:  # noqa: ANN001 - twins.Net
    st.dataframe(pd.DataFrame([{"Net": n.label, "Layers": n.depth, "Parameters": analyze(n.spec).params,
                                METRICS[metric()].unit: count(analyze(n.spec).macs)} for n in nets]),
                 hide_index=True, column_config={"Parameters": st.column_config.NumberColumn(format="localized"),
                                                 METRICS[metric()].unit: st.column_config.NumberColumn(
                                                     format="localized")})


def _probe_key(kind: str, result):  # noqa: ANN001, ANN202 - the trained weights: the settings and epochs run
    return (kind, result.settings, tuple((r.label, r.seed, r.epochs) for r in result.runs))


@st.cache_data(max_entries=32, show_spinner=False)
def _bn(s: BNSettings):  # noqa: ANN202 - a BNReport
    from explorer.lab.batchnorm import batchnorm_report

    return batchnorm_report(s)


def degradation() -> tuple:
    """Section 1: the plain and residual nets trained alike (Fig. 6). Returns the settings (None while a field is
    wrong) and the trained result (None until trained), which the later sections build on."""
    st.header("1 · Degradation, trained live")
    cols = st.columns(4, vertical_alignment="bottom")
    cols[0].selectbox(F["dataset"].label, F["dataset"].choices, key=LAB.key("dataset"), help=F["dataset"].help,
                      format_func=F["dataset"].choice_label, persist_state="session")
    cols[1].text_input(F["layers_text"].label, key=LAB.key("layers_text"), help=F["layers_text"].help,
                       persist_state="session")
    with cols[2]:
        number(LAB, "width")
    cols[3].segmented_control(F["shortcut"].label, RESIDUAL_SHORTCUTS, key=LAB.key("shortcut"), required=True,
                              help=F["shortcut"].help, persist_state="session")
    if LAB.get("dataset") == "cifar10":
        st.text_input(F["data_dir"].label, key=LAB.key("data_dir"), help=F["data_dir"].help, persist_state="session",
                      placeholder="/data/cifar10 (holding cifar-10-batches-py)")
    cols = st.columns(6, vertical_alignment="bottom")
    for col, name in zip(cols, ("epochs", "seeds", "train_images", "batch_size")):
        with col:
            number(LAB, name)
    cols[4].number_input(F["lr"].label, key=LAB.key("lr"), step=0.01, format="%.4g", help=F["lr"].help,
                         persist_state="session")
    cols[5].number_input(F["max_seconds"].label, key=LAB.key("max_seconds"), step=30.0, format="%.0f",
                         help=F["max_seconds"].help, persist_state="session")
    st.toggle(F["use_build"].label, key=LAB.key("use_build"), help=F["use_build"].help, persist_state="session")
    where = device()

    settings = None
    page_error = LAB.check()
    shown = page_error is not None and problem(page_error, *F)
    if page_error is None and where is not None:
        try:
            settings = DegradationSettings(
                dataset=LAB.get("dataset"), data_dir=LAB.get("data_dir"), layers=parse_layers(LAB.get("layers_text")),
                width=LAB.get("width"), epochs=LAB.get("epochs"), seeds=LAB.get("seeds"),
                train_images=LAB.get("train_images"), batch_size=LAB.get("batch_size"), lr=float(LAB.get("lr")),
                shortcut=LAB.get("shortcut"), max_seconds=float(LAB.get("max_seconds")), device=where[0],
                threads=where[1], base=valid_spec() if LAB.get("use_build") else None)
        except SpecError as e:
            if not problem(e, *F):
                st.error(f"**{label(e.field)}** — {e.reason}", icon=":material/error:")

    result = None
    if settings is not None:
        size, classes = DATASET_SHAPES[settings.dataset]
        nets = twins(settings.layers, settings.width, settings.shortcut, size, classes, plain=True, base=settings.base)
        nets_table(nets)
        st.caption(f"Input {size[0]}×{size[1]}×{size[2]}, {classes} classes; parameters and {unit()} per image, exact "
                   "(the plain twins have the same layers; with option A, the same parameters). SGD: momentum 0.9, weight "
                   "decay 1e-4, learning rate ÷10 at 50% and 75% of the epochs; seeds 0, 1, ….")

        def _train(progress, should_stop):  # noqa: ANN001, ANN202
            from explorer.lab.train import run_degradation

            return run_degradation(settings, progress=progress, should_stop=should_stop)

        result = lab.button("Train the nets", "degradation", settings, _train, type="primary", icon=":material/play_arrow:")
    if result is not None:
        from explorer.lab.charts import degradation_figure

        st.plotly_chart(degradation_figure(result), key="lab.chart_fig6")
        for line in degradation_findings(result):
            st.markdown(f"- {line}")
        st.dataframe(pd.DataFrame([{
            "Net": n.label, "Train error": pct(result.end(n.label)) if result.end(n.label) else "—",
            "Test error": pct(result.end(n.label, "test_error")) if result.end(n.label) else "—",
            "s per epoch": round(sum(sum(r.epoch_seconds) for r in result.runs_of(n.label)) /
                                 max(1, sum(r.epochs for r in result.runs_of(n.label))), 2),
        } for n in result.nets]), hide_index=True)
        st.caption(f"{result.data} {result.epochs_done} epoch(s) × {result.settings.seeds} seed(s) in "
                   f"{result.total_seconds:.1f} s on {result.device} ({result.threads} thread(s)); ended: "
                   f"{result.stopped_by.replace('_', ' ')}. Training error: images misclassified during each epoch's "
                   "steps (train mode); test error: after each epoch, eval mode.")
    return settings, result


def gradient_flow(settings) -> None:  # noqa: ANN001 - DegradationSettings or None
    """Section 2: the gradients' norms at initialization, per block and per conv."""
    st.header("2 · Gradient flow")
    st.markdown("At initialization (no training, seconds): one batch of training images, a train-mode forward pass, "
                "cross-entropy, one backward pass. Per block, the norm of the loss gradient with respect to the block's "
                "output; per conv, with respect to its weight. The paper (§4.1) argues that its plain nets' difficulty is "
                "*not* vanishing gradients — batch norm keeps their norms healthy — and the norms below show what they "
                "are in these nets.")
    st.text_input(F["grad_layers_text"].label, key=LAB.key("grad_layers_text"), help=F["grad_layers_text"].help,
                  persist_state="session")
    grad_settings = None
    if settings is not None:
        try:
            grad_settings = GradientSettings(
                dataset=settings.dataset, data_dir=settings.data_dir,
                layers=parse_layers(LAB.get("grad_layers_text"), "grad_layers_text"), width=settings.width,
                shortcut=settings.shortcut, batch_size=settings.batch_size, device=settings.device,
                threads=settings.threads, base=settings.base)
        except SpecError as e:
            st.error(f"**{F['grad_layers_text'].label}** — {e.reason}", icon=":material/error:")
    if grad_settings is not None:
        def _gradients(progress, should_stop):  # noqa: ANN001, ANN202
            from explorer.lab.probes import gradient_flow

            return gradient_flow(grad_settings, progress=progress, should_stop=should_stop)

        flow = lab.button("Measure the gradients at initialization", "gradients", grad_settings, _gradients,
                          icon=":material/insights:")
        if flow is not None:
            from explorer.lab.charts import gradient_figure

            left, right = st.columns(2)
            left.plotly_chart(gradient_figure(flow, "blocks"), key="lab.chart_grad_blocks")
            right.plotly_chart(gradient_figure(flow, "convs"), key="lab.chart_grad_convs")
            for line in gradient_findings(flow.flows):
                st.markdown(f"- {line}")
            st.caption(f"{flow.data} Batch {grad_settings.batch_size}, seed {grad_settings.seed}; "
                       f"{flow.total_seconds:.1f} s.")


def responses(result) -> None:  # noqa: ANN001 - DegradationResult or None
    """Section 2, continued: the trained nets' response std per 3×3 layer (Fig. 7)."""
    st.subheader("Responses of the trained nets (Fig. 7)")
    st.markdown("The standard deviation of each 3×3 layer's output after BN, before the ReLU or the addition, on the "
                "test images. The paper finds ResNets' responses generally smaller than their plain twins': the residual "
                "functions stay close to zero.")

    if result is None:
        st.info("Train the nets in section 1 first.", icon=":material/info:")
    else:
        def _responses(progress, should_stop):  # noqa: ANN001, ANN202
            from explorer.lab.probes import probe_trained

            return probe_trained(result, lesion=False, max_seconds=result.settings.max_seconds, progress=progress,
                                 should_stop=should_stop)

        responses = lab.button("Measure the responses", "responses", _probe_key("responses", result), _responses,
                               icon=":material/stacked_line_chart:")
        if responses is not None:
            from explorer.lab.charts import response_figure

            st.plotly_chart(response_figure(responses), key="lab.chart_fig7")
            for line in response_findings(responses):
                st.markdown(f"- {line}")


def lesion_study(result) -> None:  # noqa: ANN001
    """Section 3: one block of a trained net deleted at a time (Veit et al.)."""
    st.header("3 · Lesion study")
    st.markdown("Veit et al. (2016, arXiv 1605.06431): delete one block of a trained net and measure the test error. "
                "A deleted residual block leaves its shortcut: the output becomes `relu(shortcut(x))` (the identity, or at "
                "a downsampling block option A's subsampling and zero padding, B/C's projection). A plain net has no "
                "shortcut: a deleted block whose shape stays passes its input on; a downsampling block changes the shape, "
                "so it cannot be deleted and is marked with a cross.")
    if result is None:
        st.info("Train the nets in section 1 first.", icon=":material/info:")
    else:
        def _lesion(progress, should_stop):  # noqa: ANN001, ANN202
            from explorer.lab.probes import probe_trained

            return probe_trained(result, max_seconds=result.settings.max_seconds, progress=progress,
                                 should_stop=should_stop)

        lesioned = lab.button("Delete each block in turn", "lesion", _probe_key("lesion", result), _lesion,
                              icon=":material/content_cut:")
        if lesioned is not None:
            from explorer.lab.charts import lesion_figure

            st.plotly_chart(lesion_figure(lesioned), key="lab.chart_lesion")
            for line in lesion_findings(lesioned):
                st.markdown(f"- {line}")
            st.caption(f"{lesioned.total_seconds:.1f} s; ended: {lesioned.stopped_by.replace('_', ' ')}.")


def shortcut_options(settings, result) -> None:  # noqa: ANN001
    """Section 4: shortcut options A, B and C with exact counts beside the trained errors (Table 3)."""
    st.header("4 · Shortcut options A, B, C (Table 3)")
    st.markdown("A: identity, zero-padding where the shape changes (no parameters); B: projections (1×1 conv + BN) where "
                "the shape changes; C: projections on every block. The paper's ImageNet errors (ResNet-34, top-1, "
                "10-crop): A 25.03%, B 24.52%, C 24.19% — small differences, so projections are not essential.")
    if settings is not None and settings.base is None:
        size, classes = DATASET_SHAPES[settings.dataset]
        by_option = {o: twins(settings.layers, settings.width, o, size, classes, plain=False) for o in RESIDUAL_SHORTCUTS}
        trained = {}
        buttons = st.container(horizontal=True)
        for o in RESIDUAL_SHORTCUTS:
            full, only = settings.edit(shortcut=o), settings.edit(shortcut=o, plain=False)
            trained[o] = (result if result is not None and result.settings == full else lab.stored("degradation", full)) \
                or lab.stored(f"shortcut{o}", only)
            if trained[o] is None:
                def _option(progress, should_stop, only=only):  # noqa: ANN001, ANN202
                    from explorer.lab.train import run_degradation

                    return run_degradation(only, progress=progress, should_stop=should_stop)

                with buttons:
                    trained[o] = lab.button(f"Train the residual nets with option {o}", f"shortcut{o}", only, _option,
                                            icon=":material/alt_route:")
        rows = shortcut_rows(by_option, trained)
        st.dataframe(pd.DataFrame([{"Option": r["option"], "Net": r["net"], "Parameters": r["params"],
                                    unit(): count(r["macs"]), "Train error": r["train_error"] or "not trained",
                                    "Test error": r["test_error"] or "not trained"} for r in rows]), hide_index=True,
                     column_config={"Parameters": st.column_config.NumberColumn(format="localized"),
                                    unit(): st.column_config.NumberColumn(format="localized")})
        st.caption("Same settings as section 1; only the residual nets are trained for B and C (the plain twins do not "
                   "change).")
    elif settings is not None:
        st.info("With the Build page's architecture this section compares nothing: turn that toggle off.",
                icon=":material/info:")


def batch_norm() -> None:
    """Section 5: batch norm in train and eval mode on a batch the person edits, by hand against torch."""
    st.header("5 · Batch normalization, train vs eval")
    st.markdown("One `BatchNorm2d` layer of 2 channels on the batch below (edit it: rows with the same image number "
                "are positions of one image's map). Training mode normalizes with the batch's mean and **biased** "
                "variance and stores running statistics with the **unbiased** variance and its momentum; evaluation mode "
                "then uses the stored ones. Computed by hand and by torch, in float64.")
    table = st.data_editor(pd.DataFrame(list(DEFAULT_ROWS), columns=["image", "channel 1", "channel 2"]),
                           num_rows="dynamic", key="lab.bn_rows", hide_index=True)
    cols = st.columns(6, vertical_alignment="bottom")
    gamma = (cols[0].number_input("γ · channel 1", value=1.5, key="lab.g1"),
             cols[1].number_input("γ · channel 2", value=1.0, key="lab.g2"))
    beta = (cols[2].number_input("β · channel 1", value=0.0, key="lab.b1"),
            cols[3].number_input("β · channel 2", value=0.5, key="lab.b2"))
    cols[4].number_input(F["momentum"].label, key=LAB.key("momentum"), step=0.05, help=F["momentum"].help,
                         persist_state="session")
    cols[5].number_input(F["eps"].label, key=LAB.key("eps"), format="%.0e", step=1e-5, help=F["eps"].help,
                         persist_state="session")
    bn = None
    try:
        rows = tuple(tuple(float(v) for v in row) for row in table.dropna(how="all").itertuples(index=False))
        if any(v != v for row in rows for v in row):
            raise SpecError("value", "fill in every cell of a row (or delete the row)")
        rows = tuple((int(r[0]), *r[1:]) if r[0].is_integer() else r for r in rows)
        bn = BNSettings(rows=rows, gamma=gamma, beta=beta, momentum=float(LAB.get("momentum")), eps=float(LAB.get("eps")))
    except (SpecError, ValueError, TypeError) as e:
        reason = e.reason if isinstance(e, SpecError) else str(e)
        st.error(f"**{getattr(e, 'field', 'value')}** — {reason}", icon=":material/error:")

    if bn is not None:
        r = _bn(bn)
        n, c, _, p = r.shape
        st.markdown(f"Batch of **{n} image(s)**, each a 1×{p} map: **{r.values_per_channel} value(s) per channel** "
                    "in the statistics.")
        rows_shown = []
        for ch in range(c):
            rows_shown.append({
                "Channel": ch + 1, "mean": r.mean[ch], "var (biased, normalizes)": r.var_biased[ch],
                "var (unbiased, stored)": None if r.var_unbiased is None else r.var_unbiased[ch],
                "γ": bn.gamma[ch], "β": bn.beta[ch],
                "running_mean (hand)": None if r.running_mean is None else r.running_mean[ch],
                "running_mean (torch)": None if r.torch_running_mean is None else r.torch_running_mean[ch],
                "running_var (hand)": None if r.running_var is None else r.running_var[ch],
                "running_var (torch)": None if r.torch_running_var is None else r.torch_running_var[ch]})
        st.dataframe(pd.DataFrame(rows_shown), hide_index=True)
        outputs = []
        for i in range(len(bn.rows)):
            row = {"row": i + 1}
            for ch in range(c):
                if r.train_out is not None:
                    row[f"train c{ch + 1} (hand)"] = r.train_out[ch][i]
                    row[f"train c{ch + 1} (torch)"] = r.train_out_torch[ch][i]
                row[f"eval c{ch + 1} (hand)"] = r.eval_out[ch][i]
                row[f"eval c{ch + 1} (torch)"] = r.eval_out_torch[ch][i]
            outputs.append(row)
        st.dataframe(pd.DataFrame(outputs), hide_index=True, column_config={
            k: st.column_config.NumberColumn(format="%.17g") for k in outputs[0] if k != "row"})
        if r.train_error:
            st.warning(f"Training mode refused this batch — torch says: `{r.train_error}`. With one value per channel "
                       "there is no variance to normalize with; nothing was stored, so evaluation mode uses the fresh "
                       "statistics (mean 0, variance 1).", icon=":material/block:")
        agree = "exactly" if r.max_ulps == 0 else f"to within {r.max_ulps:.0f} unit(s) in the last place of float64"
        st.success(f"By hand and by torch agree {agree} (largest difference {r.max_diff:.3g}); the running statistics "
                   f"use momentum {bn.momentum:g} from running_mean 0 and running_var 1.", icon=":material/check:")

        def _single(progress, should_stop):  # noqa: ANN001, ANN202
            from explorer.lab.batchnorm import single_image

            return {"outcome": single_image(bn), "stopped_by": "done"}

        tried = lab.button("Try batch size 1 in training mode", "bn_single", bn, _single, icon=":material/looks_one:")
        if tried is not None:
            message, out = tried["outcome"]
            if message:
                st.warning(f"The first image alone (a 1×{p} map) in training mode — torch raises: `{message}`. Each "
                           "channel has one value, so its variance is 0 and there is nothing to normalize against. With "
                           "a larger map the positions of that one image give the statistics.", icon=":material/block:")
            else:
                st.info(f"The first image alone (a 1×{p} map) trains: its {p} positions give each channel's statistics, "
                        f"so the outputs are {', '.join(f'{v:.6g}' for v in out[0])} (channel 1) — normalized against "
                        "that image only.", icon=":material/info:")


LAB.init()
header("Residual lab", "residual_lab", "Why shortcuts work: the degradation problem, gradient flow, the lesion study, "
       "shortcut options, batch norm — trained and measured live, on real images.")
links.show_problems()
st.markdown(
    "The ResNet paper (He et al., arXiv 1512.03385) starts from an observation: a deeper **plain** network gets a "
    "*higher training error* than a shallower one (Fig. 1, Fig. 6) — not overfitting, an optimization failure. "
    "Residual blocks, `relu(F(x) + x)`, fix it. Below, the explorer's own networks (each with its exact parameters "
    f"and {unit()} beside it) are trained here, alike: the same images in the same order, the same initialization "
    "rule, optimizer and schedule, for several seeds. Every sentence under a chart is made from the numbers above it.")
settings, result = degradation()
gradient_flow(settings)
responses(result)
lesion_study(result)
shortcut_options(settings, result)
batch_norm()
