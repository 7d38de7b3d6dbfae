"""``compile_recipe``: the stages together, from a recipe file to a ``CompiledRecipe``."""

from __future__ import annotations

from pathlib import Path

from synthdsl.compile import compile_recipe
from synthdsl.compile.state import CompileOptions, Compiler
from synthdsl.errors import Span
from synthdsl.ir import DEFAULT_MODEL

from .support import compile_errors, compile_ok, load, problems, write

RECIPE = """
synthdsl: 1
name: mine
params: {n: 2, word: hi}
sources:
  seeds: {records: [{topic: x}]}
steps:
  - id: ask
    generate: {template: "${word} {{ topic }}", into: q, n: "${n}"}
  - id: keep
    filter: "len(q) > 1"
"""


def test_a_compiled_recipe_holds_its_graph_and_declarations(work: Path) -> None:
    path = write(work, "main.yaml", RECIPE)
    recipe = compile_ok(path)
    assert (recipe.name, recipe.path) == ("mine", "main.yaml")
    assert list(recipe.graph.nodes) == ["seeds", "ask", "keep"]
    assert recipe.graph.output == "keep"
    assert recipe.params == {"n": 2, "word": "hi"}
    assert list(recipe.sources) == ["seeds"]
    assert [(a, [e.model for e in d.entries]) for a, d in recipe.models.items()] == [
        ("default", [DEFAULT_MODEL])
    ]
    assert recipe.texts == {"main.yaml": path.read_text()}
    assert recipe.output.from_ is None
    # ${params} were substituted before the steps were configured
    ask = recipe.graph.nodes["ask"].config
    assert (ask.n, ask.prompt.user.source) == (2, "hi {{ topic }}")


def test_the_name_defaults_to_the_file_stem(work: Path) -> None:
    recipe = compile_ok(write(work, "my_recipe.yaml", RECIPE.replace("name: mine\n", "")))
    assert recipe.name == "my_recipe"


def test_set_changes_the_recipe_before_it_is_checked(work: Path) -> None:
    opts = CompileOptions(set_values=["params.n=5", "steps.ask.generate.into=question"])
    recipe = compile_ok(write(work, "main.yaml", RECIPE.replace("len(q)", "len(question)")), opts)
    assert recipe.params == {"n": 5, "word": "hi"}
    assert (recipe.graph.nodes["ask"].config.n, recipe.graph.nodes["ask"].fields) == (
        5,
        ["topic", "question"],
    )


def test_a_set_naming_a_missing_step(work: Path) -> None:
    opts = CompileOptions(set_values=["steps.nope.generate.into=question"])
    assert compile_errors(write(work, "main.yaml", RECIPE), opts) == [
        ("--set:1:1", "--set steps.nope.generate.into: no item 'nope' in steps", None)
    ]


def test_a_recipe_that_cannot_be_loaded_stops_at_loading(work: Path) -> None:
    assert compile_errors(work / "missing.yaml") == [
        (None, "recipe file not found: missing.yaml", None)
    ]
    path = write(work, "main.yaml", RECIPE.replace("steps:", "stesp:"))
    assert compile_errors(path) == [
        (
            "main.yaml:1:1",
            "missing required key 'steps' in the recipe",
            "add 'steps:' with at least one step",
        ),
        ("main.yaml:6:1", "unknown key 'stesp' in the recipe", "did you mean 'steps'?"),
    ]


def test_load_records_the_text_and_refuses_schema_problems(work: Path) -> None:
    c = Compiler(CompileOptions())
    doc = load(c, write(work, "main.yaml", RECIPE))
    assert (doc.path, c.texts) == ("main.yaml", {"main.yaml": doc.text})
    bad = write(work, "bad.yaml", RECIPE.replace("into: q", "into: 3"))
    assert c.load(bad, "bad.yaml") is None
    assert [d.span for d in c.diags] == [Span("bad.yaml", 8, 55)]
    # the text of a document with problems is kept, to show them
    assert set(c.texts) == {"main.yaml", "bad.yaml"}


def test_an_unknown_parameter(work: Path) -> None:
    path = write(work, "main.yaml", RECIPE.replace("${word}", "${wrod}"))
    assert compile_errors(path) == [
        ("main.yaml:8:26", "unknown parameter '${wrod}'", "did you mean 'word'?")
    ]


