#!/usr/bin/env bash
# Set up paperradar in ./.venv and import papers so there is something to search.
#   ./quickstart.sh                 import the shared 115k arXiv file (../shared/data/arxiv)
#   ./quickstart.sh FILE_OR_DIR...  import what you name instead
# The database goes to $PAPERRADAR_DB, else your data directory (see `paperradar --help`).
set -euo pipefail
cd "$(dirname "$0")"

scripts/setup_venv.sh

if [ "$#" -eq 0 ]; then
    set -- ../shared/data/arxiv/arxiv-2025-2026.jsonl.gz ../shared/data/hf-daily-papers
fi
echo "== importing $*"
.venv/bin/paperradar import "$@" || echo "(some inputs could not be read; see above)"
echo "== what is in the database"
.venv/bin/paperradar stats
echo
echo "Try:  .venv/bin/paperradar search 'diffusion transformer' --limit 5"
echo "      .venv/bin/paperradar feed --date 2026-06-30 --limit 10"
