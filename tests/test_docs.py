"""The docs are true: docs/commands.md documents every command and format, and
only real ones; the README stays short, shows only real commands, and its
links lead somewhere."""

from __future__ import annotations

import argparse
import importlib
import os
import re
from pathlib import Path

from conftest import ROOT

from paperradar.cli import build_parser
from paperradar.sources import FORMATS

README_PATH = ROOT / "README.md"
COMMANDS_PATH = ROOT / "docs" / "commands.md"
README = README_PATH.read_text(encoding="utf-8")
COMMANDS = COMMANDS_PATH.read_text(encoding="utf-8")
README_MAX_LINES = 200

# Linked before they exist: the lead writes docs/ARCHITECTURE.md after the refactor.
# Take a path out of this set once the file is there.
NOT_YET_WRITTEN: set[Path] = set()


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


def _assert_only_real_commands_and_options(text: str, where: str) -> None:
    """Every line starting `paperradar ` names a real command, nested command and options."""
    commands = _subcommands()
    lines = re.findall(r"^paperradar .*$", text, re.MULTILINE)
    assert lines, f"{where} shows no example at all"
    for line in lines:
        words = line.split("#")[0].split()
        name = words[1]
        assert name in commands, f"{where} shows unknown command: {line}"
        parser, rest = commands[name], words[2:]
        nested = _choices(parser)
        if nested and rest and not rest[0].startswith("-"):
            assert rest[0] in nested, f"{where} shows unknown command `{name} {rest[0]}`: {line}"
            parser, rest = nested[rest[0]], rest[1:]
        known = _options(parser)
        for word in rest:
            if word.startswith("--"):
                assert word in known, f"{where} shows unknown option {word} in: {line}"


