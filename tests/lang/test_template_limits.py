"""Templates cannot exhaust memory: constant blow-ups are refused when the recipe is
checked, and values computed from record fields are refused before they are made.

Each case here asked for gigabytes before these bounds (``'a' * 10**10`` reached 20 GB
in ``validate``); now each ends in a located error or a failed render, in well under a
second and a few megabytes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from synthdsl.cli import main
from synthdsl.errors import RecipeError, Span
from synthdsl.lang.jinja_limits import MAX_RENDER_CHARS
from synthdsl.lang.templates import TemplateRenderError, inline_template, load_template

SPAN = Span("r.yaml", 7, 12)
HUGE = 10**10


@pytest.mark.parametrize(
    "text",
    [
        "{{ 'a' * 10**10 }}",
        "{{ [1, 2] * 10**9 }}",
        "{{ 2 ** (10 ** 7) }}",
        "{{ 'x' ~ ('ab' * 600000 + 'cd' * 600000) }}",
        "{{ '%1000000000d' % 1 }}",
        "line one\n{{ 'ok' }}\n{{ ('a' * 1000) * 1000000 }}",
    ],
)
def test_constant_blow_ups_are_refused_at_their_line(text: str) -> None:
    with pytest.raises(RecipeError) as caught:
        inline_template(text, SPAN, "t")
    (diag,) = caught.value.diagnostics
    assert diag.message.startswith("template computes too much: ")
    assert diag.span is not None
    assert diag.span.line == SPAN.line + text.count("\n")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{{ 'a' * n }}", "'*' would make a value of 10,000,000,000 items"),
        ("{{ 'b'.ljust(n) }}", "'ljust' would make a value of 10,000,000,000 items"),
        ("{{ 'c' | center(n) }}", "'center' would make a value"),
        ("{{ '%*d' % (n, 1) }}", "would make a value of 10,000,000,000 items"),
        ("{{ '{:>10000000000}'.format(1) }}", "'format' would make a value"),
        ("{{ 3 ** n }}", "'**' would make a number"),
        ("{{ 'abcd' | replace('a', 'aaaaaaaaaa' * 100000) }}", "filter 'replace'"),
    ],
)
def test_values_from_fields_are_refused_before_they_are_made(text: str, fragment: str) -> None:
    template = inline_template(text, SPAN, "t")
    with pytest.raises(TemplateRenderError) as caught:
        template.render({"n": HUGE})
    assert fragment in str(caught.value)


def test_a_render_is_capped_in_total() -> None:
    template = inline_template("{% for i in range(n) %}{{ s }}{% endfor %}", SPAN, "t")
    with pytest.raises(TemplateRenderError) as caught:
        template.render({"n": 90000, "s": "x" * 100})
    assert f"more than {MAX_RENDER_CHARS:,} characters" in str(caught.value)


def test_ordinary_templates_are_untouched() -> None:
    text = (
        "{{ '%5d' | format(3) }}|{{ 10**7 }}|{{ n | string }}|{{ 'ab' * 3 }}|"
        "{{ 'x'.ljust(4) }}|{{ [1] + [2] }}|{{ '{:>3}'.format(7) }}|{{ 2 ** 10 }}"
    )
    assert inline_template(text, SPAN, "t").render({"n": HUGE}) == (
        "    3|10000000|10000000000|ababab|x   |[1, 2]|  7|1024"
    )


def test_a_template_file_past_the_size_limit_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.j2").write_text("x" * (256 * 1024 + 1), encoding="utf-8")
    with pytest.raises(RecipeError) as caught:
        load_template("big.j2", ref_span=SPAN, search_dirs=[tmp_path])
    assert "is larger than 262,144 bytes" in caught.value.diagnostics[0].message


def test_validate_refuses_and_run_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "synthdsl: 1\nsources:\n  s: {records: [{n: 10000000000}]}\nsteps:\n  - id: g\n"
        "    set: {y: \"{{ 'a' * 10**10 }}\"}\n",
        encoding="utf-8",
    )
    assert main(["validate", str(recipe)]) == 2
    assert "r.yaml:6:15: error: template computes too much" in capsys.readouterr().err
    recipe.write_text(recipe.read_text("utf-8").replace("10**10", "n"), encoding="utf-8")
    assert main(["run", str(recipe), "--quiet", "--out", str(tmp_path / "out")]) in (0, 1)
    rejects = (tmp_path / "out" / "rejects.jsonl").read_text("utf-8")
    assert "'*' would make a value of 10,000,000,000 items" in rejects
