"""Where installed packs live, and finding one by name in the documented order.

Input: a pack name (and the folder a project lookup starts from: the working folder).
Output: ``InstalledPack`` values (manifest, folder, where it came from) in lookup order:

1. the project: ``<project>/.synthdsl/packs/NAME/``, where the project is the nearest
   folder at or above the working folder (for ``use:``, first the using recipe's
   folder) holding ``synthdsl.lock`` or ``.synthdsl/`` (else the working folder);
2. the user: ``$SYNTHDSL_PACKS_HOME``, else ``$XDG_DATA_HOME/synthdsl/packs``, else
   ``~/.local/share/synthdsl/packs``;
3. Python packages carrying packs (entry point group ``synthdsl.packs``; read-only);
4. the built-in pack ``builtin`` (the strategies shipped with synthdsl).

Raises ``RecipeError`` for an installed pack whose ``pack.yaml`` is broken or names
another pack than its folder (when that pack is asked for), ``PluginError`` for a pack
plugin that fails to import.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from synthdsl import __version__
from synthdsl.builtin import __file__ as _builtin_init
from synthdsl.errors import RecipeError
from synthdsl.packs.manifest import MANIFEST, ExportedRecipe, Manifest, load_manifest
from synthdsl.packs.versions import parse_range, parse_version
from synthdsl.plugins import load, plugins

__all__ = [
    "LOCK_FILE",
    "InstalledPack",
    "builtin_pack",
    "display_name",
    "entry_point_packs",
    "find_packs",
    "find_project",
    "installed_packs",
    "project_packs_dir",
    "project_root",
    "user_packs_dir",
]

LOCK_FILE = "synthdsl.lock"


@dataclass(frozen=True)
class InstalledPack:
    manifest: Manifest
    folder: Path
    where: str  # project, user, plugin <package>, builtin

    @property
    def name(self) -> str:
        return self.manifest.name

    def display(self, file: Path) -> str:
        """How messages and plans name a file of this pack: ``pack:NAME@VERSION/rel``."""
        return display_name(self.manifest, self.folder, file)


def display_name(manifest: Manifest, folder: Path, file: Path) -> str:
    try:
        rel = file.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return str(file)
    return f"pack:{manifest.label}/{rel}"


def find_project(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``synthdsl.lock`` or ``.synthdsl/``."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / LOCK_FILE).is_file() or (folder / ".synthdsl").is_dir():
            return folder
    return None


def project_root(start: Path | None = None) -> Path:
    """The project of ``start`` (default: the working folder): ``find_project``, else
    ``start`` itself."""
    here = (start or Path.cwd()).resolve()
    return find_project(here) or here


def project_packs_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / ".synthdsl" / "packs"


def user_packs_dir() -> Path:
    explicit = os.environ.get("SYNTHDSL_PACKS_HOME")
    if explicit:
        return Path(explicit).expanduser()
    data = os.environ.get("XDG_DATA_HOME")
    base = Path(data).expanduser() if data else Path.home() / ".local" / "share"
    return base / "synthdsl" / "packs"


def _stored(folder: Path, where: str) -> InstalledPack | None:
    if not (folder / MANIFEST).is_file():
        return None
    manifest = load_manifest(folder, f"{folder / MANIFEST}")
    if where in ("project", "user") and manifest.name != folder.name:
        raise RecipeError.single(
            None,
            f"{folder} holds the pack '{manifest.name}', not '{folder.name}'",
            "reinstall it: synthdsl pack install SOURCE --force",
        )
    return InstalledPack(manifest, folder, where)


def entry_point_packs() -> Iterator[InstalledPack]:
    """Packs carried by installed Python packages (group ``synthdsl.packs``), by plugin name."""
    for plugin in plugins("synthdsl.packs"):
        module = load(plugin)
        base = Path(str(module.__file__)).parent
        roots = [base / str(p) for p in getattr(module, "PACKS", ())] or [base]
        for root in roots:
            candidates = [root] if (root / MANIFEST).is_file() else sorted(root.iterdir())
            for folder in candidates:
                if folder.is_dir() and (folder / MANIFEST).is_file():
                    pack = _stored(folder, f"plugin {plugin.package}")
                    if pack is not None:
                        yield pack


def builtin_pack() -> InstalledPack:
    """The strategies shipped with synthdsl, as the pack ``builtin`` (version = synthdsl's)."""
    folder = Path(_builtin_init).parent
    recipes = {
        p.stem: ExportedRecipe(p.stem, f"recipes/{p.name}", "")
        for p in sorted((folder / "recipes").glob("*.yaml"))
    }
    manifest = Manifest(
        "builtin",
        parse_version(__version__),
        "The strategies shipped with synthdsl.",
        "Apache-2.0",
        parse_range("*"),
        recipes,
        folder,
        "builtin:pack.yaml",
    )
    return InstalledPack(manifest, folder, "builtin")


def find_packs(name: str, start: Path | None = None) -> list[InstalledPack]:
    """Every installed pack called ``name``, in lookup order (first one wins)."""
    found: list[InstalledPack] = []
    for folder, where in (
        (project_packs_dir(project_root(start)) / name, "project"),
        (user_packs_dir() / name, "user"),
    ):
        pack = _stored(folder, where)
        if pack is not None:
            found.append(pack)
    found.extend(p for p in entry_point_packs() if p.name == name)
    if name == "builtin":
        found.append(builtin_pack())
    return found


def installed_packs(
    start: Path | None = None, broken: list[tuple[Path, str]] | None = None
) -> list[InstalledPack]:
    """Every pack in every location, in lookup order then by name (for ``pack list``).
    With ``broken``, an installed pack whose ``pack.yaml`` does not read is added to it
    (folder, first problem) instead of raising."""
    out: list[InstalledPack] = []
    for base, where in (
        (project_packs_dir(project_root(start)), "project"),
        (user_packs_dir(), "user"),
    ):
        if base.is_dir():
            for folder in sorted(base.iterdir()):
                if folder.is_dir() and not folder.name.startswith("."):
                    try:
                        pack = _stored(folder, where)
                    except RecipeError as exc:
                        if broken is None:
                            raise
                        broken.append((folder, str(exc)))
                        continue
                    if pack is not None:
                        out.append(pack)
    out.extend(sorted(entry_point_packs(), key=lambda p: p.name))
    out.append(builtin_pack())
    return out
