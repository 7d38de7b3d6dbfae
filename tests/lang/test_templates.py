"""Prompt templates: variables and their positions, loading, syntax errors, rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthdsl.errors import RecipeError, RunError, Span
from synthdsl.lang.templates import (
    Template,
    TemplateRenderError,
    check_variables,
    inline_template,
    load_template,
)

SPAN = Span("r.yaml", 10, 13)
REF_SPAN = Span("r.yaml", 7, 15)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A recipe directory with prompts/, used through relative paths."""
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "answer.j2").write_text(
        "Question: {{ question }}\n{% include 'style.j2' %}", encoding="utf-8"
    )
    (prompts / "style.j2").write_text("Write as {{ persona }}.\n", encoding="utf-8")
    (prompts / "broken.j2").write_text("line one\nline two\n{{ x }\n", encoding="utf-8")
    (prompts / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff")
    monkeypatch.chdir(tmp_path)
    return tmp_path


DIRS = [Path("."), Path("prompts")]


# Variables ------------------------------------------------------------------------


def test_variables_include_if_and_loops_exclude_set_and_loop_vars() -> None:
    template = inline_template(
        "{% set greeting = 'hi' %}{{ greeting }} {{ name }}\n"
        "{% for item in items %}{{ item.text }} {{ loop.index }}{% endfor %}\n"
        "{% if flag %}yes{% endif %}{{ range(2) | list }} {{ enumerate(items) | list }}",
        SPAN,
        "gen.prompt",
    )
    assert template.variables() == frozenset({"name", "items", "flag"})


def test_variables_exclude_macro_arguments() -> None:
    template = inline_template(
        "{% macro show(x) %}{{ x }} {{ outer }}{% endmacro %}{{ show(1) }}", SPAN, "m"
    )
    assert template.variables() == frozenset({"outer"})


def test_optional_variables() -> None:
    template = inline_template(
        "{% if hint is defined %}{{ hint }}{% endif %}{{ note | default('') }}{{ must }}",
        SPAN,
        "opt",
    )
    assert template.variables() == frozenset({"must"})
    assert template.optional_variables() == frozenset({"hint", "note"})
    assert template.render({"must": "!"}) == "!"


def test_variable_spans_in_multiline_inline_template() -> None:
    template = inline_template(
        "Hello {{ name }}!\n"
        "{% for it in items %}{{ it.name }}{% endfor %}\n"
        "  {% if flag %}{{ response | upper }}{% endif %}\n"
        "{{ name }}",
        SPAN,
        "gen.prompt",
    )
    assert template.variable_spans() == [
        ("name", Span("r.yaml", 10, 22)),
        ("items", Span("r.yaml", 11, 14)),
        ("flag", Span("r.yaml", 12, 9)),
        ("response", Span("r.yaml", 12, 19)),
    ]


def test_variable_span_skips_attributes_filters_and_tests() -> None:
    # `words` is an attribute, a filter and a variable; only the last is reported.
    template = inline_template(
        "{{ doc.words }} {{ doc | words }}{% if doc is none %}{% endif %}\n{{ words }}",
        Span("r.yaml", 3, 1),
        "p",
    )
    spans = dict(template.variable_spans())
    assert spans == {"doc": Span("r.yaml", 3, 4), "words": Span("r.yaml", 4, 4)}


# Loading files ----------------------------------------------------------------------


def test_load_file_template_with_include(project: Path) -> None:
    template = load_template("prompts/answer.j2", ref_span=REF_SPAN, search_dirs=DIRS)
    assert template.name == "prompts/answer.j2"
    assert template.origin == Span("prompts/answer.j2", 1, 1)
    assert template.variables() == frozenset({"question", "persona"})
    assert template.variable_spans() == [
        ("question", Span("prompts/answer.j2", 1, 14)),
        ("persona", Span("prompts/style.j2", 1, 13)),
    ]
    text = template.render({"question": "Why?", "persona": "a poet"})
    assert text == "Question: Why?\nWrite as a poet.\n"


def test_resolution_follows_search_dir_order(project: Path) -> None:
    template = load_template("answer.j2", ref_span=REF_SPAN, search_dirs=DIRS)
    assert template.origin.file == "prompts/answer.j2"
    (project / "answer.j2").write_text("top {{ a }}", encoding="utf-8")
    template = load_template("answer.j2", ref_span=REF_SPAN, search_dirs=DIRS)
    assert template.origin.file == "answer.j2"
    assert template.source == "top {{ a }}"


def test_loop_variable_passed_to_include_is_not_required(project: Path) -> None:
    (project / "prompts" / "example.j2").write_text("- {{ ex }} {{ extra }}", encoding="utf-8")
    template = inline_template(
        "{% for ex in examples %}{% include 'example.j2' %}{% endfor %}",
        SPAN,
        "p",
        search_dirs=DIRS,
    )
    assert template.variables() == frozenset({"examples", "extra"})


def test_missing_file_with_hint(project: Path) -> None:
    with pytest.raises(RecipeError) as info:
        load_template("prompts/answr.j2", ref_span=REF_SPAN, search_dirs=DIRS)
    (diag,) = info.value.diagnostics
    assert diag.span == REF_SPAN
    assert diag.message == "template file 'prompts/answr.j2' not found"
    assert diag.hint == "did you mean 'prompts/answer.j2'?"


def test_missing_file_hint_by_basename(project: Path) -> None:
    with pytest.raises(RecipeError) as info:
        load_template("templates/answer.j2", ref_span=REF_SPAN, search_dirs=[Path(".")])
    assert info.value.diagnostics[0].hint == "did you mean 'prompts/answer.j2'?"


def test_missing_file_without_candidates_lists_dirs(tmp_path: Path) -> None:
    with pytest.raises(RecipeError) as info:
        load_template("nothing.j2", ref_span=REF_SPAN, search_dirs=[tmp_path])
    assert info.value.diagnostics[0].hint == f"looked in: {tmp_path}"


def test_binary_file_rejected(project: Path) -> None:
    with pytest.raises(RecipeError) as info:
        load_template("image.txt", ref_span=REF_SPAN, search_dirs=DIRS)
    (diag,) = info.value.diagnostics
    assert diag.span == REF_SPAN
    assert "is not UTF-8 text" in diag.message


def test_wrong_extension_rejected(project: Path) -> None:
    with pytest.raises(RecipeError) as info:
        load_template("prompts/answer.py", ref_span=REF_SPAN, search_dirs=DIRS)
    assert "must end in .j2" in info.value.diagnostics[0].message


def test_crlf_and_bom_are_normalised(project: Path) -> None:
    (project / "prompts" / "win.txt").write_bytes(b"\xef\xbb\xbfa {{ x }}\r\nb\r\n")
    template = load_template("win.txt", ref_span=REF_SPAN, search_dirs=DIRS)
    assert template.source == "a {{ x }}\nb\n"
    assert template.render({"x": 1}) == "a 1\nb\n"


# Syntax errors ----------------------------------------------------------------------


def test_syntax_error_in_file_points_into_the_file(project: Path) -> None:
    with pytest.raises(RecipeError) as info:
        load_template("prompts/broken.j2", ref_span=REF_SPAN, search_dirs=DIRS)
    (diag,) = info.value.diagnostics
    assert diag.span == Span("prompts/broken.j2", 3, 1)
    assert diag.message.startswith("template syntax error: ")


def test_syntax_error_in_inline_template_maps_to_recipe_line() -> None:
    with pytest.raises(RecipeError) as info:
        inline_template("first line\nsecond\n{% if x %}never closed\n", SPAN, "gen.prompt")
    (diag,) = info.value.diagnostics
    # Jinja reports the unclosed block on the template's line 3.
    assert diag.span == Span("r.yaml", 12, 1)
    assert "template syntax error: " in diag.message
    with pytest.raises(RecipeError) as info:
        inline_template("{{ x }", SPAN, "gen.prompt")
    assert info.value.diagnostics[0].span == SPAN


def test_syntax_error_in_included_file(project: Path) -> None:
    with pytest.raises(RecipeError) as info:
        inline_template("{% include 'broken.j2' %}", SPAN, "p", search_dirs=DIRS)
    assert info.value.diagnostics[0].span == Span("prompts/broken.j2", 3, 1)


def test_missing_include_is_reported_at_load(project: Path) -> None:
    with pytest.raises(RecipeError) as info:
        inline_template("a\n{% include 'styl.j2' %}", SPAN, "p", search_dirs=DIRS)
    (diag,) = info.value.diagnostics
    assert diag.span == Span("r.yaml", 11, 1)
    assert diag.message == "template 'p' includes 'styl.j2', which was not found"
    assert diag.hint == "did you mean 'style.j2'?"
    inline_template("{% include 'styl.j2' ignore missing %}", SPAN, "p", search_dirs=DIRS)


def test_include_cannot_leave_the_search_dirs(project: Path) -> None:
    (project.parent / "secret.txt").write_text("secret", encoding="utf-8")
    with pytest.raises(RecipeError):
        inline_template("{% include '../secret.txt' %}", SPAN, "p", search_dirs=DIRS)
    template = inline_template("{% include name %}", SPAN, "p", search_dirs=DIRS)
    with pytest.raises(TemplateRenderError):
        template.render({"name": "../secret.txt"})


# Rendering --------------------------------------------------------------------------


def test_render_keeps_trailing_newline_and_no_autoescape() -> None:
    template = inline_template("<b>{{ x }}</b>\n", SPAN, "p")
    assert template.render({"x": "a & b"}) == "<b>a & b</b>\n"


def test_filters_and_globals() -> None:
    template = inline_template(
        "{{ text | words }}|{{ items | join(', ') }}|{{ obj | tojson }}|{{ obj | json }}|"
        "{% for i, v in enumerate(items) %}{{ i }}={{ v }} {% endfor %}",
        SPAN,
        "p",
    )
    out = template.render({"text": "a b  c", "items": ["x", "y"], "obj": {"k": "é"}})
    # Jinja's tojson escapes non-ASCII (and HTML) characters; json keeps them.
    assert out == '3|x, y|{"k": "\\u00e9"}|{"k": "é"}|0=x 1=y '


def test_undefined_variable_raises_render_error() -> None:
    template = inline_template("ok\n{{ respnse }}", SPAN, "gen.prompt")
    with pytest.raises(TemplateRenderError) as info:
        template.render({"response": "x"})
    error = info.value
    assert isinstance(error, RunError)
    assert error.template == "gen.prompt"
    assert error.span == Span("r.yaml", 11, 1)
    assert "'respnse' is undefined" in str(error)
    assert "gen.prompt" in str(error)


def test_sandbox_blocks_dunder_access() -> None:
    template = inline_template("{{ ''.__class__.__mro__ }}", SPAN, "evil")
    with pytest.raises(TemplateRenderError) as info:
        template.render({})
    assert "unsafe" in str(info.value) or "undefined" in str(info.value)
    other = inline_template("{{ cycler.__init__.__globals__ }}", SPAN, "evil2")
    with pytest.raises(TemplateRenderError):
        other.render({})


def test_filter_errors_become_render_errors() -> None:
    template = inline_template("{{ 1 + x }}", SPAN, "p")
    with pytest.raises(TemplateRenderError) as info:
        template.render({"x": "a"})
    assert "TypeError" in str(info.value)


def test_template_is_frozen_and_reusable() -> None:
    template = inline_template("{{ a }}", SPAN, "p")
    assert isinstance(template, Template)
    assert [template.render({"a": i}) for i in range(3)] == ["0", "1", "2"]
    assert template == Template("p", "{{ a }}", SPAN)


# check_variables --------------------------------------------------------------------


def test_check_variables_reports_unknown_with_hint() -> None:
    template = inline_template(
        "{{ params.style }} {{ question }}\n{{ respnse }}", SPAN, "judge.prompt"
    )
    problems = check_variables(template, ["question", "response"])
    assert len(problems) == 1
    (diag,) = problems
    assert diag.span == Span("r.yaml", 11, 4)
    assert diag.message == "template variable 'respnse' is not provided by any upstream node"
    assert diag.hint == "did you mean 'response'?"
    assert check_variables(template, ["question", "respnse"]) == []
    assert len(check_variables(template, ["question", "respnse"], extra_allowed=())) == 1
