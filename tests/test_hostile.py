"""Hostile but valid input (issue 22): no spec costs more than its bound, user text is never markup, every odd
character or setting gives a clear message, and the CLI exits 2 for each of them."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer import ArchSpec, SpecError, analyze, get_preset
from explorer.core import analysis
from explorer.core.bounds import (FIXED_ROWS, MAX_ROWS, PATH_ROWS, ROW_BYTES, ROWS_PER_BLOCK, check_work,
                                  estimate_bytes, estimate_rows, sized_cache)
from explorer.cli import main
from explorer.core.errors import ResourceError
from explorer.core.fields import describe
from explorer.present.links import params_to_spec, spec_to_params
from explorer.core.plan import make_plan
from explorer.core.vocab import WORD_JOINER, html_text, md_code, md_text

ROOT = Path(__file__).resolve().parents[1]

# The markup payloads of the issue and their relatives: links, images, HTML, headings, math, Streamlit directives.
PAYLOADS = (
    "[phish](https://evil.example/login)",
    "![t](http://127.0.0.1:8631/t.png)",
    '<a href="https://evil.example/x">click</a>',
    "<img src=https://evil.example/i.png>",
    "# heading", "**bold** _em_ `code`", "$x^2$ and $$y$$", ":red[red] :material/home: :smile:",
    "www.evil.example https://evil.example/auto", "a | b |", "<b>bold</b> &amp; &lt;", "100% %{x} &#36;",
)
UNPRINTABLE = ("\ud800x", "a\x00b", "a\nb", "tab\there", "esc\x1b[31m", "x\u202eevil", "line\u2028sep", "\x7f")


# --- the work bound -----------------------------------------------------------------------------------
def test_estimate_is_exact_in_its_paths_term_and_bounds_each_block() -> None:
    """Forms a/b: exactly 7 rows per path (a) or 6 (b) plus at most ROWS_PER_BLOCK others, counted independently."""
    for form, per_path in (("a", 7), ("b", 6)):
        spec = ArchSpec(form=form, cardinality=32, base_width=4, depths=(2, 1), widths=(64, 128))
        rows = analyze(spec).layers
        paths = [r for r in rows if ".paths." in r.name]
        assert len(paths) == 3 * 32 * per_path <= 3 * 32 * PATH_ROWS
        per_block = {}
        for r in rows:
            if r.block.startswith("layer") and ".paths." not in r.name:
                per_block[r.block] = per_block.get(r.block, 0) + 1
        assert max(per_block.values()) <= ROWS_PER_BLOCK
        assert len(rows) <= estimate_rows(spec) == FIXED_ROWS + 3 * (ROWS_PER_BLOCK + PATH_ROWS * 32)


def test_every_variant_stays_inside_the_per_block_and_fixed_terms() -> None:
    """Every combination of block, form, stem, stem pool, shortcut, attention, anti-aliasing and norm, counted from
    the analysis's rows: outside the paths a block has at most ROWS_PER_BLOCK rows, stem and head FIXED_ROWS."""
    import itertools

    worst_block = worst_fixed = checked = 0
    for block, form, stem, pool, shortcut, attention, aa, norm in itertools.product(
            ["basic", "bottleneck"], ["c", "a", "b"], ["imagenet", "cifar", "deep", "tiered"],
            ["max", "conv", "avg", "none"], ["B", "A", "C", "D", "none"], ["none", "se", "eca"], [False, True],
            ["bn", "gn"]):
        bottleneck = block == "bottleneck"
        try:
            spec = ArchSpec(block=block, form=form if bottleneck else "c", stem=stem, stem_pool=pool,
                            shortcut=shortcut, attention=attention, aa=aa, norm=norm, depths=(2, 2), widths=(64, 128),
                            cardinality=4 if bottleneck else 1, base_width=16 if bottleneck else 64, stem_width=64,
                            input_size=(3, 64, 64))
        except SpecError:
            continue
        rows = analyze(spec).layers
        per_block: dict[str, int] = {}
        for r in rows:
            if ".paths." not in r.name and r.block.startswith("layer"):
                per_block[r.block] = per_block.get(r.block, 0) + 1
        worst_block = max(worst_block, *per_block.values())
        worst_fixed = max(worst_fixed, sum(1 for r in rows if not r.block.startswith("layer")))
        assert len(rows) <= estimate_rows(spec)
        checked += 1
    assert checked > 1000 and worst_block <= ROWS_PER_BLOCK and worst_fixed <= FIXED_ROWS


