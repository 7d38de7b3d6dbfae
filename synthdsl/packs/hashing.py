"""The content hash of a pack folder: what the lock records and the use-time check compares.

Input: a folder. Output: ``sha256:<hex>`` over every file under it, in the order of their
sorted relative POSIX paths: for each, the path, a NUL, the SHA-256 of its bytes and a
newline (a symbolic link counts as ``link:`` + its target, so replacing a file by a link
changes the hash). Empty folders do not count; ``INSTALL_RECORD`` (where ``pack install``
notes the source) is left out. Raises ``OSError`` for an unreadable file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["INSTALL_RECORD", "content_hash", "pack_files"]

INSTALL_RECORD = ".synthdsl-install.json"


def pack_files(folder: Path) -> list[str]:
    """Relative POSIX paths of the files and links under ``folder``, sorted."""
    out: list[str] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        rel_root = Path(root).relative_to(folder)
        for name in files + [d for d in dirs if (Path(root) / d).is_symlink()]:
            rel = (rel_root / name).as_posix()
            if rel != INSTALL_RECORD:
                out.append(rel)
    return sorted(out)


def content_hash(folder: Path) -> str:
    """``sha256:<hex>`` of the files under ``folder`` (see the module docstring)."""
    total = hashlib.sha256()
    for rel in pack_files(folder):
        path = folder / rel
        if path.is_symlink():
            digest = "link:" + os.readlink(path)
        else:
            h = hashlib.sha256()
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 16), b""):
                    h.update(chunk)
            digest = h.hexdigest()
        total.update(rel.encode("utf-8") + b"\0" + digest.encode("ascii") + b"\n")
    return "sha256:" + total.hexdigest()
