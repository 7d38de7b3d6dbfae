"""Safe extraction of a pack archive (tar, tar.gz/.tgz, tar.bz2/.xz, zip) into a folder.

Input: the archive file, an empty destination folder and ``Limits``. Output: the
archive's regular files written under the destination (mode 0644, no executable bits),
its folders made; a symbolic or hard link pointing inside the archive becomes a copy of
the file it names. Nothing is extracted by ``tarfile``/``zipfile`` themselves: each member
is checked, then its bytes are copied here while being counted.
Raises ``PackError`` naming the member for: an absolute path or a drive, a ``..``
component, a path too long, a duplicate member, a link leading outside the archive (or
to a folder, or to nothing), a device file or FIFO, more members than allowed, a file
or a total past the size caps, or a compression ratio past the cap (a zip bomb); and
for a file that is no archive. On error the destination may hold part of the archive:
the caller extracts into a temporary folder and removes it (``install.py``).
"""

from __future__ import annotations

import posixpath
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from synthdsl.packs.errors import PackError
from synthdsl.packs.limits import DEFAULT_LIMITS, Limits

__all__ = ["archive_kind", "extract_archive"]


def archive_kind(path: Path) -> str | None:
    """``zip`` or ``tar`` by the file's first bytes (compression included), else None."""
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError:
        return None
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[:2] == b"\x1f\x8b" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00":
        return "tar"
    if head[257:262] == b"ustar":
        return "tar"
    return None


@dataclass
class _Member:
    name: str  # normalized relative POSIX path
    kind: str  # file, dir, link (symbolic, target relative to its folder) or hard
    size: int
    compressed: int | None  # zip only
    target: str = ""


class _Budget:
    def __init__(self, archive: Path, limits: Limits) -> None:
        self.limits = limits
        self.archive = archive
        self.packed = max(archive.stat().st_size, 1)
        self.total = 0

    def add(self, member: str, n: int) -> None:
        self.total += n
        lim = self.limits
        if self.total > lim.max_total_bytes:
            raise PackError(
                f"{self.archive.name}: unsafe archive: expands past {lim.max_total_bytes} "
                f"bytes (at member '{member}')"
            )
        if self.total > lim.ratio_floor_bytes and self.total / self.packed > lim.max_ratio:
            raise PackError(
                f"{self.archive.name}: unsafe archive: compression ratio past "
                f"{lim.max_ratio:g}:1 (a zip bomb?) at member '{member}'"
            )


def _normalize(archive: Path, raw: str, limits: Limits) -> str:
    name = raw.replace("\\", "/") if "\\" in raw else raw
    where = f"{archive.name}: unsafe archive: member '{raw}'"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise PackError(f"{where} has an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise PackError(f"{where} leads outside the pack ('..')")
    if len(name) > limits.max_path_length:
        raise PackError(f"{where} has a path longer than {limits.max_path_length} characters")
    return "/".join(parts)


def _link_inside(archive: Path, member: str, target: str) -> str:
    where = f"{archive.name}: unsafe archive: link '{member}' -> '{target}'"
    if target.startswith("/") or (len(target) > 1 and target[1] == ":"):
        raise PackError(f"{where} points to an absolute path")
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(member), target))
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        raise PackError(f"{where} points outside the pack")
    return joined


def _tar_members(
    archive: Path, tf: tarfile.TarFile, limits: Limits
) -> Iterator[tuple[_Member, tarfile.TarInfo]]:
    for info in tf:
        name = _normalize(archive, info.name, limits)
        if info.isdir():
            yield _Member(name, "dir", 0, None), info
        elif info.isreg():
            yield _Member(name, "file", info.size, None), info
        elif info.issym():
            yield _Member(name, "link", 0, None, _link_inside(archive, name, info.linkname)), info
        elif info.islnk():
            target = _normalize(archive, info.linkname, limits)
            yield _Member(name, "hard", 0, None, target), info
        else:
            raise PackError(
                f"{archive.name}: unsafe archive: member '{info.name}' is a device file or FIFO"
            )


def _zip_members(
    archive: Path, zf: zipfile.ZipFile, limits: Limits
) -> Iterator[tuple[_Member, zipfile.ZipInfo]]:
    for info in zf.infolist():
        name = _normalize(archive, info.filename, limits)
        mode = info.external_attr >> 16
        if info.is_dir():
            yield _Member(name, "dir", 0, None), info
        elif stat.S_ISLNK(mode):
            target = zf.read(info)[:4096].decode("utf-8", "replace")
            yield _Member(name, "link", 0, None, _link_inside(archive, name, target)), info
        elif stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # 0: written without a type
            raise PackError(
                f"{archive.name}: unsafe archive: member '{info.filename}' is a device file or FIFO"
            )
        else:
            yield _Member(name, "file", info.file_size, info.compress_size), info


