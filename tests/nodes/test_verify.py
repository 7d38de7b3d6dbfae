"""The ``verify`` kind: option checks, fields, and real sandboxed checks (no mocks).

The sandbox needs Linux namespaces (root, or unprivileged user namespaces); without them
the runner tests are skipped, as in ``tests/test_verify.py``.
"""

from __future__ import annotations

import pytest

from synthdsl.errors import Span
from synthdsl.nodes import node_kind
from synthdsl.nodes.verify import VerifyConfig
from synthdsl.records import derive_id
from synthdsl.sandbox.host import Limits, run_sandboxed

from .kit import (
    FILE,
    FakeEstimator,
    FakeRuntime,
    configure,
    described,
    dropped,
    emitted,
    failed,
    make_node,
    make_records,
    run_map,
)

KIND = node_kind("verify")

SOLUTION = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"
TESTS = (
    "from solution import add\n\n"
    "def test_small():\n    assert add(1, 2) == 3\n\n"
    "def test_zero():\n    assert add(0, 0) == 0\n"
)


def config(options: str = "{}") -> VerifyConfig:
    done = configure(
        f"""
        steps:
          - id: check
            verify: {options}
        """
    )
    assert done.diagnostics == [], done.messages
    cfg: VerifyConfig = done.config
    return cfg


@pytest.fixture
def sandbox() -> None:
    probe = run_sandboxed({}, ["/bin/true"], limits=Limits(timeout_s=10))
    if probe.error is not None:
        pytest.skip(f"no sandbox here: {probe.error}")


def test_configure_defaults_and_options() -> None:
    cfg = config()
    assert (cfg.code, cfg.tests, cfg.language, cfg.runner, cfg.keep, cfg.into) == (
        "code",
        "tests",
        "python",
        "unittest-lite",
        "passed",
        "verification",
    )
    assert (cfg.timeout, cfg.cpu, cfg.memory_mb, cfg.max_procs, cfg.concurrency) == (
        10.0,
        10,
        512,
        16,
        2,
    )
    assert (cfg.group, cfg.network) == (None, "deny")
    custom = config("{code: src, tests: checks, timeout: 2.5, cpu: 1.2, keep: all, group: task}")
    assert (custom.code, custom.tests, custom.timeout, custom.cpu, custom.keep) == (
        "src",
        "checks",
        2.5,
        2,  # CPU seconds round up
        "all",
    )
    limits = custom.limits()
    assert (limits.timeout_s, limits.cpu_s, limits.network) == (2.5, 2, False)


def test_an_unsupported_language_is_an_error_at_its_value() -> None:
    done = configure(
        """
        steps:
          - id: check
            verify:
              language: ruby
        """
    )
    assert done.at("verify: language 'ruby' is not supported; only 'python' is") == Span(
        FILE, 4, 17
    )


def test_read_fields_point_at_their_keys_or_the_step() -> None:
    cfg = config("{tests: checks, group: task}")
    assert KIND.read_fields(cfg) == [
        ("code", Span(FILE, 3, 13)),  # not written: the step's config
        ("checks", Span(FILE, 3, 21)),
        ("task", Span(FILE, 3, 36)),
    ]
    assert KIND.output_fields(cfg, ["verification", "code"]) == ["code", "verification"]
    assert KIND.supports_when(cfg) is False  # pass@k over groups needs every sample
    assert KIND.supports_when(config("{tests: checks}")) is True


def test_estimate_and_describe() -> None:
    kept = config("{keep: all, group: task}")
    est = KIND.estimate(make_node("verify", kept), 5, FakeEstimator())
    assert (est.records, est.exact) == (5, True)  # keep: all emits every record
    assert KIND.estimate(make_node("verify", config()), 5, FakeEstimator()).exact is False
    summary = described(KIND, kept)
    assert (summary["keep"], summary["group"], summary["runner"]) == (
        "all",
        "task",
        "unittest-lite",
    )
    assert "group" not in described(KIND, config())


async def test_fields_that_are_missing_or_not_text_fail_before_the_sandbox() -> None:
    runner = KIND.map_runner(make_node("verify", config("{group: task}"), "check"), FakeRuntime())
    missing, number, no_group = await run_map(
        runner,
        make_records(
            {"tests": TESTS},
            {"code": 1, "tests": TESTS, "task": "t"},
            {"code": SOLUTION, "tests": TESTS},
        ),
    )
    assert (failed(missing).kind, failed(missing).message) == (
        "field",
        "verify: field 'code' is missing",
    )
    assert failed(number).message == "verify: field 'code' is not text (int)"
    assert failed(no_group).message == "verify: group field 'task' is missing"


@pytest.mark.usefixtures("sandbox")
async def test_a_passing_solution_is_emitted_and_a_failing_one_dropped() -> None:
    rt = FakeRuntime()
    runner = KIND.map_runner(make_node("verify", config("{group: task}"), "check"), rt)
    recs = make_records(
        {"code": SOLUTION, "tests": TESTS, "task": "add"},
        {"code": WRONG, "tests": TESTS, "task": "add"},
    )
    good, bad = await run_map(runner, recs)
    (child,) = emitted(good)
    assert child.id == derive_id("check", (recs[0].id,), 0)
    result = child.data["verification"]
    assert result["passed"] is True and result["reason"] is None
    assert sorted(t["name"].rsplit(".", 1)[-1] for t in result["tests"]) == [
        "test_small",
        "test_zero",
    ]
    assert all(t["passed"] for t in result["tests"])
    drop = dropped(bad)
    # a - b: add(1, 2) is -1 (fails), add(0, 0) is 0 (passes).
    assert drop.reason == "verify: 1 of 2 tests failed"
    assert drop.detail is not None and drop.detail["passed"] is False
    assert rt.notes["check"]["verify"] == {
        "checked": 2,
        "passed": 1,
        "timed_out": 0,
        "pass_rate": 0.5,
    }
    # One problem, two samples, one correct: pass@1 = 1/2, pass@2 = 1.
    assert rt.notes["check"]["pass_at_k"] == {
        "groups": 1,
        "samples": 2,
        "pass@1": 0.5,
        "pass@k": 1.0,
        "k": 2,
    }


@pytest.mark.usefixtures("sandbox")
async def test_keep_all_annotates_a_failure_instead_of_dropping_it() -> None:
    rt = FakeRuntime()
    runner = KIND.map_runner(make_node("verify", config("{keep: all, into: v}"), "check"), rt)
    (outcome,) = await run_map(runner, make_records({"code": "syntax error(", "tests": TESTS}))
    (child,) = emitted(outcome)
    assert child.data["v"]["passed"] is False
    assert child.data["v"]["reason"] == "verify: collection error"
    assert "pass_at_k" not in rt.notes["check"]
