"""``use: NAME/RECIPE[@RANGE]``: a pack's recipe found, its version and lock checked.

Input: the ``use:`` value, its span, the compiler (for the read boundary options and
the hashes already computed). Output: ``PackRecipe``: the recipe file, how messages
name it (``pack:NAME@VERSION/recipes/x.yaml``) and the read boundary of its pack; or a
``Diagnostic`` at the ``use:`` value: a reference that does not parse, a pack not
installed (with the installed names for did-you-mean), no installed version in the
range (listing the versions and where they are), a recipe the pack does not export, a
pack that does not support this synthdsl, a pack the project's ``synthdsl.lock`` lists
but the project lacks, or a project copy whose content no longer matches the lock's
hash (tampered or edited: reinstall). The lookup order is
``synthdsl.packs.store``'s; with a range, the first pack in that order whose version
is in it. Raises nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from synthdsl import __version__
from synthdsl.compile.state import Compiler
from synthdsl.errors import Diagnostic, RecipeError, Span, SynthdslError, did_you_mean
from synthdsl.lang.boundary import ReadBoundary
from synthdsl.packs.hashing import content_hash
from synthdsl.packs.lock import read_lock
from synthdsl.packs.refs import parse_pack_ref
from synthdsl.packs.store import (
    InstalledPack,
    find_packs,
    find_project,
    installed_packs,
    project_root,
)
from synthdsl.packs.versions import parse_version

__all__ = ["PackRecipe", "resolve_pack_recipe"]


@dataclass(frozen=True)
class PackRecipe:
    file: Path
    display: str
    boundary: ReadBoundary


def _installed_names(project: Path) -> list[str]:
    try:
        return sorted({p.name for p in installed_packs(project)})
    except SynthdslError:
        return []


def resolve_pack_recipe(c: Compiler, ref: str, base: Path, span: Span) -> PackRecipe | Diagnostic:
    """Find the pack recipe ``ref`` names from a recipe in ``base`` (its project: the
    one above ``base``, else the working folder's; see the module docstring)."""
    try:
        pref = parse_pack_ref(ref)
    except ValueError as exc:
        return Diagnostic(span, str(exc), "e.g. use: my-pack/questions@^1.0")
    project = find_project(base) or project_root()
    try:
        found = find_packs(pref.pack, project)
    except RecipeError as exc:
        first = exc.diagnostics[0]
        where = f" ({first.span})" if first.span else ""
        return Diagnostic(
            span,
            f"pack '{pref.pack}' is installed but broken: {first.message}{where}",
            "reinstall it: synthdsl pack install SOURCE --force",
        )
    except SynthdslError as exc:
        return Diagnostic(span, f"pack '{pref.pack}' cannot be read: {exc}")
    if not found:
        return Diagnostic(
            span,
            f"pack '{pref.pack}' is not installed",
            did_you_mean(pref.pack, _installed_names(project))
            or "install it: synthdsl pack install SOURCE (see: synthdsl pack list)",
        )
    matching = [p for p in found if pref.range is None or pref.range.contains(p.manifest.version)]
    if not matching:
        have = ", ".join(f"{p.manifest.version} ({p.where})" for p in found)
        return Diagnostic(
            span,
            f"no installed version of pack '{pref.pack}' is in the range '{pref.range}'",
            f"installed: {have}; install a version in the range, or change the range",
        )
    pack = matching[0]
    label = pack.manifest.label
    current = parse_version(__version__)
    if not pack.manifest.synthdsl.contains(current):
        return Diagnostic(
            span,
            f"pack {label} supports synthdsl {pack.manifest.synthdsl}; this is synthdsl {current}",
            "install a version of the pack made for this synthdsl",
        )
    exported = pack.manifest.recipes.get(pref.recipe)
    if exported is None:
        names = sorted(pack.manifest.recipes)
        return Diagnostic(
            span,
            f"pack {label} has no recipe '{pref.recipe}'",
            did_you_mean(pref.recipe, names) or f"it exports: {', '.join(names)}",
        )
    in_project = any(p.where == "project" for p in found)
    problem = _lock_problem(c, project, pack, in_project, span)
    if problem is not None:
        return problem
    file = pack.folder / exported.file
    return PackRecipe(file, pack.display(file), c.boundary(pack.folder, f"pack:{label}"))


def _lock_problem(
    c: Compiler, project: Path, pack: InstalledPack, in_project: bool, span: Span
) -> Diagnostic | None:
    """The lock describes the project's packs: a locked pack missing from the project,
    or a project copy whose content hash is not the lock's, is an error."""
    try:
        entry = read_lock(project).get(pack.name)
    except RecipeError as exc:
        return exc.diagnostics[0]
    if entry is None:
        return None
    label = pack.manifest.label
    if not in_project:
        return Diagnostic(
            span,
            f"pack '{pack.name}' is in synthdsl.lock but not installed in this project",
            "install what the lock records: synthdsl pack install",
        )
    if pack.where != "project":
        return None  # the range chose another copy on purpose
    digest = c.pack_hashes.get(pack.folder)
    if digest is None:
        digest = c.pack_hashes[pack.folder] = content_hash(pack.folder)
    if digest == entry.hash:
        return None
    what = (
        f"its files changed since it was installed (hash {digest[:19]}..., "
        f"the lock has {entry.hash[:19]}...)"
        if entry.version == str(pack.manifest.version)
        else f"the lock records version {entry.version}"
    )
    return Diagnostic(
        span,
        f"pack {label} does not match synthdsl.lock: {what}",
        "reinstall it: synthdsl pack install (restores what the lock records), "
        "or synthdsl pack install SOURCE --force to take a new version",
    )
