#!/usr/bin/env bash
# The GPU check (`make gpu-check`): on a fresh machine with this repository, make the environment the
# README's way, then run the CUDA tests and the GPU benchmarks (benchmarks/gpu_check.py says which, and how
# long each may take: about 8 minutes in all). Results go to $OUT (default benchmarks/gpu_out): gpu_check.log,
# gpu_tables.md, README.md (benchmarks/README.md with this run's cuda blocks), pytest-cuda.xml, environment.txt.
# Without a CUDA device it says "no CUDA device: skipped …" and exits 0. GPU_CHECK_SECONDS (default 450) bounds
# the whole run, GPU_CHECK_INSTALL_SECONDS (default 120) the environment's part of it.
#
#   benchmarks/gpu_check.sh                 # make .venv from requirements.txt (as `make test` does), then run
#   benchmarks/gpu_check.sh --no-venv       # use $PYTHON (default .venv/bin/python, else python3) as it is
#   benchmarks/gpu_check.sh --smoke         # the same steps on the CPU, tiny: checks the plumbing
#
# Where no package registry can be reached (a GPU machine lent without network), `make` cannot install
# requirements.txt; the check then runs under $PYTHON's own packages (the image's torch) and says so in
# environment.txt and gpu_tables.md, rather than stopping. Other arguments go to gpu_check.py.
set -uo pipefail
cd "$(dirname "$0")/.."
venv=1
args=()
for a in "$@"; do
    case "$a" in
        --no-venv) venv=0 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) args+=("$a") ;;
    esac
done

export OUT="${OUT:-benchmarks/gpu_out}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/gpu_check.log") 2>&1
tee_pid=$!
total="${GPU_CHECK_SECONDS:-450}"  # the whole run, the environment included: about 8 minutes with the start

if [ "$venv" = 0 ]; then
    if [ -z "${PYTHON:-}" ]; then
        if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
    fi
    note="not made (--no-venv): $PYTHON as it is"
elif ! command -v make >/dev/null; then
    PYTHON="${PYTHON:-python3}"
    note="not made (no make on this machine): $PYTHON as it is"
else
    # The README's way (make test's set-up); pip gives up quickly where no registry answers.
    echo "gpu_check: make .venv/.installed (at most ${GPU_CHECK_INSTALL_SECONDS:-120} s)"
    if PIP_DEFAULT_TIMEOUT=10 PIP_RETRIES=0 PIP_DISABLE_PIP_VERSION_CHECK=1 \
        timeout "${GPU_CHECK_INSTALL_SECONDS:-120}" make .venv/.installed PYTHON="${PYTHON:-python3}"; then
        note="made the README's way (make .venv/.installed from requirements.txt)"
        PYTHON=.venv/bin/python
    else
        PYTHON="${PYTHON:-python3}"
        note="could not be made the README's way (make .venv/.installed failed: no package registry?), so $PYTHON \
as it is, with its own torch, not requirements.txt's pins"
        echo "gpu_check: $note"
    fi
fi
echo "gpu_check: environment $note"
"$PYTHON" benchmarks/gpu_check.py --out "$OUT" --python "$PYTHON" --env-note "$note" \
    --budget "$((total - SECONDS))" ${args[@]+"${args[@]}"}
rc=$?
exec >&- 2>&-  # tee sees the end of the log, writes it out, and exits
wait "$tee_pid"
exit "$rc"
