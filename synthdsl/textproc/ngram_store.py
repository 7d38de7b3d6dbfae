"""Reference sets on disk, keyed by content: built once, reused by every later run.

Input: a reference's items (label, texts), ``NgramSettings`` and a folder. Output:
``reference_set(items, settings, folder)`` → ``(ReferenceSet, built)``, where ``built``
says whether it was made now (False: read back from ``<folder>/<key>.npz``). The key is
a BLAKE2b digest of the settings and every item's label and texts, so an edited
reference or other settings make a new file, and an unchanged one is never rebuilt.
``default_folder()`` is ``ngrams/`` beside the call cache (``$SYNTHDSL_CACHE``'s folder,
else ``.synthdsl/``). Files are written atomically (temporary file, then rename) and
read without pickle; a file that does not read back is rebuilt. Raises ``OSError`` only
when the folder cannot be written (the caller decides what that means).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from synthdsl.textproc.cache_folders import beside_call_cache
from synthdsl.textproc.ngrams import NgramSettings, ReferenceSet

__all__ = ["FORMAT", "content_key", "default_folder", "reference_set"]

FORMAT = "synthdsl-ngrams-1"  # in the key: a new layout never reads an old file


def default_folder() -> Path:
    """``ngrams/`` beside the call cache (``$SYNTHDSL_CACHE``), else ``.synthdsl/ngrams``."""
    return beside_call_cache("ngrams")


def content_key(items: Sequence[tuple[str, Sequence[str]]], settings: NgramSettings) -> str:
    """The digest naming a reference set's file: format, settings, labels and texts."""
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{FORMAT}\0{settings.key()}\0".encode())
    for label, texts in items:
        h.update(f"\x1e{len(label)}:{label}".encode())
        for text in texts:
            data = text.encode("utf-8", "surrogatepass")
            h.update(f"\x1f{len(data)}:".encode())
            h.update(data)
    return h.hexdigest()


def _load(path: Path, settings: NgramSettings) -> ReferenceSet | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            hashes = data["hashes"].astype(np.uint64, copy=False)
            items = data["items"].astype(np.int32, copy=False)
            labels = [str(x) for x in data["labels"]]
    except (OSError, ValueError, KeyError):
        return None
    if len(hashes) != len(items) or (len(items) and int(items.max()) >= len(labels)):
        return None
    return ReferenceSet(settings, hashes, items, labels)


def _save(path: Path, ref: ReferenceSet) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(
                fh,
                hashes=ref.hashes,
                items=ref.items,
                labels=np.array(ref.labels, dtype=str),
            )
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def reference_set(
    items: Sequence[tuple[str, Sequence[str]]], settings: NgramSettings, folder: Path
) -> tuple[ReferenceSet, bool]:
    """The reference set of ``items``, from ``folder`` when already built there."""
    path = folder / f"{content_key(items, settings)}.npz"
    if path.is_file():
        found = _load(path, settings)
        if found is not None:
            return found, False
    ref = ReferenceSet.build(items, settings)
    _save(path, ref)
    return ref, True
