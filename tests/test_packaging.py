"""The wheel carries everything the package reads at run time.

A wheel without the built-in strategies installs fine and then fails at the first
``use: self_instruct``; this builds the wheel (as ``pip wheel`` does for users) and
checks that every built-in recipe, prompt and data file, the recipe schema and the
expression grammar are inside it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "synthdsl"


def _clean_copy(dest: Path) -> Path:
    """The project's files as a fresh clone has them: no build/ or egg-info left over
    from earlier builds (setuptools would take package data from those)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name in listed:
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def test_the_wheel_ships_the_builtin_strategies_and_package_data(tmp_path: Path) -> None:
    source = _clean_copy(tmp_path / "src")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("synthdsl-*.whl")
    members = set(zipfile.ZipFile(wheel).namelist())
    data = [
        p
        for p in (PKG / "builtin").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".py"
    ]
    assert {p.parent.name for p in data} >= {"recipes", "data", "self_instruct", "doc_qa"}
    wanted = {p.relative_to(ROOT).as_posix() for p in data} | {
        "synthdsl/lang/schema/recipe.schema.json",
        "synthdsl/lang/expr/filter.lark",
        "synthdsl/py.typed",
    }
    assert sorted(wanted - members) == []
