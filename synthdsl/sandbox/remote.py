"""The judge's side of the solution process: start it, call it, and proxy what it returns.

Input: the solution's module name and a per-call timeout. ``SolutionProcess.start()``
starts ``sandbox_solution.py`` (``solution_server.py``) as a child with only its two
pipe fds, stdout and stderr on the judge's stderr, stdin on /dev/null and a clean
environment, and returns a module object whose names are the solution's: plain
constants copied, everything else ``Remote`` proxies. Calling a proxy sends plain data
over the pipe and returns plain data (or more proxies). Errors: ``ImportError`` with
the solution's import error text; a call raises what the solution raised: a builtin
exception as itself (``ValueError``, ``SystemExit``, ...), the solution's own class as
a class of the same name deriving from its nearest builtin (``RemoteError`` in place of
``Exception``), with the same arguments when they are plain data. A child that dies,
hangs past the per-call timeout or answers garbage makes that call and every later one
raise ``RemoteError``: never a value.

A ``Remote``'s ``==`` and ``hash`` are identity in the judge, so an object "equal to
everything" cannot pass a comparison; ``len``, ``iter``, ``next``, ``in``, ``[]``,
``bool``, ``repr``, ``str``, attribute access and calls are forwarded. Arguments must
be plain data or proxies (a lambda is a ``TypeError`` saying so).

Standard library only: copied into the sandbox as ``sandbox_remote.py``.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import select
import signal
import subprocess
import sys
import time
import types
from typing import Any

if __package__:  # imported as synthdsl.sandbox.remote (type checks, tests)
    from synthdsl.sandbox import wire
else:  # run in the sandbox, beside its copy of wire.py
    import sandbox_wire as wire  # type: ignore[import-not-found,no-redef]

__all__ = ["Remote", "RemoteError", "SolutionProcess"]

SERVER_FILE = "sandbox_solution.py"
_ENV_KEYS = ("PATH", "HOME", "LANG", "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED")
_STOPPERS = ("StopIteration", "StopAsyncIteration", "GeneratorExit")


class RemoteError(Exception):
    """The solution raised something that is not a builtin exception, or it is gone."""


class SolutionProcess:
    """The child running the solution, and the one pipe pair the judge talks to it on."""

    def __init__(self, module_name: str, call_timeout: float) -> None:
        self.module_name = module_name
        self.call_timeout = call_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.req_w = self.reply_r = -1
        self.gone: str | None = None  # why the child cannot answer any more
        self.signal: int | None = None  # the signal that killed it, if one did
        self.proxies: dict[int, Remote] = {}

    def start(self) -> types.ModuleType:
        req_r, self.req_w = os.pipe()
        self.reply_r, reply_w = os.pipe()
        env = {k: os.environ[k] for k in _ENV_KEYS if k in os.environ}
        try:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-S",  # no site: a faster start; the judge's import path instead
                    SERVER_FILE,
                    str(req_r),
                    str(reply_w),
                    self.module_name,
                    os.pathsep.join(sys.path),
                ],
                stdin=subprocess.DEVNULL,
                stdout=2,
                stderr=2,
                pass_fds=(req_r, reply_w),
                close_fds=True,
                env=env,
            )
        except OSError as exc:  # e.g. max_procs reached, no memory left
            self._fail(f"cannot start the solution process: {exc}")
            raise ImportError(f"solution: {self.gone}") from None
        finally:
            os.close(req_r)
            os.close(reply_w)
        try:
            first = self._receive()
        except RemoteError as exc:
            raise ImportError(f"solution: {exc}") from None
        if type(first) is dict and isinstance(first.get("import_error"), str):
            self.close()
            raise ImportError(first["import_error"])
        if type(first) is not dict or type(first.get("ready")) is not list:
            self._fail("the solution process answered garbage")
            raise ImportError("solution: the solution process answered garbage")
        module = types.ModuleType(self.module_name)
        try:
            for name, tree in first["ready"]:
                setattr(module, str(name), wire.decode(tree, self._proxy))
        except (wire.WireError, TypeError, ValueError) as exc:
            self._fail(f"the solution process answered garbage ({exc})")
            raise ImportError(f"solution: {self.gone}") from None
        return module

    # -- one request, one reply --------------------------------------------------------

    def request(self, message: dict[str, Any], stop_ok: bool = False) -> Any:
        if self.gone is not None:
            raise RemoteError(f"the solution process is gone: {self.gone}")
        try:
            wire.write_frame(self.req_w, message)
        except OSError:
            self._receive()  # it died: say how
            raise RemoteError("the solution process is gone") from None
        reply = self._receive()
        try:
            if type(reply) is dict and "ok" in reply:
                return wire.decode(reply["ok"], self._proxy)
            if type(reply) is dict and type(reply.get("err")) is list and len(reply["err"]) == 4:
                raise _rebuild(reply["err"], stop_ok)
        except wire.WireError as exc:
            self._fail(f"the solution process answered garbage ({exc})")
            raise RemoteError(self.gone) from None
        self._fail("the solution process answered garbage")
        raise RemoteError(self.gone)

    def _receive(self) -> Any:
        deadline = time.monotonic() + self.call_timeout

        def read(fd: int, n: int) -> bytes:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
            return os.read(fd, n)

        try:
            return wire.read_frame(self.reply_r, read)
        except TimeoutError:
            self._fail(f"no answer within {self.call_timeout:g} s")
        except (EOFError, OSError):
            self._fail(self._exit_text())
        except wire.WireError as exc:
            self._fail(f"the solution process answered garbage ({exc})")
        raise RemoteError(self.gone)

    def _exit_text(self) -> str:
        assert self.proc is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=2)
        rc = self.proc.returncode
        if rc is None:
            return "the solution process closed its pipe"
        if rc < 0:
            self.signal = -rc
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            return f"the solution process was killed by {name}"
        return f"the solution process exited with code {rc}"

    def _fail(self, reason: str) -> None:
        if self.gone is None:
            self.gone = reason
        self.close()

    def close(self) -> None:
        """End the child: EOF on its requests lets it exit (and flush), then kill it."""
        for fd in (self.req_w, self.reply_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.req_w = self.reply_r = -1
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=0.5 if self.gone is None else 0)
            with contextlib.suppress(OSError):
                self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=2)
        if self.gone is None:
            self.gone = "closed"

    # -- values ------------------------------------------------------------------------

    def _proxy(self, tree: dict[str, Any]) -> Remote:
        hid = tree.get("id")
        if type(hid) is not int:
            raise wire.WireError("a handle without an id")
        proxy = self.proxies.get(hid)
        if proxy is None:
            proxy = Remote(self, hid, str(tree.get("type")), tree.get("call") is True)
            self.proxies[hid] = proxy
        return proxy

    def send_value(self, value: Any) -> Any:
        return wire.encode(value, self._handle_of)

    def _handle_of(self, value: Any) -> dict[str, Any]:
        if isinstance(value, Remote) and value._remote_owner is self:
            return {"$": "handle", "id": value._remote_id}
        raise TypeError(
            f"a test passed {type(value).__name__} {_short(value)} to the solution: only "
            "plain data (numbers, text, lists, tuples, dicts, sets, bytes) and objects "
            "the solution returned can cross to the solution process"
        )


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        return "?"
    return text if len(text) <= 60 else text[:57] + "..."


_CLASSES: dict[tuple[str, type[BaseException]], type[BaseException]] = {}


def _rebuild(err: list[Any], stop_ok: bool) -> BaseException:
    """The solution's exception as one the tests can catch: a builtin, or a class of the
    same name deriving from its nearest builtin (``RemoteError`` for plain ``Exception``)."""
    base, name, args, text = err
    cls = getattr(builtins, base, None) if isinstance(base, str) else None
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        return RemoteError(str(text))
    if base in _STOPPERS and not stop_ok:
        return RemoteError(str(text))  # a stray StopIteration must not end a test's loop
    if base in ("Exception", "BaseException"):
        cls = RemoteError
    if isinstance(name, str) and name.isidentifier() and name != cls.__name__:
        key = (name, cls)
        if key not in _CLASSES:
            _CLASSES[key] = type(name, (cls,), {"__module__": "solution"})
        cls = _CLASSES[key]
    try:
        values = wire.decode(args, _no_handles) if args is not None else [str(text)]
        return cls(*values) if type(values) is tuple or type(values) is list else cls(str(text))
    except Exception:
        return RemoteError(str(text))


def _no_handles(tree: dict[str, Any]) -> Any:
    raise wire.WireError("a handle inside an exception")


class Remote:
    """An object living in the solution process. Equality and hashing are identity."""

    _remote_owner: SolutionProcess
    _remote_id: int

    def __init__(self, owner: SolutionProcess, hid: int, type_name: str, call: bool) -> None:
        object.__setattr__(self, "_remote_owner", owner)
        object.__setattr__(self, "_remote_id", hid)
        object.__setattr__(self, "_remote_type", type_name)
        object.__setattr__(self, "_remote_call", call)

    def _remote(self, op: str, stop_ok: bool = False, **fields: Any) -> Any:
        owner = self._remote_owner
        message = {"op": op, "h": self._remote_id}
        for key, value in fields.items():
            message[key] = value if key in ("name", "fn") else owner.send_value(value)
        return owner.request(message, stop_ok)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        owner = self._remote_owner
        message = {
            "op": "call",
            "h": self._remote_id,
            "args": owner.send_value(list(args)),
            "kw": [[k, owner.send_value(v)] for k, v in kwargs.items()],
        }
        return owner.request(message)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_remote") or (
            name.startswith("__") and name not in ("__name__", "__qualname__")
        ):
            raise AttributeError(name)
        return self._remote("getattr", name=name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._remote("setattr", name=name, value=value)

    def __len__(self) -> int:
        n = self._remote("unary", fn="len")
        if type(n) is not int or n < 0:
            raise TypeError("the solution's __len__ returned something that is not a size")
        return n

    def __iter__(self) -> Any:
        return self._remote("unary", fn="iter")

    def __next__(self) -> Any:
        return self._remote("unary", stop_ok=True, fn="next")

    def __bool__(self) -> bool:
        return self._remote("unary", fn="bool") is True

    def __contains__(self, key: Any) -> bool:
        return self._remote("contains", key=key) is True

    def __getitem__(self, key: Any) -> Any:
        return self._remote("getitem", key=key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._remote("setitem", key=key, value=value)

    def __delitem__(self, key: Any) -> None:
        self._remote("delitem", key=key)

    def __repr__(self) -> str:
        if self._remote_owner.gone is not None:
            return f"<remote {self._remote_type}>"
        text = self._remote("unary", fn="repr")
        return text if type(text) is str else f"<remote {self._remote_type}>"

    def __str__(self) -> str:
        text = self._remote("unary", fn="str")
        return text if type(text) is str else f"<remote {self._remote_type}>"
