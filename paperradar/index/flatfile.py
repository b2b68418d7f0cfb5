"""The vector index's saved rows: a ``.npy`` of float16 vectors, row = rowid, read with ``pread``.

Kept apart from the graph (:mod:`paperradar.index.vectors`) because it is a
file format with one reason to exist: scoring a shortlist or a filtered
candidate set exactly, without mapping the whole file into the reader.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path

import numpy as np


class FlatFile:
    """A saved ``.npy`` of float16 rows (row = rowid), read row by row with ``pread``.

    Not memory-mapped on purpose: the kernel maps file pages into a process
    in large folios, so scoring a few thousand random rows made the whole
    file count in the reader's RSS (738 MiB for 20,000 rows of 1M, measured).
    ``pread`` copies just the rows asked for.
    """

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(f)
            self.offset = f.tell()
        if len(shape) != 2 or fortran or np.dtype(dtype) != np.float16:
            raise ValueError(f"{path}: not a C-order float16 matrix")
        self.rows, self.dim = shape
        self.row_bytes = self.dim * 2
        self.fd = os.open(path, os.O_RDONLY)
        self._finalizer = weakref.finalize(self, os.close, self.fd)

    def read(self, keys: np.ndarray) -> np.ndarray:
        """Rows ``keys`` as float32 (in the order given)."""
        size, base, fd = self.row_bytes, self.offset, self.fd
        data = b"".join(os.pread(fd, size, base + key * size) for key in keys.tolist())
        return np.frombuffer(data, dtype=np.float16).reshape(len(keys), self.dim).astype(np.float32)


def put_rows(flat: np.ndarray, keys: np.ndarray, vecs: np.ndarray, dim: int) -> np.ndarray:
    """``flat`` with rows ``keys`` set to ``vecs`` (grown, with headroom, when a key is past its end)."""
    if len(keys) and int(keys.max()) >= len(flat):
        bigger = np.zeros((int(int(keys.max()) * 1.1) + 1024, dim), dtype=np.float16)
        bigger[: len(flat)] = flat
        flat = bigger
    if len(keys):
        flat[keys] = vecs.astype(np.float16)
    return flat
