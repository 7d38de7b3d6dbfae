"""The manifest of a run: what ran, what it cost, and where every record went.

Input: the compiled recipe, its plan, the run context after (or during) the run, and the
sink. Output: ``build_manifest(...) -> dict`` (JSON-able, ``manifest_version`` 1):
status (and why: ``reason``, ``error``, ``failure_rate``, ``violations``), per-node
counts (in = passed + dropped + failed, + ``pending`` when the run stopped before the
end), calls, cache hits, retries, tokens and cost, model usage, provider stats, the node
order, the output fields a model wrote (``generated_fields``: field → node), the plugins
the recipe used (name, package, version), the batches submitted to or collected from
batch APIs (id, model, state, lines, counts, wall time) and the dataset card's file name
(set by the session once the card is written); an ``allocate`` step's entry gets
``by_group``, what became of each group's records (``run/group_tally.py``). Raises
nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthdsl import __version__
from synthdsl.ir import CompiledRecipe, Graph
from synthdsl.nodes import STEP_KINDS, is_step_kind, kind_plugin, node_kind
from synthdsl.plan import Plan
from synthdsl.run.context import RunContext
from synthdsl.run.options import Manifest, RunOptions, Totals
from synthdsl.run.output import DatasetSink

__all__ = ["Outcome", "build_manifest", "node_order"]


def node_order(graph: Graph) -> list[str]:
    out: list[str] = []
    for nid, node in graph.nodes.items():
        out.append(nid)
        if node.body is not None:
            out += [b for b in node_order(node.body) if b not in out]
    return out


@dataclass(frozen=True)
class Outcome:
    status: str
    error: str | None
    started: float  # epoch seconds
    wall: float  # seconds
    reason: str | None = None  # error | max_failure_rate | violation | SIGINT | SIGTERM
    failure_rate: dict[str, Any] = field(default_factory=dict)


def build_manifest(
    compiled: CompiledRecipe,
    plan: Plan,
    rt: RunContext,
    outcome: Outcome,
    sink: DatasetSink,
    cache_path: Path,
    options: RunOptions,
) -> Manifest:
    nodes = {nid: st.to_json() for nid, st in rt.stats.items()}
    if outcome.status != "completed":
        # records taken in and not settled when the run stopped: a re-run picks them up
        for nid, st in rt.stats.items():
            settled = st.passed + sum(st.dropped.values()) + sum(st.failed.values())
            if st.records_in > settled:
                nodes[nid]["pending"] = st.records_in - settled
    for nid, notes in rt.notes.items():
        nodes.setdefault(nid, {}).update(notes)
    order = node_order(compiled.graph)
    writers = [nid for nid in order if nid in rt.stats and _writes(rt.stats[nid].kind)]
    for nid, groups in rt.tally.to_json(writers).items():
        nodes.setdefault(nid, {})["by_group"] = groups
    stats = rt.stats.values()
    totals = Totals(
        calls=sum(s.calls for s in stats),
        cache_hits=sum(s.cache_hits for s in stats),
        retries=sum(s.retries for s in stats),
        prompt_tokens=sum(s.prompt_tokens for s in stats),
        completion_tokens=sum(s.completion_tokens for s in stats),
        cost_usd=(
            None if any(s.unpriced_calls for s in stats) else round(sum(s.cost for s in stats), 6)
        ),
        dropped=sum(sum(s.dropped.values()) + s.discarded for s in stats),
        failed=sum(sum(s.failed.values()) for s in stats),
    )
    status = outcome.status
    return {
        "synthdsl_version": __version__,
        "manifest_version": 1,
        "recipe": {"name": compiled.name, "path": compiled.path, "hash": plan.recipe_hash},
        "status": status,
        "reason": outcome.reason,
        "error": outcome.error,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(outcome.started)),
        "wall_time_s": round(outcome.wall, 3),
        "options": _options(options),
        "cache": str(cache_path),
        "output": {
            "path": str(sink.path if status == "completed" else sink.partial_path),
            "records": sink.written,
            "format": sink.format,
        },
        "rejects": {
            "path": "rejects.jsonl",
            "dropped": totals["dropped"],
            "failed": totals["failed"],
        },
        "totals": totals,
        "accounting_balanced": all(s.balanced for s in stats),
        "failure_rate": outcome.failure_rate,
        "violations": list(rt.violations),
        "models": dict(sorted(rt.model_usage.items())),
        "provider": rt.client.stats(),
        "nodes": nodes,
        "node_order": [*node_order(compiled.graph), "output"],
        "generated_fields": dict(compiled.generated_fields),
        "plugins": list(plan.plugins),
        "batches": rt.batches.summary() if rt.batches is not None else [],
        "card": None,
    }


def _writes(kind: str) -> bool:
    """Whether a node of ``kind`` writes new content with a model (a built-in kind's
    answer without looking for plugins: sources and pools are no steps)."""
    if kind_plugin(kind) is None and kind not in STEP_KINDS:
        return False
    return is_step_kind(kind) and node_kind(kind).writes_content


def _options(options: RunOptions) -> dict[str, Any]:
    """The run options that shape the result; a budget only when one was given."""
    out: dict[str, Any] = {
        "limit": options.limit,
        "concurrency": options.concurrency,
        "fresh": options.fresh,
    }
    if options.max_calls is not None:
        out["max_calls"] = options.max_calls
    if options.max_cost is not None:
        out["max_cost_usd"] = options.max_cost
    if options.cluster is not None:
        out["executor"] = "ray"
    return out
