"""``compile/fields.py``: fields flow through the graph; what a node reads must arrive."""

from __future__ import annotations

from pathlib import Path

from synthdsl.compile.fields import propagate_fields
from synthdsl.compile.state import CompileOptions, Compiler
from synthdsl.ir import CompiledRecipe

from .support import compile_errors, compile_ok, problems, write


def _fields(recipe: CompiledRecipe) -> dict[str, list[str]]:
    return {n.id: n.fields for n in recipe.graph.walk()}


def test_fields_flow_from_sources_through_each_node(work: Path) -> None:
    recipe = compile_ok(
        write(
            work,
            "main.yaml",
            """
            synthdsl: 1
            sources:
              seeds: {records: [{topic: x}, {topic: y, level: 2}]}
            steps:
              - id: ask
                generate: {template: "Ask about {{ topic }}.", into: question}
              - id: keep
                filter: "len(question) > 3 and level > 1"
            """,
        )
    )
    assert _fields(recipe) == {
        "seeds": ["topic", "level"],
        "ask": ["topic", "level", "question"],
        "keep": ["topic", "level", "question"],
    }


def test_a_field_no_upstream_node_provides(work: Path) -> None:
    path = write(
        work,
        "main.yaml",
        """
        synthdsl: 1
        sources:
          seeds: {records: [{topic: x, level: 1}]}
        steps:
          - id: ask
            when: "len(topc) > 1"
            generate: {template: "Ask about {{ topik }}.", into: question}
          - id: keep
            filter: "len(questoin) > 3 and zzz"
        """,
    )
    assert compile_errors(path) == [
        (
            "main.yaml:6:16",
            "field 'topc' is not provided by any upstream node",
            "did you mean 'topic'?",
        ),
        (
            "main.yaml:7:40",
            "template variable 'topik' is not provided by any upstream node",
            "did you mean 'topic'?",
        ),
        (
            "main.yaml:9:18",
            "field 'questoin' is not provided by any upstream node",
            "did you mean 'question'?",
        ),
        (
            "main.yaml:9:36",
            "field 'zzz' is not provided by any upstream node",
            "available fields: level, question, topic",
        ),
    ]


def test_declared_fields_of_a_file_source_are_its_fields(work: Path) -> None:
    write(work, "data.jsonl", '{"topic": "x", "hidden": 1}\n')
    path = write(
        work,
        "main.yaml",
        """
        synthdsl: 1
        sources:
          rows: {path: data.jsonl, fields: [topic]}
        steps:
          - id: keep
            filter: "hidden > 0"
        """,
    )
    assert compile_errors(path) == [
        (
            "main.yaml:6:14",
            "field 'hidden' is not provided by any upstream node",
            "available fields: topic",
        )
    ]


def test_fields_of_a_file_source_are_peeked_and_unknown_ones_are_not_checked(work: Path) -> None:
    write(work, "data.jsonl", '{"topic": "x", "hidden": 1}\n')
    write(work, "empty.jsonl", "")
    recipe = compile_ok(
        write(
            work,
            "main.yaml",
            """
            synthdsl: 1
            sources:
              rows: {path: data.jsonl}
              blank: {path: empty.jsonl, allow_empty: true}
            steps:
              - id: keep
                from: rows
                filter: "hidden > 0"
              - id: anything
                from: blank
                filter: "whatever > 0"
              - id: both
                from: [keep, anything]
                dedup: {field: topic}
            """,
        )
    )
    assert _fields(recipe)["keep"] == ["topic", "hidden"]
    assert _fields(recipe)["anything"] == ["*"]


def test_an_unknown_model_alias(work: Path) -> None:
    text = """
    synthdsl: 1
    models:
      writer: {model: openai/gpt-4o}
    sources:
      seeds: {records: [{topic: x}]}
    steps:
      - id: ask
        generate: {template: "{{ topic }}", into: q, model: MODEL}
    """
    assert compile_errors(write(work, "main.yaml", text.replace("MODEL", "writr"))) == [
        ("main.yaml:8:57", "unknown model alias 'writr'", "did you mean 'writer'?")
    ]
    assert compile_errors(write(work, "main.yaml", text.replace("MODEL", "zzz"))) == [
        ("main.yaml:8:57", "unknown model alias 'zzz'", "declared aliases: default, writer")
    ]


