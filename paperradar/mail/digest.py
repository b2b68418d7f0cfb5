"""What a digest says: one subscriber's papers of one period, as a mail (plain text + HTML).

:func:`compose` makes the message :mod:`.outbox` sends; :func:`gather` the
content, which ``digest preview`` and the tests also read.

**The period.** :class:`Period` is a frequency and a day: a daily digest covers
that day; a weekly one the ISO week (Monday to Sunday) holding it. Its
:attr:`Period.key` (``2025-03-20``, ``2025-W12``) is what the outbox counts
"once per subscriber and period" by.

**The sections**, in this order, each paper shown once (in the first section
that has it), the papers the reader hid never:

1. *For you* (an account's subscription): the period's papers ranked for the
   reader by :func:`paperradar.rank.recommend.for_user`, each saying why (the
   saved papers it is closest to, the terms that weigh most). A weekly digest
   ranks each day of the week and keeps the best. With fewer saved papers
   than the recommender needs (cold start) it gives trending papers in the
   categories the reader follows: the section is then "Trending in your
   categories" and comes after section 2; following no category, it would
   be the Trending section again, so it is left out and the mail says how to
   get papers picked for you. Without the recommender (or before any paper
   has a vector) the section is left out and the rest goes out.
2. *From what you follow*: papers dated in the period that match the reader's
   follows (authors, categories, saved searches), by the rules of
   ``/following`` (:func:`paperradar.rank.following.new_papers`), each with
   the follows it matches.
3. *Featured*: the papers featured in the daily list in the period, most
   upvoted first.
4. *Trending*: the site's trending list as of the period's end (upvotes with
   time decay, :mod:`paperradar.rank.trending`).

A subscription's categories limit sections 3 and 4 (a paper in any of them,
primary or cross-listed); the personal sections 1 and 2 follow the reader's
own signals instead. Nothing to show in any section: no mail (None).

**What the digests of a run share** (:class:`Shared`): sections 3 and 4 are
the same for every subscriber of a period with the same categories, and the
follows of many readers are the same author, category or search. A thousand
digests reading them again each is most of a run's time, so ``digest send``
(:func:`paperradar.mail.subscribers.queue_digests`) makes one :class:`Shared`
per run: the featured and trending lists are read once per (frequency,
period, category selection), each follow's papers once per (follow, period),
and each shared paper's card once. It lives for that run only (the next run,
and ``serve --sync``'s next day, read the store afresh), and its clock is the
run's start: the trending list of a period not over yet is as of that
moment for every subscriber of the run. Every digest lists what it listed
when made alone (:func:`gather` without one makes its own).

**The message** (RFC 5322 + 2369 + 8058): ``multipart/alternative`` with the
plain text first and the HTML last (clients show the last they can). The
HTML carries its looks in ``style`` attributes only: mail clients drop
``<style>`` blocks and classes, and load nothing from outside (no images, no
fonts). Every link is absolute, from the site's base URL (a digest cannot be
made without one). Every text that came from outside (titles, authors, the
names of follows, saved searches) is escaped by the template's autoescaping.
Headers: ``Message-ID`` (the same for a subscriber's digest of a period, so a
message made twice is one message to the reader's client), ``Date``,
``List-Id``, ``List-Unsubscribe`` (the https one-click URL and a ``mailto:``)
and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``; also
``Auto-Submitted: auto-generated``. RFC 8058 asks that these headers be
covered by a DKIM signature: that is the sending server's part (docs/email.md).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape

from ..app import Radar
from ..citation import links as paper_links
from ..rank import trending as trends
from ..rank.following import Match, Reason, new_papers, reason, stamp
from ..rank.fusion import NotEmbedded

FREQUENCIES = ("daily", "weekly")
FEATURED_MAX = 10
TRENDING_MAX = 10
FOR_YOU_MAX = 10
FOLLOWING_MAX = 15
FOLLOWING_FETCH = 10_000  # a follow's new papers read before the period's are picked
FETCH = 500  # featured / trending papers read before the categories filter
EXCERPT_CHARS = 240
SHOWN_AUTHORS = 4
SITE_NAME = "paperradar"
ENV_MAIL_FROM = "PAPERRADAR_MAIL_FROM"
ONE_CLICK = "List-Unsubscribe=One-Click"
NEAR_LINE = "Close to your saved: "
_SPACES = re.compile(r"\s+")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")


class NoBaseURL(ValueError):
    """A mail needs absolute links, and the site has no base URL to make them from."""

    def __init__(self) -> None:
        super().__init__("the site has no base URL, so a mail's links would lead nowhere: set it with "
                         "`serve --base-url https://...`, `base_url` in the config file or PAPERRADAR_BASE_URL "
                         "(then send again)")


def check_base_url(base_url: str | None) -> str:
    """The base URL without a trailing slash, or :class:`NoBaseURL` (none, or not an http(s) address)."""
    if not base_url:
        raise NoBaseURL()
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NoBaseURL()
    return base_url.strip().rstrip("/")


# -- the period -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A digest's period: ``frequency`` daily or weekly, and a ``day`` in it (see the module docstring)."""

    frequency: str
    day: date

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise ValueError(f"frequency must be one of {', '.join(FREQUENCIES)}, not {self.frequency!r}")

    @property
    def start(self) -> date:
        return self.day if self.frequency == "daily" else self.day - timedelta(days=self.day.weekday())

    @property
    def end(self) -> date:
        return self.day if self.frequency == "daily" else self.start + timedelta(days=6)

    @property
    def key(self) -> str:
        """``YYYY-MM-DD`` (daily) or ``YYYY-Www`` (weekly, ISO week): the outbox's period."""
        if self.frequency == "daily":
            return self.day.isoformat()
        year, week, _ = self.day.isocalendar()
        return f"{year:04d}-W{week:02d}"

    @property
    def label(self) -> str:
        """How the mail names the period: ``Thursday 20 March 2025``, ``the week of 17 to 23 March 2025``."""
        if self.frequency == "daily":
            return f"{self.day:%A} {self.day.day} {self.day:%B %Y}"
        s, e = self.start, self.end
        first = f"{s.day}" if (s.year, s.month) == (e.year, e.month) else (
            f"{s.day} {s:%B}" if s.year == e.year else f"{s.day} {s:%B %Y}")
        return f"the week of {first} to {e.day} {e:%B %Y}"

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def period_for(frequency: str, day: date) -> Period:
    return Period(frequency, day)


