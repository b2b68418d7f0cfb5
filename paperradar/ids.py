"""Paper identifiers: arXiv ids, DOIs and the key the store files a paper under.

The key is the arXiv id without version where there is one (``2506.01234``,
``hep-th/9901001``), else the DOI, else the source's own id, else a stable
hash of the normalised title. Every source calls the same functions so that
the same paper gets the same key whichever file it came from.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

# New style since 2007: YYMM.NNNN (to 2014) or YYMM.NNNNN, optional version.
_NEW = r"(?P<new>\d{4}\.\d{4,5})"
# Old style: archive[.SUBJECT]/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136.
_OLD = r"(?P<old>[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})"
_VERSION = r"(?:v(?P<version>\d+))?"
_ARXIV_RE = re.compile(rf"^(?:{_NEW}|{_OLD}){_VERSION}$")
_ARXIV_IN_TEXT = re.compile(
    rf"(?:arxiv(?:\.org)?(?:/abs|/pdf)?[:/]\s*|10\.48550/arxiv\.)(?:{_NEW}|{_OLD}){_VERSION}",
    re.IGNORECASE,
)
_PREFIXES = re.compile(
    r"^(?:https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/|oai:arxiv\.org:|arxiv:|10\.48550/arxiv\.)",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[^\w]+")
_PDF_SUFFIX = re.compile(r"\.pdf$")
_DOI_RE = re.compile(r"(10\.\d{4,9}/\S+)", re.IGNORECASE)


def parse_arxiv_id(text: str | None) -> tuple[str, int | None] | None:
    """Return ``(id_without_version, version)`` if ``text`` is an arXiv id.

    Accepts the bare id and the common wrappers (``arXiv:``, abs/pdf URLs,
    ``oai:arXiv.org:``, the arXiv DOI ``10.48550/arXiv.``). Old-style ids keep
    their archive but lose the subject class (``math.GT/0309136`` files under
    ``math/0309136``), as arXiv itself does.
    """
    if not text:
        return None
    m = _ARXIV_RE.match(text)  # the common case, a bare id, without the clean-up below
    if m:
        return _from_match(m)
    s = _PREFIXES.sub("", text.strip())
    s = _PDF_SUFFIX.sub("", s)
    m = _ARXIV_RE.match(s)
    if not m:
        return None
    return _from_match(m)


def find_arxiv_id(text: str | None) -> tuple[str, int | None] | None:
    """Find an arXiv id mentioned inside free text (a note, URL or DOI)."""
    if not text:
        return None
    whole = parse_arxiv_id(text)
    if whole:
        return whole
    m = _ARXIV_IN_TEXT.search(text)
    return _from_match(m) if m else None


def _from_match(m: re.Match[str]) -> tuple[str, int | None]:
    if m.group("new"):
        ident = m.group("new")
    else:
        archive, number = m.group("old").split("/")
        ident = f"{archive.split('.')[0].lower()}/{number}"
    version = m.group("version")
    return ident, int(version) if version else None


def normalize_doi(text: str | None) -> str | None:
    """Lower-case DOI without resolver prefix, or None if there is none."""
    if not text:
        return None
    m = _DOI_RE.search(text.strip())
    if not m:
        return None
    return m.group(1).rstrip(".,;").lower()


def normalize_title(title: str) -> str:
    """Title folded for matching: no accents, case, TeX braces or punctuation."""
    s = title
    if not s.isascii():
        s = unicodedata.normalize("NFKD", s)
        s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = _NON_WORD.sub(" ", s.lower())
    return " ".join(s.split())


@lru_cache(maxsize=16384)  # the merge asks for the same titles several times per batch
def title_key(title: str) -> str:
    """Stable hash of the normalised title: the key of last resort."""
    digest = hashlib.sha1(normalize_title(title).encode("utf-8")).hexdigest()
    return f"title:{digest[:16]}"


def paper_key(arxiv_id: str | None, doi: str | None, source_id: str | None, title: str) -> str:
    """The store key, in order of preference: arXiv id, DOI, source id, title hash."""
    if arxiv_id:
        return arxiv_id
    if doi:
        return f"doi:{doi}"
    if source_id:
        return str(source_id)
    return title_key(title)
