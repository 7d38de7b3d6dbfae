"""The driver's side of the Ray executor: connect, start workers, send them batches.

Input: ``ClusterOptions`` (address, workers, batch size) and a ``WorkerSetup``. Output:
``Cluster`` (``start_cluster``), whose ``dispatch`` the executor asks for each map node
(``run/executor.py: MapDispatch``) and whose ``close()`` gives the workers' provider
statistics. Which nodes go to the workers: a kind that says its per-record work is worth
shipping (``NodeKind.ship_records``: model calls, sandboxed runs) and whose runner has no
``finish()``, or tallies the outcomes it is told (``Tallying``: verify's pass@k; the
tally stays here, made by the node's own runner, so its notes are the local
executor's); every other node runs in the driver as in the local executor, reading the
streams the workers' results come back on. A ``cpu_bound`` runner's records go out one
worker's CPU share at a time (``worker.py: cpu_slots``), two shares per worker in flight.
The executor's own machinery (``when:`` and switch gates, the reorder buffer,
accounting, rejects) stays in the driver, so records, their ids, their order and the
accounting are the local executor's.

Batches: a node's records are gathered for up to ``FLUSH_S`` or ``ClusterOptions.batch``
records, then sent to the worker with the fewest records outstanding. Workers restart
when their process dies and Ray runs the lost batch again (``max_task_retries``): its
finished calls are in the shared cache, so they are not made again.

Raises ``ClusterError`` (a ``RunError``, exit 1) when Ray cannot be reached or started,
and ``RunError`` with a worker's message when the run cannot go on.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

from synthdsl.errors import RunError
from synthdsl.ir import Node
from synthdsl.llm.types import LLMClient, LLMRequest, LLMResponse
from synthdsl.nodes import node_kind
from synthdsl.nodes.base import MapRunner, Outcome, Tallying
from synthdsl.records import Record
from synthdsl.run.cluster.counts import add_counts, add_provider_stats
from synthdsl.run.cluster.limiter import LimiterService
from synthdsl.run.cluster.setup import WorkerSetup, pack, worker_env
from synthdsl.run.cluster.worker import Batch, BatchResult, MapWorker, cpu_slots
from synthdsl.run.executor import ExecContext
from synthdsl.run.options import ClusterOptions

__all__ = ["FLUSH_S", "Cluster", "ClusterClient", "ClusterError", "start_cluster"]

# A batch that has not filled up leaves after this long.
FLUSH_S = 0.005
# Records one worker may hold before the driver holds back (beyond the nodes' windows).
_ACTOR_CONCURRENCY = 10_000


class ClusterError(RunError):
    """Ray could not be reached or started."""


def _ray() -> Any:
    try:
        import ray  # the ray extra: only when --executor ray asks for it
    except ImportError:
        raise ClusterError("--executor ray needs Ray: pip install 'synthdsl[ray]'") from None
    return ray


@dataclass
class _Pending:
    records: list[Record] = field(default_factory=list)
    futures: list[asyncio.Future[Outcome]] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class WorkerPool:
    """Batches records per (node, round, scope) and spreads them over the workers."""

    def __init__(self, workers: list[Any], batch: int) -> None:
        self.workers = workers
        self.batch = batch
        self.load = [0] * len(workers)
        self._pending: dict[tuple[str, int | None, str], _Pending] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches_sent = 0

    def submit(
        self, rt: ExecContext, node: str, record: Record, batch: int | None = None
    ) -> asyncio.Future[Outcome]:
        """``record``'s outcome, once a worker has processed it; ``batch`` caps this
        node's batches (default: the pool's size)."""
        key = (node, rt.round, rt.scope)
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending()
        fut: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        pending.records.append(record)
        pending.futures.append(fut)
        if len(pending.records) >= (batch or self.batch):
            self._flush(rt, key)
        elif pending.timer is None:
            pending.timer = asyncio.get_running_loop().call_later(FLUSH_S, self._flush, rt, key)
        return fut

    def _flush(self, rt: ExecContext, key: tuple[str, int | None, str]) -> None:
        pending = self._pending.pop(key, None)
        if pending is None or not pending.records:
            return
        if pending.timer is not None:
            pending.timer.cancel()
        w = min(range(len(self.workers)), key=self.load.__getitem__)
        self.load[w] += len(pending.records)
        batch = Batch(key[0], key[1], key[2], pending.records)
        ref = self.workers[w].run.remote(batch)
        self.batches_sent += 1
        task = asyncio.ensure_future(self._settle(rt, w, ref, pending))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle(self, rt: ExecContext, w: int, ref: Any, pending: _Pending) -> None:
        try:
            result: BatchResult = await ref
        except BaseException as exc:
            error = exc if isinstance(exc, asyncio.CancelledError) else _lost(exc)
            for fut in pending.futures:
                if not fut.done():
                    fut.set_exception(error)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        finally:
            self.load[w] -= len(pending.records)
        add_counts(rt.stats, rt.model_usage, result.counts)
        for node_id, notes in result.notes.items():
            for name, value in notes.items():
                rt.note(node_id, name, value)
        if rt.calls is not None:
            for row in result.calls:
                rt.calls.write_row(row)
        for fut, outcome in zip(pending.futures, result.outcomes, strict=True):
            if fut.done():
                continue
            if result.stop is not None:
                fut.set_exception(RunError(result.stop))
            else:
                fut.set_result(outcome)

    def cancel(self) -> None:
        for pending in self._pending.values():
            if pending.timer is not None:
                pending.timer.cancel()
        self._pending.clear()
        for task in list(self._tasks):
            task.cancel()


def _lost(exc: BaseException) -> RunError:
    return RunError(f"a Ray worker failed for good: {type(exc).__name__}: {exc}")


class _RemoteRunner:
    """A map runner whose records are processed by the workers."""

    def __init__(
        self,
        pool: WorkerPool,
        node: Node[Any],
        rt: ExecContext,
        concurrency: int,
        batch: int | None = None,
    ):
        self.pool = pool
        self.node = node.id
        self.rt = rt
        self.concurrency = concurrency
        self.batch = batch

    async def process(self, record: Record) -> Outcome:
        return await self.pool.submit(self.rt, self.node, record, self.batch)


class _RemoteTallyingRunner(_RemoteRunner):
    """Records processed by the workers, their outcomes tallied here by the node's own
    runner (``Tallying``: ``observe`` and ``finish`` are the local runner's)."""

    def __init__(self, local: Tallying, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.local = local

    def observe(self, record: Record, outcome: Outcome) -> None:
        self.local.observe(record, outcome)

    def finish(self) -> None:
        self.local.finish()


class _Dispatch:
    """The executor's ``MapDispatch``: which map nodes go to the workers."""

    def __init__(self, pool: WorkerPool, workers: int, cpu_slots: int) -> None:
        self.pool = pool
        self.workers = workers
        self.cpu_slots = cpu_slots  # a worker's CPU-bound records at once (``worker.py``)
        self.remote: list[str] = []

    def runner(self, node: Node[Any], local: MapRunner, rt: ExecContext) -> MapRunner | None:
        """Ship a kind that says its records are worth it (``ship_records``) unless its
        runner finishes with what only it saw: a ``finish()`` without ``observe()``."""
        kind = node_kind(node.kind)
        tallying = hasattr(local, "observe") and hasattr(local, "finish")
        if not getattr(kind, "ship_records", False) or (hasattr(local, "finish") and not tallying):
            return None
        if node.id not in self.remote:
            self.remote.append(node.id)
        batch: int | None = None
        if getattr(local, "cpu_bound", False):
            # each worker runs its CPU share at once and has as many waiting, sent a few
            # at a time: a long batch would leave another worker idle at the end
            batch = self.cpu_slots
            concurrency = max(int(getattr(local, "concurrency", 1)), 2 * self.workers * batch)
        else:
            # the model's concurrency plus a batch per worker in transit, so records on
            # their way to or from a worker do not leave the model's slots idle; the
            # limiter service still bounds the calls in flight
            concurrency = int(getattr(local, "concurrency", 1)) + self.workers * self.pool.batch
        if tallying:
            return _RemoteTallyingRunner(
                cast(Tallying, local), self.pool, node, rt, concurrency, batch
            )
        return _RemoteRunner(self.pool, node, rt, concurrency, batch)


class Cluster:
    """Ray, the workers and the limiter service of one run."""

    def __init__(
        self,
        ray: Any,
        workers: list[Any],
        limiter: Any,
        options: ClusterOptions,
        owned: bool,
        worker_cpus: float = 1.0,
    ) -> None:
        self.ray = ray
        self.workers = workers
        self.limiter = limiter
        self.pool = WorkerPool(workers, options.batch)
        self.dispatch = _Dispatch(self.pool, len(workers), cpu_slots(worker_cpus))
        self.owned = owned
        self.provider_stats: dict[str, dict[str, Any]] = {}
        # of the workers' last lives and the sandboxes they ran (a dead one's is lost)
        self.worker_cpu_s = 0.0

    def summary(self) -> dict[str, Any]:
        """For the manifest: workers, batches sent, the nodes that ran on the workers and
        the CPU seconds the workers used."""
        return {
            "workers": len(self.workers),
            "batches": self.pool.batches_sent,
            "remote_nodes": list(self.dispatch.remote),
            "worker_cpu_s": round(self.worker_cpu_s, 3),
        }

    async def close(self) -> None:
        """Stop the workers (their provider statistics are kept) and the service; shut
        Ray down when this run started it."""
        self.pool.cancel()
        try:
            for got in await asyncio.gather(
                *(w.close.remote() for w in self.workers), return_exceptions=True
            ):
                if isinstance(got, tuple):
                    stats, cpu = got
                    self.provider_stats = add_provider_stats(self.provider_stats, stats)
                    self.worker_cpu_s += cpu
        finally:
            for actor in [*self.workers, self.limiter]:
                self.ray.kill(actor, no_restart=True)
            if self.owned:
                self.ray.shutdown()


class ClusterClient:
    """The driver's ``LLMClient``: its own pool for calls made here, and the workers'
    provider statistics added once they are closed."""

    def __init__(self, local: LLMClient, cluster: Cluster) -> None:
        self.local = local
        self.cluster = cluster

    async def complete(self, request: LLMRequest) -> LLMResponse:
        return await self.local.complete(request)

    def stats(self) -> dict[str, dict[str, Any]]:
        return add_provider_stats(self.local.stats(), self.cluster.provider_stats)

    async def aclose(self) -> None:
        await self.local.aclose()


def start_cluster(options: ClusterOptions, setup: WorkerSetup) -> Cluster:
    """Connect to Ray (or start it on this machine), then start the limiter service
    and the workers."""
    ray = _ray()
    owned = False
    if not ray.is_initialized():
        try:
            ray.init(
                address=options.address,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
        except Exception as exc:  # ConnectionError, a bad address, a version mismatch
            raise ClusterError(
                f"cannot reach Ray at {options.address or 'a new local instance'}: {exc}"
            ) from None
        owned = True
    cpus = float(ray.cluster_resources().get("CPU", 1.0))
    n = options.workers or max(1, int(cpus))
    env = {"env_vars": worker_env(setup.compiled)}
    # found by name: an actor handle among a worker's constructor arguments would keep
    # Ray from restarting it cleanly
    service = f"synthdsl-limiter-{uuid.uuid4().hex}"
    limiter = (
        ray.remote(LimiterService)
        .options(name=service, num_cpus=0, max_concurrency=1_000_000, runtime_env=env)
        .remote()
    )
    packed = pack(setup)
    worker_cpus = min(1.0, cpus / n)
    actor = ray.remote(MapWorker).options(
        num_cpus=worker_cpus,
        max_restarts=-1,
        max_task_retries=-1,
        max_concurrency=_ACTOR_CONCURRENCY,
        runtime_env=env,
    )
    workers = [actor.remote(packed, service, f"worker-{i}") for i in range(n)]
    try:  # wait for them: start-up is not the run's time, and a setup error shows here
        ray.get([w.pid.remote() for w in workers])
    except Exception as exc:
        for a in [*workers, limiter]:
            ray.kill(a, no_restart=True)
        if owned:
            ray.shutdown()
        raise ClusterError(f"the Ray workers could not start: {exc}") from None
    return Cluster(ray, workers, limiter, options, owned, worker_cpus)