def test_the_issues_reproducers_are_refused_before_anything_is_built() -> None:
    big = ArchSpec(form="a", cardinality=4096, base_width=1, depths=(100,), widths=(64,))
    tracemalloc.start()
    with pytest.raises(SpecError, match=r"^cardinality: form \(a\) with C = 4096 .* 2,869,632 layers"):
        analyze(big)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2**20  # refused from its fields: nothing the size of the plan was allocated
    assert estimate_rows(big) == 32 + 100 * (24 + 7 * 4096)
    deep = ArchSpec(form="a", cardinality=4096, base_width=1, depths=(1000,) * 4, widths=(64, 128, 256, 512))
    with pytest.raises(SpecError, match=r"^cardinality: "):
        make_plan(deep)
    with pytest.raises(SpecError, match=r"^depths: 8,000 blocks"):
        make_plan(ArchSpec(block="basic", depths=(1000,) * 8, widths=(8,) * 8, strides=(1,) * 8))
    from explorer.costs.training import train_cost

    with pytest.raises(SpecError, match=r"^cardinality: "):
        train_cost(big.edit(depths=[30]), batch_size=1)


def test_real_networks_fit_the_bound() -> None:
    """Every preset, and ResNeXt-101 64×4d in form (a) (the paper's widest), is far inside it."""
    from explorer import list_presets

    for name in list_presets():
        assert estimate_rows(get_preset(name)) <= MAX_ROWS // 3, name
    wide = get_preset("resnext101_64x4d").edit(form="a") if "resnext101_64x4d" in list_presets() else \
        ArchSpec(depths=(3, 4, 23, 3), cardinality=64, base_width=4, form="a")
    assert check_work(wide) <= MAX_ROWS


# Valid specs of every shape and variant, many of them beyond the bound (forms a/b with many paths, thousands of
# blocks); a combination the spec refuses is drawn again.
def _spec_or_none(stages: int, depth: int, width: int, form: str, c: int, d: int, block: str, variant: dict) -> Any:
    bottleneck = block == "bottleneck"
    try:
        return ArchSpec(block=block, depths=(depth,) * stages, widths=(width,) * stages, strides=(1,) * stages,
                        cardinality=c if bottleneck else 1, base_width=d if bottleneck else 64,
                        form=form if bottleneck else "c", input_size=(3, 32, 32), name="h", **variant)
    except SpecError:
        return None


_variants = st.fixed_dictionaries({
    "stem": st.sampled_from(["imagenet", "cifar", "deep", "tiered"]), "stem_pool": st.sampled_from(["max", "conv",
                                                                                                    "avg", "none"]),
    "shortcut": st.sampled_from(["B", "A", "C", "D", "none"]), "attention": st.sampled_from(["none", "se", "eca"]),
    "aa": st.booleans(), "norm": st.sampled_from(["bn", "gn"])})
