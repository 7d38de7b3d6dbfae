"""Recipe regexes run on RE2: linear time in the text, whatever the pattern.

``(a+)+$`` against forty-one ``a`` and a ``!`` takes Python's backtracking engine
about 2**41 steps (a run that never ends); here it answers at once. Patterns RE2 cannot
run (backreferences, lookaround) are refused when the recipe is checked, at the
pattern's column, and so are parameter patterns.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from synthdsl.cli import main
from synthdsl.errors import RecipeError, Span
from synthdsl.lang.expr import parse_expression


def test_a_catastrophic_pattern_answers_in_linear_time() -> None:
    # In a child process with a generous limit, so that a regression fails this test
    # instead of hanging the suite.
    code = (
        "from synthdsl.lang.expr import parse_expression\n"
        "e = parse_expression(\"matches(x, '(a+)+$')\")\n"
        "print(e.evaluate({'x': 'a' * 41 + '!'}), e.evaluate({'x': 'a' * 41}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["False", "True"], done.stderr[-2000:]


def test_backreferences_and_lookaround_are_refused_at_their_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for pattern, col in ((r"(a)\\1", 25), ("(?=a)b", 25)):
        recipe = tmp_path / "r.yaml"
        recipe.write_text(
            "synthdsl: 1\nsources:\n  s: {records: [{x: aa}]}\nsteps:\n  - id: f\n"
            f"    filter: \"matches(x, '{pattern}')\"\n",
            encoding="utf-8",
        )
        assert main(["validate", str(recipe)]) == 2
        err = capsys.readouterr().err
        assert f"r.yaml:6:{col}: error: invalid regex in matches(): " in err
        assert "no backreferences or lookaround" in err


def test_an_overlong_pattern_is_refused() -> None:
    with pytest.raises(RecipeError) as caught:
        parse_expression(f"matches(x, '{'a' * 1001}')", span=Span("r.yaml", 3, 5))
    (diag,) = caught.value.diagnostics
    assert "longer than 1000 characters" in diag.message


def test_a_parameter_pattern_runs_on_the_same_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        'synthdsl: 1\nparams:\n  tag: {type: string, pattern: "(?!x)[a-z]+", default: ab}\n'
        'sources:\n  s: {records: [{x: aa}]}\nsteps:\n  - id: f\n    filter: "true"\n',
        encoding="utf-8",
    )
    assert main(["validate", str(recipe)]) == 2
    assert "no backreferences or lookaround" in capsys.readouterr().err
    recipe.write_text(recipe.read_text("utf-8").replace("(?!x)[a-z]+", "[a-z]+"), encoding="utf-8")
    assert main(["validate", str(recipe)]) == 0
    recipe.write_text(
        recipe.read_text("utf-8").replace("default: ab", "default: AB"), encoding="utf-8"
    )
    assert main(["validate", str(recipe)]) == 2
