"""End-to-end runs against the loopback OpenAI-compatible server, through the CLI.

Every test writes a recipe into a scratch directory, runs ``synthdsl run`` in-process
and checks the dataset, rejects and manifest: accounting, caching, retries, limits.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import manifest, read_jsonl, run

from synthdsl.cli import main
from synthdsl.testing.fake_openai import FakeOpenAIServer


def write_recipe(project: Path, text: str, name: str = "recipe.yaml") -> Path:
    path = project / name
    path.write_text(text, encoding="utf-8")
    return path


PIPELINE = """
synthdsl: 1
name: e2e
models:
  gen: {{model: openai/fake, api_base: "{base}", max_tokens: 60, concurrency: 4{extra}}}
sources:
  topics:
    records:
      - {{topic: "alpha [[list: 3]]"}}
      - {{topic: "beta [[list: 2]]"}}
      - {{topic: "gamma [[fault:500 times=1]] [[list: 2]]"}}
      - {{topic: "delta [[fault:400]]"}}
      - {{topic: "epsilon [[reply: nothing to list here]]"}}
steps:
  - id: ask
    generate: {{template: "List questions about {{{{ topic }}}}", model: gen, into: text}}
  - id: items
    extract: {{field: text, as: list, into: instruction}}
  - id: answer
    generate: {{template: "Answer: {{{{ instruction }}}}", model: gen}}
  - id: score
    judge: {{template: "Rate {{{{ response }}}} [[score: {score}]]", model: gen, scale: [1, 10]}}
  - id: keep
    filter: "score >= 5 and words(instruction) > 0"
  - id: uniq
    dedup: {{field: topic}}
"""


def pipeline(server: FakeOpenAIServer, score: int = 8, extra: str = "") -> str:
    return PIPELINE.format(base=server.base_url, score=score, extra=extra)


def test_pipeline_accounts_for_every_record(server: FakeOpenAIServer, project: Path) -> None:
    recipe = write_recipe(project, pipeline(server))
    assert run(recipe) == 0
    m = manifest(project)
    assert m["status"] == "completed"
    assert m["accounting_balanced"] is True
    nodes = m["nodes"]
    for nid, st in nodes.items():
        dropped = sum(st["dropped"].values())
        failed = sum(st["failed"].values())
        assert st["in"] == st["passed"] + dropped + failed, nid
    # the 400 fails for good, the 500 is retried once and succeeds
    assert nodes["ask"]["failed"] == {"bad_request": 1}
    assert nodes["ask"]["retries"] == 1
    # "nothing to list here" is one line: extracted as a single item
    assert nodes["items"]["in"] == 4 and nodes["items"]["out"] == 3 + 2 + 2 + 1
    # dedup on topic keeps one record per topic
    assert nodes["uniq"]["out"] == 4
    assert sum(nodes["uniq"]["dropped"].values()) == 4
    rows = read_jsonl(project / "out" / "dataset.jsonl")
    assert len(rows) == 4 == m["output"]["records"]
    assert all(r["score"] == 8 for r in rows)
    prov = rows[0]["_provenance"]
    assert prov["node"] == "score" and prov["model"] == "openai/fake" and prov["parents"]
    rejects = read_jsonl(project / "out" / "rejects.jsonl")
    assert len(rejects) == m["totals"]["dropped"] + m["totals"]["failed"] == 5
    dup = next(r for r in rejects if r["node"] == "uniq")
    assert dup["status"] == "dropped" and "duplicate_of" in dup["detail"]
    failed = next(r for r in rejects if r["status"] == "failed")
    assert failed["node"] == "ask" and "400" in failed["error"]
    assert failed["record"]["topic"].startswith("delta")


def test_rerun_makes_no_calls_and_edit_reruns_only_downstream(
    server: FakeOpenAIServer, project: Path
) -> None:
    recipe = write_recipe(project, pipeline(server))
    assert run(recipe) == 0
    first = manifest(project)["totals"]["calls"]
    assert first > 0
    before = server.stats()["requests"]
    assert run(recipe) == 0
    m = manifest(project)
    # the permanently failing 400 is tried again (failures are not cached): 1 call
    assert m["totals"]["calls"] == 1
    assert server.stats()["requests"] - before == 1
    assert m["totals"]["cache_hits"] == first - 1  # all but the 400
    # edit the judge's prompt: only the judge node calls the provider again
    recipe.write_text(pipeline(server, score=9), encoding="utf-8")
    assert run(recipe) == 0
    nodes = manifest(project)["nodes"]
    assert nodes["answer"]["calls"] == 0 and nodes["answer"]["cache_hits"] > 0
    assert nodes["ask"]["calls"] == 1  # only the failing one
    assert nodes["score"]["calls"] == nodes["score"]["in"] > 0
    assert nodes["score"]["cache_hits"] == 0
    rows = read_jsonl(project / "out" / "dataset.jsonl")
    assert {r["score"] for r in rows} == {9}


def test_fresh_ignores_cache(server: FakeOpenAIServer, project: Path) -> None:
    recipe = write_recipe(project, pipeline(server))
    assert run(recipe) == 0
    assert run(recipe, "--fresh") == 0
    assert manifest(project)["totals"]["cache_hits"] == 0


def test_rate_limit_retry_after_is_honoured(server: FakeOpenAIServer, project: Path) -> None:
    text = f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}", max_retries: 4}}
sources:
  s: {{records: [{{q: "one [[fault:429 times=2 retry_after=0.3]]"}}, {{q: "two"}}]}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen}}
"""
    recipe = write_recipe(project, text)
    import time

    t0 = time.monotonic()
    assert run(recipe) == 0
    elapsed = time.monotonic() - t0
    m = manifest(project)
    assert m["nodes"]["g"]["retries"] == 2
    assert m["nodes"]["g"]["out"] == 2
    assert server.stats()["by_status"].get("429") == 2
    assert elapsed >= 0.6  # two waits of Retry-After: 0.3 s each


