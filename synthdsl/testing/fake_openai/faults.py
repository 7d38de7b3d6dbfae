"""Fault injection and rate limiting for the fake server (and the in-process fake client).

Takes the argument of a ``[[fault:KIND key=value ...]]`` directive, per-content attempt
numbers and request times; gives ``Fault`` specs, the fault that fires for an attempt,
completion payloads altered by a body fault ("malformed", "empty", "content_filter"),
per-content attempt counters (``Attempts``) and a sliding 60 s requests-per-minute
window (``RateWindow``).
Both counters are thread-safe. ``parse_fault`` raises ValueError on a malformed
directive.

KIND is an HTTP error status (400-599) or one of ``FAULT_KINDS``: "hang" (sleep
``seconds``, default 3600, then answer), "truncate" (half a JSON body), "malformed"
(no ``choices``), "empty" (content ""), "content_filter" (no content, finish reason
``content_filter``, as a provider's moderation answers), "disconnect" (no response).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FAULT_KINDS",
    "Attempts",
    "Fault",
    "RateWindow",
    "apply_body_fault",
    "parse_fault",
    "select_fault",
]

FAULT_KINDS = frozenset({"hang", "truncate", "malformed", "empty", "content_filter", "disconnect"})


@dataclass(frozen=True)
class Fault:
    """One injected fault: fires for the first ``times`` attempts (always when None)."""

    kind: str
    times: int | None = None
    retry_after: str | None = None
    seconds: float = 3600.0

    @property
    def status(self) -> int | None:
        """The HTTP status of an error-status fault, else None."""
        return int(self.kind) if self.kind.isdigit() else None


def parse_fault(arg: str) -> Fault:
    """The fault of a directive argument ("500 times=1"); ValueError when malformed."""
    tokens = arg.split()
    if not tokens:
        raise ValueError("fault directive without a kind")
    kind = tokens[0].lower()
    if kind not in FAULT_KINDS and not (kind.isdigit() and 400 <= int(kind) <= 599):
        raise ValueError(f"unknown fault kind {kind!r}")
    times: int | None = None
    retry_after: str | None = None
    seconds = 3600.0
    for token in tokens[1:]:
        key, sep, value = token.partition("=")
        if not sep:
            raise ValueError(f"fault option {token!r} is not key=value")
        if key == "times":
            times = int(value)
        elif key == "retry_after":
            float(value)  # must be a number; sent verbatim
            retry_after = value
        elif key == "seconds":
            seconds = float(value)
        else:
            raise ValueError(f"unknown fault option {key!r}")
    return Fault(kind, times, retry_after, seconds)


def select_fault(faults: Sequence[Fault], attempt: int) -> Fault | None:
    """The first fault whose ``times`` is not used up at this (1-based) attempt."""
    return next((f for f in faults if f.times is None or attempt <= f.times), None)


def apply_body_fault(payload: dict[str, Any], fault: Fault) -> None:
    """Alter a completion payload in place for a "malformed", "empty" or
    "content_filter" fault."""
    if fault.kind == "malformed":
        del payload["choices"]
    elif fault.kind == "content_filter":
        for choice in payload["choices"]:
            choice["message"]["content"] = None
            choice["finish_reason"] = "content_filter"
        payload["usage"]["completion_tokens"] = 0
        payload["usage"]["total_tokens"] = payload["usage"]["prompt_tokens"]
    elif fault.kind == "empty":
        for choice in payload["choices"]:
            choice["message"]["content"] = ""
            choice["finish_reason"] = "stop"
            if choice.get("logprobs") is not None:
                choice["logprobs"] = {"content": []}
        payload["usage"]["completion_tokens"] = 0
        payload["usage"]["total_tokens"] = payload["usage"]["prompt_tokens"]


class Attempts:
    """How many times each content key (model + messages) was asked; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[bytes, int] = {}

    def next(self, key: bytes) -> int:
        """Count one more attempt of ``key``; its number (1 for the first)."""
        with self._lock:
            attempt = self._counts.get(key, 0) + 1
            self._counts[key] = attempt
            return attempt

    def __len__(self) -> int:
        with self._lock:
            return len(self._counts)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


class RateWindow:
    """A requests-per-minute limit over a sliding 60 s window; thread-safe."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._window: deque[float] = deque()

    def take(self) -> int | None:
        """Take a slot and return None, or (over the limit) the seconds until one frees."""
        limit = self.limit
        if limit is None:
            return None
        now = time.monotonic()
        with self._lock:
            window = self._window
            while window and window[0] <= now - 60.0:
                window.popleft()
            if len(window) >= limit:
                return max(1, math.ceil(window[0] + 60.0 - now)) if window else 60
            window.append(now)
        return None

    def clear(self) -> None:
        with self._lock:
            self._window.clear()