def test_a_mix_keeps_the_fields_every_part_has(work: Path) -> None:
    path = write(
        work,
        "main.yaml",
        """
        synthdsl: 1
        sources:
          a: {records: [{instruction: x, response: y, extra: 1}]}
          b: {records: [{other: 2, instruction: x, response: z}]}
        steps:
          - id: blend
            mix: {parts: [{from: a, ratio: 0.5}, {from: b, ratio: 0.5}]}
          - id: keep
            filter: "len(response) > 3 and extra > 0"
        """,
    )
    assert compile_errors(path) == [
        (
            "main.yaml:9:36",
            "field 'extra' is not provided by any upstream node",
            "available fields: instruction, response",
        )
    ]
    recipe = compile_ok(write(work, "main.yaml", path.read_text().replace(" and extra > 0", "")))
    # in the order of the first part
    assert _fields(recipe)["blend"] == ["instruction", "response"]


def test_a_loop_body_learns_its_pool_fields_from_a_first_pass(work: Path) -> None:
    text = """
    synthdsl: 1
    sources:
      seeds: {records: [{instruction: x}]}
    steps:
      - id: grow
        loop:
          rounds: 2
          steps:
            - id: check
              filter: "READ"
            - id: ask
              generate: {template: "x {{ instruction }}", into: y}
    """
    # 'y' is made by a later body step: earlier rounds put it in the pool
    recipe = compile_ok(write(work, "main.yaml", text.replace("READ", "y == null or len(y) > 0")))
    assert _fields(recipe) == {
        "seeds": ["instruction"],
        "grow": ["instruction", "y"],
        "grow.pool": ["instruction", "y"],
        "grow.check": ["instruction", "y"],
        "grow.ask": ["instruction", "y"],
    }
    # a field no round makes is reported once (the first pass reports nothing)
    path = write(work, "main.yaml", text.replace("READ", "len(zz) > 0"))
    assert compile_errors(path) == [
        (
            "main.yaml:10:24",
            "field 'zz' is not provided by any upstream node",
            "available fields: instruction, y",
        )
    ]


def test_a_loop_body_reads_outer_fields_through_its_feed(work: Path) -> None:
    text = """
    synthdsl: 1
    sources:
      seeds: {records: [{instruction: x}]}
      docs: {records: [{text: t}]}
    steps:
      - id: grow
        from: seeds
        loop:
          rounds: 2
          steps:
            - id: d
              from: docs
              filter: "READ"
            - id: out
              from: [pool, d]
              dedup: {field: instruction}
    """
    recipe = compile_ok(write(work, "main.yaml", text.replace("READ", "len(text) > 0")))
    assert _fields(recipe)["grow.docs"] == ["text"]
    path = write(work, "main.yaml", text.replace("READ", "len(instruction) > 0"))
    assert compile_errors(path) == [
        (
            "main.yaml:13:24",
            "field 'instruction' is not provided by any upstream node",
            "available fields: text",
        )
    ]


def test_feeds_not_given_are_unknown(work: Path) -> None:
    recipe = compile_ok(
        write(
            work,
            "main.yaml",
            """
            synthdsl: 1
            sources:
              seeds: {records: [{instruction: x}]}
            steps:
              - id: grow
                loop:
                  rounds: 2
                  steps:
                    - id: keep
                      filter: "len(instruction) > 0"
            """,
        )
    )
    body = recipe.graph.nodes["grow"].body
    assert body is not None
    c = Compiler(CompileOptions())
    c.models = recipe.models
    propagate_fields(c, body)
    assert {nid: n.fields for nid, n in body.nodes.items()} == {
        "grow.pool": ["*"],
        "grow.keep": ["*"],
    }
    propagate_fields(c, body, {"pool": ["text"]})
    assert problems(c.diags) == [
        (
            "main.yaml:10:24",
            "field 'instruction' is not provided by any upstream node",
            "available fields: text",
        )
    ]


