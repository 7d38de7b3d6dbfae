"""FakeClient: the fake server's replies in-process, injected through RunOptions.client."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from helpers import read_jsonl

from synthdsl.api import RunOptions, RunResult, run_recipe
from synthdsl.compile import CompileOptions
from synthdsl.errors import LLMError
from synthdsl.llm.client import ProviderPool
from synthdsl.llm.types import LLMRequest, LLMResponse, ModelSpec
from synthdsl.testing.fake_client import FakeClient, ScriptedFault
from synthdsl.testing.fake_openai import FakeOpenAIServer

SCHEMA: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
        "name": "judged",
        "schema": {
            "type": "object",
            "properties": {
                "answer": {"type": "string", "minLength": 10},
                "score": {"type": "integer", "minimum": 1, "maximum": 10},
                "tags": {"type": "array", "items": {"enum": ["a", "b", "c"]}},
            },
            "required": ["answer", "score"],
        },
    },
}


def _request(
    server: FakeOpenAIServer,
    content: str,
    *,
    params: tuple[tuple[str, Any], ...] = (),
    response_format: dict[str, Any] | None = None,
    extra: tuple[tuple[str, Any], ...] = (),
    max_retries: int = 6,
) -> LLMRequest:
    spec = ModelSpec(
        alias="gen",
        model="openai/fake",
        params=params,
        api_base=server.base_url,
        max_retries=max_retries,
    )
    messages = ({"role": "system", "content": "Be brief."}, {"role": "user", "content": content})
    return LLMRequest(spec, messages, response_format=response_format, extra=extra)


REQUESTS: list[dict[str, Any]] = [
    {"content": "Write about cats."},
    {"content": "Write about cats.", "params": (("seed", 7), ("temperature", 0.9))},
    {"content": "Write a long story.", "params": (("max_tokens", 5),)},
    {"content": "Questions please [[list: 4]]"},
    {"content": "Exactly [[words: 12]]", "extra": (("logprobs", True),)},
    {"content": "[[reply: a fixed answer]]"},
    {"content": "Judge this [[score: 6]]", "response_format": SCHEMA},
    {"content": "Judge that", "response_format": {"type": "json_object"}},
    {"content": "Nothing to see [[fault:empty]]"},
]


def _through_server(requests: list[LLMRequest]) -> list[LLMResponse]:
    async def go() -> list[LLMResponse]:
        async with ProviderPool(retry_base=0.01) as pool:
            return [await pool.complete(r) for r in requests]

    return asyncio.run(go())


def _through_client(client: FakeClient, requests: list[LLMRequest]) -> list[LLMResponse]:
    async def go() -> list[LLMResponse]:
        return [await client.complete(r) for r in requests]

    return asyncio.run(go())


def _same(a: LLMResponse, b: LLMResponse) -> None:
    assert (a.text, a.model, a.finish_reason) == (b.text, b.model, b.finish_reason)
    assert (a.prompt_tokens, a.completion_tokens) == (b.prompt_tokens, b.completion_tokens)
    assert (a.logprobs, a.raw) == (b.logprobs, b.raw)


# ------------------------------------------------------ the same replies as the server


def test_replies_equal_the_http_servers(server: FakeOpenAIServer) -> None:
    requests = [_request(server, **kw) for kw in REQUESTS]
    over_http = _through_server(requests)
    client = FakeClient()
    in_process = _through_client(client, requests)
    for a, b in zip(over_http, in_process, strict=True):
        _same(a, b)
    assert client.calls == len(requests) == server.stats()["requests"]
    assert over_http[2].finish_reason == "length"
    assert over_http[4].logprobs is not None and len(over_http[4].logprobs) == 12
    assert in_process[5].text == "a fixed answer"
    assert in_process[8].text == ""
    assert client.stats()["openai/fake"]["ok"] == len(requests)


@pytest.mark.parametrize(
    "directive",
    ["[[fault:500]]", "[[fault:429 retry_after=2]]", "[[fault:400]]", "[[fault:404]]", "[[fault:9"],
)
def test_directive_faults_fail_as_over_http(server: FakeOpenAIServer, directive: str) -> None:
    request = _request(server, f"Go {directive}]]", max_retries=0)

    def error_of(run: Any) -> LLMError:
        with pytest.raises(LLMError) as info:
            run([request])
        return info.value

    http = error_of(_through_server)
    local = error_of(lambda rs: _through_client(FakeClient(), rs))
    assert (local.kind, local.transient, local.status) == (http.kind, http.transient, http.status)
    assert local.retry_after == http.retry_after
    assert str(local) == str(http)


def test_times_counts_attempts_of_the_same_content(server: FakeOpenAIServer) -> None:
    request = _request(server, "flaky [[fault:503 times=1]]")
    client = FakeClient()
    with pytest.raises(LLMError) as info:
        _through_client(client, [request])
    assert info.value.kind == "server_error" and info.value.transient
    # the retry answers, with the reply the server gives after its own retry
    _same(_through_client(client, [request])[0], _through_server([request])[0])
    assert client.stats()["openai/fake"]["failures"] == {"server_error": 1}


def test_scripted_faults_by_call_number_and_marker(server: FakeOpenAIServer) -> None:
    client = FakeClient(
        [ScriptedFault("rate_limit", call=2), ScriptedFault("auth", marker="SECRET", times=1)]
    )
    requests = [_request(server, t) for t in ("one", "two", "three SECRET", "four SECRET")]
    outcomes: list[str] = []

    async def go() -> None:
        for r in requests:
            try:
                await client.complete(r)
                outcomes.append("ok")
            except LLMError as exc:
                outcomes.append(f"{exc.kind}:{exc.transient}")

    asyncio.run(go())
    assert outcomes == ["ok", "rate_limit:True", "auth:False", "ok"]
    assert client.calls == 4
    stats = client.stats()["openai/fake"]
    assert (stats["calls"], stats["ok"], stats["failed"]) == (4, 2, 2)
    assert stats["failures"] == {"auth": 1, "rate_limit": 1}


# --------------------------------------------------------- a whole run, no HTTP at all

RECIPE = """
synthdsl: 1
name: fake-client
models:
  gen: {model: openai/placeholder, max_tokens: 40}
