"""A fake OpenAI-compatible chat-completions server for tests and benchmarks.

What it is: real HTTP on a loopback port (aiohttp.web), serving
``POST /v1/chat/completions`` (also ``/chat/completions``), ``GET /v1/models``,
``GET /health``, ``GET /stats`` and ``POST /reset``. Replies are deterministic: they
depend only on the request's model, messages, temperature and seed (the seed is the
"sample" value), hashed with sha256 and fed to a small counter-based generator.

Directives in the last user message drive the server (``[[name: argument]]``, the
argument ends at the first ``]]``):

- ``[[reply: TEXT]]``: the reply is exactly TEXT (one space after the colon is dropped).
- ``[[fault:KIND key=value ...]]``: fault injection. KIND is an HTTP error status
  (``429``, ``500``, ``503``, ``400``, ``401``, any other 4xx/5xx) or ``hang``
  (sleep ``seconds``, default 3600, then answer), ``truncate`` (200 with half a JSON
  body), ``malformed`` (200 without ``choices``), ``empty`` (200 with content ""),
  ``disconnect`` (connection closed without a response). ``times=N`` makes only the
  first N attempts of the same content (model + messages) fail; ``retry_after=S`` sends
  ``Retry-After: S`` (verbatim) with an error status. With several fault directives the
  first one whose ``times`` is not used up fires.
- ``[[words: N]]``: N words of text; ``[[list: N]]``: a numbered list of N distinct lines;
  ``[[score: N]]``: with a JSON response format, integer/number properties named
  ``score`` take N.

With ``response_format`` ``json_schema`` the reply is a JSON document valid against the
schema (objects, arrays, scalars with bounds, enum/const, anyOf/oneOf first branch,
allOf, local ``$ref``); with ``json_object`` it is a small object. Otherwise it is 8-40
words from a fixed vocabulary, cut at ``max_tokens`` words (finish_reason "length").

Server-side behaviour: optional API key (401 without ``Authorization: Bearer KEY``),
optional requests-per-minute limit (sliding 60 s window, 429 with ``Retry-After``), a
latency of ``latency + uniform(0, jitter)`` seconds per chat request (not applied to the
401/429 rejections of the key check and rate limit), and thread-safe counters
(``stats()``). Counting extensions: requests closed without a response are counted under
``by_status["disconnect"]``, requests cancelled (the client went away, or the server
stopped) under ``by_status["cancelled"]``.

Use it from tests (``with FakeOpenAIServer() as srv: ... srv.base_url``: the server runs
in a background thread with its own event loop) or as a subprocess::

    python -m synthdsl.testing.fake_openai --port 0 --latency 0.2

which prints ``READY http://127.0.0.1:PORT/v1`` once listening and runs until
SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import math
import random
import re
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

__all__ = ["FakeOpenAIServer", "main"]

_MASK64 = (1 << 64) - 1
_CREATED = 1_700_000_000
_MAX_SCHEMA_DEPTH = 16

_VOCAB_TEXT = """
    the of and to in is that it for was on are with as his they be at one have this
    from by hot word but what some we can out other were all there when up use your how
    said an each she which do their time if will way about many then them write would
    like so these her long make thing see him two has look more day could go come did
    number sound no most people my over know water than call first who may down side
    been now find any new work part take get place made live where after back little
    only round man year came show every good me give our under name very through just
    form sentence great think say help low line differ turn cause much mean before move
    right boy old too same tell does set three want air well also play small end put home
    read hand port large spell add even land here must big high such follow act why ask
    men change went light kind off need house picture try us again animal point mother
    world near build self earth father head stand own page should country found answer
    school grow study still learn plant cover food sun four between state keep eye never
    last let thought city tree cross farm hard start might story saw far sea draw left
    late run while press close night real life few north open seem together next white
    children begin got walk example ease paper group always music those both mark often
    letter until mile river car feet care second book carry took science eat room friend
    began idea fish mountain stop once base hear horse cut sure watch color face wood main
