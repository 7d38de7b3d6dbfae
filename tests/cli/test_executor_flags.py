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