# -- the content ----------------------------------------------------------------------------


@dataclass
class Item:
    """A paper as a digest lists it: the stored row and why it is there (lines of text, possibly none)."""

    row: Mapping[str, Any]
    why: list[str] = field(default_factory=list)
    near: list[dict[str, Any]] = field(default_factory=list)  # for you: the saved papers it is close to
    # its card per base URL: an item of a shared section is shown in many mails of a run, made once
    cards: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def id(self) -> str:
        return str(self.row["id"])


@dataclass
class Section:
    key: str  # for_you | following | featured | trending
    title: str
    items: list[Item]
    note: str | None = None
    cold: bool = False  # for you: the recommender had too little to learn from (trending in your categories)


@dataclass
class Digest:
    """What one subscriber's digest of one period holds."""

    subscription: Mapping[str, Any]
    period: Period
    sections: list[Section]
    notes: list[str] = field(default_factory=list)  # what could not be made, for the logs and preview
    hints: list[str] = field(default_factory=list)  # said to the reader under the title

    @property
    def papers(self) -> list[str]:
        """Every paper id listed, in order."""
        return [item.id for s in self.sections for item in s.items]

    @property
    def empty(self) -> bool:
        return not any(s.items for s in self.sections)


def categories_of(subscription: Mapping[str, Any]) -> list[str]:
    """The subscription's categories as a list (the store may give them as JSON text)."""
    value = subscription.get("categories") or []
    if isinstance(value, str):
        import orjson

        try:
            value = orjson.loads(value) if value.strip() else []
        except orjson.JSONDecodeError:
            value = [c for c in re.split(r"[\s,]+", value) if c]
    return [str(c) for c in value if str(c).strip()]


def _in_categories(row: Mapping[str, Any], wanted: AbstractSet[str]) -> bool:
    return not wanted or any(c.lower() in wanted for c in row.get("categories") or [])


