"""Installing and removing packs: fetch, check, then land atomically; keep the lock true.

Input: a SOURCE (see ``fetch.py``), where to install (the project, or the user with
``user=True``), ``force``, and ``check``: a function that raises ``RecipeError`` when
an exported recipe does not compile (the CLI passes one built on ``validate``; this
layer cannot compile). Output: ``Installed`` (the manifest, the folder, the content
hash, the source recorded, the version replaced if any). Steps: fetch into a temporary
folder inside the packs folder; find ``pack.yaml`` (at the top or in the one folder
there); read the manifest; check the synthdsl version it supports and every exported
recipe; note the source (``INSTALL_RECORD``); rename into place (the old version moved
aside first and deleted after); write the project's lock. Nothing from the pack is
executed, and on any error the temporary folder is removed: nothing half-installed.
``restore`` reinstalls every pack of the project's lock, and refuses content whose hash
differs from the lock's. ``remove`` deletes a pack and its lock entry.
Raises ``PackError`` (exit 2), ``PackFetchError`` (exit 1), ``RecipeError`` (exit 2).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from synthdsl import __version__
from synthdsl.errors import RecipeError
from synthdsl.packs.errors import PackError
from synthdsl.packs.fetch import fetch_source
from synthdsl.packs.hashing import INSTALL_RECORD, content_hash
from synthdsl.packs.limits import DEFAULT_LIMITS, Limits
from synthdsl.packs.lock import LockEntry, read_lock, write_lock
from synthdsl.packs.manifest import MANIFEST, Manifest, load_manifest
from synthdsl.packs.store import project_packs_dir, project_root, user_packs_dir
from synthdsl.packs.versions import parse_version

__all__ = ["Checker", "Installed", "install", "remove", "restore"]

Checker = Callable[[Path, Manifest], None]
"""Raises ``RecipeError`` when a recipe the pack in the folder exports does not compile."""


@dataclass(frozen=True)
class Installed:
    manifest: Manifest
    folder: Path
    where: str  # project or user
    hash: str
    source: str
    replaced: str | None  # the version that was there before
    unchanged: bool = False  # the same content was already installed


def _pack_root(files: Path) -> Path:
    if (files / MANIFEST).is_file():
        return files
    subs = [p for p in files.iterdir() if p.is_dir()] if files.is_dir() else []
    others = [p for p in files.iterdir() if not p.is_dir()] if files.is_dir() else []
    if len(subs) == 1 and not others and (subs[0] / MANIFEST).is_file():
        return subs[0]
    raise PackError(
        f"no {MANIFEST} at the top of the source (nor in its one folder): not a pack; "
        "make one with: synthdsl pack new NAME"
    )


def install(
    source: str,
    *,
    user: bool = False,
    force: bool = False,
    check: Checker | None = None,
    limits: Limits = DEFAULT_LIMITS,
    start: Path | None = None,
    expect_hash: str | None = None,
) -> Installed:
    """Install the pack at ``source`` (see the module docstring)."""
    project = project_root(start)
    store = user_packs_dir() if user else project_packs_dir(project)
    store.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=store, prefix=".install-"))
    try:
        fetched = fetch_source(source, _sub(scratch), limits)
        root = _pack_root(fetched.folder)
        shown = Path(source) / MANIFEST if Path(source).is_dir() else None
        manifest = load_manifest(root, str(shown) if shown else f"{source}:{MANIFEST}")
        current = parse_version(__version__)
        if not manifest.synthdsl.contains(current):
            raise PackError(
                f"pack {manifest.label} supports synthdsl {manifest.synthdsl}; "
                f"this is synthdsl {current}"
            )
        if check is not None:
            check(root, manifest)
        digest = content_hash(root)
        if expect_hash is not None and digest != expect_hash:
            raise PackError(
                f"pack {manifest.label} from {fetched.source} has hash {digest}, "
                f"but synthdsl.lock records {expect_hash}: the source changed"
            )
        target = store / manifest.name
        replaced: str | None = None
        old = _old_manifest(target)
        if old is not None:
            replaced = str(old.version)
            if content_hash(target) == digest:
                result = Installed(
                    manifest, target, _where(user), digest, fetched.source, None, True
                )
                _lock(project, user, result)
                return result
            if not force:
                raise PackError(
                    f"pack {manifest.name} {old.version} is already installed in {target}; "
                    "use --force to replace it"
                )
        elif target.exists() and not force:
            raise PackError(f"{target} exists and is not a pack; use --force to replace it")
        (root / INSTALL_RECORD).write_text(
            json.dumps({"source": fetched.source, "hash": digest}, indent=2) + "\n", "utf-8"
        )
        if target.exists():
            target.rename(scratch / "old")
        try:
            root.rename(target)
        except OSError:
            if (scratch / "old").exists():
                (scratch / "old").rename(target)  # the old version stays
            raise
        result = Installed(manifest, target, _where(user), digest, fetched.source, replaced)
        _lock(project, user, result)
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _old_manifest(target: Path) -> Manifest | None:
    """The manifest of the pack installed at ``target``; None when there is none or it
    does not read (a broken install is replaced with ``--force`` like a stray folder)."""
    if not (target / MANIFEST).is_file():
        return None
    try:
        return load_manifest(target)
    except RecipeError:
        return None


def _sub(scratch: Path) -> Path:
    fetch_dir = scratch / "fetch"
    fetch_dir.mkdir()
    return fetch_dir


def _where(user: bool) -> str:
    return "user" if user else "project"


def _lock(project: Path, user: bool, result: Installed) -> None:
    if user:
        return
    entries = read_lock(project)
    entries[result.manifest.name] = LockEntry(
        result.manifest.name, str(result.manifest.version), result.source, result.hash
    )
    write_lock(project, entries)


def remove(name: str, *, user: bool = False, start: Path | None = None) -> Manifest:
    """Delete the pack ``name`` (project, or user) and its lock entry; its manifest."""
    project = project_root(start)
    store = user_packs_dir() if user else project_packs_dir(project)
    target = store / name
    if not (target / MANIFEST).is_file():
        where = "the user's packs" if user else "this project"
        raise PackError(f"pack '{name}' is not installed in {where} ({store})")
    manifest = load_manifest(target)
    trash = Path(tempfile.mkdtemp(dir=store, prefix=".remove-"))
    target.rename(trash / name)
    shutil.rmtree(trash, ignore_errors=True)
    if not user:
        entries = read_lock(project)
        if entries.pop(name, None) is not None:
            write_lock(project, entries)
    return manifest


def restore(
    *, check: Checker | None = None, limits: Limits = DEFAULT_LIMITS, start: Path | None = None
) -> list[Installed]:
    """Install every pack the project's lock lists, with the content it records."""
    project = project_root(start)
    entries = read_lock(project)
    if not entries:
        raise PackError(
            f"no packs to restore: {project / 'synthdsl.lock'} lists none; "
            "give a SOURCE: synthdsl pack install SOURCE"
        )
    done: list[Installed] = []
    for name, entry in sorted(entries.items()):
        target = project_packs_dir(project) / name
        if (target / MANIFEST).is_file() and content_hash(target) == entry.hash:
            manifest = load_manifest(target)
            done.append(
                Installed(manifest, target, "project", entry.hash, entry.source, None, True)
            )
            continue
        done.append(
            install(
                entry.source,
                force=True,
                check=check,
                limits=limits,
                start=project,
                expect_hash=entry.hash,
            )
        )
    return done
