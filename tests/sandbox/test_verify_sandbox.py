"""The verify node and its sandbox, with real processes: no mocks.

Most tests run a recipe with inline ``code``/``tests`` records through
``synthdsl.cli.main(["run", ...])`` and read the dataset, rejects and manifest; a few
call ``run_sandboxed`` directly. The sandbox needs Linux namespaces (root, or
unprivileged user namespaces); without them the whole module is skipped.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from synthdsl.cli import main
from synthdsl.nodes.verify import pass_at_k
from synthdsl.sandbox.host import UID_BASE, Limits, run_sandboxed

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def _sandbox_works() -> None:
    probe = run_sandboxed({}, ["/bin/true"], limits=Limits(timeout_s=10))
    if probe.error is not None:
        pytest.skip(f"no sandbox here: {probe.error}")


def verify_run(
    project: Path,
    records: list[dict[str, Any]],
    options: dict[str, Any] | None = None,
    expect_exit: int = 0,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Run a one-step verify recipe; return (dataset rows, rejects rows, node manifest)."""
    opts = json.dumps(options or {})
    rows = "\n".join(f"      - {json.dumps(r)}" for r in records)
    recipe = project / "recipe.yaml"
    recipe.write_text(
        f"synthdsl: 1\nname: verify-test\nsources:\n  samples:\n    records:\n{rows}\n"
        f"steps:\n  - id: check\n    verify: {opts}\n",
        encoding="utf-8",
    )
    out = project / "out"
    code = main(["run", str(recipe), "--quiet", "--out", str(out)])
    assert code == expect_exit
    dataset = _jsonl(out / "dataset.jsonl")
    rejects = _jsonl(out / "rejects.jsonl")
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["accounting_balanced"]
    return dataset, rejects, manifest["nodes"]["check"]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]


