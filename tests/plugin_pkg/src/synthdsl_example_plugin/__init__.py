"""An example synthdsl plugin: ``redact_emails`` steps, ``email_count`` and
``email_domain`` in filter expressions, and the ``email_share`` stats metric.

Nothing runs when this package is imported: synthdsl loads each entry point
(``pyproject.toml``) the first time a recipe or a command needs it.
"""

import re

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
"""An e-mail address; group 1 is its domain."""
