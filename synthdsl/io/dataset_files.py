"""The files of one dataset: its rows, their provenance beside them, a ``datasets`` folder.

Input: the data file's path (``dataset.jsonl``, ``openai.jsonl``, ``x.parquet``), the
format (``jsonl``, ``parquet``, or ``hf``: JSONL plus a ``save_to_disk`` folder named
like the file without its suffix, ``dataset/``) and the provenance placement
(``synthdsl.io.provenance``). Output: ``write(row, provenance)`` adds ``_provenance`` to
the row (``inline``), a line to ``<stem>.provenance.jsonl`` (``beside``; the file is made
at the first row that has provenance), or nothing (``none``); ``close()`` publishes
every file atomically (each is written under a temporary name and moved into place;
the folder is built last, from the published JSONL); ``close_partial(path)`` publishes
the rows and their provenance under ``path`` instead (an unfinished run: no folder);
``abort()`` discards everything.

Raises ``SinkError`` (see ``synthdsl.io.writers`` and ``synthdsl.io.hf_dataset``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from synthdsl.io.hf_dataset import require_datasets, write_hf_dataset
from synthdsl.io.json_text import SinkError
from synthdsl.io.output_facts import FirstRows
from synthdsl.io.provenance import beside_path
from synthdsl.io.row_sample import RowSample
from synthdsl.io.writers import JsonlWriter, open_writer

__all__ = ["DATASET_FORMATS", "DatasetFiles"]

DATASET_FORMATS = ("jsonl", "parquet", "hf")


class DatasetFiles:
    """See the module docstring."""

    def __init__(self, path: Path, fmt: str, provenance: str) -> None:
        if fmt not in DATASET_FORMATS:
            raise SinkError(
                f"unknown output format {fmt!r}; expected one of {', '.join(DATASET_FORMATS)}"
            )
        self.path = Path(path)
        self.format = fmt
        self.placement = provenance
        self.provenance_path = beside_path(self.path)
        self.folder = self.path.with_suffix("") if fmt == "hf" else None
        if self.folder is not None:
            require_datasets()  # missing, it stops the run before any call is made
        self.rows = 0
        self.sample = RowSample()  # what the dataset card measures, taken as rows are written
        self.first = FirstRows()  # the report's first rows by record id, likewise
        self._rows = open_writer(self.path, "jsonl" if fmt == "hf" else fmt)
        self._beside: JsonlWriter | None = None

    def write(self, row: dict[str, Any], provenance: dict[str, Any] | None) -> None:
        if provenance is not None:
            if self.placement == "inline":
                row = {**row, "_provenance": provenance}
            elif self.placement == "beside":
                if self._beside is None:
                    self._beside = JsonlWriter(self.provenance_path)
                self._beside.write({"row": self.rows, "provenance": provenance})
        self._rows.write(row)
        self.sample.add(row)
        self.first.add(row)
        self.rows += 1

    def write_block(self, rows: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> None:
        """``write(dict(row), provenance)`` for each pair: the rows are copied (or
        extended with ``_provenance`` into a new dict), never changed; JSON lines with
        provenance inline are encoded and written together."""
        writer = self._rows
        if self.placement != "inline" or not isinstance(writer, JsonlWriter):
            for row, provenance in rows:
                self.write(dict(row), provenance)
            return
        out = [
            dict(row) if provenance is None else {**row, "_provenance": provenance}
            for row, provenance in rows
        ]
        writer.write_many(out)
        add = self.sample.add
        for row in out:
            add(row)
        ids = [p["id"] for _, p in rows if p is not None]
        if len(ids) == len(out) and all(type(i) is str for i in ids):
            self.first.add_block(out, ids)
        else:
            for row in out:
                self.first.add(row)
        self.rows += len(out)

    def flush(self) -> None:
        self._rows.flush()
        if self._beside is not None:
            self._beside.flush()

    def close(self) -> None:
        """Publish the rows, their provenance and (format hf) the folder."""
        self._rows.close()
        if self._beside is not None:
            self._beside.close()
        if self.folder is not None:
            write_hf_dataset(self.path, self.folder)

    def close_partial(self, path: Path) -> None:
        """Publish the rows written so far at ``path`` (their provenance beside it)."""
        self._rows.close()
        if self._beside is not None:
            self._beside.close()
        try:
            if self.path.exists():
                os.replace(self.path, path)
            if self.provenance_path.exists():
                os.replace(self.provenance_path, beside_path(path))
        except OSError as exc:
            raise SinkError(f"cannot write {path}: {exc}") from exc

    def abort(self) -> None:
        self._rows.abort()
        if self._beside is not None:
            self._beside.abort()
