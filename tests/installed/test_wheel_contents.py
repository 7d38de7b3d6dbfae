"""The wheel carries everything the package reads at run time.

A wheel without the built-in strategies installs fine and then fails at the first
``use: self_instruct``; this checks that every built-in recipe, prompt and data file,
the recipe schema and the expression grammar are inside the wheel a user's
``pip wheel`` builds (the ``wheel`` fixture).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path

from install_support import ROOT

PKG = ROOT / "synthdsl"


def test_the_wheel_ships_the_builtin_strategies_and_package_data(wheel: Path) -> None:
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


def test_shipped_recipes_name_a_schema_that_is_in_the_wheel(wheel: Path) -> None:
    members = set(zipfile.ZipFile(wheel).namelist())
    recipes = sorted(m for m in members if re.fullmatch(r"synthdsl/builtin/recipes/[^/]+\.yaml", m))
    assert len(recipes) >= 6
    for member in recipes:
        first = zipfile.ZipFile(wheel).read(member).decode("utf-8").splitlines()[0]
        found = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert found, (member, first)
        target = posixpath.normpath(posixpath.join(posixpath.dirname(member), found[1]))
        assert target in members, (member, target)
