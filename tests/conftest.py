"""Shared fixtures: the loopback OpenAI-compatible server and a scratch project dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import write_pack
from install_support import Installed, build_wheel, install_wheel

from synthdsl.testing.fake_openai import FakeOpenAIServer

REPO = Path(__file__).resolve().parent.parent

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture(scope="session")
def ray_instance() -> Iterator[Any]:
    """One local Ray (``ray.init(num_cpus=2)``) for every Ray executor test of the
    session: starting Ray takes seconds. The executor finds it running and leaves it."""
    import logging  # the level Ray logs at, set below

    import ray  # only the Ray executor's tests start Ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield ray
    ray.shutdown()


@pytest.fixture
def server(fake_server: FakeOpenAIServer) -> Iterator[FakeOpenAIServer]:
    """The shared server, reset and with no latency, for one test."""
    fake_server.reset()
    fake_server.set_latency(0.0)
    yield fake_server
    fake_server.set_latency(0.0)


@pytest.fixture(autouse=True)
def user_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's recipe-pack folder, inside the test's temporary folder (never
    ~/.local), and no folders allowed to packs beyond their own."""
    store = tmp_path / "user-packs"
    monkeypatch.setenv("SYNTHDSL_PACKS_HOME", str(store))
    monkeypatch.delenv("SYNTHDSL_ALLOW_READ", raising=False)
    return store


@pytest.fixture
def pack_src(tmp_path: Path) -> Path:
    """A valid pack folder (what ``pack new demo`` writes), outside the project."""
    return write_pack(tmp_path / "src" / "demo")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch working directory with its own call cache and fast retries."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYNTHDSL_CACHE", str(tmp_path / "cache.sqlite"))
    monkeypatch.setenv("SYNTHDSL_RETRY_BASE", "0.01")
    return tmp_path


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built once per session (``install_support``)."""
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """A fresh venv holding the wheel, not editable: what ``pip install`` gives a user."""
    return install_wheel(wheel, tmp_path_factory.mktemp("fresh") / "venv")
