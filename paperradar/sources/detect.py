"""Recognise an input's format from its first bytes, not its file name.

One function, read top to bottom: XML flavours by their root element, JSON
by its first record's fields, then the text formats by their markers.
Returns a name from :data:`paperradar.sources.FORMATS` or None.
"""

from __future__ import annotations

import re

import orjson

HEAD_BYTES = 256 * 1024


def detect(head: bytes) -> str | None:
    """The format of an input that starts with ``head`` (decompressed)."""
    if not head.strip():
        return None
    if looks_binary(head):
        return None
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return _detect_xml(text)
    if text.startswith(b"[") or text.startswith(b"{"):
        return _detect_json(text)
    return _detect_text(text)


def looks_binary(head: bytes) -> bool:
    sample = head[:8192]
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control > len(sample) // 100 + 1


def _detect_xml(text: bytes) -> str | None:
    root = re.search(rb"<(?![?!])([\w:.-]+)", text)
    if not root:
        return None
    tag = root.group(1).split(b":")[-1]
    if tag == b"OAI-PMH":
        return "arxiv-oai"
    if tag in (b"rss", b"RDF"):
        return "arxiv-rss"
    if tag == b"feed":
        # The API answers carry OpenSearch counts; the listing feeds do not.
        return "arxiv-api" if b"opensearch" in text[:4096].lower() else "arxiv-rss"
    return None


def _first_json_object(text: bytes) -> dict | None:
    """Parse the first object of a JSON array or of JSON lines, if it fits in the head."""
    if text.startswith(b"["):
        body = text[1:].lstrip()
        if body.startswith(b"]"):
            return {}
        # Cut at the end of the first top-level object by decoding prefixes.
        depth, in_str, esc = 0, False, False
        for i, ch in enumerate(body):
            if in_str:
                if esc:
                    esc = False
                elif ch == 0x5C:
                    esc = True
                elif ch == 0x22:
                    in_str = False
            elif ch == 0x22:
                in_str = True
            elif ch == 0x7B:
                depth += 1
            elif ch == 0x7D:
                depth -= 1
                if depth == 0:
                    try:
                        obj = orjson.loads(body[: i + 1])
                    except orjson.JSONDecodeError:
                        return None
                    return obj if isinstance(obj, dict) else None
        return None
    line = text.split(b"\n", 1)[0]
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        try:  # a single pretty-printed object
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
    return obj if isinstance(obj, dict) else None


def _detect_json(text: bytes) -> str | None:
    obj = _first_json_object(text)
    if obj is None:
        # The first record is larger than the head we read: decide on markers.
        if re.search(rb'^\s*\[\s*\{\s*"paper"\s*:', text):
            return "hf-search" if b'"highlightedTitle"' in text or b'"upvoted"' in text else "hf-daily"
        return "jsonl"
    if not obj:
        return "jsonl"  # an empty array: nothing to import, but not an error
    if isinstance(obj.get("paper"), dict):
        # Search results carry highlight fields; daily listings carry the submitter.
        if "highlightedTitle" in obj or "highlightedSummary" in obj or "upvoted" in obj:
            return "hf-search"
        return "hf-daily"
    if "arxiv_id" in obj and "listed" in obj:
        return "arxiv-jsonl"
    if "submitter" in obj and ("versions" in obj or "authors_parsed" in obj):
        return "kaggle"
    if text.startswith(b"[") and "type" in obj and ("author" in obj or "issued" in obj or "citation-key" in obj):
        return "csl-json"
    return "jsonl"


def _detect_text(text: bytes) -> str | None:
    head = text[:HEAD_BYTES].decode("utf-8", errors="replace")
    stripped = "\n".join(line for line in head.splitlines() if not line.lstrip().startswith("%"))
    if re.search(r"^\s*@\s*\w+\s*[{(]", stripped, re.MULTILINE):
        return "bibtex"
    if re.match(r"^TY  - ", head):
        return "ris"
    first = head.split("\n", 1)[0]
    if "," in first and re.search(r"(^|,)\s*\"?title\"?\s*(,|$)", first, re.IGNORECASE):
        return "csv"
    if _looks_like_listing(head):
        return "hf-page"
    return None


def _looks_like_listing(head: str) -> bool:
    """A copied papers page: HF's page chrome, or title lines each followed
    by a long abstract paragraph."""
    lines = [line.strip() for line in head.splitlines() if line.strip()]
    if any(line.startswith("Get trending papers in your email inbox") for line in lines[:5]):
        return True
    markdown = sum(1 for line in lines if re.match(r"^(#|\||[-*] |```|>)", line))
    if markdown:
        return False
    pairs = sum(
        1
        for a, b in zip(lines, lines[1:])
        if 10 <= len(a) <= 300 and not a.endswith(".") and len(b) >= 400
    )
    return pairs >= 3
