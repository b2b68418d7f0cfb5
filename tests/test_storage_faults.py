"""Disk full and read-only storage: one line naming the path and the cause, exit 1, data intact.

Every condition is made for real, and every command runs as a subprocess
(``python -m paperradar``), so exit codes and the absence of a traceback are
what a user sees:

* disk full: a small tmpfs mounted in the test's folder (over the database's
  folder, or over the index folder beside it), filled by importing the
  real arXiv slice, or by a filler file; the test unmounts it afterwards;
* read-only: a copy of a database and its indexes made read-only in two
  ways: ``chmod -R a-w`` read by a child run under ``setpriv`` with every
  capability dropped (root would otherwise write through the permissions),
  and a read-only bind mount (``EROFS``, for root too).

Both need root (mount, setpriv). A test that cannot make its condition fails
when ``CI=true`` and is skipped elsewhere, so CI never passes by testing nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from helpers import db_dump, read_arxiv_lines
from sync_server import services, sync_config  # noqa: F401  (fixtures are used by name)

from paperradar.app import Radar
from paperradar.index.embed import current_model
from paperradar.index.keyword import index_dir as keyword_dir
from paperradar.index.vectors import index_dir as vectors_dir
from paperradar.sources import parser_for
from paperradar.store import SQLiteStore

UNPRIVILEGED = ["setpriv", "--inh-caps=-all", "--bounding-set=-all"]  # root without CAP_DAC_OVERRIDE & co.
CHUNK = 500  # arXiv lines per import file: one batch each, so a file lands whole or not at all


# ---------------------------------------------------------------------------
# Making the conditions


def need(ok: bool, why: str) -> None:
    """Fail in CI, skip elsewhere, when a condition cannot be made here."""
    if ok:
        return
    message = f"cannot create the condition: {why}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _sh(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), check=False, capture_output=True, text=True)


@pytest.fixture
def mounts() -> Iterator[Callable[..., Path]]:
    """``mount(path, size)`` mounts a tmpfs of ``size`` over ``path``; ``mount(path, source=DIR)``
    bind-mounts DIR there read-only. All are unmounted after the test."""
    made: list[Path] = []

    def mount(path: Path, size: str = "", source: Path | None = None) -> Path:
        need(os.geteuid() == 0 and shutil.which("mount") is not None, "mounting needs root and mount(8)")
        path.mkdir(parents=True, exist_ok=True)
        steps = [["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]]
        if source is not None:
            steps = [["mount", "--bind", str(source), str(path)], ["mount", "-o", "remount,ro,bind", str(path)]]
        first, *rest = steps
        done = _sh(*first)
        need(done.returncode == 0, f"{' '.join(first)}: {done.stderr.strip()}")
        made.append(path)
        for step in rest:
            done = _sh(*step)
            assert done.returncode == 0, done.stderr
        return path

    yield mount
    for path in reversed(made):
        if _sh("umount", str(path)).returncode != 0:
            _sh("umount", "-l", str(path))  # a child still holds a file: detach now, freed when it exits


def grow(path: Path, size: str) -> None:
    """Make room: the tmpfs at ``path`` grows to ``size``."""
    done = _sh("mount", "-o", f"remount,size={size}", str(path))
    assert done.returncode == 0, done.stderr


def fill(folder: Path, leave: int = 0) -> Path:
    """A file that takes all but ``leave`` bytes of the file system ``folder`` is on."""
    st = os.statvfs(folder)
    filler = folder / "filler"
    with open(filler, "wb") as f:
        os.posix_fallocate(f.fileno(), 0, max(st.f_bavail * st.f_frsize - leave, 1))
    return filler


def chmod_tree(root: Path, writable: bool) -> None:
    """``chmod -R a-w`` (or ``u+w`` back, for the cleanup)."""
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files, "."]:
            p = Path(folder, name)
            mode = p.stat().st_mode & 0o7777
            p.chmod(mode | 0o200 if writable else mode & ~0o222)


def check_unprivileged_cannot_write(path: Path) -> None:
    """The child runs without the capabilities that let root write a read-only file, or the test cannot be."""
    need(shutil.which("setpriv") is not None, "setpriv (util-linux) is missing")
    probe = _sh(*UNPRIVILEGED, sys.executable, "-c", f"open({str(path)!r}, 'r+b')")
    need(probe.returncode != 0 and "PermissionError" in probe.stderr,
         f"a child under {' '.join(UNPRIVILEGED)} can still write {path} (rc {probe.returncode})")


# ---------------------------------------------------------------------------
# Running the CLI


def paperradar(db: Path, *args: Any, prefix: list[str] | None = None, timeout: float = 300
               ) -> subprocess.CompletedProcess[str]:
    """``[prefix] python -m paperradar --db DB ARGS``: exit code, stdout and stderr as text."""
    env = {k: v for k, v in os.environ.items() if k != "PAPERRADAR_DB"}
    command = [*(prefix or []), sys.executable, "-m", "paperradar", "--db", str(db), *map(str, args)]
    return subprocess.run(command, check=False, capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def fault_line(path: Path, cause: str) -> str:
    return f"paperradar: cannot write {path}: {cause}"


def assert_fault(result: subprocess.CompletedProcess[str], *lines: str, alone: bool = True) -> str:
    """Exit 1, no traceback, and stderr ends with one of ``lines`` (is nothing else, with ``alone``)."""
    err = result.stderr
    assert result.returncode == 1, (result.returncode, err)
    assert "Traceback" not in err, err
    said = err.strip().splitlines()
    assert said and said[-1] in lines, err
    assert sum(1 for line in said if line.startswith("paperradar: cannot write")) == 1, err
    if alone:
        assert len(said) == 1, err
    return said[-1]


def arxiv_chunks(folder: Path, files: int) -> list[Path]:
    """The first ``files`` x CHUNK lines of the real arXiv listing, CHUNK lines a file."""
    lines = read_arxiv_lines(files * CHUNK)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(files):
        path = folder / f"arxiv-{i}.jsonl"
        path.write_bytes(b"".join(lines[i * CHUNK : (i + 1) * CHUNK]))
        out.append(path)
    return out


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (database, -wal, indexes) by its hash: a read-only copy must not change.
    (Read as files: SQLite opened by this process, root, would write a -shm file beside the database.)"""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def ids_in(path: Path) -> set[str]:
    return {json.loads(line)["arxiv_id"] for line in path.read_bytes().splitlines() if line.strip()}


