"""The ``synthdsl pack new | install | list | show | remove`` commands (``docs/packs.md``).

Takes the parsed arguments. ``new NAME [--dir D]`` writes a starter pack
(``synthdsl.packs.scaffold``) into D (default ./NAME); ``install [SOURCE] [--user]
[--force]`` fetches, checks (the manifest, the synthdsl version, every exported recipe
compiled by ``api.validate`` inside the pack's read boundary) and installs into the
project (``.synthdsl/packs/``, recorded in ``synthdsl.lock``) or for the user; with no
SOURCE it restores every pack the lock lists; ``list`` prints every pack found, in
lookup order; ``show NAME|FOLDER`` prints a manifest and each exported recipe's typed
parameters (as ``show-recipe`` does); ``remove NAME [--user]`` deletes one. Output on
stdout; exit 0.
Raises ``UsageError``/``PackError``/``RecipeError`` (exit 2: bad input: a bad source,
manifest or archive, a recipe that does not compile, a pack not installed) and
``PackFetchError`` (exit 1: a download or git that failed), mapped by ``cli.exits``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from synthdsl import api
from synthdsl.cli.exits import EXIT_OK, UsageError
from synthdsl.cli.helptext import examples
from synthdsl.cli.show_recipe import render
from synthdsl.compile.state import CompileOptions
from synthdsl.errors import Diagnostic, RecipeError
from synthdsl.lang.boundary import ReadBoundary
from synthdsl.lang.load import load_document
from synthdsl.lang.paramtypes import parse_decls
from synthdsl.packs.errors import PackError
from synthdsl.packs.hashing import INSTALL_RECORD, content_hash
from synthdsl.packs.install import Installed, install, remove, restore
from synthdsl.packs.manifest import MANIFEST, Manifest, load_manifest
from synthdsl.packs.scaffold import pack_files
from synthdsl.packs.store import InstalledPack, display_name, find_packs, installed_packs

__all__ = ["add_parser", "check_pack", "run"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``pack`` and its sub-commands on the CLI's sub-parsers."""
    p = subparsers.add_parser(
        "pack",
        help="make, install, list, show and remove recipe packs",
        description="Recipe packs: folders of recipes, prompts and seed data that people "
        "share (docs/packs.md). Installing never runs code from a pack.",
        **examples(
            "synthdsl pack new my-pack",
            "synthdsl pack show my-pack",
            "synthdsl pack install ./my-pack",
            "synthdsl pack list",
        ),
    )
    sub = p.add_subparsers(dest="pack_command", required=True, metavar="COMMAND")
    new = sub.add_parser("new", help="create a starter pack that validates and runs")
    new.add_argument("name", metavar="NAME", help="pack name (lower case, digits, - and _)")
    new.add_argument("--dir", metavar="D", help="where to create it (default ./NAME)")
    inst = sub.add_parser("install", help="install a pack (no SOURCE: restore synthdsl.lock)")
    inst.add_argument(
        "source",
        nargs="?",
        metavar="SOURCE",
        help="a pack folder, a .tar.gz/.zip (path or http(s) URL), git+URL@REF, URL.git@REF "
        "or a local git repository PATH@REF",
    )
    inst.add_argument("--user", action="store_true", help="install for the user, not the project")
    inst.add_argument("--force", action="store_true", help="replace an installed version")
    sub.add_parser("list", help="the packs found, in lookup order")
    show = sub.add_parser("show", help="a pack's manifest and its recipes' parameters")
    show.add_argument("name", metavar="NAME|FOLDER", help="an installed pack, or a pack folder")
    rm = sub.add_parser("remove", help="uninstall a pack")
    rm.add_argument("name", metavar="NAME", help="the installed pack's name")
    rm.add_argument("--user", action="store_true", help="remove the user's copy")


def run(args: argparse.Namespace) -> int:
    """Run the ``pack`` sub-command in ``args``."""
    command = str(args.pack_command)
    if command == "new":
        return _new(str(args.name), args.dir)
    if command == "install":
        return _install(args.source, user=bool(args.user), force=bool(args.force))
    if command == "list":
        return _list()
    if command == "show":
        return _show(str(args.name))
    return _remove(str(args.name), user=bool(args.user))


