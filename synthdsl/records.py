"""Records: the unit of data flowing between nodes.

A ``Record`` holds the user-visible fields (``data``) and provenance: a deterministic
id, the ids of the records it came from, the node path that made it and per-node
metadata (model, prompt hash). Ids are derived from content and lineage, never from
time or randomness, so a re-run makes the same ids and hits the same cache entries.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["INHERITED_META", "Record", "canonical_json", "derive_id", "derive_ids", "stable_hash"]

# Metadata that children inherit: {loop id: id of the round input it descends from},
# {switch id: index of the case taking the record} while a record is inside a switch, and
# {node, group}: the ``allocate`` step and the group of failures a record was made for.
INHERITED_META = ("loop_parents", "switch", "target")


def _canonical_encoder() -> Any:
    """``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    default=str)``'s C encoder, made once: the same text, without building a
    ``JSONEncoder`` per call (cache keys are computed for every call of a run)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has _json
        return None
    # markers, default, string encoder, indent, key separator, item separator,
    # sort_keys, skipkeys, allow_nan (as JSONEncoder.iterencode passes them)
    return make(None, str, json.encoder.encode_basestring, None, ":", ",", True, False, True)


_CANONICAL = _canonical_encoder()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the input of every content hash."""
    if _CANONICAL is not None:
        try:
            return "".join(_CANONICAL(value, 0))
        except RecursionError:  # a cycle or deep nesting: json.dumps says which
            pass
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def stable_hash(value: Any, length: int = 16) -> str:
    """A short hex sha256 of ``value``'s canonical JSON."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()[:length]


def derive_id(node: str, parents: tuple[str, ...], index: int = 0) -> str:
    """The id of the ``index``-th record a node makes from ``parents``.

    Node paths and ids contain no control characters, so joining with US/RS separators
    is unambiguous (and much cheaper than canonical JSON on the hot path).
    """
    text = f"{node}\x1f{chr(30).join(parents)}\x1f{index}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def derive_ids(node: str, parents: tuple[str, ...], start: int, stop: int) -> list[str]:
    """``[derive_id(node, parents, i) for i in range(start, stop)]``, the common prefix
    hashed once (a source's ids: about half the cost per id)."""
    base = hashlib.sha256(f"{node}\x1f{chr(30).join(parents)}\x1f".encode())
    out = []
    for i in range(start, stop):
        h = base.copy()
        h.update(str(i).encode())
        out.append(h.hexdigest()[:16])
    return out


@dataclass
class Record:
    """One row of data and where it came from."""

    id: str
    data: dict[str, Any]
    parents: tuple[str, ...] = ()
    node: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def child(self, node: str, data: dict[str, Any], index: int = 0, **meta: Any) -> Record:
        """A record derived from this one by ``node`` (its ``index``-th output).

        Lineage keys (``INHERITED_META``) pass from parent to child, so a loop can tell
        which of its round's inputs each output descends from.
        """
        new_meta = {k: self.meta[k] for k in INHERITED_META if k in self.meta}
        new_meta.update({k: v for k, v in meta.items() if v is not None})
        return Record(
            id=derive_id(node, (self.id,), index),
            data=data,
            parents=(self.id,),
            node=node,
            meta=new_meta,
        )

    def provenance(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "parents": list(self.parents), "node": self.node}
        out.update(self.meta)
        return out

    def to_line(self) -> str:
        """The whole record as one JSON line (for spilling to disk and back)."""
        return json.dumps(
            {"i": self.id, "p": list(self.parents), "n": self.node, "m": self.meta, "d": self.data},
            ensure_ascii=False,
            default=str,
        )

    @classmethod
    def from_line(cls, line: str) -> Record:
        raw = json.loads(line)
        return cls(
            id=raw["i"], data=raw["d"], parents=tuple(raw["p"]), node=raw["n"], meta=raw["m"]
        )

    def to_json(self) -> dict[str, Any]:
        """The record as written to a dataset: fields plus a ``_provenance`` object."""
        out = dict(self.data)
        out["_provenance"] = self.provenance()
        return out