class Shared:
    """The parts of a run's digests that many subscribers share, each made once (see the module
    docstring). Make one per run and drop it with the run: nothing in it is ever refreshed.
    ``now`` (default: when it is made) is the run's clock for the trending lists."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)
        self._featured: dict[tuple[date, date], list[Item]] = {}
        self._trending: dict[datetime, list[Item]] = {}
        self._lists: dict[tuple[str, str, frozenset[str], datetime], tuple[list[Item], list[Item]]] = {}
        self._follows: dict[tuple[Any, ...], tuple[list[Match], list[tuple[Reason, str]]]] = {}

    def lists(self, radar: Radar, period: Period, wanted: frozenset[str], now: datetime | None = None
              ) -> tuple[list[Item], list[Item]]:
        """The period's featured and trending papers in the ``wanted`` categories (lower case; none:
        all), best first: the same list objects for every subscriber with the same selection."""
        # as of the period's last second (or now, when that is earlier): nothing listed after the period
        as_of = min(now or self.now, datetime.combine(period.end, time(23, 59, 59), tzinfo=UTC))
        key = (period.frequency, period.key, wanted, as_of)
        found = self._lists.get(key)
        if found is None:
            featured, trending = self._featured_items(radar, period), self._trending_items(radar, as_of)
            found = self._lists[key] = ([i for i in featured if _in_categories(i.row, wanted)],
                                        [i for i in trending if _in_categories(i.row, wanted)])
        return found

    def _featured_items(self, radar: Radar, period: Period) -> list[Item]:
        key = (period.start, period.end)
        if key not in self._featured:
            pairs, _ = radar.store.featured_papers(period.start.isoformat(), period.end.isoformat(), None, None,
                                                   FETCH, 0)
            self._featured[key] = [Item(row, [_votes(row)]) for row, _f in pairs]
        return self._featured[key]

    def _trending_items(self, radar: Radar, as_of: datetime) -> list[Item]:
        if as_of not in self._trending:
            ranked, _, _ = trends.trending(radar.store, as_of=as_of, limit=FETCH)
            self._trending[as_of] = [Item(r, [_votes(r)]) for r in ranked]
        return self._trending[as_of]

    def followed(self, radar: Radar, follows: list[dict[str, Any]], arrived_after: str, hidden: set[str]
                 ) -> tuple[list[Match], list[tuple[Reason, str]]]:
        """What :func:`paperradar.rank.following.new_papers` finds for ``follows`` (matches in no
        particular order, and the follows skipped), each follow's lookup made once per run."""
        found: dict[int, Match] = {}
        skipped: list[tuple[Reason, str]] = []
        for follow in follows:
            why = reason(follow)  # this reader's follow: the cached matches may be another reader's
            matches, missed = self._follow(radar, follow, arrived_after, hidden)
            skipped += [(why, message) for _, message in missed]
            for m in matches:
                if m.row["id"] in hidden:
                    continue
                match = found.setdefault(m.row["rowid"], Match(m.row))
                if why not in match.reasons:
                    match.reasons.append(why)
        return list(found.values()), skipped

    def _follow(self, radar: Radar, follow: dict[str, Any], arrived_after: str, hidden: set[str]
                ) -> tuple[list[Match], list[tuple[Reason, str]]]:
        # A saved search keeps its best results after the hidden papers are dropped: its answer
        # depends on the reader's hidden papers; an author's or a category's does not.
        search = follow["kind"] == "search"
        filters = tuple(sorted((str(k), str(v)) for k, v in (follow.get("filters") or {}).items()))
        key = (follow["kind"], follow["value"], filters, arrived_after, frozenset(hidden) if search else None)
        if key not in self._follows:
            answer = new_papers(radar, [follow], arrived_after, hidden if search else frozenset(),
                                limit=FOLLOWING_FETCH)
            self._follows[key] = (answer.matches, answer.skipped)
        return self._follows[key]


