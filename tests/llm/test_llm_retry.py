"""RetryPolicy: what is retried, how long it waits, how retries are counted."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import pytest

from synthdsl.errors import LLMError
from synthdsl.llm.retry import RetryPolicy, is_retryable


def _flaky(errors: list[LLMError]) -> tuple[list[int], Callable[[], Awaitable[str]]]:
    calls: list[int] = []

    async def attempt() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "ok"

    return calls, attempt


def test_is_retryable() -> None:
    assert is_retryable(LLMError("x", kind="server_error", transient=True))
    assert not is_retryable(LLMError("x", kind="auth", transient=False))
    assert not is_retryable(ValueError("x"))


async def test_transient_errors_are_retried_and_counted() -> None:
    errors = [LLMError("x", kind="server_error", transient=True, status=500)] * 2
    calls, attempt = _flaky(errors)
    seen: list[tuple[str, float]] = []
    result, retries = await RetryPolicy(base=0.001, cap=0.01).run(
        attempt,
        max_retries=5,
        on_retry=lambda e, s: seen.append((e.kind, s)),
    )
    assert result == "ok" and retries == 2 and len(calls) == 3
    assert [k for k, _ in seen] == ["server_error", "server_error"]
    assert all(0 <= s <= 0.01 for _, s in seen)


async def test_non_transient_errors_fail_at_once() -> None:
    calls, attempt = _flaky([LLMError("bad", kind="bad_request", transient=False, status=400)])
    with pytest.raises(LLMError) as info:
        await RetryPolicy(base=0.001).run(attempt, max_retries=5)
    assert info.value.kind == "bad_request"
    assert len(calls) == 1
    assert info.value.retries == 0  # type: ignore[attr-defined]


async def test_other_exceptions_propagate_untouched() -> None:
    async def attempt() -> str:
        raise KeyError("nope")

    with pytest.raises(KeyError):
        await RetryPolicy(base=0.001).run(attempt, max_retries=3)


async def test_gives_up_after_max_retries() -> None:
    errors = [LLMError("x", kind="timeout", transient=True)] * 10
    calls, attempt = _flaky(errors)
    with pytest.raises(LLMError) as info:
        await RetryPolicy(base=0.001, cap=0.002).run(attempt, max_retries=3)
    assert len(calls) == 4
    assert info.value.kind == "timeout"
    assert info.value.retries == 3  # type: ignore[attr-defined]


async def test_retry_after_is_a_floor_and_rate_limit_hook_fires() -> None:
    errors = [LLMError("slow", kind="rate_limit", transient=True, status=429, retry_after=0.2)]
    _calls, attempt = _flaky(errors)
    cooled: list[float] = []
    start = time.monotonic()
    _, retries = await RetryPolicy(base=0.001, cap=0.002).run(
        attempt,
        max_retries=2,
        on_rate_limit=cooled.append,
    )
    assert retries == 1
    assert time.monotonic() - start >= 0.19
    assert cooled and cooled[0] >= 0.2


async def test_backoff_has_full_jitter_and_a_cap() -> None:
    errors = [LLMError("x", kind="connection", transient=True)] * 6
    _calls, attempt = _flaky(errors)
    sleeps: list[float] = []
    await RetryPolicy(base=0.004, cap=0.01).run(
        attempt,
        max_retries=6,
        on_retry=lambda e, s: sleeps.append(s),
    )
    assert len(sleeps) == 6
    assert all(0 <= s <= 0.01 for s in sleeps)
