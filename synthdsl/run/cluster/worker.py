"""The worker: runs batches of a map node's records, with many calls in flight.

``MapWorker`` is the body of one Ray actor (``driver.py`` starts them). It gets a
packed ``WorkerSetup`` (``setup.py``) and the limiter service's name once, and keeps, for
the whole run, its own ``ProviderPool`` (limits leased from the limiter service,
``lease.py``), the shared call cache (the same SQLite file
as the driver: ``run/cache.py`` lets several processes open it) and one runner per
(node, loop round, mix scope), made by the node's kind exactly as the local executor
makes it. ``run(batch)`` processes the batch's records concurrently and gives back, per
record and in order, its ``Outcome``, plus what the worker counted (``counts.py``), the
call log lines and the notes; a ``RunError`` (the run cannot go on: a missing key, a dead
endpoint) comes back as ``stop``, which the driver raises. An exception a node did not
expect becomes a failure of its record, as in the local executor. Finished calls are
committed to the cache within ``COMMIT_EVERY_S``, so a batch retried after the worker
died finds them there. When a model goes through litellm, the worker imports it as it
starts (seconds), not with its first call.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from synthdsl.errors import RunError
from synthdsl.llm.client import BACKENDS, ProviderPool, resolve_backend
from synthdsl.llm.types import ModelSpec
from synthdsl.nodes import node_kind
from synthdsl.nodes.base import Fail, MapRunner, Outcome
from synthdsl.records import Record
from synthdsl.run.cache import CallCache
from synthdsl.run.call_log import CallBuffer
from synthdsl.run.cluster.counts import Counts, CountsReporter
from synthdsl.run.cluster.lease import LeasedLimiters
from synthdsl.run.cluster.setup import WorkerSetup, unpack
from synthdsl.run.executor import ExecContext

__all__ = ["Batch", "BatchResult", "MapWorker"]


@dataclass(frozen=True)
class Batch:
    """Records of one node, in one loop round and mix scope."""

    node: str
    round: int | None
    scope: str
    records: list[Record]


@dataclass
class BatchResult:
    outcomes: list[Outcome]
    counts: Counts
    calls: list[dict[str, Any]]
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    stop: str | None = None  # a RunError's message: the run cannot go on


def _warm_litellm(setup: WorkerSetup) -> None:
    """Import litellm (seconds) while the worker starts, not with its first call, when a
    model of the recipe goes through it: a worker lives for the whole run."""
    for decl in setup.compiled.models.values():
        for entry in decl.entries:
            spec = ModelSpec(alias=decl.alias, model=entry.model, backend=entry.backend)
            if entry.backend in BACKENDS and resolve_backend(spec) == "litellm":
                # the litellm backend's import, which loads litellm itself
                from synthdsl.llm.litellm_backend import load_litellm

                load_litellm()
                return


class MapWorker:
    """One worker actor's body."""

    def __init__(self, packed: bytes, service: str, name: str) -> None:
        import ray  # only in a worker process, which Ray started

        setup = unpack(packed)
        self.setup = setup
        self.name = name
        limiter: Any = ray.get_actor(service)
        generation: int = ray.get(limiter.join.remote(name))
        self.cache = CallCache(Path(setup.cache_path))
        self.limiters = LeasedLimiters(limiter, name, generation)
        self.client = ProviderPool(
            retry_base=setup.retry_base,
            retry_cap=setup.retry_cap,
            hedge=setup.hedge,
            limiters=self.limiters,
        )
        self.calls = CallBuffer()
        _warm_litellm(setup)
        self.rt = ExecContext(
            compiled=setup.compiled,
            client=self.client,
            cache=self.cache,
            rejects=None,
            limit=setup.limit,
            concurrency=setup.concurrency,
            cache_reads=not setup.fresh,
            calls=self.calls,
        )
        self.nodes = {n.id: n for n in setup.compiled.graph.walk()}
        self.runners: dict[tuple[str, int | None, str], MapRunner] = {}
        self.counts = CountsReporter()

    def pid(self) -> int:
        return os.getpid()

    def _runner(self, batch: Batch) -> MapRunner:
        key = (batch.node, batch.round, batch.scope)
        runner = self.runners.get(key)
        if runner is None:
            node = self.nodes[batch.node]
            rt = replace(self.rt, round=batch.round, scope=batch.scope)
            made = node_kind(node.kind).map_runner(node, rt)
            assert made is not None, f"node {node.id} has no map runner"
            runner = self.runners[key] = made
        return runner

    async def run(self, batch: Batch) -> BatchResult:
        stop: list[str] = []
        try:
            runner = self._runner(batch)
        except RunError as exc:
            return self._result([Fail("internal", str(exc))] * len(batch.records), str(exc))

        async def one(rec: Record) -> Outcome:
            try:
                return await runner.process(rec)
            except RunError as exc:  # the run cannot go on: the driver stops it
                stop.append(str(exc))
                return Fail("stopped", str(exc))
            except Exception as exc:  # a bug in a node must not lose the record
                return Fail("internal", f"{type(exc).__name__}: {exc}")

        outcomes = list(await asyncio.gather(*(one(r) for r in batch.records)))
        return self._result(outcomes, stop[0] if stop else None)

    def _result(self, outcomes: list[Outcome], stop: str | None) -> BatchResult:
        notes = {k: dict(v) for k, v in self.rt.notes.items()}
        return BatchResult(
            outcomes,
            self.counts.report(self.rt.stats, self.rt.model_usage),
            self.calls.take(),
            notes,
            stop,
        )

    async def close(self) -> tuple[dict[str, dict[str, Any]], float]:
        """Commit the cache, close the clients; the provider statistics of this life and
        the CPU seconds this process used."""
        stats = self.client.stats()
        await self.client.aclose()
        await self.limiters.close()
        if not self.cache.closed:
            self.cache.commit()
        return stats, time.process_time()
