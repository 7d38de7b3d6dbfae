"""``synthdsl pack install`` from every kind of source, list/show/remove, and the lock."""

from __future__ import annotations

import functools
import http.server
import shutil
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from helpers import write_pack
from packtools import add_bytes, git, git_repo, tar_of

from synthdsl.cli import main
from synthdsl.packs.hashing import content_hash

STORE = Path(".synthdsl/packs")


def _installed(project: Path, name: str = "demo") -> Path:
    folder = project / STORE / name
    assert (folder / "pack.yaml").is_file()
    assert (folder / "recipes" / "questions.yaml").is_file()
    return folder


def _lock(project: Path) -> dict[str, dict[str, str]]:
    data = yaml.safe_load((project / "synthdsl.lock").read_text("utf-8"))
    packs: dict[str, dict[str, str]] = data["packs"]
    return packs


def _no_leftovers(project: Path) -> None:
    store = project / STORE
    assert not store.exists() or not [p for p in store.iterdir() if p.name.startswith(".")]


def test_install_from_a_folder_writes_the_lock(
    project: Path, pack_src: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "install", str(pack_src)]) == 0
    folder = _installed(project)
    lock = _lock(project)
    assert lock == {
        "demo": {"version": "0.1.0", "source": str(pack_src), "hash": content_hash(folder)}
    }
    out = capsys.readouterr().out
    assert "installed demo 0.1.0" in out and "demo/questions" in out
    _no_leftovers(project)
    # the same content again: nothing to do; another version needs --force
    assert main(["pack", "install", str(pack_src)]) == 0
    assert "unchanged" in capsys.readouterr().out
    write_pack(pack_src, version="0.2.0")
    assert main(["pack", "install", str(pack_src)]) == 2
    assert "already installed" in capsys.readouterr().err
    assert main(["pack", "install", str(pack_src), "--force"]) == 0
    assert "installed demo 0.2.0 (was 0.1.0)" in capsys.readouterr().out
    assert _lock(project)["demo"]["version"] == "0.2.0"
    _no_leftovers(project)


def test_install_from_a_tarball_and_a_zip(project: Path, pack_src: Path) -> None:
    tgz = tar_of(pack_src, project / "demo-0.1.0.tar.gz", prefix="demo-0.1.0/")
    assert main(["pack", "install", str(tgz)]) == 0
    first = content_hash(_installed(project))
    assert main(["pack", "remove", "demo"]) == 0
    assert not (project / STORE / "demo").exists()
    assert not (project / "synthdsl.lock").exists()  # the last pack removed
    archive = project / "demo.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(pack_src.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(pack_src).as_posix())
    assert main(["pack", "install", str(archive)]) == 0
    assert content_hash(_installed(project)) == first  # the same files, however they came
    assert _lock(project)["demo"]["source"] == str(archive)


