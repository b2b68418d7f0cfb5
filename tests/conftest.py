"""Shared test helpers: where ../shared lives, and a fresh database per test.

Tests read real data from ../shared (never copied into the repo). Outside CI
a missing file skips the test; with CI=true it fails, so CI can never pass
by silently testing nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperradar.store import Store, open_store

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PAPERRADAR_SHARED", ROOT.parent / "shared"))


def shared(relative: str) -> Path:
    """Path of a file under ../shared; fail in CI, skip elsewhere, if it is missing."""
    path = SHARED / relative
    if not path.exists():
        message = f"shared data missing: {path}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "papers.db"


BACKENDS = ["sqlite"]  # a second backend (PostgreSQL) joins here: every test taking `store` runs on it too


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each backend, closed after the test."""
    opened = open_store(str(tmp_path / "papers.db"))
    yield opened
    opened.close()


def parse_file(parser, path: Path, name: str | None = None) -> list:  # type: ignore[no-untyped-def]
    """Every (line, Paper | Reject) a parser yields for a file; ``name`` defaults to the file name."""
    with open(path, "rb") as stream:
        return list(parser(stream, name if name is not None else path.name))


def write_input(tmp_path: Path, data: bytes | str, name: str = "input") -> Path:
    """A test input file in tmp_path, from text (UTF-8) or raw bytes."""
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path
