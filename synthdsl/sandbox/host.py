"""Run untrusted code in a throw-away Linux sandbox: files + argv → ``SandboxResult``.

Input: ``files`` (relative path → text) written into a fresh work directory, an ``argv``
(``argv[0]`` an absolute executable, or a name found on the sandbox ``PATH``), the
``Limits`` and optionally ``stdin`` (text of at most 64 KiB the check reads on its
standard input; /dev/null otherwise). Output: a ``SandboxResult``: exit code or signal,
whether the wall-clock timeout killed it, stdout and stderr (each capped at
``Limits.output_bytes``), the duration, and the text of the files named in ``collect``
as the check left them.
Errors: ``ValueError`` for an unsafe file name. Whatever the sandboxed code does (crash,
hang, fork bomb, memory hog, writes, connects) is a result, never an exception. A
sandbox that cannot be set up (no namespaces, an interpreter the sandbox user cannot
run) is a result with ``error`` set: an infrastructure problem, not a verdict on the code.

This is the host side (guarantees and limits: docs/verify.md): it plans the sandbox
(the environment, the directories to keep readable and to hide), writes the config to a
memfd and starts ``synthdsl/sandbox/launcher.py`` as a script (``python -I -S
launcher.py CFG_FD REPORT_FD``) in a new session, with a stripped environment and stdin
on /dev/null; the launcher builds the namespaces and mounts and runs the check (its
docstring says how). The host reads stdout and stderr, and the report memfd when the
launcher has exited.

On timeout the host kills the launcher's process group (PID 1 included), which takes
the whole namespace with it. As root every concurrent check runs under its own uid
(``UID_BASE`` + slot, no passwd entry), so one check's processes never count against
another's ``RLIMIT_NPROC`` (root is exempt from that limit, hence the uid change).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from synthdsl.sandbox import launcher
from synthdsl.sandbox.launcher import WORKDIR, path_under

__all__ = [
    "UID_BASE",
    "WORKDIR",
    "Limits",
    "SandboxResult",
    "run_sandboxed",
    "run_sandboxed_async",
    "sandbox_env",
]

# As root, checks run as UID_BASE + (pid % 32768) * 64 + slot: uids with no passwd entry,
# above the ranges distributions, systemd and container tools allocate.
UID_BASE = 1_000_000_000
_SLOTS = 64
_STDIN_CAP = 1 << 16  # fits a pipe buffer: the launcher writes it before the check starts


@dataclass(frozen=True)
class Limits:
    """What one check may use. Every limit applies to each check separately."""

    timeout_s: float = 10.0  # wall clock; the whole process tree is killed
    cpu_s: int = 10  # RLIMIT_CPU of each process (SIGXCPU, then SIGKILL one second later)
    memory_mb: int = 512  # RLIMIT_AS (address space) of each process
    max_procs: int = 16  # RLIMIT_NPROC: processes and threads of the check, together
    file_size_mb: int = 16  # RLIMIT_FSIZE: largest file the check may write
    disk_mb: int = 64  # size of the tmpfs holding the work directory and /tmp
    output_bytes: int = 64 * 1024  # stdout and stderr kept, each
    network: bool = False  # True: share the host's network (no network namespace)


@dataclass
class SandboxResult:
    """What happened to one check."""

    exit_code: int | None  # None when a signal ended it
    timed_out: bool
    signal: int | None
    stdout: str
    stderr: str
    duration_s: float
    error: str | None = None  # the sandbox could not run the check (infrastructure)
    collected: dict[str, str] = field(default_factory=dict)
    stdout_truncated: bool = False
    stderr_truncated: bool = False

    @property
    def ok(self) -> bool:
        """The check ran and exited 0 within its limits."""
        return self.error is None and not self.timed_out and self.exit_code == 0

    def signal_name(self) -> str | None:
        if self.signal is None:
            return None
        try:
            return signal.Signals(self.signal).name
        except ValueError:
            return f"signal {self.signal}"


def run_sandboxed(
    files: Mapping[str, str],
    argv: Sequence[str],
    *,
    limits: Limits,
    collect: Sequence[str] = (),
    stdin: str | None = None,
) -> SandboxResult:
    """Run one check and wait for it (blocking; from async code use ``run_sandboxed_async``)."""
    return asyncio.run(
        run_sandboxed_async(files, argv, limits=limits, collect=collect, stdin=stdin)
    )


async def run_sandboxed_async(
    files: Mapping[str, str],
    argv: Sequence[str],
    *,
    limits: Limits,
    collect: Sequence[str] = (),
    stdin: str | None = None,
) -> SandboxResult:
    """Run one check without blocking the event loop. Cancelling kills the check."""
    _check_names(files, collect)
    if not argv:
        raise ValueError("argv is empty")
    if stdin is not None and len(stdin.encode("utf-8")) > _STDIN_CAP:
        raise ValueError(f"stdin of a check is at most {_STDIN_CAP} bytes")
    start = time.monotonic()
    root = os.geteuid() == 0
    uid = _acquire_uid() if root else None
    if root and uid is None:
        return _error_result(start, f"more than {_SLOTS} sandboxes at once")
    cfg_fd = report_fd = -1
    proc: asyncio.subprocess.Process | None = None
    readers: list[asyncio.Future[None]] = []
    try:
        env = sandbox_env()
        exe = _resolve(argv[0], env["PATH"])
        keep = _keep_paths(exe)
        cfg = {
            "argv": [exe, *argv[1:]],
            "env": env,
            "files": dict(files),
            "collect": list(collect),
            "stdin": stdin,
            "limits": asdict(limits),
            "uid": uid,
            "keep": keep,
            "hide": _hide_paths(keep, root),
        }
        cfg_fd = os.memfd_create("synthdsl-sandbox-config")
        os.write(cfg_fd, json.dumps(cfg).encode("utf-8"))
        os.lseek(cfg_fd, 0, os.SEEK_SET)
        report_fd = os.memfd_create("synthdsl-sandbox-report")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-S",
            os.path.abspath(launcher.__file__),
            str(cfg_fd),
            str(report_fd),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            pass_fds=(cfg_fd, report_fd),
            start_new_session=True,
            env=env,
            cwd="/",
        )
        os.close(cfg_fd)
        cfg_fd = -1
        assert proc.stdout is not None and proc.stderr is not None
        out, err = _Capped(limits.output_bytes), _Capped(limits.output_bytes)
        readers += [
            asyncio.ensure_future(out.pump(proc.stdout)),
            asyncio.ensure_future(err.pump(proc.stderr)),
        ]
        timed_out = False
        try:
            await asyncio.wait_for(proc.wait(), limits.timeout_s)
        except asyncio.TimeoutError:
            timed_out = True
            _kill_group(proc)
            await proc.wait()
        # PID 1 is gone, so is every process that could hold the pipes: they end now.
        _done, pending = await asyncio.wait(readers, timeout=2.0)
        for task in pending:
            task.cancel()
        rc = proc.returncode
        assert rc is not None
        report = _read_report(report_fd)
        return SandboxResult(
            exit_code=rc if rc >= 0 else None,
            timed_out=timed_out,
            signal=-rc if rc < 0 else None,
            stdout=out.text(),
            stderr=err.text(),
            duration_s=round(time.monotonic() - start, 3),
            error=report.get("error"),
            collected=report.get("collected", {}),
            stdout_truncated=out.truncated,
            stderr_truncated=err.truncated,
        )
    finally:
        if proc is not None and proc.returncode is None:
            _kill_group(proc)
        for task in readers:
            task.cancel()
        for fd in (cfg_fd, report_fd):
            if fd >= 0:
                os.close(fd)
        if uid is not None:
            _release_uid(uid)


def sandbox_env() -> dict[str, str]:
    """The whole environment of a check: nothing from the caller's environment."""
    venv_bin = os.path.dirname(sys.executable)
    return {
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": WORKDIR,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }


def _check_names(files: Mapping[str, str], collect: Sequence[str]) -> None:
    for name in files:
        parts = name.split("/")
        if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"unsafe sandbox file name {name!r}: use a relative path")
    for name in collect:
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"collected files must be plain names in the work directory: {name!r}")


