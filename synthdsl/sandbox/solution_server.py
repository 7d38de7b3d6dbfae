"""The solution process: import the code under test and answer the judge's calls.

Input (argv): the request and reply pipe fds, the solution's module name and the
judge's import path, as the judge (``judge.py``) starts it inside the sandbox:
``python -S sandbox_solution.py REQ_FD REPLY_FD solution PATH``, with stdout and stderr
on the judge's stderr, stdin on /dev/null, a clean environment and no other fds.
Output: frames on REPLY_FD (``sandbox_wire``): first ``{"ready": [[name, value], ...]}``
(the module's public names: plain constants as data, everything else as handles) or
``{"import_error": text}``; then one reply per request, ``{"ok": value}`` or
``{"err": [builtin base name, type name, args or None, text]}``.

Requests: ``{"op": "call" | "getattr" | "setattr" | "unary" | "getitem" | "setitem" |
"delitem" | "contains", "h": handle id, ...}``; ``unary`` applies one of ``len``,
``iter``, ``next``, ``bool``, ``repr``, ``str``. Non-plain results are kept in a table
and sent as handles (the same object, the same handle). Exits when the request pipe
closes. Raises nothing: what the solution raises (``SystemExit`` included) is a reply.

Nothing here is trusted by the judge: it reads plain data only, so a solution that
patches this file's code in memory can change what it answers, never the verdict.

Standard library only: copied into the sandbox as ``sandbox_solution.py``.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

if __package__:  # imported as synthdsl.sandbox.solution_server (type checks, tests)
    from synthdsl.sandbox import wire
else:  # run as a script in the sandbox, beside its copy of wire.py
    import sandbox_wire as wire  # type: ignore[import-not-found,no-redef]

__all__ = ["Server", "builtin_base", "main"]

_MAX_TEXT = 1000
_UNARY: dict[str, Callable[[Any], Any]] = {
    "len": len,
    "iter": iter,
    "next": next,
    "bool": bool,
    "repr": repr,
    "str": str,
}


def builtin_base(exc_type: type[BaseException]) -> str | None:
    """The name of the nearest builtin exception class ``exc_type`` derives from."""
    for cls in exc_type.__mro__:
        if getattr(builtins, cls.__name__, None) is cls:
            return str(cls.__name__)
    return None


class Server:
    def __init__(self, req_fd: int, reply_fd: int) -> None:
        self.req_fd = req_fd
        self.reply_fd = reply_fd
        self.objects: dict[int, Any] = {}  # handle id -> object (kept alive)
        self.ids: dict[int, int] = {}  # id(object) -> handle id

    def register(self, obj: Any) -> dict[str, Any]:
        key = id(obj)
        hid = self.ids.get(key)
        if hid is None:
            hid = len(self.objects) + 1
            self.objects[hid] = obj
            self.ids[key] = hid
        return {"$": "handle", "id": hid, "type": type(obj).__name__, "call": callable(obj)}

    def lookup(self, tree: dict[str, Any]) -> Any:
        hid = tree.get("id")
        if type(hid) is not int or hid not in self.objects:
            raise wire.WireError(f"unknown handle {hid!r}")
        return self.objects[hid]

    def send(self, message: Any) -> None:
        wire.write_frame(self.reply_fd, message)

    def ready(self, module: Any) -> None:
        names = []
        for name, value in list(vars(module).items()):
            if name.startswith("__"):
                continue
            names.append([name, wire.encode(value, self.register)])
        self.send({"ready": names})

    def serve(self) -> None:
        while True:
            try:
                request = wire.read_frame(self.req_fd)
            except (EOFError, OSError, wire.WireError):
                return
            reply = self.answer(request)
            _flush()  # what the solution printed reaches the log before its answer
            try:
                self.send(reply)
            except ValueError as exc:  # too large to send
                self.send(self.error(exc))

    def answer(self, req: Any) -> dict[str, Any]:
        try:
            result = self.perform(req)
            return {"ok": wire.encode(result, self.register)}
        except BaseException as exc:  # whatever the solution raises is an answer
            return self.error(exc)

    def perform(self, req: Any) -> Any:
        if type(req) is not dict:
            raise wire.WireError("a request must be an object")
        op, obj = req.get("op"), self.lookup({"id": req.get("h")})

        def arg(key: str) -> Any:
            return wire.decode(req.get(key), self.lookup)

        if op == "call":
            kwargs = {str(k): wire.decode(v, self.lookup) for k, v in req.get("kw", [])}
            return obj(*arg("args"), **kwargs)
        if op == "getattr":
            return getattr(obj, str(req.get("name")))
        if op == "setattr":
            setattr(obj, str(req.get("name")), arg("value"))
            return None
        if op == "unary":
            return _UNARY[str(req.get("fn"))](obj)
        if op == "getitem":
            return obj[arg("key")]
        if op == "setitem":
            obj[arg("key")] = arg("value")
            return None
        if op == "delitem":
            del obj[arg("key")]
            return None
        if op == "contains":
            return arg("key") in obj
        raise wire.WireError(f"unknown operation {op!r}")

    def error(self, exc: BaseException) -> dict[str, Any]:
        try:
            args: Any = wire.encode(exc.args, _refuse)
        except BaseException:
            args = None
        return {"err": [builtin_base(type(exc)), type(exc).__name__, args, describe(exc)]}


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()


def _refuse(value: Any) -> Any:
    raise TypeError("not plain data")


def describe(exc: BaseException) -> str:
    """``Type: message``, at most 1,000 characters; never raises."""
    try:
        text = str(exc)
    except BaseException:
        text = ""
    name = type(exc).__name__
    return (f"{name}: {text}" if text else name)[:_MAX_TEXT]


def _tail(exc: BaseException, filename: str) -> str:
    """Where in the solution an import failed (the last frame inside it)."""
    if isinstance(exc, SyntaxError):
        return f"line {exc.lineno}: {(exc.text or '').strip()}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(filename)]
    return f"line {frames[-1].lineno}: {frames[-1].line}" if frames else ""


def main(argv: list[str]) -> int:
    req_fd, reply_fd, module_name = int(argv[0]), int(argv[1]), argv[2]
    if len(argv) > 3:  # run with -S: the judge's import path (site-packages included)
        sys.path.extend(p for p in argv[3].split(os.pathsep) if p and p not in sys.path)
    server = Server(req_fd, reply_fd)
    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:
        text = f"solution: {describe(exc)}\n{_tail(exc, module_name + '.py')}"
        _flush()
        server.send({"import_error": text})
        return 0
    _flush()
    try:
        server.ready(module)
    except BaseException as exc:
        server.send({"import_error": f"solution: its names cannot be sent: {describe(exc)}"})
        return 0
    server.serve()
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    _flush()
    os._exit(code)  # no atexit handlers or threads of the code under test
