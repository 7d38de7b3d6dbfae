"""What each step did to each record: the trace ``synthdsl preview`` prints.

Input: ``RecordEvent``s, one per record a node hands on (``passed``), drops (with the
reason) and fails (with the error), reported by the executor (``run/executor.py``) to
``RunOptions.on_record`` as they happen. Output: ``Trace.steps()``, one ``Step`` per
event, grouped by the source row each record descends from (rows in the order they were
read, a row's steps in the order they happened), each with the fields the step added
and the fields it changed against the record it was made from. Raises nothing.

A record's "before" is the last data seen under its own id (a filter hands on the
record it took) or, for a new record, its first parent's; a source row has none, so
every field is added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from synthdsl.records import Record

__all__ = ["RecordEvent", "Step", "Trace"]

Status = Literal["passed", "dropped", "failed"]


@dataclass(frozen=True)
class RecordEvent:
    """A node handed ``record`` on (``passed``), dropped it (``why``: the reason) or
    failed it (``why``: the error kind, ``error``: the message)."""

    node: str
    status: Status
    record: Record
    why: str | None = None
    error: str | None = None


@dataclass
class Step:
    """One event with what it did to the record."""

    row: int  # which source row (0, 1, ...) the record descends from
    node: str
    status: Status
    record: str
    added: dict[str, Any] = field(default_factory=dict)
    changed: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "record": self.record,
            "row": self.row,
            "node": self.node,
            "status": self.status,
            "added": self.added,
            "changed": self.changed,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        if self.error is not None:
            out["error"] = self.error
        return out


class Trace:
    """Collects events (``add``, a ``RunOptions.on_record``) and derives the steps."""

    def __init__(self) -> None:
        self._steps: list[Step] = []
        self._seen: dict[str, dict[str, Any]] = {}
        self._root: dict[str, int] = {}
        self._rows = 0

    def add(self, event: RecordEvent) -> None:
        rec = event.record
        row = self._row_of(rec)
        if event.status != "passed":
            self._steps.append(
                Step(row, event.node, event.status, rec.id, reason=event.why, error=event.error)
            )
            return
        before = self._seen.get(rec.id)
        if before is None and rec.parents:
            before = self._seen.get(rec.parents[0])
        before = before or {}
        data = dict(rec.data)
        added = {k: v for k, v in data.items() if k not in before}
        changed = {k: v for k, v in data.items() if k in before and before[k] != v}
        self._seen[rec.id] = data
        self._steps.append(Step(row, event.node, "passed", rec.id, added, changed))

    def _row_of(self, rec: Record) -> int:
        row = self._root.get(rec.id)
        if row is None:
            parent = next((self._root[p] for p in rec.parents if p in self._root), None)
            if parent is None:
                row, self._rows = self._rows, self._rows + 1
            else:
                row = parent
            self._root[rec.id] = row
        return row

    def steps(self) -> list[Step]:
        """Every step, row by row, each row's in the order they happened."""
        return sorted(self._steps, key=lambda s: s.row)  # stable: keeps the order within
