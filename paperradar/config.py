"""Where the database lives.

``--db`` wins, then the ``PAPERRADAR_DB`` environment variable, then a file
in the user's data directory (XDG on Linux, via platformdirs). A location is
a file path or a URL: ``sqlite:///path/to/file.db`` or ``postgresql://...``.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

ENV_DB = "PAPERRADAR_DB"


def default_db() -> str:
    return str(Path(user_data_dir("paperradar", appauthor=False)) / "papers.db")


def resolve_db(cli_value: str | None) -> str:
    """The database location the user asked for, by precedence."""
    return cli_value or os.environ.get(ENV_DB) or default_db()
