"""One limiter service for every worker: per-model concurrency, rpm and tpm hold across
the cluster, not per process.

``LimiterService`` is the body of one Ray actor (started by ``driver.py``): it keeps a
``ModelLimiter`` (``llm/limits.py``, the local implementation) per (model, api_base) and
hands out permits. ``RemoteLimiter`` is a worker's stand-in for it, with the ``Limiter``
interface ``ProviderPool`` uses: entering a slot is one awaited call to the service;
leaving it (with the tokens the call used and whether it was answered) is one call
nobody waits for; a 429 is reported at once, so the shared cool-down starts for
everyone. Cost: two actor calls per attempt, about a millisecond of latency, none of it
on the wire time of the call.

A worker that dies holds permits nobody will give back. Each worker ``join``s under a
stable name when it starts (again after a restart): the service then releases every
permit held under that name and counts a new generation, so a permit granted to the
dead process after the fact is released at once. Raises ``LimiterLost`` (a
``RunError``) when the service no longer knows the worker's generation.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from synthdsl.errors import RunError
from synthdsl.llm.limits import HeldPermit, ModelLimiter, Permit
from synthdsl.llm.types import ModelSpec

__all__ = ["LimiterLost", "LimiterService", "RemoteLimiter", "RemoteLimiters"]

Limits = tuple[int, float | None, float | None]  # concurrency, rpm, tpm


class LimiterLost(RunError):
    """The limiter service gave a permit to another life of this worker."""


@dataclass
class _Held:
    key: str
    worker: str
    permit: Permit


class LimiterService:
    """The limiter actor's body (methods are async: one event loop serves them all)."""

    def __init__(self) -> None:
        self._limiters: dict[str, ModelLimiter] = {}
        self._held: dict[int, _Held] = {}
        self._next = 0
        self._generation: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}

    def _limiter(self, key: str, limits: Limits) -> ModelLimiter:
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = ModelLimiter(*limits)
        return limiter

    async def join(self, worker: str) -> int:
        """A worker (re)started under ``worker``: release what its last life held."""
        generation = self._generation.get(worker, 0) + 1
        self._generation[worker] = generation
        for pid, held in list(self._held.items()):
            if held.worker == worker:
                del self._held[pid]
                await held.permit.__aexit__(None, None, None)
        return generation

    async def enter(
        self, key: str, limits: Limits, estimate: int, worker: str, generation: int
    ) -> tuple[int, float, int] | None:
        """Wait for a slot; (permit id, seconds waited on the buckets, epoch), or None
        when ``worker`` has restarted since (the slot is given back at once)."""
        limiter = self._limiter(key, limits)
        permit = limiter.slot(estimate)
        await permit.__aenter__()
        if self._generation.get(worker) != generation:
            await permit.__aexit__(None, None, None)
            return None
        pid = self._next
        self._next += 1
        self._held[pid] = _Held(key, worker, permit)
        self.max_in_flight[key] = max(self.max_in_flight.get(key, 0), limiter.in_flight)
        return pid, permit.waited, permit.epoch

    async def leave(self, pid: int, used_tokens: int, answered: list[bool]) -> None:
        """The call under ``pid`` ended: settle its tokens, count its answers, free it."""
        held = self._held.pop(pid, None)
        if held is None:
            return  # released by a join already
        limiter = self._limiters[held.key]
        for grow in answered:
            limiter.answered(grow)
        if used_tokens > 0:
            held.permit.settle(used_tokens)
        await held.permit.__aexit__(None, None, None)

    async def rate_limited(self, pid: int, key: str, retry_after: float | None) -> None:
        held = self._held.get(pid)
        limiter = self._limiters.get(key)
        if limiter is not None:
            limiter.rate_limited(retry_after, held.permit if held is not None else None)

    async def stats(self) -> dict[str, dict[str, Any]]:
        """Per limiter key: the most calls in flight at once, and now."""
        return {
            key: {"max_in_flight": self.max_in_flight.get(key, 0), "in_flight": lim.in_flight}
            for key, lim in sorted(self._limiters.items())
        }


class RemotePermit:
    """One call's place, granted by the service (``HeldPermit``)."""

    def __init__(self, owner: RemoteLimiter, estimated_tokens: int) -> None:
        self._owner = owner
        self._estimate = estimated_tokens
        self.pid: int | None = None
        self.waited = 0.0
        self.epoch = 0
        self._used = 0

    def settle(self, actual_tokens: int) -> None:
        self._used = actual_tokens

    async def __aenter__(self) -> RemotePermit:
        owner = self._owner
        ref = owner.service.enter.remote(
            owner.key, owner.limits, self._estimate, owner.worker, owner.generation
        )
        try:
            got = await ref
        except asyncio.CancelledError:
            # the slot may still be granted: give it back when it is
            task = asyncio.ensure_future(_release_when_granted(owner, ref))
            _RELEASING.add(task)
            task.add_done_callback(_RELEASING.discard)
            raise
        if got is None:
            raise LimiterLost("the limiter service no longer knows this worker")
        self.pid, self.waited, self.epoch = got
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.pid is not None:
            owner = self._owner
            owner.service.leave.remote(self.pid, self._used, owner.take_answered())
            self.pid = None


_RELEASING: set[asyncio.Future[None]] = set()  # kept until done (asyncio holds weak refs)


async def _release_when_granted(owner: RemoteLimiter, ref: Any) -> None:
    try:
        got = await ref
    except Exception:  # the service is gone: nothing to give back
        return
    if got is not None:
        owner.service.leave.remote(got[0], 0, [])


class RemoteLimiter:
    """A worker's view of one model's limits in the service (``Limiter``)."""

    def __init__(self, service: Any, spec: ModelSpec, worker: str, generation: int) -> None:
        self.service = service
        self.key = f"{spec.model}\n{spec.api_base or ''}"
        self.limits: Limits = (spec.concurrency, spec.rpm, spec.tpm)
        self.worker = worker
        self.generation = generation
        self._answered: list[bool] = []

    def slot(self, estimated_tokens: int = 0) -> RemotePermit:
        return RemotePermit(self, estimated_tokens)

    def answered(self, grow: bool = True) -> None:
        self._answered.append(grow)  # sent with the next permit given back

    def take_answered(self) -> list[bool]:
        out, self._answered = self._answered, []
        return out

    def rate_limited(self, retry_after: float | None, permit: HeldPermit | None = None) -> None:
        pid = permit.pid if isinstance(permit, RemotePermit) else None
        self.service.rate_limited.remote(-1 if pid is None else pid, self.key, retry_after)


class RemoteLimiters:
    """The ``limiters`` factory a worker's ``ProviderPool`` gets."""

    def __init__(self, service: Any, worker: str, generation: int) -> None:
        self.service = service
        self.worker = worker
        self.generation = generation

    def __call__(self, spec: ModelSpec) -> RemoteLimiter:
        return RemoteLimiter(self.service, spec, self.worker, self.generation)
