"""The loader is bounded: a billion-laughs file and a huge recipe are refused at once.

Before these bounds a ~600-byte file of nested aliases drove ``validate`` past 120 s and
9 GB, and a 50 MB recipe took 119 s and 2.7 GB.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from synthdsl.cli import main
from synthdsl.errors import RecipeError, Span
from synthdsl.lang.load import MAX_RECIPE_BYTES, MAX_VALUES, parse_document


def _bomb(levels: int) -> str:
    lines = ["synthdsl: 1", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    lines.append(f"steps: *a{levels}")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    recipe = tmp_path / "bomb.yaml"
    recipe.write_text(_bomb(9), encoding="utf-8")
    assert len(recipe.read_bytes()) < 1000
    # A child with a 1 GB address-space cap: the old loader would die, not answer.
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from synthdsl.cli import main\n"
        f"sys.exit(main(['validate', {str(recipe)!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"error: the recipe expands to more than {MAX_VALUES:,} values" in done.stderr
    assert "bomb.yaml:" in done.stderr and "Traceback" not in done.stderr


def test_a_recipe_file_past_the_size_limit_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = tmp_path / "big.yaml"
    row = "      - {x: 1234567890}\n"
    body = "synthdsl: 1\nsources:\n  s:\n    records:\n"
    recipe.write_text(body + row * (MAX_RECIPE_BYTES // len(row) + 1), encoding="utf-8")
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert f"big.yaml:1:1: error: recipe file is larger than {MAX_RECIPE_BYTES:,} bytes" in err
    assert "put inline records in a source file" in err


def test_ordinary_aliases_still_work(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "synthdsl: 1\nsources:\n  s: {records: [{x: 1}]}\n"
        "steps:\n  - id: a\n    filter: &common {expr: 'x > 0', reason: small}\n"
        "  - id: b\n    filter: *common\n",
        encoding="utf-8",
    )
    assert main(["validate", str(recipe)]) == 0


def test_a_control_character_is_a_located_error(tmp_path: Path) -> None:
    with pytest.raises(RecipeError) as caught:
        parse_document("synthdsl: 1\nname: a\x08b\n", "r.yaml")
    (diag,) = caught.value.diagnostics
    assert (diag.span, diag.message) == (
        Span("r.yaml", 2, 8),
        "character U+0008 is not allowed in a recipe (a control character)",
    )
