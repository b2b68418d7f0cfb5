"""Accounts: ``paperradar users`` (in-process), the users and api_tokens tables, and paperradar.accounts."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from community_fixtures import location, opened
from helpers import cli, cli_json

from paperradar import accounts
from paperradar.model import Paper
from paperradar.store import DuplicateUser, SQLiteStore, Store

PASSWORD = "correct horse battery"


@pytest.fixture
def db(store: Store) -> str:
    """What ``--db`` takes for a fresh database of each backend (conftest's ``store``: the SQLite file or
    the PostgreSQL URL); the commands open it themselves."""
    return location(store)


def users(capsys, db: Path, *args, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli(capsys, "users", *args, "--db", db)


def table(db: Path | str, sql: str) -> list[tuple]:
    with opened(db) as store:
        return [tuple(r) for r in store.conn.execute(sql).fetchall()]


def dump(db: Path | str) -> str:
    """Everything the database holds, as text."""
    with opened(db) as store:
        if isinstance(store, SQLiteStore):
            return "\n".join(store.conn.iterdump())
        tables = [r[0] for r in store.conn.execute(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN "
            "('pg_catalog', 'information_schema')").fetchall()]
        return "\n".join(str(r[0]) for t in tables for r in store.conn.execute(f"SELECT t::text FROM {t} t"))


# -- the command line ---------------------------------------------------------------


def test_add_list_disable_delete(capsys, db, tmp_path, monkeypatch) -> None:
    assert users(capsys, db, "list") == (0, "no accounts: sign-in is off (the site is read-only for visitors)\n", "")
    rc, out, err = users(capsys, db, "add", " Ada@Example.ORG ", "--name", "Ada", "--admin", "--password-stdin",
                         stdin=PASSWORD + "\n", monkeypatch=monkeypatch)
    assert rc == 0, err
    assert out == "added admin ada@example.org (id 1)\n"
    assert "first account: sign-in is now on" in err
    rc, out, err = users(capsys, db, "add", "bob@example.org")
    assert (rc, out, err) == (0, "added user bob@example.org (id 2), no password yet\n", "")

    listed = cli_json(capsys, "users", "list", "--db", db)["users"]
    assert [(u["email"], u["name"], u["is_admin"], u["disabled"], u["has_password"]) for u in listed] == [
        ("ada@example.org", "Ada", True, False, True), ("bob@example.org", None, False, False, False)]
    assert "password_hash" not in json.dumps(listed) and "argon2" not in json.dumps(listed)
    rc, out, _ = users(capsys, db, "list")
    assert "ada@example.org (Ada)" in out and "[admin]" in out and "[no password]" in out

    assert users(capsys, db, "disable", "BOB@example.org")[:2] == (0, "disabled bob@example.org\n")
    assert users(capsys, db, "disable", "bob@example.org")[:2] == (0, "bob@example.org was already disabled\n")
    assert cli_json(capsys, "users", "list", "--db", db)["users"][1]["disabled"] is True

    rc, out, err = users(capsys, db, "token", "ada@example.org", "--label", "script")
    assert rc == 0, err
    exports = tmp_path / "exports"
    rc, out, err = users(capsys, db, "delete", "ada@example.org", "--export-to", exports)
    assert rc == 0, err
    [path] = exports.glob("paperradar-user-1-*.json")
    assert f"to {path.resolve()}\n" in out and "deleted ada@example.org" in out
    data = json.loads(path.read_text())
    assert data["user"]["email"] == "ada@example.org" and data["user"]["is_admin"] is True
    assert [t["label"] for t in data["api_tokens"]] == ["script"]
    assert "hash" not in path.read_text()
    assert [u["email"] for u in cli_json(capsys, "users", "list", "--db", db)["users"]] == ["bob@example.org"]
    assert table(db, "SELECT * FROM api_tokens") == []  # the tokens went with the account

    # A second delete export on the same day never overwrites the first.
    users(capsys, db, "add", "ada@example.org")
    with opened(db) as store, store.write() as conn:
        conn.execute("UPDATE users SET id = 1 WHERE email = 'ada@example.org'")
    assert users(capsys, db, "delete", "ada@example.org", "--export-to", exports)[0] == 0
    assert len(list(exports.glob("paperradar-user-1-*.json"))) == 2


def test_delete_exports_to_the_current_folder_by_default(capsys, db, tmp_path, monkeypatch) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    users(capsys, db, "add", "ada@example.org")
    rc, out, err = users(capsys, db, "delete", "ada@example.org")
    assert rc == 0, err
    [path] = here.glob("paperradar-user-1-*.json")
    assert str(path.resolve()) in out


@pytest.mark.parametrize("email, why", [
    ("ada", "needs exactly one @"),
    ("ada@@example.org", "needs exactly one @"),
    ("ada@example", "the domain needs a dot"),
    ("ada lovelace@example.org", "contains a space"),
    ("@example.org", "needs a name before"),
    ("a" * 250 + "@x.org", "longer than 254"),
])
def test_bad_email_exits_2_naming_the_field(capsys, db, email, why) -> None:
    rc, out, err = users(capsys, db, "add", email)
    assert rc == 2 and out == ""
    assert err.startswith("paperradar: email: ") and why in err and err.count("\n") == 1


def test_short_password_exits_2_and_adds_nobody(capsys, db, monkeypatch) -> None:
    rc, out, err = users(capsys, db, "add", "ada@example.org", "--password-stdin", stdin="short\n",
                         monkeypatch=monkeypatch)
    assert (rc, out) == (2, "")
    assert err == "paperradar: password: too short (5 characters; at least 10)\n"
    assert users(capsys, db, "add", "ada@example.org", "--password-stdin", stdin="", monkeypatch=monkeypatch)[0] == 2
    assert cli_json(capsys, "users", "list", "--db", db)["users"] == []


def test_unknown_and_duplicate_email_exit_1_with_one_line(capsys, db) -> None:
    users(capsys, db, "add", "ada@example.org")
    rc, out, err = users(capsys, db, "add", "ADA@example.org")
    assert (rc, out, err) == (1, "", "paperradar: a user with email 'ada@example.org' already exists\n")
    for action in (["disable"], ["delete"], ["token"], ["set-password", "--password-stdin"]):
        rc, out, err = users(capsys, db, action[0], "nobody@example.org", *action[1:])
        assert (rc, out, err) == (1, "", "paperradar: no user with email 'nobody@example.org'\n"), action


def test_set_password_needs_stdin_and_replaces_the_hash(capsys, db, monkeypatch) -> None:
    users(capsys, db, "add", "ada@example.org")
    assert users(capsys, db, "set-password", "ada@example.org")[0] == 2  # --password-stdin is required
    rc, out, err = users(capsys, db, "set-password", "ada@example.org", "--password-stdin",
                         stdin=PASSWORD + "\r\n", monkeypatch=monkeypatch)
    assert (rc, out) == (0, "set the password of ada@example.org\n"), err
    with opened(db) as store:
        assert accounts.check_password(store, "ada@example.org", PASSWORD) is not None
        assert accounts.check_password(store, "ada@example.org", PASSWORD + "x") is None


def test_token_is_printed_once_and_only_its_hash_stored(capsys, db) -> None:
    users(capsys, db, "add", "ada@example.org")
    rc, out, err = users(capsys, db, "token", "ada@example.org", "--label", "laptop")
    assert rc == 0, err
    token = out.strip()
    assert out == token + "\n" and token.startswith("prt_") and len(token) == 4 + 43
    assert "shown only now" in err and token not in err
    rows = table(db, "SELECT token_hash, label, last_used_at FROM api_tokens")
    assert rows == [(accounts.hash_token(token), "laptop", None)]
    everything = dump(db)
    assert "laptop" in everything and token not in everything and token[4:] not in everything
    with opened(db) as store:
        user = accounts.user_for_token(store, token)
        assert user is not None and user.email == "ada@example.org"
        assert accounts.user_for_token(store, "prt_" + "x" * 43) is None
        assert accounts.user_for_token(store, token[4:]) is None  # not even the secret without its prefix
    assert table(db, "SELECT last_used_at IS NOT NULL FROM api_tokens") == [(1,)]
    second = users(capsys, db, "token", "ada@example.org")[1].strip()
    assert second != token

    users(capsys, db, "disable", "ada@example.org")
    rc, out, err = users(capsys, db, "token", "ada@example.org")
    assert (rc, out, err) == (1, "", "paperradar: ada@example.org is disabled\n")


def test_help_of_every_action(capsys, db) -> None:
    for action in ("add", "list", "disable", "delete", "set-password", "token"):
        rc, out, _ = cli(capsys, "users", action, "--help")
        assert rc == 0 and f"users {action}" in out
    assert cli(capsys, "users", "--db", db)[0] == 2  # an action is required


# -- the store --------------------------------------------------------------------------


def test_has_users_turns_on_with_the_first_account(store) -> None:
    assert store.has_users() is False and store.list_users() == []
    user = store.add_user("ada@example.org", "Ada", None, True)
    assert store.has_users() is True
    assert (user.id, user.email, user.name, user.is_admin, user.disabled, user.has_password) == \
        (1, "ada@example.org", "Ada", True, False, False)
    assert not hasattr(user, "password_hash")
    assert store.get_user(" ADA@example.org") == user
    assert store.get_user("bob@example.org") is None
    with pytest.raises(DuplicateUser, match="already exists"):
        store.add_user("Ada@Example.org")
    assert store.password_hash("ada@example.org") is None
    assert store.set_password_hash("ada@example.org", "h") and store.password_hash("ada@example.org") == "h"
    assert not store.set_password_hash("bob@example.org", "h")
    assert not store.disable_user("bob@example.org") and not store.delete_user("bob@example.org")


def test_user_for_token_not_after_revoke_disable_or_delete(store) -> None:
    store.add_user("ada@example.org")
    store.add_user("bob@example.org")
    first = store.add_api_token("ada@example.org", "a" * 64, "one")
    store.add_api_token("ada@example.org", "b" * 64, None)
    store.add_api_token("bob@example.org", "c" * 64, None)
    assert store.user_for_token("a" * 64).email == "ada@example.org"
    assert store.user_for_token("c" * 64).email == "bob@example.org"
    assert store.user_for_token("d" * 64) is None
    with pytest.raises(KeyError):
        store.add_api_token("nobody@example.org", "e" * 64, None)

    assert store.revoke_api_token(first) and not store.revoke_api_token(999)
    assert store.user_for_token("a" * 64) is None
    assert store.user_for_token("b" * 64).email == "ada@example.org"  # the other token still works

    assert store.disable_user("ada@example.org")
    assert store.user_for_token("b" * 64) is None
    assert store.get_user("ada@example.org").disabled

    assert store.delete_user("bob@example.org")
    assert store.user_for_token("c" * 64) is None
    assert store.conn.execute("SELECT COUNT(*) FROM api_tokens WHERE user = 2").fetchone()[0] == 0


def test_user_data_holds_the_account_tokens_and_featured_papers(store) -> None:
    user = store.add_user("ada@example.org", "Ada", "secret-hash", False)
    store.add_api_token("ada@example.org", "a" * 64, "laptop")
    store.merge([Paper(title="A paper", arxiv_id="2501.00001", id="2501.00001", published="2025-01-02",
                       source="test")], "test")
    store.add_featured("2501.00001", "2025-01-03", "local", str(user.id))
    data = store.user_data("ada@example.org")
    assert data["user"] == user.as_dict()
    assert [t["label"] for t in data["api_tokens"]] == ["laptop"]
    assert [(f["paper"], f["day"]) for f in data["featured"]] == [("2501.00001", "2025-01-03")]
    assert "secret-hash" not in json.dumps(data) and "a" * 64 not in json.dumps(data)
    assert store.user_data("bob@example.org") is None


# -- passwords ----------------------------------------------------------------------


def test_password_hashes_are_argon2id_salted_and_verify() -> None:
    first, second = accounts.hash_password(PASSWORD), accounts.hash_password(PASSWORD)
    assert first.startswith("$argon2id$") and first != second
    assert accounts.verify_password(first, PASSWORD) == (True, None)
    assert accounts.verify_password(first, PASSWORD + " ") == (False, None)
    assert accounts.verify_password(None, PASSWORD) == (False, None)
    assert accounts.verify_password("not a hash", PASSWORD) == (False, None)


def test_a_hash_of_other_parameters_is_rehashed_on_sign_in(store) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    store.add_user("ada@example.org", None, accounts.hash_password(PASSWORD, weak))
    old = store.password_hash("ada@example.org")
    assert "m=8192,t=1,p=1" in old

    assert accounts.check_password(store, "ada@example.org", "wrong password") is None
    assert store.password_hash("ada@example.org") == old  # a failed check changes nothing
    user = accounts.check_password(store, "ada@example.org", PASSWORD)
    assert user is not None and user.email == "ada@example.org"
    new = store.password_hash("ada@example.org")
    assert new != old and new.startswith("$argon2id$") and not PasswordHasher().check_needs_rehash(new)
    assert accounts.check_password(store, "ada@example.org", PASSWORD) is not None
    assert store.password_hash("ada@example.org") == new  # current parameters: no rehash

    # verify_password alone says so with the hasher it is given
    ok, rehashed = accounts.verify_password(new, PASSWORD, weak)
    assert ok and rehashed is not None and "m=8192,t=1,p=1" in rehashed


def test_check_password_refuses_unknown_disabled_and_passwordless_users(store) -> None:
    store.add_user("ada@example.org", None, accounts.hash_password(PASSWORD))
    store.add_user("bob@example.org")
    assert accounts.check_password(store, "nobody@example.org", PASSWORD) is None
    assert accounts.check_password(store, "bob@example.org", PASSWORD) is None
    store.disable_user("ada@example.org")
    assert accounts.check_password(store, "ada@example.org", PASSWORD) is None


def test_email_normalization() -> None:
    assert accounts.normalize_email("  Ada.Lovelace+radar@Example.Co.UK ") == "ada.lovelace+radar@example.co.uk"
    for bad in ("", "ada@.", "ada@example.", "ada@.org"):
        with pytest.raises(accounts.AccountError, match="^email: "):
            accounts.normalize_email(bad)