def only_reject(rejects: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(rejects) == 1, rejects
    row: dict[str, Any] = rejects[0]
    return row


def sandbox_processes() -> list[int]:
    """Pids of processes still running under one of this test process's sandbox uids."""
    low = UID_BASE + (os.getpid() % 32768) * 64
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text("ascii", errors="replace")
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:") and low <= int(line.split()[1]) < low + 64:
                found.append(int(entry))
    return found


ADD = "def add(a, b):\n    return a + b\n"
ADD_TESTS = (
    "def test_small():\n    assert add(1, 2) == 3\n\n"
    "def test_zero():\n    assert add(0, 0) == 0\n\n"
    "def test_negative():\n    assert add(-1, -2) == -3\n"
)


# -- kept and dropped -------------------------------------------------------------------


def test_passing_solution_is_kept_and_annotated(project: Path) -> None:
    dataset, rejects, node = verify_run(project, [{"code": ADD, "tests": ADD_TESTS}])
    assert rejects == []
    (row,) = dataset
    v = row["verification"]
    assert v["passed"] is True and v["exit_code"] == 0 and v["timed_out"] is False
    assert [t["name"] for t in v["tests"]] == ["test_small", "test_zero", "test_negative"]
    assert all(t["passed"] and t["error"] is None for t in v["tests"])
    assert node["in"] == node["passed"] == node["out"] == 1


def test_failing_solution_is_dropped_with_reason_and_outcomes(project: Path) -> None:
    wrong = "def add(a, b):\n    return a - b\n"
    dataset, rejects, node = verify_run(project, [{"code": wrong, "tests": ADD_TESTS}])
    assert dataset == []
    row = only_reject(rejects)
    assert row["status"] == "dropped"
    assert row["reason"] == "verify: 2 of 3 tests failed"
    outcomes = {t["name"]: t for t in row["detail"]["tests"]}
    assert outcomes["test_zero"]["passed"] is True
    assert outcomes["test_small"]["passed"] is False
    assert outcomes["test_small"]["error"] == "AssertionError: assert add(1, 2) == 3"
    assert node["dropped"] == {"verify: 2 of 3 tests failed": 1}


def test_top_level_asserts_are_tests_and_keep_all_emits_failures(project: Path) -> None:
    tests = "assert add(1, 2) == 3\nassert add(2, 2) == 5, 'two and two'\n"
    dataset, rejects, _ = verify_run(project, [{"code": ADD, "tests": tests}], {"keep": "all"})
    assert rejects == []
    v = dataset[0]["verification"]
    assert v["passed"] is False and v["reason"] == "verify: 1 of 2 tests failed"
    assert v["tests"] == [
        {"name": "line 1: assert add(1, 2) == 3", "passed": True, "error": None},
        {
            "name": "line 2: assert add(2, 2) == 5, 'two and two'",
            "passed": False,
            "error": "AssertionError: two and two",
        },
    ]


def test_unittest_classes_async_tests_and_main_guard(project: Path) -> None:
    tests = (
        '"""Tests for add."""\n'
        "import unittest\n\n"
        "class TestAdd(unittest.TestCase):\n"
        "    def test_one(self):\n        self.assertEqual(add(1, 2), 3)\n"
        "    def test_two(self):\n        self.assertEqual(add(1, 2), 4)\n"
        "    @unittest.skip('later')\n    def test_three(self):\n        pass\n\n"
        "class TestPlain:\n    def test_plain(self):\n        assert add(1, 1) == 2\n\n"
        "async def test_async():\n    assert add(2, 2) == 4\n\n"
        "if __name__ == '__main__':\n    unittest.main()\n"
    )
    dataset, _, _ = verify_run(project, [{"code": ADD, "tests": tests}], {"keep": "all"})
    v = dataset[0]["verification"]
    assert v["tests"] == [
        {"name": "test_async", "passed": True, "error": None},
        {"name": "TestAdd.test_one", "passed": True, "error": None},
        {"name": "TestAdd.test_two", "passed": False, "error": "AssertionError: 3 != 4"},
        {"name": "TestPlain.test_plain", "passed": True, "error": None},
    ]
    assert v["reason"] == "verify: 1 of 4 tests failed"


def test_collection_errors_fail(project: Path) -> None:
    records = [
        {"code": ADD, "tests": "def test_broken(:\n    pass\n"},
        {"code": "def add(a, b)\n    return a + b\n", "tests": ADD_TESTS},
        {"code": ADD, "tests": "from solution import subtract\n"},
        {"code": ADD, "tests": "x = 1\n"},
    ]
    dataset, rejects, node = verify_run(project, records)
    assert dataset == []
    assert [r["reason"] for r in rejects] == [
        "verify: collection error",
        "verify: collection error",
        "verify: collection error",
        "verify: no tests ran",
    ]
    assert "SyntaxError" in rejects[0]["detail"]["error"]
    assert rejects[1]["detail"]["error"].startswith("solution: SyntaxError")
    assert "ImportError" in rejects[2]["detail"]["error"]
    assert rejects[3]["detail"]["error"] is None
    assert node["dropped"] == {"verify: collection error": 3, "verify: no tests ran": 1}


def test_an_early_exit_is_not_a_pass(project: Path) -> None:
    records = [
        {"code": "import os\nos._exit(0)\n", "tests": ADD_TESTS},
        {"code": ADD + "import sys\n", "tests": "def test_exit():\n    sys.exit(0)\n"},
    ]
    dataset, rejects, _ = verify_run(project, records)
    assert dataset == []
    # The solution runs in its own process: its exit is the judge's collection error.
    assert rejects[0]["reason"] == "verify: collection error"
    assert "exited with code 0" in rejects[0]["detail"]["error"]
    assert rejects[1]["reason"] == "verify: 1 of 1 tests failed"
    assert rejects[1]["detail"]["tests"][0]["error"] == "SystemExit: 0"


# -- limits --------------------------------------------------------------------------------


def test_infinite_loop_is_killed_by_the_timeout(project: Path) -> None:
    loop = {"code": "while True:\n    pass\n", "tests": ADD_TESTS}
    _, rejects, _ = verify_run(project, [loop], {"timeout": 1})
    row = only_reject(rejects)
    assert row["reason"] == "verify: timed out after 1 s"
    assert row["detail"]["timed_out"] is True
    assert 1.0 <= row["detail"]["duration_s"] < 4.0
    assert sandbox_processes() == []


def test_cpu_limit(project: Path) -> None:
    spin = {"code": ADD, "tests": "def test_spin():\n    while True:\n        pass\n"}
    _, rejects, _ = verify_run(project, [spin], {"timeout": 20, "cpu": 1})
    row = only_reject(rejects)
    assert row["reason"] == "verify: CPU time limit exceeded"
    assert row["detail"]["duration_s"] < 5


def test_fork_bomb_is_contained_by_max_procs(project: Path) -> None:
    bomb = (
        "import os, time\n\n"
        "def test_fork_bomb():\n"
        "    for _ in range(100):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(20)\n"
        "            os._exit(0)\n"
    )
    _, rejects, _ = verify_run(project, [{"code": ADD, "tests": bomb}], {"max_procs": 8})
    row = only_reject(rejects)
    assert row["reason"] == "verify: 1 of 1 tests failed"
    error = row["detail"]["tests"][0]["error"]
    assert error.startswith("BlockingIOError") and "Resource temporarily unavailable" in error
    assert row["detail"]["duration_s"] < 5  # the sleeping children did not hold it up
    assert sandbox_processes() == []  # and they are gone


def test_memory_hog_is_stopped(project: Path) -> None:
    hog = "def test_hog():\n    block = bytearray(2 * 1024 ** 3)\n    assert len(block) > 0\n"
    _, rejects, _ = verify_run(project, [{"code": ADD, "tests": hog}], {"memory_mb": 256})
    row = only_reject(rejects)
    assert row["reason"] == "verify: 1 of 1 tests failed"
    assert row["detail"]["tests"][0]["error"].startswith("MemoryError")


# -- isolation -----------------------------------------------------------------------------


def test_writes_outside_the_work_directory_fail(project: Path) -> None:
    tag = uuid.uuid4().hex
    targets = [f"/root/escape-{tag}", str(REPO / f"escape-{tag}.txt"), f"/etc/escape-{tag}"]
    tests = (
        "import os\n\n"
        "def test_work_directory_is_writable():\n"
        "    with open('scratch.txt', 'w') as f:\n"
        "        f.write('ok')\n"
        "    assert open('scratch.txt').read() == 'ok'\n"
        "    assert os.getcwd() == '/tmp/sandbox'\n\n"
        + "".join(
            f"def test_escape_{i}():\n    with open({t!r}, 'w') as f:\n        f.write('x')\n\n"
            for i, t in enumerate(targets)
        )
    )
    _, rejects, _ = verify_run(project, [{"code": ADD, "tests": tests}])
    outcomes = only_reject(rejects)["detail"]["tests"]
    assert outcomes[0] == {"name": "test_work_directory_is_writable", "passed": True, "error": None}
    for outcome in outcomes[1:]:
        assert outcome["passed"] is False
        assert outcome["error"].startswith(("OSError", "PermissionError")), outcome
    for t in targets:
        assert not os.path.exists(t)


@pytest.fixture
def listening_port() -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield int(server.getsockname()[1])
    finally:
        server.close()


def test_network_is_blocked(project: Path, listening_port: int) -> None:
    with socket.create_connection(("127.0.0.1", listening_port), timeout=2):
        pass  # works outside the sandbox
    tests = (
        "import socket\n\n"
        "def test_connect():\n"
        f"    socket.create_connection(('127.0.0.1', {listening_port}), timeout=2).close()\n"
    )
    _, rejects, _ = verify_run(project, [{"code": ADD, "tests": tests}])
    error = only_reject(rejects)["detail"]["tests"][0]["error"]
    assert error.startswith("OSError") and "unreachable" in error


def test_environment_holds_no_secrets(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTHDSL_TEST_SECRET", "hunter2")
    tests = (
        "import os\n\n"
        "def test_env():\n"
        "    print(dict(os.environ))\n"
        "    assert 'SYNTHDSL_TEST_SECRET' not in os.environ\n"
        "    assert sorted(os.environ) == "
        "['HOME', 'LANG', 'PATH', 'PYTHONDONTWRITEBYTECODE', 'PYTHONHASHSEED']\n"
        "    assert os.environ['HOME'] == os.getcwd()\n"
    )
    dataset, rejects, _ = verify_run(project, [{"code": ADD, "tests": tests}])
    assert rejects == []
    tail = dataset[0]["verification"]["stderr_tail"]
    assert "'PYTHONHASHSEED': '0'" in tail and "hunter2" not in tail

    shown = run_sandboxed(
        {}, [sys.executable, "-c", "import os; print(sorted(os.environ))"], limits=Limits()
    )
    assert shown.ok, shown
    assert "SYNTHDSL_TEST_SECRET" not in shown.stdout and "HOME" in shown.stdout


def test_processes_left_behind_are_killed() -> None:
    code = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],"
        " start_new_session=True)\n"
        "print(p.pid)\n"
    )
    result = run_sandboxed({"daemon.py": code}, [sys.executable, "daemon.py"], limits=Limits())
    assert result.ok, result
    assert result.duration_s < 5
    assert sandbox_processes() == []


