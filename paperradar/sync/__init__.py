"""Live sources: clients that fetch arXiv and Hugging Face and import what they get.

The parsers live in :mod:`paperradar.sources` and know nothing of the
network; this package fetches (politely: :mod:`.http`), hands each page to
the import pipeline and records progress in the store (:mod:`.run`).

* :mod:`.oai` arXiv OAI-PMH ListRecords harvests, resumable page by page
* :mod:`.arxiv_api` the arXiv API, by id or query
* :mod:`.rss` the daily listings of rss.arxiv.org
* :mod:`.hf` Hugging Face Daily Papers, with upvotes
* :mod:`.runner` ``sync --all`` and ``sync status``; :mod:`.schedule` runs it periodically
* :mod:`.config` the TOML configuration file
* :mod:`.run` one run: fetch, check, import, embed, record each page
"""
