"""Opening what the user names: files, directories, gzip files and stdin.

Each input becomes a :class:`Input` with a buffered binary stream that
decompresses gzip transparently (recognised by its magic bytes, not its
name) and reports how many raw bytes were consumed, so progress bars can
show rate and ETA against the file size.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
BUFFER = 1 << 20


class _Counting(io.RawIOBase):
    """Raw reader that counts the bytes it hands on (for progress)."""

    def __init__(self, raw: BinaryIO, on_bytes: Callable[[int], None] | None) -> None:
        self._raw = raw
        self._on_bytes = on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[no-untyped-def]
        data = self._raw.read(len(buf))
        n = len(data)
        buf[:n] = data
        if self._on_bytes and n:
            self._on_bytes(n)
        return n

    def close(self) -> None:
        if self._raw is not sys.stdin.buffer:
            self._raw.close()
        super().close()


class _Gunzip(io.RawIOBase):
    """Raw gzip reader that hands over every byte decompressed before damage.

    GzipFile's own buffered reads fill whole buffers and drop what they
    decompressed when a truncated stream ends in the middle of one; read1
    returns after one step, so the error comes on the next call, after the
    good data has been passed on.
    """

    def __init__(self, fileobj: io.BufferedReader) -> None:
        self._gz = gzip.GzipFile(fileobj=fileobj, mode="rb")  # type: ignore[arg-type]

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[no-untyped-def]
        data = self._gz.read1(len(buf))
        n = len(data)
        buf[:n] = data
        return n

    def close(self) -> None:
        self._gz.close()
        super().close()


@dataclass
class Input:
    """One named input: ``name`` is what error messages show."""

    name: str
    size: int | None  # raw bytes on disk, None for stdin
    path: Path | None
    data: bytes | None = None  # an input already in memory (a page a sync client fetched)

    def open(self, on_bytes: Callable[[int], None] | None = None) -> io.BufferedReader:
        """Open for reading; gzip content is decompressed on the fly."""
        raw: BinaryIO
        if self.data is not None:
            raw = io.BytesIO(self.data)
        elif self.path is None:
            raw = sys.stdin.buffer
        else:
            raw = open(self.path, "rb")
        counted = io.BufferedReader(_Counting(raw, on_bytes), BUFFER)
        if counted.peek(2)[:2] == GZIP_MAGIC:
            return io.BufferedReader(_Gunzip(counted), BUFFER)
        return counted


def expand(paths: list[str]) -> Iterator[Input]:
    """Inputs for the given paths: directories are walked recursively in
    name order (hidden files skipped), ``-`` is stdin. A missing path raises
    FileNotFoundError so the caller can report it and go on."""
    for p in paths:
        if p == "-":
            yield Input("<stdin>", None, None)
            continue
        path = Path(p)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for f in sorted(files):
                    if not f.startswith("."):
                        fp = Path(root) / f
                        yield Input(str(fp), fp.stat().st_size, fp)
        elif path.exists():
            yield Input(str(path), path.stat().st_size, path)
        else:
            raise FileNotFoundError(p)
