"""unittest-lite: run a tests file against a solution module, inside the sandbox.

Input (argv): the solution file and the tests file, both in the current directory.
This file is copied into the sandbox as ``sandbox_runner.py`` and run there as
``python sandbox_runner.py solution.py test_solution.py``. The solution is imported
as a module named after its file (``solution``), and its public names are visible in
the tests without an import. Output: one JSON line per test on stdout, ``{"event":
"test", "name", "passed", "error"}``, then ``{"event": "summary", "total", "passed",
"failed", "collection_error"}``; what the code under test prints goes to stderr. Exit
status: 0 when at least one test ran and all passed, 1 when a test failed, 2 on a
collection error (the solution or the tests do not compile or import; a definition,
import or assignment at the top of the tests raised), 3 when no test was found.

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
import asyncio
import importlib
import inspect
import json
import os
import sys
import traceback
import unittest
from collections.abc import Callable
from typing import Any, TextIO

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
    def __init__(self, out: TextIO, tests_file: str) -> None:
        self.out = out
        self.tests_file = tests_file
        self.total = 0
        self.failed = 0

    def emit(self, item: dict[str, Any]) -> None:
        self.out.write(json.dumps(item, ensure_ascii=False) + "\n")
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
            if issubclass(obj, unittest.TestCase):
                for case in unittest.defaultTestLoader.loadTestsFromTestCase(obj):
                    assert isinstance(case, unittest.TestCase)
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
        result = unittest.TestResult()
        case.run(result)
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


def main(argv: list[str]) -> int:
    solution_file, tests_file = argv
    cwd = os.getcwd()
    sys.path.insert(0, cwd)
    # The protocol owns the real stdout; the code under test prints to stderr.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    tests_path = os.path.join(cwd, tests_file)
    runner = Runner(out, tests_path)
    module_name = os.path.splitext(os.path.basename(tests_file))[0]
    error: str | None = None
    try:
        try:
            solution = importlib.import_module(os.path.splitext(solution_file)[0])
        except BaseException as exc:
            raise _CollectionError(
                f"solution: {runner.describe(exc)}\n{_tail(exc, solution_file)}"
            ) from None
        namespace: dict[str, Any] = {
            k: v for k, v in vars(solution).items() if not k.startswith("__")
        }
        namespace.update({"__name__": module_name, "__file__": tests_path})
        with open(tests_path, encoding="utf-8") as f:
            source = f.read()
        runner.run_module(source, namespace)
        runner.run_functions(namespace, module_name)
        runner.run_classes(namespace, module_name)
    except _CollectionError as exc:
        error = str(exc)
    runner.emit(
        {
            "event": "summary",
            "total": runner.total,
            "passed": runner.total - runner.failed,
            "failed": runner.failed,
            "collection_error": error,
        }
    )
    if error is not None:
        return 2
    if runner.failed:
        return 1
    return 0 if runner.total else 3


def _tail(exc: BaseException, filename: str) -> str:
    """Where in the solution an import failed (the last frame inside it)."""
    if isinstance(exc, SyntaxError):
        return f"line {exc.lineno}: {(exc.text or '').strip()}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(filename)]
    return f"line {frames[-1].lineno}: {frames[-1].line}" if frames else ""


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no atexit handlers or threads of the code under test
