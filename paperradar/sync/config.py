"""The configuration file (TOML): sources, categories, schedule, politeness, the site's address, mail.

Found at ``--config FILE``, else ``$PAPERRADAR_CONFIG``, else ``config.toml``
in the user's config directory (``~/.config/paperradar/`` on Linux). A
missing default file means "all defaults"; a file named explicitly must
exist. Unknown keys are errors, so a typo never silently falls back to a
default. Every key is documented in docs/commands.md ("Configuration file").

The settings are plain dataclasses that pydantic checks a parsed file
against (nested tables, key aliases, unknown keys, all errors at once); each
kind of value brings its own check, so that a message speaks the file's
terms: ``FILE: http.tries: must be a whole number of at least 1``.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal, Annotated, Any, dataclass_transform

from platformdirs import user_config_dir
from pydantic import ConfigDict, Field, PlainValidator, TypeAdapter, ValidationError, with_config

ENV_CONFIG = "PAPERRADAR_CONFIG"
SOURCES = ("arxiv-oai", "arxiv-api", "arxiv-rss", "hf-daily")
METADATA_PREFIXES = ("arXiv", "arXivRaw")


class ConfigError(Exception):
    """The configuration file cannot be read or holds a wrong key or value."""


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)  # TOML's true is not 1


def _seconds(value: Any) -> float:
    _require(_is_number(value), "must be a number")
    _require(value > 0, f"out of range: {value!r}")
    return float(value)


def _pause(value: Any) -> float:
    """Like :func:`_seconds`, but 0 (no pause, no backoff) is allowed."""
    _require(_is_number(value), "must be a number")
    _require(value >= 0, f"out of range: {value!r}")
    return float(value)


def _whole(value: Any) -> int:
    """At least 1; a bool or 3.0 is not a whole number here (TOML keeps them apart)."""
    _require(isinstance(value, int) and not isinstance(value, bool) and value >= 1,
             "must be a whole number of at least 1")
    return value


def _text(value: Any) -> str:
    _require(isinstance(value, str), "must be a string")
    return value.strip()


def _url(value: Any) -> str:
    url = _text(value).rstrip("/")
    _require(url.startswith(("http://", "https://")), f"must be an http:// or https:// URL: {url!r}")
    return url


def _texts(value: Any) -> list[str]:
    _require(isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value),
             "must be a list of non-empty strings")
    return [v.strip() for v in value]


def _metadata_prefix(value: Any) -> str:
    prefix = _text(value)
    _require(prefix in METADATA_PREFIXES, f"must be one of {', '.join(METADATA_PREFIXES)}: {prefix!r}")
    return prefix


def _sources(value: Any) -> list[str]:
    names = _texts(value)
    for name in names:
        _require(name in SOURCES, f"unknown source {name!r} (known: {', '.join(SOURCES)})")
    return names


def _day(value: Any) -> str:
    """A TOML date (``2026-01-01``, or a date-time's day) or a string holding one."""
    if isinstance(value, date):
        return value.isoformat()[:10]
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError(f"must be a date YYYY-MM-DD: {value!r}") from None


_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _interval(value: Any) -> float:
    if _is_number(value):
        seconds = float(value)
    elif isinstance(value, str) and (m := _INTERVAL.match(value)):
        seconds = float(m[1]) * _UNIT[m[2]]
    else:
        raise ValueError(f"not an interval like 30m, 6h or 1d: {value!r}")
    _require(seconds > 0, f"must be more than 0: {value!r}")
    return seconds


def parse_interval(value: Any, what: str = "interval") -> float:
    """Seconds from ``90``, ``"90s"``, ``"30m"``, ``"6h"`` or ``"1d"``; must be > 0."""
    try:
        return _interval(value)
    except ValueError as exc:
        raise ConfigError(f"{what}: {exc}") from None


Seconds = Annotated[float, PlainValidator(_seconds)]
Pause = Annotated[float, PlainValidator(_pause)]
Whole = Annotated[int, PlainValidator(_whole)]
Text = Annotated[str, PlainValidator(_text)]
Url = Annotated[str, PlainValidator(_url)]
Texts = Annotated[list[str], PlainValidator(_texts)]
Interval = Annotated[float, PlainValidator(_interval)]


@dataclass_transform(field_specifiers=(field,))
def _table(cls: type) -> type:
    """A settings dataclass that pydantic fills from one TOML table, refusing unknown keys."""
    return with_config(ConfigDict(extra="forbid"))(dataclass(cls))


@_table
class HttpSettings:
    timeout: Seconds = 60.0  # seconds to wait for a connection or for the next bytes of an answer
    tries: Whole = 5  # attempts per request before the source fails
    backoff: Pause = 2.0  # first wait after a network error; doubles each try, with jitter
    max_wait: Pause = 600.0  # longest wait honoured (Retry-After or backoff)


@_table
class OaiSettings:
    base_url: Url = "https://oaipmh.arxiv.org/oai"
    delay: Pause = 3.0
    sets: Texts = field(default_factory=lambda: ["cs"])
    metadata_prefix: Annotated[str, PlainValidator(_metadata_prefix)] = "arXiv"
    # first harvest starts here; later ones go on from the last
    from_date: Annotated[str | None, Field(alias="from"), PlainValidator(_day)] = None


@_table
class ApiSettings:
    base_url: Url = "https://export.arxiv.org/api/query"
    delay: Pause = 3.0
    queries: Texts = field(default_factory=list)
    max_results: Whole = 100
    page_size: Whole = 100


@_table
class RssSettings:
    base_url: Url = "https://rss.arxiv.org/rss"
    delay: Pause = 3.0
    categories: Texts = field(default_factory=lambda: ["cs"])


@_table
class HfSettings:
    base_url: Url = "https://huggingface.co/api/daily_papers"
    delay: Pause = 1.0
    days: Whole = 3
    limit: Whole = 100


@_table
class ScheduleSettings:
    every: Interval = 6 * 3600.0  # seconds between scheduled runs of `sync --all`


@_table
class SiteSettings:
    """What ``serve`` needs to know of the site's address (``--base-url`` and ``--allow-host`` win)."""

    base_url: Annotated[str | None, PlainValidator(_url)] = None  # absolute links in feeds (and mails)
    hosts: Texts = field(default_factory=list)  # more Host names the server answers to
    registration: Literal["closed", "invite", "open"] = "closed"  # who may make an account on the web


def _smtp_url(value: Any) -> str:
    url = _text(value)
    _require(re.match(r"^smtps?://[^/?#\s]+/?$", url) is not None,
             "must be smtp://[user:password@]host[:port] or smtps://...: " + re.sub(r"//[^@/]*@", "//***@", url))
    return url


def _address(value: Any) -> str:
    text = _text(value)
    _require(re.search(r"[^@\s<]+@[^@\s>]+\.[^@\s>]+", text) is not None,
             f"must be an email address (you@example.org or Name <you@example.org>): {text!r}")
    return text


def _hour(value: Any) -> int:
    _require(isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 23,
             "must be an hour from 0 to 23")
    return value


@_table
class MailSettings:
    """Sending mail (``paperradar digest``, ``serve --sync``, the site's account mails);
    ``$PAPERRADAR_SMTP_URL`` and ``$PAPERRADAR_MAIL_FROM`` win over ``smtp_url`` and ``from``."""

    smtp_url: Annotated[str | None, PlainValidator(_smtp_url)] = None  # smtp://[user:pass@]host:port, smtps://...
    from_address: Annotated[str | None, Field(alias="from"), PlainValidator(_address)] = None  # the sender
    rate: Pause = 60.0  # messages per minute at most; 0: no limit
    send_hour: Annotated[int, PlainValidator(_hour)] = 7  # local hour from which serve --sync sends the digests
    timeout: Seconds = 60.0  # seconds to wait for the SMTP server
    tries: Whole = 8  # attempts per mail at temporary failures (4xx, connection lost) before it fails
    backoff: Pause = 60.0  # seconds before the first retry; doubles each time (at most an hour)


@_table
class SyncConfig:
    path: str | None = field(default=None, init=False)  # the file read, None when defaults only; not a key
    contact: Text = ""
    sources: Annotated[list[str], PlainValidator(_sources)] = field(
        default_factory=lambda: ["arxiv-rss", "hf-daily"])
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    arxiv_oai: Annotated[OaiSettings, Field(alias="arxiv-oai")] = field(default_factory=OaiSettings)
    arxiv_api: Annotated[ApiSettings, Field(alias="arxiv-api")] = field(default_factory=ApiSettings)
    arxiv_rss: Annotated[RssSettings, Field(alias="arxiv-rss")] = field(default_factory=RssSettings)
    hf_daily: Annotated[HfSettings, Field(alias="hf-daily")] = field(default_factory=HfSettings)
    site: SiteSettings = field(default_factory=SiteSettings)
    mail: MailSettings = field(default_factory=MailSettings)

    @property
    def every(self) -> float:
        """Seconds between scheduled runs of ``sync --all`` (``[schedule] every``)."""
        return self.schedule.every


_DOCUMENT = TypeAdapter(SyncConfig)


def default_config_path() -> Path:
    return Path(user_config_dir("paperradar", appauthor=False)) / "config.toml"


def load_config(cli_value: str | None = None) -> SyncConfig:
    """Read the configuration the user asked for (``--config``, env, default path)."""
    explicit = cli_value or os.environ.get(ENV_CONFIG)
    path = Path(explicit) if explicit else default_config_path()
    if not path.exists():
        if explicit:
            raise ConfigError(f"config file not found: {path}")
        return SyncConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        config = parse_config(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    config.path = str(path)
    return config


def parse_config(data: dict[str, Any]) -> SyncConfig:
    """Turn a parsed TOML document into settings, checking every key and value."""
    try:
        return _DOCUMENT.validate_python(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc)) from None


def _explain(exc: ValidationError) -> str:
    """Every problem pydantic found, in the file's terms (``[http]``, ``http.tries``), one after another."""
    problems: list[str] = []
    unknown: dict[str, list[str]] = {}
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        where = ".".join(loc)
        if error["type"] == "unexpected_keyword_argument":
            unknown.setdefault(".".join(loc[:-1]), []).append(loc[-1])
        elif error["type"] == "dataclass_type":
            problems.append(f"[{where}] must be a table")
        else:  # a check above said why (pydantic's own words should not occur)
            why = error["ctx"]["error"] if error["type"] == "value_error" else error["msg"]
            problems.append(f"{where}: {why}")
    for name, keys in unknown.items():
        problems.append(f"unknown key{'s' if len(keys) > 1 else ''} in "
                        f"{f'[{name}]' if name else 'the top level'}: {', '.join(sorted(keys))}")
    return "; ".join(problems)
