"""Every example under ``--executor ray`` gives the local executor's results: the same
dataset (byte for byte), the same rejects, the same per-node accounting and notes (a
verify step's checked/passed and pass@k, tallied in the driver from the workers'
outcomes) and calls."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import read_jsonl

from synthdsl.cli import main
from synthdsl.testing.fake_openai import FakeOpenAIServer

pytestmark = pytest.mark.ray

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
# What may differ per node between the two runs: wall-clock times, and whether a
# rebuildable cache beside the call cache (decontaminate's n-gram sets, in the folder
# both runs share) was built by this run or read.
TIMED = ("wall_time_s", "duration_s", "built")


def _run(recipe: Path, out: Path, cache: Path, server: FakeOpenAIServer, *extra: str) -> int:
    return main(
        [
            "run",
            str(recipe),
            "--quiet",
            "--no-report",
            "--out",
            str(out),
            "--cache",
            str(cache),
            "--model",
            "openai/fake",
            "--api-base",
            server.base_url,
            *extra,
        ]
    )


def _nodes(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each node's accounting and notes (verify's checked/passed and pass@k included)."""
    return {nid: _untimed(row) for nid, row in manifest["nodes"].items()}


def _untimed(value: Any) -> Any:
    """``value`` without the fields of ``TIMED`` (a node's ``wall_time_s``, a sandbox
    run's ``duration_s``)."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k not in TIMED}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _sorted_rejects(out: Path) -> list[str]:
    path = out / "rejects.jsonl"
    if not path.exists():
        return []
    return sorted(json.dumps(_untimed(r), sort_keys=True) for r in read_jsonl(path))


@pytest.fixture(scope="module")
def examples_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("ex")
    shutil.copytree(REPO / "examples", base / "examples")
    return base / "examples"


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_on_ray_matches_local(
    example: Path,
    examples_copy: Path,
    server: FakeOpenAIServer,
    project: Path,
    ray_instance: Any,
) -> None:
    recipe = examples_copy / example.name
    assert _run(recipe, project / "local", project / "local.sqlite", server) == 0
    local_calls = server.stats()["requests"]
    server.reset()
    assert _run(recipe, project / "ray", project / "ray.sqlite", server, "--executor", "ray") == 0
    assert server.stats()["requests"] == local_calls  # the same calls, made again
    local = json.loads((project / "local" / "manifest.json").read_text("utf-8"))
    dist = json.loads((project / "ray" / "manifest.json").read_text("utf-8"))
    assert dist["status"] == "completed" and dist["accounting_balanced"] is True
    assert dist["options"]["executor"] == "ray" and "executor" not in local["options"]
    assert (project / "ray" / "dataset.jsonl").read_bytes() == (
        project / "local" / "dataset.jsonl"
    ).read_bytes()
    assert _sorted_rejects(project / "ray") == _sorted_rejects(project / "local")
    assert _nodes(dist) == _nodes(local)
    for key in ("calls", "cache_hits", "dropped", "failed", "prompt_tokens", "completion_tokens"):
        assert dist["totals"][key] == local["totals"][key], key
    assert dist["models"] == local["models"]
    assert {m: r["ok"] for m, r in dist["provider"].items()} == {
        m: r["ok"] for m, r in local["provider"].items()
    }

    # calls.jsonl: the same prompts and replies (the order of lines follows timing)
    def calls(run: str) -> list[str]:
        rows = read_jsonl(project / run / "calls.jsonl")
        return sorted(json.dumps(r, sort_keys=True) for r in rows)

    assert calls("ray") == calls("local")