_specs = st.builds(
    _spec_or_none, stages=st.integers(1, 8), depth=st.sampled_from([1, 2, 5, 40, 300, 1000]),
    width=st.sampled_from([64, 128]), form=st.sampled_from(["a", "b", "c"]), c=st.sampled_from([1, 2, 32, 64, 700,
                                                                                               4096]),
    d=st.sampled_from([1, 4, 64]), block=st.sampled_from(["bottleneck", "basic"]), variant=_variants,
).filter(lambda s: s is not None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(spec=_specs)
def test_no_valid_spec_costs_more_than_its_bound(spec: ArchSpec) -> None:
    """Refused in O(stages) with a message naming the field, or analysed within the bound: rows ≤ the estimate ≤
    MAX_ROWS, and the memory the analysis and its plan hold (tracemalloc, deterministic) ≤ the byte estimate."""
    analysis._analyze.cache_clear()
    make_plan.cache_clear()
    estimate = estimate_rows(spec)
    if estimate > MAX_ROWS:
        with pytest.raises(SpecError, match=r"^(cardinality|depths): .* over the limit of 50,000"):
            analyze(spec)
        return
    tracemalloc.start()
    a = analyze(spec)
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(a.layers) <= estimate <= MAX_ROWS
    assert held <= estimate_bytes(spec) <= MAX_ROWS * ROW_BYTES


def test_the_largest_accepted_spec_is_bounded_in_rows_and_memory() -> None:
    """A spec just inside the bound: its rows and held memory, measured."""
    c = (MAX_ROWS - FIXED_ROWS) // 10 // PATH_ROWS - ROWS_PER_BLOCK // PATH_ROWS - 1  # 10 blocks in form (a)
    spec = ArchSpec(form="a", cardinality=c, base_width=1, depths=(10,), widths=(64,), input_size=(3, 16, 16))
    assert MAX_ROWS - 10 * PATH_ROWS * 2 < estimate_rows(spec) <= MAX_ROWS
    make_plan.cache_clear()
    tracemalloc.start()
    a = analyze(spec)
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # 7 per path; per block the sum, BN, add and ReLU, and the first block's projection (2); stem 4 and head 2
    assert len(a.layers) == 10 * (7 * c + 4) + 2 + 4 + 2
    assert held <= estimate_bytes(spec) <= 30 * 2**20


def test_caches_hold_bytes_not_entries() -> None:
    calls = []
    cache = sized_cache(1000, len)(lambda n: calls.append(n) or "x" * n)
    for n in (400, 400, 300, 500, 2000):
        cache(n)
    assert cache.cache_bytes() <= 1000 and cache.cache_len() == 2  # 300 and 500; 2000 was never kept
    cache(500)
    assert calls == [400, 400, 300, 500, 2000] or calls == [400, 300, 500, 2000]
    analyze(get_preset("resnet50"))
    assert 0 < analysis._analyze.cache_bytes() <= analysis.ANALYSIS_CACHE_BYTES


def test_app_caches_are_sized_by_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many names of a large architecture: each cache holds at most its bytes (the issue: +490 MB per name)."""
    from ui import cache

    spec = ArchSpec(form="a", cardinality=40, base_width=2, depths=(3, 4, 6, 3), input_size=(3, 64, 64))
    one = cache.table("layers", spec, "macs").memory_usage(deep=True).sum()
    for f in (cache.table, cache.arrow):
        f.cache_clear()
        monkeypatch.setattr(f, "max_bytes", int(3.5 * one))  # room for three of these tables
    for i in range(8):
        named = spec.edit(name=f"n{i}")
        cache.table("layers", named, "macs")
        cache.arrow("layers", named, "macs")
    for f in (cache.table, cache.arrow):
        assert f.cache_len() == 3 and f.cache_bytes() <= f.max_bytes
    assert cache.TABLE_BYTES <= 32 * 2**20 and cache.FIGURE_BYTES <= 16 * 2**20


# --- text fields -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", UNPRINTABLE)
def test_text_fields_refuse_unprintable_characters_naming_the_field(text: str) -> None:
    with pytest.raises(SpecError, match=r"^name: must be printable text; character \d+ is .* \(U\+[0-9A-F]{4}\)"):
        ArchSpec(name=text)
    with pytest.raises(SpecError, match=r"^name: "):
        ArchSpec.from_json(json.dumps({"name": text}))
    spec, problems = params_to_spec({"preset": "resnet50", "name": text})
    assert spec == get_preset("resnet50") and [e.field for e in problems] == ["name"]
    with pytest.raises(SpecError, match=r"^device: "):
        from explorer.core.run_fields import SETTINGS_FIELDS

        SETTINGS_FIELDS["device"].check(f"cpu{text}")


@pytest.mark.parametrize("name", ["ResNeXt 32×4d", "réseau", "網路", "🧪 net", "x" * 100, " spaced  ",
                                  *PAYLOADS[:9]])
def test_printable_names_are_kept_exactly_even_through_links(name: str) -> None:
    spec = get_preset("resnet50").edit(name=name)
    assert ArchSpec.from_json(spec.to_json()).name == name
    again, problems = params_to_spec(spec_to_params(spec))
    assert problems == [] and again == spec  # spaces at the ends survive a Share link


def test_huge_integers_and_deep_nesting_are_spec_errors() -> None:
    deep: object = 1
    for _ in range(1000):
        deep = [deep]
    nested: dict = {}
    inner = nested
    for _ in range(1000):
        inner["a"] = {}
        inner = inner["a"]
    for data, field in (({"depths": [10**5000]}, "depths[0]"), ({"cardinality": -(10**5000)}, "cardinality"),
                        ({"name": 10**5000}, "name"), ({"depths": deep}, "depths[0]"), ({"name": nested}, "name"),
                        ({"input_size": deep}, "input_size"), ({"\ud800": 1}, "'\\ud800'")):
        with pytest.raises(SpecError) as e:
            ArchSpec.from_dict(data)
        assert e.value.field == field and len(str(e.value)) < 400
    assert describe(10**5000) == "int <a 5001-digit integer>"


# --- budgets ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "value"), [("EXPLORER_MEMORY_BUDGET_MB", v) for v in ("abc", "nan", "inf", "-5", "0")]
                         + [("EXPLORER_MEMORY_FRACTION", v) for v in ("5", "0", "-0.1", "nan", "x")])
def test_budget_variables_are_parsed_once_and_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    from explorer.build.guard import budget_bytes, check_memory

    monkeypatch.delenv("EXPLORER_MEMORY_BUDGET_MB", raising=False)
    monkeypatch.setenv(name, value)
    with pytest.raises(SpecError, match=rf"^{name}: must be .*got {re.escape(repr(value))}"):
        budget_bytes()
    with pytest.raises(SpecError, match=rf"^{name}: "):
        check_memory(analyze(get_preset("resnet18")))


def test_a_nan_budget_never_turns_the_guard_off() -> None:
    from explorer.build.guard import check_memory
    from explorer.measure.timing import Settings

    a = analyze(get_preset("resnet18"))
    for bad in (math.nan, -1, "1e9", True):
        with pytest.raises(SpecError, match=r"^budget: "):
            check_memory(a, budget=bad)  # type: ignore[arg-type]
        with pytest.raises(SpecError, match=r"^budget: "):
            Settings(budget=bad)  # type: ignore[arg-type]
    assert check_memory(a, budget=math.inf).total_bytes > 0


def _forbid(monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{target} ran before the memory check")

    monkeypatch.setattr(target, refuse)


def test_fvcore_profile_checks_activations_within_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue: 2048² ResNet-18 was traced on an 1,836 MiB estimate under a 200 MiB budget."""
    from explorer import profile
    from explorer.measure import fvcore_check

    _forbid(monkeypatch, "explorer.measure.fvcore_check.build_model")
    spec = ArchSpec(block="basic", depths=(2, 2, 2, 2), input_size=(3, 2048, 2048))
    with pytest.raises(ResourceError, match=r"^memory: tracing with fvcore .* at batch 1 .* over the 200 MiB budget"):
        profile(spec, budget=200 * 2**20)
    monkeypatch.setenv("EXPLORER_MEMORY_BUDGET_MB", "200")
    with pytest.raises(ResourceError):
        fvcore_check.profile(spec)


def test_live_counts_take_a_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from explorer.measure.counters_live import live_counts

    _forbid(monkeypatch, "explorer.build.model.build_model")
    with pytest.raises(ResourceError, match=r"^memory: counting resnet50 at batch 8 .* over the 10 MiB budget"):
        live_counts(get_preset("resnet50"), batch_size=8, tools=["thop"], budget=10 * 2**20)
    with pytest.raises(SpecError, match=r"^budget: "):
        live_counts(get_preset("resnet50"), tools=["thop"], budget=math.nan)


def test_time_layers_checks_memory_before_its_speed_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    from explorer.measure.layer_time import time_layers
    from explorer.measure.timing import Settings

    _forbid(monkeypatch, "explorer.measure.layer_time.peak_macs_per_second")
    _forbid(monkeypatch, "explorer.measure.layer_time.bandwidth_bytes_per_second")
    with pytest.raises(ResourceError, match=r"^memory: running resnet50 at batch 64"):
        time_layers(get_preset("resnet50"), Settings(batch_size=64, budget=50 * 2**20))


# --- presentation: one escaping rule per renderer ------------------------------------------------------
@pytest.mark.parametrize("text", [*PAYLOADS, "- item", "1. item", "    indented", "_x_ base_width", "a@b.example"])
def test_md_text_escapes_what_makes_markdown(text: str) -> None:
    out = md_text(text)
    unescaped = re.sub(r"\\.", "", out.replace("&#32;", ""))
    assert not re.search(r"[\\`*\[\]<>#$:|~&]", unescaped), out  # every character that makes markup is escaped
    assert not re.search(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", unescaped), out  # and every "_" that could
    assert not re.match(r"\s|[-+]\s|\d+[.)]", out), out  # no list, code block or heading can start
    # nothing but the escapes was added, and the invisible joiners that keep an address from becoming a link
    assert re.sub(r"\\(.)", r"\1", out).replace("&#32;", " ").replace(WORD_JOINER, "") == text
    breakable = re.search(r"://|www\.|@|:[a-z]", text, re.I) is not None  # an address, an :icon: or a :directive[
    assert breakable <= (WORD_JOINER in out)
    assert md_text("a\nb\r\nc") == "a b c"
    code = md_code(text)
    assert code.strip("`").strip(" ") == text.replace("\n", " ").strip(" ") or text.startswith(" ")


@pytest.mark.parametrize("text", PAYLOADS)
def test_charts_show_names_as_text(text: str) -> None:
    """Plotly reads tags and entities in titles, legends, ticks and hover text: a name reaches it escaped."""
    from explorer.present import charts
    from explorer.costs.comparison import Comparison

    a = analyze(get_preset("resnet18").edit(name=text))
    b = analyze(get_preset("resnet34"))
    figures = [charts.rollup_bars(a, "macs"), charts.compare_bars(Comparison((a, b)), "macs"),
               charts.relative_chart(Comparison((a, b))), charts.relative_chart(Comparison((b, a)))]
    for fig in figures:
        strings = _strings(fig.to_plotly_json())
        shown = [s for s in strings if html_text(text) in s]
        assert shown, "the name is not shown at all"
        for s in strings:
            assert text not in s or html_text(text) == text, s
            assert not re.search(r"<(?!br>|extra>|/extra>)", s), s  # only the library's own <br> and <extra>


def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, (list, tuple)):
        return [s for v in obj for s in _strings(v)]
    return []


def test_the_diagram_never_draws_user_text() -> None:
    from explorer.present.diagram import network_svg

    svg = network_svg(get_preset("resnet18").edit(name=PAYLOADS[2]))
    assert "evil" not in svg and "click" not in svg


# --- the CLI: exit 2 and one line for every bad input of the issue ------------------------------------------
def _cli(*args: str, env: dict[str, str] | None = None, stdin: str = "", close_stdout: bool = False
         ) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "explorer", *args]
    if close_stdout:
        command = ["sh", "-c", 'exec "$@" >&-', "sh", *command]
    return subprocess.run(command, cwd=ROOT, capture_output=not close_stdout, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                          stderr=subprocess.PIPE if close_stdout else None, input=stdin)