def test_a_check_that_cannot_start_is_an_infrastructure_error() -> None:
    result = run_sandboxed({}, ["/nonexistent/python"], limits=Limits())
    assert result.error is not None and "cannot start the check" in result.error
    assert not result.ok


def test_output_is_capped_and_files_checked() -> None:
    result = run_sandboxed(
        {},
        [sys.executable, "-c", "print('x' * 100_000)"],
        limits=Limits(output_bytes=1000),
    )
    assert result.ok and result.stdout_truncated and len(result.stdout) == 1000
    with pytest.raises(ValueError, match="unsafe sandbox file name"):
        run_sandboxed({"../evil.py": ""}, ["/bin/true"], limits=Limits())


# -- runners, pass@k, compile-time checks ---------------------------------------------------------


def test_pytest_runner(project: Path) -> None:
    wrong = "def add(a, b):\n    return a * b\n"
    tests = (
        "from solution import add\n\nclass TestAdd:\n    def test_two(self):\n        assert add(2, 2) == 4\n\n"
        + ADD_TESTS
    )
    records = [{"code": ADD, "tests": tests}, {"code": wrong, "tests": tests}]
    dataset, rejects, _ = verify_run(project, records, {"runner": "pytest"})
    names = [t["name"] for t in dataset[0]["verification"]["tests"]]
    assert sorted(names) == ["TestAdd.test_two", "test_negative", "test_small", "test_zero"]
    row = only_reject(rejects)
    assert row["reason"] == "verify: 2 of 4 tests failed"
    failing = {t["name"]: t["error"] for t in row["detail"]["tests"] if not t["passed"]}
    assert failing["test_small"].startswith("assert 2 == 3")


