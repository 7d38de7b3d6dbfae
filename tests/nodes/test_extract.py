"""The ``extract`` kind: lists, JSON and code out of a text field, one hook at a time."""

from __future__ import annotations

from typing import Any

from synthdsl.errors import Span
from synthdsl.nodes import node_kind
from synthdsl.nodes.extract import ExtractConfig
from synthdsl.records import derive_id

from .kit import (
    FILE,
    FakeEstimator,
    FakeRuntime,
    configure,
    described,
    dropped,
    emitted,
    make_node,
    make_records,
    run_map,
    schema_problems,
)

KIND = node_kind("extract")


def config(options: str) -> ExtractConfig:
    done = configure(
        f"""
        steps:
          - id: ex
            extract: {options}
        """
    )
    assert done.diagnostics == []
    cfg: ExtractConfig = done.config
    return cfg


async def run_one(cfg: ExtractConfig, data: dict[str, Any], rt: FakeRuntime | None = None) -> Any:
    runner = KIND.map_runner(make_node("extract", cfg, "ex"), rt or FakeRuntime())
    (outcome,) = await run_map(runner, make_records(data))
    return outcome


def test_configure_and_defaults_per_form() -> None:
    done = configure(
        """
        steps:
          - id: ex
            extract:
              field: response
              as: json
              spread: [q, a]
              max_items: 5
        """
    )
    assert done.diagnostics == []
    cfg = done.config
    assert (cfg.field, cfg.kind, cfg.spread, cfg.max_items) == ("response", "json", ["q", "a"], 5)
    assert cfg.field_span == Span(FILE, 4, 14)
    assert cfg.explode is False  # only lists explode by default
    listed = config("{field: response, as: list}")
    assert (listed.into, listed.explode) == ("item", True)
    assert config("{field: response, as: json}").into == "data"
    code = config("{field: response, as: code, language: python}")
    assert (code.into, code.language) == ("code", "python")


def test_an_unknown_form_is_caught_by_the_schema_at_its_value() -> None:
    # configure trusts the schema for 'as': the schema reports it, at the value.
    problems = schema_problems(
        """
        steps:
          - id: ex
            extract:
              field: response
              as: xml
        """
    )
    assert [(d.message, d.span) for d in problems] == [
        (
            "extract.as in step 'ex' must be one of: list, json, code (found 'xml')",
            Span(FILE, 5, 11),
        )
    ]


def test_compile_hooks() -> None:
    cfg = config("{field: response, as: list, into: task}")
    assert KIND.supports_when(cfg) is True
    assert KIND.read_fields(cfg) == [("response", Span(FILE, 3, 22))]
    assert KIND.output_fields(cfg, ["task", "response"]) == ["response", "task"]
    spread = config("{field: response, as: json, spread: [q, a]}")
    assert KIND.output_fields(spread, ["q", "response"]) == ["response", "q", "a"]


def test_estimate_and_describe() -> None:
    capped = config("{field: response, as: list, max_items: 5}")
    est = KIND.estimate(make_node("extract", capped), 2, FakeEstimator())
    assert (est.records, est.exact) == (10, False)
    uncapped = config("{field: response, as: list}")
    assert KIND.estimate(make_node("extract", uncapped), 2, FakeEstimator()).records is None
    one = config("{field: response, as: code}")
    assert KIND.estimate(make_node("extract", one), 7, FakeEstimator()).records == 7
    assert described(KIND, capped) == {
        "field": "response",
        "as": "list",
        "into": "item",
        "explode": True,
        "max_items": 5,
    }
    assert described(KIND, config("{field: r, as: json, spread: [q]}")) == {
        "field": "r",
        "as": "json",
        "spread": ["q"],
        "explode": False,
    }
    assert described(KIND, one) == {"field": "response", "as": "code", "into": "code"}


async def test_a_list_explodes_into_one_record_per_item_in_order() -> None:
    cfg = config("{field: response, as: list}")
    (rec,) = make_records({"response": "Tasks:\n1. alpha\n2. beta\n3. gamma"})
    (outcome,) = await run_map(
        KIND.map_runner(make_node("extract", cfg, "ex"), FakeRuntime()), [rec]
    )
    out = emitted(outcome)
    assert [r.data["item"] for r in out] == ["alpha", "beta", "gamma"]
    assert [r.id for r in out] == [derive_id("ex", (rec.id,), i) for i in range(3)]
    assert all(r.data["response"] == rec.data["response"] for r in out)


async def test_max_items_and_explode_false() -> None:
    capped = config("{field: response, as: list, max_items: 2}")
    out = emitted(await run_one(capped, {"response": "- a\n- b\n- c"}))
    assert [r.data["item"] for r in out] == ["a", "b"]
    kept = config("{field: response, as: list, explode: false}")
    out = emitted(await run_one(kept, {"response": "- a\n- b"}))
    assert [r.data["item"] for r in out] == [["a", "b"]]


async def test_text_without_items_or_not_text_is_dropped_with_the_reason() -> None:
    cfg = config("{field: response, as: list}")
    empty = dropped(await run_one(cfg, {"response": "   \n "}))
    assert empty.reason.startswith("extract list: ")
    wrong = dropped(await run_one(cfg, {"response": 42}))
    assert wrong.reason == "extract: field 'response' is not text"
    assert wrong.detail == {"type": "int"}
    missing = dropped(await run_one(cfg, {"other": "1. a"}))
    assert missing.detail == {"type": "NoneType"}


async def test_json_in_prose_and_already_structured_values() -> None:
    cfg = config("{field: response, as: json}")
    out = emitted(await run_one(cfg, {"response": 'Sure! {"a": [1, 2]} Hope it helps.'}))
    assert out[0].data["data"] == {"a": [1, 2]}
    out = emitted(await run_one(cfg, {"response": {"already": "parsed"}}))
    assert out[0].data["data"] == {"already": "parsed"}
    assert dropped(await run_one(cfg, {"response": "no json at all"})).reason.startswith(
        "extract json: "
    )


async def test_json_explode_wants_a_list() -> None:
    cfg = config("{field: response, as: json, explode: true, max_items: 2}")
    out = emitted(await run_one(cfg, {"response": "[1, 2, 3]"}))
    assert [r.data["data"] for r in out] == [1, 2]
    not_list = dropped(await run_one(cfg, {"response": '{"a": 1}'}))
    assert not_list.reason == "extract json: expected a list, got dict"


async def test_spread_lifts_keys_and_counts_items_missing_one() -> None:
    cfg = config("{field: response, as: json, explode: true, spread: [q, a]}")
    rt = FakeRuntime()
    text = '[{"q": "1+1?", "a": "2"}, {"q": "no answer"}, {"q": "2+2?", "a": "4", "x": 0}]'
    out = emitted(await run_one(cfg, {"response": text}, rt))
    assert [(r.data["q"], r.data["a"]) for r in out] == [("1+1?", "2"), ("2+2?", "4")]
    assert "x" not in out[1].data and "data" not in out[1].data
    assert rt.stats["ex"].sample_failures == {"invalid item": 1}
    none = dropped(await run_one(cfg, {"response": '[{"q": "only"}]'}))
    assert none.reason == "extract json: no item with keys q, a found"


async def test_code_prefers_the_named_language() -> None:
    cfg = config("{field: response, as: code, language: python}")
    text = "```bash\nls\n```\n\n```py\nprint(1)\n```"
    out = emitted(await run_one(cfg, {"response": text}))
    assert out[0].data["code"] == "print(1)"
    assert dropped(await run_one(cfg, {"response": "just words"})).reason.startswith(
        "extract code: "
    )
