"""Semantic versions and ranges (synthdsl.packs.versions)."""

from __future__ import annotations

import pytest

from synthdsl.packs.versions import parse_range, parse_version


@pytest.mark.parametrize(
    ("text", "version", "inside"),
    [
        ("^1.2", "1.2.0", True),
        ("^1.2", "1.9.3", True),
        ("^1.2", "2.0.0", False),
        ("^1.2", "1.1.9", False),
        ("^0.2", "0.2.7", True),
        ("^0.2", "0.3.0", False),
        ("^0.0.3", "0.0.4", False),
        ("~1.2.3", "1.2.9", True),
        ("~1.2.3", "1.3.0", False),
        ("~1.2.3", "1.2.2", False),
        ("~1", "1.9.0", True),
        (">=1,<2", "1.5.0", True),
        (">=1,<2", "2.0.0", False),
        (">=1 <2", "0.9.9", False),
        ("1.2.3", "1.2.3", True),
        ("=1.2.3", "1.2.4", False),
        ("1.2", "1.2.9", True),
        ("1.2", "1.3.0", False),
        ("*", "7.0.0", True),
        ("^1 || ^3", "3.4.0", True),
        ("^1 || ^3", "2.0.0", False),
        (">1.2", "1.2.5", False),
        (">1.2", "1.3.0", True),
        ("<=1.2", "1.2.5", True),
    ],
)
def test_ranges(text: str, version: str, inside: bool) -> None:
    assert parse_range(text).contains(parse_version(version)) is inside


def test_precedence_follows_semver() -> None:
    order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-beta.2", "1.0.0", "1.0.1"]
    versions = [parse_version(v) for v in order]
    assert versions == sorted(reversed(versions))
    assert str(parse_version("v2.3.4+build.7")) == "2.3.4"


@pytest.mark.parametrize("text", ["1", "1.2", "01.2.3", "1.2.3.4", "one", ""])
def test_bad_versions(text: str) -> None:
    with pytest.raises(ValueError, match="semantic version"):
        parse_version(text)


@pytest.mark.parametrize("text", ["", "^", ">=", "abc", "^1.x.y.z", "1 || "])
def test_bad_ranges(text: str) -> None:
    with pytest.raises(ValueError, match="range"):
        parse_range(text)
