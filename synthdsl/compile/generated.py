"""Which output fields a model wrote: the fields LLM nodes add, by the node that wrote them.

Input: a compiled ``Graph`` whose fields are propagated (``compile/fields.py``).
Output: ``generated_fields(graph) -> dict[str, str]``, field → id of the last node
that calls a model (its kind has ``llm_use``) and adds the field, in DAG order (loop
bodies after their loop), kept only when the output step's records carry the field
(all of them when the output's fields are not known). The run writes it to the
manifest, and the report measures lengths and diversity on these fields first.
Raises nothing.
"""

from __future__ import annotations

from synthdsl.ir import Graph
from synthdsl.nodes import node_kind

__all__ = ["generated_fields"]


def generated_fields(graph: Graph) -> dict[str, str]:
    written: dict[str, str] = {}
    for node in graph.walk():
        kind = node_kind(node.kind)
        if node.body is not None or kind.llm_use(node.config) is None:
            continue
        # with no upstream fields, a kind's output fields are the ones it adds
        for name in kind.output_fields(node.config, []):
            if name != "*":
                written.pop(name, None)  # re-insert: the order is the last writer's
                written[name] = node.id
    out_fields = graph.nodes[graph.output].fields
    if "*" in out_fields:
        return written
    return {f: nid for f, nid in written.items() if f in out_fields}
