"""``compile/graph.py``: steps become nodes, linked by their kinds, ordered, cycles refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthdsl.compile.graph import order, step_nodes
from synthdsl.compile.scope import Scope
from synthdsl.compile.state import CompileOptions, Compiler
from synthdsl.errors import Span
from synthdsl.ir import Node

from .support import block_of, compile_errors, compile_ok, load, problems, run_steps, write

WHEN_HINT = (
    "'when' works on steps that handle one record at a time: generate, judge, "
    "extract, filter (expr), dedup"
)
CYCLE_HINT = "a step can only read from steps that do not depend on it"


def _node(nid: str, *inputs: str, line: int = 1) -> Node[Any]:
    return Node(nid, "filter", None, list(inputs), Span("r.yaml", line, 5))


def _nodes(*nodes: Node[Any]) -> dict[str, Node[Any]]:
    return {n.id: n for n in nodes}


def _step_nodes(
    work: Path, text: str, names: dict[str, str]
) -> tuple[Compiler, dict[str, Node[Any]]]:
    c = Compiler(CompileOptions())
    doc = load(c, write(work, "main.yaml", text))
    steps, _ = run_steps(c, block_of(doc, Scope(names=dict(names))))
    return c, step_nodes(c, steps)


def test_order_sorts_what_leads_to_the_output() -> None:
    c = Compiler(CompileOptions())
    nodes = _nodes(_node("c", "b", "src"), _node("src"), _node("b", "src"), _node("a", "c"))
    graph = order(c, nodes, "c", None)
    assert graph is not None
    assert list(graph.nodes) == ["src", "b", "c"]
    assert graph.output == "c"
    assert problems(c.warnings) == [
        ("r.yaml:1:5", "step 'a' does not lead to the output; it will not run", None)
    ]
    assert c.warnings[0].severity == "warning"
    assert c.diags == []


def test_order_does_not_warn_about_unread_sources_and_feeds() -> None:
    c = Compiler(CompileOptions())
    nodes = _nodes(_node("src"), _node("other"), _node("out", "src"))
    graph = order(c, nodes, "out", None)
    assert graph is not None and list(graph.nodes) == ["src", "out"]
    assert c.warnings == []


def test_order_keeps_a_bodys_round_feed_even_when_unread() -> None:
    c = Compiler(CompileOptions())
    nodes = _nodes(_node("l.pool"), _node("l.docs"), _node("l.ask", "l.docs"))
    graph = order(c, nodes, "l.ask", "l.pool")
    assert graph is not None and list(graph.nodes) == ["l.pool", "l.docs", "l.ask"]


def test_order_of_a_missing_output_is_none() -> None:
    c = Compiler(CompileOptions())
    assert order(c, _nodes(_node("a")), "b", None) is None
    assert c.diags == [] and c.warnings == []


def test_order_ignores_inputs_that_are_not_nodes() -> None:
    c = Compiler(CompileOptions())  # e.g. a failed use: its name stands for no node
    graph = order(c, _nodes(_node("a", "gone")), "a", None)
    assert graph is not None and list(graph.nodes) == ["a"]


def test_a_cycle_is_reported_with_its_path() -> None:
    c = Compiler(CompileOptions())
    nodes = _nodes(
        _node("src"),
        _node("a", "src", "c", line=3),
        _node("b", "a", line=5),
        _node("c", "b", line=7),
        _node("out", "c", line=9),
    )
    assert order(c, nodes, "out", None) is None
    [(span, message, hint)] = problems(c.diags)
    assert hint == CYCLE_HINT
    # each step reads the next one in the path, which ends where it starts
    assert message == "steps form a cycle: a -> c -> b -> a"
    assert span == "r.yaml:3:5"


def test_a_cycle_through_the_compiler_points_at_a_step_of_it(work: Path) -> None:
    path = write(
        work,
        "main.yaml",
        """
        synthdsl: 1
        sources:
          seeds: {records: [{topic: x}]}
        steps:
          - id: a
            from: b
            generate: {template: "Ask about {{ topic }}.", into: question}
          - id: b
            from: a
            filter: "len(question) > 3"
        """,
    )
    assert compile_errors(path) == [
        ("main.yaml:7:5", "steps form a cycle: a -> b -> a", CYCLE_HINT)
    ]


def test_a_step_reading_itself_is_a_cycle() -> None:
    c = Compiler(CompileOptions())
    assert order(c, _nodes(_node("a", "a", line=4)), "a", None) is None
    assert problems(c.diags) == [("r.yaml:4:5", "steps form a cycle: a -> a", CYCLE_HINT)]


def test_steps_off_the_output_path_are_warnings_of_the_compile(work: Path) -> None:
    path = write(
        work,
        "main.yaml",
        """
        synthdsl: 1
        sources:
          seeds: {records: [{topic: x}]}
          unused: {records: [{topic: y}]}
        steps:
          - id: ask
            from: seeds
            generate: {template: "Ask about {{ topic }}.", into: question}
          - id: side
            filter: "len(question) > 3"
          - id: keep
            from: ask
            filter: "len(question) > 3"
        """,
    )
    recipe = compile_ok(path)
    assert list(recipe.graph.nodes) == ["seeds", "ask", "keep"]
    assert problems(recipe.warnings) == [
        ("main.yaml:10:5", "step 'side' does not lead to the output; it will not run", None)
    ]


def test_step_nodes_resolve_from_and_the_references_a_kind_names(work: Path) -> None:
    c, nodes = _step_nodes(
        work,
        """
        synthdsl: 1
        steps:
          - id: ask
            from: [q, r]
            generate: {template: "x", into: y}
          - id: blend
            mix: {parts: [{from: ask, ratio: 0.5}, {from: r, ratio: 0.5}]}
        """,
        {"q": "q", "r": "src.r"},
    )
    assert problems(c.diags) == []
    assert [(n.id, n.kind, n.inputs, str(n.span)) for n in nodes.values()] == [
        ("ask", "generate", ["q", "src.r"], "main.yaml:5:5"),
        ("blend", "mix", ["ask", "src.r"], "main.yaml:7:5"),
    ]
    assert [p.node for p in nodes["blend"].config.parts] == ["ask", "src.r"]


def test_step_nodes_report_unknown_names_in_from_and_in_references(work: Path) -> None:
    c, nodes = _step_nodes(
        work,
        """
        synthdsl: 1
        steps:
          - id: ask
            from: qq
            generate: {template: "x", into: y}
          - id: blend
            mix: {parts: [{from: aks, ratio: 1}]}
        """,
        {"q": "q"},
    )
    assert problems(c.diags) == [
        ("main.yaml:4:11", "unknown source or step 'qq'", "did you mean 'q'?"),
        ("main.yaml:7:26", "unknown source or step 'aks'", "did you mean 'ask'?"),
    ]
    assert [n.inputs for n in nodes.values()] == [[], []]


def test_when_is_compiled_on_kinds_that_support_it(work: Path) -> None:
    c, nodes = _step_nodes(
        work,
        """
        synthdsl: 1
        steps:
          - id: ask
            from: q
            when: "len(topic) > 2"
            generate: {template: "x", into: y}
        """,
        {"q": "q"},
    )
    assert c.diags == []
    when = nodes["ask"].when
    assert when is not None
    assert when.source == "len(topic) > 2"
    assert [(f, str(s)) for f, s in when.field_spans()] == [("topic", "main.yaml:5:16")]
    assert when.evaluate({"topic": "abc"}) is True and when.evaluate({"topic": "ab"}) is False


def test_when_on_a_kind_that_does_not_support_it(work: Path) -> None:
    c, nodes = _step_nodes(
        work,
        """
        synthdsl: 1
        steps:
          - id: blend
            when: "len(topic) > 2"
            mix: {parts: [{from: q, ratio: 1}]}
          - id: ranked
            from: q
            when: "len(topic) > 2"
            filter: {by: "len(topic)", drop_lowest: 0.5}
        """,
        {"q": "q"},
    )
    assert problems(c.diags) == [
        ("main.yaml:4:5", "'when' does not apply to a mix step", WHEN_HINT),
        ("main.yaml:8:5", "'when' does not apply to a filter step", WHEN_HINT),
    ]
    assert nodes["blend"].when is None and nodes["ranked"].when is None


def test_a_when_that_does_not_parse_points_into_the_expression(work: Path) -> None:
    c, nodes = _step_nodes(
        work,
        """
        synthdsl: 1
        steps:
          - id: ask
            from: q
            when: "len(topic) >"
            generate: {template: "x", into: y}
        """,
        {"q": "q"},
    )
    [(span, message, _)] = problems(c.diags)
    assert (span, message) == (
        "main.yaml:5:24",
        "invalid filter expression: unexpected end of expression",
    )
    assert nodes["ask"].when is None


LOOP = """
synthdsl: 1
sources:
  seeds: {records: [{instruction: a}]}
  docs: {records: [{text: t}]}
