"""Sending mail for real: aiosmtpd servers started here, the outbox's exactly-once delivery.

A real SMTP conversation in every test (plain, STARTTLS and smtps with a
certificate made here by a throwaway CA, AUTH); servers that answer 451 and
then 250, refuse an address with 550, or lose the connection in the middle of
DATA (a proxy cuts it); ``kill -9`` of a real ``paperradar digest send``
while a slow server holds a message, then a rerun: each subscriber has its
digest once. The one window the design cannot close (after the server's
250, before ``sent`` is committed) is shown to cost at most one duplicate,
with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from community_fixtures import location, opened
from conftest import BACKENDS, ROOT, shared
from web_fixtures import quiet_main

from paperradar.app import Radar
from paperradar.mail.digest import Period
from paperradar.mail.outbox import DeliveryBusy, Outbox
from paperradar.mail.schedule import start_digest_schedule
from paperradar.mail.smtp import (
    Mailer,
    MailNotConfigured,
    MailSetupError,
    PermanentFailure,
    TemporaryFailure,
    as_bytes,
    parse_smtp_url,
)
from paperradar.mail.subscribers import (
    SubscriptionError,
    check_categories,
    confirm,
    periods_due,
    queue_digests,
    subscribe,
    unsubscribe,
)
from paperradar.store import SQLiteStore, Store
from paperradar.sync.config import ConfigError, parse_config

SENDER = "Radar <radar@example.org>"
HF_DAY = "2025-03-20"  # a Hugging Face Daily Papers file of ../shared: the real digests have papers that day


# -- an SMTP server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    rcpt: str
    data: bytes
    tls: bool
    auth: Any

    @property
    def message_id(self) -> str:
        return str(message_from_bytes(self.data, policy=policy.default)["Message-ID"])


class Inbox:
    """An aiosmtpd handler that keeps what it accepts. ``rcpt_rule(address)`` and
    ``data_rule(count)`` may answer a refusal instead; ``delay`` holds each message before the
    answer (a client that goes away meanwhile cancels it: nothing is kept, as a real server does)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.rcpt_rule = lambda address: None
        self.data_rule = lambda count: None
        self.mail_rule = lambda address: None
        self.delay = 0.0
        self.data_started = 0  # DATA conversations reached (accepted or not)
        self.started = threading.Condition()

    async def handle_MAIL(self, server, session, envelope, address, options):
        refusal = self.mail_rule(address)
        if refusal:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        refusal = self.rcpt_rule(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.started:
            self.data_started += 1
            count = self.data_started
            self.started.notify_all()
        if self.delay:
            await asyncio.sleep(self.delay)  # cancelled when the client's connection is lost
        refusal = self.data_rule(count)
        if refusal:
            return refusal
        for rcpt in envelope.rcpt_tos:
            self.received.append(Received(rcpt, envelope.original_content, session.ssl is not None,
                                          session.auth_data))
        return f"250 2.0.0 Ok: queued as {len(self.received)}"

    def wait_for_data(self, count: int, timeout: float = 60) -> bool:
        with self.started:
            return self.started.wait_for(lambda: self.data_started >= count, timeout)

    def per_recipient(self) -> Counter[str]:
        return Counter(r.rcpt for r in self.received)


@pytest.fixture
def server() -> Any:
    """A plain SMTP server on a free port (no TLS, no auth): (controller, inbox)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def url(controller: Controller, scheme: str = "smtp", who: str = "", host: str = "127.0.0.1") -> str:
    return f"{scheme}://{who}{host}:{controller.port}"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A throwaway CA, its certificate for localhost and 127.0.0.1, the CA file clients trust."""
    authority = trustme.CA()
    cert = authority.issue_cert("localhost", "127.0.0.1")
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    return server_ctx, path


def note(to: str, subject: str = "A note", lines: int = 40) -> EmailMessage:
    """A small real message (a few KB, so that a proxy can cut it in the middle)."""
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = to
    message["Subject"] = subject
    message.set_content("".join(f"Line {i} of a message for {to}; .dots at the start are escaped.\n"
                                for i in range(lines)))
    return message


def minimal_digest(radar: Radar, sub: dict[str, Any], period: Period, base: str) -> EmailMessage:
    """The smallest digest (a stand-in for mail/digest.py's compose where the content does not matter)."""
    message = note(sub["email"], f"Digest {period.key}")
    message["List-Unsubscribe"] = f"<{base}/unsubscribe/{sub['unsubscribe_token']}>"
    message["Message-ID"] = f"<digest.{period.key}.{sub['id']}@radar.test>"
    return message


@pytest.fixture
def radar(store: Store) -> Any:
    """A radar over a fresh store of each backend (conftest's ``store``)."""
    return Radar(store)


def subscribers(store: SQLiteStore, n: int, prefix: str = "reader") -> list[dict[str, Any]]:
    return [subscribe(store, f"{prefix}{i}@example.org", confirmed=True).subscription for i in range(n)]


# -- the transport -----------------------------------------------------------------------------


def test_plain_smtp_hands_the_message_over_and_keeps_the_connection(server) -> None:
    controller, inbox = server
    with Mailer(url(controller), SENDER) as mailer:
        first = mailer.send(note("ada@example.org"))
        kept = mailer._smtp
        mailer.send(note("bob@example.org", "Second"))
        assert mailer._smtp is kept  # one connection for both
    assert first.startswith("250 ") and "queued as 1" in first
    assert [r.rcpt for r in inbox.received] == ["ada@example.org", "bob@example.org"]
    got = message_from_bytes(inbox.received[0].data, policy=policy.default)
    assert got["Subject"] == "A note" and got["From"] == SENDER
    assert ".dots at the start" in got.get_content()
    assert not inbox.received[0].tls


def test_a_connection_the_server_closed_is_replaced_before_anything_is_sent(server) -> None:
    controller, inbox = server
    with Mailer(url(controller), SENDER) as mailer:
        mailer.send(note("ada@example.org"))
        mailer._smtp.sock.close()  # as a server's idle timeout would
        mailer.send(note("bob@example.org"))
    assert inbox.per_recipient() == {"ada@example.org": 1, "bob@example.org": 1}


def test_starttls_with_a_certificate_made_here_and_sign_in(ca, monkeypatch) -> None:
    server_ctx, ca_file = ca
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    inbox = Inbox()
    logins: list[tuple[str, str]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"p@ss:w/rd", handled=False)  # the server answers 535

    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=server_ctx,
                            require_starttls=True, authenticator=authenticator, auth_required=True)
    controller.start()
    try:
        with Mailer(url(controller, who="ada:p%40ss%3Aw%2Frd@", host="localhost"), SENDER) as mailer:
            assert mailer.send(note("bob@example.org")).startswith("250")
        assert logins == [("ada", "p@ss:w/rd")]
        assert inbox.received[0].tls and inbox.received[0].rcpt == "bob@example.org"
        with pytest.raises(MailSetupError, match="signing in as ada failed"):
            Mailer(url(controller, who="ada:wrong@", host="localhost"), SENDER).send(note("bob@example.org"))
        assert len(inbox.received) == 1
    finally:
        controller.stop()