def test_pass_at_k_estimator() -> None:
    assert pass_at_k(5, 2, 2) == pytest.approx(1 - 3 / 10)
    assert pass_at_k(3, 1, 1) == pytest.approx(1 / 3)
    assert pass_at_k(3, 0, 3) == 0.0 and pass_at_k(3, 1, 3) == 1.0
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)


def test_pass_at_k_note(project: Path) -> None:
    wrong = "def add(a, b):\n    return 0\n"
    mix = {"a": [ADD, wrong, wrong], "b": [wrong, wrong, wrong], "c": [ADD, ADD, ADD]}
    records = [
        {"problem_id": p, "code": code, "tests": ADD_TESTS}
        for p, codes in mix.items()
        for code in codes
    ]
    dataset, rejects, node = verify_run(project, records, {"group": "problem_id"})
    assert len(dataset) == 4 and len(rejects) == 5
    # pass@1 = mean(1/3, 0, 1); pass@3 = mean(1, 0, 1)
    assert node["pass_at_k"] == {
        "groups": 3,
        "samples": 9,
        "pass@1": pytest.approx(4 / 9, abs=1e-6),
        "pass@k": pytest.approx(2 / 3, abs=1e-6),
        "k": 3,
    }
    assert node["verify"]["checked"] == 9 and node["verify"]["passed"] == 4
    # Emitted in arrival order despite concurrency.
    assert [r["problem_id"] for r in dataset] == ["a", "c", "c", "c"]


def test_recipe_checks(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = project / "bad.yaml"
    recipe.write_text(
        "synthdsl: 1\nname: bad\nsources:\n  s:\n    records:\n      - {solution: x, tests: y}\n"
        "steps:\n  - id: v\n    verify: {language: rust}\n",
        encoding="utf-8",
    )
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "language 'rust' is not supported; only 'python' is" in err
    assert "code" in err  # the default code field is not provided upstream
    recipe.write_text(
        "synthdsl: 1\nname: bad\nsources:\n  s:\n    records:\n      - {code: x, tests: y}\n"
        "steps:\n  - id: v\n    verify: {runner: nose}\n",
        encoding="utf-8",
    )
    assert main(["validate", str(recipe)]) == 2


def test_end_to_end_fields_and_plan(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = project / "recipe.yaml"
    rows = [
        {"task": "add", "solution": ADD, "checks": ADD_TESTS},
        {"task": "add", "solution": "def add(a, b):\n    return b\n", "checks": ADD_TESTS},
    ]
    recipe.write_text(
        "synthdsl: 1\nname: e2e-verify\nsources:\n  samples:\n    records:\n"
        + "".join(f"      - {json.dumps(r)}\n" for r in rows)
        + "steps:\n  - id: checked\n    verify:\n      code: solution\n      tests: checks\n"
        '      into: result\n      concurrency: 1\n  - id: keep\n    filter: "result.passed"\n',
        encoding="utf-8",
    )
    assert main(["plan", str(recipe)]) == 0
    assert "runner=unittest-lite" in capsys.readouterr().out
    out = project / "out"
    assert main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    (row,) = _jsonl(out / "dataset.jsonl")
    assert row["task"] == "add" and row["result"]["passed"] is True
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["status"] == "completed" and manifest["accounting_balanced"]
    assert manifest["nodes"]["checked"]["dropped"] == {"verify: 2 of 3 tests failed": 1}
