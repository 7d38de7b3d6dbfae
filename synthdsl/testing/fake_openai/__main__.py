"""``python -m synthdsl.testing.fake_openai``: runs the fake server's command line.

Takes the command-line arguments of ``cli.main``; gives its exit status. Raises what
``cli.main`` raises.
"""

from __future__ import annotations

import sys

from synthdsl.testing.fake_openai.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main())