sources:
  topics:
    records:
      - {topic: "alpha [[list: 3]]"}
      - {topic: "beta [[list: 2]]"}
      - {topic: "gamma [[reply: one line only]]"}
steps:
  - id: ask
    generate: {template: "List questions about {{ topic }}", model: gen, into: text}
  - id: items
    extract: {field: text, as: list, into: instruction}
  - id: answer
    generate: {template: "Answer: {{ instruction }}", model: gen}
"""


def _run(project: Path, client: FakeClient, **options: Any) -> RunResult:
    recipe = project / "recipe.yaml"
    recipe.write_text(RECIPE, encoding="utf-8")
    return run_recipe(
        recipe,
        CompileOptions(model="openai/fake"),
        RunOptions(
            out_dir=str(project / "out"),
            cache_path=str(project / "cache.sqlite"),
            client=client,
            **options,
        ),
    )


def test_a_recipe_runs_through_the_fake_client(project: Path) -> None:
    client = FakeClient()
    result = _run(project, client)
    assert result.status == "completed"
    m = result.manifest
    assert m["totals"]["calls"] == client.calls == 3 + (3 + 2 + 1)
    assert m["totals"]["failed"] == 0 and m["accounting_balanced"] is True
    assert m["provider"] == client.stats()
    assert not client.closed  # a client passed in belongs to the caller
    rows = read_jsonl(result.dataset)
    assert len(rows) == result.records == 6
    assert all(isinstance(r["response"], str) and r["response"] for r in rows)
    # a rerun is served from the cache: the client is not called again
    again = FakeClient()
    assert _run(project, again, report=False).manifest["totals"]["calls"] == again.calls == 0


def test_the_run_equals_a_run_over_http(server: FakeOpenAIServer, project: Path) -> None:
    local = read_jsonl(_run(project, FakeClient(), report=False).dataset)
    recipe = project / "recipe.yaml"
    over_http = run_recipe(
        recipe,
        CompileOptions(model="openai/fake", api_base=server.base_url),
        RunOptions(
            out_dir=str(project / "http"), cache_path=str(project / "http.sqlite"), report=False
        ),
    )
    remote = read_jsonl(over_http.dataset)
    assert [(r["instruction"], r["response"]) for r in local] == [
        (r["instruction"], r["response"]) for r in remote
    ]


def test_a_scripted_fault_is_a_recorded_failure(project: Path) -> None:
    client = FakeClient([ScriptedFault("server_error", marker="beta", message="boom")])
    result = _run(project, client, report=False)
    m = result.manifest
    assert result.status == "completed"
    assert m["totals"]["calls"] == client.calls == 3 + (3 + 1)  # the failed ask is a call too
    assert m["totals"]["failed"] == 1 and m["nodes"]["ask"]["failed"] == {"server_error": 1}
    rejects = read_jsonl(result.out_dir / "rejects.jsonl")
    assert len(rejects) == 1
    failed = rejects[0]
    assert failed["status"] == "failed" and failed["node"] == "ask"
    assert "boom" in failed["error"] and failed["record"]["topic"].startswith("beta")
    assert m["provider"]["openai/fake"]["failures"] == {"server_error": 1}
