"""The vector index's saved rows, row = rowid: float16 vectors read with ``pread``, and their int8 copy scanned in slices.

Kept apart from the graph (:mod:`paperradar.index.vectors`) because they are
file formats with one reason to exist: scoring a shortlist or a filtered
candidate set exactly, without mapping a whole float16 file into the reader.

- ``vectors.npy`` (float16) ranks a shortlist: a few hundred rows, each read
  with ``pread``.
- ``vectors.i8.npy`` (int8, each row scaled so its largest component is
  127) scans a large candidate set (a filter passed by 230,000 of a
  million papers): the rows are gathered a bounded slice at a time and
  scored by usearch's SIMD kernel, and the best few hundred are then ranked
  by their float16 vectors. Per-row scaling keeps the cosine of the int8
  rows within 0.003 of the true one (the graph's own int8 copy, scaled by
  127 for every row: 0.016; 50,000 rows of the 1M benchmark, 20 queries),
  and cosine does not care about a row's scale.
"""

from __future__ import annotations

import mmap
import os
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np

SCAN_SLICE = 32_768  # int8 rows gathered and scored at once (12 MiB at 384 dimensions)


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


class Int8File:
    """A saved ``.npy`` of int8 rows (row = rowid; all zeros: no vector), mapped read-only and scanned.

    Mapped rather than read with ``pread``: a scan touches a large share of
    the rows, and one ``pread`` per row costs more than the scoring (230,000
    float16 rows read and converted: 430-650 ms at load 6, against 25-60 ms
    for the whole int8 scan; measured at a million papers). The mapping is
    file cache the kernel can drop, not the process's own memory, and each
    slice's pages are given back to it after the gather; what the process
    allocates is one slice at a time.
    """

    def __init__(self, path: Path) -> None:
        mapped = np.load(path, mmap_mode="r")
        if mapped.ndim != 2 or mapped.dtype != np.int8 or mapped.shape[1] % 8:
            raise ValueError(f"{path}: not an int8 matrix of whole 8-byte rows")
        # A plain array over the mapping: np.take on it gathers 3-4 times faster than
        # indexing the np.memmap subclass (measured: 23-32 against 84-183 ms for 230,000 rows).
        self.matrix = mapped.view(np.ndarray)
        self.rows, self.dim = mapped.shape
        self._mapping = mapped._mmap  # numpy's own mmap object, for madvise
        self._base = mapped.offset % mmap.ALLOCATIONGRANULARITY  # where row 0 starts in that mapping
        self.release = True  # give each slice's mapped pages back (see scan)

    def scan(self, keys: np.ndarray, query: np.ndarray, count: int,
             kernel: Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """The ``count`` keys (of ``keys``, sorted, all below :attr:`rows`) nearest ``query``, by int8 cosine.

        ``kernel(rows, query, count)`` returns (positions, distances) of the
        nearest rows (usearch's exact search). Rows without a vector (all
        zeros) are left out. Gathered :data:`SCAN_SLICE` rows at a time, so
        memory stays flat whatever the number of keys.
        """
        q = quantize(query.reshape(1, -1))[0]
        best_k: list[np.ndarray] = []
        best_d: list[np.ndarray] = []
        for i in range(0, len(keys), SCAN_SLICE):
            part = keys[i : i + SCAN_SLICE]
            rows = np.take(self.matrix, part, axis=0)  # one gather from the mapping: the slice's own copy
            if self.release and self._mapping is not None:
                # The slice's pages stay in the kernel's file cache but leave this process's RSS:
                # at a million papers a category's scan would map most of the 366 MiB file
                # (measured: file pages 566 MiB after scans without this, 200 with it; no slower).
                start = (self._base + int(part[0]) * self.dim) // mmap.PAGESIZE * mmap.PAGESIZE
                self._mapping.madvise(mmap.MADV_DONTNEED, start, self._base + (int(part[-1]) + 1) * self.dim - start)
            present = rows.view(np.int64).any(axis=1)  # 8 bytes at a time: a zero row has no vector
            if not present.all():
                part, rows = part[present], rows[present]
            if not len(part):
                continue
            pos, dist = kernel(rows, q, min(count, len(part)))
            best_k.append(part[pos])
            best_d.append(dist)
            if len(best_k) > 1:  # keep only the running best: bounded whatever the number of slices
                k, d = np.concatenate(best_k), np.concatenate(best_d)
                top = np.argsort(d, kind="stable")[:count]
                best_k, best_d = [k[top]], [d[top]]
        return best_k[0] if best_k else np.zeros(0, dtype=np.int64)


def quantize(vecs: np.ndarray) -> np.ndarray:
    """Rows scaled so their largest component is +-127, as int8 (a zero row stays zero)."""
    vecs = np.asarray(vecs, dtype=np.float32)
    peak = np.abs(vecs).max(axis=1, keepdims=True)
    scale = np.divide(127.0, peak, out=np.zeros_like(peak), where=peak > 0)
    return np.clip(np.rint(vecs * scale), -127, 127).astype(np.int8)


def quantize_all(flat: np.ndarray, chunk: int = 65_536) -> np.ndarray:
    """The int8 copy of a whole float16 matrix, made a chunk at a time (memory: the result plus a chunk)."""
    out = np.zeros(flat.shape, dtype=np.int8)
    for i in range(0, len(flat), chunk):
        out[i : i + chunk] = quantize(flat[i : i + chunk])
    return out


def put_rows(flat: np.ndarray, keys: np.ndarray, vecs: np.ndarray, dim: int) -> np.ndarray:
    """``flat`` with rows ``keys`` set to ``vecs`` (grown, with headroom, when a key is past its end)."""
    if len(keys) and int(keys.max()) >= len(flat):
        bigger = np.zeros((int(int(keys.max()) * 1.1) + 1024, dim), dtype=np.float16)
        bigger[: len(flat)] = flat
        flat = bigger
    if len(keys):
        flat[keys] = vecs.astype(np.float16)
    return flat
