"""Finding a recipe by name or path: the one resolver for ``use:`` and the CLI verbs.

Input: a reference (``self_instruct``, or a path ending in ``.yaml``/``.yml``) and the
folder of the recipe that names it. Output: the recipe file, or the candidates looked
at (for the "not found" message and its did-you-mean). A name is looked up as
``recipes/<name>.yaml`` in the referring recipe's folder and up to three folders above
it, then in the working folder, then among the built-in strategies (package data of
``synthdsl.builtin``, found through ``importlib.resources``, so an installed wheel has
them in any folder); a path is relative to the referring recipe's folder, then to the
working folder. Raises nothing.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["builtin_recipe", "builtin_recipes_dir", "candidates", "find_recipe", "known_names"]

_LEVELS = 4  # the referring folder and three above it


def candidates(ref: str, base: Path) -> list[Path]:
    """Where ``ref`` may be, in the order they are tried."""
    as_path = Path(ref)
    if as_path.suffix in (".yaml", ".yml"):
        return [base / as_path, Path.cwd() / as_path]
    out: list[Path] = []
    d = base.resolve()
    for _ in range(_LEVELS):
        out.append(d / "recipes" / f"{ref}.yaml")
        if d.parent == d:
            break
        d = d.parent
    out.append(Path.cwd() / "recipes" / f"{ref}.yaml")
    out.append(builtin_recipes_dir() / f"{ref}.yaml")
    return out


def find_recipe(ref: str, base: Path) -> Path | None:
    """The first candidate file that exists, or None."""
    return next((c for c in candidates(ref, base) if c.is_file()), None)


def known_names(ref: str, base: Path) -> set[str]:
    """Recipe names in the folders searched for ``ref`` (for did-you-mean)."""
    known: set[str] = set()
    for cand in candidates(ref, base):
        if cand.parent.is_dir():
            known |= {p.stem for p in cand.parent.glob("*.y*ml")}
    return known


def builtin_recipes_dir() -> Path:
    """The folder of the built-in strategy recipes (package data of ``synthdsl.builtin``)."""
    # Package data installs as files (the wheel is unpacked), so the path is a real one.
    return Path(str(resources.files("synthdsl.builtin") / "recipes"))


def builtin_recipe(name: str) -> list[Path]:
    """Where the strategy ``name`` is looked for by the CLI verbs: the working
    folder's ``recipes/``, then the built-in folder."""
    return [Path.cwd() / "recipes" / f"{name}.yaml", builtin_recipes_dir() / f"{name}.yaml"]
