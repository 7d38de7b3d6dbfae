"""Identical calls in flight at once are one call: the others wait for its answer.

Without this, how many calls a run makes (and pays for) depended on timing: two records
rendering the same prompt were one call when the first answer was cached before the
second asked, and two calls when they overlapped.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from synthdsl.compile import compile_recipe
from synthdsl.llm.types import LLMRequest, LLMResponse, ModelSpec
from synthdsl.run.cache import CallCache
from synthdsl.run.context import RunContext
from synthdsl.testing.fake_client import FakeClient, ScriptedFault


def _context(tmp_path: Path, client: FakeClient, *, cache_reads: bool = True) -> RunContext:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "synthdsl: 1\nname: r\nsources:\n  s: {records: [{a: 1}]}\n"
        "steps:\n  - id: keep\n    filter: 'a == 1'\n",
        encoding="utf-8",
    )
    return RunContext(
        compiled=compile_recipe(recipe),
        client=client,
        cache=CallCache(tmp_path / "cache.sqlite"),
        rejects=None,
        cache_reads=cache_reads,
    )


def _request(text: str) -> LLMRequest:
    spec = ModelSpec(alias="default", model="openai/fake", params=(("max_tokens", 16),))
    return LLMRequest(spec=spec, messages=({"role": "user", "content": text},))


async def _ask(rt: RunContext, texts: list[str]) -> list[LLMResponse | BaseException]:
    return await asyncio.gather(
        *(rt.complete("n", _request(t)) for t in texts), return_exceptions=True
    )


async def test_identical_calls_in_flight_are_one_call(tmp_path: Path) -> None:
    client = FakeClient(latency=0.05)
    rt = _context(tmp_path, client)
    answers = await _ask(rt, ["same question"] * 5 + ["another question"])
    assert client.calls == 2
    assert (rt.stats["n"].calls, rt.stats["n"].cache_hits) == (2, 4)
    texts = [a.text for a in answers if isinstance(a, LLMResponse)]
    assert len(set(texts[:5])) == 1 and texts[5] != texts[0]
    waited = [a for a in answers[1:5] if isinstance(a, LLMResponse)]
    assert all(a.cached and a.retries == 0 for a in waited)
    assert rt._inflight == {}


async def test_when_the_first_call_fails_the_waiters_call_themselves(tmp_path: Path) -> None:
    client = FakeClient([ScriptedFault("server_error", call=1)], latency=0.05)
    rt = _context(tmp_path, client)
    answers = await _ask(rt, ["same question"] * 3)
    errors = [a for a in answers if isinstance(a, BaseException)]
    assert len(errors) == 1 and "server_error" in str(errors[0])
    # one waiter takes over and calls; the last one waits for it
    assert client.calls == 2
    assert (rt.stats["n"].calls, rt.stats["n"].cache_hits) == (2, 1)


async def test_fresh_runs_do_not_share_answers(tmp_path: Path) -> None:
    client = FakeClient(latency=0.02)
    rt = _context(tmp_path, client, cache_reads=False)
    await _ask(rt, ["same question"] * 3)
    assert client.calls == 3
    assert rt.stats["n"].cache_hits == 0
