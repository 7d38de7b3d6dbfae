"""Verdicts the checked code cannot forge: attacks on unittest-lite, honest code, HumanEval.

Every attack is a *wrong* solution (``add`` subtracts) plus code that tries to make the
check pass anyway: fake reports on inherited or /proc fds, patching the runner in
memory, exiting early, objects equal to everything, raising ``SystemExit``, killing the
judge, closing fds, profiling hooks, reading the tests for the answers. Each must end in
a failed verdict; the same honest solution with the same tests must pass. All through
the real sandbox and the real CLI (``synthdsl run``), one recipe per group of records.
Without Linux namespaces the module is skipped.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from synthdsl.cli import main
from synthdsl.nodes.verify import judge_result
from synthdsl.sandbox.host import Limits, SandboxResult, run_sandboxed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "verify"


@pytest.fixture(scope="module", autouse=True)
def _sandbox_works() -> None:
    probe = run_sandboxed({}, ["/bin/true"], limits=Limits(timeout_s=10))
    if probe.error is not None:
        pytest.skip(f"no sandbox here: {probe.error}")


def verify_all(
    project: Path, records: list[dict[str, Any]], options: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Run one verify step with ``keep: all`` over ``records``; their verification objects."""
    (project / "records.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8"
    )
    opts = json.dumps({"keep": "all", "concurrency": 2, **(options or {})})
    recipe = project / "recipe.yaml"
    recipe.write_text(
        "synthdsl: 1\nname: forgery\nsources:\n  samples: {path: records.jsonl}\n"
        f"steps:\n  - id: check\n    verify: {opts}\n",
        encoding="utf-8",
    )
    out = project / "out"
    assert main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    lines = (out / "dataset.jsonl").read_text("utf-8").splitlines()
    rows = [json.loads(x) for x in lines if x.strip()]
    assert len(rows) == len(records)
    return [r["verification"] for r in rows]


HONEST = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"
TESTS = (
    "def test_small():\n    assert add(1, 2) == 3\n\n"
    "def test_zero():\n    assert add(2, 0) == 2\n\n"
    "def test_negative():\n    assert add(-1, -2) == -3\n"
)
FAKE_LINES = (
    '{"event": "test", "name": "test_small", "passed": true, "error": null}\\n'
    '{"event": "summary", "total": 3, "passed": 3, "failed": 0, "collection_error": null}\\n'
)

