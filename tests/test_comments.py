"""Comments on paper pages: the store, the JSON API (bearer tokens), the plain forms (session
cookie + CSRF), the rendering's safety, and ``numComments`` in Hugging Face's API.

The web tests run on ``community``: a copy of the real slice database served in-process (one
per module), so comments written here never reach the read-only web tests.
"""

from __future__ import annotations

import re
from itertools import count
from typing import Any

import pytest
from community_fixtures import ORIGIN, add_member, browser, community, form_headers  # noqa: F401
from web_fixtures import assert_no_inline_code

from paperradar import markdown
from paperradar.model import Paper
from paperradar.web import schemas
from paperradar.web.common import text_schema

PAPER = "2503.15485"  # in the slice
SLASHED = "hep-th/9901001"  # an old-style id, added by the fixture below
_emails = count()

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[y](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![z](javascript:alert(1))",
    "![pixel](https://tracker.example/p.gif)",
    '<https://a.example/"onmouseover="alert(1)>',
    '[q](https://a.example/"><script>alert(1)</script>)',
    "<div onclick=\"alert(1)\">\n\n<iframe src='https://evil.example'></iframe>\n\n</div>",
    "<!-- x --><svg onload=alert(1)>",
    "[r](vbscript:msgbox(1))",
    "[s](//evil.example/x)",
    "<style>body{display:none}</style>",
]


def member(site: Any, admin: bool = False, name: str | None = None) -> Any:
    return add_member(site.store, f"user{next(_emails)}@example.org", admin=admin, name=name)


@pytest.fixture(scope="module")
def site(community):  # noqa: F811
    """The community site, with a paper whose id has a slash."""
    community.store.merge([Paper(title="Old string theory", abstract="An old paper.", authors=["A. Old"],
                                 categories=["hep-th"], id=SLASHED, arxiv_id=SLASHED, published="1999-01-04",
                                 source="test")], "test")
    return community


def post(client: Any, paper: str, body: Any, who: Any) -> Any:
    return client.post(f"/api/papers/{paper}/comments", json={"body": body}, headers=who.bearer)


def section_of(html: str) -> str:
    """The comments section of a paper page."""
    start = html.index('<section class="comments" id="comments">')
    return html[start:html.index("</section>", start)]


# -- rendering ------------------------------------------------------------------------------


def assert_harmless(html: str) -> None:
    """Rendered comment HTML: only the allowed tags, no event handler, links to http(s), mailto or this site."""
    tags = re.findall(r"<[^>]*>", html.lower())
    for tag in tags:
        name = re.match(r"</?([a-z0-9]+)", tag)
        assert name and name[1] in markdown.TAGS, (tag, html)
        assert not re.search(r"\son\w+\s*=", tag) and "javascript:" not in tag and "style=" not in tag, (tag, html)
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(("https://", "http://", "mailto:", "/")) and not href.startswith("//"), html


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_renders_as_harmless_html(text: str) -> None:
    html = markdown.render(text)
    assert_harmless(html)
    assert "<img" not in html and "<script" not in html and "<!--" not in html


def test_markdown_renders_what_comments_need() -> None:
    html = markdown.render("# Title\n\nSome *em*, **strong**, `code` and ~~gone~~.\n\n"
                           "- one\n- two\n\n> quoted\n\n```\nx < y\n```\n\n[site](https://example.org/a?b=1&c=2) "
                           "<mailto:ada@example.org> [here](/papers/2503.15485)")
    assert "<h4>Title</h4>" in html  # headings sit under the page's own
    assert "<em>em</em>" in html and "<strong>strong</strong>" in html and "<code>code</code>" in html
    assert "<s>gone</s>" in html and "<li>one</li>" in html and "<blockquote>" in html
    assert "<pre><code>x &lt; y\n</code></pre>" in html
    assert '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener ugc">site</a>' in html
    assert '<a href="mailto:ada@example.org" rel="nofollow noopener ugc">' in html
    assert '<a href="/papers/2503.15485" rel="nofollow noopener ugc">here</a>' in html
    image = markdown.render("![a chart](https://example.org/chart.png)")
    assert image == '<p><a href="https://example.org/chart.png" rel="nofollow noopener ugc">a chart</a></p>\n'
    assert "<a" not in markdown.render("[x](javascript:alert(1))")
    assert 'href' not in markdown.render("[x](//evil.example)") and 'href' not in markdown.render("[x](relative)")


