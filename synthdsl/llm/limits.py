"""Client-side rate limits for one model endpoint.

Input: the limits of a ``ModelSpec`` (concurrency, requests per minute, tokens per
minute), per call an estimate of the tokens it will use, and what each attempt met (an
answer, or an HTTP 429 with its Retry-After). Output: permits that make callers *wait*
(never reject) until the call may start, plus the seconds spent waiting. Raises nothing
of its own; ``ValueError`` for non-positive limits.

429s adapt the concurrency (AIMD) instead of stopping the world on each one:

- a 429 among mostly answers (under ``SUSTAINED_SHARE`` of the last attempts) costs only
  its own call a wait (the retry honours Retry-After); the others go on;
- when 429s become frequent, the limiter halves its concurrency (once per round: only
  a 429 met by an attempt that started after the last decrease halves it again) and
  holds every caller for the Retry-After (a shared cool-down), so a sustained rate
  limit converges below itself without a storm;
- every answer adds ``1 / current`` back (about one slot per round of calls), up to the
  configured concurrency.

``TokenBucket`` refills continuously at ``rate_per_minute / 60`` tokens per second up
to ``capacity`` (the burst). A request larger than the capacity is let through once the
bucket is full and leaves it in debt, so an oversized call waits instead of hanging.

One ``ModelLimiter`` exists per (model string, api_base) and is shared by every node
calling that model; ``ProviderPool`` owns them. A limiter belongs to one event loop.
``Limiter`` is what ``ProviderPool`` needs of one: ``ModelLimiter`` is the local
implementation; another process may serve the same limits to several processes (the
Ray executor's limiter service, ``run/cluster/limiter.py``), so a limit holds across
all of them.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Protocol

__all__ = [
    "SUSTAINED_SHARE",
    "HeldPermit",
    "Limiter",
    "ModelLimiter",
    "Permit",
    "TokenBucket",
    "estimate_tokens",
]

SUSTAINED_SHARE = 0.15  # the share of recent attempts answered 429 that means "slow down"
DEFAULT_COOL_DOWN_S = 1.0  # the shared pause after frequent 429s without a Retry-After


def estimate_tokens(prompt_chars: int, max_tokens: int | None) -> int:
    """Tokens a call may use before it runs: ~4 characters a token plus the reply cap."""
    reply = max_tokens if max_tokens is not None and max_tokens > 0 else 256
    return prompt_chars // 4 + reply


class TokenBucket:
    """A token bucket that refills ``rate_per_minute`` tokens a minute, up to ``capacity``.

    ``acquire(amount)`` waits until the tokens are there and takes them; waiters are
    served first come, first served. ``refund(amount)`` gives tokens back (capped at the
    capacity) and ``charge(amount)`` takes more after the fact (the level may go
    negative), which is how an estimate is settled against actual usage.
    """

    def __init__(self, rate_per_minute: float, capacity: float | None = None) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive")
        self.rate_per_second = rate_per_minute / 60.0
        cap = capacity if capacity is not None else max(1.0, self.rate_per_second)
        if cap <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = float(cap)
        self._level = self.capacity
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        elapsed = now - self._stamp
        self._stamp = now
        if elapsed > 0:
            self._level = min(self.capacity, self._level + elapsed * self.rate_per_second)

    @property
    def level(self) -> float:
        """Tokens available now (negative while in debt)."""
        self._refill()
        return self._level

    async def acquire(self, amount: float = 1) -> float:
        """Wait until ``amount`` tokens are available, take them, return seconds waited."""
        started = time.monotonic()
        async with self._lock:
            need = min(float(amount), self.capacity)
            while True:
                self._refill()
                if self._level >= need:
                    break
                await asyncio.sleep((need - self._level) / self.rate_per_second)
            self._level -= float(amount)
        return time.monotonic() - started

    def reserve(self, amount: float = 1) -> float:
        """Take ``amount`` tokens now, without waiting: the seconds from now until they
        would have been granted (0 if at once). The level goes into debt, so the next
        reservation or ``acquire`` comes after this one: a caller that waits the
        returned delay before using them keeps the bucket's rate, whichever process it
        is in (``run/cluster/limiter.py`` hands out blocks of tokens this way)."""
        self._refill()
        need = min(float(amount), self.capacity)
        delay = max(0.0, (need - self._level) / self.rate_per_second)
        self._level -= float(amount)
        return delay

    def refund(self, amount: float) -> None:
        """Give back tokens taken in excess (never above the capacity)."""
        if amount <= 0:
            return
        self._refill()
        self._level = min(self.capacity, self._level + amount)

    def charge(self, amount: float) -> None:
        """Take tokens after the fact, without waiting (the bucket may go into debt)."""
        if amount <= 0:
            return
        self._refill()
        self._level -= amount


class Permit:
    """Leave to run one call, held inside ``async with limiter.slot(...)``.

    ``waited`` is the seconds spent in the cool-down and the rpm/tpm buckets (not in the
    concurrency queue); ``settle(actual_tokens)`` corrects the tpm estimate.
    """

    def __init__(self, limiter: ModelLimiter, estimated_tokens: int) -> None:
        self._limiter = limiter
        self.estimated_tokens = estimated_tokens
        self.waited = 0.0
        self.epoch = limiter.decreases
        self._held = False
        self._settled = False

    def settle(self, actual_tokens: int) -> None:
        """Replace the pre-call token estimate by what the call really used."""
        if self._settled:
            return
        self._settled = True
        bucket = self._limiter.tpm_bucket
        if bucket is None:
            return
        delta = self.estimated_tokens - actual_tokens
        if delta > 0:
            bucket.refund(delta)
        else:
            bucket.charge(-delta)

    async def __aenter__(self) -> Permit:
        self.waited = await self._limiter._enter(self.estimated_tokens)
        self.epoch = self._limiter.decreases
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
            self._limiter._leave()


class HeldPermit(Protocol):
    """What a caller holds while its call runs (``Permit`` is one)."""

    @property
    def waited(self) -> float: ...

    @property
    def epoch(self) -> int:
        """The limiter's count of concurrency decreases when the call started."""
        ...

    def settle(self, actual_tokens: int) -> None: ...


