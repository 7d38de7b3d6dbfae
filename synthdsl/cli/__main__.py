"""``python -m synthdsl.cli``: the same as the ``synthdsl`` command."""

from synthdsl.cli import main

raise SystemExit(main())
