"""pack.yaml: the manifest and its errors at line:col (synthdsl.packs.manifest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthdsl.errors import RecipeError
from synthdsl.packs.manifest import load_manifest, parse_manifest
from synthdsl.packs.versions import parse_version


def test_the_starter_manifest_loads(pack_src: Path) -> None:
    m = load_manifest(pack_src)
    assert (m.name, m.version, m.license) == ("demo", parse_version("0.1.0"), "Apache-2.0")
    assert m.label == "demo@0.1.0"
    assert list(m.recipes) == ["questions"]
    assert m.recipes["questions"].file == "recipes/questions.yaml"
    assert m.synthdsl.contains(parse_version("0.1.0"))


def _errors(text: str, folder: Path) -> list[str]:
    with pytest.raises(RecipeError) as info:
        parse_manifest(text, folder)
    return [
        f"{d.span.line}:{d.span.col} {d.message}" if d.span else d.message
        for d in info.value.diagnostics
    ]


def test_errors_point_at_their_line_and_column(pack_src: Path) -> None:
    text = (
        "name: Demo Pack\n"
        "version: 1.0\n"
        "synthdsl: '>>1'\n"
        "licence: MIT\n"
        "recipes:\n"
        "  questions: recipes/questions.yaml\n"
        "  escape: ../../etc/passwd.yaml\n"
        "  missing: {file: recipes/nope.yaml, descrption: x}\n"
    )
    errors = _errors(text, pack_src)
    assert "1:7 pack name 'Demo Pack' is not valid" in errors
    assert any(e.startswith("2:10 '1.0' is not a semantic version") for e in errors)
    assert any(e.startswith("3:11 '>>1' is not a version range") for e in errors)
    assert "4:1 unknown key 'licence' in pack.yaml" in errors
    assert any(
        e.startswith("7:11 recipe 'escape': '../../etc/passwd.yaml' points outside") for e in errors
    )
    assert "8:38 unknown key 'descrption' in recipe 'missing'" in errors
    assert any(
        e.startswith("8:19 recipe 'missing': 'recipes/nope.yaml' does not exist") for e in errors
    )


def test_required_keys_and_yaml_problems(tmp_path: Path) -> None:
    assert _errors("description: x\n", tmp_path) == [
        "1:1 pack.yaml has no 'name'",
        "1:1 pack.yaml has no 'recipes'",
        "1:1 pack.yaml has no 'version'",
    ]
    dup = _errors("name: a\nname: b\nversion: 1.0.0\nrecipes: {}\n", tmp_path)
    assert any("duplicate" in e for e in dup)


def test_a_folder_without_manifest_is_not_a_pack(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="not a pack"):
        load_manifest(tmp_path)
