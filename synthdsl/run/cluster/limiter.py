"""One limiter service for every worker: per-model concurrency, rpm and tpm hold across
the cluster, not per process.

``LimiterService`` is the body of one Ray actor (started by ``driver.py``). Per
(model, api_base) it keeps a ``ModelLimiter`` (``llm/limits.py``) for the limits' state
(the adaptive concurrency and its 429 cool-down, the rpm and tpm buckets) and hands the
limits out in **leases**, not per call (a worker's side is ``lease.py``):

- *concurrency slots*: a worker asks for slots when it has calls waiting and keeps
  them for as many calls as it likes. The service grants only free slots, so the slots
  held by all workers never exceed the model's concurrency (as 429s have left it). Each
  worker tells the service its demand (calls running or waiting); the slots are shared
  by water-filling (everyone gets its demand, or an equal share of what is left when
  demands exceed it). While nobody is short of slots, a worker keeps what it holds; as
  soon as one is (or 429s shrink the concurrency), every worker's ``limit`` is its fair
  share and a worker above it gives slots back as its calls end. Workers renew their
  lease every ``RENEW_S``, which is also when they learn a new limit;
- *rpm and tpm allowance*: a worker reserves a block of tokens (``TokenBucket.reserve``):
  each request-token comes with the delay after which it may be used, spaced at the
  bucket's rate, so requests are paced across workers as by one bucket; tokens it does
  not use are given back (``refund``).

429s are reported at once (``rate_limited``), with the answers counted since the last
message first, so the adaptation is the local executor's and is shared: the reply
carries the cool-down and the worker's new limit. Cost: about ``1 / RENEW_S`` actor
calls a second per worker and model, plus one per block of slots or tokens, instead of
two per call.

A worker that dies holds slots nobody will give back. Each worker ``join``s under a
stable name when it starts (again after a restart): the service then takes back every
slot held under that name and counts a new generation; messages of an earlier
generation are ignored (``None`` back), and the worker then raises ``LimiterLost`` (a
``RunError``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from synthdsl.errors import RunError
from synthdsl.llm.limits import ModelLimiter

__all__ = [
    "RENEW_S",
    "LeaseState",
    "LimiterLost",
    "LimiterService",
    "Limits",
    "fair_shares",
]

Limits = tuple[int, float | None, float | None]  # concurrency, rpm, tpm
# (slots the worker may keep, seconds of cool-down left, the concurrency's decreases)
LeaseState = tuple[int, float, int]

RENEW_S = 0.1  # a worker holding slots renews its lease (and learns its limit) this often


class LimiterLost(RunError):
    """The limiter service gave a permit to another life of this worker."""


def fair_shares(capacity: int, demand: dict[str, int]) -> dict[str, int]:
    """Water-filling: every worker gets its demand if it fits, else an equal share of
    what the smaller demands leave (the remainder goes to the first names)."""
    out = {w: 0 for w in demand}
    todo = sorted((d, w) for w, d in demand.items() if d > 0)
    left = max(0, capacity)
    while todo:
        share, extra = divmod(left, len(todo))
        d, w = todo[0]
        if d <= share:
            out[w] = d
            left -= d
            todo.pop(0)
            continue
        for i, name in enumerate(sorted(w for _, w in todo)):
            out[name] = share + (1 if i < extra else 0)
        break
    return out


@dataclass
class _Epoch:
    """What ``ModelLimiter.rate_limited`` reads of the attempt that met a 429."""

    epoch: int
    waited: float = 0.0

    def settle(self, actual_tokens: int) -> None:
        return None


@dataclass
class _Pool:
    """One model's limits in the service: the state, the slots granted per worker."""

    limiter: ModelLimiter
    granted: dict[str, int] = field(default_factory=dict)
    demand: dict[str, int] = field(default_factory=dict)
    wanting: dict[str, int] = field(default_factory=dict)  # asked for, not granted yet
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    max_granted: int = 0

    @property
    def capacity(self) -> int:
        return int(self.limiter.current)

    def free(self) -> int:
        return self.capacity - sum(self.granted.values())

    def targets(self) -> dict[str, int]:
        """Fair shares of the concurrency: a worker's demand is what it last reported,
        and at least what it holds plus what it is waiting for (a report may be older
        than a request still waiting)."""
        workers = set(self.demand) | {w for w, n in self.wanting.items() if n > 0}
        demand = {
            w: max(self.demand.get(w, 0), self.granted.get(w, 0) + self.wanting.get(w, 0))
            for w in workers
        }
        return fair_shares(self.capacity, demand)

    def limit(self, worker: str, targets: dict[str, int]) -> int:
        """The most slots ``worker`` may keep: its fair share when anyone is short (or
        the concurrency has shrunk below what is granted), else what it holds."""
        held = self.granted.get(worker, 0)
        target = targets.get(worker, 0)
        short = any(self.granted.get(w, 0) < t for w, t in targets.items())
        if self.free() < 0 or (short and self.free() <= 0):
            return target
        return max(held, target)

    def poke(self) -> None:
        """Wake every waiting request: something changed."""
        self.changed.set()
        self.changed = asyncio.Event()


