"""The files a source names: folder walking, glob matching, and a cheap fingerprint.

Input: a source path (a file or a folder), optionally a forced format and a glob.
Output: ``source_files`` (the files read, in reading order) and ``source_fingerprint``
(a hash of the files' names, sizes and modification times, for manifests).

A folder is walked recursively in sorted order (hidden files and folders skipped;
symlinked folders are not entered, linked files are); without ``glob`` every file with
a known extension is read, with ``glob`` every matching file (a pattern without ``/``
matches file names, one with ``/`` the path relative to the folder).

Raises ``SourceError``: a missing path, a path that is neither a file nor a folder, an
unknown format name, and (fingerprint) a file that cannot be stat'ed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

from synthdsl.io.readers.base import SourceError, check_fmt, detect_format

__all__ = ["source_files", "source_fingerprint"]


def _glob_matches(rel: PurePosixPath, pattern: str) -> bool:
    if "/" not in pattern:
        return fnmatchcase(rel.name, pattern)
    text = rel.as_posix()
    return fnmatchcase(text, pattern) or fnmatchcase(text, pattern.replace("**/", ""))


def _walk(root: Path) -> Iterator[Path]:
    """Every non-hidden file under ``root`` (symlinked folders are not entered; linked
    files are). Callers sort the result by ``_sort_key``."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def _sort_key(root: Path, path: Path) -> tuple[str, ...]:
    return path.relative_to(root).parts


def source_files(path: Path, *, fmt: str = "auto", glob: str | None = None) -> list[Path]:
    """The files a source reads, in reading order. Raises SourceError when missing."""
    check_fmt(fmt)
    path = Path(path)
    if path.is_dir():
        files = []
        for file in _walk(path):
            rel = PurePosixPath(file.relative_to(path).as_posix())
            if glob is not None:
                if _glob_matches(rel, glob):
                    files.append(file)
            elif detect_format(file) is not None:
                files.append(file)
        return sorted(files, key=lambda f: _sort_key(path, f))
    if path.is_file():
        return [path]
    if path.exists():
        raise SourceError(f"{path}: not a regular file or folder")
    raise SourceError(f"{path}: no such file or folder")


def source_fingerprint(path: Path) -> str:
    """A cheap identity of a source: sha256 over (path, size, mtime_ns) of its files.

    For a folder, every non-hidden file under it counts (not only the ones read), with
    paths relative to the folder. No file content is read. Raises SourceError when the
    path is missing.
    """
    path = Path(path)
    entries: list[list[Any]] = []
    try:
        if path.is_dir():
            for file in sorted(_walk(path), key=lambda f: _sort_key(path, f)):
                st = file.stat()
                entries.append([file.relative_to(path).as_posix(), st.st_size, st.st_mtime_ns])
        else:
            st = path.stat()
            entries.append([path.name, st.st_size, st.st_mtime_ns])
    except FileNotFoundError as exc:
        raise SourceError(f"{path}: no such file or folder") from exc
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc}") from exc
    payload = json.dumps([str(path), entries], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