def assert_consistent(db: Path, expected: int) -> None:
    """The store holds ``expected`` papers and the keyword index holds exactly them, with nothing
    left for a refresh to do (the marks and the seq say the index is current)."""
    radar = Radar(SQLiteStore(db))
    try:
        assert radar.store.count() == expected
        assert radar.refresh().keyword == 0
        assert radar.keyword.count() == expected
    finally:
        radar.close()


def keyword_hits(db: Path, title: str) -> list[str]:
    """Ids a keyword search for the words of ``title`` finds (query syntax taken out)."""
    query = " ".join(re.findall(r"\w+", title))
    result = paperradar(db, "search", query, "--mode", "keyword", "--json", "--limit", "20")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return [row["id"] for row in json.loads(result.stdout)]


# ---------------------------------------------------------------------------
# Disk full


@pytest.mark.parametrize("full", ["database folder", "index folder"])
def test_import_until_the_disk_is_full_then_with_room(tmp_path, mounts, full):
    """Import the real arXiv slice, file after file, into a small file system until it is full:
    one line naming what could not be written; then, with room, the rest imports and all is consistent."""
    chunks = arxiv_chunks(tmp_path / "in", 8)
    if full == "database folder":
        place = mounts(tmp_path / "small", size="6m")
        db = place / "papers.db"
        paths = {fault_line(db, "disk full"), fault_line(keyword_dir(str(db)), "disk full")}
    else:
        db = tmp_path / "papers.db"
        place = mounts(Path(f"{db}.index"), size="1m")
        paths = {fault_line(keyword_dir(str(db)), "disk full")}
    done: list[Path] = []
    for chunk in chunks:
        result = paperradar(db, "import", "--no-embed", chunk)
        if result.returncode != 0:
            break
        done.append(chunk)
        before = db_dump(db)["papers"]
    else:
        pytest.fail(f"{place} never filled up")
    assert done, "not even the first file fit: the file system is too small for the test"
    assert_fault(result, *paths)
    failed = chunks[len(done)]

    # Nothing stored before was touched; the failed file is stored whole or not at all.
    after = db_dump(db)["papers"]
    assert {k: after[k] for k in before} == before
    assert set(after) - set(before) in (set(), ids_in(failed))

    grow(place, "128m")
    result = paperradar(db, "import", "--no-embed", *chunks[len(done):])
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    every = set().union(*(ids_in(c) for c in chunks))
    assert_consistent(db, len(every))
    title = json.loads(failed.read_bytes().splitlines()[0])["title"]
    assert json.loads(failed.read_bytes().splitlines()[0])["arxiv_id"] in keyword_hits(db, title)


