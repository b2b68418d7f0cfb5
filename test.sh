#!/usr/bin/env bash
# Run paperradar's test suite (sets up ./.venv first if needed). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup_venv.sh
exec .venv/bin/python -m pytest "$@"
