"""The README documents every command and format, and only real ones."""

from __future__ import annotations

import argparse
import re

from conftest import ROOT

from paperradar.cli import build_parser
from paperradar.sources import FORMATS

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _choices(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """A parser's subcommands by name (none if it has none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    return _choices(build_parser())


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {opt for a in parser._actions for opt in a.option_strings}


def test_every_command_has_a_readme_section_with_an_example() -> None:
    for name in _subcommands():
        assert f"### {name}" in README, f"README lacks a section for `paperradar {name}`"
        assert re.search(rf"^paperradar {name}(?=\s|$)", README, re.MULTILINE), f"README has no example of {name}"


def test_every_nested_command_has_a_readme_section_with_an_example() -> None:
    nested = {(name, sub) for name, parser in _subcommands().items() for sub in _choices(parser)}
    assert ("sync", "arxiv") in nested
    for name, sub in nested:
        assert re.search(rf"^###+ {name} {sub}$", README, re.MULTILINE), f"README lacks a section for `{name} {sub}`"
        assert re.search(rf"^paperradar {name} {sub}(?=\s|$)", README, re.MULTILINE), \
            f"README has no example of `{name} {sub}`"


def test_readme_names_only_real_commands_and_options() -> None:
    commands = _subcommands()
    for line in re.findall(r"^paperradar .*$", README, re.MULTILINE):
        words = line.split("#")[0].split()
        name = words[1]
        assert name in commands, f"README shows unknown command: {line}"
        parser, rest = commands[name], words[2:]
        nested = _choices(parser)
        if nested and rest and not rest[0].startswith("-"):
            assert rest[0] in nested, f"README shows unknown command `{name} {rest[0]}`: {line}"
            parser, rest = nested[rest[0]], rest[1:]
        known = _options(parser)
        for word in rest:
            if word.startswith("--"):
                assert word in known, f"README shows unknown option {word} in: {line}"


def test_every_format_is_documented() -> None:
    for fmt in FORMATS:
        assert f"| `{fmt}` |" in README, f"format {fmt} missing from the README table"
    table = README.split("| `--format` | what |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", table, re.MULTILINE))
    assert documented == set(FORMATS)
