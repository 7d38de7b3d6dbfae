"""Small helpers shared by the tests that run recipes through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthdsl.cli import main


def run(recipe: Path, *args: str) -> int:
    """``synthdsl run RECIPE`` quietly into ``<recipe's folder>/out``."""
    return main(["run", str(recipe), "--quiet", "--out", str(recipe.parent / "out"), *args])


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def rows(project: Path) -> list[dict[str, Any]]:
    """The dataset written to ``project/out``."""
    return read_jsonl(project / "out" / "dataset.jsonl")


def manifest(project: Path) -> dict[str, Any]:
    """The manifest written to ``project/out``."""
    data: dict[str, Any] = json.loads((project / "out" / "manifest.json").read_text("utf-8"))
    return data