def test_smtps_is_tls_from_the_first_byte_and_an_unknown_certificate_is_refused(ca, monkeypatch) -> None:
    server_ctx, ca_file = ca
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), ssl_context=server_ctx)
    controller.start()
    try:
        with pytest.raises(MailSetupError, match="certificate does not verify"):  # the system CAs know not ours
            Mailer(url(controller, "smtps", host="localhost"), SENDER).send(note("bob@example.org"))
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        with Mailer(url(controller, "smtps", host="localhost"), SENDER) as mailer:
            assert mailer.send(note("bob@example.org")).startswith("250")
        assert [r.rcpt for r in inbox.received] == ["bob@example.org"]
    finally:
        controller.stop()


def test_failures_are_temporary_or_permanent_by_the_servers_answer(server) -> None:
    controller, inbox = server
    inbox.rcpt_rule = lambda a: "550 5.1.1 no such mailbox" if a.startswith("gone@") else (
        "452 4.2.2 mailbox full, try later" if a.startswith("full@") else None)
    with Mailer(url(controller), SENDER) as mailer:
        with pytest.raises(PermanentFailure) as refused:
            mailer.send(note("gone@example.org"))
        assert refused.value.code == 550 and "no such mailbox" in str(refused.value)
        with pytest.raises(TemporaryFailure) as later:
            mailer.send(note("full@example.org"))
        assert later.value.code == 452 and not later.value.connection
        assert mailer.send(note("ada@example.org")).startswith("250")  # the connection is still good
    inbox.mail_rule = lambda a: "553 5.7.1 sender not allowed"
    with pytest.raises(MailSetupError, match="refuses the sender radar@example.org"):
        Mailer(url(controller), SENDER).send(note("ada@example.org"))
    with pytest.raises(TemporaryFailure) as unreachable:
        Mailer(f"smtp://127.0.0.1:{free_port()}", SENDER).send(note("ada@example.org"))
    assert unreachable.value.connection and "cannot connect" in str(unreachable.value)


