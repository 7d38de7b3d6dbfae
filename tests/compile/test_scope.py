"""``compile/scope.py``: what a name stands for in a recipe, a used recipe, a loop body."""

from __future__ import annotations

from pathlib import Path

from synthdsl.compile.scope import Scope, resolve_name
from synthdsl.compile.state import CompileOptions, Compiler
from synthdsl.errors import Span

from .support import compile_ok, problems, write

AT = Span("r.yaml", 7, 9)


def _resolve(scope: Scope, name: str) -> tuple[list[str], list[tuple[str | None, str, str | None]]]:
    c = Compiler(CompileOptions())
    ids = resolve_name(c, scope, name, AT)
    return ids, problems(c.diags)


def test_a_declared_name_stands_for_its_node() -> None:
    scope = Scope(names={"ask": "use1.ask", "seeds": "seeds"})
    assert _resolve(scope, "ask") == (["use1.ask"], [])
    assert _resolve(scope, "seeds") == (["seeds"], [])


def test_an_unknown_name_is_reported_with_did_you_mean() -> None:
    scope = Scope(names={"answers": "answers"}, ports={"rows": []})
    assert _resolve(scope, "answer") == (
        [],
        [("r.yaml:7:9", "unknown source or step 'answer'", "did you mean 'answers'?")],
    )
    # ports are names too
    assert _resolve(scope, "row")[1] == [
        ("r.yaml:7:9", "unknown source or step 'row'", "did you mean 'rows'?")
    ]
    assert _resolve(scope, "zzz")[1] == [("r.yaml:7:9", "unknown source or step 'zzz'", None)]


def test_a_port_resolves_in_the_scope_that_used_the_recipe() -> None:
    outer = Scope(names={"questions": "questions", "other": "other"})
    inner = Scope(
        names={"keep": "formal.keep"},
        parent=outer,
        ports={"rows": [("questions", Span("main.yaml", 5, 11))]},
    )
    assert _resolve(inner, "rows") == (["questions"], [])
    # the used recipe does not see the outer names themselves
    ids, diags = _resolve(inner, "other")
    assert ids == [] and [d[1] for d in diags] == ["unknown source or step 'other'"]


def test_a_port_bound_to_several_names_stands_for_all_of_them() -> None:
    outer = Scope(names={"a": "a", "b": "b"})
    inner = Scope(
        names={},
        parent=outer,
        ports={"rows": [("a", Span("main.yaml", 5, 12)), ("b", Span("main.yaml", 5, 15))]},
    )
    assert _resolve(inner, "rows") == (["a", "b"], [])


def test_ports_chain_through_nested_uses() -> None:
    top = Scope(names={"questions": "questions"})
    middle = Scope(names={}, parent=top, ports={"rows": [("questions", AT)]})
    bottom = Scope(names={}, parent=middle, ports={"items": [("rows", AT)]})
    assert _resolve(bottom, "items") == (["questions"], [])


def test_a_port_bound_to_an_unknown_name_is_reported_where_it_is_bound() -> None:
    top = Scope(names={"questions": "questions"})
    inner = Scope(names={}, parent=top, ports={"rows": [("qestions", Span("main.yaml", 6, 18))]})
    assert _resolve(inner, "rows") == (
        [],
        [("main.yaml:6:18", "unknown source or step 'qestions'", "did you mean 'questions'?")],
    )


def test_an_unbound_port_and_an_endless_port_chain_stand_for_nothing() -> None:
    assert _resolve(Scope(names={}, ports={"rows": [("x", AT)]}), "rows") == ([], [])
    loop = Scope(names={})
    loop.parent = loop
    loop.ports = {"rows": [("rows", AT)]}
    assert _resolve(loop, "rows") == ([], [])


def test_a_body_reading_an_outer_name_gets_one_feed_per_outer_id() -> None:
    outer = Scope(names={"docs": "docs", "seeds": "seeds"})
    body = Scope(
        names={"pool": "grow.pool", "ask": "grow.ask"},
        in_loop=True,
        reads=outer,
        outer_prefix="grow.",
    )
    assert _resolve(body, "pool") == (["grow.pool"], [])
    assert body.outer_refs == {}
    assert _resolve(body, "docs") == (["grow.docs"], [])
    assert _resolve(body, "docs") == (["grow.docs"], [])  # read twice: still one feed
    assert _resolve(body, "seeds") == (["grow.seeds"], [])
    assert body.outer_refs == {"docs": "grow.docs", "seeds": "grow.seeds"}


def test_a_body_name_hides_an_outer_one() -> None:
    outer = Scope(names={"ask": "ask"})
    body = Scope(names={"ask": "grow.ask"}, reads=outer, outer_prefix="grow.")
    assert _resolve(body, "ask") == (["grow.ask"], [])
    assert body.outer_refs == {}


def test_a_body_reads_an_outer_port_through_the_used_recipes_parent() -> None:
    top = Scope(names={"questions": "questions"})
    used = Scope(names={"grow": "s.grow"}, parent=top, ports={"rows": [("questions", AT)]})
    body = Scope(names={"pool": "s.grow.pool"}, reads=used, outer_prefix="s.grow.")
    assert _resolve(body, "rows") == (["s.grow.rows"], [])
    assert body.outer_refs == {"questions": "s.grow.rows"}


def test_a_nested_body_reads_through_every_enclosing_body() -> None:
    top = Scope(names={"docs": "docs"})
    outer_body = Scope(names={"pool": "a.pool"}, reads=top, outer_prefix="a.")
    inner_body = Scope(names={"pool": "a.b.pool"}, reads=outer_body, outer_prefix="a.b.")
    assert _resolve(inner_body, "docs") == (["a.b.docs"], [])
    # the outer body gets a feed of its own, which the inner body's feed reads
    assert outer_body.outer_refs == {"docs": "a.docs"}
    assert inner_body.outer_refs == {"a.docs": "a.b.docs"}


def test_an_unknown_name_in_a_body_suggests_outer_names() -> None:
    top = Scope(names={"documents": "documents"})
    body = Scope(names={"pool": "a.pool"}, reads=top, outer_prefix="a.")
    assert _resolve(body, "document") == (
        [],
        [("r.yaml:7:9", "unknown source or step 'document'", "did you mean 'documents'?")],
    )
    assert body.outer_refs == {}


def test_a_loop_body_reading_outer_names_through_the_compiler(work: Path) -> None:
    path = write(
        work,
        "main.yaml",
        """
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
                - id: pick
                  from: [pool, docs]
                  dedup: {field: instruction}
        """,
    )
    recipe = compile_ok(path)
    loop = recipe.graph.nodes["grow"]
    assert loop.inputs == ["seeds", "docs"]
    assert loop.body is not None
    assert list(loop.body.nodes) == ["grow.pool", "grow.docs", "grow.pick"]
    assert loop.body.nodes["grow.docs"].config.feed == "outer:docs"
    assert loop.body.nodes["grow.pick"].inputs == ["grow.pool", "grow.docs"]
    assert loop.config.outer == {"docs": "grow.docs"}
