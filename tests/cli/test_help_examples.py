"""Every ``--help`` says what the command does, gives every option a help line, and its
examples work.

The test builds each command's parser as ``synthdsl.cli`` does, walks it and its
sub-commands, and runs every line of every ``examples:`` block, in the order of
``synthdsl.cli.COMMANDS`` (``run`` writes what ``stats`` and ``report`` read; ``ingest``
what ``create`` reads, and so on), in a copy of the project's ``examples/`` folder,
against the loopback server: a command that takes ``--model`` and names none gets
``--model openai/fake --api-base URL``. Every ``e.g. --OPTION VALUE`` in an option's
help must appear in one of its command's examples, so it is run too.
"""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthdsl.cli import COMMANDS, main
from synthdsl.cli.exits import CommandParser
from synthdsl.cli.helptext import EXAMPLES_HEADING
from synthdsl.testing.fake_openai import FakeOpenAIServer

REPO = Path(__file__).resolve().parents[2]
_FRAGMENT = re.compile(r"e\.g\. (--[\w-]+ \S+)")


def _parsers() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """(command, parser) for every command and sub-command, in ``COMMANDS`` order."""
    seen: set[int] = set()
    for name, (module_name, _help) in COMMANDS.items():
        root = CommandParser(prog="synthdsl")
        sub = root.add_subparsers(dest="command", parser_class=CommandParser)
        importlib.import_module(module_name).add_parser(sub)
        stack = [sub.choices[name]]
        while stack:
            parser = stack.pop(0)
            if id(parser) in seen:
                continue
            seen.add(id(parser))
            yield name, parser
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction):
                    stack.extend(action.choices.values())


def _examples(parser: argparse.ArgumentParser) -> list[str]:
    epilog = parser.epilog or ""
    if not epilog.startswith(EXAMPLES_HEADING):
        return []
    return [line.strip() for line in epilog.splitlines()[1:] if line.strip()]


def test_commands_have_descriptions_and_every_option_has_help() -> None:
    missing: list[str] = []
    for name, parser in _parsers():
        if parser.prog == f"synthdsl {name}" and not parser.description:
            missing.append(f"{parser.prog}: no description")
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                missing += [
                    f"{parser.prog} {c.dest}: no help"
                    for c in action._choices_actions
                    if not c.help
                ]
            elif not action.help:
                missing.append(f"{parser.prog} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_help_prints_no_developer_notes(capsys: pytest.CaptureFixture[str]) -> None:
    for _name, parser in _parsers():
        text = parser.format_help()
        assert "``" not in text and "add_parser" not in text, parser.prog


def test_option_examples_appear_in_an_examples_block() -> None:
    orphans: list[str] = []
    for _name, parser in _parsers():
        lines = _examples(parser)
        for action in parser._actions:
            for fragment in _FRAGMENT.findall(action.help or ""):
                if not any(fragment in line for line in lines):
                    orphans.append(f"{parser.prog}: {fragment}")
    assert orphans == []


def test_every_help_example_runs(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(REPO / "examples", project / "examples")
    ran: list[str] = []
    for _name, parser in _parsers():
        takes_model = any("--model" in a.option_strings for a in parser._actions)
        for line in _examples(parser):
            argv = shlex.split(line)
            assert argv[0] == "synthdsl", line
            args = argv[1:]
            if takes_model and "--model" not in args:
                args += ["--model", "openai/fake", "--api-base", server.base_url]
            code = main(args)
            out = capsys.readouterr()
            assert code == 0, f"{line}\nexit {code}\n{out.out[-1500:]}\n{out.err[-1500:]}"
            ran.append(line)
    # the examples were found: each command with a runnable story shows one
    commands = {shlex.split(line)[1] for line in ran}
    assert {"validate", "plan", "run", "stats", "report", "ingest", "create", "curate"} <= commands
    assert {"save-as", "simulate", "pack"} <= commands