def test_an_input_port_in_a_recipe_run_directly(work: Path) -> None:
    path = write(
        work,
        "main.yaml",
        RECIPE.replace("sources:\n", "sources:\n  rows: {input: true}\n").replace(
            "  - id: ask\n", "  - id: ask\n    from: seeds\n"
        ),
    )
    assert compile_errors(path) == [
        (
            "main.yaml:5:3",
            "source 'rows' is an input port, but this recipe is run directly",
            "give it a 'path:' or 'records:', or use this recipe from another one",
        )
    ]


def test_output_from_names_the_output_step(work: Path) -> None:
    recipe = compile_ok(write(work, "main.yaml", RECIPE + "output: {from: ask}\n"))
    assert recipe.graph.output == "ask"
    assert list(recipe.graph.nodes) == ["seeds", "ask"]
    assert problems(recipe.warnings) == [
        ("main.yaml:10:5", "step 'keep' does not lead to the output; it will not run", None)
    ]
    path = write(work, "main.yaml", RECIPE + "output: {from: aks}\n")
    assert compile_errors(path) == [
        ("main.yaml:11:16", "output.from names unknown step 'aks'", "did you mean 'ask'?")
    ]


def test_output_from_a_source(work: Path) -> None:
    recipe = compile_ok(write(work, "main.yaml", RECIPE + "output: {from: seeds}\n"))
    assert list(recipe.graph.nodes) == ["seeds"]


def test_every_problem_of_every_stage_in_one_pass_sorted(work: Path) -> None:
    path = write(
        work,
        "main.yaml",
        """
        synthdsl: 1
        sources:
          seeds: {records: [{topic: x}]}
        steps:
          - id: ask
            generate: {template: "{{ topic }}", into: q, model: writr}
          - id: keep
            filter: "len(qq) > 1"
          - id: keep
            filter: "len(q) > 2"
          - id: more
            from: nowhere
            dedup: {field: q}
        output: {from: keep}
        """,
    )
    opts = CompileOptions(model_aliases={"critic": "x/y"})
    assert compile_errors(path, opts) == [
        (None, "--model critic=...: the recipe has no model alias 'critic'", None),
        ("main.yaml:6:57", "unknown model alias 'writr'", "declared aliases: default"),
        ("main.yaml:8:18", "field 'qq' is not provided by any upstream node", "did you mean 'q'?"),
        ("main.yaml:9:9", "duplicate step id 'keep'", "first defined at line 7"),
        ("main.yaml:12:11", "unknown source or step 'nowhere'", None),
    ]


def test_used_recipes_are_part_of_the_compiled_recipe(work: Path) -> None:
    write(
        work,
        "recipes/strat.yaml",
        """
        synthdsl: 1
        params: {min: 1}
        models:
          critic: {model: anthropic/critic}
        sources:
          rows: {input: true}
          extra: {records: [{topic: e}]}
        steps:
          - id: both
            from: [rows, extra]
            filter: "len(topic) > ${min}"
        """,
    )
    path = write(work, "main.yaml", RECIPE + "  - id: s\n    from: seeds\n    use: strat\n")
    recipe = compile_ok(path)
    assert list(recipe.graph.nodes) == ["seeds", "s.extra", "s.both"]
    assert recipe.graph.nodes["s.both"].inputs == ["seeds", "s.extra"]
    assert recipe.graph.nodes["s.both"].origin == "recipes/strat.yaml"
    assert list(recipe.sources) == ["seeds", "s.extra"]
    # the strategy's own alias is 's.critic'; no step calls it, so the run leaves it out
    assert list(recipe.models) == ["default"]
    assert set(recipe.texts) == {"main.yaml", "recipes/strat.yaml"}
    # the top recipe's own parameters only
    assert recipe.params == {"n": 2, "word": "hi"}
    assert problems(recipe.warnings) == [
        ("main.yaml:8:5", "step 'ask' does not lead to the output; it will not run", None),
        ("main.yaml:10:5", "step 'keep' does not lead to the output; it will not run", None),
    ]


def test_compile_recipe_accepts_a_path_string(work: Path) -> None:
    write(work, "main.yaml", RECIPE)
    assert compile_recipe("main.yaml").path == "main.yaml"
