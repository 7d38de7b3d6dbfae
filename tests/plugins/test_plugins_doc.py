"""docs/plugins.md stays true: its copies of the example package are the package's
files, and its recipes validate (or fail with the exact error shown) with the package
installed.

Fences: ```LANG copy=PATH is a verbatim copy of the repository file PATH; ```yaml is a
complete recipe that must pass ``validate`` and ``plan``; ```yaml invalid is one that
``validate`` rejects with exit 2, and the ```text stderr block right after it is the
exact error output; the ```text block that starts with ``$ synthdsl plugins`` is that
command's exact output. Other fences are prose.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .support import EXAMPLE, REPO, Cli

DOC = REPO / "docs" / "plugins.md"
_FENCE = re.compile(r"^```(?P<info>[^`]*)$")


def _blocks() -> list[tuple[str, str]]:
    """(info string, text) of every fenced block at column 0, in order."""
    out: list[tuple[str, str]] = []
    info: str | None = None
    body: list[str] = []
    for line in DOC.read_text("utf-8").splitlines():
        match = _FENCE.match(line)
        if info is None and match:
            info, body = match.group("info").strip(), []
        elif info is not None and line == "```":
            out.append((info, "\n".join(body) + "\n"))
            info = None
        elif info is not None:
            body.append(line)
    assert info is None, "an unclosed fence in docs/plugins.md"
    return out


def _copies() -> dict[str, str]:
    out: dict[str, str] = {}
    for info, text in _blocks():
        for word in info.split()[1:]:
            if word.startswith("copy="):
                out[word[len("copy=") :]] = text
    return out


def test_every_file_of_the_example_package_is_copied_verbatim() -> None:
    files = sorted(
        p.relative_to(REPO).as_posix()
        for p in [
            EXAMPLE / "pyproject.toml",
            *EXAMPLE.glob("src/**/*.py"),
            *EXAMPLE.glob("src/**/*.yaml"),
        ]
    )
    copies = _copies()
    assert sorted(copies) == files
    for rel, text in copies.items():
        assert text == (REPO / rel).read_text("utf-8"), f"docs/plugins.md's copy of {rel} is stale"


def _recipes(kind: str) -> list[tuple[str, str | None]]:
    """The recipes of the fences tagged ``kind``, each with the stderr block after it."""
    blocks = _blocks()
    out: list[tuple[str, str | None]] = []
    for i, (info, text) in enumerate(blocks):
        if info == kind:
            after = blocks[i + 1] if i + 1 < len(blocks) else None
            out.append((text, after[1] if after and after[0] == "text stderr" else None))
    return out


@pytest.mark.parametrize("index", range(len(_recipes("yaml"))))
def test_the_recipes_validate_and_plan(cli: Cli, tmp_path: Path, index: int) -> None:
    recipe, _ = _recipes("yaml")[index]
    (tmp_path / "recipe.yaml").write_text(recipe, encoding="utf-8")
    for command in ("validate", "plan"):
        done = cli(command, "recipe.yaml", cwd=tmp_path)
        assert done.code == 0, done.err


@pytest.mark.parametrize("index", range(len(_recipes("yaml invalid"))))
def test_the_invalid_recipes_fail_as_shown(cli: Cli, tmp_path: Path, index: int) -> None:
    recipe, stderr = _recipes("yaml invalid")[index]
    (tmp_path / "recipe.yaml").write_text(recipe, encoding="utf-8")
    done = cli("validate", "recipe.yaml", cwd=tmp_path)
    assert done.code == 2
    assert stderr is not None and done.err == stderr


def test_the_page_has_examples_to_check() -> None:
    assert len(_recipes("yaml")) >= 1 and len(_recipes("yaml invalid")) >= 1


def test_the_plugins_listing_is_what_the_command_prints(cli: Cli, tmp_path: Path) -> None:
    shown = [t for info, t in _blocks() if info == "text" and t.startswith("$ synthdsl plugins\n")]
    assert len(shown) == 1
    done = cli("plugins", cwd=tmp_path)
    assert done.code == 0, done.err
    assert shown[0] == "$ synthdsl plugins\n" + done.out