def test_concurrency_limit_holds(server: FakeOpenAIServer, project: Path) -> None:
    server.set_latency(0.05)
    rows = ", ".join(f'{{q: "item {i}"}}' for i in range(24))
    text = f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}", concurrency: 3}}
sources:
  s: {{records: [{rows}]}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen}}
"""
    recipe = write_recipe(project, text)
    assert run(recipe) == 0
    stats = server.stats()
    assert stats["requests"] == 24
    assert stats["max_in_flight"] == 3
    out = read_jsonl(project / "out" / "dataset.jsonl")
    assert [r["q"] for r in out] == [f"item {i}" for i in range(24)]  # order kept


def test_secret_never_lands_in_outputs(
    server: FakeOpenAIServer, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-SECRET-4f9a1c"
    monkeypatch.setenv("FAKE_KEY", secret)
    with FakeOpenAIServer(require_api_key=secret) as locked:
        text = f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{locked.base_url}", api_key_env: FAKE_KEY}}
sources:
  s: {{records: [{{q: "hello"}}, {{q: "bad [[fault:400]]"}}]}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen}}
"""
        recipe = write_recipe(project, text)
        assert run(recipe) == 0
        assert locked.stats()["by_status"].get("200") == 1
    assert manifest(project)["nodes"]["g"]["out"] == 1
    for path in project.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_missing_api_key_stops_the_run_with_a_clear_error(
    server: FakeOpenAIServer, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}", api_key_env: NOT_SET_ANYWHERE}}
sources:
  s: {{records: [{{q: "hello"}}]}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen}}
"""
    recipe = write_recipe(project, text)
    assert run(recipe) == 1
    err = capsys.readouterr().err
    assert err.startswith("synthdsl: error:") and "NOT_SET_ANYWHERE" in err
    assert "Traceback" not in err
    assert manifest(project)["status"] == "failed"
    assert "NOT_SET_ANYWHERE" in manifest(project)["error"]
    assert server.stats()["requests"] == 0


def test_mix_ratios_hold_after_filters(server: FakeOpenAIServer, project: Path) -> None:
    synth = ", ".join(f'{{t: "s{i}", keep: {str(i % 4 != 0).lower()}}}' for i in range(40))
    real = ", ".join(f'{{t: "r{i}", keep: true}}' for i in range(30))
    text = f"""
synthdsl: 1
sources:
  synth: {{records: [{synth}]}}
  human: {{records: [{real}]}}
steps:
  - id: kept
    from: synth
    filter: "keep"
  - id: train
    mix:
      total: 40
      seed: 3
      parts: [{{from: kept, ratio: 0.25}}, {{from: human, ratio: 0.75}}]
