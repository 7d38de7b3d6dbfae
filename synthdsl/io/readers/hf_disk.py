"""Folders written by ``datasets``' ``save_to_disk``: which Arrow shards to read.

Input: a folder and, for a ``DatasetDict`` folder, the split wanted. A ``Dataset``
folder holds ``state.json`` (its shards under ``_data_files``, in order),
``dataset_info.json`` and ``data-NNNNN-of-NNNNN.arrow`` shards; a ``DatasetDict``
folder holds ``dataset_dict.json`` (``{"splits": [...]}``) and one ``Dataset`` folder
per split. Output: ``disk_kind`` (``"dataset"``, ``"dict"`` or None for any other
folder), ``disk_splits`` (a ``DatasetDict``'s split names) and ``disk_shards`` (the
shard files of a folder, for the split asked; read with ``arrow_file``). No
``datasets`` import: the layout is read from its JSON files.

Raises ``SourceError``: unreadable or malformed ``state.json``/``dataset_dict.json``, a
shard listed but missing, a ``DatasetDict`` read without a split (one split is taken
as it is) or with a split it does not have (both messages list the splits), and a
split asked of a folder that has none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from synthdsl.io.readers.base import SourceError

__all__ = ["DiskKind", "disk_kind", "disk_shards", "disk_splits", "pick_split"]

DiskKind = Literal["dataset", "dict"]
_STATE = "state.json"
_DICT = "dataset_dict.json"


def disk_kind(folder: Path) -> DiskKind | None:
    """What ``folder`` holds: a saved ``Dataset``, a saved ``DatasetDict``, or neither."""
    if not folder.is_dir():
        return None
    if (folder / _DICT).is_file():
        return "dict"
    if (folder / _STATE).is_file():
        return "dataset"
    return None


def _load(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourceError(f"{file}: cannot read: {exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceError(f"{file}: not valid JSON: {exc}") from exc


def disk_splits(folder: Path) -> list[str]:
    """The split names of a saved ``DatasetDict``, in the order it lists them."""
    file = folder / _DICT
    splits = _load(file)
    names = splits.get("splits") if isinstance(splits, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise SourceError(f'{file}: expected {{"splits": [names]}}')
    return list(names)


def pick_split(splits: list[str], split: str | None, what: str) -> str:
    """The split to read among ``splits``: the one asked, else the only one."""
    listed = ", ".join(splits) or "none"
    if split is None:
        if len(splits) == 1:
            return splits[0]
        raise SourceError(f"{what} has several splits ({listed}); say which with split: NAME")
    if split not in splits:
        raise SourceError(f"{what} has no split {split!r}; its splits: {listed}")
    return split


def disk_shards(folder: Path, split: str | None = None) -> list[Path]:
    """The Arrow shards of a saved ``Dataset`` folder, or of one split of a saved
    ``DatasetDict`` folder, in order."""
    kind = disk_kind(folder)
    if kind == "dict":
        name = pick_split(disk_splits(folder), split, f"{folder} (a saved DatasetDict)")
        folder = folder / name
    elif split is not None:
        raise SourceError(f"{folder}: a saved Dataset has no splits; remove split: {split}")
    state = _load(folder / _STATE)
    files = state.get("_data_files") if isinstance(state, dict) else None
    if not isinstance(files, list) or not all(
        isinstance(f, dict) and isinstance(f.get("filename"), str) for f in files
    ):
        raise SourceError(f"{folder / _STATE}: expected _data_files: [{{filename: ...}}]")
    shards = [folder / f["filename"] for f in files]
    root = folder.resolve()
    for shard in shards:
        if root not in shard.resolve().parents:
            raise SourceError(f"{folder / _STATE}: shard {shard} is outside its folder")
        if not shard.is_file():
            raise SourceError(f"{shard}: shard listed in {_STATE} is missing")
    return shards
