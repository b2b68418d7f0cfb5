"""Reading a keyword index whose folder cannot be written (a read-only copy, a read-only mount).

tantivy opens the lock file ``.tantivy-meta.lock`` for writing on every
reader reload, so a read-only folder cannot be opened in place. It is opened
from a *shadow*: a private temporary folder holding its own lock files and a
link to every other file of the index (none when the folder is missing: an
empty index). The shadow goes with the index object that made it, or with the
next one made after a process was killed. Nothing is ever written through
it: the index refuses to give a writer.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

LOCK_FILES = (".tantivy-meta.lock", ".tantivy-writer.lock")  # made in the shadow, never linked
PREFIX = "paperradar-keyword-"  # + pid: a shadow folder in the temporary directory


def make(owner: Any) -> Path:
    """A new, empty shadow folder, removed when ``owner`` is garbage-collected."""
    sweep()
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    weakref.finalize(owner, shutil.rmtree, folder, True)
    return folder


def link(index_folder: Path, folder: Path) -> None:
    """Link the index folder's files the shadow lacks (segments a commit elsewhere made since)."""
    try:
        names = os.listdir(index_folder)
    except OSError:
        return
    for name in names:
        target = folder / name
        if name not in LOCK_FILES and not target.is_symlink():
            os.symlink(index_folder.absolute() / name, target)


def sweep() -> None:
    """Remove the shadow folders of processes that are gone (killed before they could clean up)."""
    for path in Path(tempfile.gettempdir()).glob(f"{PREFIX}*-*"):
        pid = path.name[len(PREFIX):].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass  # another user's process: alive, and not ours to clean
