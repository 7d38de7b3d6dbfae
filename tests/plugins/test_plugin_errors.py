"""Plugins that break, clash or change: clear errors with the right exit code, never a
traceback; recipes that use no plugin are not affected; versions enter the recipe hash."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .support import EXAMPLE, Cli, cli_with, install_package, write_package

BUILTIN_ONLY = """\
synthdsl: 1
name: plain
models:
  default: {model: openai/fake}
sources:
  rows:
    records: [{text: "a b c"}, {text: "d e"}]
steps:
  - id: keep
    from: rows
    filter: "words(text) > 2"
output: {from: keep, shape: records}
"""

USES_KIND = """\
synthdsl: 1
name: broken
models:
  default: {model: openai/fake}
sources:
  rows:
    records: [{text: "a b c"}]
steps:
  - id: odd
    from: rows
    shout: {field: text}
output: {from: odd, shape: records}
"""


@pytest.fixture(scope="session")
def broken_cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """A package whose step kind's module raises when imported."""
    root = tmp_path_factory.mktemp("broken")
    package = write_package(
        root / "pkg",
        "synthdsl-broken-plugin",
        {"broken_plugin/__init__.py": "", "broken_plugin/kinds.py": "raise RuntimeError('boom')\n"},
        '[project.entry-points."synthdsl.nodes"]\nshout = "broken_plugin.kinds:KIND"\n',
    )
    return cli_with(install_package(package, root / "site"))


@pytest.fixture(scope="session")
def clash_cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """A package that takes built-in names: a step kind 'filter', a function 'len'."""
    root = tmp_path_factory.mktemp("clash")
    module = (
        "from synthdsl.lang.expr import FunctionSpec\n"
        "from synthdsl.nodes.base import NodeKind\n\n\n"
        "class Filter(NodeKind[dict]):\n"
        "    name = 'filter'\n"
        "    schema = {'type': 'object'}\n\n\n"
        "KIND = Filter()\n"
        "LEN = FunctionSpec.typed('len', len, ('string',), 'int', 'length')\n"
    )
    package = write_package(
        root / "pkg",
        "synthdsl-clash-plugin",
        {"clash_plugin/__init__.py": module},
        '[project.entry-points."synthdsl.nodes"]\nfilter = "clash_plugin:KIND"\n\n'
        '[project.entry-points."synthdsl.functions"]\nlen = "clash_plugin:LEN"\n',
    )
    return cli_with(install_package(package, root / "site"))


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "recipe.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_a_plugin_that_fails_to_import_exits_1_naming_it(broken_cli: Cli, tmp_path: Path) -> None:
    root = _write(tmp_path, USES_KIND)
    for command in (("validate", "recipe.yaml"), ("plan", "recipe.yaml"), ("schema",)):
        done = broken_cli(*command, cwd=root)
        assert done.code == 1, command
        assert done.err == (
            "synthdsl: error: plugin 'shout' (entry point broken_plugin.kinds:KIND from package "
            "synthdsl-broken-plugin 1.0.0) in group synthdsl.nodes failed to load: "
            "RuntimeError: boom\n"
        )
    listed = broken_cli("plugins", cwd=root)
    assert listed.code == 1
    assert "  shout  synthdsl-broken-plugin 1.0.0  broken_plugin.kinds:KIND" in listed.out
    assert "RuntimeError: boom" in listed.err and "Traceback" not in listed.err


def test_a_broken_plugin_does_not_touch_recipes_that_do_not_use_plugins(
    broken_cli: Cli, tmp_path: Path
) -> None:
    root = _write(tmp_path, BUILTIN_ONLY)
    done = broken_cli("validate", "recipe.yaml", cwd=root)
    assert (done.code, done.err) == (0, "")
    off = broken_cli("validate", "recipe.yaml", cwd=root, env={"SYNTHDSL_NO_PLUGINS": "1"})
    assert off.code == 0


def test_plugins_cannot_take_built_in_names(clash_cli: Cli, tmp_path: Path) -> None:
    root = _write(tmp_path, BUILTIN_ONLY)
    assert clash_cli("validate", "recipe.yaml", cwd=root).code == 0  # built-ins always win
    schema = clash_cli("schema", cwd=root)
    assert schema.code == 1
    assert schema.err == (
        "synthdsl: error: plugin 'filter' (entry point clash_plugin:KIND from package "
        "synthdsl-clash-plugin 1.0.0) in group synthdsl.nodes cannot replace the built-in step "
        "key 'filter'; the package synthdsl-clash-plugin must name its kind differently\n"
    )
    _write(tmp_path, BUILTIN_ONLY.replace("words(text)", "wrds(text)"))
    done = clash_cli("validate", "recipe.yaml", cwd=root)  # an unknown name looks at plugins
    assert done.code == 1
    assert "function 'len' has the name of a built-in function; the package " in done.err
    assert "synthdsl-clash-plugin must name it differently" in done.err
    listed = clash_cli("plugins", cwd=root)
    assert listed.code == 1 and "Traceback" not in listed.err