def test_sync_when_the_disk_is_full_then_with_room(tmp_path, mounts, services, sync_config):  # noqa: F811
    """A sync on a full disk stops with one line (after its own log lines); with room it completes."""
    place = mounts(tmp_path / "small", size="8m")
    db = place / "papers.db"
    (chunk,) = arxiv_chunks(tmp_path / "in", 1)
    assert paperradar(db, "import", "--no-embed", chunk).returncode == 0
    before = db_dump(db)["papers"]
    sync = ["sync", "--no-embed", "--config", sync_config, "hf-daily", "--date", "2024-05-27"]

    filler = fill(place)
    result = paperradar(db, *sync)
    assert_fault(result, fault_line(db, "disk full"), fault_line(keyword_dir(str(db)), "disk full"),
                 alone=False)
    status = paperradar(db, "stats", "--json")  # reading works on the full disk (no room even for a -shm)
    assert status.returncode == 0 and json.loads(status.stdout)["papers"] == len(before), status.stderr

    filler.unlink()
    assert db_dump(db)["papers"] == before  # the day's papers are not half stored
    result = paperradar(db, *sync, "--json")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    (report,) = json.loads(result.stdout)
    assert report["status"] == "ok" and report["new"] > 0
    after = db_dump(db)["papers"]
    assert {k: after[k] for k in before} == before
    assert_consistent(db, len(after))


def test_embed_when_the_index_disk_is_full_then_with_room(tmp_path, mounts):
    """The vector index cannot be saved (its folder's file system is full): one line naming it; the
    vectors already stored are kept and searched, and with room `embed` finishes the work."""
    db = tmp_path / "papers.db"
    index = mounts(Path(f"{db}.index"), size="1m")
    lines = read_arxiv_lines(150)
    source = tmp_path / "slice.jsonl.gz"
    with gzip.open(source, "wb") as f:
        f.writelines(lines)
    assert paperradar(db, "import", "--no-embed", source).returncode == 0
    filler = fill(index)

    result = paperradar(db, "embed")
    assert_fault(result, fault_line(vectors_dir(str(db), current_model()), "disk full"))
    status = json.loads(paperradar(db, "embed", "--status", "--json").stdout)
    assert status["embedded"] == status["papers"] == 150 and status["pending"] == 0
    assert status["indexed"] == 150  # stored vectors are searched even though the index was not saved

    filler.unlink()
    result = paperradar(db, "embed", "--json")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    status = json.loads(paperradar(db, "embed", "--status", "--json").stdout)
    assert (status["pending"], status["sentences_pending"], status["indexed"]) == (0, 0, 150)
    first = json.loads(lines[0])
    result = paperradar(db, "search", first["abstract"], "--mode", "semantic", "--json", "--limit", "1")
    assert result.returncode == 0 and json.loads(result.stdout)[0]["id"] == first["arxiv_id"]


