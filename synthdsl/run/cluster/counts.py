"""What a worker counted for one batch, sent back with its outcomes and added there.

Input: a batch's per-node ``NodeStats`` and per-model usage (``RunContext.model_usage``;
the worker gives each batch a context of its own, so they hold that batch's counts
alone) and, at the end, a worker's provider pool's ``stats()``. Output: ``Counts``
(plain data, ``counts_of``) and ``add_counts`` / ``add_provider_stats``, which add them
to the driver's. A batch's counts travel with its outcomes: the driver adds them once
per batch it settles, whatever order batches finish in, and a batch that dies with its
worker takes its counts along (its retry counts its records once). Raises nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

from synthdsl.nodes.accounting import NodeStats

__all__ = ["Counts", "add_counts", "add_provider_stats", "counts_of"]

# NodeStats fields that are not counts.
_NOT_COUNTS = {"kind", "started", "finished"}


@dataclass
class Counts:
    """Per node: changed counts by field (numbers, or ``Counter``s as dicts); per model:
    calls and cache hits."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    usage: dict[str, dict[str, int]] = field(default_factory=dict)


def _snapshot(st: NodeStats) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(st):
        if f.name in _NOT_COUNTS:
            continue
        value = getattr(st, f.name)
        out[f.name] = dict(value) if isinstance(value, Counter) else value
    return out


def _minus(now: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in now.items():
        old = before.get(name)
        if isinstance(value, bool):
            if value and not old:
                out[name] = True
        elif isinstance(value, dict):
            diff = {k: v - (old or {}).get(k, 0) for k, v in value.items()}
            diff = {k: v for k, v in diff.items() if v}
            if diff:
                out[name] = diff
        elif value != (old or 0):
            out[name] = value - (old or 0)
    return out


def counts_of(stats: dict[str, NodeStats], usage: dict[str, dict[str, int]]) -> Counts:
    """The counts in ``stats`` and ``usage`` (one batch's: nothing else counts there)."""
    out = Counts()
    for node_id, st in list(stats.items()):
        diff = _minus(_snapshot(st), {})
        if diff:
            out.nodes[node_id] = diff
    for model, counts in list(usage.items()):
        diff = _minus(dict(counts), {})
        if diff:
            out.usage[model] = {"calls": 0, "cache_hits": 0, **diff}
    return out


def add_counts(stats: dict[str, NodeStats], usage: dict[str, dict[str, int]], c: Counts) -> None:
    """Add a worker's report to the driver's per-node stats and model usage."""
    for node_id, diff in c.nodes.items():
        st = stats.get(node_id)
        if st is None:
            st = stats[node_id] = NodeStats("")
        for name, value in diff.items():
            current = getattr(st, name)
            if isinstance(current, bool):
                setattr(st, name, current or bool(value))
            elif isinstance(current, Counter):
                current.update(value)
            else:
                setattr(st, name, current + value)
    for model, diff in c.usage.items():
        mine = usage.setdefault(model, {"calls": 0, "cache_hits": 0})
        for name, value in diff.items():
            mine[name] = mine.get(name, 0) + value


def add_provider_stats(
    into: dict[str, dict[str, Any]], more: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Per-model provider statistics (``ProviderPool.stats()``) of several processes,
    summed: numbers add, per-kind dicts add by key, a cost is known if any is."""
    out = {model: dict(row) for model, row in into.items()}
    for model, row in more.items():
        mine = out.get(model)
        if mine is None:
            out[model] = dict(row)
            continue
        for name, value in row.items():
            old = mine.get(name)
            if isinstance(value, dict):
                merged = dict(old or {})
                for k, v in value.items():
                    merged[k] = merged.get(k, 0) + v
                mine[name] = dict(sorted(merged.items()))
            elif isinstance(value, bool | str):
                mine[name] = old or value
            elif isinstance(value, int | float):
                total = (old or 0) + value
                mine[name] = round(total, 10) if isinstance(total, float) else total
            elif value is not None and old is None:
                mine[name] = value
    return out
