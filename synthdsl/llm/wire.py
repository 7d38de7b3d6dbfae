"""OpenAI chat-completions wire format, shared by both backends.

Input: a resolved ``Endpoint`` (where and how to call), an ``LLMRequest``, HTTP
statuses, header values and decoded response bodies. Output: request bodies,
``LLMResponse`` objects, API keys read from the environment, ``LLMError`` objects
classified the same way whichever backend saw the failure. Raises ``LLMError``
(kind "malformed" for unusable 200 bodies, "missing_api_key" for an unset key variable).

Error kinds: "rate_limit" (429), "server_error" (5xx), "timeout", "connection" (the
connection broke during a call), "unreachable" (no connection at all: refused, unknown
host, TLS failure), "malformed" — all transient; "bad_request" (400/422), "context_length", "auth"
(401/403), "not_found" (404), "missing_api_key" — never retried.
"""

from __future__ import annotations

import email.utils
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from synthdsl.errors import LLMError
from synthdsl.llm.types import LLMRequest, LLMResponse

__all__ = [
    "OPENAI_API_BASE",
    "TRANSIENT_KINDS",
    "Endpoint",
    "build_body",
    "error_detail",
    "error_for_status",
    "looks_like_context_length",
    "malformed",
    "parse_completion",
    "parse_retry_after",
    "read_api_key",
]

OPENAI_API_BASE = "https://api.openai.com/v1"

TRANSIENT_KINDS = frozenset(
    {"rate_limit", "server_error", "timeout", "connection", "unreachable", "malformed"}
)

_CONTEXT_MARKERS = (
    "context length",
    "context_length",
    "context window",
    "maximum context",
    "exceeds the available context",
    "exceed_context_size",
    "too many tokens",
)


@dataclass(frozen=True)
class Endpoint:
    """Where one model is called.

    ``model`` is the model string as given in the spec (the stats key); ``wire_model`` the
    name sent in the request body ("gpt-4o-mini" for "openai/gpt-4o-mini", the served
    alias for "local/..."); ``litellm_model`` what litellm is called with.
    ``api_key_env`` names the variable holding the key (None: send no key);
    ``key_optional``: when that variable is unset, send no key instead of failing (the
    conventional ``OPENAI_API_KEY`` for an OpenAI-compatible ``api_base``: a local
    server needs none). ``backend`` is "http" or "litellm".
    """

    model: str
    wire_model: str
    litellm_model: str
    api_base: str | None
    api_key_env: str | None
    backend: str
    key_optional: bool = False

    def key_note(self, sent: bool) -> str:
        """Which key a request carried, by variable name (never its value)."""
        if sent:
            return f"the key sent was the one in ${self.api_key_env}"
        if self.api_key_env:
            return f"no key was sent: ${self.api_key_env} is not set"
        return "no key was sent: name its variable with api_key_env on the model alias"


def read_api_key(env_name: str | None, *, optional: bool = False) -> str | None:
    """The API key held by ``env_name`` (None when no variable is configured, or when
    it is ``optional`` and unset).

    Raises LLMError(kind="missing_api_key") naming the variable, never a value.
    """
    if env_name is None:
        return None
    value = os.environ.get(env_name)
    if not value and optional:
        return None
    if not value:
        raise LLMError(
            f"environment variable {env_name} is not set (it should hold the API key)",
            kind="missing_api_key",
            transient=False,
        )
    return value


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds (float ok) or HTTP-date."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, min(seconds, 3600.0))


def looks_like_context_length(message: str) -> bool:
    """Whether an error text says the prompt does not fit the model's context."""
    lowered = message.lower()
    return any(marker in lowered for marker in _CONTEXT_MARKERS)