def test_the_body_schema_is_the_one_text_checks_use() -> None:
    documented = schemas.CommentText.model_json_schema()["properties"]["body"]
    wanted = text_schema(markdown.MAX_CHARS, required=True)
    assert {k: documented[k] for k in wanted} == wanted


# -- the store ------------------------------------------------------------------------------


def test_store_comments_cascade_and_export(store) -> None:
    store.merge([Paper(title=f"P{i}", abstract="a", authors=["X"], categories=["cs.CL"], id=f"2501.0000{i}",
                       arxiv_id=f"2501.0000{i}", published="2025-01-02", source="t") for i in (1, 2)], "t")
    ada = store.add_user("ada@example.org", name="Ada")
    bob = store.add_user("bob.smith@example.org")
    assert store.add_comment("2501.09999", ada.id, "x") is None  # no such paper
    first = store.add_comment("2501.00001", ada.id, "first")
    second = store.add_comment("2501.00001", bob.id, "second")
    store.add_comment("2501.00002", bob.id, "elsewhere")
    assert first and second and first["author"] == "Ada" and second["author"] == "bob.smith"  # never the email
    assert "bob.smith@example.org" not in repr(store.paper_comments("2501.00001"))
    assert [c["body"] for c in store.paper_comments("2501.00001")] == ["first", "second"]  # oldest first
    assert store.edit_comment(first["id"], "first") ["edited_at"] is None  # the same text: not an edit
    edited = store.edit_comment(first["id"], "first, edited")
    assert edited and edited["body"] == "first, edited" and edited["edited_at"]
    rowids = store.rowids(["2501.00001", "2501.00002"])
    assert store.comment_counts(list(rowids.values())) == {rowids["2501.00001"]: 2, rowids["2501.00002"]: 1}
    exported = store.user_data("bob.smith@example.org")
    assert exported and [c["body"] for c in exported["comments"]] == ["second", "elsewhere"]
    assert exported["comments"][0]["paper"] == "2501.00001"
    assert store.delete_comment(second["id"]) and not store.delete_comment(second["id"])
    third = store.add_comment("2501.00001", bob.id, "third")
    assert third and third["id"] > second["id"]  # a deleted comment's id is never given again
    store.delete_user("bob.smith@example.org")  # ON DELETE CASCADE
    assert [c["body"] for c in store.paper_comments("2501.00001")] == ["first, edited"]
    assert store.comment_counts([rowids["2501.00002"]]) == {}


# -- the API --------------------------------------------------------------------------------


