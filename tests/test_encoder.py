"""The ONNX Runtime encoder with the real packaged model, on real abstracts.

One export per test session into a temporary cache (torch export, fusion,
int8 quantization: about 10 s on 2 cores); the other tests reuse it.
"""

from __future__ import annotations

import gzip
import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import shared

from paperradar.index import encoder as enc
from paperradar.index.encoder import DIM, Encoder, Settings

N_PAPERS = 8


@pytest.fixture(scope="module")
def papers() -> list[dict]:
    with gzip.open(shared("data/arxiv/arxiv-2025-2026.jsonl.gz"), "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in itertools.islice(f, N_PAPERS)]


@pytest.fixture(scope="module")
def texts(papers: list[dict]) -> list[str]:
    return [f"{p['title']}. {p['abstract']}" for p in papers]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("encoder-cache")


@pytest.fixture(scope="module")
def default(cache_dir: Path) -> Encoder:
    return Encoder.load(cache_dir=cache_dir)


@pytest.fixture(scope="module")
def fp32(cache_dir: Path, default: Encoder) -> Encoder:
    return Encoder.load(quantize=False, cache_dir=cache_dir)


def test_shape_dtype_and_unit_length(default: Encoder, fp32: Encoder, texts: list[str]) -> None:
    for encoder in (default, fp32):
        vectors = encoder.encode(texts)
        assert vectors.shape == (len(texts), DIM) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        query = encoder.encode_query("graph neural networks")
        assert query.shape == (DIM,) and query.dtype == np.float32
    assert default.encode([]).shape == (0, DIM)
    assert np.isfinite(default.encode_query("")).all()
    with pytest.raises(TypeError):
        default.encode("one text")  # type: ignore[arg-type]


def test_order_restored_and_same_vector_whatever_the_batch(fp32: Encoder, cache_dir: Path,
                                                            texts: list[str]) -> None:
    # length-sorted batching must put every vector back in its text's place
    alone = np.stack([fp32.encode_query(t) for t in texts])
    one_worker = Encoder.load(quantize=False, workers=1, cache_dir=cache_dir)
    for encoder in (fp32, one_worker):
        for batch_size in (1, 3, 32):
            np.testing.assert_allclose(encoder.encode(texts, batch_size=batch_size), alone, atol=1e-5)
    np.testing.assert_allclose(fp32.encode(texts[::-1], batch_size=3), alone[::-1], atol=1e-5)


def test_int8_default_gives_a_text_the_same_vector_alone_or_in_a_list(default: Encoder, texts: list[str]) -> None:
    # int8 activations are quantized per run: the default runs one text at a time
    assert default.settings.quantize and default.workers >= 1
    alone = np.stack([default.encode_query(t) for t in texts])
    np.testing.assert_allclose(default.encode(texts), alone, atol=1e-5)
    np.testing.assert_allclose(default.encode(texts[::-1])[::-1], alone, atol=1e-5)


def test_int8_stays_close_to_fp32(default: Encoder, fp32: Encoder, texts: list[str]) -> None:
    cos = (default.encode(texts) * fp32.encode(texts)).sum(axis=1)
    assert cos.min() > 0.98, cos


def test_a_title_is_closest_to_its_own_abstract(default: Encoder, papers: list[dict]) -> None:
    abstracts = default.encode([p["abstract"] for p in papers])
    for i, paper in enumerate(papers):
        scores = abstracts @ default.encode_query(paper["title"])
        assert int(np.argmax(scores)) == i, (paper["title"], scores)


def test_truncation_to_max_len(cache_dir: Path, texts: list[str]) -> None:
    short = Encoder.load(max_len=16, quantize=False, cache_dir=cache_dir)
    assert max(len(ids) for ids in short.token_ids(texts)) == 16
    # only the first 16 tokens count: text after them changes nothing
    tokens = short.token_ids([texts[0]])[0]
    assert len(tokens) == 16
    longer = texts[0] + " more words"
    np.testing.assert_allclose(short.encode_query(texts[0]), short.encode_query(longer), atol=1e-6)


def test_version_names_the_settings(default: Encoder, fp32: Encoder) -> None:
    assert default.name == fp32.name == "all-MiniLM-L6-v2"
    versions = {Settings(max_len=m, quantize=q).tag() for m in (128, 256) for q in (False, True)}
    assert len(versions) == 4
    assert default.version != fp32.version
    with pytest.raises(ValueError):
        Settings(max_len=4)


def test_second_load_reuses_the_cache(cache_dir: Path, default: Encoder, texts: list[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert default.cache is not None and default.cache.built[-1] == default.settings.stage  # built once

    def no_export(target: Path) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(enc, "_export_torch", no_export)
    again = Encoder.load(cache_dir=cache_dir)
    assert again.cache is not None and again.cache.built == []
    np.testing.assert_array_equal(again.encode(texts), default.encode(texts))


def test_a_damaged_cache_file_is_rebuilt(cache_dir: Path, default: Encoder, texts: list[str],
                                         tmp_path: Path) -> None:
    copy = tmp_path / "cache"
    shutil.copytree(cache_dir, copy)
    damaged = Encoder.load(cache_dir=copy).path
    assert damaged.parent.parent == copy
    data = damaged.read_bytes()
    damaged.write_bytes(data[: len(data) // 2])  # as if killed mid-write without the rename
    rebuilt = Encoder.load(cache_dir=copy)
    assert rebuilt.cache is not None and rebuilt.cache.built == [default.settings.stage]
    np.testing.assert_allclose(rebuilt.encode(texts), default.encode(texts), atol=1e-6)
    # a missing manifest (kill between the file and its manifest) also rebuilds
    next(copy.glob("onnx/*int8*.json")).unlink()
    assert Encoder.load(cache_dir=copy).cache.built == [default.settings.stage]  # type: ignore[union-attr]
    # no temporary files left behind
    assert not list(copy.glob("onnx/.*.tmp"))