OUTPUT = """
synthdsl: 1
sources:
  seeds: {records: [{instruction: x}]}
steps:
  - id: ask
    generate: {template: "x {{ instruction }}", into: answer}
output: OUT
"""


def _output_errors(work: Path, output: str) -> list[tuple[str | None, str, str | None]]:
    return compile_errors(write(work, "main.yaml", OUTPUT.replace("OUT", output)))


def test_output_fields_must_be_on_the_output_step(work: Path) -> None:
    assert _output_errors(work, "{fields: [instruction, answr]}") == [
        (
            "main.yaml:7:32",
            "output field 'answr' is not provided by step 'ask'",
            "did you mean 'answer'?",
        )
    ]
    assert _output_errors(work, "{fields: [zzz]}") == [
        (
            "main.yaml:7:19",
            "output field 'zzz' is not provided by step 'ask'",
            "its fields: instruction, answer",
        )
    ]


def test_a_shape_needs_its_fields_named_where_they_are_chosen(work: Path) -> None:
    # the default response field is reported at 'shape'
    assert _output_errors(work, "{shape: alpaca}") == [
        (
            "main.yaml:7:17",
            "output field 'response' is not provided by step 'ask'",
            "its fields: instruction, answer",
        )
    ]
    # a chosen one at its own key
    assert _output_errors(work, "{shape: alpaca, response_field: answr}") == [
        (
            "main.yaml:7:41",
            "output field 'answr' is not provided by step 'ask'",
            "did you mean 'answer'?",
        )
    ]
    # a field both listed and needed by the shape is reported where it is listed
    assert _output_errors(work, "{shape: alpaca, fields: [instruction, response]}") == [
        (
            "main.yaml:7:47",
            "output field 'response' is not provided by step 'ask'",
            "its fields: instruction, answer",
        )
    ]
    # a field listed twice is reported once, at its first mention
    assert _output_errors(work, "{fields: [zzz, instruction, zzz]}") == [
        (
            "main.yaml:7:19",
            "output field 'zzz' is not provided by step 'ask'",
            "its fields: instruction, answer",
        )
    ]
    recipe = compile_ok(
        write(work, "main.yaml", OUTPUT.replace("OUT", "{shape: alpaca, response_field: answer}"))
    )
    assert recipe.output.response_field == "answer"


def test_output_fields_are_not_checked_when_unknown(work: Path) -> None:
    write(work, "empty.jsonl", "")
    text = OUTPUT.replace("records: [{instruction: x}]", "path: empty.jsonl, allow_empty: true")
    recipe = compile_ok(write(work, "main.yaml", text.replace("OUT", "{fields: [zzz]}")))
    # what the output step adds is known, the rest is not: nothing is checked
    assert recipe.graph.nodes["ask"].fields == ["*", "answer"]


def test_whole_graph_checks_run_once_fields_are_known(work: Path) -> None:
    text = """
    synthdsl: 1
    sources:
      real: {records: [{instruction: a}]}
      seeds: {records: [{instruction: b}]}
    steps:
      - id: synth
        from: seeds
        generate: {template: "{{ instruction }}", into: response}
      - id: blend
        mix:
          stage: pretraining
          stage_policy: POLICY
          parts:
            - {from: real, ratio: 0.5}
            - {from: synth, ratio: 0.5}
    """
    recipe = compile_ok(write(work, "main.yaml", text.replace("POLICY", "warn")))
    assert problems(recipe.warnings) == [
        (
            "main.yaml:11:7",
            "mix 'blend' is 50% synthetic, outside the pretraining band 20%-35%",
            "set stage_policy: strict to make this an error",
        )
    ]
    assert compile_errors(write(work, "main.yaml", text.replace("POLICY", "strict"))) == [
        (
            "main.yaml:11:7",
            "mix 'blend' is 50% synthetic, outside the pretraining band 20%-35%",
            "adjust the ratios, or set stage_policy: warn to accept it",
        )
    ]