def test_smtp_urls_and_settings(monkeypatch) -> None:
    t = parse_smtp_url("smtp://ada:p%40ss@mail.example.org:587")
    assert (t.tls, t.host, t.port, t.user, t.password) == (False, "mail.example.org", 587, "ada", "p@ss")
    assert str(t) == "smtp://ada@mail.example.org:587" and not t.local  # never the password
    assert parse_smtp_url("smtps://mail.example.org").port == 465 and parse_smtp_url("smtp://localhost").local
    assert parse_smtp_url("smtp://[::1]:25").local
    for bad in ("http://mail.example.org", "smtp://", "smtp://host:port", "smtp://host/path"):
        with pytest.raises(ValueError):
            parse_smtp_url(bad)
    with pytest.raises(MailNotConfigured, match="PAPERRADAR_SMTP_URL"):
        Mailer.from_settings(None, env={})
    with pytest.raises(MailNotConfigured, match="PAPERRADAR_MAIL_FROM"):
        Mailer.from_settings(None, env={"PAPERRADAR_SMTP_URL": "smtp://localhost:25"})
    config = parse_config({"mail": {"smtp_url": "smtps://u:p@mail.example.org", "from": "Radar <r@example.org>",
                                    "rate": 30, "send_hour": 6, "timeout": 10, "tries": 3, "backoff": 5}})
    mailer = Mailer.from_settings(config.mail, env={})
    assert (mailer.target.host, mailer.target.tls, mailer.envelope_from, mailer.timeout) == (
        "mail.example.org", True, "r@example.org", 10)
    env = {"PAPERRADAR_SMTP_URL": "smtp://other:2525", "PAPERRADAR_MAIL_FROM": "x@example.net"}
    assert str(Mailer.from_settings(config.mail, env=env)) == "smtp://other:2525 as x@example.net"  # env wins
    for table, message in (({"smtp_url": "mail.example.org"}, "mail.smtp_url"), ({"send_hour": 24}, "send_hour"),
                           ({"from": "nobody"}, "mail.from"), ({"rate": -1}, "mail.rate"), ({"smtp": 1}, "smtp")):
        with pytest.raises(ConfigError, match=message):
            parse_config({"mail": table})
    with pytest.raises(ConfigError) as hidden:
        parse_config({"mail": {"smtp_url": "smtp://u:secret@host/x"}})
    assert "secret" not in str(hidden.value)


def test_every_mail_key_is_documented() -> None:
    from paperradar.sync.config import MailSettings

    section = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8").split("### Configuration file", 1)[1]
    assert "[mail]" in section
    for name in MailSettings.__dataclass_fields__:
        key = "from" if name == "from_address" else name
        assert f"`mail.{key}`" in section, f"mail.{key} is not documented"


def test_long_list_headers_stay_readable_on_the_wire() -> None:
    message = note("ada@example.org", " ".join(["Überschrift"] * 10))
    target = "<https://radar.example.org/unsubscribe/" + "t" * 43 + ">, <mailto:radar@example.org?subject=x>"
    message["List-Unsubscribe"] = target
    data = as_bytes(message)
    assert b"=?" not in data.split(b"List-Unsubscribe:", 1)[1].split(b"\r\n\r\n", 1)[0].split(b"\r\nContent")[0]
    parsed = message_from_bytes(data, policy=policy.default)
    assert str(parsed["List-Unsubscribe"]) == target and parsed["Subject"] == " ".join(["Überschrift"] * 10)
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))


# -- the outbox ----------------------------------------------------------------------------------


def test_a_server_answering_451_then_250_gets_the_mail_once(server, radar) -> None:
    controller, inbox = server
    inbox.data_rule = lambda count: "451 4.3.0 try again later" if count == 1 else None
    outbox = Outbox(radar.store, Mailer(url(controller), SENDER), rate=0, backoff=0.05)
    outbox.enqueue("signin", note("ada@example.org"))
    report = outbox.deliver(wait=5)
    assert (report.sent, report.retried, report.failed, report.pending) == (1, 1, 0, 0)
    assert inbox.data_started == 2 and inbox.per_recipient() == {"ada@example.org": 1}
    [mail] = radar.store.mails()
    assert mail["state"] == "sent" and mail["attempts"] == 2 and mail["reply"].startswith("250")
    assert radar.store.claim_mail(time.time()) is None  # nothing left, and the message itself is gone


def test_a_temporary_failure_waits_for_its_backoff_and_gives_up_after_the_tries(server, radar) -> None:
    controller, inbox = server
    inbox.data_rule = lambda count: "421 4.7.0 too busy"
    outbox = Outbox(radar.store, Mailer(url(controller), SENDER), rate=0, backoff=30)
    outbox.enqueue("signin", note("ada@example.org"))
    report = outbox.deliver(wait=5)  # the next try is 30 s away: left for a later delivery
    assert (report.sent, report.retried, report.pending) == (0, 1, 1) and report.next_at > time.time() + 20
    outbox = Outbox(radar.store, Mailer(url(controller), SENDER), rate=0, backoff=0.01, tries=3)
    with radar.store.write() as c:
        c.execute("UPDATE outbox SET next_attempt_at = 0")
    report = outbox.deliver(wait=5)
    assert (report.retried, report.failed) == (1, 1) and inbox.data_started == 3
    [mail] = radar.store.mails()
    assert mail["state"] == "failed" and "gave up after 3 tries" in mail["reply"]
    assert radar.store.subscription("ada@example.org") is None  # nothing counted: not the address's fault