"""
    recipe = write_recipe(project, text)
    assert run(recipe) == 0
    rows = read_jsonl(project / "out" / "dataset.jsonl")
    assert len(rows) == 40
    assert sum(r["t"].startswith("s") for r in rows) == 10
    m = manifest(project)
    assert m["nodes"]["train"]["mix"]["achieved_total"] == 40
    # ask for more than the human part allows: the total shrinks so ratios hold
    recipe.write_text(text.replace("total: 40", "total: 100"), encoding="utf-8")
    assert run(recipe) == 0
    m = manifest(project)
    mix = m["nodes"]["train"]["mix"]
    assert mix["achieved_total"] == 40 and mix["limited_by"] == "human"
    assert m["nodes"]["train"]["in"] == 30 + 30
    assert sum(m["nodes"]["train"]["dropped"].values()) == 20


def test_loop_accumulates_until_target(server: FakeOpenAIServer, project: Path) -> None:
    text = f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}"}}
sources:
  seeds: {{records: [{{instruction: "seed one"}}, {{instruction: "seed two"}}]}}
steps:
  - id: grow
    loop:
      rounds: 5
      target: 9
      steps:
        - id: new
          from: pool
          generate: {{template: "Write a task like {{{{ instruction }}}} [[list: 2]]", model: gen,
                      into: text}}
        - id: split
          extract: {{field: text, as: list, into: instruction}}
"""
    recipe = write_recipe(project, text)
    assert run(recipe) == 0
    rows = read_jsonl(project / "out" / "dataset.jsonl")
    assert len(rows) == 9
    rounds = sorted({r["_provenance"]["round"] for r in rows})
    assert rounds[0] == 1 and len(rounds) >= 2
    m = manifest(project)
    assert m["nodes"]["grow"]["loop"]["made"] == 9
    # round 1: 2 seeds -> 4 new; round 2: pool of 6 -> 12 new, 5 kept, 7 past the target
    assert m["nodes"]["grow"]["discarded"] == 7
    assert m["accounting_balanced"]


def test_two_backends_produce_identical_records(server: FakeOpenAIServer, project: Path) -> None:
    datasets = []
    for backend in ("http", "litellm"):
        text = f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}", backend: {backend}, seed: 5}}
sources:
  s: {{records: [{{q: "alpha"}}, {{q: "beta [[list: 2]]"}}, {{q: "gamma [[score: 4]]"}}]}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen}}
  - id: j
    judge: {{template: "Rate {{{{ response }}}}", model: gen}}
"""
        recipe = write_recipe(project, text, f"{backend}.yaml")
        assert (
            main(["run", str(recipe), "--quiet", "--fresh", "--out", str(project / backend)]) == 0
        )
        datasets.append(read_jsonl(project / backend / "dataset.jsonl"))
    assert datasets[0] == datasets[1]
    assert len(datasets[0]) == 3


def test_loop_round_salts_the_cache_key_but_is_not_sent() -> None:
    from synthdsl.llm.types import LLMRequest, ModelSpec
    from synthdsl.llm.wire import build_body
    from synthdsl.run.cache import cache_key

    spec = ModelSpec(alias="g", model="openai/fake", params=(("temperature", 0.5),))
    msgs = ({"role": "user", "content": "hi"},)
    plain = LLMRequest(spec=spec, messages=msgs, extra=(("top_k", 5),))
    salted = LLMRequest(spec=spec, messages=msgs, extra=(("top_k", 5),), salt="round=2")
    assert cache_key(plain) != cache_key(salted)
    body = build_body(salted, "fake")
    assert body["top_k"] == 5 and body["temperature"] == 0.5
    assert "salt" not in body and "round" not in body


def test_limit_and_concurrency_flags(server: FakeOpenAIServer, project: Path) -> None:
    server.set_latency(0.05)
    rows = ", ".join(f'{{q: "item {i}"}}' for i in range(30))
    text = f"""
synthdsl: 1
models:
  gen: {{model: openai/fake, api_base: "{server.base_url}", concurrency: 16}}
sources:
  s: {{records: [{rows}]}}
steps:
  - id: g
    generate: {{template: "{{{{ q }}}}", model: gen}}
"""
    recipe = write_recipe(project, text)
    assert run(recipe, "--limit", "12", "--concurrency", "2") == 0
    m = manifest(project)
    assert m["nodes"]["s"]["out"] == 12 and m["output"]["records"] == 12
    assert m["options"] == {"limit": 12, "concurrency": 2, "fresh": False}
    assert server.stats()["max_in_flight"] == 2
