"""``python -m synthdsl.cli.docqa VERB ...``: the same as ``synthdsl VERB ...``."""

from synthdsl.cli.docqa import main

raise SystemExit(main())
