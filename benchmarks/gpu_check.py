"""The GPU check: every CUDA path's tests, then the GPU benchmarks, in one run of about 8 minutes at most.

Run it through ``benchmarks/gpu_check.sh`` (``make gpu-check``), which first makes the environment the README's
way. Each step is a child process with its own time limit, inside one total budget (``--budget``, default
450 s); a step that would start with too little time left is skipped and says so. In order:

1. the CUDA tests: ``pytest -m cuda`` over the test files that use the marker (JUnit XML beside the log);
2. ``bench_latency.py``: resnet50 vs resnext50_32x4d at batch 1 and 256, float32 and bfloat16, channels_last
   off and on (with the fidelity checks against torchvision and ``torch.utils.benchmark``);
3. ``bench_train.py``: a training step of both at batch 64, and resnet50's measured peak memory beside the
   estimate at batch 64 (float32 and bfloat16 autocast);
4. ``bench_max_batch.py``: the largest training batch, predicted against a probe of real steps;
5. ``bench_layers.py``: time per layer, float32 at batch 128 and bfloat16 at batch 256.

Every benchmark writes its cuda block, with ``--write``, into ``OUT/README.md``: a copy of
``benchmarks/README.md`` without its cuda blocks (``BENCH_README``), so the repository's file is never edited
in place, a step that fails leaves no older figures looking new, and the blocks can be copied over as they
are. ``OUT/gpu_tables.md`` holds what the run did (one line per step) and the cuda blocks alone;
``OUT/environment.txt`` the interpreter, the packages and ``nvidia-smi``.

Without a CUDA device it writes ``gpu_tables.md`` saying so, prints "no CUDA device: skipped …" and exits 0.
``--smoke`` runs the same steps on the CPU with tiny networks and runs, in a few minutes, to check the
plumbing before a GPU is lent (its tables are marked as a smoke run, not figures). Exit status: 0 when every
step that ran passed (or there was no GPU), 1 otherwise.

    OUT=/tmp/gpu .venv/bin/python benchmarks/gpu_check.py            # what gpu_check.sh runs
    OUT=/tmp/smoke .venv/bin/python benchmarks/gpu_check.py --smoke  # the plumbing, on a CPU
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
SECTIONS = ("bench_latency", "bench_train", "bench_max_batch", "bench_layers")
MIN_STEP_SECONDS = 20  # a step with less time than this left is skipped, not started and killed


@dataclass(frozen=True)
class Step:
    """One child process: a name for the report, its arguments after the interpreter, its time limit."""

    name: str
    args: tuple[str, ...]
    seconds: int


def cuda_test_files() -> list[str]:
    """The test files that mark tests ``@pytest.mark.cuda`` (only those are collected: the others need the app)."""
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py")
                  if "pytest.mark.cuda" in p.read_text(encoding="utf-8"))


def steps(out: Path, smoke: bool) -> list[Step]:
    """The steps in order of importance (the budget runs out at the end, if anywhere)."""
    junit = out / "pytest-cuda.xml"
    tests = Step("CUDA tests (pytest -m cuda)", ("-m", "pytest", "-m", "cuda", "-q", "-rA", "-p", "no:cacheprovider",
                                                  f"--junitxml={junit}", *cuda_test_files()), 100)
    if smoke:  # tiny networks and runs on the CPU: the plumbing, not figures
        pair = ("--models", "resnet20", "resnet32")
        return [tests,
                Step("latency (smoke)", ("benchmarks/bench_latency.py", *pair, "--batches", "1", "2", "--seconds",
                                         "0.2", "--max-seconds", "3", "--write"), 90),
                Step("training step and peak memory (smoke)", ("benchmarks/bench_train.py", *pair, "--batch-size", "2",
                                                               "--min-runs", "3", "--max-seconds", "3", "--write"), 90),
                Step("largest batch (smoke)", ("benchmarks/bench_max_batch.py", "--device", "cpu", "--write"), 60),
                Step("time per layer, float32 (smoke)", ("benchmarks/bench_layers.py", *pair, "--min-runs", "5",
                                                         "--max-seconds", "3"), 90)]
    cuda = ("--device", "cuda")
    return [tests,
            Step("latency: batch 1 and 256, float32 and bfloat16, channels_last off and on",
                 ("benchmarks/bench_latency.py", *cuda, "--batches", "1", "256", "--dtypes", "float32", "bfloat16",
                  "--seconds", "1.5", "--max-seconds", "12", "--write"), 150),
            Step("training step at batch 64, peak memory measured vs estimated",
                 ("benchmarks/bench_train.py", *cuda, "--min-runs", "10", "--max-seconds", "30", "--write"), 100),
            Step("largest training batch, predicted vs probed",
                 ("benchmarks/bench_max_batch.py", *cuda, "--max-seconds", "90", "--write"), 120),
            # Batches large enough that the GPU is not waiting on each layer's launch: on an H200 at batch 32 the
            # hooked layers summed to 129% (float32) and 142% (bfloat16) of the plain run, at 128 / 256 to 101%.
            Step("time per layer, batch 128, float32",
                 ("benchmarks/bench_layers.py", *cuda, "--batch-size", "128", "--min-runs", "30", "--max-seconds",
                  "40", "--write"), 70),
            Step("time per layer, batch 256, bfloat16",
                 ("benchmarks/bench_layers.py", *cuda, "--dtype", "bfloat16", "--batch-size", "256", "--min-runs",
                  "30", "--max-seconds", "40", "--write"), 70)]


def probe_cuda(python: str) -> tuple[bool, str]:
    """Whether the interpreter's torch sees a CUDA device, and its versions, in a child process.

    A child, so this process never holds a CUDA context (hundreds of MiB) while the largest-batch probe runs.
    """
    code = ("import sys, torch, torchvision; ok = torch.cuda.is_available(); "
            "print(f'torch {torch.__version__}, torchvision {torchvision.__version__}, '"
            "f'CUDA build {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}; '"
            "+ (torch.cuda.get_device_name(0) if ok else 'no CUDA device')); sys.exit(0 if ok else 3)")
    try:
        r = subprocess.run([python, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return False, "torch did not answer within 120 s"
    lines = (r.stdout.strip() or r.stderr.strip() or f"exit {r.returncode}, no output").splitlines()
    return r.returncode == 0, lines[-1]


def environment(python: str, out: Path, versions: str, env_note: str) -> None:
    """OUT/environment.txt: how the environment was made, the interpreter, the packages, nvidia-smi."""
    lines = [f"environment: {env_note or 'as given'}", f"python: {python}", versions, ""]
    for cmd in ([python, "-m", "pip", "list", "--disable-pip-version-check"], ["nvidia-smi"]):
        if shutil.which(cmd[0]) is None and not Path(cmd[0]).exists():
            lines.append(f"$ {' '.join(cmd)}: not found")
            continue
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            lines += [f"$ {' '.join(cmd)}", r.stdout.strip() or r.stderr.strip(), ""]
        except (OSError, subprocess.TimeoutExpired) as e:
            lines.append(f"$ {' '.join(cmd)}: {e}")
    (out / "environment.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_step(python: str, step: Step, seconds: float, env: dict[str, str]) -> tuple[str, float]:
    """Run one step, its output streamed to ours; return its outcome ("passed", "failed (exit 1)", …) and time."""
    print(f"\n=== {step.name} (at most {seconds:.0f} s)\n$ {python} {' '.join(step.args)}", flush=True)
    t0 = time.monotonic()
    # A new session, so a timeout ends the step's whole process group and nothing of it is left holding the GPU.
    proc = subprocess.Popen([python, *step.args], cwd=ROOT, env=env, start_new_session=True)
    try:
        rc = proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
        return f"**timed out** after {seconds:.0f} s (nothing written)", time.monotonic() - t0
    took = time.monotonic() - t0
    return ("passed" if rc == 0 else f"**failed** (exit {rc})"), took


def junit_summary(path: Path) -> str:
    """'7 tests: 7 passed, 0 failed, 0 skipped' from pytest's JUnit XML ('' if it is not there)."""
    if not path.exists():
        return ""
    suite = ET.parse(path).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    n, failed = int(suite.get("tests", 0)), int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    skipped = int(suite.get("skipped", 0))
    names = [f"{c.get('name')}{' (skipped)' if c.find('skipped') is not None else ''}"
             f"{' (**failed**)' if c.find('failure') is not None or c.find('error') is not None else ''}"
             for c in suite.iter("testcase")]
    return f"{n} tests: {n - failed - skipped} passed, {failed} failed, {skipped} skipped ({', '.join(names)})"


