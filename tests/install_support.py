"""A non-editable install of the built wheel, as a user gets it from ``pip install``.

The wheel is built once per test session from a clean copy of the project (what a fresh
clone holds, so no ``build/`` left over can fill gaps), offline (the test venv holds the
build backend), then installed with ``--no-deps`` into a new virtual environment. Its
dependencies come from the test venv through a ``.pth`` line (tests reach only
loopback); that line only adds the folder to ``sys.path``, so the checkout's
editable-install hook there stays inactive and ``import synthdsl`` finds the wheel's
copy, which the ``installed`` fixture checks.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIP = (sys.executable, "-m", "pip", "-q")


def clean_copy(dest: Path) -> Path:
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


@dataclass(frozen=True)
class Installed:
    """A venv holding the wheel: run its ``synthdsl`` from any folder."""

    venv: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def run(
        self, *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        """``synthdsl ARGS`` in ``cwd``, with a cache of its own and fast retries."""
        full = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        full |= {"SYNTHDSL_RETRY_BASE": "0.01", "SYNTHDSL_CACHE": str(cwd / "cache.sqlite")}
        full |= env or {}
        return subprocess.run(
            [str(self.venv / "bin" / "synthdsl"), *args],
            cwd=cwd,
            env=full,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def build_wheel(tmp: Path) -> Path:
    """``synthdsl-*.whl`` built from a clean copy of the project, in ``tmp``."""
    source = clean_copy(tmp / "src")
    proc = subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (built,) = (tmp / "dist").glob("synthdsl-*.whl")
    return built


def install_wheel(wheel: Path, venv: Path) -> Installed:
    """A fresh venv at ``venv`` with the wheel installed (not editable) and a
    ``synthdsl`` command."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (target,) = (venv / "lib").glob("python3*/site-packages")
    (target / "dev-deps.pth").write_text(site.getsitepackages()[0] + "\n", encoding="utf-8")
    proc = subprocess.run(
        [*PIP, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    # pip --target writes no console script: make the one a user's pip would.
    script = venv / "bin" / "synthdsl"
    script.write_text(
        f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom synthdsl.cli import main\n"
        "sys.exit(main())\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import synthdsl; print(synthdsl.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=venv,
        # as Installed.run: a PYTHONPATH (a worktree's checkout) would hide the wheel
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    ).stdout.strip()
    assert Path(where).is_relative_to(target), where
    return Installed(venv)
