"""docs/recipes.md stays true: its recipes are checked by the real compiler.

Fence conventions in docs/recipes.md (the info string after the opening backticks):

- ```yaml             a complete recipe; it starts with ``synthdsl: 1`` and must pass
                      ``synthdsl validate`` and ``synthdsl plan``;
- ```yaml invalid     a complete recipe that ``synthdsl validate`` must reject (exit 2);
                      when a ```text stderr block follows it directly, that block is
                      the exact error output;
- ```LANG file=PATH   a supporting file (data, prompt template, strategy recipe): it is
                      written at PATH in the directory of every example before checking;
- ```yaml fragment    part of a recipe: it must parse as YAML, nothing more;
- anything else       (```console, ```text, ```json, ...) is prose and not checked.

Each example is written as ``recipe.yaml`` in a fresh directory, which is also the
working directory, so nothing in the repository (prompts/, recipes/) can help it pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from synthdsl.cli import main

DOC = Path(__file__).resolve().parent.parent / "docs" / "recipes.md"
MIN_COMPLETE_EXAMPLES = 15
_FENCE = re.compile(r"^```(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Block:
    info: str  # the whole info string, e.g. "yaml", "yaml fragment", "json file=a.jsonl"
    text: str
    line: int  # line of the opening fence in docs/recipes.md (1-based)

    @property
    def lang(self) -> str:
        return self.info.split()[0] if self.info.split() else ""

    @property
    def words(self) -> list[str]:
        return self.info.split()[1:]

    @property
    def file(self) -> str | None:
        for word in self.words:
            if word.startswith("file="):
                return word[len("file=") :]
        return None


def parse_blocks(text: str) -> list[Block]:
    """Every fenced block of ``text``, in order (fences start at column 0)."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i] != "```":
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise AssertionError(f"docs/recipes.md:{start + 1}: fence never closed")
        blocks.append(Block(m.group("info").strip(), "\n".join(body) + "\n", start + 1))
        i += 1
    return blocks


BLOCKS = parse_blocks(DOC.read_text("utf-8"))
COMPLETE = [b for b in BLOCKS if b.info == "yaml"]
INVALID = [b for b in BLOCKS if b.info == "yaml invalid"]
FRAGMENTS = [b for b in BLOCKS if b.info == "yaml fragment"]
SUPPORT = [b for b in BLOCKS if b.file is not None]


def _expected_stderr(block: Block) -> str | None:
    index = BLOCKS.index(block)
    if index + 1 < len(BLOCKS) and BLOCKS[index + 1].info == "text stderr":
        return BLOCKS[index + 1].text
    return None


def _params(blocks: list[Block], kind: str) -> list[object]:
    return [
        pytest.param(b, id=f"{kind}{n:02d}-line{b.line}") for n, b in enumerate(blocks, start=1)
    ]


@pytest.fixture
def example_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding every supporting file of the page."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SYNTHDSL_MODEL", raising=False)
    monkeypatch.setenv("SYNTHDSL_CACHE", str(tmp_path / "cache.sqlite"))
    for block in SUPPORT:
        assert block.file is not None
        target = tmp_path / block.file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text, encoding="utf-8")
    return tmp_path


def test_page_has_enough_complete_examples() -> None:
    assert len(COMPLETE) >= MIN_COMPLETE_EXAMPLES, (
        f"docs/recipes.md has {len(COMPLETE)} complete ```yaml examples, "
        f"expected at least {MIN_COMPLETE_EXAMPLES}"
    )


def test_yaml_fences_use_known_tags() -> None:
    for block in BLOCKS:
        if block.lang not in ("yaml", "yml"):
            continue
        words = [w for w in block.words if not w.startswith("file=")]
        assert block.lang == "yaml" and words in ([], ["fragment"], ["invalid"]), (
            f"docs/recipes.md:{block.line}: unknown fence tag ```{block.info}"
        )


def test_support_files_are_unique() -> None:
    paths = [b.file for b in SUPPORT]
    assert len(paths) == len(set(paths)), f"a supporting file is defined twice: {paths}"


@pytest.mark.parametrize("block", _params(COMPLETE + INVALID, "recipe"))
def test_complete_examples_start_with_version(block: Block) -> None:
    first = next(line for line in block.text.splitlines() if line.strip())
    assert first == "synthdsl: 1", (
        f"docs/recipes.md:{block.line}: a complete recipe must start with 'synthdsl: 1' "
        "(tag it ```yaml fragment if it is only a part of one)"
    )


@pytest.mark.parametrize("block", _params(COMPLETE, "example"))
def test_example_validates_and_plans(
    block: Block, example_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = example_dir / "recipe.yaml"
    recipe.write_text(block.text, encoding="utf-8")
    code = main(["validate", "recipe.yaml"])
    err = capsys.readouterr().err
    assert code == 0, f"docs/recipes.md:{block.line}: example does not validate:\n{err}"
    assert main(["plan", "recipe.yaml", "--format", "json"]) == 0, (
        f"docs/recipes.md:{block.line}: example validates but cannot be planned"
    )


@pytest.mark.parametrize("block", _params(INVALID, "invalid"))
def test_invalid_example_is_rejected(
    block: Block, example_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (example_dir / "recipe.yaml").write_text(block.text, encoding="utf-8")
    assert main(["validate", "recipe.yaml"]) == 2, (
        f"docs/recipes.md:{block.line}: example marked invalid was accepted"
    )
    expected = _expected_stderr(block)
    if expected is not None:
        assert capsys.readouterr().err == expected


@pytest.mark.parametrize("block", _params(FRAGMENTS, "fragment"))
def test_fragment_is_yaml(block: Block) -> None:
    try:
        yaml.safe_load(block.text)
    except yaml.YAMLError as exc:
        pytest.fail(f"docs/recipes.md:{block.line}: fragment is not valid YAML: {exc}")
