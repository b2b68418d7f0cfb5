"""The sync configuration file (TOML): sources, categories, schedule, politeness.

Found at ``--config FILE``, else ``$PAPERRADAR_CONFIG``, else ``config.toml``
in the user's config directory (``~/.config/paperradar/`` on Linux). A
missing default file means "all defaults"; a file named explicitly must
exist. Unknown keys are errors, so a typo never silently falls back to a
default. Every key is documented in the README ("Configuration file").
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

ENV_CONFIG = "PAPERRADAR_CONFIG"
SOURCES = ("arxiv-oai", "arxiv-api", "arxiv-rss", "hf-daily")
METADATA_PREFIXES = ("arXiv", "arXivRaw")


class ConfigError(Exception):
    """The configuration file cannot be read or holds a wrong key or value."""


@dataclass
class HttpSettings:
    timeout: float = 60.0  # seconds to wait for a connection or for the next bytes of an answer
    tries: int = 5  # attempts per request before the source fails
    backoff: float = 2.0  # first wait after a network error; doubles each try, with jitter
    max_wait: float = 600.0  # longest wait honoured (Retry-After or backoff)


@dataclass
class OaiSettings:
    base_url: str = "https://oaipmh.arxiv.org/oai"
    delay: float = 3.0
    sets: list[str] = field(default_factory=lambda: ["cs"])
    metadata_prefix: str = "arXiv"
    from_date: str | None = None  # first harvest starts here; later ones go on from the last


@dataclass
class ApiSettings:
    base_url: str = "https://export.arxiv.org/api/query"
    delay: float = 3.0
    queries: list[str] = field(default_factory=list)
    max_results: int = 100
    page_size: int = 100


@dataclass
class RssSettings:
    base_url: str = "https://rss.arxiv.org/rss"
    delay: float = 3.0
    categories: list[str] = field(default_factory=lambda: ["cs"])


@dataclass
class HfSettings:
    base_url: str = "https://huggingface.co/api/daily_papers"
    delay: float = 1.0
    days: int = 3
    limit: int = 100


@dataclass
class SyncConfig:
    path: str | None = None  # the file read, None when defaults only
    contact: str = ""
    sources: list[str] = field(default_factory=lambda: ["arxiv-rss", "hf-daily"])
    every: float = 6 * 3600.0  # seconds between scheduled runs of `sync --all`
    http: HttpSettings = field(default_factory=HttpSettings)
    arxiv_oai: OaiSettings = field(default_factory=OaiSettings)
    arxiv_api: ApiSettings = field(default_factory=ApiSettings)
    arxiv_rss: RssSettings = field(default_factory=RssSettings)
    hf_daily: HfSettings = field(default_factory=HfSettings)


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
    config = SyncConfig()
    top = _Table(data, "")
    config.contact = top.text("contact", config.contact)
    config.sources = top.choices("sources", config.sources, SOURCES)
    schedule = top.table("schedule")
    config.every = parse_interval(schedule.get("every", config.every), "schedule.every")
    schedule.done()
    http = top.table("http")
    config.http = HttpSettings(
        timeout=http.number("timeout", config.http.timeout),
        tries=http.integer("tries", config.http.tries),
        backoff=http.number("backoff", config.http.backoff, minimum=0.0),
        max_wait=http.number("max_wait", config.http.max_wait, minimum=0.0),
    )
    http.done()
    oai, d = top.table("arxiv-oai"), config.arxiv_oai
    config.arxiv_oai = OaiSettings(
        base_url=oai.url("base_url", d.base_url),
        delay=oai.number("delay", d.delay, minimum=0.0),
        sets=oai.texts("sets", d.sets),
        metadata_prefix=oai.choice("metadata_prefix", d.metadata_prefix, METADATA_PREFIXES),
        from_date=oai.day("from", d.from_date),
    )
    oai.done()
    api, a = top.table("arxiv-api"), config.arxiv_api
    config.arxiv_api = ApiSettings(
        base_url=api.url("base_url", a.base_url),
        delay=api.number("delay", a.delay, minimum=0.0),
        queries=api.texts("queries", a.queries),
        max_results=api.integer("max_results", a.max_results),
        page_size=api.integer("page_size", a.page_size),
    )
    api.done()
    rss, r = top.table("arxiv-rss"), config.arxiv_rss
    config.arxiv_rss = RssSettings(
        base_url=rss.url("base_url", r.base_url),
        delay=rss.number("delay", r.delay, minimum=0.0),
        categories=rss.texts("categories", r.categories),
    )
    rss.done()
    hf, h = top.table("hf-daily"), config.hf_daily
    config.hf_daily = HfSettings(
        base_url=hf.url("base_url", h.base_url),
        delay=hf.number("delay", h.delay, minimum=0.0),
        days=hf.integer("days", h.days),
        limit=hf.integer("limit", h.limit),
    )
    hf.done()
    top.done()
    return config


_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(value: Any, what: str = "interval") -> float:
    """Seconds from ``90``, ``"90s"``, ``"30m"``, ``"6h"`` or ``"1d"``; must be > 0."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := _INTERVAL.match(value)):
        seconds = float(m[1]) * _UNIT[m[2]]
    else:
        raise ConfigError(f"{what}: not an interval like 30m, 6h or 1d: {value!r}")
    if seconds <= 0:
        raise ConfigError(f"{what}: must be more than 0: {value!r}")
    return seconds