def gather(radar: Radar, subscription: Mapping[str, Any], period: Period, now: datetime | None = None,
           shared: Shared | None = None) -> Digest:
    """The sections of ``subscription``'s digest for ``period`` (see the module docstring);
    ``shared``: the run's :class:`Shared` (None: one for this digest alone)."""
    store = radar.store
    shared = shared or Shared(now)
    user_id = subscription.get("user")
    wanted = frozenset(c.lower() for c in categories_of(subscription))
    hidden: set[str] = set(store.hidden_ids(int(user_id))) if user_id is not None else set()
    shown: set[str] = set(hidden)
    sections: list[Section] = []
    notes: list[str] = []

    def keep(items: Iterable[Item], limit: int) -> list[Item]:
        out = []
        for item in items:
            if item.id in shown:
                continue
            shown.add(item.id)
            out.append(item)
            if len(out) >= limit:
                break
        return out

    hints: list[str] = []
    if user_id is not None:
        follows = store.follows(int(user_id))
        for_you = _for_you(radar, int(user_id), period, follows, notes, hints)
        following = _following(radar, follows, period, hidden, notes, shared)
        # Ranked for the reader first; but trending-in-your-categories (cold start) after what they follow.
        personal = [following, for_you] if for_you is not None and for_you.cold else [for_you, following]
        for section in personal:
            if section is not None:
                section.items = keep(section.items, FOR_YOU_MAX if section.key == "for_you" else FOLLOWING_MAX)
                sections.append(section)
    featured, trending = shared.lists(radar, period, wanted, now)
    sections.append(Section("featured", "Featured", keep(featured, FEATURED_MAX), _limited(wanted)))
    sections.append(Section("trending", "Trending", keep(trending, TRENDING_MAX), _limited(wanted)))
    return Digest(subscription, period, [s for s in sections if s.items], notes, hints)


def _votes(row: Mapping[str, Any]) -> str:
    n = int(row.get("upvotes") or 0)
    return f"{n} upvote{'s' if n != 1 else ''}" if n else ""


def _limited(wanted: AbstractSet[str]) -> str | None:
    return f"In {', '.join(sorted(wanted))}." if wanted else None


def _for_you(radar: Radar, user_id: int, period: Period, follows: list[dict[str, Any]], notes: list[str],
             hints: list[str]) -> Section | None:
    """The recommender's papers of the period for the user (None: no recommender, or nothing to say).

    At a cold start (too few saved papers) the recommender gives trending papers in the reader's
    followed categories: a section then, after what the reader follows. Without followed categories
    that would be the site's trending list again: no section, a hint instead."""
    try:
        from ..rank import recommend  # RECS: absent in a build without it, and then no section
    except ImportError:
        notes.append("for you: the recommender is not available")
        return None
    found: list[Any] = []
    cold = False
    for day in period.days():
        try:
            answer = recommend.for_user(radar, user_id, day, FOR_YOU_MAX)
        except NotEmbedded as exc:  # no vectors yet: the other sections still go out
            notes.append(f"for you: {exc}")
            return None
        found.extend(answer.papers)
        cold = cold or bool(getattr(answer, "cold", False))
    need = int(getattr(recommend, "MIN_POSITIVES", 3))
    learn = f"Save or upvote at least {need} papers on the site and this digest picks papers for you, each saying why."
    categories = sorted({f["value"] for f in follows if f["kind"] == "category"})
    if cold and not categories:
        hints.append(learn)
        return None
    if not found:
        return None
    best: dict[str, Any] = {}
    for r in found:  # a paper listed on two days of a week: its best score
        if r["id"] not in best or _score(r) > _score(best[r["id"]]):
            best[r["id"]] = r
    ordered = sorted(best.values(), key=_score, reverse=True) if len(period.days()) > 1 else list(best.values())
    items = [Item(r.paper if hasattr(r, "paper") else r, *_why(r)) for r in ordered]
    if cold:
        return Section("for_you", "Trending in your categories", items,
                       f"In {', '.join(categories)}. {learn}", cold=True)
    return Section("for_you", "For you", items, "Ranked by what you saved, upvoted and hid.")


def _score(row: Any) -> float:
    value = row.get("score") if hasattr(row, "get") else None
    return float(value) if isinstance(value, (int, float)) else 0.0