steps:
  - id: grow
    from: seeds
    loop:
      rounds: 2
      steps:
        - id: ask
          generate: {template: "x {{ instruction }}", into: y}
        - id: keep
          filter: "len(y) > 1"
      output: OUT
"""


def test_a_loop_body_is_a_nested_graph_with_its_round_feed(work: Path) -> None:
    recipe = compile_ok(write(work, "main.yaml", LOOP.replace("OUT", "ask")))
    loop = recipe.graph.nodes["grow"]
    assert loop.inputs == ["seeds"]
    assert loop.body is not None
    assert loop.body.output == "grow.ask"
    # the body's own unread steps warn like top-level ones; the round feed is kept
    assert list(loop.body.nodes) == ["grow.pool", "grow.ask"]
    assert [(n.kind, n.config.feed) for n in loop.body.nodes.values() if n.kind == "pool"] == [
        ("pool", "pool")
    ]
    assert loop.body.nodes["grow.ask"].inputs == ["grow.pool"]
    assert problems(recipe.warnings) == [
        ("main.yaml:14:11", "step 'grow.keep' does not lead to the output; it will not run", None)
    ]


def test_a_loop_body_without_output_ends_at_its_last_step(work: Path) -> None:
    recipe = compile_ok(write(work, "main.yaml", LOOP.replace("      output: OUT\n", "")))
    body = recipe.graph.nodes["grow"].body
    assert body is not None and body.output == "grow.keep"
    assert recipe.warnings == []


def test_a_loop_output_that_names_no_body_step(work: Path) -> None:
    path = write(work, "main.yaml", LOOP.replace("OUT", "kep"))
    assert compile_errors(path) == [
        ("main.yaml:15:15", "loop 'grow' has no output step 'kep'", "did you mean 'keep'?")
    ]
    write(work, "main.yaml", LOOP.replace("OUT", "zzz"))
    assert compile_errors(path) == [
        ("main.yaml:15:15", "loop 'grow' has no output step 'zzz'", "the loop's steps: ask, keep")
    ]


def test_templates_are_found_in_the_recipes_folder_and_above(work: Path) -> None:
    write(work, "x/prompts/ask.j2", "Ask about {{ topic }}.")
    write(work, "x/synthdsl.lock", "")  # the project's top folder
    text = """
    synthdsl: 1
    sources:
      seeds: {records: [{topic: x}]}
    steps:
      - id: ask
        generate: {prompt: prompts/ask.j2, into: question}
    """
    recipe = compile_ok(write(work, "x/a/b/c/main.yaml", text))  # three folders up
    assert list(recipe.graph.nodes) == ["seeds", "ask"]
    errors = compile_errors(write(work, "x/a/b/c/d/main.yaml", text))
    assert [(span, message) for span, message, _ in errors] == [
        ("x/a/b/c/d/main.yaml:6:24", "template file 'prompts/ask.j2' not found")
    ]
    # never above the project's top folder, however close
    write(work, "x/a/synthdsl.lock", "")
    errors = compile_errors(write(work, "x/a/b/main.yaml", text))
    assert [(span, message) for span, message, _ in errors] == [
        ("x/a/b/main.yaml:6:24", "template file 'prompts/ask.j2' not found")
    ]