def test_the_plugin_version_is_part_of_the_recipe_hash(
    cli: Cli, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("bump")
    newer = root / "pkg"
    newer.mkdir()
    for item in EXAMPLE.iterdir():
        target = newer / item.name
        if item.is_dir():
            shutil.copytree(item, target)
        else:
            target.write_text(item.read_text("utf-8").replace("0.1.0", "0.2.0"), "utf-8")
    bumped = cli_with(install_package(newer, root / "site"))
    recipe = USES_KIND.replace("shout: {field: text}", "redact_emails: {field: text}")
    project = _write(root, recipe)

    def hash_of(run: Cli) -> tuple[str, list[str]]:
        done = run("plan", "recipe.yaml", "--format", "json", cwd=project)
        assert done.code == 0, done.err
        plan = json.loads(done.out)
        return plan["recipe"]["hash"], [p["version"] for p in plan["plugins"]]

    old_hash, old_versions = hash_of(cli)
    new_hash, new_versions = hash_of(bumped)
    assert (old_versions, new_versions) == (["0.1.0"], ["0.2.0"])
    assert old_hash != new_hash
    _write(root, BUILTIN_ONLY)  # a recipe without plugins: the same hash, no plugins key
    plain = [
        json.loads(run("plan", "recipe.yaml", "--format", "json", cwd=project).out)
        for run in (cli, bumped, cli_with())
    ]
    assert len({p["recipe"]["hash"] for p in plain}) == 1
    assert all("plugins" not in p for p in plain)


def test_a_broken_plugin_does_not_hide_a_recipe_error_elsewhere(
    broken_cli: Cli, tmp_path: Path
) -> None:
    root = _write(tmp_path, BUILTIN_ONLY.replace("shape: records", "shape: recrds"))
    done = broken_cli("validate", "recipe.yaml", cwd=root)
    assert done.code == 2
    assert done.err.startswith("recipe.yaml:12:29: error: output.shape must be one of:")


@pytest.fixture(scope="session")
def stream_cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """A package whose step kind reads whole streams (not record at a time)."""
    root = tmp_path_factory.mktemp("stream")
    module = (
        "from typing import Any\n\n"
        "from synthdsl.nodes.base import CheckContext, NodeKind\n\n\n"
        "class Batch(NodeKind[dict[str, Any]]):\n"
        "    name = 'batch'\n"
        "    schema = {'type': 'object', 'additionalProperties': False}\n\n"
        "    def configure(self, raw: Any, ctx: CheckContext) -> dict[str, Any]:\n"
        "        return dict(raw)\n\n\n"
        "KIND = Batch()\n"
    )
    package = write_package(
        root / "pkg",
        "synthdsl-stream-plugin",
        {"stream_plugin/__init__.py": module},
        '[project.entry-points."synthdsl.nodes"]\nbatch = "stream_plugin:KIND"\n',
    )
    return cli_with(install_package(package, root / "site"))


def test_a_whole_stream_kind_takes_no_when_and_is_no_switch_case(
    stream_cli: Cli, tmp_path: Path
) -> None:
    gated = USES_KIND.replace("shout: {field: text}", "batch: {}\n    when: 'text != \"\"'")
    root = _write(tmp_path, gated)
    done = stream_cli("validate", "recipe.yaml", cwd=root)
    assert done.code == 2
    assert done.err.startswith("recipe.yaml:12:5: error: 'when' does not apply to a batch step")
    case = USES_KIND.replace(
        "    shout: {field: text}",
        "    switch:\n      - id: all\n        batch: {}",
    )
    _write(tmp_path, case)
    done = stream_cli("validate", "recipe.yaml", cwd=root)
    assert done.code == 2
    assert "recipe.yaml:13:9: error: unknown key 'batch' in switch[0] in step 'odd'" in done.err
    assert (
        "hint: 'batch' (from synthdsl-stream-plugin) handles whole streams, so it cannot be "
        "a case of a switch"
    ) in done.err


@pytest.fixture(scope="session")
def misfit_cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """A package with a function typed with an unknown type name and a metric that raises."""
    root = tmp_path_factory.mktemp("misfit")
    module = (
        "from synthdsl.lang.expr import FunctionSpec\n\n\n"
        "def shout(text: str) -> str:\n"
        "    return text.upper()\n\n\n"
        "def ratio(texts: object) -> float:\n"
        '    """Always fails."""\n'
        "    return 1 / 0\n\n\n"
        "SHOUT = FunctionSpec.typed('shout', shout, ('str',), 'string', 'upper case')\n"
    )
    package = write_package(
        root / "pkg",
        "synthdsl-misfit-plugin",
        {"misfit_plugin/__init__.py": module},
        '[project.entry-points."synthdsl.functions"]\nshout = "misfit_plugin:SHOUT"\n\n'
        '[project.entry-points."synthdsl.metrics"]\nratio = "misfit_plugin:ratio"\n',
    )
    return cli_with(install_package(package, root / "site"))


def test_a_bad_signature_or_a_failing_metric_exits_1_naming_the_plugin(
    misfit_cli: Cli, tmp_path: Path
) -> None:
    where = "plugin 'shout' (entry point misfit_plugin:SHOUT from package synthdsl-misfit-plugin"
    root = _write(tmp_path, BUILTIN_ONLY.replace("words(text)", "len(shout(text))"))
    done = misfit_cli("validate", "recipe.yaml", cwd=root)
    assert done.code == 1
    assert done.err.startswith(f"synthdsl: error: {where} 1.0.0) in group synthdsl.functions")
    assert "function 'shout' declares the unknown type 'str'" in done.err
    (tmp_path / "data.jsonl").write_text('{"text": "a b"}\n', encoding="utf-8")
    stats = misfit_cli("stats", "data.jsonl", cwd=root)
    assert stats.code == 1
    assert stats.err == (
        "synthdsl: error: metric 'ratio' of plugin 'ratio' (entry point misfit_plugin:ratio from "
        "package synthdsl-misfit-plugin 1.0.0) failed: ZeroDivisionError: division by zero\n"
    )
    listed = misfit_cli("plugins", cwd=root)
    assert listed.code == 1
    assert "metric ratio: Always fails." in listed.out
    assert "declares the unknown type 'str'" in listed.err and "Traceback" not in listed.err