class LimiterService:
    """The limiter actor's body (methods are async: one event loop serves them all)."""

    def __init__(self) -> None:
        self._pools: dict[str, _Pool] = {}
        self._generation: dict[str, int] = {}

    def _pool(self, key: str, limits: Limits) -> _Pool:
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(ModelLimiter(*limits))
        return pool

    def _stale(self, worker: str, generation: int) -> bool:
        return self._generation.get(worker) != generation

    def _state(self, pool: _Pool, worker: str) -> LeaseState:
        lim = pool.limiter
        return pool.limit(worker, pool.targets()), lim.cooling_for, lim.decreases

    @staticmethod
    def _answered(pool: _Pool, grown: int, flat: int) -> None:
        for _ in range(flat):
            pool.limiter.answered(False)
        for _ in range(grown):
            pool.limiter.answered(True)

    async def join(self, worker: str) -> int:
        """A worker (re)started under ``worker``: take back what its last life held."""
        generation = self._generation.get(worker, 0) + 1
        self._generation[worker] = generation
        for pool in self._pools.values():
            pool.granted.pop(worker, None)
            pool.demand.pop(worker, None)
            pool.poke()
        return generation

    async def acquire(
        self,
        key: str,
        limits: Limits,
        worker: str,
        generation: int,
        want: int,
        demand: int,
        answers: tuple[int, int],
    ) -> tuple[int, LeaseState] | None:
        """Wait until at least one more slot can go to ``worker`` (within its fair
        share), then grant up to ``want``: (slots granted, the lease's state). ``demand``:
        the worker's calls running or waiting; ``answers``: (grown, flat) answers since
        its last message. None when ``worker`` has restarted since."""
        if self._stale(worker, generation):
            return None
        pool = self._pool(key, limits)
        self._answered(pool, *answers)
        pool.demand[worker] = demand
        pool.wanting[worker] = pool.wanting.get(worker, 0) + want
        pool.poke()
        try:
            while True:
                if self._stale(worker, generation):
                    return None
                held = pool.granted.get(worker, 0)
                target = pool.targets().get(worker, 0)
                extra = min(want, target - held, pool.free())
                if extra > 0:
                    break
                await pool.changed.wait()
        finally:
            pool.wanting[worker] -= want
        pool.granted[worker] = held + extra
        pool.max_granted = max(pool.max_granted, sum(pool.granted.values()))
        return extra, self._state(pool, worker)

    async def renew(
        self,
        key: str,
        limits: Limits,
        worker: str,
        generation: int,
        demand: int,
        give_back: int,
        answers: tuple[int, int],
    ) -> LeaseState | None:
        """A worker's periodic message (also how it gives slots back): its demand, the
        slots it returns, its answers; the lease's state back."""
        if self._stale(worker, generation):
            return None
        pool = self._pool(key, limits)
        self._answered(pool, *answers)
        if give_back > 0:
            pool.granted[worker] = max(0, pool.granted.get(worker, 0) - give_back)
        pool.demand[worker] = demand
        pool.poke()
        return self._state(pool, worker)

    async def rate_limited(
        self,
        key: str,
        limits: Limits,
        worker: str,
        generation: int,
        retry_after: float | None,
        epoch: int,
        answers: tuple[int, int],
    ) -> LeaseState | None:
        """An attempt started in ``epoch`` met a 429: the local executor's adaptation
        (``ModelLimiter.rate_limited``), for every worker at once."""
        pool = self._pool(key, limits)
        self._answered(pool, *answers)
        pool.limiter.rate_limited(retry_after, _Epoch(epoch))
        pool.poke()
        if self._stale(worker, generation):
            return None
        return self._state(pool, worker)

    async def reserve(self, key: str, limits: Limits, requests: int, tokens: int) -> Any:
        """Take ``requests`` rpm tokens and ``tokens`` tpm tokens: (the delay of each
        request token, the delay of the tpm tokens, seconds of cool-down left)."""
        lim = self._pool(key, limits).limiter
        rpm = [lim.rpm_bucket.reserve(1) for _ in range(requests)] if lim.rpm_bucket else []
        tpm = lim.tpm_bucket.reserve(tokens) if lim.tpm_bucket and tokens > 0 else 0.0
        return rpm, tpm, lim.cooling_for

    async def refund(self, key: str, limits: Limits, requests: int, tokens: float) -> None:
        """Give back reserved tokens not used (``tokens`` < 0: used more than reserved)."""
        lim = self._pool(key, limits).limiter
        if lim.rpm_bucket is not None and requests > 0:
            lim.rpm_bucket.refund(requests)
        if lim.tpm_bucket is not None:
            if tokens > 0:
                lim.tpm_bucket.refund(tokens)
            elif tokens < 0:
                lim.tpm_bucket.charge(-tokens)

    async def stats(self) -> dict[str, dict[str, Any]]:
        """Per limiter key: the most slots granted at once, and now, and the current
        concurrency."""
        return {
            key: {
                "max_granted": pool.max_granted,
                "granted": sum(pool.granted.values()),
                "current": pool.limiter.current,
                "decreases": pool.limiter.decreases,
            }
            for key, pool in sorted(self._pools.items())
        }