def test_comment_list_edit_and_rights_with_bearer_tokens(site) -> None:
    client = site.client()
    ada, bob, root = member(site, name="Ada"), member(site), member(site, admin=True)
    r = post(client, PAPER, "Nice **result**.", ada)
    assert r.status_code == 201, r.text
    mine = r.json()
    schemas.Comment.model_validate(mine)
    assert mine["author"] == "Ada" and mine["body"] == "Nice **result**." and mine["paper"] == PAPER
    assert mine["html"] == "<p>Nice <strong>result</strong>.</p>\n" and mine["edited_at"] is None
    assert mine["mine"] and mine["can_edit"] and mine["can_delete"]
    assert mine["url"] == f"/papers/{PAPER}#comment-{mine['id']}"
    other = post(client, PAPER, "Second.", bob).json()
    # anyone may read; the viewer's rights come with each comment
    listed = client.get(f"/api/papers/{PAPER}/comments").json()
    schemas.Comments.model_validate(listed)
    ours = [c for c in listed["comments"] if c["id"] in (mine["id"], other["id"])]
    assert [c["body"] for c in ours] == ["Nice **result**.", "Second."]  # oldest first
    assert not any(c["mine"] or c["can_edit"] or c["can_delete"] for c in listed["comments"])
    assert listed["count"] == len(listed["comments"])
    as_bob = {c["id"]: c for c in client.get(f"/api/papers/{PAPER}/comments", headers=bob.bearer).json()["comments"]}
    assert as_bob[other["id"]]["can_edit"] and not as_bob[mine["id"]]["can_edit"]
    as_root = {c["id"]: c for c in client.get(f"/api/papers/{PAPER}/comments", headers=root.bearer).json()["comments"]}
    assert as_root[mine["id"]]["can_delete"] and not as_root[mine["id"]]["can_edit"]
    assert bob.email.split("@")[0] == as_root[other["id"]]["author"]
    assert bob.email not in client.get(f"/api/papers/{PAPER}/comments").text  # never the email
    # edit: the author only
    edited = client.put(f"/api/comments/{mine['id']}", json={"body": "Nice *result*."}, headers=ada.bearer)
    assert edited.status_code == 200 and edited.json()["edited_at"] and edited.json()["html"] == \
        "<p>Nice <em>result</em>.</p>\n"
    for someone in (bob, root):  # another user, even an administrator
        r = client.put(f"/api/comments/{mine['id']}", json={"body": "pwned"}, headers=someone.bearer)
        assert r.status_code == 403 and "only its author" in r.json()["error"]["message"]
    assert site.store.comment(mine["id"])["body"] == "Nice *result*."
    # delete: the author or an administrator
    r = client.delete(f"/api/comments/{mine['id']}", headers=bob.bearer)
    assert r.status_code == 403 and site.store.comment(mine["id"]) is not None
    r = client.delete(f"/api/comments/{mine['id']}", headers=root.bearer)
    assert r.status_code == 200 and mine["id"] not in [c["id"] for c in r.json()["comments"]]
    schemas.Comments.model_validate(r.json())
    assert client.delete(f"/api/comments/{other['id']}", headers=bob.bearer).status_code == 200
    assert client.delete(f"/api/comments/{other['id']}", headers=bob.bearer).status_code == 404


def test_anonymous_and_bad_credentials_are_401(site) -> None:
    client = site.client()
    ada = member(site)
    made = post(client, PAPER, "hello", ada).json()
    assert client.post(f"/api/papers/{PAPER}/comments", json={"body": "x"}).status_code == 401
    assert client.put(f"/api/comments/{made['id']}", json={"body": "x"}).status_code == 401
    assert client.delete(f"/api/comments/{made['id']}").status_code == 401
    bad = {"Authorization": "Bearer prt_not-a-token"}
    r = client.post(f"/api/papers/{PAPER}/comments", json={"body": "x"}, headers=bad)
    assert r.status_code == 401 and "not valid" in r.json()["error"]["message"]
    assert site.store.comment(made["id"])["body"] == "hello"


@pytest.mark.parametrize(("body", "message"), [
    ("", "body is empty"), ("   \n\t ", "body is empty"), ("x" * 10_001, "body is too long: 10,001 characters"),
    ("nul\x00byte", "body contains control characters"), ("esc \x1b[31m", "body contains control characters"),
])
def test_bad_bodies_are_400s_naming_body(site, body: str, message: str) -> None:
    client = site.client()
    ada = member(site)
    before = len(site.store.paper_comments(PAPER))
    r = post(client, PAPER, body, ada)
    assert r.status_code == 400 and message in r.json()["error"]["message"], r.text
    made = post(client, PAPER, "fine", ada).json()
    r = client.put(f"/api/comments/{made['id']}", json={"body": body}, headers=ada.bearer)
    assert r.status_code == 400 and message in r.json()["error"]["message"]
    assert site.store.comment(made["id"])["body"] == "fine"  # nothing half-written
    assert len(site.store.paper_comments(PAPER)) == before + 1


