"""``compile/steps.py``: steps flattened in order, ``use:`` expanded under ``<id>.``."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthdsl.compile.scope import Scope
from synthdsl.compile.state import CompileOptions, Compiler
from synthdsl.compile.steps import Step
from synthdsl.errors import Span
from synthdsl.nodes import kind_names

from .support import block_of, load, parse, problems, run_steps, write

ALL_KINDS = ", ".join((*kind_names(), "use", "switch"))

ONE_INPUT = """
synthdsl: 1
params: {style: plain}
models:
  critic: {model: anthropic/critic}
  default: {model: a/default}
sources:
  rows: {input: true}
steps:
  - id: first
    generate: {template: "${style}: {{ instruction }}", into: out}
  - id: second
    filter: "len(out) > 0"
output: {from: first}
"""

TWO_INPUTS = """
synthdsl: 1
params: {n: 2}
sources:
  left: {input: true}
  right: {input: true}
  extra: {records: [{k: 1}]}
steps:
  - id: both
    mix: {parts: [{from: left, ratio: 0.5}, {from: right, ratio: 0.5}]}
  - id: more
    generate: {template: "again", into: out, n: "${n}"}
"""


@pytest.fixture
def lib(work: Path) -> Path:
    """Strategies in ``recipes/``: one input port, two ports, and recipes that use
    themselves (directly, and through another)."""
    write(work, "recipes/one_in.yaml", ONE_INPUT)
    write(work, "recipes/two_in.yaml", TWO_INPUTS)
    write(work, "recipes/selfish.yaml", USES_ITSELF)
    write(work, "recipes/ping.yaml", USES_ITSELF.replace("selfish", "pong"))
    write(work, "recipes/pong.yaml", USES_ITSELF.replace("selfish", "ping"))
    return work


USES_ITSELF = """
synthdsl: 1
sources:
  rows: {input: true}
steps:
  - id: again
    use: selfish
