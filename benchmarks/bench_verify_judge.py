"""Verify overhead: the two-process judge against the old single-process runner.

Each of the HumanEval-style problems in tests/fixtures/verify (canonical solution and
its tests) is checked in the real sandbox by both runners, interleaved, N rounds; the
table prints the median seconds per problem, old and new side by side, and the ratio.
The old runner is ``synthdsl/sandbox/child.py`` as of OLD_COMMIT, read with ``git show``
(so run from a clone). Run: python benchmarks/bench_verify_judge.py [N]
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from pathlib import Path

from _common import median

from synthdsl.nodes.verify import _LITE_FILES, judge_result
from synthdsl.sandbox.host import Limits, run_sandboxed

REPO = Path(__file__).resolve().parent.parent
OLD_COMMIT = "cc963e8"  # the last commit with the single-process runner
ARGV = ["python", "sandbox_runner.py", "solution.py", "test_solution.py"]


def old_runner() -> str:
    return subprocess.run(
        ["git", "show", f"{OLD_COMMIT}:synthdsl/sandbox/child.py"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def old_verdict(stdout: str, exit_code: int | None) -> bool:
    lines = [json.loads(x) for x in stdout.splitlines() if x.startswith('{"event"')]
    tests = [x for x in lines if x["event"] == "test"]
    summary = [x for x in lines if x["event"] == "summary"]
    return bool(summary and tests and all(t["passed"] for t in tests) and exit_code == 0)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    fixture = REPO / "tests" / "fixtures" / "verify" / "humaneval_like.jsonl"
    problems = [json.loads(x) for x in fixture.read_text("utf-8").splitlines() if x.strip()]
    folder = REPO / "synthdsl" / "sandbox"
    new_files = {name: (folder / src).read_text("utf-8") for name, src in _LITE_FILES.items()}
    old_files = {"sandbox_runner.py": old_runner()}
    limits = Limits(timeout_s=30)
    times: dict[str, dict[str, list[float]]] = {
        p["task_id"]: {"old": [], "new": []} for p in problems
    }
    for _ in range(rounds):
        for p in problems:
            files = {
                "solution.py": p["prompt"] + p["canonical_solution"],
                "test_solution.py": p["test"] + f"\n\ncheck({p['entry_point']})\n",
            }
            t0 = time.perf_counter()
            r = run_sandboxed({**files, **old_files}, ARGV, limits=limits)
            times[p["task_id"]]["old"].append(time.perf_counter() - t0)
            assert old_verdict(r.stdout, r.exit_code), (p["task_id"], r)
            nonce = secrets.token_hex(16)
            stdin = json.dumps({"nonce": nonce, "call_timeout": 30})
            t0 = time.perf_counter()
            r = run_sandboxed({**files, **new_files}, ARGV, limits=limits, stdin=stdin)
            times[p["task_id"]]["new"].append(time.perf_counter() - t0)
            assert judge_result(r, "unittest-lite", 30, nonce).passed, (p["task_id"], r)
    print(f"{'problem':<20} {'old s':>7} {'new s':>7} {'new/old':>8}")
    olds, news = [], []
    for task, t in times.items():
        o, n = median(t["old"]), median(t["new"])
        olds.append(o)
        news.append(n)
        print(f"{task:<20} {o:>7.3f} {n:>7.3f} {n / o:>7.2f}x")
    o, n = median(olds), median(news)
    print(f"{'median per problem':<20} {o:>7.3f} {n:>7.3f} {n / o:>7.2f}x  ({rounds} rounds)")


if __name__ == "__main__":
    main()