@pytest.mark.parametrize("command", ["summary", "bench", "profile", "train-cost", "conventions"])
def test_cli_refuses_a_lone_surrogate(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "s.json"
    f.write_text('{"name": "\\ud800x"}')
    assert main([command, "--spec", str(f)]) == 2
    err = capsys.readouterr().err
    assert err == "error: name: must be printable text; character 1 is a lone surrogate (U+D800)\n"


def test_cli_exit_2_for_every_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"big_int": '{"depths": [' + "9" * 5000 + "]}", "deep": '{"depths": ' + "[" * 1000 + "]" * 1000 + "}",
             "nul": '{"name": "a\\u0000b"}',
             "paths": json.dumps({"block": "bottleneck", "form": "a", "cardinality": 4096, "base_width": 1,
                                  "depths": [100], "widths": [64]}),
             "train": json.dumps({"form": "a", "cardinality": 4096, "base_width": 1, "depths": [30], "widths": [64]})}
    runs = [["summary", "--spec"], ["train-cost", "--spec"], ["bench", "--spec"], ["conventions", "--spec"]]
    for name, text in files.items():
        (tmp_path / f"{name}.json").write_text(text)
        for run in runs:
            assert main([*run, str(tmp_path / f"{name}.json")]) == 2, (name, run)
            err = capsys.readouterr().err
            assert err.startswith("error: ") and err.count("\n") == 1 and "unexpected" not in err, err
    assert main(["export", "resnet50", "-o", ""]) == 2
    assert "needs a file name" in capsys.readouterr().err
    for name, value in (("EXPLORER_MEMORY_BUDGET_MB", "abc"), ("EXPLORER_MEMORY_BUDGET_MB", "nan"),
                        ("EXPLORER_MEMORY_BUDGET_MB", "inf"), ("EXPLORER_MEMORY_FRACTION", "5")):
        monkeypatch.delenv("EXPLORER_MEMORY_BUDGET_MB", raising=False)
        monkeypatch.setenv(name, value)
        assert main(["bench", "resnet18", "--threads", "1"]) == 2
        assert capsys.readouterr().err.startswith(f"error: {name}: must be ")
        monkeypatch.delenv(name)


