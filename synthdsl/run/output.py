"""The ``sink``: write the output node's records as the dataset.

Input: records from the output node. Output: ``dataset.jsonl`` (or ``.parquet``; with
``format: hf`` also the ``datasets`` folder ``dataset/``) in the run directory, in the
recipe's shape, with provenance placed by the one rule of ``synthdsl.io.provenance``
(``records`` inline, training shapes in ``dataset.provenance.jsonl``). Shaping is
``synthdsl.io.shaped_output.ShapedOutput``, the same path ``save-as`` takes. The files
appear atomically when the run completes; an interrupted run leaves
``dataset.partial.jsonl`` (and its provenance) with what was written (all in the attempt
folder, which the session publishes into the output folder at the end). A record that
cannot take the shape (a missing field, turns that do not alternate) is a recorded
failure of the ``output`` node, kind ``shape``; a record left out of a preference pair
(``pairs_from``) a recorded drop with its reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from synthdsl.io.dataset_files import DatasetFiles
from synthdsl.io.shaped_output import ShapedOutput
from synthdsl.ir import OutputDecl
from synthdsl.records import Record
from synthdsl.run.context import RunContext

__all__ = ["OUTPUT_NODE", "DatasetSink"]

OUTPUT_NODE = "output"


class _Accounting:
    """``OutputEvents`` for records: the output node's stats and the rejects."""

    def __init__(self, rt: RunContext) -> None:
        self.rt = rt
        self.stats = rt.node_stats(OUTPUT_NODE, "sink")

    def kept(self, item: Record) -> None:
        self.stats.passed += 1
        if "target" in item.meta:  # what ``GroupTally`` counts
            self.rt.tally.kept(item)

    def dropped(self, item: Record, reason: str) -> None:
        self.stats.dropped[reason] += 1
        self.rt.tally.dropped(item, reason)
        if self.rt.rejects is not None:
            self.rt.rejects.write(OUTPUT_NODE, "dropped", reason, item)

    def failed(self, item: Record, error: str) -> None:
        self.stats.failed["shape"] += 1
        self.rt.tally.failed(item, "shape")
        self.rt.failed(OUTPUT_NODE, "shape", error)
        if self.rt.rejects is not None:
            self.rt.rejects.write(OUTPUT_NODE, "failed", "shape", item, error=error)


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
        self.files = DatasetFiles(self._work_path, decl.format, decl.provenance)
        self.accounting = _Accounting(rt)
        self.stats = self.accounting.stats
        self.output: ShapedOutput[Record] = ShapedOutput(decl, self.files, self.accounting)

    @property
    def written(self) -> int:
        return self.output.written

    async def consume(self, records: AsyncIterator[Record]) -> None:
        self.stats.start()
        try:
            blocks = getattr(records, "blocks", None)  # the executor's ``RecordStream``
            if blocks is not None:
                async for block in blocks():
                    self.stats.records_in += len(block)
                    self.output.add_block([(rec, rec.data, rec.provenance()) for rec in block])
                    self.stats.out = self.output.written
            else:
                async for rec in records:
                    self.stats.records_in += 1
                    self.output.add(rec, rec.data, rec.provenance())
                    self.stats.out = self.output.written
            self.output.finish()
        finally:
            self.stats.out = self.output.written
            self.stats.finish()

    def close(self, completed: bool) -> None:
        """Finish the files; an unfinished run keeps its rows as ``dataset.partial.*``."""
        if completed:
            self.files.close()
        else:
            self.files.close_partial(self._work_partial)
