#!/usr/bin/env bash
# Run paperradar's test suite (sets up ./.venv first if needed). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import paperradar, pytest" 2>/dev/null; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --upgrade pip
    .venv/bin/pip install --quiet -e '.[dev]'
fi
exec .venv/bin/python -m pytest "$@"
