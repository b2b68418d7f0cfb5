"""Fixtures for the community tests (accounts, votes, submissions, comments, library, follows).

``community`` is a copy of the web tests' database (the real slice, 3,000 papers and four
Hugging Face days, the first papers embedded) made for one test module, so that votes and
comments written there never change what the read-only web tests see; it runs each module on
both backends (SQLite, and PostgreSQL through a copy of web_fixtures.pg_slice). :func:`database_on`
and :func:`site_on` make such a copy for tests that need their own settings or server;
:func:`location` and :func:`opened` reach a database the way another process does. A :class:`Member` is a
user with a password and a personal API token; :func:`browser` is a TestClient signed in as a
member through the real ``/login`` form, with the session's CSRF token at hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import slice_db
from conftest import BACKENDS
from fastapi.testclient import TestClient
from web_fixtures import WEB_BACKENDS, copy_db, database_on  # noqa: F401  (named here for the tests)

from paperradar import accounts
from paperradar.app import Radar
from paperradar.config import Settings
from paperradar.store import SQLiteStore, Store, User, open_store
from paperradar.web import create_app

PASSWORD = "correct horse battery staple"
ORIGIN = "http://testserver"  # the TestClient's own origin: what a page of the site sends as Origin


@dataclass
class Site:
    """A community database served in-process: its radar, app and store."""

    radar: Radar
    app: object  # made from radar when None
    path: Path | str  # the SQLite file, or the PostgreSQL URL: what ``--db`` takes
    folder: Path | None = None  # a scratch folder of the site's own

    def __post_init__(self) -> None:
        if self.app is None:
            self.app = create_app(self.radar)

    @property
    def store(self) -> SQLiteStore:
        return self.radar.store  # type: ignore[return-value]

    def client(self, **kwargs: object) -> TestClient:
        return TestClient(self.app, follow_redirects=False, **kwargs)  # type: ignore[arg-type]


@dataclass
class Member:
    user: User
    email: str
    password: str
    token: str  # a personal API token

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextmanager
def site_on(request: pytest.FixtureRequest, web_db: slice_db.SliceDB, folder: Path,
            settings: Settings, backend: str | None = None) -> Iterator[Site]:
    """A copy of the web slice (:func:`database_on`) served in-process with ``settings``."""
    with database_on(request, web_db, folder, backend) as location:
        store = open_store(str(location))
        try:
            yield Site(Radar(store, settings=settings), None, location, folder)
        finally:
            getattr(store, "dispose", store.close)()  # PostgreSQL: every pooled connection closed


@pytest.fixture(scope="module", params=WEB_BACKENDS)
def community(request: pytest.FixtureRequest, web_db: slice_db.SliceDB,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A copy of the web slice for one test module, on each backend (a PostgreSQL copy of
    web_fixtures.pg_slice); ``site.path`` is what ``--db`` takes for it, ``site.folder`` a scratch folder."""
    with site_on(request, web_db, tmp_path_factory.mktemp("community"), Settings(registration="closed")) as site:
        yield site


def location(store: Store) -> str:
    """What another process opens the same database with (a PostgreSQL store's path has no password)."""
    return getattr(store, "url", None) or str(store.path)


@contextmanager
def opened(where: Path | str) -> Iterator[Store]:
    """A store of its own on the database ``where`` (what ``--db`` takes), closed afterwards: on
    PostgreSQL every pooled connection, so that the database can be copied or dropped."""
    store = open_store(str(where))
    try:
        yield store
    finally:
        getattr(store, "dispose", store.close)()


@pytest.fixture(params=BACKENDS)
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    """What ``--db`` takes for an empty database of each backend: a SQLite file not made yet, or a fresh
    PostgreSQL database (its schema made, no rows), for tests that run the commands on it."""
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_server")
        name = server.fresh_database()
        yield server.url(name)
        server.release(name)
        return
    yield tmp_path / "papers.db"


def add_member(store: SQLiteStore, email: str, admin: bool = False, name: str | None = None,
               password: str = PASSWORD) -> Member:
    """A new account with a password and an API token (a fast argon2 for tests is not used: the real one)."""
    user = store.add_user(email, name=name, password_hash=accounts.hash_password(password), is_admin=admin)
    token = accounts.new_token()
    store.add_api_token(email, accounts.hash_token(token), "tests")
    return Member(user, email, password, token)


def sign_in(client: TestClient, member: Member) -> str:
    """Sign ``client`` in through the /login form (as a browser: same-origin Origin); the session's CSRF token."""
    r = client.post("/login", data={"email": member.email, "password": member.password},
                    headers={"Origin": ORIGIN})
    assert r.status_code == 303, (r.status_code, r.text[:500])
    return csrf_of(client)


def csrf_of(client: TestClient) -> str:
    """The CSRF token the signed-in pages carry (read from the settings page's forms)."""
    page = client.get("/settings")
    assert page.status_code == 200, page.text[:300]
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert m, "no CSRF token on /settings"
    return m.group(1)


def browser(site: Site, member: Member) -> tuple[TestClient, str]:
    """A client signed in as ``member`` through /login, and its CSRF token."""
    client = site.client()
    return client, sign_in(client, member)


def form_headers(csrf: str | None = None) -> dict[str, str]:
    """What a same-site form post or script request sends (Origin, and the CSRF header for scripts)."""
    headers = {"Origin": ORIGIN}
    if csrf:
        headers["X-CSRF-Token"] = csrf
    return headers
