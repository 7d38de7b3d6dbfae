"""unittest-lite, the judge: run a tests file against a solution in another process.

Input (argv): the solution file and the tests file, both in the current directory; on
stdin one JSON line from the host, ``{"nonce": str, "call_timeout": seconds}``. This
file is copied into the sandbox as ``sandbox_runner.py`` (with ``sandbox_remote.py``
and ``sandbox_wire.py`` beside it, imported before anything else runs) and run there as
``python sandbox_runner.py solution.py test_solution.py``. Output: one JSON line per
test on stdout, ``{"nonce", "event": "test", "name", "passed", "error"}``, then
``{"nonce", "event": "summary", "total", "passed", "failed", "collection_error",
"solution_signal"}``; what runs here or in the solution prints to stderr. Exit status:
0 when at least one test ran and all passed, 1 when a test failed, 2 on a collection
error (the solution or the tests do not compile or import; a definition, import or
assignment at the top of the tests raised), 3 when no test was found.

The verdict cannot be forged by the code under test (threat model: docs/verify.md):
the judge never imports the solution. It reads the tests, deletes them from the work
directory, makes itself undumpable (no ptrace, no /proc/PID/mem or fd access by the
same uid), keeps the protocol on a private dup of stdout and only then starts the
solution process (``remote.py``), whose public names become proxies here: plain data
in and out, equality by identity. Only this process knows the nonce the host checks.

What counts as a test, in file order: each other top-level statement of the tests file
(``assert f(1) == 2``, ``check(f)``, a ``for`` loop of asserts), named ``line N: <its
first line>`` (docstrings, ``pass`` and ``if __name__ == "__main__":`` blocks are
skipped); then every ``test*`` function defined by the tests (no arguments: fixtures
are not supported; ``async def`` tests run under ``asyncio.run``); then ``Test*``
classes: ``unittest.TestCase`` subclasses through unittest, plain classes by calling
each ``test*`` method of a fresh instance. A test passes when it returns without an
exception; ``SystemExit`` is a failure.

Standard library only: this file is copied into the sandbox and run as a script.
"""

from __future__ import annotations

import ast
import ctypes
import inspect
import json
import linecache
import os
import signal
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import unittest

if __package__:  # imported as synthdsl.sandbox.judge (type checks, tests)
    from synthdsl.sandbox.remote import SolutionProcess
else:  # run as a script in the sandbox, beside its copies of remote.py and wire.py
    from sandbox_remote import SolutionProcess  # type: ignore[import-not-found,no-redef]

_DEFINITIONS = (
    ast.Import,
    ast.ImportFrom,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Assign,
    ast.AnnAssign,
    ast.AugAssign,
)
_MAX_ERROR = 1000


class _CollectionError(Exception):
    pass


class Runner:
    def __init__(self, out: TextIO, tests_file: str, nonce: str) -> None:
        self.out = out
        self.tests_file = tests_file
        self.nonce = nonce
        self.total = 0
        self.failed = 0

    def emit(self, item: dict[str, Any]) -> None:
        line = json.dumps({"nonce": self.nonce, **item}, ensure_ascii=False)
        self.out.write(line + "\n")
        self.out.flush()

    def record(self, name: str, error: str | None) -> None:
        self.total += 1
        if error is not None:
            self.failed += 1
        self.emit({"event": "test", "name": name, "passed": error is None, "error": error})

    def describe(self, exc: BaseException) -> str:
        """``Type: message``; a bare failed assert shows its source line instead."""
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if isinstance(exc, AssertionError) and not str(exc):
            frames = [
                f for f in traceback.extract_tb(exc.__traceback__) if f.filename == self.tests_file
            ]
            if frames and frames[-1].line:
                text = f"AssertionError: {frames[-1].line.strip()}"
        return text[:_MAX_ERROR]

    def attempt(self, name: str, fn: Callable[[], Any]) -> None:
        try:
            result = fn()
            if inspect.iscoroutine(result):
                import asyncio  # only when needed: the judge starts faster without it

                asyncio.run(result)
        except BaseException as exc:  # a test may raise anything, SystemExit included
            self.record(name, self.describe(exc))
        else:
            self.record(name, None)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()

    def run_module(self, source: str, namespace: dict[str, Any]) -> None:
        try:
            tree = ast.parse(source, self.tests_file)
        except SyntaxError as exc:
            raise _CollectionError(f"tests: SyntaxError: {exc}") from None
        lines = source.splitlines()
        for stmt in tree.body:
            code = compile(ast.Module(body=[stmt], type_ignores=[]), self.tests_file, "exec")
            if isinstance(stmt, _DEFINITIONS):
                try:
                    exec(code, namespace)
                except BaseException as exc:
                    raise _CollectionError(
                        f"tests, line {stmt.lineno}: {self.describe(exc)}"
                    ) from None
                continue
            if _inert(stmt):
                continue
            first = lines[stmt.lineno - 1].strip() if stmt.lineno <= len(lines) else ""
            self.attempt(f"line {stmt.lineno}: {first[:80]}", _exec_fn(code, namespace))

    def run_functions(self, namespace: dict[str, Any], module_name: str) -> None:
        for name, obj in list(namespace.items()):
            if not name.startswith("test") or getattr(obj, "__module__", None) != module_name:
                continue
            if inspect.isfunction(obj):
                if _required_params(obj):
                    self.record(name, "fixtures are not supported by unittest-lite")
                else:
                    self.attempt(name, obj)

    def run_classes(self, namespace: dict[str, Any], module_name: str) -> None:
        for name, obj in list(namespace.items()):
            if not (inspect.isclass(obj) and name.startswith("Test")):
                continue
            if getattr(obj, "__module__", None) != module_name:
                continue
            # Only tests that imported unittest can define a TestCase: no import here.
            ut = sys.modules.get("unittest")
            if ut is not None and issubclass(obj, ut.TestCase):
                for case in ut.defaultTestLoader.loadTestsFromTestCase(obj):
                    assert isinstance(case, ut.TestCase)
                    self.run_case(f"{name}.{case._testMethodName}", case)
                continue
            for attr in sorted(vars(obj)):
                method = getattr(obj, attr)
                if attr.startswith("test") and inspect.isfunction(method):
                    if _required_params(method, skip_self=True):
                        self.record(f"{name}.{attr}", "fixtures are not supported")
                        continue
                    self.attempt(f"{name}.{attr}", _method_fn(obj, attr))

    def run_case(self, name: str, case: unittest.TestCase) -> None:
        result = sys.modules["unittest"].TestResult()
        try:
            case.run(result)
        except BaseException as exc:  # unittest lets KeyboardInterrupt through
            self.record(name, self.describe(exc))
            return
        problems = result.errors + result.failures + result.unexpectedSuccesses
        if problems:
            last = problems[0]
            text = last[1] if isinstance(last, tuple) else "unexpected success"
            self.record(name, text.strip().splitlines()[-1][:_MAX_ERROR])
        elif result.skipped:
            return  # skipped tests neither pass nor fail
        else:
            self.record(name, None)


