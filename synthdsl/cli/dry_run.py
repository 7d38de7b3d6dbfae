"""``synthdsl run RECIPE --dry-run [-n N]``: the plan and the first prompts, no call.

Takes a compiled recipe and ``n``. Prints on stdout the plan's text, then, for every
step that calls a model, its first ``n`` prompts rendered from real source rows
(``synthdsl.run.dry_run``), each message under its role; a value that a step upstream
would write shows as ``⟨step.field⟩`` and the step's header lists those placeholders.
No call is made, no run folder, cache or report is written. Exit 0; a prompt that
does not render is shown with its error (the run would record it as a failure).
Raises ``RunError`` (exit 1) when a source cannot be read.
"""

from __future__ import annotations

from synthdsl import api
from synthdsl.ir import CompiledRecipe
from synthdsl.run.dry_run import NodePrompts, render_prompts

__all__ = ["dry_run"]

_RULE = "─" * 60


def dry_run(compiled: CompiledRecipe, n: int) -> str:
    """The text ``--dry-run`` prints."""
    plan = api.build_plan(compiled)
    nodes = render_prompts(compiled, n)
    parts = [plan.to_text().rstrip("\n"), ""]
    if not nodes:
        parts.append("dry run: no step calls a model; nothing to render.")
    else:
        parts.append(
            f"dry run: the first {n} prompt(s) of each of {len(nodes)} LLM step(s); "
            "no call made, nothing written. ⟨step.field⟩ stands for a value that step "
            "would write during the run."
        )
    for node in nodes:
        parts += ["", *_node_text(node)]
    return "\n".join(parts) + "\n"


def _node_text(node: NodePrompts) -> list[str]:
    lines = [_RULE, f"{node.node} ({node.kind}, model {node.model})"]
    if node.placeholders:
        lines.append(f"placeholders (filled during the run): {', '.join(node.placeholders)}")
    for p in node.prompts:
        where = f"source {p.source}, row {p.row}" if p.source else f"record {p.row}"
        lines.append(f"· prompt {p.row + 1} ({where})")
        if p.error is not None:
            lines.append(f"  does not render: {p.error}")
            continue
        for m in p.messages:
            lines.append(f"  [{m['role']}]")
            lines += [f"    {line}" for line in m["content"].splitlines() or [""]]
    return lines
