"""The failure-rate guard: a run whose steps fail too many records has failed.

Input: the per-node stats of a finished run, one example error per (node, failure
kind) and the threshold (``max_failure_rate``: the CLI's ``--max-failure-rate``, else
the recipe's ``run: {max_failure_rate: ...}``, else ``DEFAULT_MAX_FAILURE_RATE``).
Output: ``check_failure_rate(...) -> FailureReport``: the nodes over the threshold,
each with its top failure kinds, counts and an example message, as text for the error
and as data for the manifest. Raises nothing (the session raises ``RunError`` with
``report.message`` when ``report.exceeded``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from synthdsl.nodes.accounting import NodeStats

__all__ = ["DEFAULT_MAX_FAILURE_RATE", "FailureReport", "check_failure_rate", "threshold_for"]

DEFAULT_MAX_FAILURE_RATE = 0.5
_TOP = 3


def threshold_for(option: float | None, run_settings: dict[str, Any]) -> float:
    """The threshold that applies: the command line's, the recipe's, or the default."""
    if option is not None:
        return float(option)
    value = run_settings.get("max_failure_rate")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return DEFAULT_MAX_FAILURE_RATE


@dataclass
class FailureReport:
    threshold: float
    over: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exceeded(self) -> bool:
        return bool(self.over)

    @property
    def message(self) -> str:
        lines = []
        for node in self.over:
            reasons = "; ".join(
                f"{r['kind']} x{r['count']}" + (f" (e.g. {r['example']})" if r["example"] else "")
                for r in node["top"]
            )
            lines.append(
                f"step '{node['node']}' failed {node['failed']} of {node['in']} records "
                f"({node['rate']:.0%}): {reasons}"
            )
        return (
            f"too many records failed (max_failure_rate {self.threshold:g}):\n  "
            + "\n  ".join(lines)
            + "\n  rejects.jsonl lists every failure; raise the threshold with "
            "--max-failure-rate or 'run: {max_failure_rate: ...}' to keep such a run"
        )

    def to_json(self) -> dict[str, Any]:
        return {"max": self.threshold, "exceeded": self.over}


def check_failure_rate(
    stats: dict[str, NodeStats], examples: dict[tuple[str, str], str], threshold: float
) -> FailureReport:
    """The nodes whose failed / in is above ``threshold``, in node order."""
    report = FailureReport(threshold)
    for node_id, st in stats.items():
        failed = sum(st.failed.values())
        if st.records_in <= 0 or failed == 0 or failed / st.records_in <= threshold:
            continue
        top = sorted(st.failed.items(), key=lambda kv: (-kv[1], kv[0]))[:_TOP]
        report.over.append(
            {
                "node": node_id,
                "in": st.records_in,
                "failed": failed,
                "rate": round(failed / st.records_in, 4),
                "top": [
                    {"kind": kind, "count": count, "example": examples.get((node_id, kind), "")}
                    for kind, count in top
                ],
            }
        )
    return report
