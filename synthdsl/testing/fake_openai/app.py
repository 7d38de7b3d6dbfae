"""The fake server's aiohttp application: routes, handlers, counters, lifecycle.

Takes a bound listening socket and the server settings (latency, jitter, an optional API
key, an optional requests-per-minute limit); serves ``POST /v1/chat/completions`` (also
``/chat/completions``), ``GET /v1/models`` (also ``/models``), ``GET /health``, ``GET
/stats`` and ``POST /reset`` on it, answering with ``replies`` and injecting the faults
of ``faults``; and OpenAI's Batch API (``POST /v1/files``, ``GET
/v1/files/{id}[/content]``, ``POST/GET /v1/batches``, ``GET /v1/batches/{id}``, ``POST
/v1/batches/{id}/cancel``) kept by ``batches.BatchStore``. Gives thread-safe counters
(``stats()``), the messages of the last requests (``conversations()``) and when each
answer was sent (``answers()``). Bad requests are answered with OpenAI-shaped error
bodies, never raised.

Server-side behaviour: 401 without ``Authorization: Bearer KEY`` when a key is set,
429 with ``Retry-After`` over the rpm limit, a latency of ``latency + uniform(0,
jitter)`` seconds per chat request (not applied to those 401/429 rejections).
Requests closed without a response are counted under ``by_status["disconnect"]``,
requests cancelled (the client went away, or the server stopped) under
``by_status["cancelled"]``.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import threading
import time
from collections import deque
from typing import Any

from aiohttp import BodyPartReader, web

from synthdsl.testing.fake_openai.batches import BatchStore, Problem
from synthdsl.testing.fake_openai.faults import (
    Attempts,
    RateWindow,
    apply_body_fault,
    select_fault,
)
from synthdsl.testing.fake_openai.replies import (
    CREATED,
    completion,
    conversation_directives,
    request_digests,
)

__all__ = ["ServerCore"]

_KEPT_CONVERSATIONS = 1000
_KEPT_ANSWERS = 100_000
_CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")

_STATUS_ERRORS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", "bad_request"),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", "forbidden"),
    404: ("invalid_request_error", "not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", "internal_error"),
    502: ("server_error", "bad_gateway"),
    503: ("server_error", "service_unavailable"),
    504: ("server_error", "gateway_timeout"),
}


def _error(
    status: int,
    message: str,
    *,
    code: str | None = None,
    retry_after: str | None = None,
) -> web.Response:
    """An OpenAI-shaped error response (type and code defaulted from the status)."""
    default_type, default_code = _STATUS_ERRORS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None)
    )
    payload = {
        "error": {
            "message": message,
            "type": default_type,
            "param": None,
            "code": code or default_code,
        }
    }
    headers = {"Retry-After": retry_after} if retry_after is not None else None
    return web.Response(
        status=status,
        body=json.dumps(payload).encode(),
        content_type="application/json",
        headers=headers,
    )


def _json_response(payload: Any) -> web.Response:
    return web.Response(body=json.dumps(payload).encode(), content_type="application/json")


def _json_response_or_error(found: dict[str, Any] | Problem) -> web.Response:
    if isinstance(found, Problem):
        return _error(found.status, found.message)
    return _json_response(found)


class ServerCore:
    """The aiohttp application, its counters and its lifecycle (one event loop)."""

    def __init__(
        self,
        *,
        latency: float,
        jitter: float,
        require_api_key: str | None,
        rpm_limit: int | None,
        batch_delay: float = 0.05,
    ) -> None:
        self.latency = latency
        self.jitter = jitter
        self._expected_auth = f"Bearer {require_api_key}" if require_api_key is not None else None
        self._rate = RateWindow(rpm_limit)
        self._jitter_rng = random.Random(1234)
        self._lock = threading.Lock()
        self._requests = 0
        self._by_status: dict[str, int] = {}
        self._in_flight = 0
        self._max_in_flight = 0
        self._auth_seen = 0
        self._attempts = Attempts()
        self.batches = BatchStore(self._attempts, delay=batch_delay)
        self._models_seen: dict[str, None] = {}
        self._conversations: deque[list[Any]] = deque(maxlen=_KEPT_CONVERSATIONS)
        # (time.monotonic(), content key) of each answer sent, oldest first
        self._answers: deque[tuple[float, str]] = deque(maxlen=_KEPT_ANSWERS)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None

    # -- counters -------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """requests, by_status, max_in_flight, in_flight, prompts, auth_headers_seen,
        and the batch counts: batches_created, files_uploaded, batch_lines."""
        batch_counts = self.batches.counts()
        with self._lock:
            return {
                **batch_counts,
                "requests": self._requests,
                "by_status": dict(self._by_status),
                "max_in_flight": self._max_in_flight,
                "in_flight": self._in_flight,
                "prompts": len(self._attempts),
                "auth_headers_seen": self._auth_seen,
            }

    def conversations(self) -> list[list[Any]]:
        """The messages of the last chat requests that parsed (oldest first, at most
        ``_KEPT_CONVERSATIONS``): what a test checks the client sent."""
        with self._lock:
            return [list(m) for m in self._conversations]

    def answers(self) -> list[tuple[float, str]]:
        """When each answer (a 200 with a completion) was sent, with its request's content
        key, oldest first (at most ``_KEPT_ANSWERS``): what a test checks the pace of the
        calls and their repeats with (``time.monotonic()`` of this process)."""
        with self._lock:
            return list(self._answers)

    def reset(self) -> None:
        """Clear counters, per-prompt attempt counters, the rpm window and the kept
        conversations and answers."""
        with self._lock:
            self._conversations.clear()
            self._answers.clear()
            self._requests = 0
            self._by_status.clear()
            self._max_in_flight = self._in_flight
            self._auth_seen = 0
            self._attempts.clear()
            self._rate.clear()
        self.batches.reset()

    # -- lifecycle ------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for path in _CHAT_PATHS:
            app.router.add_post(path, self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/models", self._models)
        for prefix in ("/v1", ""):
            app.router.add_post(f"{prefix}/files", self._upload)
            app.router.add_get(f"{prefix}/files/{{file_id}}", self._file)
            app.router.add_get(f"{prefix}/files/{{file_id}}/content", self._file_content)
            app.router.add_post(f"{prefix}/batches", self._create_batch)
            app.router.add_get(f"{prefix}/batches", self._list_batches)
            app.router.add_get(f"{prefix}/batches/{{batch_id}}", self._retrieve_batch)
            app.router.add_post(f"{prefix}/batches/{{batch_id}}/cancel", self._cancel_batch)
        app.router.add_get("/health", self._health)
        app.router.add_get("/stats", self._stats)
        app.router.add_post("/reset", self._reset)
        return app

    async def open(self, sock: socket.socket) -> None:
        """Serve on ``sock`` (already bound) from the running loop."""
        runner = web.AppRunner(
            self.app(),
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=1.0,
        )
        await runner.setup()
        site = web.SockSite(runner, sock, backlog=2048)
        await site.start()
        self._runner = runner

    async def close(self) -> None:
        """Cancel the chat requests in flight and stop serving."""
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- small endpoints ------------------------------------------------------------

    async def _health(self, request: web.Request) -> web.Response:
        return _json_response({"status": "ok"})

    async def _stats(self, request: web.Request) -> web.Response:
        return _json_response(self.stats())

    async def _reset(self, request: web.Request) -> web.Response:
        self.reset()
        return _json_response({"status": "ok"})

    async def _models(self, request: web.Request) -> web.Response:
        if self._expected_auth is not None and (
            request.headers.get("Authorization") != self._expected_auth
        ):
            return _error(401, "Incorrect API key provided.")
        with self._lock:
            names = ["fake-model", *(m for m in self._models_seen if m != "fake-model")]
        data = [
            {"id": name, "object": "model", "created": CREATED, "owned_by": "synthdsl"}
            for name in names
        ]
        return _json_response({"object": "list", "data": data})

    # -- files and batches ----------------------------------------------------------

    def _refused(self, request: web.Request) -> web.Response | None:
        """The 401 for a request without the expected key, else None."""
        if self._expected_auth is not None and (
            request.headers.get("Authorization") != self._expected_auth
        ):
            return _error(401, "Incorrect API key provided.")
        return None

    async def _upload(self, request: web.Request) -> web.Response:
        """A file: multipart (``purpose`` and ``file`` fields), or the raw body with
        ``?purpose=`` and ``?filename=``."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        purpose = request.query.get("purpose", "")
        filename = request.query.get("filename", "upload.jsonl")
        data: bytes | None = None
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "purpose":
                    purpose = (await part.read()).decode()
                elif part.name == "file":
                    filename = part.filename or filename
                    data = bytes(await part.read())
        else:
            data = await request.read()
        if data is None:
            return _error(400, "No file was uploaded.")
        if purpose != "batch":
            return _error(400, f"'purpose' must be 'batch', not {purpose!r}.")
        return _json_response(self.batches.upload(filename, purpose, data))

    async def _file(self, request: web.Request) -> web.Response:
        return self._answer(request, self.batches.file(request.match_info["file_id"]))

    async def _file_content(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        found = self.batches.content(request.match_info["file_id"])
        if isinstance(found, Problem):
            return _error(found.status, found.message)
        return web.Response(body=found, content_type="application/jsonl")

    async def _create_batch(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        try:
            body = json.loads(await request.read())
        except ValueError as exc:
            return _error(400, f"Invalid JSON body: {exc}")
        return _json_response_or_error(self.batches.create(body))

    async def _retrieve_batch(self, request: web.Request) -> web.Response:
        return self._answer(request, self.batches.retrieve(request.match_info["batch_id"]))

    async def _cancel_batch(self, request: web.Request) -> web.Response:
        return self._answer(request, self.batches.cancel(request.match_info["batch_id"]))

    async def _list_batches(self, request: web.Request) -> web.Response:
        return self._answer(request, self.batches.listing())

    def _answer(self, request: web.Request, found: dict[str, Any] | Problem) -> web.Response:
        refused = self._refused(request)
        return refused if refused is not None else _json_response_or_error(found)

    # -- chat completions -----------------------------------------------------------

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        auth = request.headers.get("Authorization")
        with self._lock:
            self._requests += 1
            self._in_flight += 1
            if self._in_flight > self._max_in_flight:
                self._max_in_flight = self._in_flight
            if auth is not None:
                self._auth_seen += 1
        status = "cancelled"
        try:
            response = await self._chat_inner(request, auth)
            if response is None:  # injected disconnect: drop the connection, answer nothing
                status = "disconnect"
                transport = request.transport
                if transport is not None:
                    transport.abort()
                return web.Response()  # never reaches the client: the transport is gone
            status = str(response.status)
            return response
        finally:
            with self._lock:
                self._in_flight -= 1
                self._by_status[status] = self._by_status.get(status, 0) + 1
            if task is not None:
                self._tasks.discard(task)

    async def _chat_inner(self, request: web.Request, auth: str | None) -> web.Response | None:
        """The response to send, or None to drop the connection."""
        if self._expected_auth is not None and auth != self._expected_auth:
            message = "Incorrect API key provided." if auth else "You didn't provide an API key."
            return _error(401, message)
        wait = self._rate.take()
        if wait is not None:
            return _error(
                429,
                f"Rate limit reached: {self._rate.limit} requests per minute.",
                retry_after=str(wait),
            )

        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return _error(400, f"Invalid JSON body: {exc}")
        if not isinstance(body, dict):
            return _error(400, "The request body must be a JSON object.")
        model = body.get("model")
        messages = body.get("messages")
        if not isinstance(model, str) or not model:
            return _error(400, "'model' is required.", code="missing_model")
        if not isinstance(messages, list) or not messages:
            return _error(400, "'messages' must be a non-empty list.", code="invalid_messages")
        if body.get("stream"):
            return _error(400, "Streaming is not supported by the fake server.")
        try:
            directives = conversation_directives(messages)
        except ValueError as exc:
            return _error(400, f"Bad directive: {exc}", code="bad_directive")

        delay = self.latency
        if self.jitter > 0:
            delay += self._jitter_rng.uniform(0.0, self.jitter)
        if delay > 0:
            await asyncio.sleep(delay)

        content_key, digest = request_digests(body)
        attempt = self._attempts.next(content_key)
        with self._lock:
            if model not in self._models_seen and len(self._models_seen) < 1000:
                self._models_seen[model] = None
            self._conversations.append(messages)

        fault = select_fault(directives.faults, attempt)
        if fault is not None:
            if fault.status is not None:
                return _error(
                    fault.status,
                    f"Injected fault {fault.kind} (attempt {attempt}).",
                    retry_after=fault.retry_after,
                )
            if fault.kind == "disconnect":
                return None
            if fault.kind == "hang":
                await asyncio.sleep(fault.seconds)

        payload = completion(body, directives, digest)
        if fault is not None:
            if fault.kind == "truncate":
                data = json.dumps(payload).encode()
                return web.Response(body=data[: len(data) // 2], content_type="application/json")
            apply_body_fault(payload, fault)
        with self._lock:
            self._answers.append((time.monotonic(), content_key.hex()))
        return _json_response(payload)