def _inert(stmt: ast.stmt) -> bool:
    """A docstring, ``pass`` or an ``if __name__ == "__main__":`` block: not a test."""
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
        return True
    if isinstance(stmt, ast.If) and isinstance(stmt.test, ast.Compare):
        names = [stmt.test.left, *stmt.test.comparators]
        return any(isinstance(n, ast.Name) and n.id == "__name__" for n in names)
    return False


def _exec_fn(code: Any, namespace: dict[str, Any]) -> Callable[[], None]:
    def run() -> None:
        exec(code, namespace)

    return run


def _method_fn(cls: type, attr: str) -> Callable[[], Any]:
    def run() -> Any:
        return getattr(cls(), attr)()

    return run


def _required_params(fn: Callable[..., Any], skip_self: bool = False) -> bool:
    params = list(inspect.signature(fn).parameters.values())
    if skip_self and params:
        params = params[1:]
    return any(
        p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        for p in params
    )


_PR_SET_DUMPABLE = 4


def _undumpable() -> None:
    """No process of the same uid may ptrace this one or open its /proc/PID/{mem,fd}."""
    if ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


def _host_settings() -> dict[str, Any]:
    """The host's line on stdin (nonce, per-call timeout); stdin is /dev/null after."""
    raw = sys.stdin.buffer.read(1 << 16)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    try:
        settings = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except ValueError:
        settings = {}
    return settings if isinstance(settings, dict) else {}


def main(argv: list[str]) -> int:
    solution_file, tests_file = argv
    settings = _host_settings()
    _undumpable()
    # SIGINT from the solution process must not raise KeyboardInterrupt inside the judge.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cwd = os.getcwd()
    # Nothing the solution process can write is ever imported here.
    sys.path[:] = [p for p in sys.path if p and os.path.realpath(p) != os.path.realpath(cwd)]
    # The protocol owns the real stdout; whatever runs prints to stderr.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    tests_path = os.path.join(cwd, tests_file)
    runner = Runner(out, tests_path, str(settings.get("nonce", "")))
    module_name = os.path.splitext(os.path.basename(tests_file))[0]
    error: str | None = None
    solution = SolutionProcess(
        os.path.splitext(solution_file)[0], float(settings.get("call_timeout", 3600))
    )
    try:
        try:
            with open(tests_path, encoding="utf-8") as f:
                source = f.read()
        except (OSError, ValueError) as exc:
            raise _CollectionError(f"tests: {runner.describe(exc)}") from None
        # The solution never sees the tests (no lookup table of expected answers);
        # tracebacks still show their lines.
        os.unlink(tests_path)
        linecache.cache[tests_path] = (len(source), None, source.splitlines(True), tests_path)
        try:
            module = solution.start()
        except ImportError as exc:
            raise _CollectionError(str(exc)) from None
        sys.modules[module.__name__] = module
        namespace: dict[str, Any] = {
            k: v for k, v in vars(module).items() if not k.startswith("__")
        }
        namespace.update({"__name__": module_name, "__file__": tests_path})
        runner.run_module(source, namespace)
        runner.run_functions(namespace, module_name)
        runner.run_classes(namespace, module_name)
    except _CollectionError as exc:
        error = str(exc)
    finally:
        solution.close()
    runner.emit(
        {
            "event": "summary",
            "total": runner.total,
            "passed": runner.total - runner.failed,
            "failed": runner.failed,
            "collection_error": error,
            "solution_signal": solution.signal,
        }
    )
    if error is not None:
        return 2
    if runner.failed:
        return 1
    return 0 if runner.total else 3


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no atexit handlers or threads of the code under test