def _anchors(text: str) -> set[str]:
    """GitHub's anchors for a Markdown file's headings."""
    anchors = set()
    for heading in re.findall(r"^#+ (.+)$", text, re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def _assert_links_lead_somewhere(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if linked in NOT_YET_WRITTEN:
            continue
        assert linked.exists(), f"{path.name} links to a missing file: {target}"
        if anchor:
            assert anchor in _anchors(linked.read_text(encoding="utf-8")), \
                f"{path.name} links to a missing heading: {target}"


# docs/commands.md: the full reference


def test_every_command_has_a_section_with_an_example() -> None:
    for name in _subcommands():
        assert f"### {name}" in COMMANDS, f"docs/commands.md lacks a section for `paperradar {name}`"
        assert re.search(rf"^paperradar {name}(?=\s|$)", COMMANDS, re.MULTILINE), \
            f"docs/commands.md has no example of {name}"


def test_every_nested_command_has_a_section_with_an_example() -> None:
    nested = {(name, sub) for name, parser in _subcommands().items() for sub in _choices(parser)}
    assert ("sync", "arxiv") in nested
    for name, sub in nested:
        assert re.search(rf"^###+ {name} {sub}$", COMMANDS, re.MULTILINE), \
            f"docs/commands.md lacks a section for `{name} {sub}`"
        assert re.search(rf"^paperradar {name} {sub}(?=\s|$)", COMMANDS, re.MULTILINE), \
            f"docs/commands.md has no example of `{name} {sub}`"


def test_commands_doc_names_only_real_commands_and_options() -> None:
    _assert_only_real_commands_and_options(COMMANDS, "docs/commands.md")


def test_every_format_is_documented() -> None:
    for fmt in FORMATS:
        assert f"| `{fmt}` |" in COMMANDS, f"format {fmt} missing from the table in docs/commands.md"
    table = COMMANDS.split("| `--format` | what |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", table, re.MULTILINE))
    assert documented == set(FORMATS)


# README.md: short, for users


def test_readme_is_short() -> None:
    lines = README.count("\n")
    assert lines <= README_MAX_LINES, \
        f"README.md has {lines} lines (at most {README_MAX_LINES}): the reference belongs in docs/commands.md"


def test_readme_names_only_real_commands_and_options() -> None:
    _assert_only_real_commands_and_options(README, "README.md")


def test_readme_shows_the_two_commands_and_they_exist() -> None:
    for script in ("quickstart.sh", "test.sh"):
        assert re.search(rf"^\./{re.escape(script)}(?=\s|$)", README, re.MULTILINE), f"README lacks ./{script}"
        assert os.access(ROOT / script, os.X_OK), f"{script} is missing or not executable"


def test_doc_links_lead_somewhere() -> None:
    docs = [README_PATH, *sorted((ROOT / "docs").glob("*.md"))]
    assert COMMANDS_PATH in docs
    for path in docs:
        _assert_links_lead_somewhere(path)


# -- docs/ARCHITECTURE.md: the walks name code that exists ------------------------

ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
_OWNERS = {"Radar": "paperradar.app:Radar", "ImportIndexing": "paperradar.app:ImportIndexing",
           "KeywordIndex": "paperradar.index.keyword:KeywordIndex", "VectorIndex": "paperradar.index.vectors:VectorIndex",
           "Encoder": "paperradar.index.encoder:Encoder", "SQLiteStore": "paperradar.store.sqlite:SQLiteStore",
           "store": "paperradar.store.sqlite:SQLiteStore"}


def _module_named(name: str) -> list[str]:
    """Dotted names of paperradar modules whose last part is ``name``."""
    found = []
    for path in (ROOT / "paperradar").rglob(f"{name}.py"):
        found.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


def _resolve(module: str, attr: str) -> bool:
    target = importlib.import_module(module.split(":")[0])
    for part in ([module.split(":")[1]] if ":" in module else []) + attr.split("."):
        if not hasattr(target, part):
            return False
        target = getattr(target, part)
    return True


def _check_name(token: str) -> str | None:
    """None if ``token`` (a backticked name in the map) names real code or a real file, else why not."""
    if m := re.fullmatch(r"([\w/]+\.(?:py|md|html))(?:: ([\w.]+))?", token):
        candidates = [ROOT / "paperradar" / m[1], ROOT / m[1]] + sorted((ROOT / "paperradar").rglob(m[1]))
        path = next((p for p in candidates if p.exists()), None)
        if path is None:
            return f"no file {m[1]}"
        if m[2] and path.suffix == ".py":
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            return None if _resolve(module, m[2]) else f"{m[1]} has no {m[2]}"
        return None
    if m := re.fullmatch(r"([\w]+(?:/[\w]+)+)\.([\w.]+)", token):  # index/embed.embed_documents
        module = "paperradar." + m[1].replace("/", ".")
        return None if _resolve(module, m[2]) else f"{module} has no {m[2]}"
    if m := re.fullmatch(r"(\w+)\.(\w+)", token):  # Radar.refresh, store.merge, fusion.fuse
        owners = [_OWNERS[m[1]]] if m[1] in _OWNERS else _module_named(m[1])
        if not owners:
            return None  # not a code name (a file suffix, a domain)
        return None if any(_resolve(o, m[2]) for o in owners) else f"{token} does not exist"
    return None


def test_architecture_walks_name_real_functions_and_files() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    tokens = set(re.findall(r"`([^`\s(]+(?:: [\w.]+)?)", text))
    checked = [t for t in tokens if re.search(r"[./]", t) and not re.search(r"\.(npy|json|db|toml|atom|usearch)$", t)]
    assert len(checked) > 60
    problems = [f"{t}: {why}" for t in sorted(checked) if (why := _check_name(t))]
    assert not problems, problems


def test_architecture_names_every_module() -> None:
    """The map is whole: every module is named (a format parser is found through ``FORMATS``)."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    modules = [p for p in (ROOT / "paperradar").rglob("*.py")
               if not p.name.startswith("__") and "sources" not in p.relative_to(ROOT).parts]
    assert len(modules) > 80
    missing = [str(p.relative_to(ROOT)) for p in sorted(modules) if not re.search(rf"[`/]{re.escape(p.name)}`", text)]
    assert not missing, f"modules the map does not name: {missing}"
