"""A run's batch state: what it submitted to batch APIs, kept so a re-run pays nothing twice.

Input: the output folder's ``.batches/`` (outside the attempt folder: it survives a
killed run) and the call cache. Output: a ``BatchLedger`` (``llm/batch_support.py``)
for the provider pool: each batch's request lines in ``<n>.jsonl`` (written and synced
before the upload; ``custom_id`` is the line's cache key), and ``journal.jsonl``, one
event per line (prepared, uploaded, submitted, state, collected), synced as written;
every answer goes into the call cache as it is downloaded. ``unfinished`` gives a
re-run the batches it must collect instead of submitting; ``summary()`` the batches
this run submitted or collected, for the manifest; ``finish`` removes the folder once
nothing is left to collect. Raises ``RunError`` when the folder cannot be written; an
unreadable journal line is skipped (the batch it names is then submitted again).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthdsl.errors import RunError
from synthdsl.llm.batch_support import LedgerEntry
from synthdsl.llm.types import LLMResponse
from synthdsl.run.cache import CallCache

__all__ = ["BATCH_DIR", "BatchState"]

BATCH_DIR = ".batches"
_JOURNAL = "journal.jsonl"


@dataclass
class _Batch:
    local: str
    model: str
    api_base: str
    lines: int
    file_id: str | None = None
    batch_id: str | None = None
    status: str = "prepared"
    counts: dict[str, int] = field(default_factory=dict)
    created: float | None = None  # when submitted (epoch seconds)
    ended: float | None = None
    outcome: str | None = None  # set once collected (or abandoned)


class BatchState:
    """The ledger of one output folder's batches (see the module docstring)."""

    def __init__(self, folder: Path, cache: CallCache | None) -> None:
        self.folder = folder
        self._cache = cache
        self._batches: dict[str, _Batch] = {}
        self._touched: list[str] = []  # this run's batches, in the order it met them
        self._read()

    def _read(self) -> None:
        try:
            text = (self.folder / _JOURNAL).read_text("utf-8")
        except OSError:
            return
        for raw in text.splitlines():
            try:
                event = json.loads(raw)
                self._apply(event)
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line of a killed run

    def _apply(self, event: Mapping[str, Any]) -> None:
        local = str(event["local"])
        what = event["event"]
        if what == "prepared":
            self._batches[local] = _Batch(
                local, str(event["model"]), str(event["api_base"]), int(event["lines"])
            )
            return
        b = self._batches[local]
        if what == "uploaded":
            b.file_id = str(event["file_id"])
        elif what == "submitted":
            b.batch_id = str(event["batch_id"])
            b.created = b.created or float(event["at"])
            b.status = "submitted"
        elif what == "state":
            b.status = str(event["status"])
            b.counts = {k: int(v) for k, v in dict(event["counts"]).items()}
            if b.status in ("completed", "expired", "cancelled", "failed"):
                b.ended = float(event["at"])
        elif what == "collected":
            b.outcome = str(event["outcome"])

    def _write(self, event: dict[str, Any]) -> None:
        event["at"] = round(time.time(), 3)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with (self.folder / _JOURNAL).open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(event, ensure_ascii=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise RunError(f"cannot write the batch state in {self.folder}: {exc}") from None
        self._apply(event)
        local = str(event["local"])
        if local not in self._touched:
            self._touched.append(local)

    # -- the ledger ------------------------------------------------------------------

    def prepared(self, model: str, api_base: str, data: bytes, keys: Sequence[str]) -> str:
        local = f"{len(self._batches) + 1:05d}"
        while local in self._batches or (self.folder / f"{local}.jsonl").exists():
            local = f"{int(local) + 1:05d}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with (self.folder / f"{local}.jsonl").open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise RunError(f"cannot write the batch state in {self.folder}: {exc}") from None
        self._write(
            {
                "event": "prepared",
                "local": local,
                "model": model,
                "api_base": api_base,
                "lines": len(keys),
            }
        )
        return local

    def uploaded(self, local: str, file_id: str) -> None:
        self._write({"event": "uploaded", "local": local, "file_id": file_id})

    def submitted(self, local: str, batch_id: str) -> None:
        if self._batches[local].batch_id != batch_id:
            self._write({"event": "submitted", "local": local, "batch_id": batch_id})

    def state(self, local: str, status: str, counts: Mapping[str, int]) -> None:
        b = self._batches[local]
        if status != b.status or dict(counts) != b.counts:
            self._write({"event": "state", "local": local, "status": status, "counts": counts})

    def answered(self, key: str, response: LLMResponse) -> None:
        if self._cache is not None and not self._cache.closed:
            self._cache.put(key, response, defer=True)

    def collected(self, local: str, outcome: str) -> None:
        if self._cache is not None and not self._cache.closed:
            self._cache.commit()  # the answers are durable before the batch is let go
        self._write({"event": "collected", "local": local, "outcome": outcome})

    def unfinished(self, model: str, api_base: str) -> list[LedgerEntry]:
        out = []
        for b in self._batches.values():
            if b.outcome is not None or b.model != model or b.api_base != api_base:
                continue
            out.append(LedgerEntry(b.local, self._keys(b.local), b.file_id, b.batch_id))
            if b.local not in self._touched:
                self._touched.append(b.local)
        return out

    def _keys(self, local: str) -> tuple[str, ...]:
        """The custom ids (cache keys) of a batch's request lines."""
        try:
            text = (self.folder / f"{local}.jsonl").read_text("utf-8")
        except OSError:
            return ()
        keys = []
        for raw in text.splitlines():
            try:
                keys.append(str(json.loads(raw)["custom_id"]))
            except (ValueError, KeyError, TypeError):
                continue
        return tuple(keys)

    # -- the run's view ----------------------------------------------------------------

    def summary(self) -> list[dict[str, Any]]:
        """The batches this run submitted or collected: id, model, state, lines, counts,
        wall time from submission to the end (so far, while it runs)."""
        out = []
        now = time.time()
        for local in self._touched:
            b = self._batches[local]
            end = b.ended if b.ended is not None else now
            out.append(
                {
                    "id": b.batch_id,
                    "local": b.local,
                    "model": b.model,
                    "state": b.status,
                    "collected": b.outcome is not None,
                    "lines": b.lines,
                    "completed": b.counts.get("completed", 0),
                    "failed": b.counts.get("failed", 0),
                    "wall_s": round(end - b.created, 3) if b.created is not None else None,
                }
            )
        return out

    def finish(self) -> None:
        """Remove the folder when every batch in it is collected."""
        if all(b.outcome is not None for b in self._batches.values()):
            shutil.rmtree(self.folder, ignore_errors=True)