def test_other_bad_requests(site) -> None:
    client = site.client()
    ada = member(site)
    assert post(client, PAPER, "x" * 10_000, ada).status_code == 201  # the limit itself is fine
    assert post(client, PAPER, "tabs\tand\r\nbreaks", ada).json()["body"] == "tabs\tand\nbreaks"
    for bad in ({"body": 5}, {"text": "x"}, {"body": "x", "extra": 1}, [], "body"):
        r = client.post(f"/api/papers/{PAPER}/comments", json=bad, headers=ada.bearer)
        assert r.status_code == 400 and "body" in r.json()["error"]["message"], (bad, r.text)
    r = post(client, "no-such-paper", "x", ada)
    assert r.status_code == 404 and "no paper" in r.json()["error"]["message"]
    assert client.get("/api/papers/no-such-paper/comments").status_code == 404
    for verb in ("put", "delete"):
        kwargs = {"json": {"body": "x"}} if verb == "put" else {}
        assert getattr(client, verb)("/api/comments/999999999", headers=ada.bearer, **kwargs).status_code == 404
        assert getattr(client, verb)("/api/comments/abc", headers=ada.bearer, **kwargs).status_code == 400


def test_ids_with_a_slash_and_versions(site) -> None:
    client = site.client()
    ada = member(site)
    r = post(client, SLASHED, "On an old paper.", ada)
    assert r.status_code == 201 and r.json()["paper"] == SLASHED
    assert r.json()["url"] == f"/papers/{SLASHED}#comment-{r.json()['id']}"
    assert [c["body"] for c in client.get(f"/api/papers/{SLASHED}/comments").json()["comments"]] == \
        ["On an old paper."]
    assert "On an old paper." in client.get(f"/papers/{SLASHED}").text
    versioned = post(client, f"{PAPER}v2", "By a versioned id.", ada)  # the paper's canonical id is kept
    assert versioned.status_code == 201 and versioned.json()["paper"] == PAPER


# -- the page and the forms -------------------------------------------------------------------


def test_the_paper_page_shows_comments_escaped_with_the_right_buttons(site) -> None:
    client = site.client()
    ada, eve = member(site, name="Ada"), member(site, name="<b>Eve</b>")
    hostile = [post(client, SLASHED, text, eve).json() for text in HOSTILE]
    post(client, SLASHED, "A *fine* remark.", ada)
    page = client.get(f"/papers/{SLASHED}")
    assert page.status_code == 200
    html = section_of(page.text)
    assert_no_inline_code(page.text)
    assert "&lt;b&gt;Eve&lt;/b&gt;" in html and "<b>Eve</b>" not in html  # the name is text
    lowered = html.lower()
    for tag in ("<script", "<img", "<iframe", "<svg", "<style"):
        assert tag not in lowered
    bodies = re.findall(r'<div class="comment-body">(.*?)</div>', lowered, re.DOTALL)
    assert len(bodies) >= len(HOSTILE) + 1 and not any("<div" in b for b in bodies)  # the sanitizer's only
    assert not re.search(r"<[^>]*\son\w+\s*=", lowered) and "javascript:" not in "".join(re.findall(r"<[^>]+>", lowered))
    assert "<p>A <em>fine</em> remark.</p>" in html
    assert html.index(f'id="comment-{hostile[0]["id"]}"') < html.index(f'id="comment-{hostile[-1]["id"]}"')
    # anonymous: no buttons, no form, an offer to sign in that comes back here
    assert "/edit" not in html and "/delete" not in html and 'name="body"' not in html
    assert f'href="/login?next=/papers/{SLASHED}%23comments"' in html
    # JSON: the html field is the same sanitized text; the name is JSON text
    listed = client.get(f"/api/papers/{SLASHED}/comments").json()["comments"]
    for c in listed:
        assert_harmless(c["html"])
    assert {c["author"] for c in listed} >= {"<b>Eve</b>", "Ada"}


