"""How a command ends: the one map from an exception to an exit code.

Takes a command's handler and its parsed arguments (``exit_code``) or a usage error
found by argparse (``CommandParser``). Gives the exit code, with the error on stderr:

- 0: the handler returned 0 (a handler may return 1 where a command documents it,
  e.g. ``stats --fail-on-flags``);
- 2: ``RecipeError``, rendered as ``file:line:col: error: ...`` with the source line,
  a caret and the hint; ``UsageError`` and argparse usage errors, as
  ``synthdsl: error: ...`` (argparse errors raise ``SystemExit(2)``, as argparse does);
- 1: ``RunError`` and any other ``SynthdslError`` (their ``exit_code``), as
  ``synthdsl: error: ...``;
- 130: ``KeyboardInterrupt``; an ``Interrupted`` carries the message to print (what was
  kept, how to resume) and its code (143 when the run was stopped by SIGTERM, 3 when
  ``run`` stopped at its ``--max-calls`` / ``--max-cost`` budget);
- 1: any other exception: ``synthdsl: internal error (a bug)`` and a short traceback;
  with ``SYNTHDSL_DEBUG=1`` the exception propagates with its full traceback.

Raises nothing itself, except ``SystemExit`` for usage errors and the unexpected
exception under ``SYNTHDSL_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from synthdsl.errors import Diagnostic, RecipeError, SynthdslError, render_diagnostics

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_BUDGET",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "CommandParser",
    "Interrupted",
    "UsageError",
    "exit_code",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_TERMINATED = 143  # 128 + SIGTERM: what Kubernetes, Slurm, systemd and Ray send
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a command whose reader left
EXIT_BUDGET = 3  # --max-calls / --max-cost reached: everything done is written; re-run resumes


class UsageError(SynthdslError):
    """An option value the command cannot use (exit 2), found after argparse."""

    exit_code = EXIT_USAGE


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, SIGTERM or a budget stop, with what the user should read: what was kept
    and how to resume; ``code`` is the exit code (130 for Ctrl-C, 143 for SIGTERM, 3 for
    a budget)."""

    def __init__(self, message: str, code: int = EXIT_INTERRUPTED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose usage errors read ``synthdsl: error: ...`` and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"synthdsl: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def exit_code(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run ``handler(args)``; its return value, or the exit code of what it raised."""
    try:
        return int(handler(args))
    except RecipeError as exc:
        _print_diagnostics(exc.diagnostics, exc.texts)
        return EXIT_USAGE
    except SynthdslError as exc:
        sys.stderr.write(f"synthdsl: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt as exc:
        if isinstance(exc, Interrupted):
            sys.stderr.write(exc.message)
            return exc.code
        sys.stderr.write("\ninterrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (``synthdsl schema | head``): stop quietly, as a shell
        # command killed by SIGPIPE does; the flush at exit must not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception:
        if os.environ.get("SYNTHDSL_DEBUG"):
            raise
        sys.stderr.write("synthdsl: internal error (a bug); details:\n")
        sys.stderr.write("".join(traceback.format_exc(limit=3)))
        return EXIT_FAILED


def _print_diagnostics(diags: Sequence[Diagnostic], texts: dict[str, str] | None = None) -> None:
    """The diagnostics on stderr, quoting the lines of the files they point into (``texts``:
    the files the compiler read, by the names it gave them, e.g. a pack's)."""
    sources: dict[str, str] = dict(texts or {})
    for d in diags:
        if d.span is not None and d.span.file not in sources:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                sources[d.span.file] = Path(d.span.file).read_text("utf-8")
    sys.stderr.write(render_diagnostics(diags, sources))
