"""Fetching a pack SOURCE into a scratch folder, without running anything from it.

Input: the SOURCE text given to ``pack install`` and an empty scratch folder. SOURCE is
one of: a local pack folder; a local archive (``.tar.gz``, ``.tgz``, ``.tar``, ``.zip``;
recognised by content); an ``http(s)://`` URL of such an archive; a git repository at a
tag, branch or commit: ``git+URL@REF``, ``URL.git@REF`` or a local repository folder
``PATH@REF`` (``@REF`` may be left out: the default branch). Output: ``Fetched``: the
folder holding the pack's files and the canonical source the lock records (a local
path made absolute; a git source pinned to the commit it resolved to, so that
``pack install`` with no argument restores the same content).
Git runs as ``git clone`` + ``git archive`` with a restricted set of transports (file,
git, http(s), ssh) and no prompts; the archive goes through ``archive.py``'s checks.
A folder is copied file by file: ``.git`` and ``.synthdsl`` are left out, links must point inside it
(they become copies), device files are refused, the size caps apply.
Raises ``PackError`` (exit 2: a source that does not exist or is not readable as a
pack, an unknown git ref, an unsafe archive or folder) or ``PackFetchError`` (exit 1: a
download or a git command that failed).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from synthdsl.packs.archive import archive_kind, extract_archive
from synthdsl.packs.errors import PackError, PackFetchError
from synthdsl.packs.limits import DEFAULT_LIMITS, Limits

__all__ = ["Fetched", "fetch_source", "parse_git_source"]

_GIT_PROTOCOLS = "file:git:http:https:ssh"
_TIMEOUT = 60.0
_NOT_COPIED = frozenset({".git", ".synthdsl"})  # version control; a project's own store


@dataclass(frozen=True)
class Fetched:
    folder: Path  # where the fetched files are (maybe a pack's parent: see install)
    source: str  # what the lock records


def parse_git_source(source: str) -> tuple[str, str | None] | None:
    """``(repository, ref)`` when ``source`` names a git repository, else None."""
    text = source[4:] if source.startswith("git+") else source
    repo, ref = text, None
    if "@" in text:
        head, _, tail = text.rpartition("@")
        # user@host: in scp-like or URL syntax is not a ref
        if head and "/" not in tail and ":" not in tail:
            repo, ref = head, tail or None
    if source.startswith("git+"):
        return repo, ref
    if repo.endswith(".git") or repo.endswith(".git/"):
        return repo, ref
    local = Path(repo).expanduser()
    if ref is not None and not Path(source).exists() and (local / ".git").exists():
        return str(local.resolve()), ref
    return None


def fetch_source(source: str, scratch: Path, limits: Limits = DEFAULT_LIMITS) -> Fetched:
    """Bring ``source`` into ``scratch`` (see the module docstring)."""
    git = parse_git_source(source)
    if git is not None:
        return _fetch_git(git[0], git[1], scratch, limits)
    if source.startswith(("http://", "https://")):
        archive = scratch / "download"
        _download(source, archive, limits)
        return _from_archive(archive, source, scratch, limits)
    if "://" in source:
        scheme = source.split("://", 1)[0]
        raise PackError(
            f"pack source '{source}': the scheme '{scheme}' is not supported "
            "(give a folder, an archive, an http(s) URL or git+URL@REF)"
        )
    path = Path(source).expanduser()
    if path.is_dir():
        dest = scratch / "files"
        copy_folder(path, dest, limits)
        return Fetched(dest, str(path.resolve()))
    if path.is_file():
        return _from_archive(path, str(path.resolve()), scratch, limits)
    raise PackError(
        f"pack source '{source}' not found "
        "(give a pack folder, a .tar.gz or .zip, an http(s) URL or git+URL@REF)"
    )


def _from_archive(archive: Path, source: str, scratch: Path, limits: Limits) -> Fetched:
    if archive_kind(archive) is None:
        raise PackError(f"pack source '{source}' is not a folder or an archive (tar, tar.gz, zip)")
    dest = scratch / "files"
    dest.mkdir()
    extract_archive(archive, dest, limits)
    return Fetched(dest, source)


def _download(url: str, dest: Path, limits: Limits) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "synthdsl-pack"})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as resp, dest.open("wb") as out:
            total = 0
            while chunk := resp.read(1 << 16):
                total += len(chunk)
                if total > limits.max_download_bytes:
                    raise PackError(
                        f"pack source '{url}': the download is larger than "
                        f"{limits.max_download_bytes} bytes"
                    )
                out.write(chunk)
    except urllib.error.HTTPError as exc:
        raise PackFetchError(f"pack source '{url}': HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PackFetchError(f"pack source '{url}': download failed: {reason}") from None


def _git(args: list[str], what: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": _GIT_PROTOCOLS,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, env=env, timeout=600, check=True
        )
    except FileNotFoundError:
        raise PackFetchError(f"{what}: git is not installed") from None
    except subprocess.TimeoutExpired:
        raise PackFetchError(f"{what}: git timed out") from None
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or "").strip().splitlines()
        raise PackFetchError(f"{what}: git failed: {detail[-1] if detail else exc}") from None


def _fetch_git(repo: str, ref: str | None, scratch: Path, limits: Limits) -> Fetched:
    what = f"pack source '{repo}'" + (f" at '{ref}'" if ref else "")
    if repo.startswith("-"):
        raise PackError(f"{what}: not a repository")
    local = Path(repo).expanduser()
    url = str(local.resolve()) if "://" not in repo and local.exists() else repo
    clone = scratch / "clone"
    _git(["clone", "--quiet", "--no-checkout", "--", url, str(clone)], what)
    try:
        commit = _git(
            ["-C", str(clone), "rev-parse", "--verify", "--quiet", f"{ref or 'HEAD'}^{{commit}}"],
            what,
        ).stdout.strip()
    except PackFetchError:
        raise PackError(f"{what}: no such tag, branch or commit in the repository") from None
    tar = scratch / "git.tar"
    _git(["-C", str(clone), "archive", "--format=tar", "-o", str(tar), commit], what)
    shutil.rmtree(clone, ignore_errors=True)
    dest = scratch / "files"
    dest.mkdir()
    extract_archive(tar, dest, limits)
    tar.unlink()
    return Fetched(dest, f"git+{url}@{commit}")


def copy_folder(src: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Copy a pack folder (see the module docstring); ``PackError`` for what is unsafe."""
    root = src.resolve()
    count = 0
    total = 0
    dest.mkdir(parents=True)
    for folder, dirs, files in os.walk(src, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in _NOT_COPIED)
        here = Path(folder)
        rel_dir = here.relative_to(src)
        for name in sorted([*files, *(d for d in dirs if (here / d).is_symlink())]):
            path = here / name
            rel = (rel_dir / name).as_posix()
            count += 1
            if count > limits.max_members:
                raise PackError(f"{src}: more than {limits.max_members} files")
            mode = path.lstat().st_mode
            real = path
            if stat.S_ISLNK(mode):
                real = path.resolve()
                try:
                    real.relative_to(root)
                except ValueError:
                    raise PackError(
                        f"{src}: unsafe pack: link '{rel}' points outside the pack"
                    ) from None
                if not real.is_file():
                    raise PackError(f"{src}: unsafe pack: link '{rel}' does not lead to a file")
            elif not stat.S_ISREG(mode):
                raise PackError(f"{src}: unsafe pack: '{rel}' is a device file or FIFO")
            size = real.stat().st_size
            total += size
            if size > limits.max_file_bytes:
                raise PackError(f"{src}: '{rel}' is larger than {limits.max_file_bytes} bytes")
            if total > limits.max_total_bytes:
                raise PackError(f"{src}: the pack is larger than {limits.max_total_bytes} bytes")
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(real, target)
            target.chmod(0o644)
        for d in dirs:
            if not (here / d).is_symlink():
                (dest / rel_dir / d).mkdir(parents=True, exist_ok=True)
        dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
