"""The README documents every command and format, and only real ones."""

from __future__ import annotations

import argparse
import re

from conftest import ROOT

from paperradar.cli import build_parser
from paperradar.sources import FORMATS

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_has_a_readme_section_with_an_example() -> None:
    for name in _subcommands():
        assert f"### {name}" in README, f"README lacks a section for `paperradar {name}`"
        assert re.search(rf"^paperradar {name}\b", README, re.MULTILINE), f"README has no example of {name}"


def test_readme_names_only_real_commands_and_options() -> None:
    commands = _subcommands()
    for line in re.findall(r"^paperradar .*$", README, re.MULTILINE):
        words = line.split("#")[0].split()
        name = words[1]
        assert name in commands, f"README shows unknown command: {line}"
        known = {opt for a in commands[name]._actions for opt in a.option_strings}
        for word in words[2:]:
            if word.startswith("--"):
                assert word in known, f"README shows unknown option {word} in: {line}"


def test_every_format_is_documented() -> None:
    for fmt in FORMATS:
        assert f"| `{fmt}` |" in README, f"format {fmt} missing from the README table"
    table = README.split("| `--format` | what |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", table, re.MULTILINE))
    assert documented == set(FORMATS)
