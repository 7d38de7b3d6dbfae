"""The content hash of a pack folder (synthdsl.packs.hashing)."""

from __future__ import annotations

import os
from pathlib import Path

from synthdsl.packs.hashing import INSTALL_RECORD, content_hash


def test_the_hash_follows_paths_and_bytes(tmp_path: Path) -> None:
    a = tmp_path / "a"
    (a / "sub").mkdir(parents=True)
    (a / "x.txt").write_bytes(b"one")
    (a / "sub" / "y.txt").write_bytes(b"two")
    first = content_hash(a)
    assert first.startswith("sha256:") and len(first) == 7 + 64
    (a / "empty").mkdir()
    (a / INSTALL_RECORD).write_text("{}", "utf-8")
    assert content_hash(a) == first  # empty folders and the install record do not count
    (a / "x.txt").write_bytes(b"One")
    assert content_hash(a) != first
    (a / "x.txt").write_bytes(b"one")
    (a / "sub" / "y.txt").rename(a / "sub" / "z.txt")
    assert content_hash(a) != first  # a renamed file changes it


def test_same_content_same_hash_anywhere(tmp_path: Path) -> None:
    for name in ("p", "q"):
        (tmp_path / name / "d").mkdir(parents=True)
        (tmp_path / name / "d" / "f").write_bytes(b"data")
    assert content_hash(tmp_path / "p") == content_hash(tmp_path / "q")
    os.symlink("f", tmp_path / "q" / "d" / "g")
    (tmp_path / "p" / "d" / "g").write_bytes(b"data")
    assert content_hash(tmp_path / "p") != content_hash(tmp_path / "q")  # a link is not a copy