def _resolve(exe: str, path: str) -> str:
    if os.path.isabs(exe):
        return exe
    for d in path.split(":"):
        cand = os.path.join(d, exe)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return exe  # execve reports it


def _keep_paths(exe: str) -> list[str]:
    """Directories the check needs to read: the interpreter's prefixes (outermost only)."""
    cands: set[str] = set()
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        cands.update({os.path.abspath(p), os.path.realpath(p)})
    for p in (exe, os.path.realpath(exe)):
        cands.add(os.path.dirname(os.path.dirname(os.path.abspath(p))))
    dirs = sorted(p for p in cands if p != "/" and os.path.isdir(p))
    return [p for p in dirs if not any(path_under(p, q) and p != q for q in dirs)]


def _hide_paths(keep: list[str], root: bool) -> list[str]:
    """Directories replaced by an empty tmpfs inside the sandbox."""
    hide: set[str] = set()
    if root:
        # The first ancestor the sandbox user cannot traverse (e.g. /root, mode 700).
        for path in keep:
            parts = path.strip("/").split("/")
            for i in range(1, len(parts)):
                anc = "/" + "/".join(parts[:i])
                try:
                    if not os.stat(anc).st_mode & stat.S_IXOTH:
                        hide.add(anc)
                        break
                except OSError:
                    break
    else:
        # Same uid as the caller: hide what it owns and the sandbox must not read.
        home = os.path.realpath(os.path.expanduser("~"))
        for cand in (home, f"/run/user/{os.getuid()}"):
            if os.path.isdir(cand):
                hide.add(cand)
    return sorted(h for h in hide if h != "/" and not path_under("/tmp", h))


_uid_lock = threading.Lock()
_uids_used: set[int] = set()


def _acquire_uid() -> int | None:
    base = UID_BASE + (os.getpid() % 32768) * _SLOTS
    with _uid_lock:
        for slot in range(_SLOTS):
            if base + slot not in _uids_used:
                _uids_used.add(base + slot)
                return base + slot
    return None


def _release_uid(uid: int) -> None:
    with _uid_lock:
        _uids_used.discard(uid)


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _read_report(fd: int) -> dict[str, Any]:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks: list[bytes] = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    report: dict[str, Any] = {}
    for line in b"".join(chunks).decode("utf-8", errors="replace").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            if "error" in item and "error" not in report:
                report["error"] = str(item["error"])
            if isinstance(item.get("collected"), dict):
                report["collected"] = item["collected"]
    return report


def _error_result(start: float, message: str) -> SandboxResult:
    return SandboxResult(None, False, None, "", "", round(time.monotonic() - start, 3), message)


class _Capped:
    """Reads a stream to its end, keeping the first ``cap`` bytes."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.buf = bytearray()
        self.truncated = False

    async def pump(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(1 << 16):
            room = self.cap - len(self.buf)
            if room > 0:
                self.buf += chunk[:room]
            if len(chunk) > room:
                self.truncated = True

    def text(self) -> str:
        return self.buf.decode("utf-8", errors="replace")
