"""The ``synthdsl show-recipe NAME`` command: what a recipe is and the parameters it takes.

Input: a recipe name or path, found as ``use:`` finds it from the current folder
(``synthdsl.compile.resolve.find_recipe``: the project's ``recipes/``, then the built-in
strategies), or a pack's recipe ``NAME/RECIPE[@RANGE]`` (``synthdsl.packs.store``).
Output on stdout: the recipe's name, its description and a table of its parameters
(name, type, default, range/choices/pattern, description); exit code 0.
Errors: ``RecipeError`` (exit 2, through ``synthdsl.cli.exits``) for an unknown name,
with a did-you-mean, a pack recipe no installed pack has, or a recipe file that does
not load.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from synthdsl.compile.resolve import find_recipe, known_names
from synthdsl.errors import Diagnostic, RecipeError, did_you_mean
from synthdsl.lang.load import load_document
from synthdsl.lang.paramtypes import ParamDecl, parse_decls, show_value
from synthdsl.packs.refs import is_pack_ref, parse_pack_ref
from synthdsl.packs.store import find_packs

__all__ = ["add_parser", "render", "run"]


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register ``show-recipe`` on ``subparsers``; returns the new parser."""
    p = subparsers.add_parser(
        "show-recipe",
        help="describe a recipe and its parameters",
        description="Find a recipe as 'use:' does and print its parameters.",
    )
    p.add_argument(
        "name",
        metavar="NAME",
        help="a recipe name (self_instruct), a .yaml path, or a pack's recipe (my-pack/qa)",
    )
    return p


def run(args: argparse.Namespace) -> int:
    """Print the recipe named by ``args``; raises ``RecipeError`` when it is not found."""
    ref = str(args.name)
    base = Path.cwd()
    if is_pack_ref(ref):
        path, shown = _pack_recipe(ref)
    else:
        found = find_recipe(ref, base)
        if found is None:
            hint = did_you_mean(ref, known_names(ref, base)) or "list them: ls recipes/"
            raise RecipeError([Diagnostic(None, f"recipe '{ref}' not found", hint)])
        path, shown = found, str(found)
    doc = load_document(path, shown)
    name = str(doc.data.get("name") or path.stem)
    decls, _ = parse_decls(doc, name)
    print(render(name, str(doc.data.get("description") or "").strip(), decls))
    return 0


def _pack_recipe(ref: str) -> tuple[Path, str]:
    """The file of the pack recipe ``NAME/RECIPE[@RANGE]`` (first match in lookup order)."""
    try:
        pref = parse_pack_ref(ref)
    except ValueError as exc:
        raise RecipeError([Diagnostic(None, str(exc))]) from None
    for pack in find_packs(pref.pack):
        if pref.range is not None and not pref.range.contains(pack.manifest.version):
            continue
        exported = pack.manifest.recipes.get(pref.recipe)
        if exported is None:
            names = ", ".join(sorted(pack.manifest.recipes))
            raise RecipeError(
                [
                    Diagnostic(
                        None,
                        f"pack {pack.manifest.label} has no recipe '{pref.recipe}'",
                        f"it exports: {names}",
                    )
                ]
            )
        file = pack.folder / exported.file
        return file, pack.display(file)
    raise RecipeError(
        [Diagnostic(None, f"no installed pack matches '{ref}'", "see: synthdsl pack list")]
    )


def _limits(decl: ParamDecl) -> str:
    parts: list[str] = []
    if decl.choices:
        parts.append(", ".join(str(c) for c in decl.choices))
    if decl.min is not None and decl.max is not None:
        parts.append(f"{decl.min}..{decl.max}")
    elif decl.min is not None:
        parts.append(f">= {decl.min}")
    elif decl.max is not None:
        parts.append(f"<= {decl.max}")
    if decl.pattern is not None:
        parts.append(f"/{decl.pattern}/")
    return "; ".join(parts)


def render(name: str, description: str, decls: dict[str, ParamDecl]) -> str:
    """The text ``show-recipe`` prints: name, description, the parameter table."""
    lines = [name]
    if description:
        lines += ["", *("  " + line for line in description.splitlines())]
    if not decls:
        return "\n".join([*lines, "", "no parameters"])
    header = ("parameter", "type", "default", "range/choices", "description")
    rows = [
        (
            d.name,
            d.type,
            "(required)" if d.required else show_value(d.default),
            _limits(d),
            d.description,
        )
        for d in decls.values()
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(4)]
    lines.append("")
    for row in (header, *rows):
        cells = [row[i].ljust(widths[i]) for i in range(4)]
        lines.append("  ".join([*cells, row[4]]).rstrip())
    return "\n".join(lines)