class Limiter(Protocol):
    """The limits of one model, as ``ProviderPool`` uses them (``ModelLimiter`` is one)."""

    def slot(self, estimated_tokens: int = 0) -> AbstractAsyncContextManager[HeldPermit]: ...

    def answered(self, grow: bool = True) -> None: ...

    def rate_limited(self, retry_after: float | None, permit: HeldPermit | None = None) -> None: ...


class ModelLimiter:
    """Concurrency (adaptive under 429s), rpm and tpm limits and a shared cool-down for
    one model.

    Use ``async with limiter.slot(estimated_tokens) as permit:`` around one call (one
    attempt: release it before sleeping for a retry), and report each attempt with
    ``answered()`` or ``rate_limited(retry_after)``. ``rpm_burst`` defaults to one
    request (calls are paced evenly), ``tpm_burst`` to one second's worth of tokens.
    """

    def __init__(
        self,
        concurrency: int,
        rpm: float | None = None,
        tpm: float | None = None,
        *,
        rpm_burst: float = 1.0,
        tpm_burst: float | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency  # the ceiling
        self.current = float(concurrency)  # what 429s have left of it (AIMD)
        self._held = 0  # slots taken (including callers still waiting on the buckets)
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._recent: deque[bool] = deque(maxlen=max(20, 2 * concurrency))  # True: a 429
        self.decreases = 0  # also the epoch: attempts remember the one they started in
        self.rpm_bucket = TokenBucket(rpm, rpm_burst) if rpm else None
        self.tpm_bucket = (
            TokenBucket(tpm, tpm_burst if tpm_burst is not None else max(1.0, tpm / 60.0))
            if tpm
            else None
        )
        self._cool_until = 0.0
        self.in_flight = 0
        self.cool_downs = 0

    def cool_down(self, seconds: float) -> None:
        """Hold back every new call of this model for ``seconds`` from now (extends only)."""
        if seconds <= 0:
            return
        until = time.monotonic() + seconds
        if until > self._cool_until:
            self._cool_until = until
            self.cool_downs += 1

    def answered(self, grow: bool = True) -> None:
        """An attempt ended without a 429; with ``grow`` (it got a reply), the limit grows
        back by about one slot a round."""
        self._recent.append(False)
        if grow and self.current < self.concurrency:
            self.current = min(float(self.concurrency), self.current + 1.0 / self.current)
            self._wake()

    def rate_limited(self, retry_after: float | None, permit: HeldPermit | None = None) -> None:
        """An attempt (``permit``) got a 429: when 429s are frequent, halve the
        concurrency and hold every caller for ``retry_after`` (see the module docstring)."""
        self._recent.append(True)
        share = sum(self._recent) / len(self._recent)
        if len(self._recent) < min(10, self.concurrency) or share < SUSTAINED_SHARE:
            return  # a sporadic 429: only its own call waits (its retry's Retry-After)
        self.cool_down(retry_after if retry_after else DEFAULT_COOL_DOWN_S)
        if permit is None or permit.epoch == self.decreases:  # not halved since it began
            self.current = max(1.0, self.current / 2)
            self.decreases += 1

    @property
    def cooling_for(self) -> float:
        """Seconds left in the current cool-down (0 when none)."""
        return max(0.0, self._cool_until - time.monotonic())

    def slot(self, estimated_tokens: int = 0) -> Permit:
        """An async context manager holding one call's place; see ``Permit``."""
        return Permit(self, estimated_tokens)

    async def _wait_cool_down(self) -> float:
        waited = 0.0
        while True:
            left = self._cool_until - time.monotonic()
            if left <= 0:
                return waited
            await asyncio.sleep(left)
            waited += left

    async def _acquire(self) -> None:
        if self._held < int(self.current) and not self._waiters:
            self._held += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the slot came as the caller was cancelled: pass it on
            else:
                self._waiters.remove(waiter)
            raise

    def _release(self) -> None:
        self._held -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self._held < int(self.current):
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._held += 1
                waiter.set_result(None)

    async def _enter(self, estimated_tokens: int) -> float:
        if (  # the common case, a free slot and nothing to wait for: no awaits at all
            self.rpm_bucket is None
            and self.tpm_bucket is None
            and not self._waiters
            and self._held < int(self.current)
            and self._cool_until <= time.monotonic()
        ):
            self._held += 1
            self.in_flight += 1
            return 0.0
        await self._acquire()
        try:
            started = time.monotonic()
            await self._wait_cool_down()
            if self.rpm_bucket is not None:
                await self.rpm_bucket.acquire(1)
            if self.tpm_bucket is not None and estimated_tokens > 0:
                await self.tpm_bucket.acquire(estimated_tokens)
            # A 429 seen by another caller while we waited on the buckets.
            await self._wait_cool_down()
        except BaseException:
            self._release()
            raise
        self.in_flight += 1
        return time.monotonic() - started

    def _leave(self) -> None:
        self.in_flight -= 1
        self._release()
