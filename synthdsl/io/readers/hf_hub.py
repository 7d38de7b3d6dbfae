"""``hf:`` sources: a dataset read through ``datasets.load_dataset``, streamed.

Input: what ``hf:`` names, a Hub dataset (``org/name``) or a local dataset folder
(already resolved against the recipe's folder by the caller, see ``hf_target``), with
the optional ``split``, ``revision`` (a Hub branch, tag or commit), ``config`` (a
configuration name, e.g. one of a folder's ``configs:`` in its README.md) and
``columns`` (the fields kept, in that order). Output: ``HubSource`` (an iterable of
``dict`` rows, re-readable; ``datasets`` streams, so memory does not grow with the
dataset and nothing is downloaded whole), ``hub_fields`` (the fields of the first
rows, memoised, for ``validate``) and ``hf_target`` (a local path or a Hub name, from
the value a recipe wrote). ``datasets`` is imported on first read, never at import.

Raises ``SourceError``: ``datasets`` not installed (naming ``pip install
"synthdsl[hf]"``), a Hub name that is also a path from the current folder (``datasets``
would read that folder, past the recipe's read boundary), a dataset script (no longer
run by ``datasets`` 4 and later), a dataset, configuration or revision that cannot be
found (offline: one that is not in the cache), several splits and no ``split`` (or an
unknown one; both list the splits), columns the dataset does not have (listing those it
has), and any error ``datasets`` raises while reading, with its message.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthdsl.io.readers.base import SourceError
from synthdsl.io.readers.hf_disk import pick_split

__all__ = [
    "HF_INSTALL",
    "HubSource",
    "datasets_available",
    "hf_target",
    "hub_fields",
    "is_hub_name",
]

HF_INSTALL = 'pip install "synthdsl[hf]"'
_HUB_NAME = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")
_LOCAL_PREFIXES = ("./", "../", "/", "~")


def is_hub_name(value: str) -> bool:
    """Whether ``value`` has the shape of a Hub dataset id (``name`` or ``org/name``)."""
    return _HUB_NAME.fullmatch(value) is not None and ".." not in value


def hf_target(value: str, base_dir: Path) -> Path | str:
    """The local path ``value`` names (relative to ``base_dir``, ``~`` expanded), when
    it starts like a path, ends in ``.py`` or exists there; else the Hub name itself."""
    written = Path(value).expanduser()
    local = written if written.is_absolute() else base_dir / written
    if value.startswith(_LOCAL_PREFIXES) or value.endswith(".py") or local.exists():
        return local
    return value


def _datasets() -> Any:
    try:
        # By name, on first read: datasets is optional, untyped and slow to import.
        return importlib.import_module("datasets")
    except ImportError as exc:
        raise SourceError(f"hf: sources need the datasets library: {HF_INSTALL}") from exc


def datasets_available() -> bool:
    """Whether the ``datasets`` library can be imported (it is, then)."""
    try:
        _datasets()
    except SourceError:
        return False
    return True


class HubSource:
    """The rows of an ``hf:`` source, streamed; each ``iter()`` reads from the start."""

    def __init__(
        self,
        target: Path | str,
        *,
        split: str | None = None,
        revision: str | None = None,
        config: str | None = None,
        columns: tuple[str, ...] | None = None,
        limit: int | None = None,
    ) -> None:
        self.target = target
        self.split = split
        self.revision = revision
        self.config = config
        self.columns = columns
        self.limit = limit
        self.rows_read = 0

    @property
    def label(self) -> str:
        """How messages name the dataset."""
        return f"hf: {self.target}" + (f" (config {self.config})" if self.config else "")

    def _open(self) -> Any:
        """The streamed split, its columns selected."""
        if isinstance(self.target, Path) and self.target.suffix == ".py":
            raise SourceError(
                f"{self.label}: dataset scripts are not run (datasets 4 and later "
                "refuse them); point hf: at a folder of data files or a saved dataset"
            )
        if isinstance(self.target, str) and Path(self.target).exists():
            raise SourceError(
                f"{self.label}: the current folder has a {self.target!r}, which datasets "
                "would read instead of the Hub dataset; run from elsewhere, or write "
                "hf: ./PATH for a folder beside the recipe"
            )
        datasets = _datasets()
        try:
            splits = datasets.load_dataset(
                str(self.target), self.config, revision=self.revision, streaming=True
            )
        except Exception as exc:  # datasets raises many types; each is this source's error
            raise SourceError(f"{self.label}: cannot open: {exc}") from exc
        name = pick_split(list(splits), self.split, self.label)
        ds = splits[name]
        if self.columns is not None and ds.column_names is not None:
            missing = [c for c in self.columns if c not in ds.column_names]
            if missing:
                raise SourceError(
                    f"{self.label}: no column {', '.join(missing)}; "
                    f"its columns: {', '.join(ds.column_names)}"
                )
            ds = ds.select_columns(list(self.columns))
        return ds

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.rows_read = 0
        if self.limit == 0:
            return
        rows = iter(self._open())
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # a bad shard or a lost connection, as datasets says it
                raise SourceError(f"{self.label}: cannot read: {exc}") from exc
            yield _selected(row, self.columns, self.label)
            self.rows_read += 1
            if self.limit is not None and self.rows_read >= self.limit:
                return


def _selected(row: dict[str, Any], columns: tuple[str, ...] | None, label: str) -> dict[str, Any]:
    """``row`` with only ``columns`` (when the dataset did not know its columns ahead)."""
    if columns is None:
        return dict(row)
    missing = [c for c in columns if c not in row]
    if missing:
        raise SourceError(f"{label}: no column {', '.join(missing)}; its columns: {', '.join(row)}")
    return {c: row[c] for c in columns}


@functools.lru_cache(maxsize=32)
def hub_fields(
    target: Path | str,
    split: str | None,
    revision: str | None,
    config: str | None,
    columns: tuple[str, ...] | None,
    sample: int = 20,
) -> tuple[str, ...]:
    """The field names of the first ``sample`` rows, in order of first appearance.
    Memoised for the process: ``validate`` and the field checks ask the same."""
    seen: dict[str, None] = {}
    reader = HubSource(
        target, split=split, revision=revision, config=config, columns=columns, limit=sample
    )
    for row in reader:
        seen.update(dict.fromkeys(row))
    return tuple(seen)