"""


def _compile(
    work: Path, text: str, names: dict[str, str] | None = None
) -> tuple[Compiler, list[Step], str | None, Scope]:
    """Compile ``text`` (as main.yaml) as a top-level block whose scope already holds
    ``names`` (sources ``q`` and ``r`` by default)."""
    c = Compiler(CompileOptions())
    c.use_stack.append("main.yaml")
    doc = load(c, write(work, "main.yaml", text))
    scope = Scope(names=dict(names if names is not None else {"q": "q", "r": "r"}))
    steps, last = run_steps(c, block_of(doc, scope))
    return c, steps, last, scope


def _summary(steps: list[Step]) -> list[tuple[str, str, list[tuple[str, str]], str]]:
    return [(s.id, s.kind, [(n, str(sp)) for n, sp in s.froms], str(s.span)) for s in steps]


def test_each_step_reads_the_one_before_unless_it_says_from(work: Path) -> None:
    c, steps, last, scope = _compile(
        work,
        """
        synthdsl: 1
        steps:
          - id: ask
            from: q
            generate: {template: "x", into: y}
          - id: keep
            filter: "len(y) > 1"
          - id: both
            from: [ask, r]
            dedup: {field: y}
        """,
    )
    assert problems(c.diags) == []
    assert _summary(steps) == [
        ("ask", "generate", [("q", "main.yaml:4:11")], "main.yaml:5:5"),
        ("keep", "filter", [("ask", "main.yaml:6:5")], "main.yaml:7:5"),
        ("both", "dedup", [("ask", "main.yaml:9:12"), ("r", "main.yaml:9:17")], "main.yaml:10:5"),
    ]
    assert last == "both"
    assert scope.names == {"q": "q", "r": "r", "ask": "ask", "keep": "keep", "both": "both"}
    assert [s.path for s in steps] == [("steps", 0), ("steps", 1), ("steps", 2)]
    assert all(s.scope is scope and s.origin is None for s in steps)


def test_the_first_step_reads_the_blocks_default(work: Path) -> None:
    c = Compiler(CompileOptions())
    doc = load(c, write(work, "main.yaml", "synthdsl: 1\nsteps:\n  - id: keep\n    filter: 'x'\n"))
    steps, last = run_steps(c, block_of(doc, Scope(names={"q": "q"}), default_from="q"))
    assert problems(c.diags) == []
    assert [s.froms for s in steps] == [[("q", Span("main.yaml", 3, 5))]]
    assert last == "keep"


def test_a_first_step_with_nothing_to_read_has_no_input(work: Path) -> None:
    c, steps, _, _ = _compile(work, "synthdsl: 1\nsteps:\n  - id: keep\n    filter: 'len(x) > 1'\n")
    assert problems(c.diags) == [
        ("main.yaml:3:5", "step 'keep' has no input", "add 'from: <source or step>'")
    ]
    assert [s.froms for s in steps] == [[]]


def test_ids_are_prefixed_and_params_and_origin_kept(work: Path) -> None:
    c = Compiler(CompileOptions())
    doc = load(c, write(work, "main.yaml", "synthdsl: 1\nsteps:\n  - id: keep\n    filter: 'x'\n"))
    scope = Scope(names={})
    block = block_of(doc, scope, default_from="pool")
    block.prefix, block.origin, block.params = "loop1.", "recipes/s.yaml", {"k": 1}
    [step], last = run_steps(c, block)
    assert (step.id, step.origin, step.params, last) == (
        "loop1.keep",
        "recipes/s.yaml",
        {"k": 1},
        "keep",
    )
    assert scope.names == {"keep": "loop1.keep"}


def test_a_duplicate_id_is_reported_at_the_second_with_the_first_line(work: Path) -> None:
    c, steps, last, _ = _compile(
        work,
        """
        synthdsl: 1
        steps:
          - id: a
            from: q
            generate: {template: "x", into: y}
          - id: a
            filter: "len(y) > 1"
          - id: b
            filter: "len(y) > 2"
        """,
    )
    assert problems(c.diags) == [
        ("main.yaml:6:9", "duplicate step id 'a'", "first defined at line 3")
    ]
    # the duplicate is skipped: the next step reads the first 'a'
    assert _summary(steps) == [
        ("a", "generate", [("q", "main.yaml:4:11")], "main.yaml:5:5"),
        ("b", "filter", [("a", "main.yaml:8:5")], "main.yaml:9:5"),
    ]
    assert last == "b"


def test_a_step_named_like_a_source_is_a_duplicate(work: Path) -> None:
    c, steps, _, scope = _compile(
        work, "synthdsl: 1\nsteps:\n  - id: q\n    from: r\n    filter: 'len(x) > 1'\n"
    )
    assert problems(c.diags) == [
        ("main.yaml:3:9", "duplicate step id 'q'", "a source already has this name")
    ]
    assert steps == [] and scope.names["q"] == "q"


def test_a_step_without_a_kind_lists_the_kinds_and_still_declares_its_id(work: Path) -> None:
    doc = parse(
        """
        synthdsl: 1
        steps:
          - id: vague
            from: q
          - id: next
            filter: "len(x) > 1"
        """,
        "main.yaml",
    )
    c = Compiler(CompileOptions())
    scope = Scope(names={"q": "q"})
    steps, last = run_steps(c, block_of(doc, scope))
    assert problems(c.diags) == [
        ("main.yaml:3:5", "step 'vague' does not say what it does", "add one of: " + ALL_KINDS)
    ]
    assert ALL_KINDS.startswith("generate, judge, extract") and ALL_KINDS.endswith(
        ", mix, use, switch"
    )
    # a later step reading it is not reported again
    assert scope.names == {"q": "q", "vague": "vague", "next": "next"}
    assert _summary(steps) == [("next", "filter", [("vague", "main.yaml:5:5")], "main.yaml:6:5")]
    assert last == "next"


def test_a_step_with_two_kinds_is_reported_at_the_second(work: Path) -> None:
    c, steps, _, _ = _compile(
        work,
        """
        synthdsl: 1
        steps:
          - id: ask
            from: q
            generate: {template: "x", into: y}
            filter: "len(y) > 3"
        """,
    )
    assert problems(c.diags) == [
        (
            "main.yaml:6:5",
            "step 'ask' has more than one kind (generate and filter)",
            "split it into separate steps",
        )
    ]
    assert steps == []


def test_with_without_use(work: Path) -> None:
    c, steps, _, _ = _compile(
        work,
        """
        synthdsl: 1
        steps:
          - id: keep
            from: q
            with: {x: 1}
            filter: "len(y) > 3"
        """,
    )
    assert problems(c.diags) == [("main.yaml:5:5", "'with' only goes with 'use'", None)]
    assert [s.kind for s in steps] == ["filter"]


def test_from_on_a_kind_that_reads_its_parts(work: Path) -> None:
    c, steps, _, _ = _compile(
        work,
        """
        synthdsl: 1
        steps:
          - id: blend
            from: q
            mix: {parts: [{from: q, ratio: 0.5}, {from: r, ratio: 0.5}]}
        """,
    )
    assert problems(c.diags) == [
        (
            "main.yaml:4:5",
            "mix step 'blend' takes its inputs from 'parts', not 'from'",
            "remove 'from:' and name each input in the parts",
        )
    ]
    assert [(s.id, s.froms) for s in steps] == [("blend", [])]


def test_use_expands_under_the_step_id_and_binds_its_one_port(lib: Path) -> None:
    c, steps, last, scope = _compile(
        lib,
        """
        synthdsl: 1
        steps:
          - id: formal
            from: q
            use: one_in
            with: {style: fancy}
          - id: tail
            filter: "len(out) > 1"
        """,
    )
    assert problems(c.diags) == []
    assert _summary(steps) == [
        (
            "formal.first",
            "generate",
            [("rows", "recipes/one_in.yaml:9:5")],
            "recipes/one_in.yaml:10:5",
        ),
        (
            "formal.second",
            "filter",
            [("first", "recipes/one_in.yaml:11:5")],
            "recipes/one_in.yaml:12:5",
        ),
        ("tail", "filter", [("formal", "main.yaml:7:5")], "main.yaml:8:5"),
    ]
    # the use step's name stands for the used recipe's output (output.from: first)
    assert scope.names == {"q": "q", "r": "r", "formal": "formal.first", "tail": "tail"}
    inner = steps[0].scope
    assert inner.parent is scope
    assert inner.names == {"first": "formal.first", "second": "formal.second"}
    assert inner.ports == {"rows": [("q", Span("main.yaml", 4, 11))]}
    assert [(s.origin, s.params) for s in steps[:2]] == [
        ("recipes/one_in.yaml", {"style": "fancy"})
    ] * 2
    # ${style} was substituted with the value given in 'with:'
    assert steps[0].raw["template"] == "fancy: {{ instruction }}"
    assert last == "tail"
    assert c.use_stack == ["main.yaml"]


def test_use_adds_the_used_recipes_aliases_under_its_step_but_not_its_default(
    lib: Path,
) -> None:
    c, _, _, _ = _compile(
        lib, "synthdsl: 1\nsteps:\n  - id: formal\n    from: q\n    use: one_in\n"
    )
    assert list(c.models) == ["formal.critic"]
    assert c.models["formal.critic"].span == Span("recipes/one_in.yaml", 4, 3)


def test_use_binds_several_ports_by_name_and_declares_its_sources(lib: Path) -> None:
    c, steps, _, scope = _compile(
        lib,
        "synthdsl: 1\nsteps:\n  - id: two\n    from: q\n    use: two_in\n    with: {left: q, right: r, n: 3}\n",
    )
    assert problems(c.diags) == []
    assert [s.id for s in steps] == ["two.both", "two.more"]
    assert steps[0].scope.ports == {
        "left": [("q", Span("main.yaml", 6, 18))],
        "right": [("r", Span("main.yaml", 6, 28))],
    }
    assert steps[1].params == {"n": 3}
    assert steps[1].raw["n"] == 3
    # the used recipe's own source becomes a source of the run, under the prefix
    assert list(c.sources) == ["two.extra"]
    assert steps[0].scope.names["extra"] == "two.extra"
    assert scope.names["two"] == "two.more"


def test_use_with_unbound_ports_asks_to_bind_each(lib: Path) -> None:
    c, _, _, _ = _compile(
        lib, "synthdsl: 1\nsteps:\n  - id: two\n    from: q\n    use: two_in\n    with: {left: q}\n"
    )
    # one port left: it reads 'from:'
    assert problems(c.diags) == []
    c, _, _, _ = _compile(lib, "synthdsl: 1\nsteps:\n  - id: two\n    from: q\n    use: two_in\n")
    assert problems(c.diags) == [
        (
            "main.yaml:3:5",
            "recipe 'two_in' has several inputs (left, right)",
            "bind each in 'with:' by name",
        )
    ]


def test_use_with_one_port_and_nothing_to_read(lib: Path) -> None:
    c, _, _, _ = _compile(lib, "synthdsl: 1\nsteps:\n  - id: one\n    use: one_in\n")
    # one problem, said once: the used recipe's input is neither in 'from:' nor 'with:'
    assert problems(c.diags) == [
        ("main.yaml:3:5", "step using 'one_in' needs 'from:'", None),
    ]


def test_use_with_unknown_parameters(lib: Path) -> None:
    c, _, _, _ = _compile(
        lib,
        """
        synthdsl: 1
        steps:
          - id: two
            from: q
            use: two_in
            with: {left: q, nn: 1, zzz: 2}
          - id: one
            from: q
            use: one_in
            with: {zzz: 2}
        """,
    )
    assert problems(c.diags) == [
        ("main.yaml:6:21", "recipe 'two_in' has no parameter 'nn'", "did you mean 'n'?"),
        ("main.yaml:6:28", "recipe 'two_in' has no parameter 'zzz'", "its parameters: n"),
        ("main.yaml:10:12", "recipe 'one_in' has no parameter 'zzz'", "its parameters: style"),
    ]


def test_use_of_a_recipe_without_parameters(lib: Path) -> None:
    write(
        lib,
        "recipes/bare.yaml",
        "synthdsl: 1\nsources:\n  rows: {input: true}\nsteps:\n  - id: k\n    filter: 'x'\n",
    )
    c, _, _, _ = _compile(
        lib, "synthdsl: 1\nsteps:\n  - id: b\n    from: q\n    use: bare\n    with: {zzz: 1}\n"
    )
    assert problems(c.diags) == [
        ("main.yaml:6:12", "recipe 'bare' has no parameter 'zzz'", "it declares no parameters")
    ]


def test_a_port_name_is_suggested_for_a_misspelt_with_key(lib: Path) -> None:
    c, _, _, _ = _compile(
        lib, "synthdsl: 1\nsteps:\n  - id: two\n    use: two_in\n    with: {left: q, rigth: r}\n"
    )
    assert (
        "main.yaml:5:21",
        "recipe 'two_in' has no parameter 'rigth'",
        "did you mean 'right'?",
    ) in problems(c.diags)


def test_a_recipe_that_uses_itself(lib: Path) -> None:
    c, steps, _, _ = _compile(
        lib, "synthdsl: 1\nsteps:\n  - id: s\n    from: q\n    use: selfish\n"
    )
    assert problems(c.diags) == [
        (
            "recipes/selfish.yaml:6:10",
            "recipe uses itself: main.yaml -> recipes/selfish.yaml -> recipes/selfish.yaml",
            None,
        )
    ]
    assert steps == []
    assert c.use_stack == ["main.yaml"]


def test_recipes_that_use_each_other(lib: Path) -> None:
    c, _, _, _ = _compile(lib, "synthdsl: 1\nsteps:\n  - id: p\n    from: q\n    use: ping\n")
    assert problems(c.diags) == [
        (
            "recipes/pong.yaml:6:10",
            "recipe uses itself: main.yaml -> recipes/ping.yaml -> recipes/pong.yaml -> recipes/ping.yaml",
            None,
        )
    ]


def test_the_top_recipe_used_from_a_strategy_is_a_cycle(lib: Path) -> None:
    write(lib, "recipes/back.yaml", USES_ITSELF.replace("selfish", "../main.yaml"))
    c, _, _, _ = _compile(lib, "synthdsl: 1\nsteps:\n  - id: b\n    from: q\n    use: back\n")
    assert problems(c.diags) == [
        (
            "recipes/back.yaml:6:10",
            "recipe uses itself: main.yaml -> recipes/back.yaml -> main.yaml",
            None,
        )
    ]


def test_a_used_recipe_whose_output_names_no_step(lib: Path) -> None:
    write(
        lib,
        "recipes/bad_out.yaml",
        ONE_INPUT.replace("output: {from: first}", "output: {from: frist}"),
    )
    c, _, _, scope = _compile(
        lib, "synthdsl: 1\nsteps:\n  - id: b\n    from: q\n    use: bad_out\n"
    )
    assert problems(c.diags) == [
        (
            "recipes/bad_out.yaml:13:16",
            "recipe 'bad_out' has no output step 'frist'",
            "did you mean 'first'?",
        )
    ]
    # the failed use still names a node (missing), so readers are not reported as unknown
    assert scope.names["b"] == "b"


def test_a_used_recipe_with_sources_cannot_be_used_in_a_loop(lib: Path) -> None:
    c = Compiler(CompileOptions())
    c.use_stack.append("main.yaml")
    doc = load(
        c,
        write(
            lib,
            "main.yaml",
            "synthdsl: 1\nsteps:\n  - id: two\n    use: two_in\n    with: {left: pool, right: pool}\n",
        ),
    )
    scope = Scope(names={"pool": "loop.pool"}, in_loop=True)
    steps, _ = run_steps(c, block_of(doc, scope, default_from="pool"))
    assert problems(c.diags) == [
        (
            "main.yaml:4:10",
            "recipe 'two_in' declares sources (extra), which a loop body cannot read",
            "use it outside the loop, or pass its data in through the loop's input",
        )
    ]
    assert steps[0].scope.in_loop
