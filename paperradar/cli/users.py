"""``paperradar users``: accounts, from the command line of the site's owner.

A database without accounts works as before (the site read-only for
visitors, the CLI as its owner); the first ``users add --admin`` turns
sign-in on (``/login``). ``users invite`` prints a single-use link to ``/register``. Passwords are read from
stdin only (``--password-stdin``), never from the command line, where other
users of the machine and the shell history would see them. Hashing, tokens
and email checks live in :mod:`paperradar.accounts`, shared with the web.
Exit codes: 0 done, 1 no such user or the email is taken, 2 a bad email or
password (the message names which).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from .. import accounts
from ..app import Radar
from ..config import ENV_BASE_URL
from ..store import DuplicateUser, User
from .common import emit_json


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("users", parents=[common], help="accounts: add, list, disable, delete, passwords, API tokens",
                       description="Manage the accounts of this database. Without any account the site is "
                                   "read-only for visitors and the CLI acts as its owner; the first account "
                                   "turns sign-in on. Exit codes: 0 ok, 1 no such user or email taken, "
                                   "2 bad email or password.")
    p.set_defaults(run=cmd_users)
    users = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    s = users.add_parser("add", parents=[common], help="add an account",
                         description="Add an account. Without --password-stdin it has no password yet "
                                     "(set one with `users set-password`).")
    s.add_argument("email", metavar="EMAIL")
    s.add_argument("--name", metavar="NAME", help="the name shown for the user")
    s.add_argument("--admin", action="store_true", help="an administrator of the site")
    s.add_argument("--password-stdin", action="store_true",
                   help=f"read the password from the first line of stdin (at least {accounts.MIN_PASSWORD} characters)")

    s = users.add_parser("list", parents=[common], help="every account",
                         description="Every account, oldest first: email, name, admin, disabled, password set.")
    s.add_argument("--json", action="store_true", help="print the accounts as JSON")

    s = users.add_parser("disable", parents=[common], help="disable an account (kept, its tokens stop working)",
                         description="Disable an account: it is kept with its data, cannot sign in, and its "
                                     "API tokens stop working.")
    s.add_argument("email", metavar="EMAIL")

    s = users.add_parser("delete", parents=[common], help="export an account's data, then delete it",
                         description="Write everything stored about the user to a JSON file "
                                     "(paperradar-user-ID-DATE.json), say where, then delete the account "
                                     "and its API tokens.")
    s.add_argument("email", metavar="EMAIL")
    s.add_argument("--export-to", type=Path, default=Path("."), metavar="DIR",
                   help="the folder the export is written to (default: the current folder)")

    s = users.add_parser("set-password", parents=[common], help="set an account's password (from stdin)",
                         description="Set the user's password, read from the first line of stdin.")
    s.add_argument("email", metavar="EMAIL")
    s.add_argument("--password-stdin", action="store_true", required=True,
                   help=f"read the password from the first line of stdin (at least {accounts.MIN_PASSWORD} characters)")

    s = users.add_parser("token", parents=[common], help="make a personal API token (printed once)",
                         description="Make a new personal API token for the user and print it once: only "
                                     "its hash is stored, so it cannot be shown again.")
    s.add_argument("email", metavar="EMAIL")
    s.add_argument("--label", metavar="LABEL", help="what the token is for (shown in the user's export)")

    s = users.add_parser("invite", parents=[common], help="make a single-use invitation link (printed once)",
                         description="Make a link with which one person creates an account on the web (for "
                                     "`serve --registration invite`, or [site] registration = \"invite\"). It "
                                     f"works once and for {accounts.INVITE_LIFETIME.days} days; only its hash is "
                                     "stored, so it is printed only now.")
    s.add_argument("--base-url", metavar="URL",
                   help="the site's public address the link starts with (default: $PAPERRADAR_BASE_URL, else "
                        "[site] base_url of the config, else http://127.0.0.1:8000)")
    s.add_argument("--config", metavar="FILE", help="configuration file to read [site] base_url from")


def cmd_users(radar: Radar, args: argparse.Namespace) -> int:
    try:
        return _COMMANDS[args.users_command](radar, args)
    except accounts.AccountError as exc:
        print(f"paperradar: {exc}", file=sys.stderr)
        return 2


def _add(radar: Radar, args: argparse.Namespace) -> int:
    email = accounts.normalize_email(args.email)
    password_hash = accounts.hash_password(_read_password()) if args.password_stdin else None
    first = not radar.store.has_users()
    try:
        user = radar.store.add_user(email, args.name, password_hash, args.admin)
    except DuplicateUser as exc:
        print(f"paperradar: {exc}", file=sys.stderr)
        return 1
    role = "admin" if user.is_admin else "user"
    print(f"added {role} {user.email} (id {user.id})" + ("" if user.has_password else ", no password yet"))
    if first:
        print("paperradar: this is the first account: sign-in is now on for this database", file=sys.stderr)
    if not any(u.is_admin for u in radar.store.list_users()):
        print("paperradar: no account is an admin yet: add one with `paperradar users add EMAIL --admin`",
              file=sys.stderr)
    return 0


def _list(radar: Radar, args: argparse.Namespace) -> int:
    users = radar.store.list_users()
    if args.json:
        emit_json({"users": [u.as_dict() for u in users]})
        return 0
    if not users:
        print("no accounts: sign-in is off (the site is read-only for visitors)")
    for u in users:
        flags = [f for f, on in (("admin", u.is_admin), ("disabled", u.disabled), ("no password", not u.has_password))
                 if on]
        name = f" ({u.name})" if u.name else ""
        print(f"{u.id:4d}  {u.email}{name}  since {u.created_at[:10]}" + (f"  [{', '.join(flags)}]" if flags else ""))
    return 0


def _disable(radar: Radar, args: argparse.Namespace) -> int:
    user = _find(radar, args.email)
    if user is None:
        return 1
    radar.store.disable_user(user.email)
    print(f"{user.email} was already disabled" if user.disabled else f"disabled {user.email}")
    return 0


def _delete(radar: Radar, args: argparse.Namespace) -> int:
    user = _find(radar, args.email)
    if user is None:
        return 1
    data = radar.store.user_data(user.email)
    assert data is not None
    exported_at = datetime.now(UTC)
    data = {"paperradar_user_export": 1, "exported_at": exported_at.strftime("%Y-%m-%dT%H:%M:%SZ"), **data}
    path = _write_export(args.export_to, f"paperradar-user-{user.id}-{exported_at:%Y%m%d}", data)
    print(f"exported the data of {user.email} to {path}")
    radar.store.delete_user(user.email)
    print(f"deleted {user.email} and everything it had (API tokens, sessions, votes, comments, library, follows)")
    return 0


def _set_password(radar: Radar, args: argparse.Namespace) -> int:
    user = _find(radar, args.email)
    if user is None:
        return 1
    radar.store.set_password_hash(user.email, accounts.hash_password(_read_password()))
    print(f"set the password of {user.email}")
    return 0


def _token(radar: Radar, args: argparse.Namespace) -> int:
    user = _find(radar, args.email)
    if user is None:
        return 1
    if user.disabled:
        print(f"paperradar: {user.email} is disabled", file=sys.stderr)
        return 1
    token = accounts.new_token()
    token_id = radar.store.add_api_token(user.email, accounts.hash_token(token), args.label)
    print(token)
    print(f"paperradar: API token {token_id} for {user.email}: shown only now, store it somewhere safe",
          file=sys.stderr)
    return 0


def _invite(radar: Radar, args: argparse.Namespace) -> int:
    from ..sync.config import ConfigError, load_config

    base = args.base_url or os.environ.get(ENV_BASE_URL)
    if not base:
        try:
            base = load_config(args.config).site.base_url
        except ConfigError as exc:
            print(f"paperradar: {exc}", file=sys.stderr)
            return 2
    token = accounts.new_invite(radar.store, None)
    print(f"{(base or 'http://127.0.0.1:8000').rstrip('/')}/register?invite={token}")
    print(f"paperradar: a single-use invitation, valid {accounts.INVITE_LIFETIME.days} days (the site must run "
          "with registration \"invite\" or \"open\")", file=sys.stderr)
    return 0


_COMMANDS = {"add": _add, "list": _list, "disable": _disable, "delete": _delete, "set-password": _set_password,
             "token": _token, "invite": _invite}


def _find(radar: Radar, email: str) -> User | None:
    """The user, or None after saying there is none."""
    user = radar.store.get_user(email)
    if user is None:
        print(f"paperradar: no user with email {email.strip().lower()!r}", file=sys.stderr)
    return user


def _read_password() -> str:
    """The first line of stdin, without its line ending, checked (:class:`AccountError` if unfit)."""
    line = sys.stdin.readline()
    return accounts.check_new_password(line.rstrip("\r\n"))


def _write_export(folder: Path, stem: str, data: dict[str, Any]) -> Path:
    """Write ``data`` to ``folder/stem.json`` (``stem-2.json``, ... if taken), never over a file."""
    folder.mkdir(parents=True, exist_ok=True)
    body = orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
    for n in range(1, 1000):
        path = folder / (f"{stem}.json" if n == 1 else f"{stem}-{n}.json")
        try:
            with open(path, "xb") as f:
                f.write(body)
            return path.resolve()
        except FileExistsError:
            continue
    raise FileExistsError(folder / f"{stem}.json")
