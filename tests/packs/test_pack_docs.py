"""docs/packs.md stays true: its pack.yaml, fragments, range table and limits are checked."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from helpers import write_pack

from synthdsl.cli import main
from synthdsl.packs.limits import DEFAULT_LIMITS, MB
from synthdsl.packs.manifest import parse_manifest
from synthdsl.packs.versions import parse_range, parse_version

DOC = Path(__file__).resolve().parents[2] / "docs" / "packs.md"


def _blocks(info: str) -> list[str]:
    text = DOC.read_text("utf-8")
    return re.findall(rf"^```{re.escape(info)}\n(.*?)^```$", text, re.M | re.S)


def test_the_manifest_example_parses_and_validates(project: Path) -> None:
    (block,) = _blocks("yaml pack")
    folder = write_pack(project / "qa-pack", name="qa-pack")
    answers = folder / "recipes" / "answers.yaml"
    answers.write_text((folder / "recipes" / "questions.yaml").read_text("utf-8"), "utf-8")
    (folder / "pack.yaml").write_text(block, "utf-8")
    manifest = parse_manifest(block, folder)
    assert (manifest.name, str(manifest.version)) == ("qa-pack", "1.2.0")
    assert set(manifest.recipes) == {"questions", "answers"}
    assert main(["pack", "install", str(folder)]) == 0  # validates every exported recipe
    use = project / "use.yaml"
    (fragment,) = [b for b in _blocks("yaml fragment") if "qa-pack/questions" in b]
    use.write_text("synthdsl: 1\nname: use\n" + fragment + "output: {from: more}\n", "utf-8")
    assert main(["validate", str(use)]) == 0


def test_fragments_parse() -> None:
    fragments = _blocks("yaml fragment")
    assert len(fragments) >= 2
    for block in fragments:
        yaml.safe_load(block)


def test_the_range_table() -> None:
    text = DOC.read_text("utf-8")
    table = text.split("Version ranges", 1)[1].split("## Install", 1)[0]
    rows = [r for r in table.splitlines() if r.startswith("| `")]
    assert len(rows) == 7
    for row in rows:
        for example in re.findall(r"`([^`]+)`", row.split("|")[1]):
            parse_range(example.replace("\\|", "|"))
    assert parse_range("^0.2").contains(parse_version("0.2.9"))
    assert not parse_range("^0.2").contains(parse_version("0.3.0"))
    assert not parse_range("~1.2.3").contains(parse_version("1.3.0"))


def test_the_limits_quoted_are_the_real_ones() -> None:
    safety = DOC.read_text("utf-8").split("## Safety", 1)[1].split("## Packs in", 1)[0]
    lim = DEFAULT_LIMITS
    assert f"more than {lim.max_members:,} members" in safety
    assert f"a file over {lim.max_file_bytes // MB} MB" in safety
    assert f"over {lim.max_total_bytes // MB} MB in all" in safety
    assert f"ratio\n  over {lim.max_ratio:g}:1 once past {lim.ratio_floor_bytes // MB} MB" in safety
    assert f"downloads over {lim.max_download_bytes // MB} MB" in safety
    assert f"longer than {lim.max_path_length} characters" in safety
