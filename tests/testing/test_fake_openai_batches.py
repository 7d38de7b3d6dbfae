"""The test server's Batch API: files in, batches through their states, answers out."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from synthdsl.testing.fake_openai import FakeOpenAIServer


def _call(server: FakeOpenAIServer, method: str, path: str, body: bytes | None = None) -> Any:
    request = urllib.request.Request(server.base_url + path, data=body, method=method)
    if body is not None and not path.startswith("/files"):
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=5) as resp:
        raw = resp.read()
    return json.loads(raw) if not path.endswith("/content") else raw


def _lines(prompts: list[str]) -> bytes:
    return b"".join(
        json.dumps(
            {
                "custom_id": f"c{i}",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {"model": "m", "messages": [{"role": "user", "content": p}]},
            }
        ).encode()
        + b"\n"
        for i, p in enumerate(prompts)
    )


def _submit(server: FakeOpenAIServer, prompts: list[str]) -> dict[str, Any]:
    f = _call(server, "POST", "/files?purpose=batch", _lines(prompts))
    body = {"input_file_id": f["id"], "endpoint": "/v1/chat/completions"}
    batch: dict[str, Any] = _call(server, "POST", "/batches", json.dumps(body).encode())
    return batch


def _wait(server: FakeOpenAIServer, batch_id: str) -> dict[str, Any]:
    for _ in range(200):
        batch: dict[str, Any] = _call(server, "GET", f"/batches/{batch_id}")
        if batch["status"] not in ("in_progress", "cancelling"):
            return batch
        time.sleep(0.01)
    raise AssertionError("the batch never ended")


def _file(server: FakeOpenAIServer, file_id: str | None) -> dict[str, dict[str, Any]]:
    if file_id is None:
        return {}
    raw = _call(server, "GET", f"/files/{file_id}/content")
    lines = [json.loads(x) for x in raw.decode().splitlines()]
    return {line["custom_id"]: line for line in lines}


def test_a_batch_answers_each_line_as_the_chat_endpoint_would(server: FakeOpenAIServer) -> None:
    batch = _submit(
        server, ["hello [[reply: one]]", "bad [[fault:400]]", "x [[fault:500 times=1]]"]
    )
    assert batch["status"] == "in_progress"
    ended = _wait(server, batch["id"])
    assert ended["status"] == "completed"
    assert ended["request_counts"] == {"total": 3, "completed": 1, "failed": 2}
    out, err = _file(server, ended["output_file_id"]), _file(server, ended["error_file_id"])
    assert out["c0"]["response"]["body"]["choices"][0]["message"]["content"] == "one"
    assert err["c1"]["response"]["status_code"] == 400
    assert err["c2"]["response"]["status_code"] == 500
    again = _wait(server, _submit(server, ["x [[fault:500 times=1]]"])["id"])
    assert again["request_counts"]["completed"] == 1  # the fault's one time is used up
    assert server.stats()["batches_created"] == 2
    assert server.stats()["requests"] == 0  # no chat request was made


def test_expiry_cancellation_and_refusal(server: FakeOpenAIServer) -> None:
    server.queue_batch_endings("expired", "failed")
    expired = _wait(server, _submit(server, ["a", "b", "c", "d"])["id"])
    assert expired["status"] == "expired"
    err = _file(server, expired["error_file_id"])
    assert {line["error"]["code"] for line in err.values()} == {"batch_expired"}
    assert len(_file(server, expired["output_file_id"])) == 2  # the first half answered
    failed = _wait(server, _submit(server, ["a"])["id"])
    assert failed["status"] == "failed" and failed["errors"]["data"]
    assert failed["output_file_id"] is None
    server.set_batch_delay(5.0)
    try:
        slow = _submit(server, ["a"])
        assert _call(server, "POST", f"/batches/{slow['id']}/cancel", b"{}")["status"] == (
            "cancelling"
        )
        cancelled = _wait(server, slow["id"])
        assert cancelled["status"] == "cancelled"
        err = _file(server, cancelled["error_file_id"])
        assert err["c0"]["error"]["code"] == "batch_cancelled"
    finally:
        server.set_batch_delay(0.05)
    listed = _call(server, "GET", "/batches")
    assert slow["id"] in [b["id"] for b in listed["data"]]


def test_a_malformed_file_fails_its_batch_and_unknown_ids_are_404(
    server: FakeOpenAIServer,
) -> None:
    f = _call(server, "POST", "/files?purpose=batch", b'{"custom_id": "x"}\nnot json\n')
    body = {"input_file_id": f["id"], "endpoint": "/v1/chat/completions"}
    batch = _call(server, "POST", "/batches", json.dumps(body).encode())
    ended = _wait(server, batch["id"])
    assert ended["status"] == "failed"
    assert [e["line"] for e in ended["errors"]["data"]] == [1, 2]
    try:
        _call(server, "GET", "/batches/batch-nope")
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
    else:
        raise AssertionError("an unknown batch id was found")
