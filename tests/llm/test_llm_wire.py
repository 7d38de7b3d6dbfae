"""Wire-format helpers, error classification, pricing and lazy imports (no server)."""

from __future__ import annotations

import email.utils
import json
import subprocess
import sys
import time

import pytest

from synthdsl.errors import LLMError, RunError
from synthdsl.llm.client import resolve_backend
from synthdsl.llm.litellm_backend import classify_litellm_error
from synthdsl.llm.pricing import price_per_token, price_table_path
from synthdsl.llm.types import LLMRequest, ModelSpec
from synthdsl.llm.wire import (
    build_body,
    error_for_status,
    parse_completion,
    parse_retry_after,
    read_api_key,
)


def test_parse_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 0.25 ") == 0.25
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") == 0.0
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    value = parse_retry_after(future)
    assert value is not None and 25 <= value <= 31
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert parse_retry_after(past) == 0.0


@pytest.mark.parametrize(
    ("status", "kind", "transient"),
    [
        (429, "rate_limit", True),
        (500, "server_error", True),
        (502, "server_error", True),
        (503, "server_error", True),
        (400, "bad_request", False),
        (422, "bad_request", False),
        (401, "auth", False),
        (403, "auth", False),
        (404, "not_found", False),
    ],
)
def test_error_for_status(status: int, kind: str, transient: bool) -> None:
    err = error_for_status(status, "detail", model="m", retry_after=1.5)
    assert (err.kind, err.transient, err.status) == (kind, transient, status)
    assert err.retry_after == (1.5 if status in (429, 500, 502, 503) else None)


def test_context_length_is_its_own_kind() -> None:
    err = error_for_status(400, "This model's maximum context length is 8192 tokens", model="m")
    assert err.kind == "context_length" and not err.transient


def test_parse_completion_reads_usage_and_logprobs() -> None:
    body = {
        "id": "c1",
        "model": "served",
        "choices": [
            {
                "message": {"role": "assistant", "content": "hi there"},
                "finish_reason": "stop",
                "logprobs": {"content": [{"token": "hi", "logprob": -0.5}, {"logprob": -1}]},
            }
        ],
        "usage": {"prompt_tokens": 7, "completion_tokens": 2},
    }
    resp = parse_completion(body, model="openai/x")
    assert resp.text == "hi there" and resp.model == "openai/x"
    assert (resp.prompt_tokens, resp.completion_tokens) == (7, 2)
    assert resp.logprobs == [-0.5, -1.0]
    assert resp.finish_reason == "stop"


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"choices": []},
        {"choices": [{}]},
        {"choices": [{"message": {"role": "assistant"}}]},
        {"error": {"message": "overloaded"}},
    ],
)
def test_parse_completion_malformed(body: object) -> None:
    with pytest.raises(LLMError) as info:
        parse_completion(body, model="m")
    assert info.value.kind == "malformed" and info.value.transient


def test_build_body_merges_params_and_format() -> None:
    spec = ModelSpec(alias="a", model="openai/x", params=(("temperature", 0.2), ("seed", 3)))
    request = LLMRequest(
        spec=spec,
        messages=({"role": "user", "content": "q"},),
        response_format={"type": "json_object"},
        extra=(("seed", 9),),
    )
    body = build_body(request, "x")
    assert body == {
        "model": "x",
        "messages": [{"role": "user", "content": "q"}],
        "temperature": 0.2,
        "seed": 9,
        "response_format": {"type": "json_object"},
    }


def test_read_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTHDSL_TEST_KEY", "sk-value-1234")
    assert read_api_key("SYNTHDSL_TEST_KEY") == "sk-value-1234"
    assert read_api_key(None) is None
    monkeypatch.delenv("SYNTHDSL_TEST_KEY")
    with pytest.raises(LLMError) as info:
        read_api_key("SYNTHDSL_TEST_KEY")
    assert info.value.kind == "missing_api_key" and not info.value.transient
    assert "SYNTHDSL_TEST_KEY" in str(info.value)