def test_install_from_a_local_git_repository_at_a_tag_and_a_commit(
    project: Path, pack_src: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = git_repo(pack_src)
    git(repo, "tag", "v0.1.0")
    first_commit = git(repo, "rev-parse", "HEAD")
    write_pack(pack_src, version="0.2.0")
    git(repo, "commit", "-qam", "0.2.0")
    assert main(["pack", "install", f"{repo}@v0.1.0"]) == 0
    assert "installed demo 0.1.0" in capsys.readouterr().out
    assert not (_installed(project) / ".git").exists()
    assert _lock(project)["demo"]["source"] == f"git+{repo}@{first_commit}"
    assert main(["pack", "install", f"git+file://{repo}@HEAD", "--force"]) == 0
    assert "installed demo 0.2.0" in capsys.readouterr().out
    assert main(["pack", "install", f"{repo}@{first_commit}", "--force"]) == 0
    assert "installed demo 0.1.0" in capsys.readouterr().out
    assert main(["pack", "install", f"{repo}@no-such-tag"]) == 2
    assert "no such tag, branch or commit" in capsys.readouterr().err
    assert main(["pack", "install", f"git+file://{project}/missing.git@v1"]) == 1
    assert "git failed" in capsys.readouterr().err
    _no_leftovers(project)


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server for a folder: (base URL, folder)."""
    folder = tmp_path / "www"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", folder
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_install_from_a_url(
    project: Path,
    pack_src: Path,
    http_folder: tuple[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    base, www = http_folder
    tar_of(pack_src, www / "demo.tgz")
    assert main(["pack", "install", f"{base}/demo.tgz"]) == 0
    _installed(project)
    assert _lock(project)["demo"]["source"] == f"{base}/demo.tgz"
    assert main(["pack", "install", f"{base}/missing.tgz", "--force"]) == 1
    assert "HTTP 404" in capsys.readouterr().err
    (www / "page.html").write_text("<html></html>", "utf-8")
    assert main(["pack", "install", f"{base}/page.html", "--force"]) == 2
    assert "not a folder or an archive" in capsys.readouterr().err
    _no_leftovers(project)


def test_bad_sources_exit_2_and_install_nothing(
    project: Path, pack_src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "install", str(tmp_path / "nowhere")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["pack", "install", "ftp://example.org/x.tgz"]) == 2
    assert "scheme 'ftp' is not supported" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["pack", "install", str(empty)]) == 2
    assert "no pack.yaml" in capsys.readouterr().err
    # a recipe that does not compile: refused with its position, nothing installed
    recipe = pack_src / "recipes" / "questions.yaml"
    recipe.write_text(recipe.read_text("utf-8").replace("into: question", "inot: question"))
    assert main(["pack", "install", str(pack_src)]) == 2
    err = capsys.readouterr().err
    assert "pack:demo@0.1.0/recipes/questions.yaml:" in err and "inot" in err
    assert "inot: question}" in err  # the pack's line is quoted, though it is not installed
    # a pack for another synthdsl
    write_pack(pack_src)
    manifest = pack_src / "pack.yaml"
    manifest.write_text(manifest.read_text("utf-8").replace('">=0.1"', '">=9"'))
    assert main(["pack", "install", str(pack_src)]) == 2
    assert "supports synthdsl >=9; this is synthdsl" in capsys.readouterr().err
    assert not (project / STORE / "demo").exists()
    _no_leftovers(project)


def test_hostile_archives_leave_nothing_behind(project: Path, tmp_path: Path) -> None:
    evil = tmp_path / "evil.tgz"
    with tarfile.open(evil, "w:gz") as tf:
        add_bytes(tf, "demo/pack.yaml", b"name: demo\n")
        add_bytes(tf, "demo/../../../escaped.txt", b"x")
    assert main(["pack", "install", str(evil)]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [".synthdsl", "evil.tgz"]
    assert list((project / STORE).iterdir()) == []
    assert not list(tmp_path.parent.glob("escaped.txt"))
    _no_leftovers(project)


def test_folder_links_must_stay_inside(
    project: Path, pack_src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s", "utf-8")
    (pack_src / "data" / "leak.txt").symlink_to(secret)
    assert main(["pack", "install", str(pack_src)]) == 2
    assert "link 'data/leak.txt' points outside the pack" in capsys.readouterr().err
    (pack_src / "data" / "leak.txt").unlink()
    (pack_src / "data" / "same.jsonl").symlink_to(pack_src / "data" / "topics.jsonl")
    assert main(["pack", "install", str(pack_src)]) == 0
    copied = _installed(project) / "data" / "same.jsonl"
    assert not copied.is_symlink() and copied.read_text("utf-8").count("topic") == 3


def test_a_bad_manifest_in_an_archive_is_quoted(
    project: Path, pack_src: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = pack_src / "pack.yaml"
    manifest.write_text(manifest.read_text("utf-8").replace("version: 0.1.0", "version: one"))
    tgz = tar_of(pack_src, project / "demo.tgz")
    assert main(["pack", "install", str(tgz)]) == 2
    err = capsys.readouterr().err
    assert f"{tgz}:pack.yaml:3:10: error: 'one' is not a semantic version" in err
    assert "3 | version: one" in err
    _no_leftovers(project)


def test_show_a_folder(project: Path, pack_src: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pack", "show", str(pack_src)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"demo 0.1.0  (folder: {pack_src})") and "hash:     sha256:" in out


def test_user_installs_list_show_remove(
    project: Path, pack_src: Path, user_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "install", str(pack_src), "--user"]) == 0
    assert (user_store / "demo" / "pack.yaml").is_file()
    assert not (project / "synthdsl.lock").exists()  # the lock is the project's
    write_pack(pack_src, version="0.2.0")
    assert main(["pack", "install", str(pack_src)]) == 0
    capsys.readouterr()
    assert main(["pack", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "version", "where", "recipes"]
    assert lines[1].split() == ["demo", "0.2.0", "project", "questions"]
    assert lines[2].split() == ["demo", "0.1.0", "user", "questions", "(shadowed)"]
    assert lines[-1].split()[:3] == ["builtin", "0.1.0", "builtin"]
    assert main(["pack", "show", "demo"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("demo 0.2.0  (project: ")
    assert f"source:   {pack_src}" in shown and "hash:     sha256:" in shown
    assert "demo/questions" in shown
    assert "style      enum     'short'  short, detailed" in shown
    assert "min_words  integer  3        1..50" in shown
    assert main(["pack", "remove", "demo"]) == 0
    assert main(["pack", "show", "demo"]) == 0
    assert capsys.readouterr().out.split("\n", 1)[0].startswith("removed demo 0.2.0")
    assert main(["pack", "remove", "demo", "--user"]) == 0
    assert main(["pack", "remove", "demo"]) == 2
    assert "pack 'demo' is not installed" in capsys.readouterr().err
    assert main(["pack", "show", "nope"]) == 2


def test_list_names_broken_installs(
    project: Path, pack_src: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "install", str(pack_src)]) == 0
    folder = _installed(project)
    folder.rename(folder.parent / "other")
    capsys.readouterr()
    assert main(["pack", "list"]) == 0
    out = capsys.readouterr().out
    assert f"broken: {folder.parent / 'other'}: " in out
    assert "holds the pack 'demo', not 'other'" in out
    (folder.parent / "other" / "pack.yaml").write_text("name: [\n", "utf-8")
    assert main(["pack", "list"]) == 0
    assert "broken: " in capsys.readouterr().out
    assert main(["pack", "show", "other"]) == 2
    # a broken install is replaced with --force
    (folder.parent / "other").rename(folder)
    assert main(["pack", "install", str(pack_src)]) == 2
    assert "exists and is not a pack; use --force" in capsys.readouterr().err
    assert main(["pack", "install", str(pack_src), "--force"]) == 0
    assert content_hash(_installed(project)) == _lock(project)["demo"]["hash"]


def test_restore_from_the_lock(
    project: Path, pack_src: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "install"]) == 2
    assert "no packs to restore" in capsys.readouterr().err
    repo = git_repo(pack_src)
    assert main(["pack", "install", f"{repo}@main"]) == 0
    folder = _installed(project)
    good = content_hash(folder)
    (folder / "prompts" / "question.j2").write_text("tampered {{ topic }}", "utf-8")
    shutil.rmtree(folder / "data")
    write_pack(pack_src, version="0.3.0")  # the branch moves on; the lock keeps the commit
    git(repo, "commit", "-qam", "0.3.0")
    capsys.readouterr()
    assert main(["pack", "install"]) == 0
    assert "installed demo 0.1.0" in capsys.readouterr().out
    assert content_hash(folder) == good
    assert main(["pack", "install"]) == 0
    assert "unchanged" in capsys.readouterr().out


def test_install_a_pack_from_the_folder_it_is_developed_in(
    pack_src: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(pack_src)
    assert main(["pack", "install", "."]) == 0  # the project is the pack's own folder
    folder = _installed(pack_src)
    assert not (folder / ".synthdsl").exists()  # its own store is not copied into it
    assert main(["pack", "install", ".", "--force"]) == 0
    assert not (folder / ".synthdsl").exists()
