"""The sandbox launcher: the script that builds the sandbox and runs one check in it.

Input: run as ``python -I -S launcher.py CFG_FD REPORT_FD`` by ``synthdsl.sandbox.host``:
CFG_FD holds the JSON config (``argv``, ``env``, ``files``, ``collect``, ``stdin``,
``limits``, ``uid``, ``keep``, ``hide``), REPORT_FD receives JSON lines (``{"error": ...}`` when the
sandbox could not be set up, ``{"collected": {name: text}}``). Output: its exit status is
the check's (killed by the same signal when a signal ended the check), or
``ERROR_EXIT`` with an error line when the sandbox could not be set up. Raises nothing:
every failure before the check starts is reported, and the check never runs unisolated.

Standard library only, in this one file: under ``-I -S`` neither synthdsl nor this
folder is importable. The host imports ``WORKDIR`` and ``path_under`` from here and
runs this file by its path.

How it works (guarantees and limits: docs/verify.md). The host starts this file in a
new session, with a stripped environment and stdin on /dev/null. The launcher:

1. enters new mount, PID, network, IPC and UTS namespaces (plus a user namespace when it
   is not root); failing that it reports an error and the check does not run (fail
   closed; ``Limits.network`` only skips the network namespace);
2. makes every mount read-only and nosuid, hides directories the sandbox user must not
   see behind empty tmpfs (as root: the ancestors that block the sandbox user from the
   interpreter, e.g. ``/root``; as a user: ``$HOME`` and ``/run/user/UID``), re-exposes
   the interpreter's prefixes read-only, and mounts a size-limited tmpfs on /tmp (also
   bound on /var/tmp and /dev/shm): the only writable place;
3. makes itself undumpable (the check, even under the same uid, cannot read the
   config, the check's stdin included, from its memory or fds), then forks PID 1 of
   the new PID namespace, which mounts a fresh /proc, creates the work
   directory ``/tmp/sandbox`` and forks the check: unprivileged uid and gid (when root),
   files written, rlimits (CPU, address space, processes, file size, open files, no
   core), ``no_new_privs``, stdin (a pipe holding ``stdin``, else /dev/null),
   ``execve``. When the check exits, PID 1 reads the collected
   files and exits, and the kernel kills every process left in the namespace.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import stat
import sys
from typing import Any, NoReturn

__all__ = ["ERROR_EXIT", "WORKDIR", "main", "path_under"]

# Where the check runs, inside the sandbox: fixed, so tracebacks are reproducible.
WORKDIR = "/tmp/sandbox"
ERROR_EXIT = 125  # the launcher's exit code when the sandbox could not be set up
_COLLECT_CAP = 1 << 20  # bytes kept of each collected file

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
_PR_SET_DUMPABLE = 4


def path_under(path: str, parent: str) -> bool:
    """Whether ``path`` is ``parent`` or lies below it (both absolute, no ``..``)."""
    return path == parent or path.startswith(parent.rstrip("/") + "/")


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
        os._exit(ERROR_EXIT)

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
            if any(path_under(h, c) for c in [*scratch, *hidden]):
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
            if any(path_under(p, c) for c in covered):
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
        # After the uid maps are written (they need a dumpable process); inherited by
        # PID 1, reset by the check's execve.
        if self.libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            self.fail("cannot make the sandbox launcher undumpable (prctl)")
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
        os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else ERROR_EXIT)

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
            self.set_stdin()
            os.execve(argv[0], argv, self.cfg["env"])
        except BaseException as exc:
            self.fail(f"cannot start the check ({argv[0]}): {exc}")

    def set_stdin(self) -> None:
        text = self.cfg.get("stdin")
        if text is None:
            return
        r, w = os.pipe()
        os.write(w, str(text).encode("utf-8"))  # at most 64 KiB (the host checks): no block
        os.close(w)
        os.dup2(r, 0)
        os.close(r)

    def set_limits(self) -> None:
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


def main(args: list[str]) -> NoReturn:
    """Read the config from ``args[0]`` (an fd), report to ``args[1]``, run the check."""
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
    main(sys.argv[1:])
