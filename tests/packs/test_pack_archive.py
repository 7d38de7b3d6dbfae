"""Hostile archives are refused, naming the member, and nothing lands outside the folder."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest
from packtools import add_bytes

from synthdsl.packs.archive import extract_archive
from synthdsl.packs.errors import PackError
from synthdsl.packs.limits import DEFAULT_LIMITS


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _tar(path: Path, build: list[tarfile.TarInfo | tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for item in build:
            if isinstance(item, tuple):
                add_bytes(tf, *item)
            else:
                tf.addfile(item)
    return path


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def _refused(archive: Path, tmp_path: Path, match: str) -> None:
    dest = tmp_path / "dest"
    dest.mkdir(exist_ok=True)
    with pytest.raises(PackError, match=match):
        extract_archive(archive, dest)
    # nothing outside the destination: the archive's folder holds only the archive
    assert sorted(p.name for p in archive.parent.iterdir()) == sorted([archive.name, "dest"])


def test_a_plain_tarball_extracts(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "a.tgz",
        [("p/pack.yaml", b"name: x\n"), ("p/data/a.txt", b"a"), _link("p/data/b.txt", "a.txt")],
    )
    dest = tmp_path / "dest"
    dest.mkdir()
    extract_archive(archive, dest)
    assert _files(dest) == ["p/data/a.txt", "p/data/b.txt", "p/pack.yaml"]
    link = dest / "p/data/b.txt"
    assert not link.is_symlink() and link.read_bytes() == b"a"  # an inside link is a copy
    assert stat.S_IMODE(link.stat().st_mode) == 0o644


@pytest.mark.parametrize(
    ("member", "match"),
    [
        (("../evil.txt", b"x"), r"member '../evil.txt' leads outside the pack"),
        (("p/../../evil.txt", b"x"), r"member 'p/../../evil.txt' leads outside"),
        (("/tmp/evil.txt", b"x"), r"member '/tmp/evil.txt' has an absolute path"),
        (_link("p/link", "../../outside"), r"link 'p/link' -> '../../outside' points outside"),
        (_link("p/abs", "/etc/passwd"), r"link 'p/abs' -> '/etc/passwd' points to an absolute"),
        (_link("p/hard", "../x", tarfile.LNKTYPE), r"member '../x' leads outside"),
        (_link("p/dangling", "nothing"), r"link 'p/dangling' -> 'p/nothing' leads to nothing"),
    ],
)
def test_escaping_members_are_refused(
    tmp_path: Path, member: tarfile.TarInfo | tuple[str, bytes], match: str
) -> None:
    archive = _tar(tmp_path / "bad.tar.gz", [("p/pack.yaml", b"name: x\n"), member])
    _refused(archive, tmp_path, match)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_device_files_are_refused(tmp_path: Path) -> None:
    dev = tarfile.TarInfo("p/null")
    dev.type = tarfile.CHRTYPE
    fifo = tarfile.TarInfo("p/fifo")
    fifo.type = tarfile.FIFOTYPE
    _refused(_tar(tmp_path / "d.tgz", [dev]), tmp_path, r"member 'p/null' is a device file")
    (tmp_path / "d.tgz").unlink()
    _refused(_tar(tmp_path / "f.tgz", [fifo]), tmp_path, r"member 'p/fifo' is a device file")


def test_too_many_members(tmp_path: Path) -> None:
    n = DEFAULT_LIMITS.max_members + 1
    archive = _tar(tmp_path / "many.tgz", [(f"p/{i}.txt", b"") for i in range(n)])
    _refused(archive, tmp_path, rf"more than {DEFAULT_LIMITS.max_members} members")


def test_a_gzip_bomb_is_stopped_by_the_ratio(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "bomb.tgz", [("p/zeros.bin", bytes(8 * 1024 * 1024))])
    assert archive.stat().st_size < 100_000
    _refused(archive, tmp_path, r"compression ratio past 100:1 .* at member 'p/zeros.bin'")


def test_a_zip_bomb_is_refused_before_extraction(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("p/pack.yaml", "name: x\n")
        zf.writestr("p/zeros.bin", bytes(8 * 1024 * 1024))
    _refused(archive, tmp_path, r"member 'p/zeros.bin' has a compression ratio past 100:1")
    assert not (tmp_path / "dest" / "p" / "zeros.bin").exists()


def test_zip_slip_and_zip_symlinks(tmp_path: Path) -> None:
    slip = tmp_path / "slip.zip"
    with zipfile.ZipFile(slip, "w") as zf:
        zf.writestr("p/pack.yaml", "name: x\n")
        zf.writestr("../../slipped.txt", "x")
    _refused(slip, tmp_path, r"member '../../slipped.txt' leads outside")
    slip.unlink()
    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as zf:
        info = zipfile.ZipInfo("p/secret")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "../../../etc/passwd")
    _refused(link, tmp_path, r"link 'p/secret' -> '../../../etc/passwd' points outside")


def test_duplicates_and_non_archives(tmp_path: Path) -> None:
    dup = _tar(tmp_path / "dup.tgz", [("p/a", b"1"), ("p/a", b"2")])
    _refused(dup, tmp_path, r"member 'p/a' appears twice")
    dup.unlink()
    text = tmp_path / "notes.tgz"
    text.write_bytes(b"just text")
    _refused(text, tmp_path, r"not an archive")


def test_a_file_larger_than_the_cap(tmp_path: Path) -> None:
    big = DEFAULT_LIMITS.max_file_bytes + 1
    info = tarfile.TarInfo("p/big.bin")
    info.size = big
    archive = tmp_path / "big.tar"
    with tarfile.open(archive, "w") as tf:
        tf.addfile(info, io.BytesIO(bytes(big)))
    _refused(archive, tmp_path, r"member 'p/big.bin' is larger than")
