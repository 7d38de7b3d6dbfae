"""Fixtures of the compiler stage tests: a scratch working folder with a known default model."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` as the working folder (so files are named relative to it), and no
    ``$SYNTHDSL_MODEL`` (so the default alias is the embedded model)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SYNTHDSL_MODEL", raising=False)
    return tmp_path
