"""Versioned schema migrations for the SQLite store.

``PRAGMA user_version`` holds the number of migrations applied. Each entry
of :data:`MIGRATIONS` runs once, in order, inside a transaction, so an old
database upgrades in place and a failed upgrade leaves it as it was. Never
edit a released migration: append a new one.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: list[str] = [
    # 1: papers, their categories, upvote observations, provenance, index bookkeeping.
    """
    CREATE TABLE papers (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        abstract TEXT NOT NULL DEFAULT '',
        authors TEXT NOT NULL DEFAULT '[]',
        categories TEXT NOT NULL DEFAULT '[]',
        published TEXT,
        updated TEXT,
        version INTEGER,
        comment TEXT,
        journal_ref TEXT,
        doi TEXT,
        links TEXT NOT NULL DEFAULT '{}',
        extra TEXT NOT NULL DEFAULT '{}',
        upvotes INTEGER NOT NULL DEFAULT 0,
        title_key TEXT NOT NULL,
        field_dates TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        changed_at TEXT NOT NULL,
        seq INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX papers_seq ON papers(seq);
    CREATE INDEX papers_published ON papers(published, upvotes);
    CREATE INDEX papers_doi ON papers(doi) WHERE doi IS NOT NULL;
    CREATE INDEX papers_title_key ON papers(title_key);

    CREATE TABLE paper_categories (
        category TEXT NOT NULL COLLATE NOCASE,
        paper INTEGER NOT NULL REFERENCES papers(rowid) ON DELETE CASCADE,
        is_primary INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (category, paper)
    ) WITHOUT ROWID;
    CREATE INDEX paper_categories_paper ON paper_categories(paper);

    CREATE TABLE upvotes (
        paper INTEGER NOT NULL REFERENCES papers(rowid) ON DELETE CASCADE,
        site TEXT NOT NULL,
        count INTEGER NOT NULL,
        observed_at TEXT NOT NULL,
        PRIMARY KEY (paper, site)
    ) WITHOUT ROWID;

    CREATE TABLE provenance (
        paper INTEGER NOT NULL REFERENCES papers(rowid) ON DELETE CASCADE,
        source TEXT NOT NULL,
        origin TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_changed TEXT NOT NULL,
        PRIMARY KEY (paper, source)
    ) WITHOUT ROWID;
    CREATE INDEX provenance_source ON provenance(source);

    -- Derived indexes (keyword, later vectors) live outside SQLite and follow
    -- the store by "seq": every write transaction stamps the rows it changes
    -- with the next number, and each index records in meta the last seq it holds.
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(Exception):
    """The database was written by a newer paperradar than this one."""


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to date; returns the number of migrations applied."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"database schema version {current} is newer than this paperradar supports ({SCHEMA_VERSION})"
        )
    applied = 0
    for number in range(current, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # executescript would commit the open transaction; run statements one by one.
            for statement in _statements(MIGRATIONS[number]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied += 1
    return applied


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
