"""Generic JSON and CSV: whatever a script, a spreadsheet or an API dumped.

This module finds the records and the line each starts on: JSON lines, one
JSON document (an array, concatenated values, an API's object wrapping a
list of papers), or the rows of a CSV with a header; a broken line or row is
rejected alone. What a record's fields mean is decided by
:func:`.generic_fields.generic_paper`.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from itertools import chain
from typing import Any, BinaryIO, cast

import orjson

from ..model import FormatError, Item, Reject
from .common import finish, json_lines
from .generic_fields import _TITLE_KEYS, generic_paper

SOURCE_JSONL = "jsonl"
SOURCE_CSV = "csv"

# Objects that wrap a list of papers: OpenAlex {"results": [...]}, S2 {"data": [...]}.
_WRAPPER_KEYS = ("results", "data", "items", "papers", "records")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
_BROKEN = object()  # a line that is not JSON, as opposed to None, the end of input
# Far above any real field, far below what would exhaust memory.
_CSV_FIELD_LIMIT = 256 * 1024 * 1024


# ---------------------------------------------------------------------------
# JSON


def parse_jsonl(stream: BinaryIO, name: str) -> Iterator[Item]:
    """JSON lines, or one JSON document (an array, an object, a wrapper).

    The first non-blank line decides: a complete object means JSON lines,
    read streaming with one Reject per bad line. Otherwise it is one
    (pretty-printed) document, read whole; unless the next line is a
    complete object, which means JSON lines whose first line is broken.
    """
    head: list[bytes] = []
    if _is_json_lines(stream, head):
        if head and head[0].startswith(b"\xef\xbb\xbf"):
            head[0] = head[0][3:]
        # json_lines only iterates its argument; the lines already read go first.
        for line, obj in json_lines(cast(BinaryIO, chain(head, stream))):
            yield (line, obj) if isinstance(obj, Reject) else finish(generic_paper(obj, SOURCE_JSONL), line)
        return
    data = b"".join(head) + stream.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{name}: JSON document is not valid UTF-8 (byte {exc.start})") from exc
    for line, obj in json_values(text, name):
        if isinstance(obj, dict):
            yield finish(generic_paper(obj, SOURCE_JSONL), line)
        else:
            yield line, Reject(line, "not a JSON object")


def _is_json_lines(stream: BinaryIO, head: list[bytes]) -> bool:
    """Read up to two non-blank lines into ``head`` and tell JSON lines from a document."""
    first = _next_value(stream, head)
    if first is None:
        return True  # empty input: nothing to do either way
    if first is not _BROKEN:
        return not isinstance(first, list)
    second = _next_value(stream, head)
    return isinstance(second, dict)


def _next_value(stream: BinaryIO, head: list[bytes]) -> Any:
    """The next non-blank line parsed as JSON, _BROKEN if it is not, None at the end."""
    for raw in stream:
        head.append(raw)
        if raw.strip():
            try:
                return orjson.loads(raw.lstrip(b"\xef\xbb\xbf"))
            except orjson.JSONDecodeError:
                return _BROKEN
    return None


def json_values(text: str, name: str) -> list[tuple[int, Any]]:
    """(line, value) for every record of a JSON document, in order.

    A top-level array gives its elements, an object its own self (or the
    elements of the list it wraps, e.g. OpenAlex ``results``), and several
    concatenated values (``jq`` output) each of those. Each line is where
    the record's value starts. A broken document raises FormatError before
    any record is returned: nothing in it can be trusted.
    """
    out: list[tuple[int, Any]] = []
    lines = _LineCounter(text)
    try:
        idx = _skip(text, 1 if text.startswith("\ufeff") else 0)
        while idx < len(text):
            if text[idx] == "[":
                idx = _array_items(text, idx, lines, out)
            else:
                value, end = _DECODER.raw_decode(text, idx)
                key = _wrapped_list(value)
                if key is None:
                    out.append((lines.at(idx), value))
                else:
                    _array_items(text, _member_offset(text, idx, key), lines, out)
                idx = end
            idx = _skip(text, idx)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{name}: broken JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise FormatError(f"{name}: JSON nested too deeply") from exc
    return out


class _LineCounter:
    """1-based line of increasing offsets, counting each newline once."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos: int) -> int:
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def _skip(text: str, idx: int) -> int:
    match = _SPACE.match(text, idx)
    return match.end() if match else idx


