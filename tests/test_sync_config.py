"""The sync configuration file: defaults, every key read and checked, and documented."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT
from helpers import cli

from paperradar.sync import config as cfg
from paperradar.sync.config import ConfigError, load_config, parse_interval

FULL = """
contact = "me@example.org"
sources = ["arxiv-oai", "arxiv-api", "arxiv-rss", "hf-daily"]

[schedule]
every = "30m"

[http]
timeout = 20
tries = 4
backoff = 1.5
max_wait = 120

[arxiv-oai]
base_url = "http://127.0.0.1:1/oai/"
delay = 3
sets = ["cs", "stat"]
metadata_prefix = "arXivRaw"
from = 2026-01-01

[arxiv-api]
base_url = "http://127.0.0.1:1/api/query"
delay = 3.5
queries = ["cat:cs.CL AND ti:retrieval"]
max_results = 50
page_size = 25

[arxiv-rss]
base_url = "http://127.0.0.1:1/rss"
delay = 3
categories = ["cs.CL", "cs.LG"]

[hf-daily]
base_url = "http://127.0.0.1:1/api/daily_papers"
delay = 0.5
days = 7
limit = 50
"""


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.delenv(cfg.ENV_CONFIG, raising=False)
    monkeypatch.setattr(cfg, "default_config_path", lambda: tmp_path / "absent.toml")
    config = load_config(None)
    assert config.path is None and config.sources == ["arxiv-rss", "hf-daily"]
    assert config.arxiv_oai.delay == config.arxiv_api.delay == config.arxiv_rss.delay == 3.0
    assert config.hf_daily.delay < 3.0
    assert config.arxiv_oai.base_url == "https://oaipmh.arxiv.org/oai"


def test_every_key_is_read(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(FULL)
    c = load_config(str(path))
    assert c.path == str(path) and c.contact == "me@example.org" and c.every == 1800
    assert (c.http.timeout, c.http.tries, c.http.backoff, c.http.max_wait) == (20, 4, 1.5, 120)
    assert c.arxiv_oai.base_url == "http://127.0.0.1:1/oai"  # trailing slash dropped
    assert (c.arxiv_oai.sets, c.arxiv_oai.metadata_prefix, c.arxiv_oai.from_date) == (["cs", "stat"], "arXivRaw", "2026-01-01")
    assert (c.arxiv_api.queries, c.arxiv_api.max_results, c.arxiv_api.page_size, c.arxiv_api.delay) == (
        ["cat:cs.CL AND ti:retrieval"], 50, 25, 3.5)
    assert c.arxiv_rss.categories == ["cs.CL", "cs.LG"]
    assert (c.hf_daily.days, c.hf_daily.limit, c.hf_daily.delay) == (7, 50, 0.5)


def test_the_environment_names_the_file(tmp_path, monkeypatch):
    path = tmp_path / "env.toml"
    path.write_text('contact = "env@example.org"\n')
    monkeypatch.setenv(cfg.ENV_CONFIG, str(path))
    assert load_config(None).contact == "env@example.org"


@pytest.mark.parametrize("text,message", [
    ("contct = 'typo'", "unknown key in the top level: contct"),
    ("[http]\ntimeouts = 3", r"unknown key in \[http\]: timeouts"),
    ("sources = ['arxiv', 'hf-daily']", "unknown source 'arxiv'"),
    ("[http]\ntries = 0", "http.tries: must be a whole number"),
    ("[http]\ntimeout = 'slow'", "http.timeout: must be a number"),
    ("[arxiv-oai]\nmetadata_prefix = 'oai_dc'", "must be one of arXiv, arXivRaw"),
    ("[arxiv-oai]\nfrom = 'yesterday'", "arxiv-oai.from: must be a date"),
    ("[arxiv-rss]\nbase_url = 'rss.arxiv.org'", "must be an http:// or https:// URL"),
    ("[arxiv-rss]\ncategories = 'cs'", "must be a list of non-empty strings"),
    ("[schedule]\nevery = 'often'", "schedule.every: not an interval"),
    ("http = 3", r"\[http\] must be a table"),
    ("contact = ", "not valid TOML"),
])
def test_bad_files_say_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(str(path))


def test_a_named_file_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(str(tmp_path / "nope.toml"))


def test_a_bad_config_is_a_usage_error(capsys, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[http]\ntries = -1\n")
    rc, _, err = cli(capsys, "--db", tmp_path / "p.db", "sync", "status", "--config", path)
    assert rc == 2 and "http.tries" in err
    rc, _, err = cli(capsys, "--db", tmp_path / "p.db", "sync", "status", "--config", tmp_path / "missing.toml")
    assert rc == 2 and "config file not found" in err


@pytest.mark.parametrize("text,seconds", [(90, 90), ("90s", 90), ("30m", 1800), ("6h", 21600), ("1d", 86400),
                                          (" 1.5h ", 5400)])
def test_intervals(text, seconds):
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["0", "-5m", "6 hours", "", True])
def test_bad_intervals(text):
    with pytest.raises(ConfigError):
        parse_interval(text)


def test_every_key_is_documented_in_the_readme():
    """Each key of FULL (which test_every_key_is_read proves are all read) is in the README's config section."""
    readme = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    section = readme.split("### Configuration file", 1)[1].split("\n## ", 1)[0]
    table = None
    for line in FULL.strip().splitlines():
        if m := re.match(r"^\[(.+)\]$", line):
            table = m[1]
            assert f"[{table}]" in section, f"[{table}] is not documented"
        elif m := re.match(r"^(\w+) =", line):
            name = f"{table}.{m[1]}" if table else m[1]
            assert f"`{name}`" in section, f"config key `{name}` is not documented"
