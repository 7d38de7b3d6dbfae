"""The ``synthdsl init [DIR] [--force]`` command: a starter project that runs as is.

Takes the parsed arguments (``add_parser`` registers the command). Writes into DIR
(default: the current folder) the scaffold shipped as package data in
``synthdsl/builtin/scaffold/`` (read with ``importlib.resources``): ``recipe.yaml``
(generate → judge → filter → dedup on the embedded model, no key, no network),
``prompts/*.j2``, ``data/topics.jsonl`` and ``.gitignore`` (stored as ``gitignore``, a
name package-data globs and git leave alone), plus ``.synthdsl/recipe.schema.json``
written by ``synthdsl.cli.schema.write_schema``, which the recipe's first line names
for editors. Prints the files written and the next commands; exit code 0.

Raises ``UsageError`` (exit 2) naming the files that already exist, before writing
anything, unless ``--force``; ``RunError`` (exit 1) when a file cannot be written.
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path, PurePosixPath

from synthdsl.cli.exits import EXIT_OK, UsageError
from synthdsl.cli.schema import write_schema
from synthdsl.errors import RunError

__all__ = ["SCHEMA_PATH", "add_parser", "run", "scaffold_files"]

#: Where the project's copy of the recipe JSON Schema goes (the recipe's modeline).
SCHEMA_PATH = PurePosixPath(".synthdsl/recipe.schema.json")

#: Scaffold file names that differ in the project (package data keeps no dotfiles).
_RENAMED = {"gitignore": ".gitignore"}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``init`` on the CLI's sub-parsers."""
    p = subparsers.add_parser(
        "init",
        help="create a starter project (recipe, prompts, data) that runs offline",
        description="Write a starter recipe with its prompts and data, a .gitignore and "
        "the recipe JSON Schema for editors. It runs on the embedded model (no key, "
        "no network); --model switches it to a provider.",
    )
    p.add_argument("dir", nargs="?", default=".", metavar="DIR", help="project folder (default .)")
    p.add_argument("--force", action="store_true", help="overwrite files that already exist")


def run(args: argparse.Namespace) -> int:
    """Write the scaffold into ``args.dir``; raises ``UsageError`` or ``RunError``."""
    root = Path(args.dir)
    files = scaffold_files()
    targets = [*files, SCHEMA_PATH]
    existing = [str(t) for t in targets if (root / t).exists()]
    if existing and not args.force:
        raise UsageError(
            f"{root}: would overwrite {', '.join(existing)}; "
            "use --force to overwrite, or choose another folder"
        )
    for rel, data in files.items():
        _write(root / rel, data)
    write_schema(root / SCHEMA_PATH)
    for rel in targets:
        print(f"wrote {root / rel}")
    print("\nnext:")
    if root.resolve() != Path.cwd().resolve():
        print(f"  cd {root}")
    print("  synthdsl validate recipe.yaml")
    print("  synthdsl plan recipe.yaml")
    print("  synthdsl run recipe.yaml")
    return EXIT_OK


def scaffold_files() -> dict[PurePosixPath, bytes]:
    """The scaffold's files: path in the project → content, sorted by path."""
    found: dict[PurePosixPath, bytes] = {}
    base = resources.files("synthdsl.builtin").joinpath("scaffold")
    stack = [(PurePosixPath(), base)]
    while stack:
        rel, node = stack.pop()
        for child in node.iterdir():
            if child.is_dir():
                if child.name != "__pycache__":
                    stack.append((rel / child.name, child))
            else:
                found[rel / _RENAMED.get(child.name, child.name)] = child.read_bytes()
    return dict(sorted(found.items()))


def _write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, creating folders; raises ``RunError``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise RunError(f"cannot write {path}: {exc.strerror or exc}") from exc
