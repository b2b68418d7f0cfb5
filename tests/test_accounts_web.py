"""Signing in on the web: /login, sessions, CSRF, throttling, registration, /settings and /api/me.

Each test serves a fresh, empty store in-process (accounts need no papers), on each backend (conftest's
``store``: a SQLite file or a PostgreSQL database)."""

from __future__ import annotations

import re

import pytest
from community_fixtures import ORIGIN, PASSWORD, Member, add_member, csrf_of, form_headers, sign_in
from fastapi.testclient import TestClient
from helpers import cli

from paperradar import accounts
from paperradar.app import Radar
from paperradar.config import Settings
from paperradar.store import Store
from paperradar.web import create_app
from paperradar.web.auth import SESSION_COOKIE


def make_site(store: Store, **settings: object) -> tuple[Store, TestClient]:
    """The app over ``store`` (conftest's fixture closes it)."""
    app = create_app(Radar(store, settings=Settings(**settings)))  # type: ignore[arg-type]
    return store, TestClient(app, follow_redirects=False)


@pytest.fixture
def site(store: Store):
    return make_site(store)


def login(client: TestClient, email: str, password: str, **headers: str):
    return client.post("/login", data={"email": email, "password": password},
                       headers={"Origin": ORIGIN, **headers})


# -- no accounts -----------------------------------------------------------------------


def test_without_accounts_the_site_is_read_only_and_says_how_to_start(site) -> None:
    _, client = site
    page = client.get("/")
    assert page.status_code == 200 and "Sign in" not in page.text  # nothing to sign in to
    login_page = client.get("/login")
    assert "no accounts yet" in login_page.text and "users add EMAIL --admin" in login_page.text
    answer = client.get("/api/me")
    assert answer.status_code == 401 and "no accounts yet" in answer.json()["error"]["message"]
    assert answer.headers["www-authenticate"].startswith("Bearer")


# -- signing in ----------------------------------------------------------------------------