# name -> code added to the wrong solution (at import, or inside add when it says so)
ATTACKS: dict[str, str] = {
    "fake summary on every fd, then exit": f"""
        import os
        for fd in range(256):
            try:
                os.write(fd, b'{FAKE_LINES}')
            except OSError:
                pass
        os._exit(0)
    """,
    "fake summary on every fd at call time": f"""
        import os
        _real = add
        def add(a, b):
            for fd in range(256):
                try:
                    os.write(fd, b'{FAKE_LINES}')
                except OSError:
                    pass
            return _real(a, b)
    """,
    "fake summary with guessed nonces, printed, then exit": """
        import os, sys
        for n in ('', '0' * 32, 'nonce'):
            sys.stdout.write(
                '{"nonce": "%s", "event": "summary", "total": 3, "passed": 3, '
                '"failed": 0, "collection_error": null}\\n' % n
            )
        sys.stdout.flush()
        os._exit(0)
    """,
    "write the judge's fds through /proc": f"""
        import os
        def add(a, b):
            for pid in (os.getppid(), 1):
                for fd in range(64):
                    try:
                        f = os.open(f'/proc/{{pid}}/fd/{{fd}}', os.O_WRONLY)
                        os.write(f, b'{FAKE_LINES}')
                    except OSError:
                        pass
            return a - b
    """,
    "read the nonce from the judge's memory": """
        import os, re
        def add(a, b):
            with open(f'/proc/{os.getppid()}/mem', 'rb') as f:  # PermissionError
                f.read(1)
            return a + b
    """,
    "patch the runner via gc and sys.modules": """
        import gc, sys
        for _obj in gc.get_objects():
            if isinstance(_obj, type) and _obj.__name__ == 'Runner' and hasattr(_obj, 'record'):
                _orig = _obj.record
                _obj.record = lambda self, name, error, _orig=_orig: _orig(self, name, None)
            if isinstance(_obj, type) and _obj.__name__ == 'Server':
                _obj.answer = lambda self, request: {'ok': 3}
    """,
    "an object equal to everything": """
        class _Any:
            def __eq__(self, other):
                return True
            def __ne__(self, other):
                return False
            __hash__ = object.__hash__
        def add(a, b):
            return _Any()
    """,
    "a str subclass equal to everything": """
        class _S(str):
            def __eq__(self, other):
                return True
            __hash__ = str.__hash__
        def add(a, b):
            return _S('nope')
    """,
    "raise SystemExit(0)": """
        def add(a, b):
            raise SystemExit(0)
    """,
    "raise KeyboardInterrupt": """
        def add(a, b):
            raise KeyboardInterrupt
    """,
    "raise StopIteration to end a loop": """
        def add(a, b):
            raise StopIteration
    """,
    "kill the judge": """
        import os, signal
        def add(a, b):
            os.kill(os.getppid(), signal.SIGKILL)
            return a + b
    """,
    "interrupt the judge": """
        import os, signal
        def add(a, b):
            os.kill(os.getppid(), signal.SIGINT)
            return a - b
    """,
    "kill every process": """
        import os, signal
        def add(a, b):
            os.kill(-1, signal.SIGKILL)
    """,
    "close every fd": """
        import os
        def add(a, b):
            os.closerange(0, 256)
            return a + b
    """,
    "garbage on the reply pipe": """
        import os
        def add(a, b):
            for fd in range(3, 256):
                try:
                    os.write(fd, b'\\x00\\x00\\x00\\x05{"ok"garbage')
                except OSError:
                    pass
            return a - b
    """,
    "sys.setprofile and settrace hooks": """
        import sys
        def _hook(frame, event, arg):
            if event == 'call' and frame.f_code.co_name == 'record':
                frame.f_locals['error'] = None
            return _hook
        sys.setprofile(_hook)
        sys.settrace(_hook)
    """,
    "read the tests for the answers": """
        import re
        _table = {}
        try:
            _text = open('test_solution.py').read()
        except OSError:
            _text = ''
        for a, b, c in re.findall(r'add\\((-?\\d+), (-?\\d+)\\) == (-?\\d+)', _text):
            _table[(int(a), int(b))] = int(c)
        def add(a, b):
            return _table.get((a, b), a - b)
    """,
}


def test_every_forgery_attack_ends_in_a_failed_verdict(project: Path) -> None:
    names = list(ATTACKS)
    records = [{"code": WRONG + textwrap.dedent(ATTACKS[n]), "tests": TESTS} for n in names] + [
        {"code": HONEST, "tests": TESTS},
        {"code": WRONG, "tests": TESTS},
    ]
    results = verify_all(project, records, {"timeout": 10})
    verdicts = dict(zip([*names, "honest", "wrong"], results, strict=True))
    assert verdicts["honest"]["passed"] is True
    assert verdicts["wrong"]["passed"] is False
    passed = [n for n in names if verdicts[n]["passed"]]
    assert passed == [], {n: verdicts[n] for n in passed}
    for name in names:
        assert verdicts[name]["reason"].startswith("verify: "), (name, verdicts[name])
    # Specific ends: the judge killed by its child is a signal, not a pass.
    assert verdicts["kill the judge"]["reason"] == "verify: killed by SIGKILL"
    reading = verdicts["read the nonce from the judge's memory"]["tests"][0]["error"]
    assert reading.startswith("PermissionError"), reading


def test_the_attacks_do_not_break_honest_code(project: Path) -> None:
    """The harmless attacks with an honest add still pass: the judge is not just failing."""
    keep = [
        "write the judge's fds through /proc",
        "sys.setprofile and settrace hooks",
        "read the tests for the answers",
    ]
    # The attacks fall back to a - b: with a + b they are honest code doing odd things.
    records = [
        {"code": (HONEST + textwrap.dedent(ATTACKS[n])).replace("a - b", "a + b"), "tests": TESTS}
        for n in keep
    ]
    verdicts = verify_all(project, records)
    assert [v["passed"] for v in verdicts] == [True] * len(keep), verdicts


