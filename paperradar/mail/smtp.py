"""The SMTP transport: where mail goes, and what each failure means for the mail.

Settings: ``$PAPERRADAR_SMTP_URL``, else ``[mail] smtp_url``:
``smtp://[user:password@]host[:port]`` (port 25 by default; STARTTLS whenever
the server offers it, and a password is never sent unencrypted to any host but
this machine) or ``smtps://...`` (TLS from the first byte, port 465 by
default); a user name or password with ``@``, ``:`` or ``/`` in it is
percent-encoded. ``$PAPERRADAR_MAIL_FROM``, else ``[mail] from``: the sender
(``Name <you@example.org>``). Certificates are checked against the system's
trust store (``$SSL_CERT_FILE`` names another, as for every OpenSSL program).

:meth:`Mailer.send` hands one message for one recipient to the server and
returns the server's 250 line, or raises, saying what the failure means:

- :class:`TemporaryFailure`: a 4xx answer, or the connection lost or refused:
  the same mail may go through later (``connection``: the server could not
  be reached at all, so neither can any other mail now);
- :class:`PermanentFailure`: a 5xx answer to this recipient or this message:
  it will never go through as it is; counted against the address;
- :class:`MailSetupError`: the settings are wrong (authentication refused,
  the sender refused, a certificate that does not verify): no mail can go
  until they change, and no address is to blame.

One connection is kept for many messages (a digest run hands over a
thousand); a kept connection the server has closed meanwhile is noticed at
``MAIL FROM``, before anything of the message was sent, and replaced once.
"""

from __future__ import annotations

import ipaddress
import os
import re
import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, getaddresses, parseaddr
from typing import Any, Self
from urllib.parse import unquote, urlsplit

ENV_SMTP_URL = "PAPERRADAR_SMTP_URL"
ENV_MAIL_FROM = "PAPERRADAR_MAIL_FROM"
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


class MailError(Exception):
    """Something kept a mail from being handed over (base of the kinds below)."""


class MailNotConfigured(MailError):
    """No SMTP server or no sender is set."""


class MailSetupError(MailError):
    """The settings are wrong: nothing can be sent until they are changed."""


class DeliveryFailure(MailError):
    """The server (or the way to it) did not take one message; ``code`` its SMTP code (0: none)."""

    permanent = False

    def __init__(self, code: int, reason: str, connection: bool = False) -> None:
        self.code = code
        self.reason = reason
        self.connection = connection  # the server could not be reached (no message can go now)
        super().__init__(reason)


class TemporaryFailure(DeliveryFailure):
    """4xx, or the connection refused or lost: try the same mail again later."""


class PermanentFailure(DeliveryFailure):
    """5xx for this recipient or message: it will never go through as it is."""

    permanent = True


@dataclass(frozen=True)
class SmtpTarget:
    """A parsed SMTP URL (:func:`parse_smtp_url`)."""

    tls: bool  # smtps: TLS from the first byte
    host: str
    port: int
    user: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        who = f"{self.user}@" if self.user else ""
        return f"{'smtps' if self.tls else 'smtp'}://{who}{self.host}:{self.port}"

    @property
    def local(self) -> bool:
        """The server runs on this machine (loopback): the only place a password may go unencrypted."""
        if self.host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://[user:password@]host[:port]`` or ``smtps://...``; ValueError naming what is wrong."""
    parts = urlsplit(url.strip())
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(f"the SMTP URL must start with smtp:// or smtps://, not {parts.scheme or url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"the SMTP URL's port is not a number: {_hide(url)}") from None
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"the SMTP URL must be smtp://[user:password@]host[:port]: {_hide(url)}")
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return SmtpTarget(parts.scheme == "smtps", parts.hostname, port or DEFAULT_PORTS[parts.scheme], user, password)


