"""A mapping key that is exactly ``${name}`` takes the parameter's text: a step writes a
field whose name the user of a strategy chooses (``set: {${into}: ...}``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_completed

from synthdsl.cli import main

STRATEGY = """
synthdsl: 1
params:
  into: {type: string, default: copied}
  count: 3
sources:
  items: {input: true}
steps:
  - id: c
    set:
      KEY: "{{ q }}"
      seen: "{{ true }}"
"""


def _project(tmp: Path, key: str, given: str) -> Path:
    (tmp / "recipes").mkdir()
    (tmp / "recipes" / "copy.yaml").write_text(STRATEGY.replace("KEY", key), encoding="utf-8")
    recipe = tmp / "r.yaml"
    recipe.write_text(
        f"""
synthdsl: 1
sources:
  s: {{records: [{{q: "42"}}, {{q: "None"}}]}}
steps:
  - id: t
    from: s
    use: copy
    with: {given}
""",
        encoding="utf-8",
    )
    return recipe


def test_a_parameter_names_the_field_a_step_writes(tmp_path: Path) -> None:
    recipe = _project(tmp_path, "${into}", "{into: answer}")
    rows, _, _ = run_completed(recipe, tmp_path / "out")
    # The text arrives unchanged: "42" stays text, "None" is not null.
    assert [(r["q"], r["answer"]) for r in rows] == [("42", "42"), ("None", "None")]
    assert all("copied" not in r and "${into}" not in r for r in rows)


def test_the_default_names_the_field_when_with_does_not(tmp_path: Path) -> None:
    rows, _, _ = run_completed(_project(tmp_path, "${into}", "{}"), tmp_path / "out")
    assert [r["copied"] for r in rows] == ["42", "None"]


@pytest.mark.parametrize(
    ("key", "given", "where", "message"),
    [
        ("${into}", "{into: seen}", "recipes/copy.yaml:11:7", "key 'seen' appears twice here"),
        ("${into}", "{into: bad-name}", "recipes/copy.yaml:11:7", "found 'bad-name'"),
        ("${count}", "{}", "recipes/copy.yaml:11:7", "'count' is not text"),
        ("${nope}", "{}", "recipes/copy.yaml:11:7", "'nope' is not declared under 'params:'"),
        ("x_${into}", "{}", "recipes/copy.yaml:11:7", "a key takes a parameter whole"),
    ],
)
def test_bad_parameter_keys_are_errors_at_the_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    key: str,
    given: str,
    where: str,
    message: str,
) -> None:
    recipe = _project(tmp_path, key, given)
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err.replace(str(tmp_path) + "/", "")
    assert message in err and f"{where}: error" in err, err
