"""Hedged attempts: an attempt far slower than its model's recent ones gets a twin.

Input: an attempt function (one call on the wire) and a ``LatencyWindow`` of the
model's recent answered attempts. Output: ``race(attempt, delay)``, the first answer of
the attempt or of a second one started when the first has taken ``delay`` seconds
(None: no twin), and whether the twin was started; the slower one is cancelled.
``LatencyWindow.hedge_delay()`` is ``HEDGE_FACTOR`` times the window's 95th percentile,
at least ``HEDGE_MIN_S``, once ``MIN_SAMPLES`` answers are known (None before).
Raises the first attempt's error when both fail (the twin's when only it ran to the
end); cancellation cancels both.

Why: a call that hangs (a stuck connection, an overloaded replica) would otherwise hold
its record for its whole timeout and then a retry; with a twin it costs about one
typical latency more. Only attempts past several times the usual latency get one, so
a handful of calls in a healthy run are sent twice (``hedged`` in the provider stats).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["HEDGE_FACTOR", "HEDGE_MIN_S", "MIN_SAMPLES", "LatencyWindow", "race"]

T = TypeVar("T")

HEDGE_FACTOR = 3.0
HEDGE_MIN_S = 1.0
MIN_SAMPLES = 20


class LatencyWindow:
    """The latencies of the last ``size`` answered attempts of one model."""

    def __init__(self, size: int = 200) -> None:
        self._samples: deque[float] = deque(maxlen=size)
        self._delay: float | None = None
        self._stale = 0  # samples added since the delay was computed

    def add(self, seconds: float) -> None:
        self._samples.append(seconds)
        self._stale += 1

    def hedge_delay(self) -> float | None:
        """The delay, recomputed every ``MIN_SAMPLES`` new samples (a sort per call
        would cost more than the rest of the hedging)."""
        if len(self._samples) < MIN_SAMPLES:
            return None
        if self._delay is None or self._stale >= MIN_SAMPLES:
            ordered = sorted(self._samples)
            p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
            self._delay = max(HEDGE_MIN_S, HEDGE_FACTOR * p95)
            self._stale = 0
        return self._delay


async def race(attempt: Callable[[], Awaitable[T]], delay: float | None) -> tuple[T, bool]:
    """The first answer of ``attempt()`` and, past ``delay`` s, of a twin; (answer, twin?)."""
    if delay is None:
        return await attempt(), False
    loop = asyncio.get_running_loop()
    first: asyncio.Future[T] = asyncio.ensure_future(attempt())
    try:
        # wait for the first answer or the delay, whichever comes first: a timer and one
        # future (asyncio.wait builds sets and callbacks for every call: ~10 µs more)
        woken: asyncio.Future[None] = loop.create_future()

        def wake(_: object = None) -> None:
            if not woken.done():
                woken.set_result(None)

        first.add_done_callback(wake)
        timer = loop.call_later(delay, wake)
        try:
            await woken
        finally:
            timer.cancel()
            first.remove_done_callback(wake)
        if first.done():
            return first.result(), False
        second: asyncio.Future[T] = asyncio.ensure_future(attempt())
        tasks = [first, second]
        try:
            pending = set(tasks)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in tasks:  # the first attempt's answer wins a tie
                    if task in done and task.exception() is None:
                        return task.result(), True
            errors = [t.exception() for t in tasks]
            raise next(e for e in errors if e is not None)
        finally:
            for task in tasks:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        if not first.done():
            first.cancel()
            await asyncio.gather(first, return_exceptions=True)
