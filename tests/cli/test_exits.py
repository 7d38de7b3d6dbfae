"""The CLI's one map from exceptions to exit codes, and its lazily loaded commands."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from synthdsl.cli import COMMANDS, main
from synthdsl.cli.exits import Interrupted, UsageError, exit_code
from synthdsl.errors import RecipeError, RunError, Span

REPO = Path(__file__).resolve().parents[2]


def _raising(exc: BaseException) -> int:
    def handler(args: argparse.Namespace) -> int:
        raise exc

    return exit_code(handler, argparse.Namespace())


def test_errors_map_to_their_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNTHDSL_DEBUG", raising=False)
    assert exit_code(lambda args: 0, argparse.Namespace()) == 0
    assert exit_code(lambda args: 1, argparse.Namespace()) == 1

    recipe = tmp_path / "r.yaml"
    recipe.write_text("synthdsl: 1\nsteps: oops\n", "utf-8")
    error = RecipeError.single(Span(str(recipe), 2, 8), "steps must be a list", "use - id: ...")
    assert _raising(error) == 2
    assert capsys.readouterr().err == (
        f"{recipe}:2:8: error: steps must be a list\n"
        "     2 | steps: oops\n"
        "       |        ^\n"
        "  hint: use - id: ...\n"
        "1 error found\n"
    )
    assert _raising(UsageError("bad value")) == 2
    assert capsys.readouterr().err == "synthdsl: error: bad value\n"
    assert _raising(RunError("cannot go on")) == 1
    assert capsys.readouterr().err == "synthdsl: error: cannot go on\n"
    assert _raising(KeyboardInterrupt()) == 130
    assert capsys.readouterr().err == "\ninterrupted\n"
    assert _raising(Interrupted("\nstopped; resume with: x\n")) == 130
    assert capsys.readouterr().err == "\nstopped; resume with: x\n"
    assert _raising(ZeroDivisionError("boom")) == 1
    err = capsys.readouterr().err
    assert err.startswith("synthdsl: internal error (a bug); details:\n")
    assert "ZeroDivisionError: boom" in err

    monkeypatch.setenv("SYNTHDSL_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        _raising(ZeroDivisionError("boom"))


def test_only_the_named_command_is_imported() -> None:
    code = (
        "import sys\n"
        "from synthdsl.cli import main\n"
        "assert main(['validate', 'examples/quickstart.yaml']) == 0\n"
        "print('REPORT', 'synthdsl.report' in sys.modules)\n"
        "print('LOADED', sorted(m for m in sys.modules if m.startswith('synthdsl.cli.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    loaded = out.split("LOADED", 1)[1]
    assert "synthdsl.cli.core" in loaded
    for module in {m for m, _ in COMMANDS.values()} - {"synthdsl.cli.core"}:
        assert f"'{module}'" not in loaded and f"'{module}." not in loaded, module
    assert "REPORT False" in out


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "synthdsl.cli", "validate", "examples/quickstart.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout.startswith("examples/quickstart.yaml: ok")


def test_a_reader_that_leaves_early_is_no_internal_error() -> None:
    """``synthdsl schema | head``: the closed pipe ends the command quietly (141)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "synthdsl.cli", "schema"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the command writes anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert "internal error" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("verb", "option", "message"),
    [
        ("run", ["--concurrency", "-3"], "argument --concurrency: must be at least 1, got -3"),
        ("run", ["--concurrency", "0"], "argument --concurrency: must be at least 1, got 0"),
        ("run", ["--limit", "-5"], "argument --limit: must be 0 or more, got -5"),
        ("run", ["--limit", "many"], "argument --limit:"),
    ],
)
def test_bad_numbers_on_the_command_line_are_usage_errors(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    verb: str,
    option: list[str],
    message: str,
) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "synthdsl: 1\nsources:\n  s: {records: [{x: 1}]}\nsteps:\n  - id: f\n    filter: 'x > 0'\n",
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as caught:
        main([verb, str(recipe), "--out", str(tmp_path / "out"), *option])
    assert caught.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
