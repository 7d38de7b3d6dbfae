"""Fixtures of the plugin tests: the example plugin package, installed once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import EXAMPLE, Cli, cli_with, install_package


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin package (tests/plugin_pkg), installed once per session."""
    return install_package(EXAMPLE, tmp_path_factory.mktemp("example") / "site")


@pytest.fixture(scope="session")
def cli(example_site: Path) -> Cli:
    """``synthdsl`` with the example plugin installed."""
    return cli_with(example_site)
