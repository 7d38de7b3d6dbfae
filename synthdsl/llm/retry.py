"""The retry policy for LLM calls, built on tenacity.

Input: an async attempt function (one call, raising ``LLMError``), the number of
retries allowed and the backoff base/cap. Output: the attempt's result and how many
retries it took. Raises the last ``LLMError`` when it is not transient (at once) or when
the retries are used up; anything that is not an ``LLMError`` propagates untouched.

Wait before retry *n* (1-based) = max(server Retry-After, uniform(0, min(cap,
base * 2**(n-1)))) — exponential backoff with full jitter that never undercuts what the
server asked for. On a 429 the optional ``on_rate_limit`` hook receives that wait (the
pool does not use it: its limiter adapts to 429s itself, see ``limits``).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)

from synthdsl.errors import LLMError

__all__ = ["RetryPolicy", "is_retryable"]

T = TypeVar("T")


def is_retryable(exc: BaseException) -> bool:
    """Only transient LLM errors are retried."""
    return isinstance(exc, LLMError) and exc.transient


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff settings; ``run`` applies them to one call."""

    base: float = 0.5
    cap: float = 30.0

    def backoff(self, retry_number: int, exc: BaseException | None) -> float:
        """Seconds to sleep before retry ``retry_number`` (1-based) after ``exc``."""
        ceiling = min(self.cap, self.base * 2 ** (retry_number - 1))
        backoff = random.uniform(0.0, ceiling)
        server = exc.retry_after if isinstance(exc, LLMError) else None
        if server is not None:
            return max(float(server), backoff)
        return backoff

    async def run(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        max_retries: int,
        on_retry: Callable[[LLMError, float], None] | None = None,
        on_rate_limit: Callable[[float], None] | None = None,
    ) -> tuple[T, int]:
        """Run ``attempt`` until it succeeds; return (result, retries used).

        ``on_retry(error, sleep)`` is called before each retry sleep; ``on_rate_limit
        (sleep)`` too when the error was a 429. The raised error carries
        ``retries`` (an int attribute) so callers can count retries of failed calls too.
        The first attempt runs directly (most calls succeed at once, and tenacity's
        machinery costs CPU on every call); tenacity drives the retries.
        """
        try:
            return await attempt(), 0
        except LLMError as exc:
            first_error = exc
        return await self.run_after(
            first_error,
            attempt,
            max_retries=max_retries,
            on_retry=on_retry,
            on_rate_limit=on_rate_limit,
        )

    async def run_after(
        self,
        first_error: LLMError,
        attempt: Callable[[], Awaitable[T]],
        *,
        max_retries: int,
        on_retry: Callable[[LLMError, float], None] | None = None,
        on_rate_limit: Callable[[float], None] | None = None,
    ) -> tuple[T, int]:
        """``run`` once the caller's own first attempt failed with ``first_error``: raise
        it when it is not retried, else retry ``attempt`` as ``run`` does."""
        if not is_retryable(first_error) or max_retries <= 0:
            first_error.retries = 0  # type: ignore[attr-defined]
            raise first_error

        def notify(exc: LLMError, sleep: float) -> None:
            if on_retry is not None:
                on_retry(exc, sleep)
            if exc.kind == "rate_limit" and on_rate_limit is not None:
                on_rate_limit(sleep)

        def before_sleep(state: RetryCallState) -> None:
            outcome = state.outcome
            exc = outcome.exception() if outcome is not None else None
            sleep = state.next_action.sleep if state.next_action is not None else 0.0
            if isinstance(exc, LLMError):
                notify(exc, sleep)

        def wait(state: RetryCallState) -> float:
            outcome = state.outcome
            exc = outcome.exception() if outcome is not None else None
            return self.backoff(state.attempt_number + 1, exc)

        first_sleep = self.backoff(1, first_error)
        notify(first_error, first_sleep)
        await asyncio.sleep(first_sleep)
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_retryable),
            stop=stop_after_attempt(max_retries),
            wait=wait,
            before_sleep=before_sleep,
            reraise=True,
        )
        attempts = 0
        try:
            async for attempt_ctx in retrying:
                with attempt_ctx:
                    attempts = attempt_ctx.retry_state.attempt_number
                    result = await attempt()
        except LLMError as exc:
            exc.retries = attempts  # type: ignore[attr-defined]
            raise
        return result, attempts
