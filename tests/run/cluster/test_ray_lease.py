"""Leased limits (``run/cluster/lease.py`` against the real limiter service actor): the
slots held by all workers never exceed the concurrency, a waiting worker gets its fair
share from a busy one, 429 adaptation reaches every worker, and a dead worker's slots
come back when it joins again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from synthdsl.llm.types import ModelSpec
from synthdsl.run.cluster.lease import LeasedLimiter
from synthdsl.run.cluster.limiter import RENEW_S, LimiterService, fair_shares

pytestmark = pytest.mark.ray

SPEC = ModelSpec(alias="gen", model="openai/fake", api_base="http://127.0.0.1:9/v1", concurrency=4)


def test_fair_shares_water_fill() -> None:
    assert fair_shares(8, {"a": 10, "b": 1}) == {"a": 7, "b": 1}
    assert fair_shares(8, {"a": 10, "b": 10, "c": 0}) == {"a": 4, "b": 4, "c": 0}
    assert fair_shares(5, {"b": 9, "a": 9}) == {"a": 3, "b": 2}
    assert fair_shares(8, {"a": 2, "b": 3}) == {"a": 2, "b": 3}


@pytest.fixture
def service(ray_instance: Any) -> Any:
    actor = ray_instance.remote(LimiterService).options(max_concurrency=1000).remote()
    yield actor
    ray_instance.kill(actor, no_restart=True)


async def _worker(service: Any, name: str, spec: ModelSpec = SPEC) -> LeasedLimiter:
    return LeasedLimiter(service, spec, name, await service.join.remote(name))


async def test_a_waiting_worker_gets_its_share_and_the_sum_holds(service: Any) -> None:
    a = await _worker(service, "a")
    b = await _worker(service, "b")
    worst = 0
    b_most = 0

    async def call(lim: LeasedLimiter, seconds: float) -> None:
        nonlocal worst, b_most
        async with lim.slot():
            worst = max(worst, a.in_flight + b.in_flight)
            b_most = max(b_most, b.in_flight)
            await asyncio.sleep(seconds)

    async def busy(lim: LeasedLimiter, calls: int) -> None:
        sem = asyncio.Semaphore(8)  # more calls ready than the model's concurrency

        async def one() -> None:
            async with sem:
                await call(lim, 0.05)

        await asyncio.gather(*(one() for _ in range(calls)))

    first = asyncio.ensure_future(busy(a, 60))  # a takes all 4 slots
    await asyncio.sleep(0.2)
    assert a.slots == 4
    await busy(b, 20)  # b arrives: a gives back down to its share as its calls end
    assert not first.done(), "b should not wait for a to finish"
    await first
    assert worst <= 4 and b_most == 2
    await asyncio.sleep(2 * RENEW_S + 0.05)  # both idle: every slot goes back
    stats = await service.stats.remote()
    assert [row["granted"] for row in stats.values()] == [0]
    assert [row["max_granted"] for row in stats.values()] == [4]


async def test_429_adaptation_reaches_every_worker(service: Any) -> None:
    spec = ModelSpec(
        alias="gen", model="openai/fake", api_base="http://127.0.0.1:9/v1", concurrency=8
    )
    a = await _worker(service, "a", spec)
    b = await _worker(service, "b", spec)
    async with b.slot():  # b holds a lease
        pass
    for _ in range(12):  # a meets 429 after 429: sustained, so the model slows down
        async with a.slot() as permit:
            a.rate_limited(0.6, permit)
    await asyncio.sleep(2 * RENEW_S)  # b's lease renews meanwhile
    stats = next(iter((await service.stats.remote()).values()))
    assert stats["current"] == 4 and stats["decreases"] == 1  # halved once for the round
    assert b.limit is not None and b.limit <= 4 and b.epoch == 1
    async with b.slot() as permit:  # b waits out the cool-down a's 429s started
        assert permit.waited >= 0.2


async def test_a_dead_workers_slots_come_back_when_it_joins_again(service: Any) -> None:
    dead = await _worker(service, "w0")
    other = await _worker(service, "w1")
    held = [dead.slot() for _ in range(4)]
    for permit in held:
        await permit.__aenter__()  # the process dies holding them: never left
    assert dead.slots == 4
    waiting = asyncio.ensure_future(other.slot().__aenter__())
    await asyncio.sleep(0.3)
    assert not waiting.done()  # every slot is held by the dead worker
    reborn = await _worker(service, "w0")  # Ray restarted it: it joins under its name
    permit = await asyncio.wait_for(waiting, 5)  # what the dead one held is free again
    await permit.__aexit__(None, None, None)
    async with reborn.slot():
        assert reborn.slots >= 1
    # the old life's messages are refused: it learns it is lost
    dead._release()
    await asyncio.sleep(0.05)
    with pytest.raises(Exception, match="no longer knows this worker"):
        async with dead.slot():
            pass


async def test_a_waiting_request_is_served_even_after_an_idle_report() -> None:
    # the service's own logic, in this process: a worker's renew reported no demand
    # while its request for slots was still waiting; the request must still be served
    svc = LimiterService()
    key, limits = "m\n", (4, None, None)
    ga, gb = await svc.join("a"), await svc.join("b")
    assert await svc.acquire(key, limits, "b", gb, 4, 4, (0, 0)) is not None
    waiting = asyncio.ensure_future(svc.acquire(key, limits, "a", ga, 2, 2, (0, 0)))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # b holds every slot
    await svc.renew(key, limits, "a", ga, 0, 0, (0, 0))  # an idle moment of a
    await svc.renew(key, limits, "b", gb, 0, 4, (0, 0))  # b gives everything back
    got = await asyncio.wait_for(waiting, 1)
    assert got is not None and got[0] == 2


async def test_tpm_holds_across_workers_leasing_blocks(service: Any) -> None:
    # 12,000 tokens a minute (200 a second, a burst of 200) shared by two workers: 12
    # calls of 50 estimated tokens need (600 - 200) / 200 = 2 s whoever makes them
    spec = ModelSpec(
        alias="gen",
        model="openai/fake",
        api_base="http://127.0.0.1:9/v1",
        concurrency=8,
        tpm=12_000,
    )
    a = await _worker(service, "a", spec)
    b = await _worker(service, "b", spec)

    async def call(lim: LeasedLimiter) -> None:
        async with lim.slot(50) as permit:
            permit.settle(50)

    t0 = asyncio.get_running_loop().time()
    await asyncio.gather(*(call(a if i % 2 else b) for i in range(12)))
    elapsed = asyncio.get_running_loop().time() - t0
    assert 1.6 <= elapsed < 5.0, elapsed
    assert a.balance >= 0 and b.balance >= 0  # leased ahead, not in debt