def error_for_status(
    status: int,
    detail: str,
    *,
    model: str,
    retry_after: float | None = None,
    key_note: str | None = None,
) -> LLMError:
    """The LLMError for an HTTP error status, classified into a stable kind.
    ``key_note`` says, for 401/403, which key variable the request used."""
    detail = _shorten(detail)
    where = f"{model}: HTTP {status}"
    if status == 429:
        return LLMError(
            f"{where} rate limited: {detail}",
            kind="rate_limit",
            transient=True,
            status=status,
            retry_after=retry_after,
        )
    if status == 408:
        return LLMError(
            f"{where} request timeout: {detail}",
            kind="timeout",
            transient=True,
            status=status,
            retry_after=retry_after,
        )
    if status >= 500:
        return LLMError(
            f"{where} server error: {detail}",
            kind="server_error",
            transient=True,
            status=status,
            retry_after=retry_after,
        )
    if status in (401, 403):
        return LLMError(
            f"{where} not authorised: {detail}" + (f" ({key_note})" if key_note else ""),
            kind="auth",
            transient=False,
            status=status,
        )
    if status == 404:
        return LLMError(
            f"{where} not found: {detail}", kind="not_found", transient=False, status=status
        )
    if looks_like_context_length(detail):
        return LLMError(
            f"{where} prompt too long for the model: {detail}",
            kind="context_length",
            transient=False,
            status=status,
        )
    return LLMError(
        f"{where} bad request: {detail}", kind="bad_request", transient=False, status=status
    )


def error_detail(body: object) -> str:
    """The human part of an error body: ``error.message`` when present, else the text."""
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, Mapping):
            msg = err.get("message")
            if isinstance(msg, str):
                return msg
        elif isinstance(err, str):
            return err
        msg = body.get("message") or body.get("detail")
        if isinstance(msg, str):
            return msg
    return str(body)


def _shorten(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def malformed(model: str, why: str) -> LLMError:
    """The transient error for a 200 reply that is not a usable chat completion."""
    return LLMError(f"{model}: malformed response: {why}", kind="malformed", transient=True)


def build_body(request: LLMRequest, wire_model: str) -> dict[str, Any]:
    """The JSON body of a chat-completions call (spec params, then request extras)."""
    body: dict[str, Any] = {
        "model": wire_model,
        "messages": [dict(m) for m in request.messages],
    }
    body.update(request.spec.param_dict())
    body.update(dict(request.extra))
    if request.response_format is not None:
        body["response_format"] = request.response_format
    body.pop("stream", None)
    return body


def _as_int(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return 0


def _logprobs(choice: Mapping[str, Any]) -> list[float] | None:
    block = choice.get("logprobs")
    if not isinstance(block, Mapping):
        return None
    content = block.get("content")
    if not isinstance(content, list):
        return None
    out: list[float] = []
    for item in content:
        if isinstance(item, Mapping):
            lp = item.get("logprob")
            if isinstance(lp, (int, float)) and not isinstance(lp, bool):
                out.append(float(lp))
    return out


def parse_completion(body: object, *, model: str) -> LLMResponse:
    """An ``LLMResponse`` from a decoded chat-completions body.

    Raises LLMError(kind="malformed") when choices, the message or its content are
    missing (a tool-call-only reply with no text counts as empty text, not malformed),
    and LLMError(kind="content_filter") when the provider's moderation withheld the
    reply (finish reason ``content_filter``): not retried, the record fails.
    """
    if not isinstance(body, Mapping):
        raise malformed(model, "body is not a JSON object")
    if "error" in body and "choices" not in body:
        raise malformed(model, f"error in a 200 reply: {_shorten(error_detail(body))}")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise malformed(model, "no choices")
    choice = choices[0]
    if not isinstance(choice, Mapping):
        raise malformed(model, "choice is not an object")
    message = choice.get("message")
    if not isinstance(message, Mapping):
        raise malformed(model, "choice has no message")
    content = message.get("content")
    if choice.get("finish_reason") == "content_filter":
        raise LLMError(
            f"{model}: the provider's content filter withheld the reply",
            kind="content_filter",
            transient=False,
        )
    if content is None and not message.get("tool_calls"):
        raise malformed(model, "message has no content")
    if content is not None and not isinstance(content, str):
        raise malformed(model, "message content is not text")
    usage = body.get("usage")
    usage_map: Mapping[str, Any] = usage if isinstance(usage, Mapping) else {}
    finish = choice.get("finish_reason")
    return LLMResponse(
        text=content or "",
        model=model,
        finish_reason=finish if isinstance(finish, str) else None,
        prompt_tokens=_as_int(usage_map.get("prompt_tokens")),
        completion_tokens=_as_int(usage_map.get("completion_tokens")),
        logprobs=_logprobs(choice),
        raw={"id": body.get("id"), "model": body.get("model")},
    )
