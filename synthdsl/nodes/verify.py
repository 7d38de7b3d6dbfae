"""The ``verify`` node: run generated code against its tests in a sandbox.

Input: records with a code field (default ``code``) and a tests field (default
``tests``). Each record is one sandboxed check (``synthdsl.sandbox.host``): the code is
``solution.py``, the tests ``test_solution.py``, run by ``unittest-lite`` (the default,
``synthdsl/sandbox/judge.py``, standard library only, which drives the solution in a
separate process and signs its report with a per-check nonce) or ``pytest``. Output: the record
plus ``into`` (default ``verification``): ``{passed, tests: [{name, passed, error}],
exit_code, timed_out, duration_s, stderr_tail, reason, error}``. With ``keep: passed`` (the
default) failing code is a recorded drop (``verify: 2 of 5 tests failed``, ``verify:
timed out after 10 s``, ``verify: collection error``, ...) whose detail is that object;
``keep: all`` annotates and emits every record. With ``group: <field>`` the manifest
gets pass@1 and pass@k over the groups (the k samples of one problem). The notes are a
tally of the outcomes (``Tallying``): the checks may run on Ray workers, the tally is
made where the accounting is.

Errors: configuration problems are compile-time diagnostics (a language other than
python, ``runner: pytest`` without pytest installed); a sandbox that cannot run (no
namespaces) fails the record, kind ``sandbox``; a code or tests field that is missing
or not text fails the record, kind ``field``. ``runner: pytest`` without pytest at run
time stops the run (``RunError``).
"""

from __future__ import annotations

import importlib.util
import json
import math
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthdsl.errors import RunError, Span
from synthdsl.nodes.base import (
    CheckContext,
    Drop,
    Emit,
    Estimate,
    Estimator,
    Fail,
    MapRunner,
    NodeKind,
    Outcome,
    Runtime,
)
from synthdsl.records import Record, canonical_json
from synthdsl.sandbox.host import Limits, SandboxResult, run_sandboxed_async

if TYPE_CHECKING:
    from synthdsl.ir import Node

__all__ = ["KIND", "Verdict", "VerifyConfig", "judge_result", "pass_at_k", "pytest_available"]

LANGUAGES = ("python",)
RUNNERS = ("unittest-lite", "pytest")
SOLUTION_FILE = "solution.py"
TESTS_FILE = "test_solution.py"
RUNNER_FILE = "sandbox_runner.py"
# unittest-lite's files: the judge and the modules it and the solution process import.
_LITE_FILES = {
    RUNNER_FILE: "judge.py",
    "sandbox_remote.py": "remote.py",
    "sandbox_wire.py": "wire.py",
    "sandbox_solution.py": "solution_server.py",
}
REPORT_FILE = "report.xml"
_STDERR_TAIL = 2000
_OUTPUT_CAP = 1 << 20  # stdout carries unittest-lite's report: room for thousands of tests


@dataclass
class VerifyConfig:
    code: str
    code_span: Span
    tests: str
    tests_span: Span
    language: str
    runner: str
    timeout: float
    cpu: int
    memory_mb: int
    max_procs: int
    into: str
    keep: str
    concurrency: int
    group: str | None
    group_span: Span | None
    network: str

    def limits(self) -> Limits:
        return Limits(
            timeout_s=self.timeout,
            cpu_s=self.cpu,
            memory_mb=self.memory_mb,
            max_procs=self.max_procs,
            output_bytes=_OUTPUT_CAP,
            network=self.network == "allow",
        )


def pytest_available() -> bool:
    """Whether ``runner: pytest`` can work: pytest importable by this interpreter."""
    return importlib.util.find_spec("pytest") is not None


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k of one problem: ``1 - C(n-c, k) / C(n, k)`` (Chen et al. 2021).

    ``n`` samples, ``c`` of them correct, ``1 <= k <= n``.
    """
    if not 1 <= k <= n:
        raise ValueError(f"pass@k needs 1 <= k <= n (k={k}, n={n})")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


# -- reading what the runner reported ------------------------------------------------------


def _parse_lite(
    stdout: str, nonce: str | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The judge's lines: only those carrying this check's nonce count, up to the summary."""
    tests: list[dict[str, Any]] = []
    summary: dict[str, Any] | None = None
    for line in stdout.splitlines():
        if not line.startswith('{"nonce"'):
            continue
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if not isinstance(item, dict) or item.get("nonce") != nonce or summary is not None:
            continue
        if item.get("event") == "test":
            tests.append(
                {
                    "name": str(item.get("name")),
                    "passed": item.get("passed") is True,
                    "error": item.get("error"),
                }
            )
        elif item.get("event") == "summary":
            summary = item
    return tests, summary


