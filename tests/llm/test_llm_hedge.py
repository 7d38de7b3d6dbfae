"""``race``: a hedged attempt runs in its caller's task; only a twin gets one.

The attempts here are coroutines that sleep and answer (or fail): the race's rules
(who wins, which error is raised, what a cancellation does) do not depend on HTTP;
``test_llm_pool.py`` races real calls against the loopback server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from synthdsl.llm.hedge import race


def attempts(
    *plan: tuple[float, str | Exception],
) -> tuple[Callable[[], Awaitable[str]], list[str]]:
    """An attempt function whose n-th call sleeps plan[n][0] s, then answers plan[n][1]
    (or raises it); the list records which calls ended and how."""
    log: list[str] = []
    calls = iter(range(len(plan)))

    async def attempt() -> str:
        n = next(calls)
        seconds, outcome = plan[n]
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            log.append(f"{n} cancelled")
            raise
        log.append(f"{n} ended")
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return attempt, log


async def test_no_twin_before_the_delay_and_no_task_for_the_first_attempt() -> None:
    attempt, log = attempts((0.0, "first"))
    before = len(asyncio.all_tasks())
    started: list[int] = []

    async def counted() -> str:
        started.append(len(asyncio.all_tasks()))
        return await attempt()

    assert await race(counted, 5.0) == ("first", False)
    assert started == [before] and log == ["0 ended"]


async def test_a_twin_that_answers_first_wins_and_the_first_is_cancelled() -> None:
    attempt, log = attempts((5.0, "slow"), (0.01, "twin"))
    assert await race(attempt, 0.02) == ("twin", True)
    assert log == ["1 ended", "0 cancelled"]
    assert asyncio.current_task() is not None
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
    await asyncio.sleep(0.01)  # the task goes on: the twin's cancellation was taken back


async def test_the_first_answer_wins_once_the_twin_runs() -> None:
    attempt, log = attempts((0.05, "first"), (5.0, "twin"))
    assert await race(attempt, 0.01) == ("first", True)
    assert log == ["0 ended", "1 cancelled"]


async def test_a_first_attempt_failing_before_the_delay_raises_without_a_twin() -> None:
    attempt, log = attempts((0.0, ValueError("first")), (0.0, "twin"))
    with pytest.raises(ValueError, match="first"):
        await race(attempt, 1.0)
    assert log == ["0 ended"]


async def test_when_the_first_fails_the_running_twin_may_still_answer() -> None:
    attempt, log = attempts((0.03, ValueError("first")), (0.03, "twin"))
    assert await race(attempt, 0.01) == ("twin", True)
    assert log == ["0 ended", "1 ended"]


async def test_when_both_fail_the_first_error_is_raised() -> None:
    attempt, _ = attempts((0.03, ValueError("first")), (0.01, ValueError("twin")))
    with pytest.raises(ValueError, match="first"):
        await race(attempt, 0.01)


async def test_a_cancellation_from_outside_cancels_both() -> None:
    attempt, log = attempts((5.0, "first"), (5.0, "twin"))
    task = asyncio.ensure_future(race(attempt, 0.01))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(log) == ["0 cancelled", "1 cancelled"]
