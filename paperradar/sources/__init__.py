"""Sources: every format paperradar reads, and how it is recognised.

A parser is a function ``parse(stream, name) -> Iterator[(line, Paper | Reject)]``
over a binary stream. It yields papers and rejected records, and raises
:class:`~paperradar.model.FormatError` (or lets a decompression/IO error
through) when the input itself is damaged: what was yielded before stays
good. Parsers know nothing about storage or the web.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

from ..model import Item

Parser = Callable[[BinaryIO, str], Iterator[Item]]

# name -> (module, function, description). Modules load on first use so the
# CLI starts fast and a broken optional parser cannot break the others.
FORMATS: dict[str, tuple[str, str, str]] = {
    "arxiv-jsonl": ("arxiv_jsonl", "parse", "arXiv listing JSON lines (arxiv_id, listed, ...)"),
    "kaggle": ("kaggle", "parse", "Kaggle arXiv metadata snapshot (JSON lines)"),
    "hf-daily": ("hf_json", "parse_daily", "Hugging Face /api/daily_papers response"),
    "hf-search": ("hf_json", "parse_search", "Hugging Face /api/papers/search response"),
    "arxiv-api": ("arxiv_xml", "parse_api", "arXiv API Atom response"),
    "arxiv-oai": ("arxiv_oai", "parse_oai", "arXiv OAI-PMH (arXiv, arXivRaw, oai_dc)"),
    "arxiv-rss": ("arxiv_rss", "parse_rss", "arXiv RSS 2.0 / RSS 1.0 (RDF) / Atom listing"),
    "bibtex": ("bib", "parse_bibtex", "BibTeX (arXiv export, Zotero, Semantic Scholar)"),
    "csl-json": ("csl_json", "parse_csl_json", "CSL-JSON (Zotero / Better BibTeX export)"),
    "ris": ("ris", "parse_ris", "RIS (Zotero export)"),
    "hf-page": ("hf_page", "parse", "Hugging Face papers listing page copied as text"),
    "jsonl": ("generic", "parse_jsonl", "generic JSON lines / JSON array with common field names"),
    "csv": ("generic", "parse_csv", "generic CSV with a header row"),
}


def parser_for(fmt: str) -> Parser:
    """The parse function of a format name from :data:`FORMATS`."""
    module, func, _ = FORMATS[fmt]
    mod = importlib.import_module(f"{__name__}.{module}")
    return getattr(mod, func)  # type: ignore[no-any-return]
