"""Versioned schema migrations for the SQLite store.

``PRAGMA user_version`` holds the number of migrations applied. Each entry
of :data:`MIGRATIONS` runs once, in order, inside a transaction, so an old
database upgrades in place and a failed upgrade leaves it as it was. Never
edit a released migration: append a new one.
"""

from __future__ import annotations

import sqlite3

from .base import StoreError

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

    -- Derived indexes (keyword, vectors) live outside SQLite and follow
    -- the store by "seq": every write transaction stamps the rows it changes
    -- with the next number, and each index records in meta the last seq it holds.
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: live sync bookkeeping: one row per sync run, and OAI-PMH harvest progress.
    """
    -- One row per run of one source (sync arxiv, arxiv-rss, hf-daily, ...): what
    -- was asked, how far it got, what came of it. Counters move after every page,
    -- so a killed run still shows what it did; pid tells a live run from a dead one.
    CREATE TABLE sync_runs (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        request TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL,
        pid INTEGER,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        pages INTEGER NOT NULL DEFAULT 0,
        records INTEGER NOT NULL DEFAULT 0,
        new INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        unchanged INTEGER NOT NULL DEFAULT 0,
        rejected INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        notes TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX sync_runs_source ON sync_runs(source, id);

    -- An OAI-PMH ListRecords harvest, keyed by what it asks for ('' for an
    -- argument left out). token is the resumption token of the next page to
    -- fetch (NULL before the first page); it is written in the same
    -- transaction as the page's counters, after the page is imported.
    CREATE TABLE oai_harvests (
        id INTEGER PRIMARY KEY,
        base_url TEXT NOT NULL,
        set_spec TEXT NOT NULL DEFAULT '',
        metadata_prefix TEXT NOT NULL,
        from_date TEXT NOT NULL DEFAULT '',
        until_date TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        token TEXT,
        pages INTEGER NOT NULL DEFAULT 0,
        records INTEGER NOT NULL DEFAULT 0,
        complete_list_size INTEGER,
        restarts INTEGER NOT NULL DEFAULT 0,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE INDEX oai_harvests_key ON oai_harvests(base_url, set_spec, metadata_prefix, status, from_date, until_date);
    """,
    # 3: paper embeddings, and the log the vector (ANN) index follows.
    """
    -- One vector per paper: the model (name@version) that made it, a hash of the
    -- text it was made from (a changed title or abstract is embedded again), and
    -- the vector itself as little-endian float16 (384 dimensions: 768 bytes).
    CREATE TABLE vectors (
        paper INTEGER PRIMARY KEY REFERENCES papers(rowid) ON DELETE CASCADE,
        model TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        vec BLOB NOT NULL
    );
    CREATE INDEX vectors_model ON vectors(model);
    -- Every change to vectors appends here (triggers), so the ANN index, which
    -- lives outside SQLite, can replay what it missed, deletions included (a
    -- paper absorbed by another loses its row and its vector).
    CREATE TABLE vector_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        paper INTEGER NOT NULL
    );
    CREATE TRIGGER vectors_logged_insert AFTER INSERT ON vectors
        BEGIN INSERT INTO vector_log (paper) VALUES (new.paper); END;
    CREATE TRIGGER vectors_logged_update AFTER UPDATE ON vectors
        BEGIN INSERT INTO vector_log (paper) VALUES (new.paper); END;
    CREATE TRIGGER vectors_logged_delete AFTER DELETE ON vectors
        BEGIN INSERT INTO vector_log (paper) VALUES (old.paper); END;
    -- Sentence vectors (title and each sentence of the abstract, float16, n x dim),
    -- made by the embedding pipeline's second pass (paperradar embed):
    -- the re-ranking stage of similar papers compares papers sentence by sentence.
    CREATE TABLE sentence_vectors (
        paper INTEGER PRIMARY KEY REFERENCES papers(rowid) ON DELETE CASCADE,
        model TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        sentences INTEGER NOT NULL,
        vecs BLOB NOT NULL
    );
    """,
    # 4: the saved states of the derived indexes made from this database (see store/marks.py).
    """
    CREATE TABLE index_marks (
        index_name TEXT NOT NULL,
        token TEXT NOT NULL,
        position INTEGER NOT NULL,
        made_at TEXT NOT NULL,
        PRIMARY KEY (index_name, token)
    );
    """,
    # 5: papers featured in a daily list on a day (see store/featured.py).
    """
    -- One row per (paper, day, source): the paper was featured on that day
    -- (YYYY-MM-DD, the featuring site's day, not the arXiv listing day) by
    -- Hugging Face Daily Papers (source 'huggingface', from imported daily
    -- responses) or by a user of this site (source 'local'). submitted_by is
    -- the HF user name or a local user id, submitted_at the submission time as
    -- the site gave it; both NULL where unknown. The paper keeps its rowid when
    -- it absorbs a title-only record, so its rows stay with it.
    CREATE TABLE featured (
        paper INTEGER NOT NULL REFERENCES papers(rowid) ON DELETE CASCADE,
        day TEXT NOT NULL,
        source TEXT NOT NULL,
        submitted_by TEXT,
        submitted_at TEXT,
        first_seen TEXT NOT NULL,
        PRIMARY KEY (paper, day, source)
    ) WITHOUT ROWID;
    CREATE INDEX featured_day ON featured(day, paper);
    CREATE INDEX featured_submitter ON featured(submitted_by, day) WHERE submitted_by IS NOT NULL;
    -- A paper's published day from Hugging Face alone only stands until another
    -- source gives one (store/merge.py): mark the papers only HF has given.
    UPDATE papers SET field_dates = json_set(field_dates, '$.published_from', 'huggingface')
        WHERE published IS NOT NULL
        AND EXISTS (SELECT 1 FROM provenance v WHERE v.paper = papers.rowid)
        AND NOT EXISTS (SELECT 1 FROM provenance v WHERE v.paper = papers.rowid AND v.source NOT LIKE 'hf%');
    """,
    # 6: accounts (see store/users.py): users and their personal API tokens.
    """
    -- email is stored trimmed and lowercased (paperradar/accounts.py checks it
    -- before it gets here); password_hash is an argon2id hash in argon2's own
    -- encoding (parameters and salt inside it), NULL while the user has none.
    -- Sign-in is on once any row exists. AUTOINCREMENT: a deleted user's id is
    -- never given again (featured.submitted_by names local users by id).
    CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        email TEXT NOT NULL UNIQUE,
        name TEXT,
        password_hash TEXT,
        is_admin INTEGER NOT NULL DEFAULT 0,
        disabled_at TEXT,
        created_at TEXT NOT NULL
    );
    -- token_hash is the sha256 hex digest of the token. A token is 32 random
    -- bytes (256 bits), so nobody can guess it from its hash and a slow
    -- password hash would only slow every API request down; a fast hash also
    -- lets a request find its token with one indexed lookup.
    CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        user INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        label TEXT,
        created_at TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at TEXT
    );
    CREATE INDEX api_tokens_user ON api_tokens(user);
    """,
    # 7: the community (store/sessions.py, votes.py, comments.py, library.py, follows.py).
    """
    ALTER TABLE users ADD COLUMN following_seen_at TEXT;
    -- Web sign-in sessions: the cookie holds a random token, the table its
    -- sha256 (as api_tokens); csrf is the session's anti-forgery token that
    -- forms carry. A new row (and token) at every sign-in.
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        user INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL
    );
    CREATE INDEX sessions_user ON sessions(user);
    -- Failed sign-ins, by key ('email:...' and 'addr:...'), for throttling.
    CREATE TABLE login_failures (
        key TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX login_failures_key ON login_failures(key, at);
    -- Single-use invitations (users invite): the link's token, hashed.
    CREATE TABLE invites (
        id INTEGER PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        used_by INTEGER REFERENCES users(id) ON DELETE SET NULL
    );
    -- One vote per user per paper; user NULL is the site's owner (the CLI on a
    -- database without accounts), at most one such vote per paper.
    CREATE TABLE votes (
        paper INTEGER NOT NULL REFERENCES papers(rowid) ON DELETE CASCADE,
        user INTEGER REFERENCES users(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX votes_user_paper ON votes(user, paper) WHERE user IS NOT NULL;
    CREATE UNIQUE INDEX votes_owner_paper ON votes(paper) WHERE user IS NULL;
    CREATE INDEX votes_paper ON votes(paper);
    -- Votes counted before accounts (site 'local' of upvotes) become the owner's vote.
    INSERT INTO votes (paper, user, created_at)
        SELECT paper, NULL, observed_at FROM upvotes WHERE site = 'local' AND count > 0;
    UPDATE upvotes SET count = 1 WHERE site = 'local' AND count > 1;
    DELETE FROM upvotes WHERE site = 'local' AND count <= 0;
    UPDATE papers SET upvotes = (SELECT COALESCE(SUM(count), 0) FROM upvotes WHERE paper = papers.rowid)
        WHERE rowid IN (SELECT paper FROM upvotes WHERE site = 'local');
    -- From now on the 'local' row of upvotes is the number of the paper's votes and papers.upvotes
    -- the sum over sites, kept in the transaction that adds or removes a vote, whoever removes it
    -- (a deleted user's votes go by ON DELETE CASCADE, which fires the delete trigger too).
    CREATE TRIGGER votes_counted_insert AFTER INSERT ON votes BEGIN
        INSERT INTO upvotes (paper, site, count, observed_at)
            SELECT NEW.paper, 'local', COUNT(*), MAX(created_at) FROM votes WHERE paper = NEW.paper
            ON CONFLICT (paper, site) DO UPDATE SET count = excluded.count, observed_at = excluded.observed_at;
        UPDATE papers SET upvotes = (SELECT COALESCE(SUM(count), 0) FROM upvotes WHERE paper = NEW.paper)
            WHERE rowid = NEW.paper;
    END;
    CREATE TRIGGER votes_counted_delete AFTER DELETE ON votes BEGIN
        UPDATE upvotes SET count = (SELECT COUNT(*) FROM votes WHERE paper = OLD.paper),
            observed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE paper = OLD.paper AND site = 'local';
        DELETE FROM upvotes WHERE paper = OLD.paper AND site = 'local' AND count = 0;
        UPDATE papers SET upvotes = (SELECT COALESCE(SUM(count), 0) FROM upvotes WHERE paper = OLD.paper)
            WHERE rowid = OLD.paper;
    END;
    -- Comments on papers: the text as written (Markdown; rendered safely when shown).
    -- AUTOINCREMENT: a deleted comment's id is never given again (a stale edit or
    -- delete link must not reach a newer comment).
    CREATE TABLE comments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        paper INTEGER NOT NULL REFERENCES papers(rowid) ON DELETE CASCADE,
        user INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        edited_at TEXT
    );
    CREATE INDEX comments_paper ON comments(paper, id);
    CREATE INDEX comments_user ON comments(user);
    -- The library: saved papers with a private note, in named collections.
    CREATE TABLE saved (
        user INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        paper INTEGER NOT NULL REFERENCES papers(rowid) ON DELETE CASCADE,
        note TEXT NOT NULL DEFAULT '',
        saved_at TEXT NOT NULL,
        PRIMARY KEY (user, paper)
    ) WITHOUT ROWID;
    CREATE TABLE collections (
        id INTEGER PRIMARY KEY,
        user INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (user, name)
    );
    CREATE TABLE collection_papers (
        collection INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        paper INTEGER NOT NULL REFERENCES papers(rowid) ON DELETE CASCADE,
        added_at TEXT NOT NULL,
        PRIMARY KEY (collection, paper)
    ) WITHOUT ROWID;
    CREATE TABLE hidden (
        user INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        paper INTEGER NOT NULL REFERENCES papers(rowid) ON DELETE CASCADE,
        hidden_at TEXT NOT NULL,
        PRIMARY KEY (user, paper)
    ) WITHOUT ROWID;
    -- Follows: kind 'author', 'category' or 'search'; value the name, the
    -- category or the query; filters (JSON) a saved search's filters.
    CREATE TABLE follows (
        id INTEGER PRIMARY KEY,
        user INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        filters TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        UNIQUE (user, kind, value, filters)
    );
    -- Private Atom feeds: the secret in their URL, hashed; scope 'following'
    -- or 'collection:NAME'.
    CREATE TABLE feed_tokens (
        id INTEGER PRIMARY KEY,
        user INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        scope TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE INDEX feed_tokens_user ON feed_tokens(user);
    """,
    # 8: email digests (store/mail.py): subscriptions and the outbox.
    """
    -- A digest subscription: an address, an account's (user) or anyone's. Deleting the
    -- account deletes its subscription (and its mails below), as it deletes all else of
    -- the user's: nothing of a deleted account is kept or mailed. One row per address.
    -- confirm_hash: the sha256 of the double opt-in link's token while confirmation is
    -- awaited (NULL once confirmed). unsubscribe_token: the secret of the unsubscribe link
    -- of every digest, stored as it is, since each digest must carry it (an HMAC from a
    -- secret in this same file would protect nothing more against a stolen file, and its
    -- links would all die with the secret). failures: permanent delivery failures in a
    -- row; at 3 the address is suspended (suspended_at), until it confirms again.
    CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        email TEXT NOT NULL UNIQUE,
        user INTEGER REFERENCES users(id) ON DELETE CASCADE,
        frequency TEXT NOT NULL DEFAULT 'daily' CHECK (frequency IN ('daily', 'weekly')),
        categories TEXT NOT NULL DEFAULT '[]',
        confirm_hash TEXT UNIQUE,
        confirm_expires_at TEXT,
        confirmed_at TEXT,
        unsubscribe_token TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        unsubscribed_at TEXT,
        suspended_at TEXT,
        failures INTEGER NOT NULL DEFAULT 0,
        last_failure TEXT
    );
    CREATE INDEX subscriptions_user ON subscriptions(user);
    -- Every mail, from its making to the server's answer (mail/outbox.py): kind 'digest'
    -- (subscription and period set: 'YYYY-MM-DD' for a daily one, 'YYYY-Www' for a weekly
    -- one) or an account mail ('confirm', 'signin', 'reset', ...). state: pending ->
    -- sending (claimed, just before its SMTP transaction) -> sent (after the server's 250)
    -- or failed; a temporary failure puts it back to pending at next_attempt_at (Unix
    -- seconds). message: the whole message as sent (its Message-ID inside, so a resent
    -- one is the same message), dropped once it is sent or failed. The unique index makes
    -- a period's digest one row per subscription, however often it is made.
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        subscription INTEGER REFERENCES subscriptions(id) ON DELETE CASCADE,
        user INTEGER REFERENCES users(id) ON DELETE CASCADE,
        period TEXT,
        recipient TEXT NOT NULL,
        message_id TEXT NOT NULL,
        message BLOB,
        priority INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        reply TEXT
    );
    CREATE UNIQUE INDEX outbox_once ON outbox(subscription, kind, period)
        WHERE subscription IS NOT NULL AND period IS NOT NULL;
    CREATE INDEX outbox_due ON outbox(state, priority, next_attempt_at) WHERE state IN ('pending', 'sending');
    CREATE INDEX outbox_subscription ON outbox(subscription);
    CREATE INDEX outbox_user ON outbox(user);
    -- Single-use links mailed for accounts (store/mail_tokens.py, mail/messages.py): purpose
    -- 'signin', 'reset' or 'register' (an `open` registration awaiting its address's
    -- confirmation: payload holds the name and the password's argon2 hash, and the account
    -- is made when the link is used). Only the sha256 of the link's token is stored.
    CREATE TABLE mail_tokens (
        id INTEGER PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        purpose TEXT NOT NULL CHECK (purpose IN ('signin', 'reset', 'register')),
        email TEXT NOT NULL,
        user INTEGER REFERENCES users(id) ON DELETE CASCADE,
        payload TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT
    );
    CREATE INDEX mail_tokens_email ON mail_tokens(email, created_at);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(StoreError):
    """The database was written by a newer paperradar than this one (a :class:`StoreError`: every command
    says so in one line instead of a traceback)."""


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
