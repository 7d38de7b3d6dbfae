"""``verify`` under ``--executor ray``: the checks run on the workers, at most a worker's
CPU share at once, and the notes (checked, passed, pass@k) are tallied in the driver
from the outcomes, equal to the local executor's."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import ray_worker_pids, read_jsonl

from synthdsl.cli import main
from synthdsl.nodes.verify import pass_at_k

pytestmark = pytest.mark.ray

# (problem, sample, passes): 4 problems, 2 samples each; problem 0 passes twice,
# problems 1 and 2 once, problem 3 never
SAMPLES = [
    (p, s, ok) for p, oks in enumerate([(1, 1), (1, 0), (0, 1), (0, 0)]) for s, ok in enumerate(oks)
]
HOLD_S = 0.6  # each check holds its sandbox this long (sleeping: no CPU needed)


def _recipe(project: Path) -> Path:
    rows = []
    for problem, sample, ok in SAMPLES:
        # the tests print when they start and end (wall clock) on stderr, which the
        # verification keeps: the checks' overlap is read from there
        tests = (
            "import sys, time\n"
            "print('T0', time.time(), file=sys.stderr)\n"
            f"time.sleep({HOLD_S})\n"
            "print('T1', time.time(), file=sys.stderr)\n"
            f"assert answer() == {problem}\n"
        )
        code = f"def answer():\n    return {problem if ok else -1}  # sample {sample}\n"
        rows.append(json.dumps({"problem": problem, "code": code, "tests": tests}))
    (project / "programs.jsonl").write_text("\n".join(rows) + "\n", "utf-8")
    recipe = project / "recipe.yaml"
    recipe.write_text(
        """synthdsl: 1
name: ray-verify
sources:
  programs: {path: programs.jsonl}
steps:
  - id: check
    verify: {group: problem, concurrency: 4, timeout: 20}
""",
        encoding="utf-8",
    )
    return recipe


def _run(recipe: Path, out: Path, *extra: str) -> dict[str, Any]:
    assert main(["run", str(recipe), "--quiet", "--no-report", "--out", str(out), *extra]) == 0
    manifest: dict[str, Any] = json.loads((out / "manifest.json").read_text("utf-8"))
    return manifest


def _most_at_once(out: Path) -> int:
    """The most checks whose tests were running at the same moment."""
    verifications = [r["verification"] for r in read_jsonl(out / "dataset.jsonl")]
    verifications += [r["detail"] for r in read_jsonl(out / "rejects.jsonl")]
    assert len(verifications) == len(SAMPLES)
    edges = []
    for v in verifications:
        marks = dict(
            line.split() for line in v["stderr_tail"].splitlines() if line[:2] in {"T0", "T1"}
        )
        edges += [(float(marks["T0"]), 1), (float(marks["T1"]), -1)]
    most = now = 0
    for _, step in sorted(edges):
        now += step
        most = max(most, now)
    return most


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The recipe and the local executor's manifest (one run for the module's tests)."""
    base = tmp_path_factory.mktemp("verify-local")
    recipe = _recipe(base)
    return recipe, _run(recipe, base / "local", "--cache", str(base / "cache.sqlite"))


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def test_verify_runs_on_the_workers_and_tallies_in_the_driver(
    project: Path, ray_instance: Any, local_run: tuple[Path, dict[str, Any]]
) -> None:
    recipe, local = local_run
    dist = _run(recipe, project / "ray", "--executor", "ray", "--workers", "2")
    assert dist["cluster"]["remote_nodes"] == ["check"]
    # the notes, tallied from the outcomes the workers sent back, are the local ones
    passes = sum(ok for _, _, ok in SAMPLES)
    assert local["nodes"]["check"]["verify"] == {
        "checked": len(SAMPLES),
        "passed": passes,
        "timed_out": 0,
        "pass_rate": round(passes / len(SAMPLES), 4),
    }
    per_problem = [sum(ok for p, _, ok in SAMPLES if p == q) for q in range(4)]
    assert local["nodes"]["check"]["pass_at_k"] == {
        "groups": 4,
        "samples": len(SAMPLES),
        "pass@1": round(sum(pass_at_k(2, c, 1) for c in per_problem) / 4, 6),
        "pass@k": round(sum(pass_at_k(2, c, 2) for c in per_problem) / 4, 6),
        "k": 2,
    }
    for note in ("verify", "pass_at_k", "in", "passed", "dropped", "failed"):
        assert dist["nodes"]["check"][note] == local["nodes"]["check"][note], note
    # the local executor runs the step's concurrency (4) at once; each worker (one CPU
    # of Ray's two) runs one at a time, so the pair never more than 2
    assert _most_at_once(recipe.parent / "local") >= 3
    assert _most_at_once(project / "ray") <= 2


def test_a_killed_worker_leaves_the_tally_exact(
    project: Path, ray_instance: Any, local_run: tuple[Path, dict[str, Any]]
) -> None:
    recipe, local = local_run
    killed: list[int] = []

    def kill_one_mid_check() -> None:
        # a worker with a sandbox under way: its check is lost and runs again
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            for pid in ray_worker_pids():
                if _children(pid):
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
            time.sleep(0.005)

    killer = threading.Thread(target=kill_one_mid_check)
    killer.start()
    try:
        dist = _run(recipe, project / "ray", "--executor", "ray", "--workers", "2")
    finally:
        killer.join()
    assert killed, "no worker was killed"
    assert dist["status"] == "completed" and dist["accounting_balanced"] is True
    for note in ("verify", "pass_at_k", "in", "passed", "dropped", "failed"):
        assert dist["nodes"]["check"][note] == local["nodes"]["check"][note], note
    codes = [
        [r["code"] for r in read_jsonl(out / "dataset.jsonl")]
        for out in (project / "ray", recipe.parent / "local")
    ]
    assert codes[0] == codes[1] and len(codes[0]) == local["nodes"]["check"]["verify"]["passed"]
