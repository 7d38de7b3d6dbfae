"""The ``email_share`` metric of ``synthdsl stats``: the share of texts with an e-mail."""

from __future__ import annotations

from collections.abc import Iterable

from synthdsl.analysis.diversity.plugin_metrics import MetricSpec
from synthdsl_example_plugin import EMAIL


def email_share(texts: Iterable[str]) -> float | None:
    total = with_email = 0
    for text in texts:
        total += 1
        with_email += EMAIL.search(text) is not None
    return with_email / total if total else None


EMAIL_SHARE = MetricSpec("email_share", email_share, "share of texts with an e-mail address")
