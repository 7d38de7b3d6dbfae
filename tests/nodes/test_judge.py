"""The ``judge`` kind: scale checks, the score schema, and its runner on scripted replies."""

from __future__ import annotations

from synthdsl.errors import LLMError, Span
from synthdsl.nodes import node_kind
from synthdsl.nodes.judge import JudgeConfig, parse_score
from synthdsl.records import derive_id

from .kit import (
    FILE,
    FakeEstimator,
    FakeRuntime,
    configure,
    described,
    emitted,
    failed,
    make_node,
    make_records,
    run_map,
)

KIND = node_kind("judge")

RECIPE = """
steps:
  - id: rate
    judge:
      template: "Rate: {{ response }}"
      model: critic
      into: quality
      reason: why
      scale: [0, 5]
"""


def config(text: str = RECIPE) -> JudgeConfig:
    done = configure(text)
    assert done.diagnostics == []
    cfg: JudgeConfig = done.config
    return cfg


def test_configure_reads_the_scale_and_fields() -> None:
    cfg = config()
    assert (cfg.into, cfg.reason, cfg.scale) == ("quality", "why", (0, 5))
    assert cfg.prompt.model == "critic"
    defaults = config(
        """
        steps:
          - id: rate
            judge:
              template: "Rate: {{ response }}"
        """
    )
    assert (defaults.into, defaults.reason, defaults.scale) == ("score", None, (1, 10))


def test_a_scale_going_down_is_an_error_at_the_scale() -> None:
    done = configure(
        """
        steps:
          - id: rate
            judge:
              template: "Rate"
              scale: [5, 5]
        """
    )
    assert done.messages == ["judge scale [5, 5] must go from low to high"]
    assert done.diagnostics[0].span == Span(FILE, 5, 14)


def test_the_response_format_constrains_the_score_to_the_scale() -> None:
    fmt = config().response_format()
    schema = fmt["json_schema"]["schema"]
    assert schema["properties"]["score"] == {"type": "integer", "minimum": 0, "maximum": 5}
    assert schema["required"] == ["score", "reason"]


def test_compile_hooks() -> None:
    cfg = config()
    assert KIND.supports_when(cfg) is True
    assert KIND.uses_llm and not KIND.writes_content
    assert KIND.model_refs(cfg) == [("critic", Span(FILE, 5, 14))]
    assert KIND.output_fields(cfg, ["quality", "response"]) == ["response", "quality", "why"]
    cfg.reason = None
    assert KIND.output_fields(cfg, ["response"]) == ["response", "quality"]


def test_estimate_and_describe() -> None:
    cfg = config()
    node = make_node("judge", cfg, "rate")
    est = KIND.estimate(node, 4, FakeEstimator())
    assert (est.records, est.calls, est.exact) == (4, 4, True)
    assert KIND.estimate(node, None, FakeEstimator()).exact is False
    summary = described(KIND, cfg)
    assert (summary["into"], summary["scale"], summary["reason"]) == (
        "quality",
        [0, 5],
        "why",
    )
    assert summary["model"] == "critic"


def test_parse_score() -> None:
    assert parse_score('{"score": 4, "reason": "fine"}', (1, 5)) == (4, "fine")
    assert parse_score('{"score": "3", "reason": ""}', (1, 5)) == (3, "")
    # A reply cut while writing the reason still carries its score.
    assert parse_score('{"score": 2, "reason": "it is cut he', (1, 5)) == (2, "")
    assert parse_score('{"score": 9, "reason": ""}', (1, 5)) == (
        "judge score 9 is outside the scale [1, 5]"
    )
    assert parse_score('{"score": 2.5}', (1, 5)) == "judge score 2.5 is not an integer"
    assert parse_score('{"score": true}', (1, 5)) == "judge score True is not a number"
    assert parse_score('{"grade": 2}', (1, 5)) == "judge reply has no 'score'"
    assert str(parse_score("no idea", (1, 5))).startswith("judge reply is not JSON")


async def test_runner_scores_each_record() -> None:
    node = make_node("judge", config(), "rate")
    rt = FakeRuntime(replies=['{"score": 5, "reason": "clear"}', '{"score": 1, "reason": "vague"}'])
    recs = make_records({"response": "A"}, {"response": "B"})
    outcomes = await run_map(KIND.map_runner(node, rt), recs)
    children = [emitted(o)[0] for o in outcomes]
    assert [c.data for c in children] == [
        {"response": "A", "quality": 5, "why": "clear"},
        {"response": "B", "quality": 1, "why": "vague"},
    ]
    assert children[1].id == derive_id("rate", (recs[1].id,), 0)
    assert children[0].meta["model"] == "test/critic"
    _, request = rt.requests[0]
    assert request.messages == ({"role": "user", "content": "Rate: A"},)
    assert request.response_format == config().response_format()
    assert request.spec.alias == "critic"


async def test_a_score_off_the_scale_or_a_failed_call_fails_the_record() -> None:
    node = make_node("judge", config(), "rate")
    rt = FakeRuntime(
        replies=[
            '{"score": 6, "reason": "too kind"}',
            LLMError("timed out", kind="timeout", transient=True),
        ]
    )
    first, second = await run_map(
        KIND.map_runner(node, rt), make_records({"response": "A"}, {"response": "B"})
    )
    assert failed(first).kind == "invalid_judgement"
    assert failed(first).message == "judge score 6 is outside the scale [0, 5]"
    assert failed(second).kind == "timeout"


async def test_no_reason_field_keeps_the_record_to_the_score() -> None:
    cfg = config()
    cfg.reason = None
    rt = FakeRuntime(replies=['{"score": 3, "reason": "ok"}'])
    (outcome,) = await run_map(
        KIND.map_runner(make_node("judge", cfg, "rate"), rt), make_records({"response": "A"})
    )
    assert emitted(outcome)[0].data == {"response": "A", "quality": 3}