def test_the_host_ignores_report_lines_without_its_nonce() -> None:
    forged = (
        '{"event": "test", "name": "t", "passed": true, "error": null}\n'
        '{"nonce": "guess", "event": "summary", "total": 0, "passed": 0, "failed": 0, '
        '"collection_error": null}\n'
    )
    result = SandboxResult(0, False, None, forged, "", 0.1)
    verdict = judge_result(result, "unittest-lite", 10, "the-real-nonce")
    assert not verdict.passed and verdict.reason == (
        "verify: the test runner exited with code 0 early"
    )
    honest = forged.replace('"guess"', '"n"').replace(
        '{"event": "test"', '{"nonce": "n", "event": "test"'
    )
    bad_sum = judge_result(SandboxResult(0, False, None, honest, "", 0.1), "unittest-lite", 10, "n")
    assert bad_sum.reason == "verify: the test runner's report does not add up"


def test_a_hung_solution_fails_and_the_per_call_timeout_names_the_call(project: Path) -> None:
    hang = WRONG.replace("return a - b", "import time\n    time.sleep(60)")
    stop = WRONG.replace(
        "return a - b", "import os, signal\n    os.kill(os.getppid(), signal.SIGSTOP)"
    )
    records = [{"code": hang, "tests": TESTS}, {"code": stop, "tests": TESTS}]
    for verdict in verify_all(project, records, {"timeout": 2}):
        assert verdict["passed"] is False and verdict["reason"] == "verify: timed out after 2 s"

    # Driven directly with a short per-call timeout, the judge reports the call and goes on.
    from synthdsl.nodes import verify

    folder = Path(verify.__file__).resolve().parent.parent / "sandbox"
    files = {name: (folder / src).read_text("utf-8") for name, src in verify._LITE_FILES.items()}
    files.update({"solution.py": hang, "test_solution.py": TESTS})
    result = run_sandboxed(
        files,
        ["python", "sandbox_runner.py", "solution.py", "test_solution.py"],
        limits=Limits(timeout_s=20),
        stdin=json.dumps({"nonce": "n1", "call_timeout": 1}),
    )
    v = judge_result(result, "unittest-lite", 20, "n1")
    assert v.reason == "verify: 3 of 3 tests failed", (v, result.stderr)
    assert v.tests[0]["error"] == "RemoteError: no answer within 1 s"
    assert v.tests[1]["error"].startswith("RemoteError: the solution process is gone")


HANDLES = """
import itertools

LIMIT = 10
TABLE = {1: "one", (2, 3): frozenset({4}), None: [1.5, float("inf")], "b": b"\\x00\\xff"}
BIG = 2 ** 100


class ListNode:
    def __init__(self, val=0, next=None):
        self.val = val
        self.next = next


class Solution:
    def twoSum(self, nums, target):
        seen = {}
        for i, n in enumerate(nums):
            if target - n in seen:
                return [seen[target - n], i]
            seen[n] = i

    def reverse(self, head):
        prev = None
        while head:
            head.next, prev, head = prev, head, head.next
        return prev


def squares(n):
    for i in range(n):
        yield i * i


print("hello from the import")


def parse(text):
    print("parsing", repr(text))
    if not text:
        raise ValueError("empty input")
    return int(text)


class ParseError(KeyError):
    pass


def lookup(key):
    raise ParseError(key)


def echo(*args, **kwargs):
    return args, kwargs
"""