class _Table:
    """One TOML table: typed getters that remember which keys were used."""

    def __init__(self, data: Any, name: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"[{name}] must be a table")
        self.data = data
        self.name = name
        self.used: set[str] = set()

    def _where(self, key: str) -> str:
        return f"{self.name}.{key}" if self.name else key

    def get(self, key: str, default: Any) -> Any:
        self.used.add(key)
        return self.data.get(key, default)

    def table(self, key: str) -> _Table:
        return _Table(self.get(key, {}), key)

    def text(self, key: str, default: str) -> str:
        value = self.get(key, default)
        if not isinstance(value, str):
            raise ConfigError(f"{self._where(key)}: must be a string")
        return value.strip()

    def url(self, key: str, default: str) -> str:
        value = self.text(key, default).rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ConfigError(f"{self._where(key)}: must be an http:// or https:// URL: {value!r}")
        return value

    def texts(self, key: str, default: list[str]) -> list[str]:
        value = self.get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ConfigError(f"{self._where(key)}: must be a list of non-empty strings")
        return [v.strip() for v in value]

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.text(key, default)
        if value not in allowed:
            raise ConfigError(f"{self._where(key)}: must be one of {', '.join(allowed)}: {value!r}")
        return value

    def choices(self, key: str, default: list[str], allowed: tuple[str, ...]) -> list[str]:
        values = self.texts(key, default)
        for value in values:
            if value not in allowed:
                raise ConfigError(f"{self._where(key)}: unknown source {value!r} (known: {', '.join(allowed)})")
        return values

    def number(self, key: str, default: float, minimum: float | None = None) -> float:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{self._where(key)}: must be a number")
        if (minimum is None and value <= 0) or (minimum is not None and value < minimum):
            raise ConfigError(f"{self._where(key)}: out of range: {value!r}")
        return float(value)

    def integer(self, key: str, default: int) -> int:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{self._where(key)}: must be a whole number of at least 1")
        return value

    def day(self, key: str, default: str | None) -> str | None:
        value = self.get(key, default)
        if value is None:
            return None
        if isinstance(value, date):
            return value.isoformat()[:10]
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ConfigError(f"{self._where(key)}: must be a date YYYY-MM-DD: {value!r}") from None

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise ConfigError(f"unknown key{'s' if len(unknown) > 1 else ''} in "
                              f"{'[' + self.name + ']' if self.name else 'the top level'}: {', '.join(unknown)}")
