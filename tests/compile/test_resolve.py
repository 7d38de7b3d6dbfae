"""``compile/resolve.py``: the one rule that finds a recipe by name or by path."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthdsl.compile.resolve import (
    builtin_recipe,
    builtin_recipes_dir,
    candidates,
    find_recipe,
    known_names,
)
from synthdsl.compile.state import CompileOptions

from .support import compile_errors, compile_ok, write

REPO = Path(__file__).resolve().parents[2]
STUB = "synthdsl: 1\nsteps: []\n"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path/root/a/b/c/d`` (the referring recipe's folder), working folder ``tmp_path/cwd``."""
    base = tmp_path / "root" / "a" / "b" / "c" / "d"
    base.mkdir(parents=True)
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    return base


def test_a_name_is_looked_up_in_four_folders_then_the_working_folder(tree: Path) -> None:
    root = tree.parents[3]
    assert root.name == "root"
    assert candidates("strat", tree) == [
        tree / "recipes" / "strat.yaml",
        root / "a" / "b" / "c" / "recipes" / "strat.yaml",
        root / "a" / "b" / "recipes" / "strat.yaml",
        root / "a" / "recipes" / "strat.yaml",
        Path.cwd() / "recipes" / "strat.yaml",
        builtin_recipes_dir() / "strat.yaml",  # last: the built-in strategies
    ]


def test_a_project_recipe_shadows_a_built_in_strategy(tree: Path) -> None:
    assert find_recipe("self_instruct", tree) == builtin_recipes_dir() / "self_instruct.yaml"
    mine = write(tree, "recipes/self_instruct.yaml", STUB)
    assert find_recipe("self_instruct", tree) == mine


def test_the_nearest_recipe_of_a_name_wins(tree: Path) -> None:
    cwd = Path.cwd()
    far = write(tree.parents[2], "recipes/strat.yaml", STUB)  # .../a/recipes
    assert find_recipe("strat", tree) == far
    near = write(tree.parent, "recipes/strat.yaml", STUB)  # .../c/recipes
    assert find_recipe("strat", tree) == near
    here = write(tree, "recipes/strat.yaml", STUB)
    assert find_recipe("strat", tree) == here
    write(cwd, "recipes/strat.yaml", STUB)
    assert find_recipe("strat", tree) == here


def test_a_name_four_folders_up_is_not_found_but_the_working_folder_is(tree: Path) -> None:
    write(tree.parents[3], "recipes/strat.yaml", STUB)  # root/recipes: one level too far
    assert find_recipe("strat", tree) is None
    in_cwd = write(Path.cwd(), "recipes/strat.yaml", STUB)
    assert find_recipe("strat", tree) == in_cwd


def test_a_name_is_not_looked_up_beside_the_recipe(tree: Path) -> None:
    write(tree, "strat.yaml", STUB)
    assert find_recipe("strat", tree) is None


def test_a_path_is_relative_to_the_recipe_then_the_working_folder(tree: Path) -> None:
    assert candidates("lib/strat.yaml", tree) == [
        tree / "lib" / "strat.yaml",
        Path.cwd() / "lib" / "strat.yaml",
    ]
    assert find_recipe("lib/strat.yaml", tree) is None
    in_cwd = write(Path.cwd(), "lib/strat.yaml", STUB)
    assert find_recipe("lib/strat.yaml", tree) == in_cwd
    beside = write(tree, "lib/strat.yaml", STUB)
    assert find_recipe("lib/strat.yaml", tree) == beside


def test_a_yml_path_is_a_path_too(tree: Path) -> None:
    found = write(tree, "strat.yml", STUB)
    assert find_recipe("strat.yml", tree) == found
    # a name never finds a .yml file
    write(tree, "recipes/other.yml", STUB)
    assert find_recipe("other", tree) is None


def test_an_absolute_path_is_used_as_is(tree: Path, tmp_path: Path) -> None:
    target = write(tmp_path, "elsewhere/strat.yaml", STUB)
    assert find_recipe(str(target), tree) == target


def test_known_names_gathers_every_searched_folder(tree: Path) -> None:
    write(tree, "recipes/near.yaml", STUB)
    write(tree.parents[2], "recipes/far.yml", STUB)
    write(tree.parents[3], "recipes/too_far.yaml", STUB)
    write(Path.cwd(), "recipes/here.yaml", STUB)
    write(tree, "recipes/notes.txt", "not a recipe")
    builtin = {p.stem for p in builtin_recipes_dir().glob("*.yaml")}
    assert {"self_instruct", "textbook"} <= builtin
    assert known_names("anything", tree) == {"near", "far", "here"} | builtin
    # for a path, the folders of the two candidates
    write(tree, "lib/mine.yaml", STUB)
    assert known_names("lib/x.yaml", tree) == {"mine"}


def test_builtin_strategies_live_beside_the_package(work: Path) -> None:
    assert builtin_recipes_dir() == REPO / "synthdsl" / "builtin" / "recipes"
    assert (builtin_recipes_dir() / "self_instruct.yaml").is_file()
    assert builtin_recipe("self_instruct") == [
        work / "recipes" / "self_instruct.yaml",
        REPO / "synthdsl" / "builtin" / "recipes" / "self_instruct.yaml",
    ]


def test_use_of_a_missing_recipe_suggests_a_close_name(work: Path) -> None:
    write(work, "recipes/paraphrase.yaml", STUB)
    path = write(
        work,
        "main.yaml",
        """
        synthdsl: 1
        sources:
          q: {records: [{instruction: hi}]}
        steps:
          - id: formal
            use: paraphrse
        """,
    )
    assert compile_errors(path, CompileOptions()) == [
        ("main.yaml:6:10", "recipe 'paraphrse' not found", "did you mean 'paraphrase'?")
    ]


def test_use_of_a_missing_recipe_without_close_names_says_where_to_put_it(work: Path) -> None:
    path = write(
        work,
        "main.yaml",
        """
        synthdsl: 1
        sources:
          q: {records: [{instruction: hi}]}
        steps:
          - id: formal
            use: lib/nothing_here.yaml
        """,
    )
    assert compile_errors(path) == [
        (
            "main.yaml:6:10",
            "recipe 'lib/nothing_here.yaml' not found",
            "give a path to a .yaml file or put it in a recipes/ folder",
        )
    ]


def test_use_by_path_is_relative_to_the_using_recipe(work: Path) -> None:
    write(
        work,
        "project/lib/upper.yaml",
        """
        synthdsl: 1
        sources:
          rows: {input: true}
        steps:
          - id: keep
            filter: "len(instruction) > 0"
        """,
    )
    path = write(
        work,
        "project/main.yaml",
        """
        synthdsl: 1
        sources:
          q: {records: [{instruction: hi}]}
        steps:
          - id: up
            use: lib/upper.yaml
        """,
    )
    # from the working folder the path would not exist: it is found beside main.yaml
    assert not (work / "lib" / "upper.yaml").exists()
    recipe = compile_ok(path)
    assert list(recipe.graph.nodes) == ["q", "up.keep"]
    assert recipe.graph.nodes["up.keep"].origin == "project/lib/upper.yaml"
