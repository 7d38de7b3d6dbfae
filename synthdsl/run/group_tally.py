"""What became of the records made for each group of an ``allocate`` step.

Input: the records nodes emit, drop or fail and the records the output keeps, told by
the executor (``run/executor.py``), the run context (loop discards) and the sink
(``run/output.py``). Only records with ``target`` metadata count: ``{node, group}``,
set by ``allocate`` and inherited by every descendant (``records.INHERITED_META``).
Output: ``GroupTally.to_json(generators)`` → per ``allocate`` node, per group:
``generated`` (records emitted by the first model-writing step the group's records
reached, in node order: ``generators``), ``kept`` (rows of the dataset), ``dropped``
(by reason) and ``failed`` (by kind), plus ``out`` per node. With no fan-out after
``allocate`` (one record per slot), ``allocated = kept + dropped + failed``. Raises
nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from synthdsl.records import Record

__all__ = ["GroupTally"]


@dataclass
class _Counts:
    out: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    kept: int = 0


def _key(rec: Record) -> tuple[str, str] | None:
    target = rec.meta.get("target")
    if not isinstance(target, dict):
        return None
    return str(target.get("node")), str(target.get("group"))


@dataclass
class GroupTally:
    groups: dict[tuple[str, str], _Counts] = field(default_factory=dict)

    def _counts(self, rec: Record) -> _Counts | None:
        key = _key(rec)
        if key is None:
            return None
        found = self.groups.get(key)
        if found is None:
            found = self.groups[key] = _Counts()
        return found

    def emitted(self, node_id: str, rec: Record) -> None:
        counts = self._counts(rec)
        if counts is not None and node_id != rec.meta["target"].get("node"):
            counts.out[node_id] += 1

    def dropped(self, rec: Record, reason: str) -> None:
        counts = self._counts(rec)
        if counts is not None:
            counts.dropped[reason] += 1

    def failed(self, rec: Record, kind: str) -> None:
        counts = self._counts(rec)
        if counts is not None:
            counts.failed[kind] += 1

    def kept(self, rec: Record) -> None:
        counts = self._counts(rec)
        if counts is not None:
            counts.kept += 1

    def to_json(self, generators: Sequence[str]) -> dict[str, dict[str, Any]]:
        """``{allocate node: {group: counts}}``; ``generators`` are the model-writing
        nodes in node order."""
        out: dict[str, dict[str, Any]] = {}
        for (node, group), counts in sorted(self.groups.items()):
            first = next((g for g in generators if counts.out.get(g)), None)
            out.setdefault(node, {})[group] = {
                "generated": counts.out[first] if first is not None else 0,
                "generated_by": first,
                "kept": counts.kept,
                "dropped": dict(sorted(counts.dropped.items())),
                "failed": dict(sorted(counts.failed.items())),
                "out": dict(sorted(counts.out.items())),
            }
        return out