def test_cli_with_a_closed_stdout_exits_2() -> None:
    out = _cli("list", "--json", close_stdout=True)
    assert out.returncode == 2 and out.stderr == "error: standard output or standard error is closed; nothing can be " \
                                                 "written\n"


# --- the app: the issue's link is refused beside its field, with nothing built --------------------------------
def test_the_issues_link_is_refused_beside_its_field() -> None:
    import time

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in {"preset": "resnext50_32x4d", "form": "a", "cardinality": "4096", "base_width": "1", "depths": "30",
                 "name": "n1"}.items():
        at.query_params[k] = v
    at.switch_page("views/build.py")
    t0 = time.monotonic()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert time.monotonic() - t0 < 60  # the issue: 19 s and +489 MB; now nothing the size of the plan is built
    errors = " ".join(e.value for e in at.error)
    assert "form (a) with C = 4096 paths in each of 30 blocks" in errors and "Cardinality C" in errors, errors
    assert at.title[0].value == "Build — resnet50"  # the last valid architecture: the default, as nothing came before
    assert "Cardinality C" in " ".join(w.value for w in at.warning)


def test_csv_downloads_keep_names_as_text_in_a_spreadsheet() -> None:
    import pandas as pd

    from explorer.present.tables import to_csv

    frame = pd.DataFrame({"Configuration": ["=HYPERLINK(\"https://evil.example\")", "+1", "-x", "@SUM(A1)", "ok"],
                          "MACs": [1, -2, 3, 4, 5]})
    lines = to_csv(frame).splitlines()
    assert lines[1].startswith("\"'=HYPERLINK(") and lines[2] == "'+1,-2" and lines[3] == "'-x,3"
    assert lines[4] == "'@SUM(A1),4" and lines[5] == "ok,5"


def test_an_upload_over_the_work_bound_is_refused_beside_the_uploader() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("views/build.py").run()
    at.button_group(key="build.view").set_value("Spec & export").run()
    big = json.dumps({"form": "a", "cardinality": 4096, "base_width": 1, "depths": [100], "widths": [64]}).encode()
    at.file_uploader(key="build.upload").set_value(("big.json", big, "application/json")).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    assert "big.json" in errors and "Cardinality C" in errors and "over the limit of 50,000" in errors, errors
    assert at.title[0].value == "Build — resnet50" and not at.success
