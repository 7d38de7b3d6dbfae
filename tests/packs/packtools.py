"""Helpers for the pack tests: archives and git repositories (packs: helpers.write_pack)."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path


def tar_of(folder: Path, out: Path, prefix: str = "") -> Path:
    """``folder`` as a .tar.gz at ``out``, its files under ``prefix``."""
    with tarfile.open(out, "w:gz") as tf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                tf.add(path, arcname=prefix + path.relative_to(folder).as_posix())
    return out


def add_bytes(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.strip()


def git_repo(folder: Path) -> Path:
    """``folder`` made a git repository with one commit of everything in it."""
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "pack")
    return folder