def _copy(src: IO[bytes], dest: Path, member: str, budget: _Budget, archive: Path) -> None:
    lim = budget.limits
    written = 0
    with dest.open("xb") as out:
        while chunk := src.read(1 << 16):
            written += len(chunk)
            if written > lim.max_file_bytes:
                raise PackError(
                    f"{archive.name}: unsafe archive: member '{member}' is larger than "
                    f"{lim.max_file_bytes} bytes"
                )
            budget.add(member, len(chunk))
            out.write(chunk)
    dest.chmod(0o644)


def extract_archive(archive: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Extract ``archive`` into ``dest`` safely (see the module docstring)."""
    kind = archive_kind(archive)
    if kind is None:
        raise PackError(f"{archive}: not an archive synthdsl can read (tar, tar.gz, zip)")
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                _extract(archive, dest, limits, _zip_members(archive, zf, limits), zf.open)
        else:
            with tarfile.open(archive, "r:*") as tf:

                def opener(info: tarfile.TarInfo) -> IO[bytes]:
                    fh = tf.extractfile(info)
                    assert fh is not None  # a regular file always has a reader
                    return fh

                _extract(archive, dest, limits, _tar_members(archive, tf, limits), opener)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        if isinstance(exc, FileExistsError):
            raise PackError(
                f"{archive.name}: unsafe archive: member '{exc.filename}' appears twice"
            ) from None
        raise PackError(f"{archive.name}: damaged archive: {exc}") from None


def _extract(
    archive: Path,
    dest: Path,
    limits: Limits,
    members: Iterator[tuple[_Member, Any]],
    opener: Callable[[Any], IO[bytes]],
) -> None:
    budget = _Budget(archive, limits)
    files: set[str] = set()
    dirs: set[str] = set()
    links: dict[str, _Member] = {}
    count = 0
    for member, info in members:
        count += 1
        if count > limits.max_members:
            raise PackError(
                f"{archive.name}: unsafe archive: more than {limits.max_members} members "
                f"(at '{member.name}')"
            )
        if not member.name:
            continue
        if member.name in files or member.name in links:
            raise PackError(f"{archive.name}: unsafe archive: member '{member.name}' appears twice")
        if (
            member.compressed is not None
            and member.size > limits.ratio_floor_bytes
            and member.size / max(member.compressed, 1) > limits.max_ratio
        ):
            raise PackError(
                f"{archive.name}: unsafe archive: member '{member.name}' has a compression "
                f"ratio past {limits.max_ratio:g}:1 (a zip bomb?)"
            )
        if member.size > limits.max_file_bytes:
            raise PackError(
                f"{archive.name}: unsafe archive: member '{member.name}' is larger than "
                f"{limits.max_file_bytes} bytes"
            )
        target = dest / member.name
        if member.kind == "dir":
            dirs.add(member.name)
            target.mkdir(parents=True, exist_ok=True)
        elif member.kind == "file":
            _no_file_parent(archive, member.name, files)
            target.parent.mkdir(parents=True, exist_ok=True)
            with opener(info) as src:
                _copy(src, target, member.name, budget, archive)
            files.add(member.name)
        else:
            links[member.name] = member
    for name, link in sorted(links.items()):
        resolved = link.target
        for _ in range(16):
            if resolved not in links:
                break
            nxt = links[resolved]
            resolved = nxt.target
        if resolved not in files:
            what = "a folder" if resolved in dirs else "nothing in the archive"
            raise PackError(
                f"{archive.name}: unsafe archive: link '{name}' -> '{link.target}' leads to {what}"
            )
        _no_file_parent(archive, name, files)
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        size = (dest / resolved).stat().st_size
        budget.add(name, size)
        shutil.copyfile(dest / resolved, dest / name)
        (dest / name).chmod(0o644)
        files.add(name)


def _no_file_parent(archive: Path, name: str, files: set[str]) -> None:
    parts = name.split("/")
    for i in range(1, len(parts)):
        if "/".join(parts[:i]) in files:
            raise PackError(f"{archive.name}: unsafe archive: member '{name}' is inside a file")
