"""A pack's manifest, ``pack.yaml``: what the pack is and which recipes it exports.

Input: a pack folder (and how messages should name its ``pack.yaml``). Output: a
``Manifest``: ``name`` (lower case, digits, ``-``/``_``), ``version`` (semver),
``description``, ``license``, ``synthdsl`` (the range of synthdsl versions it supports,
``*`` when absent) and ``recipes`` (exported name → file inside the pack, with a
description); both short (``qa: recipes/qa.yaml``) and long (``qa: {file: ...,
description: ...}``) entries are accepted. Raises ``RecipeError`` with every problem at
``pack.yaml:line:col`` (YAML read by the project's loader, so duplicate keys and syntax
errors are reported as for recipes): unknown keys (with did-you-mean), a bad name,
version or range, a recipe file outside the pack or missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from synthdsl.errors import Diagnostic, RecipeError, Span, did_you_mean
from synthdsl.lang.load import Document, load_document, parse_document
from synthdsl.packs.versions import Range, Version, parse_range, parse_version

__all__ = [
    "MANIFEST",
    "NAME_RE",
    "ExportedRecipe",
    "Manifest",
    "load_manifest",
    "parse_manifest",
]

MANIFEST = "pack.yaml"
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_RECIPE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
_KEYS = ("name", "version", "description", "license", "synthdsl", "recipes")
_RECIPE_KEYS = ("file", "description")


@dataclass(frozen=True)
class ExportedRecipe:
    """One recipe a pack exports: its name, its file (relative to the pack) and what it does."""

    name: str
    file: str
    description: str


@dataclass(frozen=True)
class Manifest:
    name: str
    version: Version
    description: str
    license: str
    synthdsl: Range
    recipes: dict[str, ExportedRecipe]
    folder: Path
    path: str  # how messages name pack.yaml

    @property
    def label(self) -> str:
        """``NAME@VERSION``, how messages and plans name the pack."""
        return f"{self.name}@{self.version}"


def load_manifest(folder: Path, display: str | None = None) -> Manifest:
    """Read and check ``folder/pack.yaml``; ``RecipeError`` with every problem."""
    file = folder / MANIFEST
    shown = display or str(file)
    if not file.is_file():
        raise RecipeError.single(
            None,
            f"{folder}: not a pack (no {MANIFEST})",
            "a pack is a folder with pack.yaml; make one with: synthdsl pack new NAME",
        )
    return parse_manifest(load_document(file, shown), folder)


def parse_manifest(doc: Document | str, folder: Path, display: str = MANIFEST) -> Manifest:
    """Check a loaded ``pack.yaml`` (or its text) against ``folder``; ``RecipeError``."""
    if isinstance(doc, str):
        doc = parse_document(doc, display)
    diags: list[Diagnostic] = []
    data: dict[str, Any] = doc.data

    def at(*path: str | int) -> Span:
        return doc.spans.value(path)

    for key in data:
        if key not in _KEYS:
            diags.append(
                Diagnostic(
                    doc.spans.key((key,)),
                    f"unknown key '{key}' in {MANIFEST}",
                    did_you_mean(str(key), _KEYS) or f"known keys: {', '.join(_KEYS)}",
                )
            )
    for key in ("name", "version", "recipes"):
        if key not in data:
            diags.append(Diagnostic(at(), f"{MANIFEST} has no '{key}'", _EXAMPLE))
    name = _text(data, "name", at, diags)
    if name and not NAME_RE.match(name):
        diags.append(
            Diagnostic(
                at("name"),
                f"pack name '{name}' is not valid",
                "use lower-case letters, digits, '-' and '_', starting with a letter",
            )
        )
    version = Version(0, 0, 0)
    if "version" in data:
        try:
            version = parse_version(str(data["version"]))
        except ValueError as exc:
            diags.append(Diagnostic(at("version"), str(exc), "e.g. version: 1.0.0"))
    supported = parse_range("*")
    if "synthdsl" in data:
        try:
            supported = parse_range(str(data["synthdsl"]))
        except ValueError as exc:
            diags.append(Diagnostic(at("synthdsl"), str(exc), 'e.g. synthdsl: ">=0.1,<1"'))
    description = _text(data, "description", at, diags)
    license_ = _text(data, "license", at, diags)
    recipes = _recipes(doc, folder, diags)
    if diags:
        raise RecipeError(diags, {doc.path: doc.text})  # quoted even from a temporary folder
    return Manifest(name, version, description, license_, supported, recipes, folder, doc.path)


_EXAMPLE = "e.g.\n  name: my-pack\n  version: 1.0.0\n  recipes:\n    qa: recipes/qa.yaml"


def _text(data: dict[str, Any], key: str, at: Any, diags: list[Diagnostic]) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        diags.append(Diagnostic(at(key), f"'{key}' must be a string"))
        return ""
    return value.strip()


def _recipes(doc: Document, folder: Path, diags: list[Diagnostic]) -> dict[str, ExportedRecipe]:
    raw = doc.data.get("recipes")
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not raw:
        diags.append(
            Diagnostic(
                doc.spans.value(("recipes",)),
                "'recipes' must map each exported recipe's name to its file",
                "e.g. recipes: {qa: recipes/qa.yaml}",
            )
        )
        return {}
    out: dict[str, ExportedRecipe] = {}
    for name, entry in raw.items():
        key_span = doc.spans.key(("recipes", name))
        if not isinstance(name, str) or not _RECIPE_RE.match(name):
            diags.append(
                Diagnostic(
                    key_span,
                    f"recipe name '{name}' is not valid",
                    "use letters, digits, '-' and '_', starting with a letter",
                )
            )
            continue
        path: tuple[str | int, ...] = ("recipes", name)
        description = ""
        if isinstance(entry, dict):
            for key in entry:
                if key not in _RECIPE_KEYS:
                    diags.append(
                        Diagnostic(
                            doc.spans.key((*path, key)),
                            f"unknown key '{key}' in recipe '{name}'",
                            did_you_mean(str(key), _RECIPE_KEYS) or "give 'file' and 'description'",
                        )
                    )
            if "file" not in entry:
                diags.append(Diagnostic(key_span, f"recipe '{name}' has no 'file'"))
                continue
            file = entry["file"]
            description = str(entry.get("description") or "").strip()
            path = (*path, "file")
        else:
            file = entry
        span = doc.spans.value(path)
        problem = file_problem(file, folder)
        if problem is not None:
            diags.append(Diagnostic(span, f"recipe '{name}': {problem[0]}", problem[1]))
            continue
        out[name] = ExportedRecipe(name, str(file), description)
    return out


def file_problem(file: Any, folder: Path) -> tuple[str, str] | None:
    """Why ``file`` cannot be a recipe file of the pack in ``folder`` (message, hint)."""
    if not isinstance(file, str) or not file.endswith((".yaml", ".yml")):
        return (f"'{file}' is not a .yaml file", "give the recipe's path inside the pack")
    pure = PurePosixPath(file)
    if pure.is_absolute() or ".." in pure.parts or "\\" in file:
        return (
            f"'{file}' points outside the pack",
            "give a path inside the pack folder, e.g. recipes/qa.yaml",
        )
    full = folder / pure
    if not full.is_file():
        return (f"'{file}' does not exist in the pack", f"looked for {full}")
    try:
        full.resolve().relative_to(folder.resolve())
    except ValueError:
        return (
            f"'{file}' leads outside the pack (a symbolic link)",
            "replace the link by the file",
        )
    return None