def test_resolve_backend() -> None:
    def spec(model: str, backend: str = "auto") -> ModelSpec:
        return ModelSpec(alias="a", model=model, backend=backend)

    assert resolve_backend(spec("openai/gpt-4o-mini")) == "http"
    assert resolve_backend(spec("local/smollm2")) == "http"
    assert resolve_backend(spec("anthropic/claude-3-5-haiku-20241022")) == "litellm"
    assert resolve_backend(spec("openai/gpt-4o-mini", "litellm")) == "litellm"
    assert resolve_backend(spec("hosted_vllm/m", "http")) == "http"
    with pytest.raises(RunError):
        resolve_backend(spec("openai/x", "grpc"))


# -- litellm exception classification, with look-alike classes (litellm not imported) --


class InternalServerError(Exception):
    status_code = 500


class APIConnectionError(Exception):
    pass


class ConnectError(Exception):
    pass


class Timeout(Exception):
    status_code = 408


class RateLimitError(Exception):
    status_code = 429

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.litellm_response_headers = {"retry-after": "1.5"}


class BadRequestError(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status_code = status


class ContextWindowExceededError(BadRequestError):
    pass


def _chained(outer: BaseException, inner: BaseException) -> BaseException:
    outer.__cause__ = inner
    return outer


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (
            _chained(
                InternalServerError("litellm.InternalServerError: OpenAIException - Connection"),
                _chained(APIConnectionError("Connection error."), ConnectError("refused")),
            ),
            "unreachable",  # no connection at all, not one that broke
        ),
        (
            _chained(
                InternalServerError("litellm.InternalServerError: OpenAIException - Connection"),
                _chained(APIConnectionError("Connection error."), ConnectionResetError("reset")),
            ),
            "connection",
        ),
        (
            InternalServerError(
                "litellm.InternalServerError: OpenAIException - Missing credentials. Please "
                "pass an `api_key`"
            ),
            "missing_api_key",
        ),
        (
            BadRequestError("litellm.AuthenticationError: Missing Anthropic API Key - x", 401),
            "missing_api_key",
        ),
        (
            _chained(
                InternalServerError("OpenAIException - Expecting value"),
                json.JSONDecodeError("Expecting value", "{", 1),
            ),
            "malformed",
        ),
        (
            InternalServerError("LiteLLM: provider returned 'choices' that is not a list"),
            "malformed",
        ),
        (IndexError("list index out of range"), "malformed"),
        (Timeout("litellm.Timeout: APITimeoutError - Request timed out."), "timeout"),
        (RateLimitError("litellm.RateLimitError: slow down"), "rate_limit"),
        (InternalServerError("litellm.InternalServerError: boom"), "server_error"),
        (BadRequestError("litellm.BadRequestError: OpenAIException - bad", 400), "bad_request"),
        (BadRequestError("litellm.BadRequestError: OpenAIException - no", 401), "auth"),
        (BadRequestError("litellm.NotFoundError: nope", 404), "not_found"),
        (ContextWindowExceededError("too long", 400), "context_length"),
        (RuntimeError("something else"), "provider_error"),
    ],
)
def test_classify_litellm_error(exc: BaseException, kind: str) -> None:
    err = classify_litellm_error(exc, model="openai/x")
    assert err.kind == kind
    assert err.transient == (
        kind in {"connection", "unreachable", "malformed", "timeout", "rate_limit", "server_error"}
    )
    if kind == "rate_limit":
        assert err.retry_after == 1.5
    assert "litellm." not in str(err) and "OpenAIException" not in str(err)


# ------------------------------------------------------------------------- pricing


def test_price_per_token() -> None:
    assert price_table_path() is not None
    prices = price_per_token("openai/gpt-4o-mini")
    assert prices is not None and prices == price_per_token("gpt-4o-mini")
    assert prices[0] > 0 and prices[1] > prices[0]
    assert price_per_token("openai/no-such-model-xyz") is None
    assert price_per_token("local/smollm2") == (0.0, 0.0)
    assert price_per_token("sample_spec") is None


def test_pricing_and_client_do_not_import_litellm() -> None:
    code = (
        "import sys\n"
        "from synthdsl.llm.pricing import price_per_token\n"
        "import synthdsl.llm.client\n"
        "assert price_per_token('openai/gpt-4o-mini') is not None\n"
        "print('litellm' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"
