"""The ``set`` kind: computed fields, their checks, and native values at run time."""

from __future__ import annotations

from synthdsl.errors import Span
from synthdsl.nodes import node_kind
from synthdsl.nodes.set import SetConfig
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

KIND = node_kind("set")

RECIPE = """
steps:
  - id: calc
    set:
      total: "{{ a + b }}"
      label: "sum={{ total }}"
      chain: "{{ (chain or []) + [total] }}"
      scaled: "{{ total * params.k }}"
"""


def config(text: str = RECIPE) -> SetConfig:
    done = configure(text, params={"k": 10})
    assert done.diagnostics == [], done.messages
    cfg: SetConfig = done.config
    return cfg


def test_configure_keeps_the_fields_in_order_with_the_recipe_params() -> None:
    cfg = config()
    assert [name for name, _ in cfg.fields] == ["total", "label", "chain", "scaled"]
    assert cfg.fields[1][1].source == "sum={{ total }}"
    assert cfg.params == {"k": 10}


def test_errors_point_at_the_bad_field() -> None:
    done = configure(
        """
        steps:
          - id: calc
            set:
              ok: "{{ a }}"
              bad-name: "{{ a }}"
              broken: "{{ a + }}"
          - id: empty
            set: {}
        """
    )
    assert done.at("'bad-name' is not a valid field name") == Span(FILE, 5, 7)
    assert len(done.diagnostics) == 2
    broken = next(d for d in done.diagnostics if "bad-name" not in d.message)
    assert broken.span is not None and broken.span.line == 6
    assert [name for name, _ in done.config.fields] == ["ok"]
    empty = configure(done.ctx.doc.text, step=1)
    assert empty.messages == ['set needs a mapping of field: "{{ expression }}"']
    assert empty.diagnostics[0].span == Span(FILE, 8, 10)


def test_a_field_may_read_the_fields_set_before_it_only() -> None:
    cfg = config()
    assert KIND.check_templates(cfg, ["a", "b", "chain"]) == []
    problems = KIND.check_templates(cfg, ["a"])
    assert [d.message for d in problems] == [
        "template variable 'b' is not provided by any upstream node",
        "template variable 'chain' is not provided by any upstream node",
    ]
    assert problems[0].span is not None and problems[0].span.line == 4
    backwards = config(
        """
        steps:
          - id: calc
            set:
              first: "{{ second }}"
              second: "{{ 1 }}"
        """
    )
    assert [d.message for d in KIND.check_templates(backwards, [])] == [
        "template variable 'second' is not provided by any upstream node"
    ]


def test_hooks_estimate_and_describe() -> None:
    cfg = config()
    assert KIND.supports_when(cfg) is True
    assert KIND.output_fields(cfg, ["label", "a", "b"]) == [
        "a",
        "b",
        "total",
        "label",
        "chain",
        "scaled",
    ]
    est = KIND.estimate(make_node("set", cfg), 4, FakeEstimator())
    assert (est.records, est.exact) == (4, True)
    assert described(KIND, cfg)["label"] == "sum={{ total }}"
    assert list(described(KIND, cfg)) == ["total", "label", "chain", "scaled"]


async def test_values_keep_their_type_and_see_earlier_fields() -> None:
    recs = make_records({"a": 1, "b": 2, "chain": None}, {"a": 3, "b": 4, "chain": [0]})
    outcomes = await run_map(
        KIND.map_runner(make_node("set", config(), "calc"), FakeRuntime()), recs
    )
    first, second = (emitted(o)[0] for o in outcomes)
    assert first.data == {
        "a": 1,
        "b": 2,
        "chain": [3],
        "total": 3,
        "label": "sum=3",
        "scaled": 30,
    }
    assert second.data["chain"] == [0, 7]
    assert first.id == derive_id("calc", (recs[0].id,), 0)
    assert recs[0].data == {"a": 1, "b": 2, "chain": None}  # the input is not changed


async def test_a_value_that_cannot_be_computed_fails_the_record() -> None:
    recs = make_records({"a": 1}, {"a": "x", "b": 2})
    missing, wrong = await run_map(KIND.map_runner(make_node("set", config()), FakeRuntime()), recs)
    assert failed(missing).kind == "set_error"
    assert failed(missing).message.startswith("set total: UndefinedError")
    assert failed(wrong).message.startswith("set total: TypeError")
