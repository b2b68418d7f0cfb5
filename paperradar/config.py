"""Where the database lives.

``--db`` wins, then the ``PAPERRADAR_DB`` environment variable, then a file
in the user's data directory (XDG on Linux, via platformdirs). A location is
a file path or a URL: ``sqlite:///path/to/file.db`` or ``postgresql://...``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

ENV_DB = "PAPERRADAR_DB"
ENV_BASE_URL = "PAPERRADAR_BASE_URL"


@dataclass(frozen=True)
class Settings:
    """How the running system presents itself (held by :class:`paperradar.app.Radar`).

    ``base_url`` is the site's public address: feeds, ids and mails use it
    for absolute links instead of whatever ``Host`` a request names.
    ``hosts`` are the host names the web server answers to (others get a
    400); None answers any (an app embedded in-process, e.g. by tests).
    ``registration`` says who may make an account on the web: ``closed``
    (only the admin, with ``paperradar users add``), ``invite`` (with a link
    from ``users invite``) or ``open`` (anyone). ``live`` is the sync
    configuration when live sources are on (``serve --sync``): a paper
    submitted to the daily list that is not stored yet is then fetched.
    ``mail`` is the ``[mail]`` table: how the site sends mail (see
    :mod:`paperradar.mail.outbox`, :func:`~paperradar.mail.outbox.outbox_for`).
    """

    base_url: str | None = None
    hosts: tuple[str, ...] | None = None
    registration: str = "closed"
    live: Any = None  # paperradar.sync.config.SyncConfig, or None: no fetching from the web
    mail: Any = None  # paperradar.sync.config.MailSettings ([mail]); None: only $PAPERRADAR_SMTP_URL & co.

    @property
    def secure(self) -> bool:
        """Whether the site is served over https (cookies are then sent over https only)."""
        return bool(self.base_url and self.base_url.startswith("https://"))


REGISTRATION = ("closed", "invite", "open")


def default_db() -> str:
    return str(Path(user_data_dir("paperradar", appauthor=False)) / "papers.db")


def resolve_db(cli_value: str | None) -> str:
    """The database location the user asked for, by precedence."""
    return cli_value or os.environ.get(ENV_DB) or default_db()
