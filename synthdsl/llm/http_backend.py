"""The lean path: OpenAI-compatible chat completions over aiohttp.

Input: an ``LLMRequest`` and its resolved ``Endpoint`` (api_base, wire model name, the
name of the variable holding the key). Output: one ``LLMResponse`` per call (one
attempt: retries and limits are the pool's job); ``send`` makes the Batch API's other
requests (files, batches) on the same session and gives their bodies. Raises
``LLMError`` classified as in ``wire``: "timeout" / "connection" / "unreachable" /
"rate_limit" / "server_error" / "malformed" (transient), "bad_request" /
"context_length" / "auth" / "not_found" / "missing_api_key" (not).

One ``aiohttp.ClientSession`` per backend, created lazily inside the running loop, its
connector sized to the model's concurrency. Keys go into the Authorization header
only; no message built here ever contains one.
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

import aiohttp
from yarl import URL

from synthdsl.errors import LLMError
from synthdsl.llm.types import LLMRequest, LLMResponse
from synthdsl.llm.wire import (
    Endpoint,
    build_body,
    error_detail,
    error_for_status,
    malformed,
    parse_completion,
    parse_retry_after,
    read_api_key,
)

__all__ = ["HTTPBackend"]


class HTTPBackend:
    """POSTs ``{api_base}/chat/completions`` with aiohttp; one session per backend."""

    def __init__(self, concurrency: int = 16) -> None:
        self._limit = max(1, concurrency)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit)
            # Per-call timeouts are passed with each request.
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None),
                raise_for_status=False,
            )
            self._loop = loop
        return self._session

    async def complete(self, request: LLMRequest, endpoint: Endpoint) -> LLMResponse:
        """One chat-completions attempt. Raises LLMError (see the module docstring)."""
        if endpoint.api_base is None:
            raise LLMError(
                f"{endpoint.model}: no api_base for the HTTP backend",
                kind="bad_request",
                transient=False,
            )
        key = read_api_key(endpoint.api_key_env, optional=endpoint.key_optional)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        url = endpoint.api_base.rstrip("/") + "/chat/completions"
        payload = _encode_body(build_body(request, endpoint.wire_model))
        model = endpoint.model
        status, retry_after, raw = await _exchange(
            self._get_session(),
            "POST",
            url,
            data=payload.encode(),
            headers=headers,
            timeout=request.spec.timeout,
            model=model,
            label=model,
            api_base=endpoint.api_base,
        )
        if status != 200:
            detail = _decode_error(raw)
            raise error_for_status(
                status,
                detail,
                model=model,
                retry_after=retry_after,
                key_note=endpoint.key_note(key is not None),
            )
        try:
            body: Any = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise malformed(model, f"invalid JSON ({len(raw)} bytes)") from exc
        return parse_completion(body, model=model)

    async def send(
        self,
        endpoint: Endpoint,
        method: str,
        path: str,
        *,
        json_body: dict[str, Any] | None = None,
        upload: tuple[str, bytes, dict[str, str]] | None = None,
        timeout: float = 300.0,
    ) -> bytes:
        """One request to ``{api_base}{path}`` besides chat completions (the Batch API's
        files and batches): a JSON body, or ``upload`` = (file name, bytes, other form
        fields) as multipart. Gives the 200 body; raises LLMError classified like a chat
        call's (an error status, a timeout, no connection)."""
        if endpoint.api_base is None:
            raise LLMError(
                f"{endpoint.model}: no api_base for the HTTP backend",
                kind="bad_request",
                transient=False,
            )
        key = read_api_key(endpoint.api_key_env, optional=endpoint.key_optional)
        headers = {"Accept": "application/json"}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        url = endpoint.api_base.rstrip("/") + path
        data: Any = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(json_body, ensure_ascii=False).encode()
        elif upload is not None:
            name, content, fields = upload
            form = aiohttp.FormData()
            for field, value in fields.items():
                form.add_field(field, value)
            form.add_field("file", content, filename=name, content_type="application/jsonl")
            data = form
        model = endpoint.model
        status, retry_after, raw = await _exchange(
            self._get_session(),
            method,
            url,
            data=data,
            headers=headers,
            timeout=timeout,
            model=model,
            label=f"{model}: {method} {path}",
            api_base=endpoint.api_base,
        )
        if status != 200:
            raise error_for_status(
                status,
                _decode_error(raw),
                model=f"{model} ({method} {path})",
                retry_after=retry_after,
                key_note=endpoint.key_note(key is not None),
            )
        return raw

    async def aclose(self) -> None:
        """Close the session (a later call opens a new one)."""
        session, self._session = self._session, None
        self._loop = None
        if session is not None and not session.closed:
            await session.close()


async def _exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    data: Any,
    headers: dict[str, str],
    timeout: float,
    model: str,
    label: str,
    api_base: str,
) -> tuple[int, float | None, bytes]:
    """One HTTP request: (status, Retry-After, body), or the ``LLMError`` its failure
    means (``label`` starts the message: the model, and for the Batch API the route)."""
    try:
        async with session.request(
            method, url, data=data, headers=headers, timeout=_timeout(timeout)
        ) as resp:
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            return resp.status, retry_after, await resp.read()
    except asyncio.TimeoutError as exc:
        raise LLMError(
            f"{label}: no reply within {timeout:g} s", kind="timeout", transient=True
        ) from exc
    except aiohttp.InvalidURL as exc:
        raise LLMError(
            f"{model}: invalid api_base {api_base!r}", kind="bad_request", transient=False
        ) from exc
    except aiohttp.ClientPayloadError as exc:
        raise malformed(model, f"truncated body ({type(exc).__name__})") from exc
    except aiohttp.ClientConnectorError as exc:  # refused, unknown host, TLS
        raise LLMError(
            f"{model}: cannot connect to {_safe_url(url)}: {_connection_reason(exc)}",
            kind="unreachable",
            transient=True,
        ) from exc
    except aiohttp.ClientResponseError as exc:
        raise malformed(model, f"unreadable response ({exc.message})") from exc
    except (aiohttp.ClientError, ConnectionError) as exc:
        raise LLMError(
            f"{model}: cannot reach {_safe_url(url)}: {_connection_reason(exc)}",
            kind="connection",
            transient=True,
        ) from exc


# ``json.dumps(body, ensure_ascii=False)`` without a JSONEncoder built per call (the
# same text: default separators, keys in insertion order)
_encode_body = json.JSONEncoder(ensure_ascii=False).encode


@functools.lru_cache(maxsize=32)
def _timeout(total: float) -> aiohttp.ClientTimeout:
    """The (immutable) timeout of a call, made once per value."""
    return aiohttp.ClientTimeout(total=total)


def _decode_error(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    try:
        return error_detail(json.loads(text))
    except ValueError:
        return text or "(empty body)"


def _safe_url(url: str) -> str:
    """The URL without any user:password part."""
    try:
        return str(URL(url).with_user(None))
    except ValueError:
        return "the endpoint"


def _connection_reason(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server disconnected"
    if isinstance(exc, aiohttp.ClientConnectorError):
        inner = exc.os_error
        return inner.strerror or type(inner).__name__ if inner else "connect failed"
    text = str(exc)
    return text if text else type(exc).__name__
