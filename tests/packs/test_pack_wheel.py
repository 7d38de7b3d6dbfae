"""Packs from a built wheel, as a user has them: issue 8's "done when" for packs.

With synthdsl installed from its wheel in a fresh venv (the ``installed`` fixture,
``tests/install_support.py``), in temporary folders far from the checkout: ``pack new``,
commit it to a git repository and pack it as a tarball, install each into another
project, run a recipe that ``use:``s it against the test server, tamper with one (the
lock check fails at the ``use:`` line) and refuse a hostile archive (nothing written
outside the packs folder).
"""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

from install_support import Installed
from packtools import add_bytes, git, git_repo

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


def test_packs_from_the_wheel(
    installed: Installed, tmp_path: Path, server: FakeOpenAIServer
) -> None:
    env = {"SYNTHDSL_PACKS_HOME": str(tmp_path / "user-packs")}

    def synthdsl(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return installed.run(*args, cwd=cwd, env=env)

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
        done = synthdsl(project, "pack", "install", source)
        assert done.returncode == 0, done.stderr
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