def _parse_junit(xml: str | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Per-test outcomes and a summary like unittest-lite's, from pytest's junit xml."""
    import xml.etree.ElementTree as ET

    if not xml:
        return [], None
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return [], None
    tests: list[dict[str, Any]] = []
    collection_error: str | None = None
    prefix = TESTS_FILE.removesuffix(".py")
    for case in root.iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is None and case.find("skipped") is not None:
            continue
        message = None if problem is None else (problem.get("message") or problem.tag)
        if problem is not None and "collection failure" in (message or ""):
            text = (problem.text or "").strip().splitlines()
            collection_error = "\n".join(text[-4:])[:1000] or "collection failure"
            continue
        cls = case.get("classname", "")
        cls = cls[len(prefix) :].lstrip(".") if cls.startswith(prefix) else cls
        name = f"{cls}.{case.get('name')}" if cls else str(case.get("name"))
        tests.append({"name": name, "passed": problem is None, "error": message})
    failed = sum(1 for t in tests if not t["passed"])
    summary = {
        "total": len(tests),
        "passed": len(tests) - failed,
        "failed": failed,
        "collection_error": collection_error,
    }
    return tests, summary


@dataclass
class Verdict:
    """What one finished check means: pass or not, per-test outcomes, why not."""

    passed: bool
    tests: list[dict[str, Any]]
    reason: str | None  # the drop reason: short and stable, counted in the manifest
    error: str | None = None  # the collection error, when there was one


def judge_result(
    result: SandboxResult, runner: str, timeout: float, nonce: str | None = None
) -> Verdict:
    """Read a finished check: the runner's report, its exit status, the limits hit.

    For unittest-lite only report lines carrying ``nonce`` (the secret the host gave
    the judge) count, and the summary must agree with the test lines.
    """
    import signal

    if runner == "pytest":
        tests, summary = _parse_junit(result.collected.get(REPORT_FILE))
    else:
        tests, summary = _parse_lite(result.stdout, nonce)
    error = None if summary is None else summary.get("collection_error")
    error = None if error is None else str(error)

    def fail(reason: str) -> Verdict:
        return Verdict(False, tests, reason, error)

    if result.timed_out:
        return fail(f"verify: timed out after {timeout:g} s")
    if result.signal is not None:
        if result.signal == signal.SIGXCPU:
            return fail("verify: CPU time limit exceeded")
        return fail(f"verify: killed by {result.signal_name()}")
    if summary is None:
        return fail(f"verify: the test runner exited with code {result.exit_code} early")
    if error:
        return fail("verify: collection error")
    total, failed = len(tests), sum(1 for t in tests if not t["passed"])
    if (summary.get("total"), summary.get("failed")) != (total, failed):
        return fail("verify: the test runner's report does not add up")
    if failed and summary.get("solution_signal") == signal.SIGXCPU:
        return fail("verify: CPU time limit exceeded")
    if failed:
        return fail(f"verify: {failed} of {total} tests failed")
    if total == 0:
        return fail("verify: no tests ran")
    if result.exit_code != 0:
        return fail(f"verify: the test runner exited with code {result.exit_code}")
    return Verdict(True, tests, None)


# -- running ---------------------------------------------------------------------------------


class _Runner:
    """``process`` runs one check; ``observe`` tallies the outcomes and ``finish``
    writes the ``verify`` and ``pass_at_k`` notes (``Tallying``), so under the Ray
    executor the checks run on the workers and the tally in the driver."""

    cpu_bound = True  # a check is a local process burning CPU (``MapRunner``)

    def __init__(self, node: Node[VerifyConfig], rt: Runtime) -> None:
        import sys

        self.node = node
        self.rt = rt
        self.cfg = node.config
        cfg = self.cfg
        self.concurrency = max(1, cfg.concurrency)
        self.limits = cfg.limits()
        if cfg.runner == "pytest":
            if not pytest_available():
                raise RunError(
                    f"verify step '{node.id}': runner 'pytest' needs pytest, which this "
                    f"Python ({sys.executable}) cannot import: pip install pytest, "
                    "or use runner: unittest-lite"
                )
            self.argv = [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "--no-header",
                f"--junitxml={REPORT_FILE}",
                *_pytest_autoload_flag(),
                TESTS_FILE,
            ]
            self.collect: tuple[str, ...] = (REPORT_FILE,)
            self.extra_files: dict[str, str] = {}
        else:
            self.argv = [sys.executable, RUNNER_FILE, SOLUTION_FILE, TESTS_FILE]
            self.collect = ()
            folder = Path(__file__).resolve().parent.parent / "sandbox"
            self.extra_files = {
                name: (folder / source).read_text("utf-8") for name, source in _LITE_FILES.items()
            }
        self.groups: dict[str, list[int]] = {}  # group key -> [samples, passed]
        self.counts = {"checked": 0, "passed": 0, "timed_out": 0}

    async def check(self, record: Record) -> Outcome:
        cfg = self.cfg
        texts: list[str] = []
        for name in (cfg.code, cfg.tests):
            value = record.data.get(name)
            if not isinstance(value, str):
                what = (
                    "missing" if name not in record.data else f"not text ({type(value).__name__})"
                )
                return Fail("field", f"verify: field '{name}' is {what}")
            texts.append(value)
        if cfg.group is not None and cfg.group not in record.data:
            return Fail("field", f"verify: group field '{cfg.group}' is missing")
        files = {SOLUTION_FILE: texts[0], TESTS_FILE: texts[1], **self.extra_files}
        nonce: str | None = None
        stdin: str | None = None
        if cfg.runner != "pytest":
            nonce = secrets.token_hex(16)
            # The judge's per-call timeout is the check's: the host's kill comes first, so
            # a hung solution reads "timed out" either way.
            stdin = json.dumps({"nonce": nonce, "call_timeout": cfg.timeout})
        result = await run_sandboxed_async(
            files, self.argv, limits=self.limits, collect=self.collect, stdin=stdin
        )
        if result.error is not None:
            return Fail("sandbox", result.error)
        verdict = judge_result(result, cfg.runner, cfg.timeout, nonce)
        passed, reason = verdict.passed, verdict.reason
        verification = {
            "passed": passed,
            "tests": verdict.tests,
            "exit_code": result.exit_code,
            "timed_out": result.timed_out,
            "duration_s": result.duration_s,
            "stderr_tail": result.stderr[-_STDERR_TAIL:],
            "reason": reason,
            "error": verdict.error,
        }
        if passed or cfg.keep == "all":
            data = {**record.data, cfg.into: verification}
            return Emit([record.child(self.rt.node_key(self.node.id), data)])
        assert reason is not None
        return Drop(reason, verification)

    async def process(self, record: Record) -> Outcome:
        return await self.check(record)

    def observe(self, record: Record, outcome: Outcome) -> None:
        """Count a finished check (``Tallying``): its verification is the emitted
        record's ``into`` field or the drop's detail; a failure was no check."""
        if isinstance(outcome, Emit) and outcome.records:
            verification = outcome.records[0].data.get(self.cfg.into)
        elif isinstance(outcome, Drop):
            verification = outcome.detail
        else:
            return
        if not isinstance(verification, dict):
            return
        passed = verification.get("passed") is True
        self.counts["checked"] += 1
        self.counts["passed"] += int(passed)
        self.counts["timed_out"] += int(verification.get("timed_out") is True)
        group = self.cfg.group
        if group is not None and group in record.data:
            tally = self.groups.setdefault(canonical_json(record.data[group]), [0, 0])
            tally[0] += 1
            tally[1] += int(passed)

    def finish(self) -> None:
        self.write_notes()

    def write_notes(self) -> None:
        checked, passed = self.counts["checked"], self.counts["passed"]
        self.rt.note(
            self.node.id,
            "verify",
            {
                "checked": checked,
                "passed": passed,
                "timed_out": self.counts["timed_out"],
                "pass_rate": round(passed / checked, 4) if checked else None,
            },
        )
        if self.cfg.group is None or not self.groups:
            return
        # by group key, not by the order checks finished in: the sums are the same
        # floats however the records were scheduled (and wherever)
        tallies = [self.groups[key] for key in sorted(self.groups)]
        k = min(n for n, _ in tallies)
        p1 = [pass_at_k(n, c, 1) for n, c in tallies]
        pk = [pass_at_k(n, c, k) for n, c in tallies]
        self.rt.note(
            self.node.id,
            "pass_at_k",
            {
                "groups": len(tallies),
                "samples": sum(n for n, _ in tallies),
                "pass@1": round(sum(p1) / len(p1), 6),
                "pass@k": round(sum(pk) / len(pk), 6),
                "k": k,
            },
        )


def _pytest_autoload_flag() -> list[str]:
    """``--disable-plugin-autoload`` (pytest >= 8.4): only pytest's own plugins load."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        parts = version("pytest").split(".")
        major, minor = int(parts[0]), int(parts[1])
    except (PackageNotFoundError, ValueError, IndexError):
        return []
    return ["--disable-plugin-autoload"] if (major, minor) >= (8, 4) else []


# -- the kind --------------------------------------------------------------------------------


class VerifyKind(NodeKind[VerifyConfig]):
    name = "verify"
    ship_records = True

    def supports_when(self, config: VerifyConfig) -> bool:
        # one record, one check: a record the condition leaves out passes by; not with
        # ``group`` (pass@k needs every sample of a group)
        return config.group is None

    def configure(self, raw: Any, ctx: CheckContext) -> VerifyConfig:
        raw = raw or {}

        def span(key: str) -> Span:
            return ctx.span(key) if key in raw else ctx.span()

        language = str(raw.get("language", "python"))
        if language not in LANGUAGES:
            ctx.error(
                ctx.span("language"),
                f"verify: language '{language}' is not supported; only "
                + ", ".join(f"'{x}'" for x in LANGUAGES)
                + " is",
                "verify runs Python code for now: set language: python",
            )
        runner = str(raw.get("runner", "unittest-lite"))
        if runner == "pytest" and not pytest_available():
            ctx.error(
                ctx.span("runner"),
                "verify: runner 'pytest' needs pytest, which is not installed here",
                "pip install pytest, or use runner: unittest-lite (no dependency)",
            )
        group = raw.get("group")
        return VerifyConfig(
            code=str(raw.get("code", "code")),
            code_span=span("code"),
            tests=str(raw.get("tests", "tests")),
            tests_span=span("tests"),
            language=language,
            runner=runner,
            timeout=float(raw.get("timeout", 10)),
            cpu=math.ceil(float(raw.get("cpu", 10))),
            memory_mb=int(raw.get("memory_mb", 512)),
            max_procs=int(raw.get("max_procs", 16)),
            into=str(raw.get("into", "verification")),
            keep=str(raw.get("keep", "passed")),
            concurrency=int(raw.get("concurrency", 2)),
            group=None if group is None else str(group),
            group_span=None if group is None else ctx.span("group"),
            network=str(raw.get("network", "deny")),
        )

    def read_fields(self, cfg: VerifyConfig) -> list[tuple[str, Span]]:
        fields = [(cfg.code, cfg.code_span), (cfg.tests, cfg.tests_span)]
        if cfg.group is not None and cfg.group_span is not None:
            fields.append((cfg.group, cfg.group_span))
        return fields

    def output_fields(self, cfg: VerifyConfig, upstream: list[str]) -> list[str]:
        return [*[f for f in upstream if f != cfg.into], cfg.into]

    def estimate(self, node: Node[VerifyConfig], n_in: int | None, est: Estimator) -> Estimate:
        cfg = node.config
        return Estimate(records=n_in, exact=cfg.keep == "all")

    def describe(self, cfg: VerifyConfig) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": cfg.code,
            "tests": cfg.tests,
            "language": cfg.language,
            "runner": cfg.runner,
            "timeout": cfg.timeout,
            "cpu": cfg.cpu,
            "memory_mb": cfg.memory_mb,
            "max_procs": cfg.max_procs,
            "into": cfg.into,
            "keep": cfg.keep,
            "concurrency": cfg.concurrency,
            "network": cfg.network,
        }
        if cfg.group is not None:
            out["group"] = cfg.group
        return out

    def map_runner(self, node: Node[VerifyConfig], rt: Runtime) -> MapRunner:
        return _Runner(node, rt)


KIND = VerifyKind()