# ---------------------------------------------------------------------------
# Read-only


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with 400 papers, 100 embedded, and 20 more stored after the keyword index was
    last updated (so a read-only copy's index is behind its database)."""
    folder = tmp_path_factory.mktemp("original")
    db = folder / "papers.db"
    lines = read_arxiv_lines(420)
    (folder / "in.jsonl").write_bytes(b"".join(lines[:400]))
    assert paperradar(db, "import", "--no-embed", folder / "in.jsonl").returncode == 0
    assert paperradar(db, "embed", "--limit", "100").returncode == 0
    store = SQLiteStore(db)  # stored without the import pipeline: the keyword index does not see them
    try:
        papers = [r for _, r in parser_for("arxiv-jsonl")(io.BytesIO(b"".join(lines[400:])), "late.jsonl")]
        assert store.merge(papers, "late.jsonl").new == 20
    finally:
        store.close()
    return db


@pytest.fixture(params=["chmod", "read-only mount"])
def read_only(request: pytest.FixtureRequest, original: Path, tmp_path: Path, mounts) -> Iterator[tuple]:
    """(database, how to run a child, the cause a write of the database reports) for a read-only copy."""
    copy = tmp_path / "copy"
    shutil.copytree(original.parent, copy)
    if request.param == "chmod":
        chmod_tree(copy, writable=False)
        check_unprivileged_cannot_write(copy / original.name)
        yield copy / original.name, UNPRIVILEGED, "read-only"
        chmod_tree(copy, writable=True)
        return
    view = mounts(tmp_path / "view", source=copy)
    yield view / original.name, [], "read-only"


def indexed_and_late() -> tuple[dict, dict]:
    """A paper the copy's keyword index and vector index hold, and one stored after both were made."""
    lines = read_arxiv_lines(420)
    return json.loads(lines[0]), json.loads(lines[410])


def test_reading_commands_work_on_a_read_only_copy(read_only):
    db, prefix, _ = read_only
    before = snapshot(db.parent)
    indexed, late = indexed_and_late()

    result = paperradar(db, "search", indexed["title"], "--mode", "keyword", "--json", prefix=prefix)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert indexed["arxiv_id"] in [r["id"] for r in json.loads(result.stdout)]
    notes = [line for line in result.stderr.splitlines() if "keyword index is behind" in line]
    assert len(notes) == 1 and str(db) in notes[0], result.stderr  # said once: the late papers are not found

    for args in (["search", indexed["title"]], ["similar", indexed["arxiv_id"], "--limit", "3"],
                 ["show", late["arxiv_id"]], ["feed", "--date", late["listed"], "--all"], ["stats"],
                 ["embed", "--status"], ["sync", "status"]):
        result = paperradar(db, *args, prefix=prefix)
        assert result.returncode == 0 and "Traceback" not in result.stderr, (args, result.stderr)
        assert result.stdout.strip(), args
    status = json.loads(paperradar(db, "embed", "--status", "--json", prefix=prefix).stdout)
    assert (status["papers"], status["embedded"], status["indexed"]) == (420, 100, 100)
    assert snapshot(db.parent) == before


def test_a_read_only_copy_without_its_index_folder_still_answers(original, tmp_path):
    """Only the database file was copied: search by keyword finds nothing (said once), by meaning
    everything embedded (the stored vectors are searched exactly)."""
    copy = tmp_path / "copy"
    copy.mkdir()
    db = copy / original.name
    shutil.copy(original, db)
    chmod_tree(copy, writable=False)
    try:
        check_unprivileged_cannot_write(db)
        indexed, _ = indexed_and_late()
        result = paperradar(db, "search", indexed["title"], "--mode", "keyword", "--json", prefix=UNPRIVILEGED)
        assert result.returncode == 0 and json.loads(result.stdout) == [], result.stderr
        assert result.stderr.count("keyword index is behind") == 1 and "Traceback" not in result.stderr
        result = paperradar(db, "search", indexed["abstract"], "--mode", "semantic", "--json", "--limit", "1",
                            prefix=UNPRIVILEGED)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
        assert json.loads(result.stdout)[0]["id"] == indexed["arxiv_id"]
        assert sorted(p.name for p in copy.iterdir()) == [original.name]  # nothing made beside it
    finally:
        chmod_tree(copy, writable=True)


def test_writing_commands_say_the_copy_is_read_only(read_only, sync_config):  # noqa: F811
    db, prefix, cause = read_only
    before = snapshot(db.parent)
    indexed, _ = indexed_and_late()
    source = db.parent / "in.jsonl"
    line = fault_line(db, cause)
    for args, said in (
        (["import", "--no-embed", source], line),
        (["import", source], line),
        (["embed"], line),
        (["vote", indexed["arxiv_id"]], line),
        (["sync", "--config", sync_config, "hf-daily", "--date", "2024-05-27"], line),
        (["serve", "--port", "0", "--embed"],
         f"{line} (serve --embed stores what it fetches or computes; serve it without --embed)"),
    ):
        assert_fault(paperradar(db, *args, prefix=prefix), said)
    assert snapshot(db.parent) == before


def test_import_with_a_read_only_index_folder_names_the_folder(original, tmp_path):
    """The database can be written but its index folder cannot: the import says which, and stores nothing."""
    copy = tmp_path / "copy"
    shutil.copytree(original.parent, copy)
    db = copy / original.name
    chmod_tree(Path(f"{db}.index"), writable=False)
    try:
        check_unprivileged_cannot_write(keyword_dir(str(db)) / "meta.json")
        before = snapshot(copy)
        result = paperradar(db, "import", "--no-embed", copy / "in.jsonl", prefix=UNPRIVILEGED)
        assert_fault(result, fault_line(keyword_dir(str(db)), "permission denied"))
        assert snapshot(copy) == before
    finally:
        chmod_tree(Path(f"{db}.index"), writable=True)


def test_serve_answers_from_a_read_only_copy(read_only):
    db, prefix, _ = read_only
    indexed, _ = indexed_and_late()
    server = ServeProcess(db, prefix)
    try:
        status, body = server.get("/")
        assert status == 200, body[:500]
        word = indexed["title"].split()[0]
        status, body = server.get("/search?q=" + urllib.request.quote(indexed["title"]))
        assert status == 200 and indexed["arxiv_id"].encode() in body, body[:500]
        status, body = server.get("/api/search?q=" + urllib.request.quote(word))
        assert status == 200 and json.loads(body), body[:500]
    finally:
        code = server.stop()
    output = server.output()
    assert code == 0 and "Traceback" not in output, output
    assert output.count("keyword index is behind") == 1, output


class ServeProcess:
    """``[prefix] paperradar serve --port 0`` in a subprocess, until :meth:`stop`."""

    def __init__(self, db: Path, prefix: list[str], timeout: float = 120) -> None:
        env = {k: v for k, v in os.environ.items() if k != "PAPERRADAR_DB"}
        env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost", PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", "paperradar", "--db", str(db), "serve", "--port", "0"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.lines: list[str] = []
        self.base = ""
        started = threading.Event()

        def read() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.lines.append(line)
                if " at http://127.0.0.1:" in line:
                    self.base = line.split(" at ", 1)[1].split()[0].rstrip("/")
                    started.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not started.wait(0.1) and self.proc.poll() is None and time.monotonic() < deadline:
            pass
        if not started.is_set():
            self.stop()
            raise AssertionError("serve did not start:\n" + self.output())

    def get(self, path: str) -> tuple[int, bytes]:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(self.base + path, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def stop(self) -> int:
        """Ctrl-C, then the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        time.sleep(0.1)  # the reader thread takes the last lines
        return int(self.proc.returncode)

    def output(self) -> str:
        return "".join(self.lines)