def _why(row: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """A recommendation's why as lines of text, and the saved papers it names."""
    why = row.get("why") if hasattr(row, "get") else None
    if not isinstance(why, Mapping):
        return ([str(why)] if why else []), []
    near = [n for n in why.get("near") or [] if isinstance(n, Mapping) and n.get("title")]
    lines = []
    if near:
        lines.append(NEAR_LINE + "; ".join(_one_line(str(n["title"])) for n in near))
    terms = [str(t) for t in why.get("terms") or []]
    if terms:
        lines.append("Terms: " + ", ".join(terms))
    return lines, [dict(n) for n in near]


def _following(radar: Radar, follows: list[dict[str, Any]], period: Period, hidden: set[str], notes: list[str],
               shared: Shared) -> Section | None:
    """Papers dated in the period that match the user's follows (the rules of /following)."""
    if not follows:
        return None
    # Arrived since the day before the period (every paper dated in it arrived after that, on a
    # live site; on an imported one, all did), first listed in the period.
    arrived_after = stamp(datetime.combine(period.start - timedelta(days=1), time(0), tzinfo=UTC))
    matches, skipped = shared.followed(radar, follows, arrived_after, hidden)
    start, end = period.start.isoformat(), period.end.isoformat()
    items = [Item(m.row, ["Follows: " + "; ".join(r.text for r in m.reasons)]) for m in matches
             if start <= (m.row.get("published") or "")[:10] <= end]
    notes += [f"following: {why.text}: {message}" for why, message in skipped]
    if not items:
        return None
    items.sort(key=lambda i: (-int(i.row.get("upvotes") or 0), i.row.get("published") or "", i.id))
    return Section("following", "From what you follow", items)


# -- the message ----------------------------------------------------------------------------

_env = Environment(
    loader=PackageLoader("paperradar.mail", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_text_env = Environment(
    loader=PackageLoader("paperradar.mail", "templates"),
    autoescape=False,  # the plain text part: nothing is markup there
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def _one_line(text: str) -> str:
    """Text on one line, without control characters (a title with a line break or a terminal escape)."""
    return _SPACES.sub(" ", _CONTROLS.sub("", text)).strip()


def excerpt(text: str | None, chars: int = EXCERPT_CHARS) -> str:
    """The first ``chars`` characters of an abstract, cut at a word, "…" when cut."""
    flat = _one_line(text or "")
    if len(flat) <= chars:
        return flat
    cut = flat[:chars].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + " …"


def paper_link(base_url: str, paper_id: str) -> str:
    """The paper's page on the site (the route ``/papers/{paper_id:path}``)."""
    return f"{base_url}/papers/{quote(paper_id, safe='/')}"


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{base_url}/unsubscribe/{quote(token, safe='')}"


def host_of(base_url: str) -> str:
    """The base URL's host name (no port: it goes into Message-ID and List-Id, which take none)."""
    return (urlsplit(base_url).hostname or "localhost").lower()


def sender(base_url: str, configured: str | None = None) -> str:
    """The From address: the configured one (``PAPERRADAR_MAIL_FROM`` or the ``[mail]`` table's),
    else ``paperradar <noreply@HOST>``."""
    value = configured or os.environ.get(ENV_MAIL_FROM)
    if value and parseaddr(value)[1]:
        return value
    return str(Address(SITE_NAME, "noreply", host_of(base_url)))


def mailto_address(from_header: str) -> str:
    return parseaddr(from_header)[1]


def _card(item: Item, base_url: str) -> dict[str, Any]:
    """What the templates show of a paper (made once per item and base URL: see :class:`Item`)."""
    card = item.cards.get(base_url)
    if card is None:
        card = item.cards[base_url] = _make_card(item, base_url)
    return card


def _make_card(item: Item, base_url: str) -> dict[str, Any]:
    row = item.row
    authors = [_one_line(a) for a in row.get("authors") or []]
    shown = ", ".join(authors[:SHOWN_AUTHORS]) + (f" and {len(authors) - SHOWN_AUTHORS} more"
                                                   if len(authors) > SHOWN_AUTHORS else "")
    outside = paper_links(dict(row))
    why = [_one_line(w) for w in item.why if w]
    near = [{"title": _one_line(str(n["title"])), "url": paper_link(base_url, str(n["id"]))}
            for n in item.near if n.get("id")]
    return {
        "id": item.id,
        "title": _one_line(row.get("title") or item.id),
        "url": paper_link(base_url, item.id),
        "authors": shown,
        "categories": ", ".join(row.get("categories") or []),
        "date": (row.get("published") or "")[:10],
        "upvotes": int(row.get("upvotes") or 0),
        "excerpt": excerpt(row.get("abstract")),
        "why": why,
        "near": near,
        "other_why": why[1:] if near and why and why[0].startswith(NEAR_LINE) else why,
        "abs": outside.get("abs"),
        "pdf": outside.get("pdf"),
    }


def context(digest: Digest, base_url: str) -> dict[str, Any]:
    """What the two templates show (the same for both: the text part lists the same papers)."""
    sub = digest.subscription
    token = str(sub.get("unsubscribe_token") or "")
    categories = categories_of(sub)
    frequency = digest.period.frequency
    return {
        "site": SITE_NAME,
        "home": base_url + "/",
        "title": f"Your {frequency} digest: {digest.period.label}",
        "period": digest.period,
        "email": str(sub.get("email") or ""),
        "account": sub.get("user") is not None,
        "categories": categories,
        "sections": [{"key": s.key, "title": s.title, "note": s.note,
                      "papers": [_card(i, base_url) for i in s.items]} for s in digest.sections],
        "unsubscribe": unsubscribe_url(base_url, token),
        "settings": base_url + "/settings",
        "trending": base_url + "/trending",
        "for_you": base_url + "/for-you",
        "count": len(digest.papers),
        "hints": digest.hints,
    }


def render(digest: Digest, base_url: str) -> tuple[str, str]:
    """(plain text, HTML) of a digest."""
    values = context(digest, check_base_url(base_url))
    return _text_env.get_template("digest.txt").render(**values), _env.get_template("digest.html").render(**values)


def subject(digest: Digest) -> str:
    return f"{SITE_NAME} {digest.period.frequency} digest: {digest.period.label} ({len(digest.papers)} papers)"


def message_id(subscription: Mapping[str, Any], period: Period, base_url: str) -> str:
    """The same for one subscriber's digest of one period, unique across subscribers and sites."""
    token = str(subscription.get("unsubscribe_token") or subscription.get("email") or "")
    tag = hashlib.sha256(token.encode()).hexdigest()[:16]
    return f"<digest.{period.frequency}.{period.key}.{subscription.get('id')}.{tag}@{host_of(base_url)}>"


def list_headers(message: EmailMessage, subscription: Mapping[str, Any], frequency: str, base_url: str,
                 from_header: str) -> None:
    """List-Id, List-Unsubscribe (https one-click + mailto) and List-Unsubscribe-Post."""
    token = str(subscription.get("unsubscribe_token") or "")
    if not token:
        raise ValueError(f"subscription {subscription.get('id')} has no unsubscribe token")
    host = host_of(base_url)
    message["List-Id"] = f"{SITE_NAME} {frequency} digest <{frequency}.digest.{host}>"
    mailto = f"mailto:{mailto_address(from_header)}?subject={quote('unsubscribe ' + token)}"
    message["List-Unsubscribe"] = f"<{unsubscribe_url(base_url, token)}>, <{mailto}>"
    message["List-Unsubscribe-Post"] = ONE_CLICK


def compose(radar: Radar, subscription: Mapping[str, Any], period: Period, base_url: str | None,
            *, from_address: str | None = None, now: datetime | None = None,
            shared: Shared | None = None) -> EmailMessage | None:
    """The digest mail of ``subscription`` for ``period``, or None when it would list no paper;
    ``shared``: the run's :class:`Shared`.

    :class:`NoBaseURL` when ``base_url`` is missing: a mail's links must be absolute."""
    base = check_base_url(base_url)
    digest = gather(radar, subscription, period, now, shared)
    if digest.empty:
        return None
    text, html = render(digest, base)
    message = EmailMessage()
    from_header = sender(base, from_address)
    message["From"] = from_header
    message["To"] = str(subscription["email"])
    message["Subject"] = subject(digest)
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = message_id(subscription, period, base)
    list_headers(message, subscription, period.frequency, base, from_header)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message
