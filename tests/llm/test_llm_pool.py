"""ProviderPool against the loopback fake server, through both backends.

Every behaviour (retries, limits, error kinds, accounting) must be the same whether a
call goes through the lean HTTP path or litellm.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web

from synthdsl.errors import LLMError, RunError
from synthdsl.llm import client as client_module
from synthdsl.llm.client import ProviderPool
from synthdsl.llm.hedge import HEDGE_MIN_S, MIN_SAMPLES, LatencyWindow
from synthdsl.llm.limits import ModelLimiter
from synthdsl.llm.types import LLMRequest, LLMResponse, ModelSpec
from synthdsl.llm.wire import OPENAI_API_BASE
from synthdsl.testing.fake_openai import FakeOpenAIServer

BACKENDS = ["http", "litellm"]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    """A fresh server per test (overrides conftest's shared one): a hung request or an
    attempt counter can never leak into the next test."""
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
async def pool() -> AsyncIterator[ProviderPool]:
    p = ProviderPool(retry_base=0.01, retry_cap=0.05)
    try:
        yield p
    finally:
        await p.aclose()


def make_spec(base_url: str, backend: str, **overrides: Any) -> ModelSpec:
    fields: dict[str, Any] = {
        "alias": "fake",
        "model": "openai/fake-model",
        "api_base": base_url,
        "backend": backend,
        "timeout": 5.0,
        "max_retries": 3,
        "concurrency": 8,
    }
    fields.update(overrides)
    return ModelSpec(**fields)


def ask(spec: ModelSpec, content: str, **kwargs: Any) -> LLMRequest:
    return LLMRequest(spec=spec, messages=({"role": "user", "content": content},), **kwargs)


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


async def test_plain_call(server: FakeOpenAIServer, pool: ProviderPool) -> None:
    for backend in BACKENDS:
        spec = make_spec(server.base_url, backend)
        resp = await pool.complete(ask(spec, "[[reply: hello there]]"))
        assert resp.text == "hello there"
        assert resp.retries == 0 and resp.finish_reason == "stop"
        assert resp.prompt_tokens > 0 and resp.completion_tokens == 2
        assert resp.model == "openai/fake-model"
    stats = pool.stats()["openai/fake-model"]
    assert stats["calls"] == 2 and stats["ok"] == 2 and stats["retries"] == 0


@pytest.mark.parametrize("backend", BACKENDS)
async def test_429_honours_retry_after(
    server: FakeOpenAIServer, pool: ProviderPool, backend: str
) -> None:
    spec = make_spec(server.base_url, backend)
    await pool.complete(ask(spec, "warm up"))  # litellm's first import is slow
    start = time.monotonic()
    resp = await pool.complete(ask(spec, "[[fault:429 times=1 retry_after=0.4]] hi"))
    assert time.monotonic() - start >= 0.4
    assert resp.retries == 1
    stats = pool.stats()["openai/fake-model"]
    assert stats["errors"] == {"rate_limit": 1} and stats["retries"] == 1
    assert server.stats()["by_status"]["429"] == 1


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fault", ["500", "503", "truncate", "malformed", "disconnect"])
async def test_transient_faults_are_retried(
    server: FakeOpenAIServer, pool: ProviderPool, backend: str, fault: str
) -> None:
    spec = make_spec(server.base_url, backend)
    resp = await pool.complete(ask(spec, f"[[fault:{fault} times=2]] [[reply: fine]]"))
    assert resp.text == "fine" and resp.retries == 2
    assert server.stats()["requests"] == 3
    stats = pool.stats()["openai/fake-model"]
    expected = {
        "500": "server_error",
        "503": "server_error",
        "truncate": "malformed",
        "malformed": "malformed",
        "disconnect": "connection",
    }[fault]
    assert stats["errors"] == {expected: 2}
    assert stats["retries"] == 2 and stats["failed"] == 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("fault", "kind"),
    [("400", "bad_request"), ("401", "auth"), ("404", "not_found"), ("422", "bad_request")],
)
async def test_client_errors_are_not_retried(
    server: FakeOpenAIServer, pool: ProviderPool, backend: str, fault: str, kind: str
) -> None:
    spec = make_spec(server.base_url, backend)
    with pytest.raises(LLMError) as info:
        await pool.complete(ask(spec, f"[[fault:{fault}]] x"))
    assert info.value.kind == kind and not info.value.transient
    assert info.value.status == int(fault)
    assert server.stats()["requests"] == 1
    stats = pool.stats()["openai/fake-model"]
    assert stats["failed"] == 1 and stats["failures"] == {kind: 1} and stats["retries"] == 0


@pytest.mark.parametrize("backend", BACKENDS)
async def test_hang_times_out_and_is_retried(
    server: FakeOpenAIServer, pool: ProviderPool, backend: str
) -> None:
    spec = make_spec(server.base_url, backend, timeout=0.5)
    start = time.monotonic()
    resp = await pool.complete(ask(spec, "[[fault:hang times=1 seconds=30]] [[reply: late]]"))
    elapsed = time.monotonic() - start
    assert resp.text == "late" and resp.retries == 1
    assert 0.45 <= elapsed < 3.0
    assert pool.stats()["openai/fake-model"]["errors"] == {"timeout": 1}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_exhausting_retries_raises_the_last_error(
    server: FakeOpenAIServer, pool: ProviderPool, backend: str
) -> None:
    spec = make_spec(server.base_url, backend, max_retries=2)
    with pytest.raises(LLMError) as info:
        await pool.complete(ask(spec, "[[fault:503]] always"))
    assert info.value.kind == "server_error" and info.value.transient
    assert info.value.retries == 2  # type: ignore[attr-defined]
    assert server.stats()["requests"] == 3
    stats = pool.stats()["openai/fake-model"]
    assert stats["failures"] == {"server_error": 1} and stats["retries"] == 2


@pytest.mark.parametrize("backend", BACKENDS)
async def test_concurrency_limit(
    server: FakeOpenAIServer, pool: ProviderPool, backend: str
) -> None:
    spec = make_spec(server.base_url, backend, concurrency=4)
    await pool.complete(ask(spec, "warm up"))
    server.set_latency(0.1)
    server.reset()
    replies = await asyncio.gather(*(pool.complete(ask(spec, f"q{i}")) for i in range(30)))
    assert len(replies) == 30
    stats = server.stats()
    assert stats["requests"] == 30
    assert stats["max_in_flight"] == 4


@pytest.mark.parametrize("backend", BACKENDS)
async def test_rpm_limit_paces_calls(
    server: FakeOpenAIServer, pool: ProviderPool, backend: str
) -> None:
    spec = make_spec(server.base_url, backend, rpm=300)  # one call every 0.2 s
    start = time.monotonic()
    await asyncio.gather(*(pool.complete(ask(spec, f"r{i}")) for i in range(6)))
    elapsed = time.monotonic() - start
    assert elapsed >= 0.95  # the first call is free, then 5 x 0.2 s
    assert pool.stats()["openai/fake-model"]["rate_limit_wait_s"] >= 0.9


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_sporadic_429_pauses_only_its_own_call(
    server: FakeOpenAIServer, pool: ProviderPool, backend: str
) -> None:
    """Before: each 429 put every caller of the model in cool-down (a 429 storm of
    random 429s cost 4x the clean time). Now the call that met it waits its Retry-After
    and the others go on."""
    spec = make_spec(server.base_url, backend)
    await asyncio.gather(*(pool.complete(ask(spec, f"warm up {i}")) for i in range(12)))
    first = asyncio.create_task(pool.complete(ask(spec, "[[fault:429 times=1 retry_after=2]] a")))
    while server.stats()["by_status"].get("429") != 1:  # the 429 has been sent
        await asyncio.sleep(0.002)
    other = await pool.complete(ask(spec, "[[reply: b]]"))
    assert other.text == "b" and other.retries == 0
    assert not first.done()  # still waiting for its own Retry-After
    limiter = pool.limiter_for(spec)
    assert isinstance(limiter, ModelLimiter)  # the local limiter: no factory was given
    assert limiter.cooling_for == 0 and limiter.current == spec.concurrency
    assert (await first).retries == 1


async def _limited_server(max_in_flight: int) -> tuple[web.AppRunner, str, dict[str, int]]:
    """A provider that allows ``max_in_flight`` requests at once and answers the rest
    with 429 and ``Retry-After: 0.05``: a real, sustained rate limit."""
    counts = {"in_flight": 0, "ok": 0, "429": 0, "peak": 0}

    async def handler(request: web.Request) -> web.Response:
        if counts["in_flight"] >= max_in_flight:
            counts["429"] += 1
            return web.json_response(
                {"error": {"message": "slow down", "type": "requests"}},
                status=429,
                headers={"Retry-After": "0.05"},
            )
        counts["in_flight"] += 1
        counts["peak"] = max(counts["peak"], counts["in_flight"])
        try:
            await asyncio.sleep(0.02)
        finally:
            counts["in_flight"] -= 1
        counts["ok"] += 1
        return web.json_response(
            {
                "choices": [{"message": {"role": "assistant", "content": "ok"}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1},
            }
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/v1", counts


async def test_a_sustained_rate_limit_shrinks_concurrency_without_a_storm(
    pool: ProviderPool,
) -> None:
    runner, base, counts = await _limited_server(max_in_flight=4)
    try:
        spec = make_spec(base, "http", concurrency=32, max_retries=20)
        results = await asyncio.gather(*(pool.complete(ask(spec, f"q{i}")) for i in range(200)))
    finally:
        await runner.cleanup()
    assert [r.text for r in results] == ["ok"] * 200 and counts["ok"] == 200
    limiter = pool.limiter_for(spec)
    assert isinstance(limiter, ModelLimiter)
    assert limiter.decreases >= 2  # 32 -> 16 -> 8 -> ... towards the provider's 4
    # A fixed concurrency of 32 meets a 429 on most attempts (28 of every 32); adapted,
    # the 429s are a small share of the calls.
    assert counts["429"] < 200 * 0.5, counts


@pytest.mark.parametrize("backend", BACKENDS)
async def test_connection_refused(pool: ProviderPool, backend: str) -> None:
    spec = make_spec(f"http://127.0.0.1:{closed_port()}/v1", backend, max_retries=1)
    with pytest.raises(LLMError) as info:
        await pool.complete(ask(spec, "anyone?"))
    assert info.value.kind == "unreachable" and info.value.transient
    assert info.value.retries == 1  # type: ignore[attr-defined]
    assert pool.stats()["openai/fake-model"]["errors"] == {"unreachable": 2}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_dead_endpoint_stops_the_run(pool: ProviderPool, backend: str) -> None:
    """Every attempt of a call, and of every call beside it, failed to connect: the
    pool raises RunError (the run stops, exit 1) instead of failing one record."""
    spec = make_spec(f"http://127.0.0.1:{closed_port()}/v1", backend, max_retries=3)
    calls = [pool.complete(ask(spec, f"anyone {i}?")) for i in range(4)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(type(r) is RunError for r in results)
    message = str(results[0])
    assert "cannot connect to" in message and "Stopping the run" in message
    assert "attempts in a row failed to connect" in message


async def test_an_endpoint_that_answers_now_and_then_is_not_dead(
    server: FakeOpenAIServer, pool: ProviderPool
) -> None:
    """A call that gives up on a refused connection while other calls to the same
    endpoint got answers fails its record only (an LLMError, not a RunError)."""
    spec = make_spec(server.base_url, "http", max_retries=3)
    reach = pool._reach.setdefault((spec.model, spec.api_base), client_module._Reach())
    assert (await pool.complete(ask(spec, "hello"))).text
    reach.saw(LLMError("x", kind="unreachable", transient=True), 0.0)
    assert not reach.dead_since(-1.0)  # reached after -1.0, and the streak is short
    for _ in range(3):
        reach.saw(LLMError("x", kind="unreachable", transient=True), 0.0)
    assert reach.dead_since(float("inf")) and not reach.dead_since(-1.0)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_missing_api_key_env(
    server: FakeOpenAIServer,
    pool: ProviderPool,
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SYNTHDSL_TEST_NO_SUCH_KEY", raising=False)
    spec = make_spec(server.base_url, backend, api_key_env="SYNTHDSL_TEST_NO_SUCH_KEY")
    with pytest.raises(LLMError) as info:
        await pool.complete(ask(spec, "hello"))
    assert info.value.kind == "missing_api_key" and not info.value.transient
    assert "SYNTHDSL_TEST_NO_SUCH_KEY" in str(info.value)
    assert server.stats()["requests"] == 0


@pytest.mark.parametrize("backend", BACKENDS)
async def test_openai_defaults_to_openai_api_key(
    pool: ProviderPool, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    spec = ModelSpec(alias="gpt", model="openai/gpt-4o-mini", backend=backend)
    endpoint = await pool.endpoint_for(spec)
    assert endpoint.api_base == OPENAI_API_BASE and endpoint.api_key_env == "OPENAI_API_KEY"
    assert endpoint.wire_model == "gpt-4o-mini"
    with pytest.raises(LLMError) as info:  # fails before any network access
        await pool.complete(ask(spec, "hi"))
    assert info.value.kind == "missing_api_key" and "OPENAI_API_KEY" in str(info.value)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_api_key_sent_and_never_shown(
    pool: ProviderPool, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-SECRET-0123456789"
    monkeypatch.setenv("SYNTHDSL_TEST_KEY", secret)
    with FakeOpenAIServer(require_api_key=secret) as srv:
        spec = make_spec(srv.base_url, backend, api_key_env="SYNTHDSL_TEST_KEY")
        resp = await pool.complete(ask(spec, "[[reply: in]]"))
        assert resp.text == "in"
        assert srv.stats()["auth_headers_seen"] == 1
        monkeypatch.setenv("SYNTHDSL_TEST_KEY", "sk-wrong-WRONGSECRET-999")
        with pytest.raises(LLMError) as info:
            await pool.complete(ask(spec, "[[reply: in]]"))
    assert info.value.kind == "auth"
    text = f"{info.value} {info.value!r} {json.dumps(pool.stats())}"
    assert secret not in text and "WRONGSECRET" not in text


async def _echo_key_server() -> tuple[web.AppRunner, str]:
    """A server that echoes the Authorization header in its 401, like a careless API."""

    async def handler(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        return web.json_response(
            {"error": {"message": f"Invalid key {auth}", "type": "auth_error"}}, status=401
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/v1"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_echoed_api_key_is_redacted(
    pool: ProviderPool, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-echo-SECRET-abcdef123456"
    monkeypatch.setenv("SYNTHDSL_TEST_KEY", secret)
    runner, base = await _echo_key_server()
    try:
        spec = make_spec(base, backend, api_key_env="SYNTHDSL_TEST_KEY")
        with pytest.raises(LLMError) as info:
            await pool.complete(ask(spec, "hi"))
    finally:
        await runner.cleanup()
    assert info.value.kind == "auth"
    assert secret not in str(info.value) and "***" in str(info.value)


async def test_backends_agree(server: FakeOpenAIServer, pool: ProviderPool) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "score": {"type": "integer"}},
        "required": ["answer", "score"],
    }
    cases: list[tuple[str, dict[str, Any], tuple[tuple[str, Any], ...]]] = [
        ("tell me something", {}, ()),
        ("[[words: 12]]", {}, (("temperature", 0.7), ("seed", 11))),
        ("[[list: 4]]", {}, (("max_tokens", 200), ("logprobs", True))),
        ("many words please", {}, (("max_tokens", 5),)),
        (
            "[[score: 7]] rate this",
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "r", "schema": schema},
                }
            },
            (),
        ),
    ]
    for content, kwargs, params in cases:
        got: dict[str, LLMResponse] = {}
        for backend in BACKENDS:
            spec = make_spec(server.base_url, backend, params=params)
            got[backend] = await pool.complete(ask(spec, content, **kwargs))
        h, lt = got["http"], got["litellm"]
        assert h.text == lt.text, content
        assert (h.prompt_tokens, h.completion_tokens) == (lt.prompt_tokens, lt.completion_tokens)
        assert h.finish_reason == lt.finish_reason
        assert h.logprobs == lt.logprobs
    assert json.loads(got["http"].text)["score"] == 7
    assert got["http"].finish_reason == "stop"
    stats = pool.stats()["openai/fake-model"]
    assert stats["calls"] == 10 and stats["ok"] == 10


@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_api_base_gets_the_conventional_key_and_a_401_names_its_variable(
    pool: ProviderPool, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-conv-SECRET-0123456789"
    with FakeOpenAIServer(require_api_key=secret) as srv:
        # --model openai/x --api-base URL with OPENAI_API_KEY set: the key is sent
        monkeypatch.setenv("OPENAI_API_KEY", secret)
        spec = make_spec(srv.base_url, backend)
        assert (await pool.complete(ask(spec, "[[reply: ok]]"))).text == "ok"
        assert srv.stats()["auth_headers_seen"] == 1
        # a wrong key: the 401 says which variable held it, never the key
        monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-WRONGSECRET-999")
        with pytest.raises(LLMError) as wrong:
            await pool.complete(ask(spec, "[[reply: again]]"))
        # unset: no key is sent (a local server needs none), and the 401 says so
        monkeypatch.delenv("OPENAI_API_KEY")
        with pytest.raises(LLMError) as unset:
            await pool.complete(ask(spec, "[[reply: once more]]"))
    assert wrong.value.kind == "auth"
    assert "the key sent was the one in $OPENAI_API_KEY" in str(wrong.value)
    assert "WRONGSECRET" not in f"{wrong.value} {wrong.value!r}"
    assert unset.value.kind == "auth"
    assert "no key was sent: $OPENAI_API_KEY is not set" in str(unset.value)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_api_base_without_a_key_works_with_a_server_that_needs_none(
    pool: ProviderPool, server: FakeOpenAIServer, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    spec = make_spec(server.base_url, backend)
    assert (await pool.complete(ask(spec, "[[reply: fine]]"))).text == "fine"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_hung_attempt_gets_a_twin(server: FakeOpenAIServer, backend: str) -> None:
    """Before: a hung call held its record for its whole timeout, then a retry. Now an
    attempt far slower than the model's recent ones races a twin; the first answer wins
    and the hung one is cancelled (no timeout error, no retry)."""
    spec = make_spec(server.base_url, backend, timeout=30.0)
    async with ProviderPool(retry_base=0.01, retry_cap=0.05) as pool:
        await asyncio.gather(*(pool.complete(ask(spec, f"warm {i}")) for i in range(25)))
        resp = await pool.complete(ask(spec, "[[fault:hang seconds=30 times=1]] slow"))
        stats = pool.stats()["openai/fake-model"]
    assert resp.text and resp.retries == 0
    assert stats["hedged"] == 1 and stats["errors"] == {} and stats["ok"] == 26
    assert server.stats()["requests"] == 27  # 25 + the hung attempt + its twin


async def test_hedging_can_be_switched_off(server: FakeOpenAIServer) -> None:
    spec = make_spec(server.base_url, "http", timeout=2.0, max_retries=1)
    async with ProviderPool(retry_base=0.01, retry_cap=0.05, hedge=False) as pool:
        await asyncio.gather(*(pool.complete(ask(spec, f"warm {i}")) for i in range(25)))
        resp = await pool.complete(ask(spec, "[[fault:hang seconds=30 times=1]] slow"))
        stats = pool.stats()["openai/fake-model"]
    assert resp.retries == 1 and stats["hedged"] == 0 and stats["errors"] == {"timeout": 1}


def test_the_hedge_delay_follows_the_recent_latencies() -> None:
    window = LatencyWindow()
    for _ in range(MIN_SAMPLES - 1):
        window.add(0.1)
    assert window.hedge_delay() is None  # too few answers to know what is slow
    window.add(0.1)
    assert window.hedge_delay() == HEDGE_MIN_S  # 3 x 0.1 s is under the floor
    for _ in range(200):
        window.add(2.0)
    assert window.hedge_delay() == pytest.approx(6.0)  # 3 x the 95th percentile