class CuttingProxy:
    """A TCP proxy in front of a server that cuts its first ``cuts`` connections once the client has
    sent ``after`` bytes of a message's DATA: the server sees half a message and a lost connection."""

    def __init__(self, upstream: int, cuts: int = 1, after: int = 600) -> None:
        self.upstream, self.cuts, self.after = upstream, cuts, after
        self.cut = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            cutting = self.cut < self.cuts
            self.cut += cutting
            threading.Thread(target=self._pump, args=(upstream, client, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(client, upstream, cutting), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, cutting: bool | None) -> None:
        seen, in_data = b"", 0
        try:
            while chunk := src.recv(256):
                if cutting:
                    seen = (seen + chunk)[-64:]
                    if in_data or b"data\r\n" in seen.lower():  # smtplib says "data"
                        in_data += len(chunk)
                        if in_data > self.after:
                            src.close()
                            dst.close()
                            return
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


def test_a_connection_lost_in_the_middle_of_data_is_retried_and_delivered_once(server, radar) -> None:
    controller, inbox = server
    proxy = CuttingProxy(controller.port)
    try:
        outbox = Outbox(radar.store, Mailer(f"smtp://127.0.0.1:{proxy.port}", SENDER), rate=0, backoff=0.05)
        outbox.enqueue("signin", note("ada@example.org", lines=80))
        outbox.enqueue("signin", note("bob@example.org", lines=80))
        report = outbox.deliver(wait=5)
    finally:
        proxy.close()
    assert proxy.cut == 1 and (report.sent, report.retried, report.failed) == (2, 1, 0)
    assert inbox.per_recipient() == {"ada@example.org": 1, "bob@example.org": 1}
    first = radar.store.mails()[0]
    assert first["attempts"] == 2 and first["state"] == "sent"
    body = message_from_bytes(inbox.received[0].data, policy=policy.default).get_content()
    assert body.count("Line ") == 80  # the whole message, not the half the server saw first


def test_three_permanent_failures_in_a_row_suspend_the_address(server, radar) -> None:
    controller, inbox = server
    inbox.rcpt_rule = lambda a: "550 5.1.1 user unknown" if a.startswith("gone@") else None
    store = radar.store
    subscribe(store, "ada@example.org", confirmed=True)
    gone = subscribe(store, "gone@example.org", confirmed=True).subscription
    outbox = Outbox(store, Mailer(url(controller), SENDER), rate=0, backoff=0.01)
    for n, day in enumerate(["2025-03-17", "2025-03-18", "2025-03-19"], 1):
        queue_digests(radar, outbox, periods_due(date.fromisoformat(day), "daily"), "https://radar.test",
                      minimal_digest)
        report = outbox.deliver(wait=1)
        assert report.sent == 1 and report.failed == 1 and report.retried == 0  # a 5xx is not retried
        assert store.subscription("gone@example.org")["failures"] == n
    assert report.suspended == ["gone@example.org"]
    assert store.subscription("gone@example.org")["status"] == "suspended"
    queued = queue_digests(radar, outbox, periods_due(date(2025, 3, 20), "daily"), "https://radar.test",
                           minimal_digest)
    assert queued.made == 1  # ada only: nothing more is made for a suspended address
    outbox.deliver(wait=1)
    assert inbox.per_recipient() == {"ada@example.org": 4}
    assert [m["state"] for m in store.mails(subscription_id=gone["id"])] == ["failed"] * 3
    # Confirming again (the address works after all) lifts the suspension.
    again = subscribe(store, "gone@example.org")
    assert again.confirm_token and again.subscription["status"] == "pending"
    assert confirm(store, again.confirm_token)["status"] == "active"
    assert store.subscription("gone@example.org")["failures"] == 0


def test_a_success_resets_the_count_of_permanent_failures(server, radar) -> None:
    controller, inbox = server
    refuse = {"on": True}
    inbox.rcpt_rule = lambda a: "552 5.2.2 over quota" if refuse["on"] else None
    subscribe(radar.store, "ada@example.org", confirmed=True)
    outbox = Outbox(radar.store, Mailer(url(controller), SENDER), rate=0)
    for day, on in (("2025-03-17", True), ("2025-03-18", True), ("2025-03-19", False), ("2025-03-20", True)):
        refuse["on"] = on
        queue_digests(radar, outbox, periods_due(date.fromisoformat(day), "daily"), "https://r.test", minimal_digest)
        outbox.deliver(wait=1)
    sub = radar.store.subscription("ada@example.org")
    assert sub["status"] == "active" and sub["failures"] == 1 and "552" in sub["last_failure"]


def test_a_period_is_made_once_however_often_it_is_asked(server, radar) -> None:
    controller, inbox = server
    subscribers(radar.store, 3)
    subscribe(radar.store, "weekly@example.org", "weekly", confirmed=True)
    subscribe(radar.store, "pending@example.org")  # not confirmed: nothing
    outbox = Outbox(radar.store, Mailer(url(controller), SENDER), rate=0)
    sunday = date(2025, 3, 23)
    for _ in range(3):
        made = queue_digests(radar, outbox, periods_due(sunday), "https://r.test", minimal_digest)
    assert made.made == 0 and made.periods == ["2025-03-23", "2025-W12"]
    outbox.deliver(wait=1)
    queue_digests(radar, outbox, periods_due(date(2025, 3, 24)), "https://r.test", minimal_digest)  # Monday
    outbox.deliver(wait=1)
    assert inbox.per_recipient() == {"reader0@example.org": 2, "reader1@example.org": 2, "reader2@example.org": 2,
                                     "weekly@example.org": 1}  # Monday's weekly digest is the week already sent
    assert radar.store.mail_counts("digest", "2025-W12") == {"pending": 0, "sending": 0, "sent": 1, "failed": 0}


def test_unsubscribing_cancels_what_was_not_sent(server, radar) -> None:
    controller, inbox = server
    ada = subscribe(radar.store, "ada@example.org", confirmed=True).subscription
    subscribe(radar.store, "bob@example.org", confirmed=True)
    outbox = Outbox(radar.store, Mailer(url(controller), SENDER), rate=0)
    queue_digests(radar, outbox, periods_due(date(2025, 3, 20), "daily"), "https://r.test", minimal_digest)
    assert unsubscribe(radar.store, ada["unsubscribe_token"])["status"] == "unsubscribed"
    assert unsubscribe(radar.store, ada["unsubscribe_token"])["status"] == "unsubscribed"  # again: the same
    assert unsubscribe(radar.store, "not-a-token") is None
    outbox.deliver(wait=1)
    assert inbox.per_recipient() == {"bob@example.org": 1}
    assert radar.store.mails(subscription_id=ada["id"])[0]["reply"] == "cancelled: unsubscribed"


def test_double_opt_in(radar) -> None:
    store = radar.store
    first = subscribe(store, " Ada@Example.org ", "weekly", "cs.CL, cs.LG,cs.cl")
    sub = first.subscription
    assert (sub["email"], sub["status"], sub["frequency"], sub["categories"]) == (
        "ada@example.org", "pending", "weekly", ["cs.CL", "cs.LG"])
    assert first.outcome == "created" and first.confirm_token
    assert store.due_subscriptions("weekly", "digest", "2025-W12") == []  # nothing before confirmation
    assert confirm(store, "wrong") is None
    assert confirm(store, first.confirm_token)["status"] == "active"
    assert confirm(store, first.confirm_token) is None  # single use
    # The anonymous form cannot change an active subscription; the owner can.
    again = subscribe(store, "ada@example.org", "daily")
    assert again.outcome == "unchanged" and again.confirm_token is None
    assert again.subscription["frequency"] == "weekly"
    assert subscribe(store, "ada@example.org", "daily", confirmed=True).subscription["frequency"] == "daily"
    token = store.subscription("ada@example.org")["unsubscribe_token"]
    assert len(token) >= 43 and store.subscription_by_token(token)["email"] == "ada@example.org"
    with pytest.raises(SubscriptionError, match="email"):
        subscribe(store, "not an address")
    with pytest.raises(SubscriptionError, match="frequency"):
        subscribe(store, "b@example.org", "hourly")
    with pytest.raises(SubscriptionError, match="categories"):
        check_categories("cs.CL,<script>")
    with store.write() as c:  # an expired link confirms nothing
        c.execute("INSERT INTO subscriptions (email, confirm_hash, confirm_expires_at, unsubscribe_token, "
                  "created_at) VALUES ('old@example.org', 'h', '2000-01-01T00:00:00Z', 'u', '2000-01-01T00:00:00Z')")
    assert store.confirm_subscription("h") is None


def test_deleting_an_account_deletes_its_subscription_and_mails(radar) -> None:
    store = radar.store
    user = store.add_user("ada@example.org")
    sub = subscribe(store, "ada@example.org", user_id=user.id, confirmed=True).subscription
    assert sub["user"] == user.id and store.user_subscription(user.id)["id"] == sub["id"]
    Outbox(store).enqueue("digest", note("ada@example.org"), subscription_id=sub["id"], period="2025-03-20")
    store.delete_user("ada@example.org")
    assert store.subscription("ada@example.org") is None and store.mails() == []


def test_the_rate_limit_spaces_the_messages(server, radar) -> None:
    controller, _ = server
    now = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        now[0] += seconds

    outbox = Outbox(radar.store, Mailer(url(controller), SENDER), rate=120, clock=lambda: now[0], sleep=sleep)
    for name in ("a", "b", "c", "d"):
        outbox.enqueue("signin", note(f"{name}@example.org"))
    assert outbox.deliver(wait=0).sent == 4
    assert slept == [0.5, 0.5, 0.5]  # 120 a minute: one every half second


def test_one_delivery_at_a_time_and_a_mail_enqueued_meanwhile_is_not_forgotten(server, radar) -> None:
    controller, inbox = server
    first = Outbox(radar.store, Mailer(url(controller), SENDER), rate=0)
    with opened(location(radar.store)) as other:
        _one_at_a_time(first, Outbox(other, Mailer(url(controller), SENDER), rate=0), inbox)


def _one_at_a_time(first: Outbox, second: Outbox, inbox: Inbox) -> None:
    with first._locked(True):
        second.enqueue("signin", note("ada@example.org"))
        assert second.deliver_pending() is None  # busy: the holder sends it
        with pytest.raises(DeliveryBusy):
            second.deliver(block=False)
    assert first.deliver(wait=0).sent == 1
    assert inbox.per_recipient() == {"ada@example.org": 1}
    # The web's way: enqueue, then deliver in a background thread.
    second.enqueue("signin", note("bob@example.org"))
    second.deliver_in_background().join(10)
    assert inbox.per_recipient() == {"ada@example.org": 1, "bob@example.org": 1}


def test_account_mails_go_before_a_long_digest_run(server, radar) -> None:
    controller, inbox = server
    subscribers(radar.store, 3)
    outbox = Outbox(radar.store, Mailer(url(controller), SENDER), rate=0)
    queue_digests(radar, outbox, periods_due(date(2025, 3, 20), "daily"), "https://r.test", minimal_digest)
    outbox.enqueue("reset", note("ada@example.org", "Reset your password"))
    outbox.deliver(wait=0)
    assert inbox.received[0].rcpt == "ada@example.org" and len(inbox.received) == 4


def test_the_one_window_after_the_250_costs_at_most_one_duplicate(server, radar, monkeypatch) -> None:
    """The process dies after the server's 250 for the third mail and before `sent` is committed:
    that mail (only that one) is sent again by the next delivery, as the same message."""
    controller, inbox = server
    subscribers(radar.store, 5)
    store = radar.store
    outbox = Outbox(store, Mailer(url(controller), SENDER), rate=0)
    queue_digests(radar, outbox, periods_due(date(2025, 3, 20), "daily"), "https://r.test", minimal_digest)
    real, calls = store.mail_sent, []

    def dies_on_the_third(mail_id: int, reply: str) -> None:
        calls.append(mail_id)
        if len(calls) == 3:
            raise SystemExit("killed between the 250 and the commit")
        real(mail_id, reply)

    monkeypatch.setattr(store, "mail_sent", dies_on_the_third)
    with pytest.raises(SystemExit):
        outbox.deliver(wait=0)
    monkeypatch.undo()
    assert store.mail_counts()["sending"] == 1 and len(inbox.received) == 3
    with opened(location(store)) as other:
        report = Outbox(other, Mailer(url(controller), SENDER), rate=0).deliver(wait=0)
    assert report.resent == 1 and report.sent == 3
    counts = inbox.per_recipient()
    assert sorted(counts.values()) == [1, 1, 1, 1, 2]
    twice = [r for r in inbox.received if counts[r.rcpt] == 2]
    assert twice[0].message_id == twice[1].message_id  # the same message: clients show it once


# -- kill -9 of a real `paperradar digest send` ------------------------------------------------------


@pytest.fixture(scope="module")
def hf_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database of one real Hugging Face Daily Papers day: real digests have papers on HF_DAY."""
    path = tmp_path_factory.mktemp("hf") / "hf.db"
    code, output = quiet_main("--db", path, "import", shared(f"data/hf-daily-papers/{HF_DAY}.json"),
                              "--no-progress", "--no-embed")
    assert code == 0, output
    return path


@pytest.fixture(params=BACKENDS)
def site_db(request: pytest.FixtureRequest, hf_db: Path, tmp_path: Path) -> Iterator[Path | str]:
    """A copy of ``hf_db`` on each backend, what ``--db`` takes: the SQLite file copied, or a fresh
    PostgreSQL database filled by the real ``paperradar copy``."""
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_server")
        name = server.fresh_database()
        code, output = quiet_main("copy", "--to", server.url(name), "--from", hf_db, "--no-progress")
        assert code == 0, output
        yield server.url(name)
        server.release(name)
        return
    target = tmp_path / "site.db"
    shutil.copy(hf_db, target)
    yield target


def digest_send(db: Path | str, controller: Controller, tmp_path: Path, *extra: str) -> subprocess.Popen:
    config = tmp_path / "config.toml"
    config.write_text("[mail]\nrate = 0\nbackoff = 0.1\n", encoding="utf-8")
    env = {**os.environ, "PAPERRADAR_SMTP_URL": url(controller), "PAPERRADAR_MAIL_FROM": SENDER}
    env.pop("PAPERRADAR_CONFIG", None)
    return subprocess.Popen([sys.executable, "-m", "paperradar", "--db", str(db), "digest", "send", "--date", HF_DAY,
                             "--frequency", "daily", "--base-url", "https://radar.test", "--config", str(config),
                             "--json", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)


def test_kill_9_in_the_middle_of_digest_send_then_a_rerun_sends_each_digest_once(site_db, tmp_path) -> None:
    db = site_db
    with opened(db) as store:
        subs = subscribers(store, 8)
    inbox = Inbox()
    inbox.delay = 0.5  # each message waits half a second for its 250: the window to kill in
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        first = digest_send(db, controller, tmp_path)
        assert inbox.wait_for_data(4), first.communicate(timeout=30)  # the 4th message is in the server's hands
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL
        time.sleep(1.0)  # past the server's delay: the 4th was cancelled with its connection, not kept
        assert len(inbox.received) == 3
        with opened(db) as store:
            assert store.mail_counts() == {"pending": 4, "sending": 1, "sent": 3, "failed": 0}

        inbox.delay = 0.0
        rerun = digest_send(db, controller, tmp_path)
        out, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err.decode()
        report = json.loads(out)
        assert (report["made"], report["sent"], report["resent"], report["failed"]) == (0, 5, 1, 0)
    finally:
        controller.stop()
    assert inbox.per_recipient() == {s["email"]: 1 for s in subs}
    assert len({r.message_id for r in inbox.received}) == 8
    for r in inbox.received:  # real digests: the mail/digest.py content, with its unsubscribe link
        got = message_from_bytes(r.data, policy=policy.default)
        assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "https://radar.test/unsubscribe/" in str(got["List-Unsubscribe"])
    with opened(db) as store:
        assert store.mail_counts() == {"pending": 0, "sending": 0, "sent": 8, "failed": 0}


# -- the command line ---------------------------------------------------------------------------


def test_digest_commands(site_db, tmp_path, server, monkeypatch) -> None:
    controller, inbox = server
    db = site_db
    for name in ("PAPERRADAR_SMTP_URL", "PAPERRADAR_MAIL_FROM", "PAPERRADAR_BASE_URL", "PAPERRADAR_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "c.toml"
    config.write_text(f'[site]\nbase_url = "https://radar.test"\n\n[mail]\nsmtp_url = "{url(controller)}"\n'
                      f'from = "{SENDER}"\nrate = 0\n', encoding="utf-8")
    cfg = ("--config", str(config))

    code, out = quiet_main("--db", db, "digest", "subscribe", "ada@example.org", "--confirmed")
    assert code == 0 and "subscribed ada@example.org: daily, active" in out
    code, out = quiet_main("--db", db, "digest", "subscribe", "cy@example.org", "--confirmed", "--categories",
                           "cs.CL,cs.CV")
    assert code == 0 and "daily in cs.CL, cs.CV, active" in out
    code, out = quiet_main("--db", db, "digest", "subscribe", "bob@example.org", "--frequency", "weekly", *cfg)
    assert code == 0 and "awaiting confirmation" in out and "confirmation mail sent" in out
    [confirmation] = inbox.received
    assert confirmation.rcpt == "bob@example.org" and b"https://radar.test/confirm/" in confirmation.data
    code, out = quiet_main("--db", db, "digest", "subscribe", "not-an-address", *cfg)
    assert code == 2 and "email" in out
    with pytest.raises(SystemExit):  # no base URL for the confirmation link: refused before anything is stored
        quiet_main("--db", db, "digest", "subscribe", "dee@example.org", "--config", tmp_path / "none.toml")
    code, out = quiet_main("--db", db, "digest", "subscribe", "cy@example.org", "--frequency", "weekly",
                           "--confirmed")
    assert code == 0 and "weekly in cs.CL, cs.CV" in out  # the categories it had are kept

    code, out = quiet_main("--db", db, "digest", "list", "--json")
    subs = json.loads(out)["subscriptions"]
    assert [(s["email"], s["status"], s["frequency"], s["categories"]) for s in subs] == [
        ("ada@example.org", "active", "daily", []), ("cy@example.org", "active", "weekly", ["cs.CL", "cs.CV"]),
        ("bob@example.org", "pending", "weekly", [])]
    assert "unsubscribe_token" not in out
    code, out = quiet_main("--db", db, "digest", "list")
    assert code == 0 and "cy@example.org  active  weekly  cs.CL,cs.CV  never sent" in out

    html, text = tmp_path / "d.html", tmp_path / "d.txt"
    code, out = quiet_main("--db", db, "digest", "preview", "ada@example.org", "--date", HF_DAY, "--html", html,
                           "--text", text, *cfg)
    assert code == 0, out
    assert "<html" in html.read_text().lower() and "https://radar.test/papers/" in text.read_text()
    code, out = quiet_main("--db", db, "digest", "preview", "ada@example.org", "--date", HF_DAY, *cfg)
    assert code == 0 and out == text.read_text() + f"paperradar: {out.rsplit('paperradar: ', 1)[1]}"
    code, out = quiet_main("--db", db, "digest", "preview", "cy@example.org", "--date", HF_DAY, *cfg)
    assert code == 1 and "nothing to send" in out  # the day's papers carry no category of cy's
    code, out = quiet_main("--db", db, "digest", "preview", "nobody@example.org", *cfg)
    assert code == 1 and "no subscription" in out
    assert len(inbox.received) == 1  # a preview sends nothing

    code, out = quiet_main("--db", db, "digest", "send", "--date", HF_DAY, "--json", *cfg)
    assert code == 0, out
    report = json.loads(out[:out.rindex("}") + 1])
    assert (report["made"], report["empty"], report["sent"], report["periods"]) == (1, 1, 1, [HF_DAY, "2025-W11"])
    assert inbox.per_recipient() == {"bob@example.org": 1, "ada@example.org": 1}
    code, out = quiet_main("--db", db, "digest", "send", "--date", HF_DAY, *cfg)
    assert code == 0 and "sent 0" in out and len(inbox.received) == 2
    code, out = quiet_main("--db", db, "digest", "list")
    assert "ada@example.org  active  daily  all  last sent" in out

    code, out = quiet_main("--db", db, "digest", "unsubscribe", "ADA@example.org")
    assert code == 0 and "unsubscribed ada@example.org" in out
    code, out = quiet_main("--db", db, "digest", "unsubscribe", "ada@example.org")
    assert code == 0 and "already unsubscribed" in out
    code, out = quiet_main("--db", db, "digest", "unsubscribe", "zed@example.org")
    assert code == 1

    bare = tmp_path / "bare.toml"
    bare.write_text('[site]\nbase_url = "https://radar.test"\n', encoding="utf-8")
    code, out = quiet_main("--db", db, "digest", "send", "--config", bare)
    assert code == 2 and "PAPERRADAR_SMTP_URL" in out
    with pytest.raises(SystemExit) as usage:  # a usage error: argparse's exit 2
        quiet_main("--db", db, "digest", "send", "--config", tmp_path / "none.toml")
    assert usage.value.code == 2
    with pytest.raises(SystemExit) as usage:
        quiet_main("--db", db, "digest", "send", "--config", tmp_path / "c.toml", "--base-url", "ftp://x")
    assert usage.value.code == 2


def test_serve_sync_makes_the_days_digests_from_the_send_hour(site_db, tmp_path, server) -> None:
    controller, inbox = server
    with opened(site_db) as store:
        _digests_from_the_send_hour(store, controller, inbox)


def _digests_from_the_send_hour(store: Store, controller: Controller, inbox: Inbox) -> None:
    subscribers(store, 2)
    radar = Radar(store)
    clock = {"now": __import__("datetime").datetime(2025, 3, 20, 6, 30)}
    outbox = Outbox(store, Mailer(url(controller), SENDER), rate=0)
    outbox.enqueue("signin", note("ada@example.org"))  # an account mail waiting: sent whatever the hour
    scheduler = start_digest_schedule(radar, outbox, 7, "https://radar.test", every=0.1, now=lambda: clock["now"])
    try:
        deadline = time.time() + 10
        while inbox.per_recipient().get("ada@example.org") != 1 and time.time() < deadline:
            time.sleep(0.05)
        runs = scheduler.runs
        while scheduler.runs < runs + 2:
            time.sleep(0.05)
        assert [r.rcpt for r in inbox.received] == ["ada@example.org"]  # 06:30: no digest yet
        clock["now"] = clock["now"].replace(hour=7, minute=1)
        while len(inbox.received) < 3 and time.time() < deadline:
            time.sleep(0.05)
        runs = scheduler.runs
        while scheduler.runs < runs + 3:
            time.sleep(0.05)
    finally:
        scheduler.stop(timeout=10)
    assert inbox.per_recipient() == {"ada@example.org": 1, "reader0@example.org": 1, "reader1@example.org": 1}
    assert scheduler.failures == 0
