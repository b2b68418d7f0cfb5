#!/usr/bin/env bash
# Set up paperradar in ./.venv, import papers so there is something to read, and start the web app.
#   ./quickstart.sh                 import the shared 115k arXiv file and HF Daily Papers (../shared/data)
#   ./quickstart.sh FILE_OR_DIR...  import what you name instead
#   ./quickstart.sh --no-serve ...  stop after the import (also: PAPERRADAR_NO_SERVE=1)
# The database goes to $PAPERRADAR_DB, else your data directory (see `paperradar --help`).
# The site listens on 127.0.0.1:8000 (PAPERRADAR_PORT changes the port); Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")"

serve=1
if [ "${PAPERRADAR_NO_SERVE:-}" = "1" ]; then serve=0; fi
if [ "${1:-}" = "--no-serve" ]; then serve=0; shift; fi

scripts/setup_venv.sh

if [ "$#" -eq 0 ]; then
    set -- ../shared/data/arxiv/arxiv-2025-2026.jsonl.gz ../shared/data/hf-daily-papers
fi
echo "== importing $*"
if [ "$serve" = "1" ]; then
    # Store and keyword-index now; the server embeds in the background, so the site is up at once.
    .venv/bin/paperradar import --no-embed "$@" || echo "(some inputs could not be read; see above)"
else
    .venv/bin/paperradar import "$@" || echo "(some inputs could not be read; see above)"
fi
echo "== what is in the database"
.venv/bin/paperradar stats
echo
echo "Try:  .venv/bin/paperradar search 'diffusion transformer' --limit 5"
echo "      .venv/bin/paperradar feed --date 2026-06-30 --limit 10"
if [ "$serve" = "1" ]; then
    port="${PAPERRADAR_PORT:-8000}"
    echo
    echo "== starting the web app: open http://127.0.0.1:${port}/ (Ctrl-C stops it)"
    echo "   (papers are embedded in the background meanwhile: similar papers and semantic search fill in)"
    exec .venv/bin/paperradar serve --port "$port" --embed
fi
echo "Then: .venv/bin/paperradar serve   (the web app at http://127.0.0.1:8000/)"
