"""Golden tests of `synthdsl validate` on the recipe fixtures.

Every ``tests/fixtures/recipes/bad/NAME.yaml`` has a golden ``NAME.err`` holding the
exact stderr of ``synthdsl validate tests/fixtures/recipes/bad/NAME.yaml`` run from the
repository root; the test checks the exit code (2) and that stderr matches byte for byte.
Every ``tests/fixtures/recipes/ok/*.yaml`` must validate cleanly (exit 0, empty stderr).

Regenerating the goldens is explicit and never automatic:

    SYNTHDSL_REGEN_GOLDENS=1 .venv/bin/pytest tests/compile/test_validate_fixtures.py

writes each ``.err`` from the current output instead of comparing (the exit code is
still checked). Review the diff of the ``.err`` files before committing them.

Fixtures are self-contained: inline ``records:`` sources or files under
``tests/fixtures/recipes/data/``; templates and sub-recipes used by bad fixtures live
next to them (``bad/*.j2``, ``bad/prompts/``, ``bad/recipes/``), those of ok fixtures
under ``ok/recipes/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from synthdsl.cli import main

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "recipes"
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))
OK = sorted((FIXTURES / "ok").glob("*.yaml"))
REGEN = os.environ.get("SYNTHDSL_REGEN_GOLDENS") == "1"

REQUIRED_BAD = {
    "bad_filter_syntax",
    "binary_file",
    "cycle",
    "duplicate_key",
    "empty_file",
    "missing_required",
    "missing_template_file",
    "missing_version",
    "mix_ratios_not_one",
    "not_a_mapping",
    "several_errors_at_once",
    "source_file_missing",
    "step_with_two_kinds",
    "template_syntax_error_file",
    "template_syntax_error_inline",
    "template_unknown_variable",
    "unknown_filter_field",
    "unknown_filter_function",
    "unknown_key_typo",
    "unknown_model_alias",
    "unknown_source_ref",
    "unknown_step_in_output",
    "unknown_step_key_typo",
    "unsupported_version",
    "use_missing_recipe",
    "use_unknown_param",
    "wrong_type",
    "yaml_syntax_error",
}


def _validate(
    path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """Run ``synthdsl validate`` in-process from the repo root, as the goldens were made."""
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("SYNTHDSL_MODEL", raising=False)
    monkeypatch.delenv("SYNTHDSL_DEBUG", raising=False)
    code = main(["validate", path.relative_to(REPO).as_posix()])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("recipe", BAD, ids=[p.stem for p in BAD])
def test_bad_fixture_matches_golden(
    recipe: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _validate(recipe, monkeypatch, capsys)
    assert code == 2, f"expected exit code 2, got {code}\n{err}"
    assert out == ""
    golden = recipe.with_suffix(".err")
    if REGEN:
        golden.write_text(err, encoding="utf-8", newline="\n")
        return
    assert golden.is_file(), (
        f"no golden {golden.name}; create it with SYNTHDSL_REGEN_GOLDENS=1\n{err}"
    )
    assert err == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("recipe", OK, ids=[p.stem for p in OK])
def test_ok_fixture_validates(
    recipe: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _validate(recipe, monkeypatch, capsys)
    assert (code, err) == (0, ""), err
    assert out.startswith(f"{recipe.relative_to(REPO).as_posix()}: ok (")


def test_fixture_set_is_complete() -> None:
    names = {p.stem for p in BAD}
    assert not REQUIRED_BAD - names, f"missing fixtures: {sorted(REQUIRED_BAD - names)}"
    orphans = sorted(p.name for p in (FIXTURES / "bad").glob("*.err") if p.stem not in names)
    assert not orphans, f"goldens without a recipe: {orphans}"
    assert len(OK) >= 5


def test_binary_fixture_is_binary() -> None:
    assert b"\x00" in (FIXTURES / "bad" / "binary_file.yaml").read_bytes()


def test_goldens_are_sorted_and_free_of_tracebacks() -> None:
    for golden in sorted((FIXTURES / "bad").glob("*.err")):
        text = golden.read_text(encoding="utf-8")
        assert "Traceback" not in text and "internal error" not in text, golden.name
        assert str(REPO) not in text, f"{golden.name} holds an absolute path"
        positions = []
        for line in text.splitlines():
            head, sep, _ = line.partition(": error: ")
            if sep and head.count(":") >= 2:
                file, ln, col = head.rsplit(":", 2)
                positions.append((file, int(ln), int(col)))
        assert positions == sorted(positions), golden.name
