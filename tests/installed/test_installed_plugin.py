"""The example plugin package on top of the installed wheel: its step kind, functions,
metric and pack work for a user who installed synthdsl and the plugin with pip, in a
folder unrelated to the checkout.

The plugin is installed (offline, with the test venv's build backend) into a folder of
its own, put on the wheel venv's path for these commands only, so the other
installed-wheel tests see no plugin.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from install_support import PIP, ROOT, Installed

from synthdsl.testing.fake_openai import FakeOpenAIServer

RECIPE = """\
synthdsl: 1
name: mails
sources:
  mails:
    records:
      - {text: "write to ann@example.com about the invoice"}
      - {text: "bob@corp.io and eve@corp.io asked twice"}
      - {text: "no address here at all"}
steps:
  - id: clean
    redact_emails: {field: text, placeholder: "[email]"}
    when: 'email_domain(text) == "example.com"'
  - id: few
    filter: "email_count(text) < 2"
  - id: scrubbed
    use: email_tools/scrub
    with: {field: text, max_emails: 1}
  - id: reply
    generate: {template: "Reply to: {{ text }}", into: response}
"""


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("plugin")
    source = shutil.copytree(ROOT / "tests" / "plugin_pkg", tmp / "src")
    site = tmp / "site"
    done = subprocess.run(
        [
            *PIP,
            "install",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--target",
            str(site),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return site


def test_the_plugin_works_on_the_installed_wheel(
    installed: Installed, plugin_site: Path, fake_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    (tmp_path / "mails.yaml").write_text(RECIPE, encoding="utf-8")
    env = {"PYTHONPATH": str(plugin_site)}
    checked = installed.run("validate", "mails.yaml", cwd=tmp_path, env=env)
    assert checked.returncode == 0, checked.stderr[-3000:]
    plan = installed.run("plan", "mails.yaml", cwd=tmp_path, env=env)
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert "step kind redact_emails from synthdsl-example-plugin 0.1.0" in plan.stdout
    assert "pack:email_tools@0.1.0/recipes/scrub.yaml" in plan.stdout
    run = installed.run(
        "run",
        "mails.yaml",
        "--quiet",
        "--out",
        "out",
        "--model",
        "openai/fake",
        "--api-base",
        fake_server.base_url,
        cwd=tmp_path,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    rows = [json.loads(x) for x in (tmp_path / "out/dataset.jsonl").read_text().splitlines()]
    assert [r["text"] for r in rows] == [
        "write to [email] about the invoice",
        "no address here at all",
    ]
    manifest = json.loads((tmp_path / "out/manifest.json").read_text())
    assert {p["name"] for p in manifest["plugins"]} >= {"redact_emails", "email_count"}
    stats = installed.run("stats", "out/dataset.jsonl", "--field", "text", cwd=tmp_path, env=env)
    assert stats.returncode == 0, stats.stderr[-3000:]
    assert "email_share" in stats.stdout
    # without the plugin on the path, the kind is unknown: a recipe error, exit 2
    bare = installed.run("validate", "mails.yaml", cwd=tmp_path)
    assert bare.returncode == 2 and "mails.yaml:" in bare.stderr
