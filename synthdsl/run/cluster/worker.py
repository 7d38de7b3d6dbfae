"""The worker: runs batches of a map node's records, with many calls in flight.

``MapWorker`` is the body of one Ray actor (``driver.py`` starts them). It gets a
packed ``WorkerSetup`` (``setup.py``) and the limiter service's name once, and keeps, for
the whole run, its own ``ProviderPool`` (limits leased from the limiter service,
``lease.py``) and the shared call cache (the same SQLite file as the driver:
``run/cache.py`` lets several processes open it). ``run(batch)`` makes the node's
runner, as the local executor makes it, in a context of the batch's own, processes the
batch's records concurrently (a ``cpu_bound`` runner's at most ``cpu_slots`` at once,
over all batches) and gives back, per record and in order, its ``Outcome``, plus what
the batch counted (``counts.py``: its own counts only, so a batch lost with its worker
takes them along and its retry counts once), its call log lines and notes; a
``RunError`` (the run cannot go on: a missing key, a dead
endpoint) comes back as ``stop``, which the driver raises. An exception a node did not
expect becomes a failure of its record, as in the local executor. Finished calls are
committed to the cache within ``COMMIT_EVERY_S``, so a batch retried after the worker
died finds them there. When a model goes through litellm, the worker imports it as it
starts (seconds), not with its first call.
"""

from __future__ import annotations

import asyncio
import os
import resource
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
from synthdsl.run.cluster.counts import Counts, counts_of
from synthdsl.run.cluster.lease import LeasedLimiters
from synthdsl.run.cluster.setup import WorkerSetup, unpack
from synthdsl.run.executor import ExecContext

__all__ = ["Batch", "BatchResult", "MapWorker", "cpu_slots"]


def cpu_slots(num_cpus: float) -> int:
    """How many records of ``cpu_bound`` runners (sandboxed checks) a worker holding
    ``num_cpus`` CPUs (its actor's resource) runs at once: its whole CPUs, at least one."""
    return max(1, int(num_cpus))


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
        _warm_litellm(setup)
        self.rt = ExecContext(
            compiled=setup.compiled,
            client=self.client,
            cache=self.cache,
            rejects=None,
            limit=setup.limit,
            concurrency=setup.concurrency,
            cache_reads=not setup.fresh,
        )
        self.nodes = {n.id: n for n in setup.compiled.graph.walk()}
        # the CPU-bound records (sandboxed checks) of every node at once: this actor's
        # CPU share of them
        context: Any = ray.get_runtime_context()
        cpus = context.get_assigned_resources().get("CPU", 1.0)
        self.cpu_slots = cpu_slots(float(cpus))
        self._cpu: asyncio.Semaphore | None = None

    def pid(self) -> int:
        return os.getpid()

    def _context(self, batch: Batch) -> ExecContext:
        """A context of the batch's own: what its records count (calls, cache hits,
        tokens, call log lines, notes) is theirs alone and goes back with their
        outcomes. The cache, the client and the calls in flight are the worker's."""
        return replace(
            self.rt,
            round=batch.round,
            scope=batch.scope,
            stats={},
            model_usage={},
            notes={},
            calls=CallBuffer(),
        )

    async def run(self, batch: Batch) -> BatchResult:
        stop: list[str] = []
        rt = self._context(batch)
        try:
            node = self.nodes[batch.node]
            made = node_kind(node.kind).map_runner(node, rt)
            assert made is not None, f"node {node.id} has no map runner"
            runner: MapRunner = made
        except RunError as exc:
            failed: list[Outcome] = [Fail("internal", str(exc))] * len(batch.records)
            return self._result(rt, failed, str(exc))

        cpu = None
        if getattr(runner, "cpu_bound", False):
            cpu = self._cpu = self._cpu or asyncio.Semaphore(self.cpu_slots)

        async def one(rec: Record) -> Outcome:
            try:
                if cpu is not None:
                    async with cpu:
                        return await runner.process(rec)
                return await runner.process(rec)
            except RunError as exc:  # the run cannot go on: the driver stops it
                stop.append(str(exc))
                return Fail("stopped", str(exc))
            except Exception as exc:  # a bug in a node must not lose the record
                return Fail("internal", f"{type(exc).__name__}: {exc}")

        outcomes = list(await asyncio.gather(*(one(r) for r in batch.records)))
        return self._result(rt, outcomes, stop[0] if stop else None)

    def _result(self, rt: ExecContext, outcomes: list[Outcome], stop: str | None) -> BatchResult:
        calls = rt.calls
        assert isinstance(calls, CallBuffer)
        return BatchResult(
            outcomes, counts_of(rt.stats, rt.model_usage), calls.take(), rt.notes, stop
        )

    async def close(self) -> tuple[dict[str, dict[str, Any]], float]:
        """Commit the cache, close the clients; the provider statistics of this life and
        the CPU seconds this process and the children it waited for (sandboxed
        checks) used."""
        stats = self.client.stats()
        await self.client.aclose()
        await self.limiters.close()
        if not self.cache.closed:
            self.cache.commit()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return stats, time.process_time() + children.ru_utime + children.ru_stime
