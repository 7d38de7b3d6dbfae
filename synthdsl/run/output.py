"""The ``sink``: write the output node's records as the dataset.

Input: records from the output node. Output: ``dataset.jsonl`` (or ``.parquet``) in the
run directory, in the recipe's shape (``records`` keeps fields plus ``_provenance``;
``openai``, ``chatml``, ``alpaca`` and ``sharegpt`` are fine-tuning formats). The file
appears atomically when the run completes; an interrupted run leaves
``dataset.partial.jsonl`` with what was written (both in the attempt folder, which the
session publishes into the output folder at the end). A record that cannot take the shape
(a missing field) is a recorded failure of the ``output`` node.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from synthdsl.io.chat import to_format
from synthdsl.io.writers import open_writer
from synthdsl.ir import OutputDecl
from synthdsl.records import Record
from synthdsl.run.context import RunContext

__all__ = ["OUTPUT_NODE", "DatasetSink"]

OUTPUT_NODE = "output"


class DatasetSink:
    """Writes into ``work_dir`` (the run's attempt folder, ``run/attempt.py``; default
    ``out_dir``); ``path`` and ``partial_path`` name the files in ``out_dir``, where the
    attempt's files land when it is published."""

    def __init__(
        self, decl: OutputDecl, out_dir: Path, rt: RunContext, work_dir: Path | None = None
    ) -> None:
        self.decl = decl
        self.rt = rt
        self.format = decl.format
        suffix = "parquet" if decl.format == "parquet" else "jsonl"
        self.path = out_dir / f"dataset.{suffix}"
        self.partial_path = out_dir / f"dataset.partial.{suffix}"
        work = work_dir or out_dir
        self._work_path = work / self.path.name
        self._work_partial = work / self.partial_path.name
        for stale in (self._work_path, self._work_partial):
            if stale.exists():
                stale.unlink()
        self.writer = open_writer(self._work_path, decl.format)
        self.written = 0
        self.stats = rt.node_stats(OUTPUT_NODE, "sink")

    def shape(self, rec: Record) -> dict[str, Any]:
        data = rec.data
        if self.decl.fields is not None:
            data = {k: data[k] for k in self.decl.fields if k in data}
            missing = [k for k in self.decl.fields if k not in rec.data]
            if missing:
                raise KeyError(f"record has no field '{missing[0]}'")
        if self.decl.shape == "records":
            row = dict(data)
            if self.decl.provenance:
                row["_provenance"] = rec.provenance()
            return row
        row = to_format(
            data,
            self.decl.shape,
            instruction_field=self.decl.instruction_field,
            input_field=self.decl.input_field,
            response_field=self.decl.response_field,
            system=self.decl.system,
        )
        if self.decl.provenance:
            row["_provenance"] = rec.provenance()
        return row

    async def consume(self, records: AsyncIterator[Record]) -> None:
        self.stats.start()
        try:
            async for rec in records:
                self.stats.records_in += 1
                try:
                    row = self.shape(rec)
                except Exception as exc:  # shape errors are per-record failures
                    self.stats.failed["shape"] += 1
                    self.rt.failed(OUTPUT_NODE, "shape", str(exc))
                    if self.rt.rejects is not None:
                        self.rt.rejects.write(OUTPUT_NODE, "failed", "shape", rec, error=str(exc))
                    continue
                self.writer.write(row)
                self.written += 1
                self.stats.passed += 1
                self.stats.out += 1
        finally:
            self.stats.finish()

    def close(self, completed: bool) -> None:
        """Finish the file; an unfinished run keeps its rows as ``dataset.partial.*``."""
        self.writer.close()
        if not completed and self._work_path.exists():
            os.replace(self._work_path, self._work_partial)
