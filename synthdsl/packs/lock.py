"""The project's lock file, ``synthdsl.lock``: each installed pack's version, source, hash.

Input: the project folder. Output: ``read_lock`` → ``{name: LockEntry}`` (empty when
there is no lock); ``write_lock`` writes the entries sorted by name, atomically (a
temporary file renamed over the old one). ``pack install`` and ``pack remove`` write
it; ``use:`` of a locked pack compares the installed content's hash with it; ``pack
install`` with no argument reinstalls from it. Raises ``RecipeError`` at
``synthdsl.lock:line:col`` for a lock that does not read (YAML with positions).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from synthdsl.errors import Diagnostic, RecipeError
from synthdsl.lang.load import load_document
from synthdsl.packs.store import LOCK_FILE

__all__ = ["LockEntry", "lock_path", "read_lock", "write_lock"]

_HEADER = (
    "# synthdsl.lock: the packs this project installed, written by `synthdsl pack install`\n"
    "# and `synthdsl pack remove`. Commit it; `synthdsl pack install` with no argument\n"
    "# installs exactly these again, and `use:` checks each pack's hash against it.\n"
)
_FIELDS = ("version", "source", "hash")


@dataclass(frozen=True)
class LockEntry:
    name: str
    version: str
    source: str
    hash: str


def lock_path(project: Path) -> Path:
    return project / LOCK_FILE


def read_lock(project: Path) -> dict[str, LockEntry]:
    """The entries of ``project``'s lock, by pack name; empty without a lock."""
    path = lock_path(project)
    if not path.is_file():
        return {}
    doc = load_document(path, str(path))
    diags: list[Diagnostic] = []
    packs = doc.data.get("packs") or {}
    if not isinstance(packs, dict):
        raise RecipeError.single(doc.spans.value(("packs",)), "'packs' must be a mapping")
    out: dict[str, LockEntry] = {}
    for name, entry in packs.items():
        if not isinstance(entry, dict) or any(not isinstance(entry.get(f), str) for f in _FIELDS):
            diags.append(
                Diagnostic(
                    doc.spans.value(("packs", name)),
                    f"lock entry '{name}' needs version, source and hash (strings)",
                    "reinstall the pack: synthdsl pack install SOURCE --force",
                )
            )
            continue
        out[str(name)] = LockEntry(str(name), entry["version"], entry["source"], entry["hash"])
    if diags:
        raise RecipeError(diags)
    return out


def write_lock(project: Path, entries: dict[str, LockEntry]) -> None:
    """Write ``entries`` as ``project``'s lock (removes the lock when there are none)."""
    path = lock_path(project)
    if not entries:
        path.unlink(missing_ok=True)
        return
    body = {
        "lock": 1,
        "packs": {
            name: {"version": e.version, "source": e.source, "hash": e.hash}
            for name, e in sorted(entries.items())
        },
    }
    text = _HEADER + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)
    project.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=project, prefix=".synthdsl.lock.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