def check_pack(root: Path, manifest: Manifest) -> None:
    """Every exported recipe compiles inside the pack's read boundary; ``RecipeError``."""
    boundary = ReadBoundary.of(root, f"pack:{manifest.label}")
    problems: list[Diagnostic] = []
    texts: dict[str, str] = {}
    for recipe in manifest.recipes.values():
        file = root / recipe.file
        shown = display_name(manifest, root, file)
        try:
            api.validate(file, CompileOptions(display=shown, boundary=boundary))
        except RecipeError as exc:
            problems.extend(exc.diagnostics)
            texts.update(exc.texts)
    if problems:
        raise RecipeError(problems, texts)


def _new(name: str, dest: str | None) -> int:
    try:
        files = pack_files(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    root = Path(dest) if dest else Path(name)
    if root.exists() and any(root.iterdir()):
        raise UsageError(f"{root} exists and is not empty; choose another --dir")
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
    print("\nnext:")
    print(f"  synthdsl pack show {root}")
    print(f"  synthdsl run {root / 'recipes' / 'questions.yaml'}")
    print(f"  synthdsl pack install {root}")
    return EXIT_OK


def _report(done: Installed) -> None:
    m = done.manifest
    if done.unchanged:
        print(f"{m.name} {m.version} is installed ({done.where}: {done.folder}); unchanged")
        return
    was = f" (was {done.replaced})" if done.replaced else ""
    print(f"installed {m.name} {m.version}{was} ({done.where}: {done.folder})")
    print(f"  source: {done.source}")
    print(f"  hash:   {done.hash}")
    if m.recipes:
        print("  use:    " + ", ".join(f"{m.name}/{r}" for r in m.recipes))


def _install(source: str | None, *, user: bool, force: bool) -> int:
    if source is None:
        if user:
            raise UsageError("pack install --user needs a SOURCE (the lock is the project's)")
        for done in restore(check=check_pack):
            _report(done)
        return EXIT_OK
    _report(install(source, user=user, force=force, check=check_pack))
    return EXIT_OK


def _list() -> int:
    broken: list[tuple[Path, str]] = []
    packs = installed_packs(broken=broken)
    seen: set[str] = set()
    rows = [("name", "version", "where", "recipes", "")]
    for p in packs:
        note = "(shadowed)" if p.name in seen else ""
        seen.add(p.name)
        rows.append((p.name, str(p.manifest.version), p.where, ", ".join(p.manifest.recipes), note))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join([*(r[i].ljust(widths[i]) for i in range(4)), r[4]]).rstrip())
    for folder, problem in broken:
        print(f"broken: {folder}: {problem} (reinstall or remove it)")
    return EXIT_OK


def _find(name: str) -> InstalledPack:
    """An installed pack by name; a folder when ``name`` is a path (has a ``/`` or
    starts with ``.``) or names no installed pack."""
    folder = Path(name)
    is_path = "/" in name or name.startswith(".")
    found = [] if is_path else find_packs(name)
    if found:
        return found[0]
    if (folder / MANIFEST).is_file():
        return InstalledPack(load_manifest(folder), folder, "folder")
    raise PackError(f"pack '{name}' is not installed (see: synthdsl pack list)")


def _show(name: str) -> int:
    pack = _find(name)
    m = pack.manifest
    print(f"{m.name} {m.version}  ({pack.where}: {pack.folder})")
    if m.description:
        print(f"  {m.description}")
    print(f"  license:  {m.license or '(none given)'}")
    print(f"  synthdsl: {m.synthdsl}")
    record = pack.folder / INSTALL_RECORD
    if record.is_file():
        source = json.loads(record.read_text("utf-8")).get("source", "?")
        print(f"  source:   {source}")
    if pack.where != "builtin":
        print(f"  hash:     {content_hash(pack.folder)}")
    for recipe in m.recipes.values():
        file = pack.folder / recipe.file
        doc = load_document(file, display_name(m, pack.folder, file))
        decls, _ = parse_decls(doc, recipe.name)
        description = recipe.description or str(doc.data.get("description") or "").strip()
        print()
        print(render(f"{m.name}/{recipe.name}", description, decls))
    return EXIT_OK


def _remove(name: str, *, user: bool) -> int:
    manifest = remove(name, user=user)
    print(f"removed {manifest.name} {manifest.version}")
    return EXIT_OK
