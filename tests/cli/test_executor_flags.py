"""``--executor``, ``--address`` and ``--workers``: usage errors are exit 2, said plainly."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthdsl.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "2"], "--workers needs --executor ray"),
        (["--address", "auto"], "--address needs --executor ray"),
        (["--executor", "ray", "--max-calls", "3"], "--max-calls is not supported"),
        (["--executor", "ray", "--max-cost", "1"], "--max-cost is not supported"),
    ],
)
def test_ray_flags_misused_are_usage_errors(
    args: list[str], message: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = str(REPO / "examples" / "quickstart.yaml")
    assert main(["run", recipe, "--quiet", "--out", str(project / "out"), *args]) == 2
    assert message in capsys.readouterr().err
    assert not (project / "out" / "manifest.json").exists()  # refused before any run


def test_batch_mode_with_ray_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = project / "r.yaml"
    recipe.write_text(
        """
synthdsl: 1
models:
  gen: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:9/v1", batch: true}
sources:
  s: {records: [{q: a}]}
steps:
  - id: g
    generate: {template: "{{ q }}", model: gen}
""",
        encoding="utf-8",
    )
    out = project / "out"
    assert main(["run", str(recipe), "--quiet", "--out", str(out), "--executor", "ray"]) == 2
    assert "batch mode (gen) is not supported with --executor ray" in capsys.readouterr().err
    assert not (out / "manifest.json").exists()
