"""The sections of the run report, one module each: ``RunData`` (+ extras) → HTML.

Input: a ``RunData`` (``report/data.py``) and, for the text sections, the
``TextStats`` and ``Diversity`` of ``report/textstats.py``. Output: HTML fragments,
every string from the run directory escaped, with inline SVG charts from
``synthdsl.charts``: ``header``, ``alerts``/``render_alerts``, ``attrition``,
``loops``, ``judge_scores``, ``lengths``, ``diversity_section``, ``mix``,
``contamination``, ``targeted``, ``models`` and ``rejects``, in the order of the page. ``markup``
holds the HTML pieces and number formats they
share. Errors: none on purpose: a manifest missing keys renders as "—"/"no data", and
the optional ``synthdsl.analysis.diversity`` module failing in any way turns its
section into "diversity metrics unavailable".
"""

from __future__ import annotations

from synthdsl.report.sections.alerts import Alert, alerts, render_alerts
from synthdsl.report.sections.attrition import attrition, node_order
from synthdsl.report.sections.contamination import contamination, has_contamination
from synthdsl.report.sections.diversity import diversity_section
from synthdsl.report.sections.header import header
from synthdsl.report.sections.lengths import lengths
from synthdsl.report.sections.loops import loops
from synthdsl.report.sections.mix import mix
from synthdsl.report.sections.models import models
from synthdsl.report.sections.rejects import rejects
from synthdsl.report.sections.scores import has_judges, judge_scores
from synthdsl.report.sections.targeted import has_targeted, targeted

__all__ = [
    "Alert",
    "alerts",
    "attrition",
    "contamination",
    "diversity_section",
    "has_contamination",
    "has_judges",
    "has_targeted",
    "header",
    "judge_scores",
    "lengths",
    "loops",
    "mix",
    "models",
    "node_order",
    "rejects",
    "render_alerts",
    "targeted",
]
