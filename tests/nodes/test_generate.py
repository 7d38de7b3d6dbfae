"""The ``generate`` kind: prompt config, fields, plan hooks, and its runner on scripted replies."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthdsl.errors import LLMError, RunError, Span
from synthdsl.llm.types import LLMResponse
from synthdsl.nodes import node_kind
from synthdsl.nodes.generate import GenerateConfig
from synthdsl.records import derive_id, stable_hash

from .kit import (
    FILE,
    FakeEstimator,
    FakeRuntime,
    configure,
    described,
    dropped,
    emitted,
    failed,
    make_node,
    make_records,
    run_map,
)

KIND = node_kind("generate")

FULL = """
steps:
  - id: gen
    generate:
      template: "Write about {{ topic }}"
      system: "You are terse."
      model: small
      into: answer
      n: 2
      json: true
      logprobs: true
      drop_truncated: true
      params: {temperature: 0.5}
"""


def plain() -> GenerateConfig:
    done = configure(
        """
        steps:
          - id: gen
            generate:
              template: "Write about {{ topic }}"
        """
    )
    assert done.diagnostics == []
    config: GenerateConfig = done.config
    return config


def test_configure_reads_every_option_with_its_type() -> None:
    done = configure(FULL)
    assert done.diagnostics == []
    cfg = done.config
    assert isinstance(cfg, GenerateConfig)
    assert (cfg.into, cfg.n, cfg.json, cfg.logprobs, cfg.drop_truncated) == (
        "answer",
        2,
        True,
        True,
        True,
    )
    assert cfg.prompt.model == "small"
    assert cfg.prompt.model_span == Span(FILE, 6, 14)  # the value 'small'
    assert cfg.prompt.params == {"temperature": 0.5}
    assert cfg.surprisal_field == "answer_surprisal"
    assert cfg.prompt.user is not None and cfg.prompt.user.source == "Write about {{ topic }}"
    assert cfg.prompt.system is not None and cfg.prompt.system.source == "You are terse."


def test_configure_defaults() -> None:
    cfg = plain()
    assert (cfg.into, cfg.n, cfg.json, cfg.logprobs, cfg.drop_truncated) == (
        "response",
        1,
        False,
        False,
        False,
    )
    assert cfg.prompt.model is None
    assert cfg.prompt.system is None
    # Without a model the span is the step's config (where the default model is used).
    assert cfg.prompt.model_span == Span(FILE, 4, 7)


def test_prompt_and_template_together_is_an_error_at_the_template_key() -> None:
    done = configure(
        """
        steps:
          - id: gen
            generate:
              prompt: ask.txt
              template: "Hi"
        """,
        search_dirs=[],
    )
    span = done.at("give either 'prompt'")
    assert span == Span(FILE, 5, 7)


def test_missing_prompt_is_an_error_at_the_config() -> None:
    done = configure(
        """
        steps:
          - id: gen
            generate:
              into: answer
        """
    )
    assert done.messages == ["missing 'prompt' (a template file) or 'template' (inline text)"]
    assert done.diagnostics[0].span == Span(FILE, 4, 7)


def test_template_syntax_error_points_inside_the_template() -> None:
    done = configure(
        """
        steps:
          - id: gen
            generate:
              template: "Hi {{ topic"
        """
    )
    assert len(done.diagnostics) == 1
    span = done.diagnostics[0].span
    assert span is not None and span.line == 4
    # Inside the quoted value (which starts at column 17), not at the key.
    assert span.col >= 17


def test_prompt_file_is_found_in_the_search_dirs(tmp_path: Path) -> None:
    (tmp_path / "ask.txt").write_text("Tell me about {{ topic }}.", encoding="utf-8")
    text = """
    steps:
      - id: gen
        generate:
          prompt: ask.txt
    """
    done = configure(text, search_dirs=[tmp_path])
    assert done.diagnostics == []
    assert done.config.prompt.user.source == "Tell me about {{ topic }}."
    missing = configure(text, search_dirs=[tmp_path / "elsewhere"])
    assert missing.at("template file 'ask.txt' not found") == Span(FILE, 4, 15)


def test_compile_hooks() -> None:
    cfg = configure(FULL).config
    assert KIND.supports_when(cfg) is True
    assert KIND.uses_llm and KIND.writes_content
    assert KIND.model_refs(cfg) == [("small", Span(FILE, 6, 14))]
    assert [t.source for t in KIND.templates(cfg)] == ["You are terse.", "Write about {{ topic }}"]
    # 'answer' already upstream moves to the end; the surprisal field follows it.
    assert KIND.output_fields(cfg, ["answer", "topic"]) == ["topic", "answer", "answer_surprisal"]
    assert KIND.output_fields(plain(), ["topic"]) == ["topic", "response"]
    problems = KIND.check_templates(cfg, ["subject"])
    assert [d.message for d in problems] == [
        "template variable 'topic' is not provided by any upstream node"
    ]


def test_estimate_describe_and_llm_use() -> None:
    cfg = configure(FULL).config
    node = make_node("generate", cfg, "gen")
    est = KIND.estimate(node, 3, FakeEstimator())
    assert (est.records, est.calls, est.exact) == (6, 6, True)  # 3 records x n=2
    unknown = KIND.estimate(node, None, FakeEstimator())
    assert (unknown.records, unknown.exact) == (None, False)
    summary = described(KIND, cfg)
    assert summary["model"] == "small"
    assert summary["prompt_hash"] == stable_hash("Write about {{ topic }}")
    assert summary["system_hash"] == stable_hash("You are terse.")
    assert (summary["into"], summary["n"], summary["json"]) == ("answer", 2, True)
    assert summary["logprobs"] is True and summary["drop_truncated"] is True
    assert summary["params"] == {"temperature": 0.5}
    assert "json" not in described(KIND, plain())
    assert described(KIND, plain())["model"] == "default"
    use = KIND.llm_use(cfg)
    assert use is not None
    assert use.model == "small"
    assert use.prompt_chars == len("You are terse.") + len("Write about {{ topic }}")


async def test_runner_emits_one_child_per_record_with_the_reply() -> None:
    node = make_node("generate", plain(), "gen")
    rt = FakeRuntime(replies=["about cats", "about dogs"])
    runner = KIND.map_runner(node, rt)
    assert runner is not None and runner.concurrency == rt.concurrency
    recs = make_records({"topic": "cats"}, {"topic": "dogs"})
    outcomes = await run_map(runner, recs)
    children = [emitted(o) for o in outcomes]
    assert [[c.data for c in cs] for cs in children] == [
        [{"topic": "cats", "response": "about cats"}],
        [{"topic": "dogs", "response": "about dogs"}],
    ]
    first = children[0][0]
    assert first.parents == (recs[0].id,)
    assert first.id == derive_id("gen", (recs[0].id,), 0)
    assert first.meta["model"] == "test/default"
    assert "sample" not in first.meta  # only with n > 1
    # The prompt was rendered from the record, in order.
    sent = [r.messages for _, r in rt.requests]
    assert sent == [
        ({"role": "user", "content": "Write about cats"},),
        ({"role": "user", "content": "Write about dogs"},),
    ]
    assert all(nid == "gen" for nid, _ in rt.requests)


async def test_runner_samples_n_and_varies_a_seed() -> None:
    cfg = configure(FULL).config
    node = make_node("generate", cfg, "gen")
    rt = FakeRuntime(
        replies=[
            LLMResponse(text='{"q": 1}', model="test/small", logprobs=[-1.0, -3.0]),
            LLMResponse(text='{"q": 2}', model="test/small", logprobs=None),
        ],
        model_params={"seed": 7},
    )
    (rec,) = make_records({"topic": "owls"})
    out = emitted((await run_map(KIND.map_runner(node, rt), [rec]))[0])
    assert [c.data["answer"] for c in out] == [{"q": 1}, {"q": 2}]  # JSON parsed
    assert out[0].data["answer_surprisal"] == pytest.approx(2.0)  # -mean(-1, -3)
    assert out[1].data["answer_surprisal"] is None
    assert [c.meta["sample"] for c in out] == [0, 1]
    assert out[0].id != out[1].id
    requests = [r for _, r in rt.requests]
    assert [r.sample_index for r in requests] == [0, 1]
    assert [r.spec.param_dict()["seed"] for r in requests] == [7, 8]
    assert all(r.spec.param_dict()["temperature"] == 0.5 for r in requests)
    assert all(("logprobs", True) in r.extra for r in requests)
    assert all(r.response_format == {"type": "json_object"} for r in requests)
    assert requests[0].messages[0] == {"role": "system", "content": "You are terse."}


async def test_json_schema_asks_for_a_schema_and_bad_json_fails() -> None:
    done = configure(
        """
        steps:
          - id: gen
            generate:
              template: "Go"
              json: {type: object}
        """
    )
    node = make_node("generate", done.config, "gen")
    rt = FakeRuntime(replies=["sorry, no JSON here"] * 3)
    (outcome,) = await run_map(KIND.map_runner(node, rt), make_records({}))
    assert failed(outcome).kind == "invalid_json"
    assert len(rt.requests) == 3  # the first reply and two corrected ones asked for
    fmt = rt.requests[0][1].response_format
    assert fmt == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": {"type": "object"}},
    }


async def test_a_failed_sample_is_counted_while_the_others_pass() -> None:
    cfg = plain()
    cfg.n = 3
    node = make_node("generate", cfg, "gen")
    rt = FakeRuntime(replies=["one", LLMError("busy", kind="rate_limit", transient=True), "three"])
    (outcome,) = await run_map(KIND.map_runner(node, rt), make_records({"topic": "x"}))
    assert [c.data["response"] for c in emitted(outcome)] == ["one", "three"]
    assert [c.meta["sample"] for c in emitted(outcome)] == [0, 2]
    assert rt.stats["gen"].sample_failures == {"rate_limit": 1}


async def test_all_samples_failing_is_a_failure_of_the_first_kind() -> None:
    node = make_node("generate", plain(), "gen")
    rt = FakeRuntime(replies=[LLMError("down", kind="server_error", transient=True)])
    (outcome,) = await run_map(KIND.map_runner(node, rt), make_records({"topic": "x"}))
    assert failed(outcome).kind == "server_error"
    assert "down" in failed(outcome).message
    assert "gen" not in rt.stats  # nothing passed, so no sample failures are counted


async def test_an_auth_error_stops_the_run() -> None:
    node = make_node("generate", plain(), "gen")
    rt = FakeRuntime(replies=[LLMError("bad key", kind="auth", transient=False)])
    with pytest.raises(RunError, match="stopping the run"):
        await run_map(KIND.map_runner(node, rt), make_records({"topic": "x"}))


async def test_truncated_replies_are_dropped_only_with_drop_truncated() -> None:
    cut = LLMResponse(text="half a sent", model="m", finish_reason="length")
    cfg = plain()
    cfg.drop_truncated = True
    rt = FakeRuntime(replies=[cut])
    (outcome,) = await run_map(
        KIND.map_runner(make_node("generate", cfg, "gen"), rt), make_records({"topic": "x"})
    )
    assert dropped(outcome).reason == "truncated reply (max_tokens reached)"
    rt = FakeRuntime(replies=[cut])
    (outcome,) = await run_map(
        KIND.map_runner(make_node("generate", plain(), "gen"), rt), make_records({"topic": "x"})
    )
    assert emitted(outcome)[0].data["response"] == "half a sent"


async def test_a_missing_template_variable_fails_without_calling_the_model() -> None:
    rt = FakeRuntime()
    (outcome,) = await run_map(
        KIND.map_runner(make_node("generate", plain(), "gen"), rt), make_records({"other": 1})
    )
    assert failed(outcome).kind == "template"
    assert rt.requests == []


async def test_a_loop_round_is_in_the_ids_and_meta() -> None:
    rt = FakeRuntime(replies=["r"], round=2, salt_text="round=2")
    (rec,) = make_records({"topic": "x"})
    (outcome,) = await run_map(KIND.map_runner(make_node("generate", plain(), "gen"), rt), [rec])
    (child,) = emitted(outcome)
    assert child.meta["round"] == 2
    assert child.node == "gen@r2"
    assert child.id == derive_id("gen@r2", (rec.id,), 0)
    assert rt.requests[0][1].salt == "round=2"


async def test_no_input_makes_no_call() -> None:
    rt = FakeRuntime()
    assert await run_map(KIND.map_runner(make_node("generate", plain(), "gen"), rt), []) == []
    assert rt.requests == []
