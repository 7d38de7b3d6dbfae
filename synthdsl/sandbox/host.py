"""Run untrusted code in a throw-away Linux sandbox: files + argv → ``SandboxResult``.

Input: ``files`` (relative path → text) written into a fresh work directory, an ``argv``
(``argv[0]`` an absolute executable, or a name found on the sandbox ``PATH``) and the
``Limits``. Output: a ``SandboxResult``: exit code or signal, whether the wall-clock
timeout killed it, stdout and stderr (each capped at ``Limits.output_bytes``), the
duration, and the text of the files named in ``collect`` as the check left them.
Errors: ``ValueError`` for an unsafe file name. Whatever the sandboxed code does (crash,
hang, fork bomb, memory hog, writes, connects) is a result, never an exception. A
sandbox that cannot be set up (no namespaces, an interpreter the sandbox user cannot
run) is a result with ``error`` set: an infrastructure problem, not a verdict on the code.

How it works (guarantees and limits: docs/verify.md). The parent starts this very file
as a launcher (``python -I -S sandbox.py CFG_FD REPORT_FD``) in a new session, with a
stripped environment and stdin on /dev/null. The launcher:

1. enters new mount, PID, network, IPC and UTS namespaces (plus a user namespace when it
   is not root); failing that it reports an error and the check does not run (fail
   closed; ``Limits.network`` only skips the network namespace);
2. makes every mount read-only and nosuid, hides directories the sandbox user must not
   see behind empty tmpfs (as root: the ancestors that block the sandbox user from the
   interpreter, e.g. ``/root``; as a user: ``$HOME`` and ``/run/user/UID``), re-exposes
   the interpreter's prefixes read-only, and mounts a size-limited tmpfs on /tmp (also
   bound on /var/tmp and /dev/shm): the only writable place;
3. forks PID 1 of the new PID namespace, which mounts a fresh /proc, creates the work
   directory ``/tmp/sandbox`` and forks the check: unprivileged uid and gid (when root),
   files written, rlimits (CPU, address space, processes, file size, open files, no
   core), ``no_new_privs``, ``execve``. When the check exits, PID 1 reads the collected
   files and exits, and the kernel kills every process left in the namespace.

On timeout the parent kills the launcher's process group (PID 1 included), which takes
the whole namespace with it. As root every concurrent check runs under its own uid
(``UID_BASE`` + slot, no passwd entry), so one check's processes never count against
another's ``RLIMIT_NPROC`` (root is exempt from that limit, hence the uid change).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NoReturn

__all__ = [
    "UID_BASE",
    "WORKDIR",
    "Limits",
    "SandboxResult",
    "run_sandboxed",
    "run_sandboxed_async",
    "sandbox_env",
]

# Where the check runs, inside the sandbox: fixed, so tracebacks are reproducible.
WORKDIR = "/tmp/sandbox"
# As root, checks run as UID_BASE + (pid % 32768) * 64 + slot: uids with no passwd entry,
# above the ranges distributions, systemd and container tools allocate.
UID_BASE = 1_000_000_000
_SLOTS = 64
_COLLECT_CAP = 1 << 20  # bytes kept of each collected file
_ERROR_EXIT = 125  # the launcher's exit code when the sandbox could not be set up

# Linux constants (include/uapi/linux/sched.h, mount.h, prctl.h).
_CLONE_NEWNS = 0x00020000
_CLONE_NEWUTS = 0x04000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_MS_RDONLY = 1
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_NOEXEC = 8
_MS_REMOUNT = 32
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_SYS_MOUNT_SETATTR = 442  # the same number on every architecture (Linux >= 5.12)
_AT_FDCWD = -100
_AT_RECURSIVE = 0x8000
_MOUNT_ATTR_RDONLY = 0x1
_MOUNT_ATTR_NOSUID = 0x2
_PR_SET_NO_NEW_PRIVS = 38


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


# -- parent side ---------------------------------------------------------------------


def run_sandboxed(
    files: Mapping[str, str],
    argv: Sequence[str],
    *,
    limits: Limits,
    collect: Sequence[str] = (),
) -> SandboxResult:
    """Run one check and wait for it (blocking; from async code use ``run_sandboxed_async``)."""
    return asyncio.run(run_sandboxed_async(files, argv, limits=limits, collect=collect))


async def run_sandboxed_async(
    files: Mapping[str, str],
    argv: Sequence[str],
    *,
    limits: Limits,
    collect: Sequence[str] = (),
) -> SandboxResult:
    """Run one check without blocking the event loop. Cancelling kills the check."""
    _check_names(files, collect)
    if not argv:
        raise ValueError("argv is empty")
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
            os.path.abspath(__file__),
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
    return [p for p in dirs if not any(_under(p, q) and p != q for q in dirs)]


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
    return sorted(h for h in hide if h != "/" and not _under("/tmp", h))


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


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


# -- launcher side (runs as ``python -I -S sandbox.py CFG_FD REPORT_FD``) ------------------


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


class _Launcher:
    def __init__(self, cfg: dict[str, Any], report_fd: int) -> None:
        self.cfg = cfg
        self.report_fd = report_fd
        self.root = os.geteuid() == 0
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.mount.argtypes = [
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_ulong,
            ctypes.c_char_p,
        ]
        self.limits: dict[str, Any] = cfg["limits"]

    def fail(self, message: str) -> NoReturn:
        os.write(self.report_fd, (json.dumps({"error": message}) + "\n").encode("utf-8"))
        os._exit(_ERROR_EXIT)

    def _errno_error(self, what: str) -> OSError:
        err = ctypes.get_errno()
        return OSError(err, f"{what}: {os.strerror(err)}")

    def mount(
        self, source: str | None, target: str, fstype: str | None, flags: int, data: str = ""
    ) -> None:
        enc = [None if s is None else s.encode() for s in (source, target, fstype)]
        if self.libc.mount(enc[0], enc[1], enc[2], flags, data.encode() or None) != 0:
            raise self._errno_error(f"mount {target}")

    # -- 1. namespaces -----------------------------------------------------------------

    def enter_namespaces(self) -> None:
        flags = _CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWIPC | _CLONE_NEWUTS
        if not self.limits["network"]:
            flags |= _CLONE_NEWNET
        uid, gid = os.getuid(), os.getgid()
        if not self.root:
            flags |= _CLONE_NEWUSER
        if self.libc.unshare(flags) != 0:
            err = ctypes.get_errno()
            self.fail(
                f"cannot create the sandbox namespaces: unshare: {os.strerror(err)}. The "
                "verify sandbox needs Linux namespaces: run as root with CAP_SYS_ADMIN, or "
                "as a user where unprivileged user namespaces are enabled "
                "(user.max_user_namespaces > 0). Checks never run unisolated."
            )
        if not self.root:
            for name, text in (
                ("setgroups", "deny"),
                ("uid_map", f"{uid} {uid} 1"),
                ("gid_map", f"{gid} {gid} 1"),
            ):
                with open(f"/proc/self/{name}", "w", encoding="ascii") as f:
                    f.write(text)

    # -- 2. file system ----------------------------------------------------------------

    def _readonly_everywhere(self) -> bool:
        attr = _MountAttr(_MOUNT_ATTR_RDONLY | _MOUNT_ATTR_NOSUID, 0, 0, 0)
        rc = self.libc.syscall(
            ctypes.c_long(_SYS_MOUNT_SETATTR),
            ctypes.c_int(_AT_FDCWD),
            ctypes.c_char_p(b"/"),
            ctypes.c_uint(_AT_RECURSIVE),
            ctypes.byref(attr),
            ctypes.c_size_t(ctypes.sizeof(attr)),
        )
        return int(rc) == 0

    def setup_mounts(self) -> None:
        self.mount(None, "/", None, _MS_REC | _MS_PRIVATE)
        keep: list[str] = self.cfg["keep"]
        hide: list[str] = self.cfg["hide"]
        fds = {p: os.open(p, os.O_PATH | os.O_CLOEXEC) for p in keep if os.path.isdir(p)}
        readonly = self._readonly_everywhere()
        if not readonly and not self.root:
            raise self._errno_error("making the file system read-only (mount_setattr)")
        scratch = ["/tmp"]
        scratch += [
            d for d in ("/var/tmp", "/dev/shm") if os.path.isdir(d) and not os.path.islink(d)
        ]
        hidden: list[str] = []
        for h in sorted(hide, key=lambda p: p.count("/")):
            if any(_under(h, c) for c in [*scratch, *hidden]):
                continue  # already out of sight
            if os.path.isdir(h) and not os.path.islink(h):
                self.mount("tmpfs", h, "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=755,size=1m")
                hidden.append(h)
        size = f"size={int(self.limits['disk_mb'])}m,nr_inodes=16384,mode=1777"
        self.mount("tmpfs", "/tmp", "tmpfs", _MS_NOSUID | _MS_NODEV, size)
        for d in scratch[1:]:
            self.mount("/tmp", d, None, _MS_BIND)
        covered = [*hidden, *scratch]
        for p, fd in sorted(fds.items(), key=lambda kv: kv[0].count("/")):
            if any(_under(p, c) for c in covered):
                os.makedirs(p, mode=0o755, exist_ok=True)
                self.mount(f"/proc/self/fd/{fd}", p, None, _MS_BIND | _MS_REC)
                if not readonly:
                    self.mount(None, p, None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID)
        for h in hidden:
            flags = _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV
            self.mount(None, h, None, flags)
        for fd in fds.values():
            os.close(fd)

    # -- 3. PID 1 and the check ------------------------------------------------------------

    def run(self) -> NoReturn:
        self.enter_namespaces()
        try:
            self.setup_mounts()
        except OSError as exc:
            self.fail(f"cannot set up the sandbox file system: {exc}")
        status_r, status_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(status_r)
            self.pid1(status_w)
        os.close(status_w)
        data = b""
        while chunk := os.read(status_r, 64):
            data += chunk
        os.waitpid(pid, 0)
        if not data:
            self.fail("the sandbox's init process died")
        status = int(data)
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            with contextlib.suppress(OSError, ValueError):
                signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)  # die the same way, so the parent sees the signal
            os._exit(128 + sig)
        os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else _ERROR_EXIT)

    def pid1(self, status_w: int) -> NoReturn:
        try:
            # Without a fresh /proc the host's stays (read-only, as the sandbox uid).
            with contextlib.suppress(OSError):
                self.mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
            os.mkdir(WORKDIR, 0o700)
            uid = self.cfg["uid"]
            if uid is not None:
                os.chown(WORKDIR, uid, uid)
            wd_fd = os.open(WORKDIR, os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            self.fail(f"cannot set up the sandbox: {exc}")
        pid = os.fork()
        if pid == 0:
            os.close(status_w)
            self.exec_check()
        status = 0
        while True:
            try:
                wpid, st = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            if wpid == pid:
                status = st
                break
        collected = self.collect(wd_fd)
        if collected:
            os.write(self.report_fd, (json.dumps({"collected": collected}) + "\n").encode())
        os.write(status_w, str(status).encode())
        os._exit(0)  # the kernel now kills whatever the check left running

    def collect(self, wd_fd: int) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in self.cfg["collect"]:
            try:
                fd = os.open(
                    name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=wd_fd
                )
            except OSError:
                continue
            try:
                if stat.S_ISREG(os.fstat(fd).st_mode):
                    out[name] = os.read(fd, _COLLECT_CAP).decode("utf-8", errors="replace")
            finally:
                os.close(fd)
        return out

    def exec_check(self) -> NoReturn:
        argv: list[str] = self.cfg["argv"]
        try:
            uid = self.cfg["uid"]
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            os.chdir(WORKDIR)
            os.umask(0o022)
            for name, text in self.cfg["files"].items():
                path = os.path.join(WORKDIR, name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
            self.set_limits()
            if self.libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                raise self._errno_error("prctl(PR_SET_NO_NEW_PRIVS)")
            for sig in (signal.SIGPIPE, signal.SIGXFSZ):
                signal.signal(sig, signal.SIG_DFL)
            os.execve(argv[0], argv, self.cfg["env"])
        except BaseException as exc:
            self.fail(f"cannot start the check ({argv[0]}): {exc}")

    def set_limits(self) -> None:
        import resource

        lim = self.limits
        mb = 1024 * 1024
        # As a user, the launcher and PID 1 count in the user namespace too.
        procs = int(lim["max_procs"]) + (0 if self.root else 2)
        cpu = int(lim["cpu_s"])
        for res, soft, hard in (
            (resource.RLIMIT_CPU, cpu, cpu + 1),
            (resource.RLIMIT_AS, int(lim["memory_mb"]) * mb, int(lim["memory_mb"]) * mb),
            (resource.RLIMIT_NPROC, procs, procs),
            (resource.RLIMIT_FSIZE, int(lim["file_size_mb"]) * mb, int(lim["file_size_mb"]) * mb),
            (resource.RLIMIT_NOFILE, 256, 256),
            (resource.RLIMIT_CORE, 0, 0),
        ):
            resource.setrlimit(res, (soft, hard))


def _launcher_main(args: list[str]) -> NoReturn:
    cfg_fd, report_fd = int(args[0]), int(args[1])
    os.set_inheritable(report_fd, False)  # closed when the check execs
    os.lseek(cfg_fd, 0, os.SEEK_SET)
    with os.fdopen(cfg_fd, "rb") as f:
        cfg = json.loads(f.read())
    launcher = _Launcher(cfg, report_fd)
    try:
        launcher.run()
    except Exception as exc:  # anything before the fork: report it, never run unisolated
        launcher.fail(f"sandbox launcher: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    _launcher_main(sys.argv[1:])
