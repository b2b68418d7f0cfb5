"""The arXiv listing JSON lines of ../shared/data/arxiv.

One object per line: ``arxiv_id`` (sometimes with a version), ``title``,
``abstract``, ``authors`` (list), ``categories`` (primary first),
``comment`` and ``listed``, the day the paper appeared in a daily listing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from ..model import Item, Paper, Reject
from .common import clean_abstract, finish, iso_date, json_lines

SOURCE = "arxiv-listing"


def parse(stream: BinaryIO, name: str) -> Iterator[Item]:
    for line, obj in json_lines(stream):
        if isinstance(obj, Reject):
            yield line, obj
            continue
        listed = iso_date(obj.get("listed"))
        authors = obj.get("authors")
        categories = obj.get("categories")
        yield finish(
            Paper(
                title=obj.get("title") or "",
                abstract=clean_abstract(obj.get("abstract")),
                authors=authors if isinstance(authors, list) else [],
                categories=categories if isinstance(categories, list) else [],
                arxiv_id=obj.get("arxiv_id") or None,
                published=listed,
                comment=obj.get("comment") or None,
                meta_date=listed,
                source=SOURCE,
            ),
            line,
        )
