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
    """The first answer of ``attempt()`` and, past ``delay`` s, of a twin; (answer, twin?).

    The first attempt runs in the caller's task (no task per call: most calls never get
    a twin); only the twin gets a task. When the twin answers first, it cancels the
    caller's task, which takes that cancellation back (``uncancel``) and returns the
    twin's answer; a cancellation from outside still propagates.
    """
    if delay is None:
        return await attempt(), False
    loop = asyncio.get_running_loop()
    caller = asyncio.current_task()
    if caller is None:  # pragma: no cover - always called from a task
        return await attempt(), False
    twin: asyncio.Future[T] | None = None
    twin_won = False  # the twin answered while the first attempt was still running
    settled = False  # the first attempt ended (or race returned): the twin cancels nothing

    def on_twin_done(done: asyncio.Future[T]) -> None:
        nonlocal twin_won
        if settled or done.cancelled() or done.exception() is not None:
            return  # a failed twin: the first attempt goes on
        twin_won = True
        caller.cancel()

    def start_twin() -> None:
        nonlocal twin
        twin = asyncio.ensure_future(attempt())
        twin.add_done_callback(on_twin_done)

    timer = loop.call_later(delay, start_twin)
    try:
        try:
            result = await attempt()
        except asyncio.CancelledError:
            if not twin_won:
                raise
            settled = True
            if _took_back(caller):
                raise
            assert twin is not None
            return twin.result(), True
        except Exception as first_error:
            settled = True
            if twin_won and not _took_back(caller):  # it raised while being cancelled
                assert twin is not None
                return twin.result(), True
            if twin is None:
                raise
            try:  # the first attempt failed: the twin may still answer
                return await twin, True
            except Exception:
                raise first_error from None
        settled = True
        if twin_won:  # the attempt swallowed the twin's cancellation and answered
            _took_back(caller)
        return result, twin is not None
    finally:
        settled = True
        timer.cancel()
        if twin is not None and not twin.done():
            twin.cancel()
            await asyncio.gather(twin, return_exceptions=True)


def _took_back(task: asyncio.Task[object]) -> bool:
    """Take back one cancellation of ``task`` made here; whether another (from outside)
    is still pending (Python 3.10 counts none: always False there)."""
    uncancel = getattr(task, "uncancel", None)
    if uncancel is None:  # pragma: no cover - Python 3.10
        return False
    return bool(uncancel() > 0)