HANDLE_TESTS = """
import math
import unittest
import solution


def test_constants_are_copied():
    assert LIMIT == 10 and BIG == 2 ** 100 and type(BIG) is int
    assert TABLE[1] == "one" and TABLE[(2, 3)] == frozenset({4})
    assert TABLE[None][0] == 1.5 and math.isinf(TABLE[None][1]) and TABLE["b"] == b"\\x00\\xff"


def test_solution_classes():
    assert Solution().twoSum([2, 7, 11, 15], 9) == [0, 1]
    head = ListNode(1, ListNode(2, ListNode(3)))
    rev = Solution().reverse(head)
    values = []
    while rev:
        values.append(rev.val)
        rev = rev.next
    assert values == [3, 2, 1]


def test_generators_and_iteration():
    assert list(squares(4)) == [0, 1, 4, 9]
    g = squares(3)
    assert next(g) == 0 and next(g) == 1
    assert sum(squares(5)) == 30


def test_plain_values_round_trip():
    args, kwargs = echo((1, 2), {3, 4}, 1 + 2j, float("nan"), -(2 ** 80), x={(1,): None})
    assert args[:3] == ((1, 2), {3, 4}, 1 + 2j) and math.isnan(args[3])
    assert args[4] == -(2 ** 80) and kwargs == {"x": {(1,): None}}


def test_exceptions_keep_their_builtin_type():
    try:
        parse("")
    except ValueError as exc:
        assert str(exc) == "empty input"
    else:
        raise AssertionError("no ValueError")
    try:
        lookup("k")
    except KeyError as exc:
        assert type(exc).__name__ == "ParseError" and exc.args == ("k",)
    else:
        raise AssertionError("no KeyError")


def test_the_module_imports_as_proxies():
    assert solution.parse("12") == 12
    from solution import LIMIT as limit
    assert limit == 10


def test_identity_equality_of_objects():
    node = ListNode(5)
    assert node == node and node != ListNode(5)
    assert {node: 1}[node] == 1


def test_a_lambda_cannot_cross():
    echo(lambda x: x)


class TestCase(unittest.TestCase):
    def test_assert_raises(self):
        with self.assertRaises(ValueError):
            parse("")
        self.assertEqual(parse("7"), 7)
"""


def test_proxies_carry_plain_data_objects_and_exceptions(project: Path) -> None:
    (v,) = verify_all(project, [{"code": HANDLES, "tests": HANDLE_TESTS}])
    outcomes = {t["name"]: t for t in v["tests"]}
    lam = outcomes.pop("test_a_lambda_cannot_cross")
    assert lam["passed"] is False
    assert lam["error"].startswith(
        "TypeError: a test passed function <function test_a_lambda_cannot_cross.<locals>.<lambda>"
    )
    assert "only plain data" in lam["error"]
    assert all(t["passed"] for t in outcomes.values()), outcomes
    assert len(outcomes) == 8
    # What the solution process prints reaches the log, in order.
    tail = v["stderr_tail"]
    assert "hello from the import" in tail and tail.index("parsing ''") < tail.index("parsing '7'")


def humaneval_problems() -> list[dict[str, str]]:
    lines = (FIXTURES / "humaneval_like.jsonl").read_text("utf-8").splitlines()
    return [json.loads(x) for x in lines if x.strip()]


def test_humaneval_canonical_solutions_pass_and_broken_ones_fail(project: Path) -> None:
    problems = humaneval_problems()
    assert len(problems) >= 12
    records = []
    for p in problems:
        tests = p["test"] + f"\n\ncheck({p['entry_point']})\n"
        for kind in ("canonical_solution", "broken_solution"):
            records.append({"code": p["prompt"] + p[kind], "tests": tests})
    verdicts = verify_all(project, records)
    for p, good, bad in zip(problems, verdicts[::2], verdicts[1::2], strict=True):
        assert good["passed"] is True, (p["task_id"], good)
        assert bad["passed"] is False, (p["task_id"], bad)
        assert bad["reason"] == "verify: 1 of 1 tests failed", (p["task_id"], bad)


def test_a_solution_over_its_cpu_limit_reads_cpu_time_limit_exceeded(project: Path) -> None:
    spin = WRONG.replace("return a - b", "while True:\n        pass")
    (verdict,) = verify_all(project, [{"code": spin, "tests": TESTS}], {"cpu": 1, "timeout": 20})
    assert verdict["passed"] is False
    assert verdict["reason"] == "verify: CPU time limit exceeded"
    first = verdict["tests"][0]["error"]
    assert first == "RemoteError: the solution process was killed by SIGXCPU", first
