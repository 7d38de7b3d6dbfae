"""The ``synthdsl schema [--out FILE]`` command: the recipe JSON Schema, for editors.

Takes the parsed arguments (``add_parser`` registers the command). Gives the JSON
Schema of recipe format version 1 (``synthdsl.lang.schema.check.recipe_schema``), with
the step kinds of installed plugins, on stdout, or written to ``--out FILE`` (parent
folders created, the path printed); exit code 0. ``write_schema`` is the one writer,
also used by ``synthdsl init``. Raises ``RunError`` (exit 1) when the file cannot be
written, ``PluginError`` (exit 1) for a broken plugin.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from synthdsl.cli.exits import EXIT_OK
from synthdsl.errors import RunError
from synthdsl.lang.schema.check import recipe_schema

__all__ = ["add_parser", "run", "schema_text", "write_schema"]

_HELP = "print the recipe JSON Schema (for editors), or write it to a file"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``schema`` on the CLI's sub-parsers."""
    p = subparsers.add_parser(
        "schema",
        help=_HELP,
        description="The closed JSON Schema of recipe format version 1. Editors using "
        "yaml-language-server validate a recipe whose first line is "
        "'# yaml-language-server: $schema=PATH'.",
    )
    p.add_argument("--out", metavar="FILE", help="write the schema to FILE instead of stdout")


def run(args: argparse.Namespace) -> int:
    """Print the schema, or write it to ``args.out``; raises ``RunError``."""
    if args.out is None:
        sys.stdout.write(schema_text())
    else:
        print(write_schema(Path(args.out)))
    return EXIT_OK


def schema_text() -> str:
    """The recipe JSON Schema as indented JSON text, ending with a newline."""
    return json.dumps(recipe_schema(with_plugins=True), indent=2, ensure_ascii=False) + "\n"


def write_schema(path: Path) -> Path:
    """Write the schema to ``path``, creating its folders; returns ``path``.
    Raises ``RunError`` when it cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(schema_text(), encoding="utf-8")
    except OSError as exc:
        raise RunError(f"cannot write the schema to {path}: {exc.strerror or exc}") from exc
    return path
