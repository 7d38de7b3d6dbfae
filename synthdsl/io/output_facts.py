"""What a run's report takes from its dataset and rejects, gathered as they are written.

Input: dataset rows, one at a time or a block at a time, in file order, as the dataset
writer writes them (``FirstRows``); rejects rows as the rejects writer writes them
(``RejectGroups``). Output: the first ``MAX_EXAMPLES`` dataset rows by record id, and the
rejects grouped by (node, status, reason) with each group's count and first rows.

The report (``report/data.py``) fills the same two objects while it reads a run's files
back; a run fills them while it writes, and hands them over (``OutputFacts``), so that
the report of a million-row run does not parse a million lines again. The rows kept
here are the objects written; ``OutputFacts.settled`` turns them into what reading the
file back gives (one JSON round trip each, a few hundred rows). Errors: none.
"""

from __future__ import annotations

import bisect
import heapq
import json
from dataclasses import dataclass, field
from typing import Any

from synthdsl.io.json_text import dumps
from synthdsl.io.row_sample import RowSample

__all__ = ["MAX_EXAMPLES", "MAX_GROUPS", "FirstRows", "OutputFacts", "RejectGroup", "RejectGroups"]

MAX_EXAMPLES = 3  # rows shown per reject group, and first dataset rows kept
MAX_GROUPS = 500  # reject groups kept apart; the rest count as "(other)"

_FirstKey = tuple[bool, str, int]


@dataclass
class RejectGroup:
    """Rejects of one (node, status, reason): how many, and the first few rows."""

    node: str
    status: str
    reason: str
    count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)


class FirstRows:
    """The ``MAX_EXAMPLES`` dataset rows with the smallest record ids (``_provenance.id``;
    rows without one after, by position)."""

    def __init__(self) -> None:
        self.seen = 0
        self._first: list[tuple[_FirstKey, dict[str, Any]]] = []

    def add(self, row: dict[str, Any]) -> None:
        prov = row.get("_provenance")
        rid = prov.get("id") if isinstance(prov, dict) else None
        key = (not isinstance(rid, str), rid if isinstance(rid, str) else "", self.seen)
        self.seen += 1
        first = self._first
        if len(first) < MAX_EXAMPLES or key < first[-1][0]:
            bisect.insort(first, (key, row), key=lambda item: item[0])
            del first[MAX_EXAMPLES:]

    def add_block(self, rows: list[dict[str, Any]], ids: list[str]) -> None:
        """``add`` of each row, where ``ids[i]`` is ``rows[i]``'s ``_provenance.id``
        (a string): only the block's smallest ids are looked at one by one."""
        start = self.seen
        order = heapq.nsmallest(MAX_EXAMPLES, range(len(ids)), key=ids.__getitem__)
        for i in sorted(order):
            self.seen = start + i
            self.add(rows[i])
        self.seen = start + len(rows)

    def rows(self) -> list[dict[str, Any]]:
        return [row for _, row in self._first]


class RejectGroups:
    """Rejects grouped by (node, status, reason), ``MAX_GROUPS`` of them apart."""

    def __init__(self) -> None:
        self.total = 0
        self._groups: dict[tuple[str, str, str], RejectGroup] = {}
        self._other = RejectGroup("(other)", "", "(other reasons)")

    def add(self, row: dict[str, Any]) -> None:
        """Count ``row`` (a rejects line read back: ``node``, ``status``, ``reason``, ...)."""
        node, status, reason = row.get("node", "?"), row.get("status", "?"), row.get("reason", "?")
        self.add_written(str(node), str(status), str(reason), row)

    def add_written(self, node: str, status: str, reason: str, row: dict[str, Any]) -> None:
        """Count ``row`` in the group of (node, status, reason), keeping it as an example
        while the group has fewer than ``MAX_EXAMPLES``."""
        self.total += 1
        key = (node, status, reason)
        group = self._groups.get(key)
        if group is None:
            if len(self._groups) < MAX_GROUPS:
                group = self._groups[key] = RejectGroup(node, status, reason)
            else:
                group = self._other
        group.count += 1
        if len(group.examples) < MAX_EXAMPLES and group is not self._other:
            group.examples.append(row)

    def ordered(self) -> list[RejectGroup]:
        """The groups, largest first, "(other)" last."""
        out = sorted(self._groups.values(), key=lambda g: (-g.count, g.node, g.status, g.reason))
        if self._other.count:
            out.append(self._other)
        return out


@dataclass
class OutputFacts:
    """A completed run's dataset and rejects as written: the rows written to the dataset
    file, the first of them, the sink's sample of their text fields, and the rejects'
    groups."""

    rows: int
    first: FirstRows
    sample: RowSample
    rejects: RejectGroups

    def settled(self) -> OutputFacts:
        """The kept rows as a reader of the files sees them (JSON round trip)."""
        first = FirstRows()
        first._first = [(key, _as_read(row)) for key, row in self.first._first]
        first.seen = self.first.seen
        for group in self.rejects.ordered():
            group.examples = [_as_read(row) for row in group.examples]
        return OutputFacts(self.rows, first, self.sample, self.rejects)


def _as_read(row: dict[str, Any]) -> Any:
    """``row`` as ``json.loads`` reads back the line written for it."""
    return json.loads(dumps(row))
