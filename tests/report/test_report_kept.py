"""A few kept records are shown beside the rejects' examples: the first by record id."""

from __future__ import annotations

import json
import re
from pathlib import Path

from synthdsl.cli import main as cli_main
from synthdsl.report import build_report

LONG = "word " * 200  # 1,000 characters: cut to 300 in the report


def test_kept_records_beside_the_rejects(project: Path) -> None:
    rows = ", ".join(f'{{n: {i}, text: "{LONG}<b>{i}</b>"}}' for i in range(8))
    recipe = project / "kept.yaml"
    recipe.write_text(
        f"synthdsl: 1\nname: kept\nsources:\n  s: {{records: [{rows}]}}\n"
        "steps:\n  - id: keep\n    from: s\n    filter: 'n >= 3'\n",
        "utf-8",
    )
    out = project / "out"
    assert cli_main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    dataset = [json.loads(line) for line in (out / "dataset.jsonl").read_text().splitlines()]
    first = sorted(dataset, key=lambda r: r["_provenance"]["id"])[:3]
    html = build_report(out)
    section = re.search(r'<section id="rejects">(.*?)</section>', html, re.S)
    assert section
    body = section.group(1)
    kept = re.search(r'<details class="reject kept" open>(.*?)</details>', body, re.S)
    assert kept, "no kept records block"
    block = kept.group(1)
    assert "<b>5</b> in <code>dataset.jsonl</code> · 3 records shown" in block
    shown = [int(n) for n in re.findall(r"<tr><th>n</th><td>(\d+)</td></tr>", block)]
    assert shown == [row["n"] for row in first]
    assert block.count("… (+") == 3  # long values cut
    # the kept block comes before the reasons' examples
    assert body.index("reject kept") < body.index('<span class="pill dropped">')
    assert "n &gt;= 3" in body  # the drop reason is still there


def test_kept_note_when_nothing_was_kept(project: Path) -> None:
    recipe = project / "none.yaml"
    recipe.write_text(
        "synthdsl: 1\nname: none\nsources:\n  s: {records: [{n: 1}, {n: 2}]}\n"
        "steps:\n  - id: keep\n    from: s\n    filter: 'n >= 3'\n",
        "utf-8",
    )
    out = project / "out"
    assert cli_main(["run", str(recipe), "--quiet", "--out", str(out)]) == 0
    assert "Kept records: none to show (the dataset has no records)." in build_report(out)
