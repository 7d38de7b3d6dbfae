"""The universal path: any provider litellm knows, one attempt per call.

Input: an ``LLMRequest`` and its resolved ``Endpoint``. Output: one ``LLMResponse``
(with ``cost`` when litellm's price table knows the model). Raises ``LLMError`` with
the same kinds as the HTTP backend, so retries and accounting do not depend on the
path: "timeout" / "connection" / "unreachable" / "rate_limit" / "server_error" / "malformed"
(transient), "bad_request" / "context_length" / "auth" / "not_found" /
"missing_api_key" / "provider_error" (not).

This is the only module importing litellm, and only inside the first call (importing
it takes seconds). Facts about litellm 1.106 this module works around:

- the ``openai/`` route wraps the openai SDK, which retries twice on its own unless
  ``max_retries=0``; ``num_retries`` would retry 400s too, so it is 0 and the pool
  retries;
- a refused connection and missing credentials both surface as ``InternalServerError``
  (status 500): the cause chain (``APIConnectionError``, ``ConnectionError``) and the
  message tell them apart;
- an unparseable 200 body is an ``InternalServerError`` caused by a ``JSONDecodeError``;
  a 200 body without ``choices`` is an ``InternalServerError`` whose text says "provider
  returned 'choices' that is not a list"; an empty ``choices`` list raises a bare
  ``IndexError``;
- Retry-After is in ``exc.litellm_response_headers``;
- with ``drop_params`` on (globally or per call), the ``openai/`` route answers an HTTP
  422 by re-sending the request once and then *returns None*: drop_params is therefore
  passed per call, and never for ``openai/`` models (OpenAI-compatible endpoints get the
  parameters verbatim, as on the HTTP backend); a None response is a "bad_request";
- litellm error texts carry its class names ("litellm.BadRequestError: OpenAIException -
  ..."), even for statuses it maps to another class (a 401 from an ``openai/`` endpoint
  whose body says "invalid_request_error" is a BadRequestError): kinds come from
  ``status_code`` first, the class second;
- an ``openai/`` endpoint with an ``api_base`` and no key (``OPENAI_API_KEY`` unset and
  no ``api_key_env``) gets a placeholder key, since the SDK refuses to call without one;
  a 401/403 says which variable's key was sent (never the key).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from typing import Any

from synthdsl.errors import LLMError
from synthdsl.llm.types import LLMRequest, LLMResponse
from synthdsl.llm.wire import (
    Endpoint,
    build_body,
    error_for_status,
    looks_like_context_length,
    malformed,
    parse_completion,
    parse_retry_after,
    read_api_key,
)

__all__ = ["LiteLLMBackend", "classify_litellm_error", "load_litellm"]

# Sent as the key to OpenAI-compatible endpoints configured without one, so the openai
# SDK neither refuses the call nor falls back to the user's OPENAI_API_KEY.
NO_KEY_PLACEHOLDER = "sk-no-key-required"

_litellm: Any = None
_import_lock = threading.Lock()

# "Missing credentials. Please pass an `api_key`..." (openai SDK), "Missing Anthropic API
# Key - ...", "Missing Gemini API key. Set the GEMINI_API_KEY ...".
_MISSING_KEY_RE = re.compile(
    r"missing\s+(?:[\w-]+\s+){0,3}?(?:api[\s_-]?key|credentials)"
    r"|api_key client option must be set|no api key|api key not found|api_key is not set",
    re.IGNORECASE,
)


def load_litellm() -> Any:
    """Import litellm once, quietly (no telemetry, no debug banners, no cost-map fetch)."""
    global _litellm
    if _litellm is not None:
        return _litellm
    with _import_lock:
        if _litellm is None:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            os.environ.setdefault("LITELLM_LOG", "ERROR")
            import litellm as module

            litellm: Any = module  # set attributes its stubs do not declare
            litellm.telemetry = False
            litellm.suppress_debug_info = True
            litellm.set_verbose = False
            # Not globally: see the module docstring (422 swallowed on the openai route).
            litellm.drop_params = False
            for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
                logging.getLogger(name).setLevel(logging.ERROR)
            _litellm = litellm
    return _litellm


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen) and len(seen) < 20:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


_TIMEOUT_NAMES = frozenset(
    {"Timeout", "APITimeoutError", "TimeoutException", "TimeoutError", "ServerTimeoutError"}
)
_CONNECTION_NAMES = frozenset(
    {
        "APIConnectionError",
        "ConnectError",
        "ReadError",
        "WriteError",
        "RemoteProtocolError",
        "ClientConnectionError",
        "ClientConnectorError",
        "ServerDisconnectedError",
        "ClientOSError",
        "ConnectionError",
    }
)
# No connection at all (refused, unknown host, TLS), as opposed to one that broke.
_UNREACHABLE_NAMES = frozenset(
    {
        "ConnectError",
        "ClientConnectorError",
        "ConnectionRefusedError",
        "gaierror",
        "SSLError",
        "SSLCertVerificationError",
    }
)
_MALFORMED_NAMES = frozenset(
    {"JSONDecodeError", "ClientPayloadError", "IncompleteRead", "APIResponseValidationError"}
)

# litellm's own checks of a 200 body (raised as APIError, mapped to a 500).
_MALFORMED_MARKERS = (
    "provider returned 'choices'",
    "invalid response object",
    "response has no choices",
)


def _headers_retry_after(exc: BaseException) -> float | None:
    for obj in (getattr(exc, "litellm_response_headers", None), _response_headers(exc)):
        if obj is None:
            continue
        try:
            value = obj.get("retry-after") or obj.get("Retry-After")
        except AttributeError:
            continue
        if isinstance(value, str):
            return parse_retry_after(value)
    return None


def _response_headers(exc: BaseException) -> Any:
    response = getattr(exc, "response", None)
    return getattr(response, "headers", None)


_PREFIX_RE = re.compile(r"^\s*(?:litellm\.)?\w*(?:Error|Exception|Timeout)\s*(?::|-)\s*")


def _detail(exc: BaseException) -> str:
    """The provider's message without litellm's stacked class-name prefixes."""
    text = getattr(exc, "message", None)
    if not isinstance(text, str) or not text:
        text = str(exc)
    for _ in range(6):
        stripped = _PREFIX_RE.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    # Some providers append a whole traceback to the message.
    text = text.split("\nTraceback (most recent call last)", 1)[0].strip()
    if len(text) > 500:
        text = text[:497] + "..."
    return text or type(exc).__name__


def classify_litellm_error(exc: BaseException, *, model: str) -> LLMError:
    """The LLMError for an exception raised by ``litellm.acompletion``."""
    chain = _chain(exc)
    names: set[str] = set()
    for item in chain:
        names |= _names(item)
    detail = _detail(exc)
    lowered = " ".join(str(item) for item in chain).lower()
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None

    if names & _TIMEOUT_NAMES or status == 408:
        return LLMError(
            f"{model}: request timed out: {detail}", kind="timeout", transient=True, status=status
        )
    if _MISSING_KEY_RE.search(lowered):
        return LLMError(
            f"{model}: no API key for this provider ({detail}); set the provider's key "
            "variable, or name one with api_key_env in the model config",
            kind="missing_api_key",
            transient=False,
        )
    if status in (None, 500) and names & _UNREACHABLE_NAMES:
        return LLMError(
            f"{model}: cannot connect to the endpoint: {detail}", kind="unreachable", transient=True
        )
    if status in (None, 500) and names & _CONNECTION_NAMES:
        return LLMError(
            f"{model}: cannot reach the endpoint: {detail}", kind="connection", transient=True
        )
    if names & _MALFORMED_NAMES or any(marker in lowered for marker in _MALFORMED_MARKERS):
        return malformed(model, detail)
    if "ContextWindowExceededError" in names or (
        status in (400, 413, 422) and looks_like_context_length(detail)
    ):
        return LLMError(
            f"{model}: prompt too long for the model: {detail}",
            kind="context_length",
            transient=False,
            status=status,
        )
    if status is not None and status >= 400:
        return error_for_status(status, detail, model=model, retry_after=_headers_retry_after(exc))
    if "ServiceUnavailableError" in names or "InternalServerError" in names:
        return error_for_status(503, detail, model=model, retry_after=_headers_retry_after(exc))
    if "RateLimitError" in names:
        return error_for_status(429, detail, model=model, retry_after=_headers_retry_after(exc))
    if isinstance(exc, (LookupError, ValueError, TypeError)) and not names & {"BadRequestError"}:
        # litellm indexing into a reply without choices/message.
        return malformed(model, f"{type(exc).__name__}: {detail}")
    return LLMError(
        f"{model}: {type(exc).__name__}: {detail}",
        kind="provider_error",
        transient=False,
        status=status,
    )


def _as_dict(response: Any) -> Any:
    dump = getattr(response, "model_dump", None)
    if callable(dump):
        return dump()
    if isinstance(response, Mapping):
        return dict(response)
    to_json = getattr(response, "json", None)
    if callable(to_json):
        return json.loads(to_json())
    return response


class LiteLLMBackend:
    """Calls ``litellm.acompletion`` with litellm's own retries turned off."""

    async def complete(self, request: LLMRequest, endpoint: Endpoint) -> LLMResponse:
        """One attempt through litellm. Raises LLMError (see the module docstring)."""
        key = read_api_key(endpoint.api_key_env, optional=endpoint.key_optional)
        if (
            key is None
            and endpoint.api_base is not None
            and endpoint.litellm_model.startswith("openai/")
        ):
            key = NO_KEY_PLACEHOLDER
        # The first import takes seconds: keep the event loop running meanwhile.
        litellm = _litellm if _litellm is not None else await asyncio.to_thread(load_litellm)
        body = build_body(request, endpoint.wire_model)
        body.pop("model")
        messages = body.pop("messages")
        kwargs: dict[str, Any] = {
            "model": endpoint.litellm_model,
            "messages": messages,
            "timeout": request.spec.timeout,
            "max_retries": 0,
            "num_retries": 0,
            **body,
        }
        if not endpoint.litellm_model.startswith("openai/"):
            # Let litellm drop what the provider does not support (seed, logprobs, ...).
            kwargs["drop_params"] = True
        if endpoint.api_base is not None:
            kwargs["api_base"] = endpoint.api_base
        if key is not None:
            kwargs["api_key"] = key
        try:
            response = await litellm.acompletion(**kwargs)
        except asyncio.CancelledError:
            raise
        except LLMError:
            raise
        except Exception as exc:
            error = classify_litellm_error(exc, model=endpoint.model)
            if error.kind == "auth":
                sent = key is not None and key != NO_KEY_PLACEHOLDER
                error = LLMError(
                    f"{error} ({endpoint.key_note(sent)})",
                    kind=error.kind,
                    transient=False,
                    status=error.status,
                )
            raise error from None
        if response is None:
            raise LLMError(
                f"{endpoint.model}: litellm returned no response (it does so after an "
                "HTTP 422 it tried to fix by dropping parameters)",
                kind="bad_request",
                transient=False,
                status=422,
            )
        try:
            data = _as_dict(response)
        except Exception as exc:
            raise malformed(endpoint.model, f"unreadable litellm response: {exc}") from None
        result = parse_completion(data, model=endpoint.model)
        result.cost = _cost(litellm, response)
        return result

    async def aclose(self) -> None:
        """Close the HTTP clients litellm cached, and forget them.

        litellm caches one client per provider/key/loop; closing them without flushing
        the cache leaves closed clients that fail the next call with "Connection error".
        """
        litellm = _litellm
        if litellm is None:
            return
        with contextlib.suppress(Exception):
            await litellm.close_litellm_async_clients()
        with contextlib.suppress(Exception):
            litellm.in_memory_llm_clients_cache.flush_cache()


def _cost(litellm: Any, response: Any) -> float | None:
    try:
        value = litellm.completion_cost(completion_response=response)
    except Exception:
        return None
    if isinstance(value, (int, float)) and value > 0:
        return float(value)
    return None