def _hide(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(//[^:@/]*):[^@/]*@", r"\1:***@", url)


def envelope_address(from_header: str) -> str:
    """The bare address of a From value (``Name <a@b.org>`` → ``a@b.org``)."""
    address = parseaddr(from_header)[1]
    if "@" not in address:
        raise ValueError(f"not an email address: {from_header!r}")
    return address


def recipient_of(data: bytes) -> str | None:
    """The first To address of a stored message (headers only)."""
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("ascii", "replace")
    values = [m.group(1) for m in re.finditer(r"(?im)^To:[ \t]*((?:.*)(?:\r?\n[ \t].*)*)", head)]
    found = [a for _, a in getaddresses(values) if "@" in a]
    return found[0] if found else None


def as_bytes(message: EmailMessage | bytes) -> bytes:
    """A message as it goes over the wire: CRLF line ends, headers folded at 78 characters where
    they can be (see :func:`_plain_headers` for those that cannot)."""
    if isinstance(message, bytes):
        return message if b"\r\n" in message else message.replace(b"\n", b"\r\n")
    return _plain_headers(message.as_bytes(policy=SMTP), message)


def _plain_headers(data: bytes, message: EmailMessage) -> bytes:
    """Put back as written the ASCII headers that the email package turned into RFC 2047 encoded
    words because they hold a word longer than a line (List-Unsubscribe's URL): encoded, no client
    reads them as URLs any more. They are folded at their commas instead (a line may reach 998)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    groups: list[list[bytes]] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and groups:
            groups[-1].append(line)
        else:
            groups.append([line])
    out = []
    for group in groups:
        name = group[0].split(b":", 1)[0].decode("ascii", "replace")
        raw = message.get_all(name) or []
        if len(raw) == 1 and b"=?" in b"".join(group):
            value = " ".join(str(raw[0]).split())
            if value.isascii() and "=?" not in value:
                out.append(f"{name}: {value.replace(', ', ',' + chr(13) + chr(10) + ' ')}".encode("ascii"))
                continue
        out.append(b"\r\n".join(group))
    return b"\r\n".join(out) + sep + body


def _has_header(data: bytes, name: bytes) -> bool:
    head = data.split(b"\r\n\r\n", 1)[0]
    return re.search(rb"(?im)^" + re.escape(name) + rb":", head) is not None


class Mailer:
    """An SMTP client that keeps its connection between messages (close it, or use ``with``)."""

    def __init__(self, url: str, sender: str, timeout: float = 60.0, context: ssl.SSLContext | None = None) -> None:
        self.target = parse_smtp_url(url)
        self.sender = sender
        self.envelope_from = envelope_address(sender)
        self.timeout = timeout
        self._context = context
        self._smtp: smtplib.SMTP | None = None
        self._tls = False  # the current connection is encrypted

    @classmethod
    def from_settings(cls, settings: Any = None, env: Mapping[str, str] | None = None) -> Mailer:
        """The mailer the environment and the ``[mail]`` table (``settings``:
        :class:`paperradar.sync.config.MailSettings`, or None) describe; :class:`MailNotConfigured`
        when no server or no sender is set, :class:`MailSetupError` when one is malformed."""
        env = os.environ if env is None else env
        url = env.get(ENV_SMTP_URL) or getattr(settings, "smtp_url", None)
        sender = env.get(ENV_MAIL_FROM) or getattr(settings, "from_address", None)
        if not url:
            raise MailNotConfigured(f"no SMTP server is set: set ${ENV_SMTP_URL} (smtp://host:port) or "
                                    "smtp_url in the [mail] table of the config file")
        if not sender:
            raise MailNotConfigured(f"no sender address is set: set ${ENV_MAIL_FROM} or from in the [mail] "
                                    "table of the config file")
        try:
            return cls(url, sender, timeout=float(getattr(settings, "timeout", 60.0)))
        except ValueError as exc:
            raise MailSetupError(str(exc)) from None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __str__(self) -> str:
        return f"{self.target} as {self.envelope_from}"

    def close(self) -> None:
        """End the connection politely (QUIT), or just drop it if that fails."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = ssl.create_default_context()  # the system's CAs, or $SSL_CERT_FILE's
        return self._context

    def connect(self) -> smtplib.SMTP:
        """A connection, greeted (EHLO), encrypted where possible, signed in if a user is set."""
        t = self.target
        name = self.envelope_from.rsplit("@", 1)[1]  # EHLO: the sending domain (getfqdn can take seconds)
        try:
            if t.tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(t.host, t.port, local_hostname=name, timeout=self.timeout,
                                                      context=self.context())
            else:
                smtp = smtplib.SMTP(t.host, t.port, local_hostname=name, timeout=self.timeout)
        except ssl.SSLCertVerificationError as exc:
            raise MailSetupError(f"{t}: the server's certificate does not verify: {exc.verify_message}") from None
        except smtplib.SMTPConnectError as exc:  # a greeting other than 220
            raise _refusal(exc, f"{t} greeted with") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(0, f"cannot connect to {t}: {_why(exc)}", connection=True) from None
        try:
            self._tls = t.tls
            smtp.ehlo_or_helo_if_needed()
            if not t.tls and smtp.has_extn("starttls"):
                code, reply = smtp.starttls(context=self.context())
                if code != 220:
                    raise smtplib.SMTPResponseException(code, reply)
                smtp.ehlo()
                self._tls = True
            if t.user:
                if not self._tls and not t.local:
                    raise MailSetupError(f"{t}: the server offers no STARTTLS, and the password is not sent "
                                         "unencrypted: use smtps:// or a server with STARTTLS")
                smtp.login(t.user, t.password or "")
        except MailError:
            smtp.close()
            raise
        except ssl.SSLCertVerificationError as exc:
            smtp.close()
            raise MailSetupError(f"{t}: the server's certificate does not verify: {exc.verify_message}") from None
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError) as exc:
            smtp.close()
            raise MailSetupError(f"{t}: signing in as {t.user} failed: {_why(exc)}") from None
        except smtplib.SMTPResponseException as exc:
            smtp.close()
            raise _refusal(exc, f"{t} answered") from None
        except (OSError, smtplib.SMTPException) as exc:
            smtp.close()
            raise TemporaryFailure(0, f"{t}: connection lost while starting: {_why(exc)}", connection=True) from None
        return smtp

    def send(self, message: EmailMessage | bytes, recipient: str | None = None) -> str:
        """Hand ``message`` to the server for ``recipient`` (default: its To); the server's answer
        (``250 ...``) once it took it. Raises :class:`TemporaryFailure`, :class:`PermanentFailure`
        or :class:`MailSetupError` (see the module docstring); the connection is kept for the
        next message after a success or a refusal, dropped after anything else."""
        data = as_bytes(message)
        if not _has_header(data, b"From"):
            data = f"From: {_from_header(self.sender)}\r\n".encode() + data
        to = recipient or recipient_of(data)
        if not to:
            raise PermanentFailure(0, "the message names no recipient")
        options = []
        if not data.isascii():  # 8-bit text (one C loop; not a Python step a byte)
            options.append("BODY=8BITMIME")
        if not (to.isascii() and self.envelope_from.isascii()):
            options.append("SMTPUTF8")
        smtp = self._mail_from(options)
        try:
            code, reply = smtp.rcpt(to)
            if code not in (250, 251):
                self._reset(smtp)
                raise _failure(code, reply, where=f"RCPT TO {to}:")
            code, reply = smtp.data(data)
        except smtplib.SMTPDataError as exc:  # DATA itself refused (not 354)
            self._reset(smtp)
            raise _failure(exc.smtp_code, exc.smtp_error, where="DATA:") from None
        except OSError as exc:  # smtplib's own errors among them (the server hung up: SMTPServerDisconnected)
            self._drop()
            raise TemporaryFailure(0, f"connection lost while sending: {_why(exc)}") from None
        if code != 250:
            self._reset(smtp)
            raise _failure(code, reply, where="end of data:")
        return f"{code} {_text(reply)}"

    def _mail_from(self, options: list[str]) -> smtplib.SMTP:
        """The connection with MAIL FROM accepted; a kept connection that turns out closed is replaced."""
        for kept in (True, False):
            fresh = self._smtp is None
            if fresh:
                self._smtp = self.connect()
            smtp = self._smtp
            assert smtp is not None
            wanted = [o for o in options if o != "BODY=8BITMIME" or smtp.has_extn("8bitmime")]
            if "SMTPUTF8" in wanted and not smtp.has_extn("smtputf8"):
                raise PermanentFailure(0, "the address is not ASCII and the server does not take SMTPUTF8")
            if "BODY=8BITMIME" in options and "BODY=8BITMIME" not in wanted:
                raise MailSetupError(f"{self.target}: the message has 8-bit text and the server does not take it")
            try:
                code, reply = smtp.mail(self.envelope_from, wanted)
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                self._drop()
                if fresh or not kept:
                    raise TemporaryFailure(0, f"connection lost at MAIL FROM: {_why(exc)}", connection=True) from None
                continue  # the server closed the kept connection meanwhile: nothing was sent; a new one
            if code == 421 and not fresh and kept:  # closing: the same, said politely
                self._drop()
                continue
            if code != 250:
                self._reset(smtp)
                if 500 <= code < 600:
                    raise MailSetupError(f"{self.target} refuses the sender {self.envelope_from}: {code} {_text(reply)}")
                raise _failure(code, reply, connection=code == 421, where="MAIL FROM:")
            return smtp
        raise TemporaryFailure(0, "the server keeps closing the connection", connection=True)

    def _reset(self, smtp: smtplib.SMTP) -> None:
        """RSET after a refusal so the connection can carry the next message; dropped if that fails."""
        try:
            code, _ = smtp.rset()
            if code == 250:
                return
        except (smtplib.SMTPException, OSError):
            pass
        self._drop()


def _from_header(sender: str) -> str:
    name, address = parseaddr(sender)
    return formataddr((name, address), charset="utf-8") if name else address


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())


def _why(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__


def _refusal(exc: smtplib.SMTPResponseException, where: str) -> MailError:
    """The server's refusal while connecting: 4xx (busy) try later; 5xx it will not talk to us."""
    text = f"{where} {exc.smtp_code} {_text(exc.smtp_error)}"
    if 500 <= exc.smtp_code < 600:
        return MailSetupError(text)
    return TemporaryFailure(exc.smtp_code, text, connection=True)


def _failure(code: int, reply: bytes | str, connection: bool = False, where: str = "") -> DeliveryFailure:
    """A server's answer as a failure: 5xx permanent, anything else (4xx, nonsense) temporary."""
    text = f"{where} {code} {_text(reply)}".strip() if where else f"{code} {_text(reply)}"
    if 500 <= code < 600:
        return PermanentFailure(code, text, connection)
    return TemporaryFailure(code, text, connection)