"""
_VOCAB: tuple[str, ...] = tuple(_VOCAB_TEXT.split())

_DIRECTIVE_RE = re.compile(r"\[\[\s*(reply|fault|words|list|score)\s*:(.*?)\]\]", re.DOTALL)
_CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")


# --------------------------------------------------------------------------- helpers


class _Rng:
    """A tiny deterministic generator (splitmix64) seeded from a digest."""

    __slots__ = ("_state",)

    def __init__(self, digest: bytes) -> None:
        self._state = int.from_bytes(digest[:8], "big")

    def next(self) -> int:
        self._state = (self._state + 0x9E3779B97F4A7C15) & _MASK64
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        return self.next() % n if n > 0 else 0

    def between(self, lo: int, hi: int) -> int:
        return lo + self.below(hi - lo + 1)

    def unit(self) -> float:
        return (self.next() >> 11) / float(1 << 53)

    def word(self) -> str:
        return _VOCAB[self.next() % len(_VOCAB)]


def _text_of(content: Any) -> str:
    """The text of a message content (a string, or a list of OpenAI content parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        ]
        return " ".join(parts)
    return ""


def _last_user_text(messages: Sequence[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return _text_of(message.get("content"))
    if messages and isinstance(messages[-1], dict):
        return _text_of(messages[-1].get("content"))
    return ""


def _number(text: str) -> int | float:
    value = float(text)
    if value.is_integer() and "." not in text and "e" not in text.lower():
        return int(value)
    return value


@dataclass(frozen=True)
class _Fault:
    kind: str
    times: int | None = None
    retry_after: str | None = None
    seconds: float = 3600.0


@dataclass
class _Directives:
    reply: str | None = None
    faults: list[_Fault] = field(default_factory=list)
    words: int | None = None
    list_n: int | None = None
    score: int | float | None = None


_FAULT_KINDS = frozenset({"hang", "truncate", "malformed", "empty", "disconnect"})


def _parse_fault(arg: str) -> _Fault:
    tokens = arg.split()
    if not tokens:
        raise ValueError("fault directive without a kind")
    kind = tokens[0].lower()
    if kind not in _FAULT_KINDS and not (kind.isdigit() and 400 <= int(kind) <= 599):
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
    return _Fault(kind, times, retry_after, seconds)


def _parse_directives(text: str) -> _Directives:
    """Directives found in ``text``; raises ValueError on a malformed one."""
    found = _Directives()
    if "[[" not in text:
        return found
    for match in _DIRECTIVE_RE.finditer(text):
        name, arg = match.group(1), match.group(2)
        if name == "reply":
            found.reply = arg[1:] if arg.startswith(" ") else arg
        elif name == "fault":
            found.faults.append(_parse_fault(arg))
        elif name == "words":
            found.words = max(0, int(arg.strip()))
        elif name == "list":
            found.list_n = max(0, int(arg.strip()))
        else:
            found.score = _number(arg.strip())
    return found


def _sentence(rng: _Rng, n: int, *, final_period: bool = True) -> str:
    if n <= 0:
        return ""
    words = [rng.word() for _ in range(n)]
    words[0] = words[0].capitalize()
    text = " ".join(words)
    return text + "." if final_period else text


def _numbered_list(rng: _Rng, n: int) -> str:
    seen: set[str] = set()
    lines: list[str] = []
    for i in range(1, n + 1):
        line = _sentence(rng, rng.between(3, 7), final_period=False)
        tries = 0
        while line in seen and tries < 20:
            line = _sentence(rng, rng.between(3, 7), final_period=False)
            tries += 1
        if line in seen:  # practically unreachable; keep lines distinct anyway
            line = f"{line} {i}"
        seen.add(line)
        lines.append(f"{i}. {line}")
    return "\n".join(lines)


# ------------------------------------------------------------------ JSON generation


class _JsonGen:
    """Builds a value valid against a (practical subset of) JSON Schema."""

    def __init__(self, root: Any, rng: _Rng, score: int | float | None) -> None:
        self._root = root
        self._rng = rng
        self._score = score

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            return {}
        node: Any = self._root
        for raw in ref[1:].split("/"):
            if not raw:
                continue
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return {}
        return node

    def _merge(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Fold ``$ref``, ``allOf`` and the first ``anyOf``/``oneOf`` branch into one dict."""
        merged: dict[str, Any] = dict(schema)
        for _ in range(_MAX_SCHEMA_DEPTH):
            changed = False
            ref = merged.pop("$ref", None)
            if isinstance(ref, str):
                target = self._resolve(ref)
                if isinstance(target, dict):
                    merged = {**target, **merged}
                changed = True
            subs = merged.pop("allOf", None)
            if isinstance(subs, list):
                for sub in subs:
                    if isinstance(sub, dict):
                        merged = self._combine(merged, sub)
                changed = True
            for key in ("anyOf", "oneOf"):
                branches = merged.pop(key, None)
                if isinstance(branches, list) and branches:
                    first = next(
                        (b for b in branches if isinstance(b, dict) and b.get("type") != "null"),
                        branches[0],
                    )
                    if isinstance(first, dict):
                        merged = self._combine(merged, first)
                    changed = True
            if not changed:
                break
        return merged

    @staticmethod
    def _combine(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        out = {**base, **extra}
        if isinstance(base.get("properties"), dict) and isinstance(extra.get("properties"), dict):
            out["properties"] = {**base["properties"], **extra["properties"]}
        if isinstance(base.get("required"), list) and isinstance(extra.get("required"), list):
            out["required"] = list(dict.fromkeys([*base["required"], *extra["required"]]))
        return out

    def value(self, schema: Any, name: str | None = None, depth: int = 0) -> Any:
        if depth > _MAX_SCHEMA_DEPTH or not isinstance(schema, dict):
            return None if schema is not True else self._rng.word()
        schema = self._merge(schema)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[self._rng.below(len(enum))]
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"]
            kind = kinds[0] if kinds else "null"
        if kind is None:
            if "properties" in schema or "required" in schema:
                kind = "object"
            elif "items" in schema or "prefixItems" in schema:
                kind = "array"
            elif any(k in schema for k in ("minimum", "maximum", "multipleOf")):
                kind = "number"
            else:
                kind = "string"
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, depth)
        if kind == "integer":
            if name == "score" and self._score is not None:
                return self._score
            return self._integer(schema)
        if kind == "number":
            if name == "score" and self._score is not None:
                return self._score
            return self._float(schema)
        if kind == "boolean":
            return self._rng.below(2) == 1
        if kind == "null":
            return None
        return self._string(schema)

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        props = schema.get("properties")
        if isinstance(props, dict):
            for key, sub in props.items():
                out[key] = self.value(sub, key, depth + 1)
        required = schema.get("required")
        if isinstance(required, list):
            extra = schema.get("additionalProperties")
            for key in required:
                if isinstance(key, str) and key not in out:
                    sub = extra if isinstance(extra, dict) else {}
                    out[key] = self.value(sub, key, depth + 1)
        return out

    def _array(self, schema: dict[str, Any], depth: int) -> list[Any]:
        lo = int(schema.get("minItems", 1))
        hi = int(schema.get("maxItems", lo + 3))
        lo = min(lo, hi)
        count = self._rng.between(lo, max(lo, min(hi, lo + 3)))
        prefix = schema.get("prefixItems")
        items = schema.get("items", {})
        unique = bool(schema.get("uniqueItems"))
        out: list[Any] = []
        seen: set[str] = set()
        tries = 0
        while len(out) < count and tries < count * 8 + 8:
            tries += 1
            index = len(out)
            if isinstance(prefix, list) and index < len(prefix):
                item = self.value(prefix[index], None, depth + 1)
            elif isinstance(items, dict):
                item = self.value(items, None, depth + 1)
            else:
                break
            if unique:
                key = json.dumps(item, sort_keys=True)
                if key in seen:
                    continue
                seen.add(key)
            out.append(item)
        return out

    def _integer(self, schema: dict[str, Any]) -> int:
        lo: int | None = None
        hi: int | None = None
        if isinstance(schema.get("minimum"), (int, float)):
            lo = math.ceil(schema["minimum"])
        if isinstance(schema.get("exclusiveMinimum"), (int, float)):
            lo2 = math.floor(schema["exclusiveMinimum"]) + 1
            lo = lo2 if lo is None else max(lo, lo2)
        if isinstance(schema.get("maximum"), (int, float)):
            hi = math.floor(schema["maximum"])
        if isinstance(schema.get("exclusiveMaximum"), (int, float)):
            hi2 = math.ceil(schema["exclusiveMaximum"]) - 1
            hi = hi2 if hi is None else min(hi, hi2)
        if lo is None and hi is None:
            lo, hi = 0, 100
        elif lo is None:
            assert hi is not None
            lo = hi - 100
        elif hi is None:
            hi = lo + 100
        hi = max(lo, hi)
        step = schema.get("multipleOf")
        if isinstance(step, int) and step > 0:
            first, last = -(-lo // step), hi // step
            if first <= last:
                return self._rng.between(first, last) * step
        return self._rng.between(lo, hi)

    def _float(self, schema: dict[str, Any]) -> float:
        lo = schema.get("minimum", schema.get("exclusiveMinimum"))
        hi = schema.get("maximum", schema.get("exclusiveMaximum"))
        lo_f = float(lo) if isinstance(lo, (int, float)) else None
        hi_f = float(hi) if isinstance(hi, (int, float)) else None
        if lo_f is None and hi_f is None:
            lo_f, hi_f = 0.0, 1.0
        elif lo_f is None:
            assert hi_f is not None
            lo_f = hi_f - 1.0
        elif hi_f is None:
            hi_f = lo_f + 1.0
        step = schema.get("multipleOf")
        if isinstance(step, (int, float)) and step > 0:
            first, last = math.ceil(lo_f / step), math.floor(hi_f / step)
            if first <= last:
                return float(self._rng.between(first, last) * step)
        value = round(lo_f + (hi_f - lo_f) * (0.05 + 0.9 * self._rng.unit()), 3)
        if not lo_f < value < hi_f:
            value = (lo_f + hi_f) / 2
        return value

    def _string(self, schema: dict[str, Any]) -> str:
        fmt = schema.get("format")
        rng = self._rng
        if fmt == "date":
            text = f"2024-{rng.between(1, 12):02d}-{rng.between(1, 28):02d}"
        elif fmt == "date-time":
            text = f"2024-{rng.between(1, 12):02d}-{rng.between(1, 28):02d}T12:00:00Z"
        elif fmt == "email":
            text = f"{rng.word()}@example.com"
        elif fmt in ("uri", "url"):
            text = f"https://example.com/{rng.word()}"
        else:
            text = _sentence(rng, rng.between(2, 6), final_period=False)
        min_len = schema.get("minLength")
        max_len = schema.get("maxLength")
        if isinstance(min_len, int):
            while len(text) < min_len:
                text = f"{text} {rng.word()}"
        if isinstance(max_len, int) and len(text) > max_len:
            text = text[:max_len]
        return text


# --------------------------------------------------------------------- server state


def _error_body(message: str, type_: str, code: str | None) -> bytes:
    payload = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return json.dumps(payload).encode()


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
    type_: str | None = None,
    code: str | None = None,
    retry_after: str | None = None,
) -> web.Response:
    default_type, default_code = _STATUS_ERRORS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None)
    )
    headers = {"Retry-After": retry_after} if retry_after is not None else None
    return web.Response(
        status=status,
        body=_error_body(message, type_ or default_type, code or default_code),
        content_type="application/json",
        headers=headers,
    )


def _json_response(payload: Any) -> web.Response:
    return web.Response(body=json.dumps(payload).encode(), content_type="application/json")


class _Core:
    """The aiohttp application, its counters and its lifecycle (one event loop)."""

    def __init__(
        self,
        *,
        latency: float,
        jitter: float,
        require_api_key: str | None,
        rpm_limit: int | None,
    ) -> None:
        self.latency = latency
        self.jitter = jitter
        self._expected_auth = f"Bearer {require_api_key}" if require_api_key is not None else None
        self._rpm_limit = rpm_limit
        self._jitter_rng = random.Random(1234)
        self._lock = threading.Lock()
        self._requests = 0
        self._by_status: dict[str, int] = {}
        self._in_flight = 0
        self._max_in_flight = 0
        self._auth_seen = 0
        self._attempts: dict[bytes, int] = {}
        self._window: deque[float] = deque()
        self._models_seen: dict[str, None] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None

    # -- counters -------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self._requests,
                "by_status": dict(self._by_status),
                "max_in_flight": self._max_in_flight,
                "in_flight": self._in_flight,
                "prompts": len(self._attempts),
                "auth_headers_seen": self._auth_seen,
            }

    def reset(self) -> None:
        with self._lock:
            self._requests = 0
            self._by_status.clear()
            self._max_in_flight = self._in_flight
            self._auth_seen = 0
            self._attempts.clear()
            self._window.clear()

    # -- lifecycle ------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for path in _CHAT_PATHS:
            app.router.add_post(path, self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/models", self._models)
        app.router.add_get("/health", self._health)
        app.router.add_get("/stats", self._stats)
        app.router.add_post("/reset", self._reset)
        return app

    async def open(self, sock: socket.socket) -> None:
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
            {"id": name, "object": "model", "created": _CREATED, "owned_by": "synthdsl"}
            for name in names
        ]
        return _json_response({"object": "list", "data": data})

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

    def _rate_limited(self) -> int | None:
        """Seconds until a slot frees when over the rpm limit, else None (slot taken)."""
        limit = self._rpm_limit
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

    async def _chat_inner(self, request: web.Request, auth: str | None) -> web.Response | None:
        """The response to send, or None to drop the connection."""
        if self._expected_auth is not None and auth != self._expected_auth:
            message = "Incorrect API key provided." if auth else "You didn't provide an API key."
            return _error(401, message)
        wait = self._rate_limited()
        if wait is not None:
            return _error(
                429,
                f"Rate limit reached: {self._rpm_limit} requests per minute.",
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
            directives = _parse_directives(_last_user_text(messages))
        except ValueError as exc:
            return _error(400, f"Bad directive: {exc}", code="bad_directive")

        delay = self.latency
        if self.jitter > 0:
            delay += self._jitter_rng.uniform(0.0, self.jitter)
        if delay > 0:
            await asyncio.sleep(delay)

        messages_json = json.dumps(
            messages, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        content_key = hashlib.sha256(f"{model}\x00{messages_json}".encode()).digest()
        with self._lock:
            attempt = self._attempts.get(content_key, 0) + 1
            self._attempts[content_key] = attempt
            if model not in self._models_seen and len(self._models_seen) < 1000:
                self._models_seen[model] = None

        fault = next((f for f in directives.faults if f.times is None or attempt <= f.times), None)
        if fault is not None:
            kind = fault.kind
            if kind.isdigit():
                return _error(
                    int(kind),
                    f"Injected fault {kind} (attempt {attempt}).",
                    retry_after=fault.retry_after,
                )
            if kind == "disconnect":
                return None
            if kind == "hang":
                await asyncio.sleep(fault.seconds)

        seed_material = json.dumps([body.get("temperature"), body.get("seed")])
        digest = hashlib.sha256(f"{model}\x00{messages_json}\x00{seed_material}".encode()).digest()
        payload = self._completion(body, model, messages, directives, digest)
        if fault is not None:
            if fault.kind == "truncate":
                data = json.dumps(payload).encode()
                return web.Response(body=data[: len(data) // 2], content_type="application/json")
            if fault.kind == "malformed":
                del payload["choices"]
            elif fault.kind == "empty":
                for choice in payload["choices"]:
                    choice["message"]["content"] = ""
                    choice["finish_reason"] = "stop"
                    if choice.get("logprobs") is not None:
                        choice["logprobs"] = {"content": []}
                payload["usage"]["completion_tokens"] = 0
                payload["usage"]["total_tokens"] = payload["usage"]["prompt_tokens"]
        return _json_response(payload)

    def _completion(
        self,
        body: dict[str, Any],
        model: str,
        messages: list[Any],
        directives: _Directives,
        digest: bytes,
    ) -> dict[str, Any]:
        n = body.get("n")
        n_choices = n if isinstance(n, int) and 1 <= n <= 128 else 1
        want_logprobs = body.get("logprobs") is True
        choices: list[dict[str, Any]] = []
        completion_tokens = 0
        for index in range(n_choices):
            choice_digest = (
                digest if index == 0 else hashlib.sha256(digest + index.to_bytes(4, "big")).digest()
            )
            content, finish = self._content(body, directives, choice_digest)
            words = content.split()
            completion_tokens += len(words)
            logprobs: dict[str, Any] | None = None
            if want_logprobs:
                lp_rng = _Rng(hashlib.sha256(choice_digest + b"logprobs").digest())
                logprobs = {
                    "content": [
                        {
                            "token": word,
                            "logprob": -round(0.0005 + 3.0 * lp_rng.unit(), 4),
                            "bytes": None,
                            "top_logprobs": [],
                        }
                        for word in words
                    ]
                }
            choices.append(
                {
                    "index": index,
                    "message": {"role": "assistant", "content": content},
                    "logprobs": logprobs,
                    "finish_reason": finish,
                }
            )
        prompt_tokens = sum(
            len(_text_of(m.get("content")).split()) for m in messages if isinstance(m, dict)
        )
        return {
            "id": "chatcmpl-" + digest.hex()[:24],
            "object": "chat.completion",
            "created": _CREATED,
            "model": model,
            "system_fingerprint": "fp_synthdsl_fake",
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    @staticmethod
    def _content(body: dict[str, Any], directives: _Directives, digest: bytes) -> tuple[str, str]:
        if directives.reply is not None:
            return directives.reply, "stop"
        rng = _Rng(digest)
        fmt = body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") in ("json_schema", "json_object"):
            spec = fmt.get("json_schema")
            schema = spec.get("schema") if isinstance(spec, dict) else None
            if isinstance(schema, dict):
                value = _JsonGen(schema, rng, directives.score).value(schema)
            else:
                score = directives.score if directives.score is not None else rng.between(1, 10)
                value = {"answer": _sentence(rng, rng.between(4, 12)), "score": score}
            return json.dumps(value, ensure_ascii=False), "stop"
        if directives.list_n is not None:
            return _numbered_list(rng, directives.list_n), "stop"
        count = directives.words if directives.words is not None else rng.between(8, 40)
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        if isinstance(limit, int) and not isinstance(limit, bool) and 0 <= limit < count:
            return _sentence(rng, limit, final_period=False), "length"
        return _sentence(rng, count), "stop"


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


# --------------------------------------------------------------------- public class


class FakeOpenAIServer:
    """The fake server running in a background thread with its own event loop.

    ``with FakeOpenAIServer(latency=0.05) as server: ...`` then point a client at
    ``server.base_url``. Works from sync code and from any asyncio loop.
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        jitter: float = 0.0,
        require_api_key: str | None = None,
        rpm_limit: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._core = _Core(
            latency=latency, jitter=jitter, require_api_key=require_api_key, rpm_limit=rpm_limit
        )
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``; valid after ``start()``."""
        if self._port is None:
            raise RuntimeError("FakeOpenAIServer is not started")
        return _url(self._host, self._port)

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeOpenAIServer is not started")
        return self._port

    def start(self) -> FakeOpenAIServer:
        if self._thread is not None:
            raise RuntimeError("FakeOpenAIServer is already started")
        sock = _bind(self._host, self._requested_port)
        ready = threading.Event()
        self._error = None
        thread = threading.Thread(
            target=self._run, args=(sock, ready), name="fake-openai", daemon=True
        )
        thread.start()
        ready.wait()
        if self._error is not None:
            thread.join()
            sock.close()
            raise RuntimeError(f"FakeOpenAIServer failed to start: {self._error}")
        self._thread = thread
        self._port = int(sock.getsockname()[1])
        return self

    def _run(self, sock: socket.socket, ready: threading.Event) -> None:
        async def serve() -> None:
            try:
                self._loop = asyncio.get_running_loop()
                self._stop_event = asyncio.Event()
                await self._core.open(sock)
            except BaseException as exc:
                self._error = exc
                ready.set()
                return
            ready.set()
            try:
                await self._stop_event.wait()
            finally:
                await self._core.close()

        asyncio.run(serve())

    def stop(self) -> None:
        thread, loop, event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(event.set)
        thread.join()
        self._thread = None
        self._loop = None
        self._stop_event = None
        self._port = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        """A snapshot: requests, by_status, max_in_flight, in_flight, prompts,
        auth_headers_seen."""
        return self._core.stats()

    def reset(self) -> None:
        """Clear counters, per-prompt attempt counters and the rpm window."""
        self._core.reset()

    def set_latency(self, latency: float, jitter: float = 0.0) -> None:
        self._core.latency = latency
        self._core.jitter = jitter


# ------------------------------------------------------------------------------ CLI


async def _serve_cli(args: argparse.Namespace) -> int:
    core = _Core(
        latency=args.latency,
        jitter=args.jitter,
        require_api_key=args.require_api_key,
        rpm_limit=args.rpm_limit,
    )
    sock = _bind(args.host, args.port)
    await core.open(sock)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    port = int(sock.getsockname()[1])
    sys.stdout.write(f"READY {_url(args.host, port)}\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await core.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m synthdsl.testing.fake_openai",
        description="Fake OpenAI-compatible chat-completions server for tests and benchmarks.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--jitter", type=float, default=0.0, help="extra uniform(0, J) s")
    parser.add_argument("--require-api-key", default=None, metavar="KEY")
    parser.add_argument("--rpm-limit", type=int, default=None, metavar="N")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_serve_cli(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
