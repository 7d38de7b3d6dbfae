"""``FakeClient``: an in-process ``LLMClient`` giving the fake server's replies.

Takes ``LLMRequest`` objects (as the run passes them to ``RunOptions.client``) and,
optionally, scripted faults (``ScriptedFault``: the n-th call, or prompts containing a
marker, fail with an ``LLMError`` of a given kind). Gives ``LLMResponse`` objects equal
to what ``ProviderPool`` returns from ``FakeOpenAIServer`` for the same request (same
text, finish reason, token counts, logprobs and ids), per-model ``stats()`` shaped like
the pool's, and ``calls`` (how many times ``complete`` was called). Raises
``synthdsl.errors.LLMError``: a scripted fault, a malformed directive ("bad_request"),
or a ``[[fault:...]]`` directive of the prompt classified as the HTTP path would
(status 429 "rate_limit", 408 "timeout", 5xx "server_error", 401/403 "auth", 404
"not_found", other 4xx "bad_request"; "disconnect" is "connection"; "truncate" and
"malformed" are "malformed"; "hang" longer than the spec's timeout is "timeout";
"empty" answers "").

Each call is one attempt: nothing is retried (retries are the provider pool's job), so
a transient fault fails the call. The model name hashed into the reply is the spec's
model after its provider prefix ("fake" for "openai/fake"), as the HTTP path sends it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from synthdsl.errors import LLMError
from synthdsl.llm.types import LLMRequest, LLMResponse
from synthdsl.llm.wire import build_body, error_for_status, parse_completion, parse_retry_after
from synthdsl.testing.fake_openai.faults import (
    Attempts,
    Fault,
    apply_body_fault,
    select_fault,
)
from synthdsl.testing.fake_openai.replies import (
    completion,
    conversation_directives,
    request_digests,
)

__all__ = ["FakeClient", "ScriptedFault"]

_TRANSIENT = frozenset(
    {"rate_limit", "server_error", "timeout", "connection", "unreachable", "malformed"}
)


@dataclass(frozen=True)
class ScriptedFault:
    """A failure the client raises instead of answering.

    It fires on the ``call``-th call of the client (1-based) and/or for requests whose
    messages contain ``marker``; with neither, on every call. ``times`` caps how often
    it fires (None: no cap). ``transient`` defaults from the kind (rate_limit,
    server_error, timeout, connection and malformed are transient).
    """

    kind: str
    call: int | None = None
    marker: str | None = None
    times: int | None = None
    transient: bool | None = None
    status: int | None = None
    message: str = "scripted fault"

    def matches(self, call: int, request: LLMRequest) -> bool:
        """Whether it fires for this call (not counting ``times``)."""
        if self.call is not None and call != self.call:
            return False
        if self.marker is not None:
            return any(self.marker in str(m.get("content", "")) for m in request.messages)
        return True

    def error(self, model: str, call: int) -> LLMError:
        """The error it raises for ``model`` at this call."""
        transient = self.kind in _TRANSIENT if self.transient is None else self.transient
        return LLMError(
            f"{model}: {self.message} ({self.kind}, call {call})",
            kind=self.kind,
            transient=transient,
            status=self.status,
        )


def _directive_error(model: str, fault: Fault, attempt: int) -> LLMError | None:
    """The error a ``[[fault:...]]`` directive causes, or None when it still answers."""
    status = fault.status
    if status is not None:  # classified exactly as the HTTP path does
        retry_after = None if fault.retry_after is None else str(fault.retry_after)
        return error_for_status(
            status,
            f"Injected fault {fault.kind} (attempt {attempt}).",
            model=model,
            retry_after=parse_retry_after(retry_after),
        )
    if fault.kind == "disconnect":
        return LLMError(
            f"{model}: cannot reach the fake client: server disconnected",
            kind="connection",
            transient=True,
        )
    if fault.kind in ("truncate", "malformed"):
        return LLMError(
            f"{model}: malformed response: {fault.kind}", kind="malformed", transient=True
        )
    return None


class FakeClient:
    """An ``LLMClient`` answering in-process, deterministically, like the fake server.

    ``FakeClient(faults=[ScriptedFault("rate_limit", call=3)], latency=0.0)``; pass it
    as ``RunOptions(client=...)``. ``calls`` counts ``complete`` calls (failed ones
    too); ``aclose()`` only marks it closed (it holds no resources).
    """

    def __init__(self, faults: list[ScriptedFault] | None = None, *, latency: float = 0.0) -> None:
        self.faults = list(faults or [])
        self.latency = latency
        self.calls = 0
        self.closed = False
        self._fired: dict[int, int] = {}  # scripted fault index -> times fired
        self._attempts = Attempts()
        self._stats: dict[str, dict[str, Any]] = {}

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Answer one request. Raises LLMError (see the module docstring)."""
        self.calls += 1
        model = request.spec.model
        stats = self._stats.setdefault(model, _new_stats())
        stats["calls"] += 1
        try:
            response = await self._answer(request, self.calls)
        except LLMError as exc:
            stats["failed"] += 1
            for key in ("errors", "failures"):
                stats[key][exc.kind] = stats[key].get(exc.kind, 0) + 1
            raise
        stats["ok"] += 1
        stats["prompt_tokens"] += response.prompt_tokens
        stats["completion_tokens"] += response.completion_tokens
        return response

    async def _answer(self, request: LLMRequest, call: int) -> LLMResponse:
        model = request.spec.model
        for index, scripted in enumerate(self.faults):
            fired = self._fired.get(index, 0)
            if scripted.times is not None and fired >= scripted.times:
                continue
            if scripted.matches(call, request):
                self._fired[index] = fired + 1
                raise scripted.error(model, call)
        model_name = model.split("/", 1)[1] if "/" in model else model
        body = build_body(request, model_name)
        try:
            directives = conversation_directives(body["messages"])
        except ValueError as exc:
            raise LLMError(
                f"{model}: HTTP 400 bad request: Bad directive: {exc}",
                kind="bad_request",
                transient=False,
                status=400,
            ) from None
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        content_key, digest = request_digests(body)
        attempt = self._attempts.next(content_key)
        fault = select_fault(directives.faults, attempt)
        if fault is not None:
            error = _directive_error(model, fault, attempt)
            if error is not None:
                raise error
            if fault.kind == "hang":
                await self._hang(fault.seconds, request)
        payload = completion(body, directives, digest)
        if fault is not None:
            apply_body_fault(payload, fault)
        return parse_completion(payload, model=model)

    @staticmethod
    async def _hang(seconds: float, request: LLMRequest) -> None:
        timeout = request.spec.timeout
        if seconds <= timeout:
            await asyncio.sleep(seconds)
            return
        await asyncio.sleep(timeout)
        raise LLMError(
            f"{request.spec.model}: no reply within {timeout:g} s",
            kind="timeout",
            transient=True,
        )

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per model string: calls, ok, failed, errors and failures by kind, tokens."""
        return {model: _copy(stats) for model, stats in sorted(self._stats.items())}

    async def aclose(self) -> None:
        self.closed = True


def _new_stats() -> dict[str, Any]:
    return {
        "backend": "fake",
        "calls": 0,
        "ok": 0,
        "failed": 0,
        "retries": 0,
        "errors": {},
        "failures": {},
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost": None,
        "rate_limit_wait_s": 0.0,
        "backoff_s": 0.0,
        "latency_s": 0.0,
    }


def _copy(stats: dict[str, Any]) -> dict[str, Any]:
    out = dict(stats)
    out["errors"] = dict(sorted(stats["errors"].items()))
    out["failures"] = dict(sorted(stats["failures"].items()))
    return out