def test_forms_with_the_session_cookie_and_csrf(site) -> None:
    ada, bob, root = member(site, name="Ada"), member(site), member(site, admin=True)
    client, csrf = browser(site, ada)
    page = client.get(f"/papers/{PAPER}")
    html = section_of(page.text)
    assert f'action="/papers/{PAPER}/comments"' in html and f'value="{csrf}"' in html and 'name="body"' in html
    # add: a same-origin form with the token
    r = client.post(f"/papers/{PAPER}/comments", data={"body": "From the form\r\nline two", "csrf_token": csrf},
                    headers={"Origin": ORIGIN})
    assert r.status_code == 303
    made = site.store.paper_comments(PAPER)[-1]
    assert made["body"] == "From the form\nline two" and made["author"] == "Ada"
    assert r.headers["location"] == f"/papers/{PAPER}#comment-{made['id']}"
    # without the token, or from another site: 403, nothing written
    before = len(site.store.paper_comments(PAPER))
    assert client.post(f"/papers/{PAPER}/comments", data={"body": "no token"},
                       headers={"Origin": ORIGIN}).status_code == 403
    assert client.post(f"/papers/{PAPER}/comments", data={"body": "foreign", "csrf_token": csrf},
                       headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post(f"/api/papers/{PAPER}/comments", json={"body": "script, no token"},
                       headers={"Origin": ORIGIN}).status_code == 403
    assert client.post(f"/api/papers/{PAPER}/comments", json={"body": "script"},
                       headers=form_headers(csrf)).status_code == 201  # a script with the header
    assert len(site.store.paper_comments(PAPER)) == before + 1
    # the page now offers edit and delete on her comment
    html = section_of(client.get(f"/papers/{PAPER}").text)
    assert f'href="/comments/{made["id"]}/edit"' in html and f'action="/comments/{made["id"]}/delete"' in html
    # edit page: the author only
    edit = client.get(f"/comments/{made['id']}/edit")
    assert edit.status_code == 200 and "From the form\nline two</textarea>" in edit.text
    assert_no_inline_code(edit.text)
    r = client.post(f"/comments/{made['id']}/edit", data={"body": "Edited **here**", "csrf_token": csrf},
                    headers={"Origin": ORIGIN})
    assert r.status_code == 303 and r.headers["location"] == f"/papers/{PAPER}#comment-{made['id']}"
    assert site.store.comment(made["id"])["body"] == "Edited **here**"
    html = section_of(client.get(f"/papers/{PAPER}").text)
    assert "<strong>here</strong>" in html and "edited" in html
    # a refused text comes back in its form, with the reason
    r = client.post(f"/comments/{made['id']}/edit", data={"body": "x" * 10_001, "csrf_token": csrf},
                    headers={"Origin": ORIGIN})
    assert r.status_code == 400 and "body is too long" in r.text and "x" * 10_001 in r.text
    r = client.post(f"/papers/{PAPER}/comments", data={"body": "  ", "csrf_token": csrf}, headers={"Origin": ORIGIN})
    assert r.status_code == 400 and "body is empty" in r.text
    assert site.store.comment(made["id"])["body"] == "Edited **here**"
    # bob may neither see the edit form nor edit nor delete; an anonymous visitor is sent to sign in
    bobs, bob_csrf = browser(site, bob)
    assert bobs.get(f"/comments/{made['id']}/edit").status_code == 403
    assert bobs.post(f"/comments/{made['id']}/edit", data={"body": "pwned", "csrf_token": bob_csrf},
                     headers={"Origin": ORIGIN}).status_code == 403
    assert bobs.post(f"/comments/{made['id']}/delete", data={"csrf_token": bob_csrf},
                     headers={"Origin": ORIGIN}).status_code == 403
    anonymous = site.client().get(f"/comments/{made['id']}/edit")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")
    assert site.client().get("/comments/999999999/edit").status_code == 303
    assert client.get("/comments/999999999/edit").status_code == 404
    # the admin may delete (back to next when it is a page of this site), never edit
    roots, root_csrf = browser(site, root)
    assert roots.get(f"/comments/{made['id']}/edit").status_code == 403
    assert "(as administrator)" in section_of(roots.get(f"/papers/{PAPER}").text)
    r = roots.post(f"/comments/{made['id']}/delete", data={"csrf_token": root_csrf, "next": "//evil.example/"},
                   headers={"Origin": ORIGIN})
    assert r.status_code == 303 and r.headers["location"] == f"/papers/{PAPER}#comments"
    assert site.store.comment(made["id"]) is None
    own = post(site.client(), PAPER, "mine to delete", ada).json()
    r = client.post(f"/comments/{own['id']}/delete", data={"csrf_token": csrf, "next": f"/papers/{PAPER}"},
                    headers={"Origin": ORIGIN})
    assert r.status_code == 303 and r.headers["location"] == f"/papers/{PAPER}"
    assert site.store.comment(own["id"]) is None


def test_deleting_a_user_deletes_their_comments(site) -> None:
    client = site.client()
    gone = member(site)
    made = post(client, PAPER, "soon gone", gone).json()
    exported = site.store.user_data(gone.email)
    assert exported and [c["body"] for c in exported["comments"]] == ["soon gone"]
    site.store.delete_user(gone.email)
    assert site.store.comment(made["id"]) is None
    assert made["id"] not in [c["id"] for c in client.get(f"/api/papers/{PAPER}/comments").json()["comments"]]


# -- counts ----------------------------------------------------------------------------------


def test_num_comments_in_hugging_faces_api_and_the_json_twin(site) -> None:
    client = site.client()
    ada = member(site)
    entry = client.get("/api/daily_papers").json()[0]
    paper_id, before = entry["paper"]["id"], entry["numComments"]
    row = site.store.get(paper_id)
    imported = row["extra"].get("numComments", 0)
    local = len(site.store.paper_comments(paper_id))
    assert before == imported + local
    assert "numComments" not in client.get(f"/api/papers/{paper_id}").json() or local  # HF's paper object has none
    for text in ("one", "two"):
        assert post(client, paper_id, text, ada).status_code == 201
    after = {e["paper"]["id"]: e for e in client.get("/api/daily_papers").json()}[paper_id]
    assert after["numComments"] == before + 2
    schemas.HfDailyEntry.model_validate(after)
    info = client.get(f"/api/papers/{paper_id}").json()
    assert info["numComments"] == before + 2
    schemas.HfPaper.model_validate(info)
    found = client.get("/api/papers/search", params={"q": row["title"]}).json()
    hit = next(e for e in found if e["paper"]["id"] == paper_id)
    assert hit["numComments"] == before + 2
    twin = client.get(f"/api/paper/{paper_id}").json()
    assert twin["num_comments"] == local + 2
    schemas.FullPaper.model_validate(twin)
    page = client.get(f"/papers/{paper_id}").text
    assert f'Comments <span class="count">({local + 2})</span>' in page
    if imported:
        assert f"{imported} more on" in page


def test_an_arxiv_only_paper_counts_this_sites_comments(site) -> None:
    """docs/commands.md: a paper known only from arXiv has `numComments` its comments here (0 without any)."""
    client, ada = site.client(), member(site)
    rows, _ = site.store.feed("2025-03-24", "2025-03-24", None, 50, 0)
    row = next(r for r in rows if "numComments" not in (r.get("extra") or {})
               and not site.store.paper_comments(r["id"]))
    paper_id = row["id"]

    def in_search() -> dict[str, Any]:
        found = client.get("/api/papers/search", params={"q": row["title"]}).json()
        return next(e for e in found if e["paper"]["id"] == paper_id)

    assert in_search()["numComments"] == 0
    assert "numComments" not in client.get(f"/api/papers/{paper_id}").json()  # HF's paper object has none
    assert post(client, paper_id, "A first comment.", ada).status_code == 201
    assert in_search()["numComments"] == 1
    assert client.get(f"/api/papers/{paper_id}").json()["numComments"] == 1
    r = client.post("/api/daily_papers", json={"paper": paper_id}, headers=ada.bearer)  # on today's list
    assert r.status_code == 201 and r.json()["numComments"] == 1
    listed = client.get("/api/daily_papers", params={"date": r.json()["paper"]["submittedOnDailyAt"][:10]}).json()
    assert {e["paper"]["id"]: e["numComments"] for e in listed}[paper_id] == 1


def test_a_comment_id_that_is_not_ascii_digits_is_a_404(site) -> None:
    """The form routes take any string as the id: "²" is a digit to str.isdigit, not to int()."""
    ada = member(site)
    client, csrf = browser(site, ada)
    for odd in ("%C2%B2", "%D9%A3", "1" * 19, "-1"):
        assert client.get(f"/comments/{odd}/edit").status_code == 404, odd
        r = client.post(f"/comments/{odd}/delete", data={"csrf_token": csrf}, headers=form_headers())
        assert r.status_code == 404, odd
