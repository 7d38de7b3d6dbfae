"""TokenBucket and ModelLimiter: waits, bursts, settling and the shared cool-down."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from synthdsl.llm.limits import ModelLimiter, TokenBucket, estimate_tokens


def test_estimate_tokens() -> None:
    assert estimate_tokens(400, 50) == 150
    assert estimate_tokens(0, None) == 256  # unknown reply cap: a guess
    assert estimate_tokens(8, 0) == 2 + 256


async def test_bucket_starts_full_then_paces() -> None:
    bucket = TokenBucket(rate_per_minute=1200, capacity=2)  # 20/s
    start = time.monotonic()
    waits = [await bucket.acquire() for _ in range(6)]
    elapsed = time.monotonic() - start
    assert waits[0] == pytest.approx(0, abs=0.01) and waits[1] == pytest.approx(0, abs=0.01)
    # 2 from the burst, then 4 at 50 ms each.
    assert 0.18 <= elapsed < 0.5


async def test_bucket_waits_never_rejects_oversized_requests() -> None:
    bucket = TokenBucket(rate_per_minute=6000, capacity=5)  # 100/s
    await bucket.acquire(20)  # bigger than the burst: allowed from a full bucket, into debt
    assert bucket.level < 0
    start = time.monotonic()
    await bucket.acquire(1)  # must wait for the debt (-15) to be repaid: ~0.16 s
    assert time.monotonic() - start >= 0.14


async def test_bucket_refund_and_charge() -> None:
    bucket = TokenBucket(rate_per_minute=60, capacity=10)
    await bucket.acquire(10)
    bucket.refund(4)
    assert bucket.level == pytest.approx(4, abs=0.1)
    bucket.charge(6)
    assert bucket.level == pytest.approx(-2, abs=0.1)
    bucket.refund(100)
    assert bucket.level == pytest.approx(10)


def test_bucket_rejects_bad_rates() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        ModelLimiter(0)


async def test_limiter_concurrency() -> None:
    limiter = ModelLimiter(concurrency=3)
    peak = 0

    async def call() -> None:
        nonlocal peak
        async with limiter.slot():
            peak = max(peak, limiter.in_flight)
            await asyncio.sleep(0.02)

    await asyncio.gather(*(call() for _ in range(12)))
    assert peak == 3
    assert limiter.in_flight == 0


async def test_limiter_rpm_paces_calls() -> None:
    limiter = ModelLimiter(concurrency=10, rpm=600)  # one every 0.1 s, burst 1
    start = time.monotonic()

    async def call() -> float:
        async with limiter.slot() as permit:
            return permit.waited

    waited = await asyncio.gather(*(call() for _ in range(6)))
    assert time.monotonic() - start >= 0.48
    assert max(waited) >= 0.45


async def test_limiter_tpm_settles_estimates() -> None:
    limiter = ModelLimiter(concurrency=4, tpm=6000)  # 100 tokens/s, burst 100
    assert limiter.tpm_bucket is not None
    async with limiter.slot(100) as permit:
        permit.settle(10)  # used far less than estimated: 90 come back
    assert limiter.tpm_bucket.level == pytest.approx(90, abs=2)
    async with limiter.slot(10) as permit:
        permit.settle(60)  # used more: the bucket is charged the difference
    assert limiter.tpm_bucket.level == pytest.approx(30, abs=3)


async def test_cool_down_holds_every_caller() -> None:
    limiter = ModelLimiter(concurrency=8)
    limiter.cool_down(0.3)
    assert limiter.cooling_for > 0.2
    start = time.monotonic()

    async def call() -> float:
        async with limiter.slot() as permit:
            return permit.waited

    waited = await asyncio.gather(*(call() for _ in range(5)))
    assert time.monotonic() - start >= 0.28
    assert min(waited) >= 0.25
    limiter.cool_down(0.05)
    limiter.cool_down(0.01)  # a shorter cool-down never shortens the current one
    assert limiter.cooling_for > 0.03


async def test_slot_released_on_error() -> None:
    limiter = ModelLimiter(concurrency=1)
    with pytest.raises(RuntimeError):
        async with limiter.slot():
            raise RuntimeError("boom")
    async with limiter.slot():
        assert limiter.in_flight == 1
    assert limiter.in_flight == 0


async def test_frequent_429s_halve_the_concurrency_then_answers_grow_it_back() -> None:
    limiter = ModelLimiter(concurrency=8)
    for _ in range(20):
        limiter.answered()
    limiter.rate_limited(0.2)  # one 429 among answers: nobody else waits
    assert limiter.cooling_for == 0 and limiter.current == 8
    permits = [limiter.slot() for _ in range(8)]  # a round of 8 calls, all meet a 429
    for permit in permits:
        await permit.__aenter__()
    for permit in permits:
        limiter.rate_limited(0.2, permit)
        await permit.__aexit__(None, None, None)
    assert limiter.current == 4 and limiter.decreases == 1  # halved once for the round
    assert limiter.cooling_for > 0.1  # frequent 429s: every caller waits Retry-After
    peak = 0

    async def call() -> None:
        nonlocal peak
        async with limiter.slot():
            peak = max(peak, limiter.in_flight)
            await asyncio.sleep(0.01)

    await asyncio.gather(*(call() for _ in range(12)))
    assert peak == 4
    for _ in range(60):
        limiter.answered()
    assert limiter.current == 8  # additive increase: back to the configured ceiling


async def test_a_waiter_cancelled_while_waiting_gives_its_slot_on() -> None:
    limiter = ModelLimiter(concurrency=1)
    entered = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with limiter.slot():
            entered.set()
            await release.wait()

    async def waiter() -> None:
        async with limiter.slot():
            pass

    first = asyncio.create_task(holder())
    await entered.wait()
    cancelled = asyncio.create_task(waiter())
    second = asyncio.create_task(waiter())
    await asyncio.sleep(0.01)
    cancelled.cancel()
    release.set()
    await asyncio.gather(first, second)
    assert cancelled.cancelled() and limiter.in_flight == 0


def test_bucket_reserve_gives_the_delays_acquire_would_wait() -> None:
    bucket = TokenBucket(rate_per_minute=600, capacity=1)  # 10/s, a burst of one
    delays = [bucket.reserve(1) for _ in range(4)]
    # the first at once, then one every 100 ms: the schedule a waiting acquire keeps
    assert delays[0] == pytest.approx(0, abs=0.01)
    assert [round(b - a, 2) for a, b in itertools.pairwise(delays)] == [0.1] * 3
    bucket.refund(2)  # two given back unused: the next comes two places earlier
    assert bucket.reserve(1) == pytest.approx(delays[2], abs=0.01)
