"""A model string litellm cannot route is refused at validate, at its value.

Before this check ``embeded/smollm2`` validated and then failed every record at run
time ("LLM Provider NOT provided", exit 1).
"""

from __future__ import annotations

from pathlib import Path

from synthdsl.compile.state import CompileOptions

from .support import compile_errors, compile_ok, write

RECIPE = """
synthdsl: 1
models:
  gen: {model: %s, max_tokens: 16}
sources:
  s: {records: [{t: 1}]}
steps:
  - id: g
    from: s
    generate: {template: "hi", model: gen, into: x}
"""

POOL = """
synthdsl: 1
models:
  gen:
    pool:
      - {model: openai/gpt-4o-mini}
      - {model: %s}
sources:
  s: {records: [{t: 1}]}
steps:
  - id: g
    from: s
    generate: {template: "hi", model: gen, into: x}
"""

PREFIX_HINT = (
    "write provider/model (openai/..., anthropic/..., local/smollm2), or "
    "openai/<name> with api_base for any OpenAI-compatible server"
)


def test_an_unknown_provider_prefix_is_an_error_at_the_model_value(work: Path) -> None:
    path = write(work, "r.yaml", RECIPE % "acme/smollm2")
    assert compile_errors(path) == [
        (
            "r.yaml:3:16",
            "model 'acme/smollm2': 'acme/' is not a provider litellm knows",
            PREFIX_HINT,
        )
    ]


def test_a_name_for_the_embedded_model_points_at_local(work: Path) -> None:
    path = write(work, "r.yaml", RECIPE % "embeded/smollm2")
    [(_, _, hint)] = compile_errors(path)
    assert hint == f"did you mean 'local/...'? {PREFIX_HINT}"


def test_a_misspelt_provider_gets_the_provider_it_resembles(work: Path) -> None:
    path = write(work, "r.yaml", RECIPE % "antropic/claude-3-5-sonnet")
    [(where, message, hint)] = compile_errors(path)
    assert where == "r.yaml:3:16"
    assert (
        message == "model 'antropic/claude-3-5-sonnet': 'antropic/' is not a provider litellm knows"
    )
    assert hint == f"did you mean 'anthropic/...'? {PREFIX_HINT}"


def test_a_bare_name_missing_from_litellms_table_is_an_error_with_its_neighbour(
    work: Path,
) -> None:
    path = write(work, "r.yaml", RECIPE % "gpt-4o-mni")
    [(where, message, hint)] = compile_errors(path)
    assert where == "r.yaml:3:16"
    assert (
        message
        == "model 'gpt-4o-mni' names no provider, and litellm's model table has no 'gpt-4o-mni'"
    )
    assert hint is not None and hint.startswith("did you mean 'gpt-4o-mini'?")


def test_a_pool_entry_is_reported_at_its_own_value(work: Path) -> None:
    path = write(work, "r.yaml", POOL % "nope/model")
    [(where, message, _)] = compile_errors(path)
    assert (where, message) == (
        "r.yaml:6:17",
        "model 'nope/model': 'nope/' is not a provider litellm knows",
    )


def test_models_litellm_routes_compile(work: Path) -> None:
    for model in (
        "anthropic/claude-3-5-sonnet-latest",
        "hosted_vllm/meta-llama/Llama-3-8B",  # a provider, whatever the model
        "gpt-4o-mini",  # a bare name in litellm's table
        "ft:gpt-4o-mini:acme::abc123",  # fine-tunes are routed by pattern
        "local/smollm2",
        "openai/anything-at-all",
    ):
        compile_ok(write(work, "r.yaml", RECIPE % model))


def test_with_an_api_base_an_unknown_prefix_only_warns(work: Path) -> None:
    text = RECIPE.replace("max_tokens: 16", 'api_base: "http://127.0.0.1:9/v1"') % "mystery/m"
    compiled = compile_ok(write(work, "r.yaml", text))
    assert [str(w.span) for w in compiled.warnings] == ["r.yaml:3:16"]
    assert "not a provider litellm knows" in compiled.warnings[0].message


def test_backend_http_sends_any_name(work: Path) -> None:
    text = RECIPE.replace("max_tokens: 16", 'backend: http, api_base: "http://127.0.0.1:9/v1"')
    compiled = compile_ok(write(work, "r.yaml", text % "mystery/m"))
    assert compiled.warnings == []


def test_a_bad_model_on_the_command_line_is_a_command_line_error(work: Path) -> None:
    path = write(work, "r.yaml", RECIPE % "openai/gpt-4o-mini")
    assert compile_errors(path, CompileOptions(model="foo/bar")) == [
        (
            None,
            "--model foo/bar: model 'foo/bar': 'foo/' is not a provider litellm knows",
            PREFIX_HINT,
        )
    ]
    # and --model can replace a recipe's bad model
    bad = write(work, "bad.yaml", RECIPE % "embeded/smollm2")
    compile_ok(bad, CompileOptions(model_aliases={"gen": "local/smollm2"}))
