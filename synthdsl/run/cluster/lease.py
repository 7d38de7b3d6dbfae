"""A worker's side of the limiter service: limits leased in blocks, used locally.

Input: the limiter service's actor handle, a ``ModelSpec`` and the worker's name and
generation. Output: ``LeasedLimiter`` (the ``Limiter`` interface ``ProviderPool`` uses)
and ``LeasedLimiters`` (the factory a worker's pool gets). Raises ``LimiterLost`` when
the service no longer knows this worker's life.

A call's slot comes from the slots this worker holds (a local gate, like
``ModelLimiter``'s): no message to the service. Messages go only when the worker
needs more slots (``acquire``, for all its waiting calls at once), every ``RENEW_S``
while it holds slots (``renew``: its demand and the answers counted, back the most it
may keep and the cool-down), when it gives slots back (beyond its fair share, or all of
them once idle), on a 429 (``rate_limited``, at once), and for a block of rpm/tpm
tokens (``reserve``; each request-token waits its delay, so pacing holds across
workers). Unused tokens go back when the worker turns idle and at ``close``. See
``limiter.py`` for the service and why the limits still hold across workers.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from types import TracebackType
from typing import Any

from synthdsl.llm.limits import HeldPermit
from synthdsl.llm.types import ModelSpec
from synthdsl.run.cluster.limiter import RENEW_S, LeaseState, LimiterLost, Limits

__all__ = ["AHEAD_S", "LeasedLimiter", "LeasedLimiters", "LeasedPermit"]

AHEAD_S = 0.25  # a block of rpm/tpm tokens covers at most this much of the rate


class LeasedPermit:
    """One call's place among the worker's leased slots (``HeldPermit``)."""

    def __init__(self, owner: LeasedLimiter, estimated_tokens: int) -> None:
        self._owner = owner
        self.estimated_tokens = estimated_tokens
        self.waited = 0.0
        self.epoch = owner.epoch
        self._held = False
        self._settled = False

    def settle(self, actual_tokens: int) -> None:
        """Replace the pre-call token estimate by what the call really used."""
        if self._settled or self._owner.tpm is None:
            return
        self._settled = True
        self._owner.balance += self.estimated_tokens - actual_tokens

    async def __aenter__(self) -> LeasedPermit:
        self.waited = await self._owner._enter(self.estimated_tokens)
        self.epoch = self._owner.epoch
        self._held = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._held:
            self._held = False
            self._owner._leave()


_TASKS: set[asyncio.Future[Any]] = set()  # kept until done (asyncio holds weak refs)


def _spawn(coro: Any) -> None:
    task = asyncio.ensure_future(coro)
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


class LeasedLimiter:
    """One model's limits for one worker, leased from the service (``Limiter``)."""

    def __init__(self, service: Any, spec: ModelSpec, worker: str, generation: int) -> None:
        self.service = service
        self.key = f"{spec.model}\n{spec.api_base or ''}"
        self.limits: Limits = (spec.concurrency, spec.rpm, spec.tpm)
        self.rpm = spec.rpm
        self.tpm = spec.tpm
        self.worker = worker
        self.generation = generation
        self.epoch = 0  # the service's count of concurrency decreases, as last heard
        self.slots = 0  # held from the service
        self.limit: int | None = None  # the most the service lets this worker keep
        self.in_use = 0
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._asking = 0  # slots asked for, not answered yet
        self._give_back = 0  # slots to return with the next renew
        self._renewing = False
        self._flush_soon = False
        self._grown = 0  # answers (with a reply) since the last message
        self._flat = 0  # attempts ended without a reply nor a 429
        self._cool_until = 0.0
        self._lost: LimiterLost | None = None
        # leased rpm tokens: the local times they may be used from
        self._due: deque[float] = deque()
        self._rpm_lock = asyncio.Lock()
        self._rpm_waiting = 0
        self.balance = 0.0  # leased tpm tokens (negative: used more than leased)
        self._tpm_lock = asyncio.Lock()
        self.messages = 0  # to the service, for the statistics

    # ------------------------------------------------------------------ the Limiter

    def slot(self, estimated_tokens: int = 0) -> LeasedPermit:
        return LeasedPermit(self, estimated_tokens)

    def answered(self, grow: bool = True) -> None:
        if grow:
            self._grown += 1
        else:
            self._flat += 1

    def rate_limited(self, retry_after: float | None, permit: HeldPermit | None = None) -> None:
        epoch = permit.epoch if permit is not None else self.epoch
        self.messages += 1
        ref = self.service.rate_limited.remote(
            self.key,
            self.limits,
            self.worker,
            self.generation,
            retry_after,
            epoch,
            self._take_answers(),
        )
        _spawn(self._apply_ref(ref))

    # ------------------------------------------------------------------ messages

    def _take_answers(self) -> tuple[int, int]:
        out = (self._grown, self._flat)
        self._grown = self._flat = 0
        return out

    def _demand(self) -> int:
        return self.in_use + len(self._waiters)

    async def _apply_ref(self, ref: Any) -> None:
        try:
            state = await ref
        except Exception:  # the service is gone: the run is ending
            return
        self._apply(state)

    def _apply(self, state: LeaseState | None) -> None:
        if state is None:
            self._lose()
            return
        limit, cool_for, epoch = state
        self.limit = limit
        self.epoch = max(self.epoch, epoch)
        if cool_for > 0:
            self._cool_until = max(self._cool_until, time.monotonic() + cool_for)
        self._shrink()
        self._wake()

    def _lose(self) -> None:
        self._lost = LimiterLost("the limiter service no longer knows this worker")
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(self._lost)

    def _ask(self) -> None:
        """Ask the service for slots for the calls waiting beyond what is held or
        asked for already."""
        need = len(self._waiters) - max(0, self.slots - self.in_use) - self._asking
        if need > 0 and self._lost is None:
            self._asking += need
            _spawn(self._acquire_more(need))

    async def _acquire_more(self, want: int) -> None:
        self.messages += 1
        try:
            got = await self.service.acquire.remote(
                self.key,
                self.limits,
                self.worker,
                self.generation,
                want,
                self._demand(),
                self._take_answers(),
            )
        except Exception as exc:  # the service is gone
            self._asking -= want
            self._lost = LimiterLost(f"the limiter service failed: {exc}")
            self._lose()
            return
        self._asking -= want
        if got is None:
            self._lose()
            return
        extra, state = got
        self.slots += extra
        self._apply(state)
        self._start_renewing()
        self._ask()

    def _start_renewing(self) -> None:
        if not self._renewing and self.slots > 0:
            self._renewing = True
            _spawn(self._renew_loop())

    async def _renew_loop(self) -> None:
        try:
            while self.slots > 0 and self._lost is None:
                await asyncio.sleep(RENEW_S)
                if self._demand() == 0:  # idle for a while: give everything back
                    self._give_back += self.slots - self.in_use
                    self.slots = self.in_use
                await self._renew()
            self._refund()
        finally:
            self._renewing = False

    def _flush_later(self) -> None:
        """Send the slots given back (and the answers) soon, in one message."""
        if not self._flush_soon:
            self._flush_soon = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_soon = False
        if self._give_back > 0:
            _spawn(self._renew())

    async def _renew(self) -> None:
        give, self._give_back = self._give_back, 0
        self.messages += 1
        try:
            state = await self.service.renew.remote(
                self.key,
                self.limits,
                self.worker,
                self.generation,
                self._demand(),
                give,
                self._take_answers(),
            )
        except Exception:  # the service is gone: the run is ending
            return
        self._apply(state)

    def _shrink(self) -> None:
        """Give back the idle slots above the limit."""
        if self.limit is None or self.slots <= self.limit:
            return
        idle = self.slots - self.in_use
        give = min(self.slots - self.limit, idle)
        if give > 0:
            self.slots -= give
            self._give_back += give
            self._flush_later()

    def _refund(self) -> None:
        """Give back the leased rpm/tpm tokens not used (the worker is idle)."""
        now = time.monotonic()
        unused = sum(1 for t in self._due if t > now)
        self._due.clear()
        tokens, self.balance = self.balance, 0.0
        if unused or tokens:
            self.messages += 1
            self.service.refund.remote(self.key, self.limits, unused, tokens)

    # ------------------------------------------------------------------ a call's path

    async def _acquire(self) -> None:
        if self._lost is not None:
            raise self._lost
        if self.in_use < self.slots and not self._waiters and not self._over():
            self.in_use += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._ask()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the slot came as the caller was cancelled: pass it on
            else:
                self._waiters.remove(waiter)
            raise

    def _over(self) -> bool:
        return self.limit is not None and self.in_use >= self.limit

    def _release(self) -> None:
        self.in_use -= 1
        if self.limit is not None and self.slots > self.limit:
            self.slots -= 1
            self._give_back += 1
            self._flush_later()
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_use < self.slots and not self._over():
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_use += 1
                waiter.set_result(None)

    async def _wait_cool_down(self) -> None:
        while True:
            left = self._cool_until - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(left)

    async def _rpm_token(self) -> None:
        assert self.rpm is not None
        self._rpm_waiting += 1
        try:
            async with self._rpm_lock:
                if not self._due:
                    block = max(1, math.floor(self.rpm / 60.0 * AHEAD_S))
                    await self._reserve(min(block, self._rpm_waiting), 0)
                due = self._due.popleft()
        finally:
            self._rpm_waiting -= 1
        left = due - time.monotonic()
        if left > 0:
            await asyncio.sleep(left)

    async def _tpm_tokens(self, estimate: int) -> None:
        assert self.tpm is not None
        capacity = max(1.0, self.tpm / 60.0)
        async with self._tpm_lock:
            need = min(float(estimate), capacity)
            while self.balance < need:
                amount = max(estimate - self.balance, self.tpm / 60.0 * AHEAD_S, 1.0)
                delay = await self._reserve(0, math.ceil(amount))
                if delay > 0:
                    await asyncio.sleep(delay)
                self.balance += math.ceil(amount)
            self.balance -= estimate

    async def _reserve(self, requests: int, tokens: int) -> float:
        """Reserve tokens from the service; request-tokens land in ``_due``; the tpm
        tokens' delay is returned."""
        self.messages += 1
        rpm, tpm, cool_for = await self.service.reserve.remote(
            self.key, self.limits, requests, tokens
        )
        now = time.monotonic()
        self._due.extend(now + d for d in rpm)
        if cool_for > 0:
            self._cool_until = max(self._cool_until, now + cool_for)
        return float(tpm)

    async def _enter(self, estimated_tokens: int) -> float:
        await self._acquire()
        try:
            started = time.monotonic()
            await self._wait_cool_down()
            if self.rpm:
                await self._rpm_token()
            if self.tpm and estimated_tokens > 0:
                await self._tpm_tokens(estimated_tokens)
            await self._wait_cool_down()  # a 429 met by another call meanwhile
        except BaseException:
            self._release()
            raise
        self.in_flight += 1
        return time.monotonic() - started

    def _leave(self) -> None:
        self.in_flight -= 1
        self._release()

    async def close(self) -> None:
        """Give back every slot and unused token (the worker is stopping)."""
        self._give_back += self.slots
        self.slots = 0
        if self._give_back:
            await self._renew()
        self._refund()


class LeasedLimiters:
    """The ``limiters`` factory a worker's ``ProviderPool`` gets; remembers what it made
    so the worker can give everything back at ``close``."""

    def __init__(self, service: Any, worker: str, generation: int) -> None:
        self.service = service
        self.worker = worker
        self.generation = generation
        self.made: list[LeasedLimiter] = []

    def __call__(self, spec: ModelSpec) -> LeasedLimiter:
        limiter = LeasedLimiter(self.service, spec, self.worker, self.generation)
        self.made.append(limiter)
        return limiter

    async def close(self) -> None:
        for limiter in self.made:
            await limiter.close()