def drop_blocks(text: str, kind: str) -> str:
    """The README's text without the ``kind`` blocks of SECTIONS: a step that fails leaves no older block behind."""
    for section in SECTIONS:
        text = re.sub(rf"<!-- {section}:({kind}\w*):start -->.*?<!-- {section}:\1:end -->\n?", "", text, flags=re.S)
    return text


def cuda_blocks(readme: Path, kind: str) -> list[str]:
    """Each section's ``kind`` block from the README copy, with its heading line, in the order of SECTIONS."""
    sys.path.insert(0, str(BENCH))
    import common

    text = readme.read_text(encoding="utf-8")
    out = []
    for section in SECTIONS:
        _, blocks = common._blocks(section, text)
        for key in sorted(k for k in blocks if k.startswith(kind)):
            out += [f"<!-- {section}:{key}:start -->", blocks[key].strip(), f"<!-- {section}:{key}:end -->", ""]
    return out


def report(out: Path, header: list[str], rows: list[tuple[Step, str, float]], kind: str | None) -> None:
    """OUT/gpu_tables.md: what ran, how it ended, and the blocks it wrote."""
    lines = [*header, ""]
    if rows:
        lines += ["| step | outcome | seconds |", "|---|---|---:|"]
        lines += [f"| {s.name} | {outcome} | {took:.0f} |" for s, outcome, took in rows]
        lines.append("")
    if kind is not None:
        blocks = cuda_blocks(out / "README.md", kind)
        lines += (["The blocks, as they stand in `README.md` beside this file (copy each over its markers in "
                   "`benchmarks/README.md`):", "", *blocks] if blocks else ["No block was written."])
    (out / "gpu_tables.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.environ.get("OUT") or str(BENCH / "gpu_out"),
                        help="where the results go (default $OUT, else benchmarks/gpu_out)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter of every step (default this one)")
    parser.add_argument("--budget", type=float, default=450.0,
                        help="total seconds for all the steps (default 450, so the whole run fits 8 minutes)")
    parser.add_argument("--smoke", action="store_true", help="the same steps on the CPU, tiny: checks the plumbing")
    parser.add_argument("--env-note", default="", help="how the environment was made (gpu_check.sh says)")
    args = parser.parse_args(argv)

    t_start = time.monotonic()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    ok, versions = probe_cuda(args.python)
    print(f"gpu_check: {versions}", flush=True)
    environment(args.python, out, versions, args.env_note)
    header = ["# GPU check" + (" — SMOKE RUN on the CPU: plumbing only, not figures" if args.smoke else ""), "",
              f"Environment: {args.env_note or 'as given'}; `{args.python}`; {versions}."]
    if not ok and not args.smoke:
        print("gpu_check: no CUDA device: skipped the CUDA tests and the GPU benchmarks "
              "(latency, training step and peak memory, largest batch, time per layer)", flush=True)
        report(out, [*header, "", "No CUDA device: skipped the CUDA tests and the GPU benchmarks."], [], None)
        return 0

    kind = "cpu" if args.smoke else "cuda"
    fresh = drop_blocks((BENCH / "README.md").read_text(encoding="utf-8"), kind)  # only this run's blocks
    (out / "README.md").write_text(fresh, encoding="utf-8")
    env = {**os.environ, "BENCH_README": str(out / "README.md"), "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    rows: list[tuple[Step, str, float]] = []
    for step in steps(out, args.smoke):
        left = args.budget - (time.monotonic() - t_start)
        if left < MIN_STEP_SECONDS:
            rows.append((step, f"**skipped**: {left:.0f} s of the budget left", 0.0))
            print(f"\n=== {step.name}: skipped, {left:.0f} s of the budget left", flush=True)
            continue
        outcome, took = run_step(args.python, step, min(step.seconds, left), env)
        rows.append((step, outcome, took))
        print(f"=== {step.name}: {outcome} in {took:.0f} s", flush=True)
    tests = junit_summary(out / "pytest-cuda.xml")
    report(out, [*header, "", f"CUDA tests: {tests or 'no JUnit report'}.",
                 f"Total {time.monotonic() - t_start:.0f} s of a {args.budget:.0f} s budget."],
           rows, kind)
    bad = [s.name for s, outcome, _ in rows if outcome != "passed"]
    print(f"\ngpu_check: {len(rows) - len(bad)} of {len(rows)} steps passed"
          + (f"; not passed: {', '.join(bad)}" if bad else "") + f"; results in {out}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