def _array_items(text: str, idx: int, lines: _LineCounter, out: list[tuple[int, Any]]) -> int:
    """Append the elements of the array opening at ``idx``; return the offset after it."""
    idx = _skip(text, idx + 1)
    if text.startswith("]", idx):
        return idx + 1
    while True:
        value, end = _DECODER.raw_decode(text, idx)
        out.append((lines.at(idx), value))
        idx = _skip(text, end)
        if text.startswith(",", idx):
            idx = _skip(text, idx + 1)
        elif text.startswith("]", idx):
            return idx + 1
        else:
            raise json.JSONDecodeError("Expecting ',' delimiter or ']'", text, idx)


def _wrapped_list(value: Any) -> str | None:
    """The key of the paper list inside an API response object, if it is one."""
    if not isinstance(value, dict) or any(k in value for k in _TITLE_KEYS):
        return None
    for key in _WRAPPER_KEYS:
        items = value.get(key)
        if isinstance(items, list) and items and all(isinstance(i, dict) for i in items):
            return key
    return None


def _member_offset(text: str, idx: int, wanted: str) -> int:
    """Offset of the value of key ``wanted`` in the (valid) object at ``idx``."""
    idx = _skip(text, idx + 1)
    while True:
        key, idx = _DECODER.raw_decode(text, idx)
        idx = _skip(text, _skip(text, idx) + 1)  # past the colon
        if key == wanted:
            return idx
        _, idx = _DECODER.raw_decode(text, idx)
        idx = _skip(text, _skip(text, idx) + 1)  # past the comma


# ---------------------------------------------------------------------------
# CSV


def parse_csv(stream: BinaryIO, name: str) -> Iterator[Item]:
    """Rows of a CSV with a header, each at the line where the row starts.

    Lines are decoded one by one so a row with invalid UTF-8 is rejected
    alone; quoted fields may span lines.
    """
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    lines = _text_lines(stream)
    first = next(lines, None)
    if first is None:
        return
    first = first.lstrip("\ufeff")
    reader = csv.reader(chain([first], lines), delimiter=_delimiter(first))
    try:
        header = [_header_name(h) for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise FormatError(f"{name}: CSV header unreadable") from exc
    yield from _csv_rows(reader, header)


def _csv_rows(reader: Any, header: list[str]) -> Iterator[Item]:
    prev = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield prev + 1, Reject(prev + 1, "broken CSV", str(exc))
            prev = reader.line_num
            continue
        start, prev = prev + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if any(_SURROGATE.search(cell) for cell in row):
            yield start, Reject(start, "bad encoding", "invalid UTF-8")
            continue
        # Quoted fields keep the file's CRLF; paragraph detection wants "\n".
        record = {h: v.replace("\r\n", "\n") for h, v in zip(header, row, strict=False) if h and v.strip()}
        yield finish(generic_paper(record, SOURCE_CSV), start)


def _text_lines(stream: BinaryIO) -> Iterator[str]:
    """Lines as text; undecodable bytes become surrogates the row check finds."""
    for raw in stream:
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            yield raw.decode("utf-8", errors="surrogateescape")


def _delimiter(header: str) -> str:
    """Comma, unless the header plainly uses tabs or semicolons instead."""
    if "," in header:
        return ","
    return "\t" if "\t" in header else ";" if ";" in header else ","


def _header_name(text: str) -> str:
    """Header "Abstract Note" -> "abstract_note": Zotero-style headers match JSON keys."""
    return "_".join(text.strip().lower().split())