def test_sign_in_sets_a_safe_cookie_and_the_header_shows_the_user(site) -> None:
    store, client = site
    ada = add_member(store, "ada@example.org", admin=True, name="Ada")
    assert "Sign in" in client.get("/").text  # accounts exist: the header offers it
    r = login(client, "ADA@example.org ", PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # http site
    home = client.get("/").text
    assert "Ada" in home and 'action="/logout"' in home
    assert client.get("/api/me").json()["email"] == ada.email
    token = cookie.split(";")[0].split("=", 1)[1]
    assert token not in "".join(str(r) for r in store.conn.execute("SELECT * FROM sessions"))  # only its hash


def test_https_site_sends_a_secure_cookie(store: Store) -> None:
    store, client = make_site(store, base_url="https://papers.example.org")
    add_member(store, "ada@example.org")
    client = TestClient(client.app, base_url="https://papers.example.org", follow_redirects=False)
    r = client.post("/login", data={"email": "ada@example.org", "password": PASSWORD},
                    headers={"Origin": "https://papers.example.org"})
    assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


def test_wrong_password_and_unknown_email_get_the_same_answer(site) -> None:
    store, client = site
    add_member(store, "ada@example.org")
    wrong, unknown = login(client, "ada@example.org", "not the password"), login(client, "bob@example.org", "x" * 12)
    assert wrong.status_code == unknown.status_code == 401
    message = re.compile(r'<p class="message" role="alert">([^<]*)</p>')
    assert message.search(wrong.text).group(1) == message.search(unknown.text).group(1)  # type: ignore[union-attr]
    assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")


def test_next_goes_back_to_a_page_of_this_site_only(site) -> None:
    store, client = site
    add_member(store, "ada@example.org")
    for target, expected in (("/settings", "/settings"), ("//evil.example/x", "/"), ("https://evil.example", "/"),
                             ("/\\evil.example", "/")):
        r = client.post("/login", data={"email": "ada@example.org", "password": PASSWORD, "next": target},
                        headers={"Origin": ORIGIN})
        assert r.headers["location"] == expected, target


def test_login_form_from_another_site_is_refused(site) -> None:
    store, client = site
    add_member(store, "ada@example.org")
    assert login(client, "ada@example.org", PASSWORD, Origin="https://evil.example").status_code == 403
    r = client.post("/login", data={"email": "ada@example.org", "password": PASSWORD})  # no Origin, no Referer
    assert r.status_code == 403
    r = client.post("/login", data={"email": "ada@example.org", "password": PASSWORD},
                    headers={"Referer": f"{ORIGIN}/login"})
    assert r.status_code == 303  # a browser that sends only Referer


def test_missing_fields_are_400s_naming_them(site) -> None:
    store, client = site
    add_member(store, "ada@example.org")
    r = client.post("/login", data={"email": "ada@example.org"}, headers={"Origin": ORIGIN})
    assert r.status_code == 400 and "password is required" in r.text
    r = client.post("/login", data={"email": "a\x00@example.org", "password": "x"}, headers={"Origin": ORIGIN})
    assert r.status_code == 400 and "email contains control characters" in r.text


def test_session_fixation_a_cookie_set_before_sign_in_is_not_kept(site) -> None:
    store, client = site
    add_member(store, "ada@example.org")
    planted, _ = accounts.start_session(store, add_member(store, "eve@example.org").user)  # the attacker's own
    client.cookies.set(SESSION_COOKIE, planted)
    assert client.get("/api/me").json()["email"] == "eve@example.org"
    r = login(client, "ada@example.org", PASSWORD)
    new = r.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    assert new != planted
    assert accounts.session_of(store, planted) is None  # the planted session ended
    client.cookies.set(SESSION_COOKIE, new)
    assert client.get("/api/me").json()["email"] == "ada@example.org"


# -- throttling ----------------------------------------------------------------------------


def test_brute_force_is_throttled_per_account_with_retry_after(site) -> None:
    store, client = site
    add_member(store, "ada@example.org")
    for _ in range(accounts.THROTTLE_FAILURES):
        assert login(client, "ada@example.org", "wrong password!").status_code == 401
    r = login(client, "ada@example.org", PASSWORD)  # even the right password: the account is throttled
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= accounts.THROTTLE_WINDOW
    assert SESSION_COOKIE not in r.headers.get("set-cookie", "")
    # an unknown email is throttled the same way (no difference tells which emails exist)
    for _ in range(accounts.THROTTLE_FAILURES):
        login(client, "nobody@example.org", "wrong password!")
    assert login(client, "nobody@example.org", "wrong password!").status_code == 429


def test_throttling_per_client_address_across_accounts(site) -> None:
    store, client = site
    add_member(store, "ada@example.org")
    for n in range(accounts.THROTTLE_FAILURES):
        login(client, f"guess{n}@example.org", "wrong password!")
    assert login(client, "ada@example.org", PASSWORD).status_code == 429  # same address
    other = TestClient(client.app, follow_redirects=False, client=("10.0.0.9", 5000))
    assert login(other, "ada@example.org", PASSWORD).status_code == 303


def test_retry_after_counts_down_from_the_oldest_failure(site) -> None:
    store, _ = site
    keys = accounts.throttle_keys("ada@example.org", "1.2.3.4")
    for n in range(accounts.THROTTLE_FAILURES):
        store.add_login_failure(keys, 1000.0 + n)
    assert accounts.retry_after(store, "ada@example.org", "1.2.3.4", now=1100.0) == 1000 + 900 - 1100
    assert accounts.retry_after(store, "ada@example.org", "1.2.3.4", now=1000.0 + 900 + 1) is None


# -- CSRF and signing out ---------------------------------------------------------------------


def test_changes_with_the_cookie_need_the_csrf_token_and_this_origin(site) -> None:
    store, client = site
    ada = add_member(store, "ada@example.org")
    csrf = sign_in(client, ada)
    for data, headers in (({"name": "X"}, {"Origin": ORIGIN}),  # no token
                          ({"name": "X", "csrf_token": "forged"}, {"Origin": ORIGIN}),
                          ({"name": "X", "csrf_token": csrf}, {"Origin": "https://evil.example"}),
                          ({"name": "X", "csrf_token": csrf}, {})):  # no Origin nor Referer
        assert client.post("/settings/name", data=data, headers=headers).status_code == 403, (data, headers)
    assert store.get_user("ada@example.org").name is None  # type: ignore[union-attr]
    ok = client.post("/settings/name", data={"name": "Ada", "csrf_token": csrf}, headers={"Origin": ORIGIN})
    assert ok.status_code == 303 and store.get_user("ada@example.org").name == "Ada"  # type: ignore[union-attr]
    # a script sends the token as a header
    r = client.post("/api/me/tokens", json={"label": "js"}, headers=form_headers(csrf))
    assert r.status_code == 201


def test_sign_out_ends_the_session(site) -> None:
    store, client = site
    ada = add_member(store, "ada@example.org")
    csrf = sign_in(client, ada)
    cookie = client.cookies.get(SESSION_COOKIE)
    assert client.get("/logout").status_code == 405  # a link never signs out
    r = client.post("/logout", data={"csrf_token": csrf}, headers={"Origin": ORIGIN})
    assert r.status_code == 303 and 'Max-Age=0' in r.headers["set-cookie"] or "expires" in r.headers["set-cookie"]
    assert accounts.session_of(store, cookie or "") is None
    client.cookies.set(SESSION_COOKIE, cookie or "")
    assert client.get("/api/me").status_code == 401


def test_sign_out_everywhere_and_password_change_end_other_sessions(site) -> None:
    store, client = site
    ada = add_member(store, "ada@example.org")
    laptop, phone = client, TestClient(client.app, follow_redirects=False)
    csrf = sign_in(laptop, ada)
    sign_in(phone, ada)
    r = laptop.post("/settings/password", data={"current_password": PASSWORD, "new_password": "a new long password",
                                                "csrf_token": csrf}, headers={"Origin": ORIGIN})
    assert r.status_code == 200 and "Password changed" in r.text
    assert phone.get("/api/me").status_code == 401 and laptop.get("/api/me").status_code == 200
    assert login(phone, "ada@example.org", PASSWORD).status_code == 401
    assert login(phone, "ada@example.org", "a new long password").status_code == 303
    laptop.post("/settings/sign-out-everywhere", data={"csrf_token": csrf}, headers={"Origin": ORIGIN})
    assert laptop.get("/api/me").status_code == 401 and phone.get("/api/me").status_code == 401


def test_wrong_current_password_changes_nothing(site) -> None:
    store, client = site
    ada = add_member(store, "ada@example.org")
    csrf = sign_in(client, ada)
    before = store.password_hash("ada@example.org")
    r = client.post("/settings/password", data={"current_password": "not it at all", "new_password": "whatever long",
                                                "csrf_token": csrf}, headers={"Origin": ORIGIN})
    assert r.status_code == 400 and "current_password" in r.text
    r = client.post("/settings/password", data={"current_password": PASSWORD, "new_password": "short",
                                                "csrf_token": csrf}, headers={"Origin": ORIGIN})
    assert r.status_code == 400 and "new_password: too short" in r.text
    assert store.password_hash("ada@example.org") == before


def test_disabled_and_deleted_users_lose_sessions_and_tokens_at_once(site) -> None:
    store, client = site
    ada, bob = add_member(store, "ada@example.org"), add_member(store, "bob@example.org")
    sign_in(client, ada)
    assert client.get("/api/me").status_code == 200 and client.get("/api/me", headers=ada.bearer).status_code == 200
    store.disable_user("ada@example.org")
    assert client.get("/api/me").status_code == 401
    assert client.get("/api/me", headers=ada.bearer).status_code == 401
    assert login(client, "ada@example.org", PASSWORD).status_code == 401
    bob_client = TestClient(client.app, follow_redirects=False)
    sign_in(bob_client, bob)
    store.delete_user("bob@example.org")
    assert bob_client.get("/api/me").status_code == 401
    assert bob_client.get("/api/me", headers=bob.bearer).status_code == 401


# -- tokens, settings, export, delete --------------------------------------------------------


def test_api_tokens_from_the_api_and_settings_only_ones_own(site) -> None:
    store, client = site
    ada, bob = add_member(store, "ada@example.org"), add_member(store, "bob@example.org")
    made = client.post("/api/me/tokens", json={"label": "script"}, headers=ada.bearer)
    assert made.status_code == 201 and made.json()["token"].startswith("prt_")
    new = {"Authorization": f"Bearer {made.json()['token']}"}
    assert client.get("/api/me", headers=new).json()["email"] == "ada@example.org"
    listed = client.get("/api/me/tokens", headers=ada.bearer).json()["tokens"]
    assert {t["label"] for t in listed} == {"tests", "script"} and "token" not in listed[0]
    # Bob can neither see nor revoke Ada's
    assert {t["label"] for t in client.get("/api/me/tokens", headers=bob.bearer).json()["tokens"]} == {"tests"}
    assert client.delete(f"/api/me/tokens/{made.json()['id']}", headers=bob.bearer).status_code == 404
    assert client.get("/api/me", headers=new).status_code == 200
    assert client.delete(f"/api/me/tokens/{made.json()['id']}", headers=ada.bearer).status_code == 200
    assert client.get("/api/me", headers=new).status_code == 401
    assert client.post("/api/me/tokens", json={"label": "a\x00b"}, headers=ada.bearer).status_code == 400
    assert client.post("/api/me/tokens", json={"nope": 1}, headers=ada.bearer).status_code == 400


def test_settings_page_makes_and_revokes_tokens_and_escapes_the_name(site) -> None:
    store, client = site
    ada = add_member(store, "ada@example.org", name="<b>Ada</b>")
    csrf = sign_in(client, ada)
    page = client.get("/settings").text
    assert "&lt;b&gt;Ada&lt;/b&gt;" in page and "<b>Ada</b>" not in page
    made = client.post("/settings/tokens", data={"label": "<i>laptop</i>", "csrf_token": csrf}, headers={"Origin": ORIGIN})
    token = re.search(r'<code id="new-token">(prt_[^<]+)</code>', made.text).group(1)  # type: ignore[union-attr]
    assert "&lt;i&gt;laptop&lt;/i&gt;" in made.text
    assert token not in client.get("/settings").text  # shown once
    token_id = max(t["id"] for t in store.user_api_tokens(ada.user.id))
    r = client.post(f"/settings/tokens/{token_id}/revoke", data={"csrf_token": csrf}, headers={"Origin": ORIGIN})
    assert r.status_code == 303
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_settings_needs_sign_in(site) -> None:
    store, client = site
    add_member(store, "ada@example.org")
    r = client.get("/settings")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/settings"
    assert client.post("/settings/name", data={"name": "x"}, headers={"Origin": ORIGIN}).status_code == 401


def test_delete_account_needs_the_password_and_takes_everything(site) -> None:
    store, client = site
    ada = add_member(store, "ada@example.org")
    csrf = sign_in(client, ada)
    export = client.get("/settings/export")
    assert export.status_code == 200 and export.json()["user"]["email"] == "ada@example.org"
    assert "attachment" in export.headers["content-disposition"]
    r = client.post("/settings/delete", data={"password": "not my password", "csrf_token": csrf}, headers={"Origin": ORIGIN})
    assert r.status_code == 400 and store.get_user("ada@example.org") is not None
    r = client.post("/settings/delete", data={"password": PASSWORD, "csrf_token": csrf}, headers={"Origin": ORIGIN})
    assert r.status_code == 303 and store.get_user("ada@example.org") is None
    assert store.conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0


# -- registration -------------------------------------------------------------------------------


def register(client: TestClient, email: str, password: str = PASSWORD, invite: str | None = None, name: str = ""):
    data = {"email": email, "password": password, "name": name} | ({"invite": invite} if invite else {})
    return client.post("/register", data=data, headers={"Origin": ORIGIN})


def test_registration_closed_by_default(site) -> None:
    store, client = site
    add_member(store, "ada@example.org", admin=True)
    assert client.get("/register").status_code == 403
    assert register(client, "eve@example.org").status_code == 403
    assert store.get_user("eve@example.org") is None


def test_registration_by_single_use_invite(store: Store, capsys) -> None:
    store, client = make_site(store, registration="invite")
    add_member(store, "ada@example.org", admin=True)
    rc, out, err = cli(capsys, "--db", store.path, "users", "invite", "--base-url", "https://papers.example.org/")
    assert rc == 0 and "single-use" in err
    link = out.strip()
    assert link.startswith("https://papers.example.org/register?invite=inv_")
    invite = link.split("invite=", 1)[1]
    assert client.get("/register").status_code == 403  # no invitation
    assert client.get("/register?invite=inv_forged").status_code == 403
    assert client.get(f"/register?invite={invite}").status_code == 200
    assert register(client, "bob@example.org", "short", invite).status_code == 400  # password too short; invite kept
    r = register(client, "bob@example.org", PASSWORD, invite, name="Bob")
    assert r.status_code == 303 and SESSION_COOKIE in r.headers["set-cookie"]
    assert client.get("/api/me").json()["name"] == "Bob"
    again = TestClient(client.app, follow_redirects=False)
    assert register(again, "carol@example.org", PASSWORD, invite).status_code == 403  # used
    assert store.get_user("carol@example.org") is None


def test_open_registration(store: Store) -> None:
    store, client = make_site(store, registration="open")
    add_member(store, "ada@example.org", admin=True)
    assert register(client, "ADA@example.org").status_code == 409  # taken (any case)
    assert register(client, "not an email").status_code == 400
    r = register(client, "eve@example.org", name="<script>x</script>")
    assert r.status_code == 303
    assert "&lt;script&gt;" in client.get("/settings").text
    assert store.get_user("eve@example.org").is_admin is False  # type: ignore[union-attr]


def test_cookie_session_reads_me_bearer_needs_no_csrf(site) -> None:
    store, client = site
    ada: Member = add_member(store, "ada@example.org")
    r = client.post("/api/me/tokens", json={"label": "ci"}, headers=ada.bearer)  # no Origin, no CSRF token
    assert r.status_code == 201
    assert client.get("/api/me", headers={"Authorization": "Bearer prt_nope"}).status_code == 401
    assert client.get("/api/me", headers={"Authorization": "Basic abc"}).status_code == 401
    sign_in(client, ada)
    assert csrf_of(client)


def test_hugging_face_client_whoami_with_a_personal_token(store: Store) -> None:
    """The official client, pointed at `paperradar serve`, tells whose token it holds."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError
    from web_fixtures import Server, quiet_main

    ada = add_member(store, "ada@example.org", name="Ada Lovelace")
    assert quiet_main("--db", store.path, "users", "list")[0] == 0
    server = Server(store.path, env={"NO_PROXY": "127.0.0.1,localhost"})
    try:
        me = HfApi(endpoint=server.base, token=ada.token).whoami()
        assert (me["name"], me["fullname"], me["email"], me["auth"]["type"]) == (
            "Ada Lovelace", "Ada Lovelace", "ada@example.org", "access_token")
        with pytest.raises(HfHubHTTPError) as refused:
            HfApi(endpoint=server.base, token="prt_" + "x" * 43).whoami()
        assert refused.value.response.status_code == 401
    finally:
        assert server.stop() == 0
