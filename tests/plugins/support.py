"""Plugin packages installed for real, and the CLI run on them in a subprocess.

``install_package`` builds a package folder with pip, offline (``--no-index
--no-build-isolation``: the build backend comes from this venv, see the ``dev`` extra)
into a ``--target`` folder; a subprocess with that folder on ``PYTHONPATH`` sees its
entry points as any installed package's. Each package is built once per session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "tests" / "plugin_pkg"


def install_package(source: Path, target: Path) -> Path:
    """``pip install --no-deps`` of the package folder ``source`` into ``target``,
    offline; the build happens in a copy, so the repository stays clean."""
    work = target.parent / f"{target.name}-src"
    shutil.copytree(source, work)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(work),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return target


def write_package(root: Path, name: str, files: dict[str, str], entry_points: str) -> Path:
    """A package folder: ``pyproject.toml`` with ``entry_points`` (TOML tables) and
    the module files under ``src/``."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=70.1"]\n'
        'build-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "1.0.0"\n\n'
        f"{entry_points}\n"
        '[tool.setuptools.packages.find]\nwhere = ["src"]\n',
        encoding="utf-8",
    )
    for rel, text in files.items():
        path = root / "src" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@dataclass(frozen=True)
class Done:
    code: int
    out: str
    err: str


Cli = Callable[..., Done]


def cli_with(*sites: Path) -> Cli:
    """A runner of ``synthdsl ARGS`` in a subprocess that sees the packages in ``sites``."""

    def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Done:
        full = {k: v for k, v in os.environ.items() if k != "SYNTHDSL_NO_PLUGINS"}
        full["PYTHONPATH"] = os.pathsep.join([str(REPO), *map(str, sites)])
        full["SYNTHDSL_CACHE"] = str(cwd / "cache.sqlite")
        full["SYNTHDSL_RETRY_BASE"] = "0.01"
        full.update(env or {})
        done = subprocess.run(
            [sys.executable, "-m", "synthdsl.cli", *args],
            cwd=cwd,
            env=full,
            capture_output=True,
            text=True,
            check=False,
        )
        return Done(done.returncode, done.stdout, done.stderr)

    return run
