#!/usr/bin/env bash
# Set up paperradar in ./.venv, import papers so there is something to read, and start the web app.
#   ./quickstart.sh                 import the shared 115k arXiv file and HF Daily Papers (../shared/data)
#   ./quickstart.sh FILE_OR_DIR...  import what you name instead
#   ./quickstart.sh --live          no files: fetch the last 30 days of Hugging Face Daily Papers and today's
#                                   arXiv listing of $PAPERRADAR_CATEGORIES (default: cs.CL cs.LG cs.CV cs.AI)
#   ./quickstart.sh --no-serve ...  stop after the import (also: PAPERRADAR_NO_SERVE=1)
# The database goes to $PAPERRADAR_DB, else your data directory (see `paperradar --help`).
# The site listens on 127.0.0.1:8000 (PAPERRADAR_PORT changes the port); Ctrl-C stops it.
# Exits non-zero when the database is still empty afterwards.
set -euo pipefail
cd "$(dirname "$0")"

serve=1
live=0
if [ "${PAPERRADAR_NO_SERVE:-}" = "1" ]; then serve=0; fi
while [ "$#" -gt 0 ]; do
    case "$1" in
        --no-serve) serve=0; shift ;;
        --live) live=1; shift ;;
        *) break ;;
    esac
done

scripts/setup_venv.sh
pr=.venv/bin/paperradar
embed_flag=()
if [ "$serve" = "1" ]; then embed_flag=(--no-embed); fi  # the server embeds in the background: the site is up at once

if [ "$live" = "1" ]; then
    categories="${PAPERRADAR_CATEGORIES:-cs.CL cs.LG cs.CV cs.AI}"
    since="$(date -u -d '29 days ago' +%F)"
    echo "== fetching Hugging Face Daily Papers since $since, then today's arXiv listing of: $categories"
    # shellcheck disable=SC2086
    "$pr" sync hf-daily --since "$since" "${embed_flag[@]}" || echo "(Hugging Face could not be read; see above)"
    # shellcheck disable=SC2086
    "$pr" sync arxiv-rss $categories "${embed_flag[@]}" || echo "(the arXiv listing could not be read; see above)"
else
    if [ "$#" -eq 0 ]; then
        shared=../shared/data
        if [ ! -e "$shared/arxiv/arxiv-2025-2026.jsonl.gz" ] && [ ! -d "$shared/hf-daily-papers" ]; then
            echo "No papers to import: looked for $(cd .. && pwd)/shared/data/arxiv/arxiv-2025-2026.jsonl.gz" >&2
            echo "and $(cd .. && pwd)/shared/data/hf-daily-papers/, and found neither." >&2
            echo "Either name files to import:   ./quickstart.sh FILE_OR_DIR..." >&2
            echo "or start from the live sources: ./quickstart.sh --live" >&2
            echo "  (Hugging Face Daily Papers of the last 30 days and today's arXiv listing;" >&2
            echo "   the same as: $pr sync hf-daily --since DATE; $pr sync arxiv-rss cs.CL cs.LG)" >&2
            exit 1
        fi
        set -- "$shared/arxiv/arxiv-2025-2026.jsonl.gz" "$shared/hf-daily-papers"
    fi
    echo "== importing $*"
    "$pr" import "${embed_flag[@]}" "$@" || echo "(some inputs could not be read; see above)"
fi

echo "== what is in the database"
"$pr" stats
papers="$("$pr" stats --json | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["papers"])')"
if [ "$papers" = "0" ]; then
    echo "The database is still empty: nothing could be imported (see the messages above)." >&2
    echo "Import files with: $pr import FILE_OR_DIR...   or fetch papers: ./quickstart.sh --live" >&2
    exit 1
fi
echo
echo "Try:  $pr search 'diffusion transformer' --limit 5"
echo "      $pr feed --date \"\$($pr stats --json | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)[\"date_range\"][\"last\"])')\" --limit 10"
if [ "$serve" = "1" ]; then
    port="${PAPERRADAR_PORT:-8000}"
    echo
    echo "== starting the web app: open http://127.0.0.1:${port}/ (Ctrl-C stops it)"
    echo "   (papers are embedded in the background meanwhile: similar papers and semantic search fill in)"
    exec "$pr" serve --port "$port" --embed
fi
echo "Then: $pr serve   (the web app at http://127.0.0.1:8000/)"
