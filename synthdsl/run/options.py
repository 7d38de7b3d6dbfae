"""What a run is asked to do, and what it gives back.

``RunOptions``: output folder, row limit, concurrency, cache, retry timing, report,
failure-rate threshold, budget (calls, cost), progress callback, the LLM client (None:
the run makes and closes a provider pool), the dataset card's builder
(``CardBuilder``; None: no card) and the executor (``ClusterOptions``: Ray; None: local).
``RunResult``: the output folder, dataset path, manifest (``Manifest``, the shape of
``manifest.json``), status, record count and per-node stats.
``default_cache_path()``: ``$SYNTHDSL_CACHE`` or ``.synthdsl/cache.sqlite``. Plain
data; raises nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from synthdsl.io.output_facts import OutputFacts
from synthdsl.llm.types import LLMClient
from synthdsl.nodes.accounting import NodeStats
from synthdsl.textproc.cache_folders import call_cache_path

if TYPE_CHECKING:
    from typing import NotRequired  # Python 3.11; annotations are not evaluated at run time

    from synthdsl.run.context import RunContext
    from synthdsl.run.trace import RecordEvent

__all__ = [
    "CardBuilder",
    "ClusterOptions",
    "Manifest",
    "RunOptions",
    "RunResult",
    "Totals",
    "default_cache_path",
]


class Totals(TypedDict):
    calls: int
    cache_hits: int
    retries: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None  # None: some call's model has no known price
    dropped: int
    failed: int


class Manifest(TypedDict):
    """``manifest.json``, version 1 (``docs/report.md`` reads it field by field)."""

    synthdsl_version: str
    manifest_version: int
    recipe: dict[str, str]
    status: str  # completed | failed | interrupted | stopped (budget reached)
    # why it is not completed: error | max_failure_rate | violation | SIGINT | SIGTERM |
    # max_calls | max_cost
    reason: str | None
    error: str | None
    started_at: str
    wall_time_s: float
    options: dict[str, Any]
    cache: str
    output: dict[str, Any]
    rejects: dict[str, Any]
    totals: Totals
    accounting_balanced: bool
    failure_rate: dict[str, Any]  # {"max": threshold, "exceeded": [per node over it]}
    # rules of the recipe the written data breaks: [{node, message, fatal}]
    violations: list[dict[str, Any]]
    models: dict[str, dict[str, int]]
    provider: dict[str, dict[str, Any]]
    nodes: dict[str, dict[str, Any]]  # per node: NodeStats plus the kind's notes
    node_order: list[str]
    generated_fields: dict[str, str]  # output field a model wrote -> the node that wrote it
    plugins: list[dict[str, str]]  # used by the recipe: group, name, package, version
    batches: list[dict[str, Any]]  # batch API batches: id, model, state, lines, wall_s, ...
    card: str | None  # the dataset card's file name beside the data; None: not written
    # --executor ray: workers, batches, the nodes run on them, the workers' CPU seconds
    cluster: NotRequired[dict[str, Any]]


# The dataset card of a completed run, as text: from the attempt folder (the dataset and
# rejects, not yet published), the manifest, the recipe's facts (``run/card_facts.py``)
# and the sample of written rows the sink took (``io/row_sample.py``; None: read the
# dataset file). The report layer has it (``synthdsl.report.card.build_card``);
# ``api.execute`` passes it in.
CardBuilder = Callable[[Path, Manifest, dict[str, Any], "list[dict[str, str]] | None"], str]


@dataclass(frozen=True)
class ClusterOptions:
    """Run on Ray (``run/cluster/``): ``address`` of a running cluster (None: start one
    on this machine; "auto": the one this machine belongs to; ``ray://HOST:PORT``),
    ``workers`` (None: one per CPU of the cluster) and the records sent per batch."""

    address: str | None = None
    workers: int | None = None
    batch: int = 32


@dataclass
class RunOptions:
    out_dir: str | None = None
    limit: int | None = None
    concurrency: int | None = None
    fresh: bool = False
    cache_path: str | None = None
    retry_base: float = field(
        default_factory=lambda: float(os.environ.get("SYNTHDSL_RETRY_BASE", "0.5"))
    )
    retry_cap: float = 30.0
    report: bool = True
    # Let an attempt far slower than its model's recent ones get a twin (llm/hedge.py).
    hedge: bool = True
    # The share of a step's records that may fail before the run fails (None: the
    # recipe's ``run: {max_failure_rate}``, else 0.5; see ``run/failure_rate.py``).
    max_failure_rate: float | None = None
    on_progress: Callable[[RunContext], None] | None = None
    # Called with the manifest once the run's files are written (the progress
    # display's last frame), also after a failed or interrupted run.
    on_finish: Callable[[Manifest], None] | None = None
    # Stop starting model calls once this many were made, or this many USD were spent
    # on calls with a known price (``run/budget.py``; the run then raises BudgetReached).
    max_calls: int | None = None
    max_cost: float | None = None
    # Told of every record a node hands on, drops or fails (``run/trace.py``).
    on_record: Callable[[RecordEvent], None] | None = None
    # The LLM client; None: a ProviderPool owned (and closed) by the run.
    client: LLMClient | None = None
    # What stopped an interrupted run, for the manifest's ``reason`` ("SIGINT" unless
    # the caller saw another signal).
    stop_reason: Callable[[], str] = lambda: "SIGINT"
    # Writes the dataset card of a completed run (None: no card, whatever the recipe says).
    card: CardBuilder | None = None
    # Run the record-at-a-time model and sandbox steps on a Ray cluster (None: in this
    # process, the local executor).
    cluster: ClusterOptions | None = None


@dataclass
class RunResult:
    out_dir: Path
    dataset: Path
    manifest: Manifest
    status: str
    records: int
    stats: dict[str, NodeStats] = field(default_factory=dict)
    # a completed run's dataset and rejects as written, for its report (None: read them)
    facts: OutputFacts | None = None


def default_cache_path() -> Path:
    return call_cache_path()
