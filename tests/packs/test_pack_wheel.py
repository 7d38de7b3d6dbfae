"""Packs from a built wheel, as a user has them: issue 8's "done when" for packs.

Builds the wheel (``pip wheel``), installs it non-editable into a folder of its own
(``pip install --no-deps --target``; the dependencies come from the test venv), and in
temporary folders far from the checkout: ``pack new``, commit it to a git repository
and pack it as a tarball, install each into another project, run a recipe that
``use:``s it against the test server, tamper with one (the lock check fails at the
``use:`` line) and refuse a hostile archive (nothing written outside the packs folder).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from packtools import add_bytes, git, git_repo
from test_packaging import _clean_copy

from synthdsl.testing.fake_openai import FakeOpenAIServer

USE = """\
synthdsl: 1
name: user
steps:
  - id: qs
    use: demo/questions@^0.1
    with: {style: detailed, min_words: 1}
output: {from: qs}
"""


@pytest.fixture(scope="module")
def wheel_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding synthdsl installed from its wheel, nothing else."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = _clean_copy(tmp / "src")
    pip = [sys.executable, "-m", "pip"]
    built = subprocess.run(
        [*pip, "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp / "dist").glob("synthdsl-*.whl")
    site = tmp / "site"
    done = subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "-q", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return site


def test_packs_from_the_wheel(wheel_site: Path, tmp_path: Path, server: FakeOpenAIServer) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(wheel_site),
        "SYNTHDSL_PACKS_HOME": str(tmp_path / "user-packs"),
        "SYNTHDSL_CACHE": str(tmp_path / "cache.sqlite"),
        "SYNTHDSL_RETRY_BASE": "0.01",
    }

    def synthdsl(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "synthdsl.cli", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    where = subprocess.run(
        [sys.executable, "-c", "import synthdsl; print(synthdsl.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(wheel_site))  # the wheel, not the checkout

    author = tmp_path / "author"
    author.mkdir()
    assert synthdsl(author, "pack", "new", "demo").returncode == 0
    repo = git_repo(author / "demo")
    git(repo, "tag", "v0.1.0")
    tgz = author / "demo-0.1.0.tar.gz"
    with tarfile.open(tgz, "w:gz") as tf:
        tf.add(repo, arcname="demo-0.1.0", filter=lambda i: None if ".git" in i.name else i)

    fake = ["--model", "openai/fake", "--api-base", server.base_url, "--quiet", "--fresh"]
    for name, source in (("from-git", f"{repo}@v0.1.0"), ("from-tarball", str(tgz))):
        project = tmp_path / name
        project.mkdir()
        installed = synthdsl(project, "pack", "install", source)
        assert installed.returncode == 0, installed.stderr
        (project / "use.yaml").write_text(USE, "utf-8")
        ran = synthdsl(project, "run", "use.yaml", "--out", "out", *fake)
        assert ran.returncode == 0, ran.stderr
        manifest = json.loads((project / "out" / "manifest.json").read_text("utf-8"))
        assert manifest["status"] == "completed" and manifest["totals"]["calls"] == 3
        assert len((project / "out" / "dataset.jsonl").read_text("utf-8").splitlines()) == 3

    project = tmp_path / "from-tarball"
    seeds = project / ".synthdsl" / "packs" / "demo" / "data" / "topics.jsonl"
    seeds.write_text(seeds.read_text("utf-8") + '{"topic": "injected"}\n', "utf-8")
    checked = synthdsl(project, "validate", "use.yaml")
    assert checked.returncode == 2
    assert "use.yaml:5:10: error: pack demo@0.1.0 does not match synthdsl.lock" in checked.stderr

    evil = tmp_path / "evil.tgz"
    with tarfile.open(evil, "w:gz") as tf:
        add_bytes(tf, "demo/pack.yaml", b"name: demo\nversion: 9.0.0\nrecipes: {}\n")
        add_bytes(tf, "demo/../../../../escaped.txt", b"x")
    before = sorted(p.name for p in tmp_path.iterdir())
    refused = synthdsl(project, "pack", "install", str(evil), "--force")
    assert refused.returncode == 2
    assert "unsafe archive: member 'demo/../../../../escaped.txt'" in refused.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not list(tmp_path.parent.rglob("escaped.txt"))
    assert sorted(p.name for p in (project / ".synthdsl" / "packs").iterdir()) == ["demo"]
