"""Tests of the fake OpenAI-compatible server, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest

from synthdsl.testing.fake_openai import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


def _request(
    url: str,
    body: bytes | None = None,
    *,
    headers: dict[str, str] | None = None,
    method: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers), err.read()


def chat(
    base_url: str,
    content: str,
    *,
    headers: dict[str, str] | None = None,
    path: str = "/chat/completions",
    **params: Any,
) -> tuple[int, dict[str, str], bytes]:
    body = {"model": "fake-model", "messages": [{"role": "user", "content": content}], **params}
    return _request(base_url + path, json.dumps(body).encode(), headers=headers)


def reply_of(raw: bytes) -> str:
    text = json.loads(raw)["choices"][0]["message"]["content"]
    assert isinstance(text, str)
    return text


def root_of(base_url: str) -> str:
    return base_url.removesuffix("/v1")


# ------------------------------------------------------------------ content


def test_same_request_same_reply_and_seed_changes_it(server: FakeOpenAIServer) -> None:
    s1, _, a = chat(server.base_url, "Write about cats.", seed=1, temperature=0.7)
    s2, _, b = chat(server.base_url, "Write about cats.", seed=1, temperature=0.7)
    assert s1 == s2 == 200
    assert a == b
    _, _, c = chat(server.base_url, "Write about cats.", seed=2, temperature=0.7)
    _, _, d = chat(server.base_url, "Write about cats.", seed=1, temperature=0.2)
    _, _, e = chat(server.base_url, "Write about dogs.", seed=1, temperature=0.7)
    replies = {reply_of(x) for x in (a, c, d, e)}
    assert len(replies) == 4


def test_response_shape_and_usage(server: FakeOpenAIServer) -> None:
    status, headers, raw = chat(server.base_url, "one two three", model="my-model")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    doc = json.loads(raw)
    assert doc["object"] == "chat.completion"
    assert doc["model"] == "my-model"
    assert doc["id"].startswith("chatcmpl-")
    assert isinstance(doc["created"], int)
    choice = doc["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["finish_reason"] == "stop"
    assert choice["logprobs"] is None
    n_words = len(choice["message"]["content"].split())
    assert 8 <= n_words <= 40
    assert doc["usage"] == {
        "prompt_tokens": 3,
        "completion_tokens": n_words,
        "total_tokens": 3 + n_words,
    }


def test_path_without_v1_and_other_endpoints(server: FakeOpenAIServer) -> None:
    root = root_of(server.base_url)
    assert chat(root, "no v1 prefix")[0] == 200
    assert json.loads(_request(root + "/health")[2]) == {"status": "ok"}
    models = json.loads(_request(server.base_url + "/models")[2])
    assert models["object"] == "list"
    assert any(m["id"] == "fake-model" for m in models["data"])


def test_reply_directive_exact_text(server: FakeOpenAIServer) -> None:
    text = 'line one\n{"a": 1}\n  indented'
    _, _, raw = chat(server.base_url, f"Ignore this. [[reply: {text}]] and this")
    assert reply_of(raw) == text


def test_list_directive(server: FakeOpenAIServer) -> None:
    _, _, raw = chat(server.base_url, "Give ideas [[list: 6]]")
    lines = reply_of(raw).split("\n")
    assert [line.split(". ", 1)[0] for line in lines] == [str(i) for i in range(1, 7)]
    bodies = [line.split(". ", 1)[1] for line in lines]
    assert len(set(bodies)) == 6 and all(bodies)


def test_words_directive_and_max_tokens(server: FakeOpenAIServer) -> None:
    _, _, raw = chat(server.base_url, "[[words: 25]] story")
    assert len(reply_of(raw).split()) == 25
    _, _, raw = chat(server.base_url, "[[words: 25]] story", max_tokens=10)
    doc = json.loads(raw)
    assert len(doc["choices"][0]["message"]["content"].split()) == 10
    assert doc["choices"][0]["finish_reason"] == "length"
    assert doc["usage"]["completion_tokens"] == 10


def test_directive_in_last_user_message_only(server: FakeOpenAIServer) -> None:
    body = {
        "model": "fake-model",
        "messages": [
            {"role": "system", "content": "[[reply: from system]]"},
            {"role": "user", "content": "[[reply: old]]"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "[[reply: new]]"}]},
        ],
    }
    _, _, raw = _request(server.base_url + "/chat/completions", json.dumps(body).encode())
    assert reply_of(raw) == "new"


def test_logprobs(server: FakeOpenAIServer) -> None:
    _, _, raw = chat(server.base_url, "[[words: 12]] go", logprobs=True)
    doc = json.loads(raw)
    words = doc["choices"][0]["message"]["content"].split()
    entries = doc["choices"][0]["logprobs"]["content"]
    assert [e["token"] for e in entries] == words
    assert all(e["logprob"] < 0 and e["bytes"] is None and e["top_logprobs"] == [] for e in entries)
    assert json.loads(chat(server.base_url, "[[words: 12]] go", logprobs=True)[2]) == doc


# ------------------------------------------------------------- structured output

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "score": {"type": "integer", "minimum": 1, "maximum": 10},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "label": {"type": "string", "enum": ["good", "bad", "meh"]},
        "ok": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "note": {"anyOf": [{"type": "string", "maxLength": 20}, {"type": "null"}]},
        "item": {"$ref": "#/$defs/Item"},
    },
    "required": ["score", "confidence", "label", "ok", "tags", "note", "item"],
    "additionalProperties": False,
    "$defs": {
        "Item": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "qty": {"type": "integer", "minimum": 5}},
            "required": ["name", "qty"],
        }
    },
}


def _schema_format(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "out", "schema": schema, "strict": True}}


def test_json_schema_reply_validates_and_varies(server: FakeOpenAIServer) -> None:
    scores = set()
    for i in range(15):
        _, _, raw = chat(
            server.base_url, f"Rate answer {i}", response_format=_schema_format(SCHEMA)
        )
        value = json.loads(reply_of(raw))
        jsonschema.validate(value, SCHEMA)
        scores.add(value["score"])
    assert len(scores) > 1


def test_score_directive(server: FakeOpenAIServer) -> None:
    _, _, raw = chat(
        server.base_url, "Judge this [[score: 7]]", response_format=_schema_format(SCHEMA)
    )
    value = json.loads(reply_of(raw))
    assert value["score"] == 7
    jsonschema.validate(value, SCHEMA)


def test_json_object(server: FakeOpenAIServer) -> None:
    _, _, raw = chat(
        server.base_url, "json please [[score: 3]]", response_format={"type": "json_object"}
    )
    value = json.loads(reply_of(raw))
    assert isinstance(value, dict) and value["score"] == 3


# ------------------------------------------------------------------- faults


@pytest.mark.parametrize("status", [429, 500, 503, 400, 401])
def test_status_faults(server: FakeOpenAIServer, status: int) -> None:
    status_got, headers, raw = chat(server.base_url, f"[[fault:{status}]] always")
    assert status_got == status
    error = json.loads(raw)["error"]
    assert set(error) >= {"message", "type", "code"}
    assert "Retry-After" not in headers
    # without times=N it keeps failing
    assert chat(server.base_url, f"[[fault:{status}]] always")[0] == status


def test_times_then_success_and_retry_after(server: FakeOpenAIServer) -> None:
    prompt = "[[fault:429 times=2 retry_after=0.2]] flaky"
    first = chat(server.base_url, prompt)
    second = chat(server.base_url, prompt)
    third = chat(server.base_url, prompt)
    assert [first[0], second[0], third[0]] == [429, 429, 200]
    assert first[1]["Retry-After"] == "0.2"
    assert third[2] == chat(server.base_url, prompt)[2]


def test_several_faults_in_order(server: FakeOpenAIServer) -> None:
    prompt = "[[fault:503 times=1]] [[fault:500 times=2]] chained"
    assert [chat(server.base_url, prompt)[0] for _ in range(3)] == [503, 500, 200]


def test_truncate_malformed_empty(server: FakeOpenAIServer) -> None:
    status, headers, raw = chat(server.base_url, "[[fault:truncate]] x")
    assert status == 200
    assert int(headers["Content-Length"]) == len(raw)
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)

    status, _, raw = chat(server.base_url, "[[fault:malformed]] x")
    assert status == 200 and "choices" not in json.loads(raw)

    status, _, raw = chat(server.base_url, "[[fault:empty]] x")
    assert status == 200 and reply_of(raw) == ""


def test_bad_requests(server: FakeOpenAIServer) -> None:
    url = server.base_url + "/chat/completions"
    status, _, raw = _request(url, b"{not json")
    assert status == 400 and json.loads(raw)["error"]["type"] == "invalid_request_error"
    assert _request(url, b'{"model": "m"}')[0] == 400
    assert chat(server.base_url, "[[fault:explode]]")[0] == 400


async def test_hang_cut_by_client_timeout_and_disconnect(server: FakeOpenAIServer) -> None:
    url = server.base_url + "/chat/completions"

    def body(content: str) -> dict[str, Any]:
        return {"model": "fake-model", "messages": [{"role": "user", "content": content}]}

    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            async with session.post(
                url, json=body("[[fault:hang]]"), timeout=aiohttp.ClientTimeout(total=0.3)
            ):
                pass
        assert time.monotonic() - started < 2

        async with session.post(url, json=body("[[fault:hang seconds=0.1]] short")) as resp:
            assert resp.status == 200

        bye = body("[[fault:disconnect times=1]] bye")
        with pytest.raises(aiohttp.ClientConnectionError):
            async with session.post(url, json=bye) as resp:
                await resp.read()
        async with session.post(url, json=bye) as resp:
            assert resp.status == 200
    stats = server.stats()
    assert stats["by_status"].get("disconnect", 0) >= 1
    assert stats["by_status"].get("cancelled", 0) >= 1


# ------------------------------------------------------- server-side limits


def test_require_api_key() -> None:
    with FakeOpenAIServer(require_api_key="sk-test") as srv:
        status, _, raw = chat(srv.base_url, "hi")
        assert status == 401
        assert json.loads(raw)["error"]["code"] == "invalid_api_key"
        assert chat(srv.base_url, "hi", headers={"Authorization": "Bearer nope"})[0] == 401
        assert chat(srv.base_url, "hi", headers={"Authorization": "Bearer sk-test"})[0] == 200
        stats = srv.stats()
        assert stats["auth_headers_seen"] == 2
        assert stats["by_status"] == {"401": 2, "200": 1}


def test_rpm_limit() -> None:
    with FakeOpenAIServer(rpm_limit=3) as srv:
        statuses = [chat(srv.base_url, f"req {i}")[0] for i in range(3)]
        assert statuses == [200, 200, 200]
        status, headers, raw = chat(srv.base_url, "one too many")
        assert status == 429
        assert int(headers["Retry-After"]) >= 1
        assert json.loads(raw)["error"]["code"] == "rate_limit_exceeded"
        srv.reset()
        assert chat(srv.base_url, "after reset")[0] == 200


async def test_max_in_flight_with_latency() -> None:
    with FakeOpenAIServer(latency=0.2) as srv:
        url = srv.base_url + "/chat/completions"

        async with aiohttp.ClientSession() as session:

            async def one(i: int) -> int:
                body = {"model": "m", "messages": [{"role": "user", "content": f"p{i}"}]}
                async with session.post(url, json=body) as resp:
                    await resp.read()
                    return resp.status

            started = time.monotonic()
            statuses = await asyncio.gather(*(one(i) for i in range(20)))
            elapsed = time.monotonic() - started
        assert statuses == [200] * 20
        assert 0.2 <= elapsed < 1.5
        stats = srv.stats()
        assert stats["max_in_flight"] == 20
        assert stats["in_flight"] == 0
        assert stats["requests"] == 20 and stats["prompts"] == 20
        srv.set_latency(0.0)
        started = time.monotonic()
        assert chat(srv.base_url, "fast")[0] == 200
        assert time.monotonic() - started < 0.15


def test_stats_and_reset_endpoints() -> None:
    with FakeOpenAIServer() as srv:
        chat(srv.base_url, "a")
        chat(srv.base_url, "a")
        chat(srv.base_url, "[[fault:500]]")
        root = root_of(srv.base_url)
        stats = json.loads(_request(root + "/stats")[2])
        assert stats == srv.stats()
        assert stats["requests"] == 3
        assert stats["prompts"] == 2
        assert stats["by_status"] == {"200": 2, "500": 1}
        assert _request(root + "/reset", b"", method="POST")[0] == 200
        assert srv.stats()["requests"] == 0 and srv.stats()["prompts"] == 0


# ---------------------------------------------------------------------- CLI


def test_cli_subprocess_ready_serve_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "synthdsl.testing.fake_openai", "--port", "0", "--latency", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("READY http://127.0.0.1:") and line.rstrip().endswith("/v1")
        base_url = line.split()[1]
        status, _, raw = chat(base_url, "[[reply: pong]]")
        assert status == 200 and reply_of(raw) == "pong"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
        assert proc.stdout.read() == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
