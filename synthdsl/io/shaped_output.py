"""Items in, dataset rows out: the one path from records to a dataset's shape.

``synthdsl run`` (``run/output.py``, items are records) and ``synthdsl save-as`` (items
are the input file's lines) both write through ``ShapedOutput``, so a shape, its field
mapping and the provenance rule cannot differ between them.

Input: the ``OutputDecl`` (shape, ``fields``, field mapping, ``pairs_from``), the
``DatasetFiles`` to write, and ``OutputEvents`` told what became of each item; then
``add(item, data, provenance)`` per item and ``finish()`` once. Output: rows in the
shape (``shape_row``: ``records``, the chat shapes of ``synthdsl.io.chat``,
``preference`` of ``synthdsl.io.preference``, ``conversation`` of
``synthdsl.io.conversation``), written at once; with ``pairs_from`` the items are held
and ``finish()`` writes one preference row per prompt (``synthdsl.io.pairs``, plus
``score_chosen`` and ``score_rejected``) and reports the other items as dropped.

Every item is reported once: ``kept`` (it is in a written row), ``dropped`` (a reason)
or ``failed`` (the shape's error: a missing field, a conversation whose turns do not
alternate, ...). ``DatasetFiles`` raises ``SinkError`` when a file cannot be written.
"""

from __future__ import annotations

from typing import Any, Generic, Protocol, TypeVar

from synthdsl.io.chat import CHAT_FORMATS, to_format
from synthdsl.io.conversation import to_conversation
from synthdsl.io.dataset_files import DatasetFiles
from synthdsl.io.json_text import SinkError
from synthdsl.io.pairs import Pair, PairBuilder
from synthdsl.io.preference import preference_row, to_preference
from synthdsl.ir import OutputDecl

__all__ = ["SHAPES", "OutputEvents", "ShapedOutput", "shape_row"]

SHAPES = (*CHAT_FORMATS, "preference", "conversation")

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class OutputEvents(Protocol[T_contra]):
    """What became of each item given to ``ShapedOutput``."""

    def kept(self, item: T_contra) -> None: ...

    def dropped(self, item: T_contra, reason: str) -> None: ...

    def failed(self, item: T_contra, error: str) -> None: ...


def select_fields(data: dict[str, Any], decl: OutputDecl) -> dict[str, Any]:
    """``data`` cut to ``decl.fields`` (all when unset); SinkError for one it lacks."""
    if decl.fields is None:
        return data
    missing = [k for k in decl.fields if k not in data]
    if missing:
        raise SinkError(f"record has no field '{missing[0]}'")
    return {k: data[k] for k in decl.fields}


def shape_row(data: dict[str, Any], decl: OutputDecl) -> dict[str, Any]:
    """One item's fields as a row of ``decl.shape`` (not ``pairs_from``, which pairs
    items); SinkError when they do not fit it."""
    if decl.shape == "preference":
        return to_preference(
            data,
            prompt_field=decl.prompt_field,
            chosen_field=decl.chosen_field,
            rejected_field=decl.rejected_field,
            style=decl.preference_style,
            system=decl.system,
        )
    if decl.shape == "conversation":
        return to_conversation(
            data, turns_field=decl.turns_field, style=decl.style, system=decl.system
        )
    return to_format(
        data,
        decl.shape,
        instruction_field=decl.instruction_field,
        input_field=decl.input_field,
        response_field=decl.response_field,
        system=decl.system,
    )


class ShapedOutput(Generic[T]):
    """See the module docstring."""

    def __init__(self, decl: OutputDecl, files: DatasetFiles, events: OutputEvents[T]) -> None:
        self.decl = decl
        self.files = files
        self.events = events
        self.pairs: PairBuilder[tuple[T, dict[str, Any] | None]] | None = (
            PairBuilder(decl.pairs_from) if decl.pairs_from is not None else None
        )

    @property
    def written(self) -> int:
        return self.files.rows

    def add(self, item: T, data: dict[str, Any], provenance: dict[str, Any] | None) -> None:
        try:
            data = select_fields(data, self.decl)
            if self.pairs is not None:
                self.pairs.add((item, provenance), data)
                return
            row = shape_row(data, self.decl)
        except Exception as exc:  # a record that does not fit the shape fails alone
            self.events.failed(item, str(exc))
            return
        self.files.write(row, provenance)
        self.events.kept(item)

    def add_block(self, items: list[tuple[T, dict[str, Any], dict[str, Any] | None]]) -> None:
        """``add`` for each ``(item, data, provenance)``; rows of the ``records`` shape
        (all fields, no pairs) are written together."""
        decl = self.decl
        if self.pairs is not None or decl.fields is not None or decl.shape != "records":
            for item, data, provenance in items:
                self.add(item, data, provenance)
            return
        self.files.write_block([(data, provenance) for _, data, provenance in items])
        kept = self.events.kept
        for item, _, _ in items:
            kept(item)

    def finish(self) -> None:
        """Write the pairs (``pairs_from``) and report the items left out of them."""
        if self.pairs is None:
            return
        for outcome in self.pairs.finish():
            if isinstance(outcome, Pair):
                self._write_pair(outcome)
            else:
                self.events.dropped(outcome.item[0], outcome.reason)

    def _write_pair(self, pair: Pair[tuple[T, dict[str, Any] | None]]) -> None:
        (chosen, chosen_prov), (rejected, rejected_prov) = pair.chosen, pair.rejected
        try:
            row = preference_row(
                pair.prompt,
                pair.chosen_text,
                pair.rejected_text,
                style=self.decl.preference_style,
                system=self.decl.system,
            )
        except SinkError as exc:
            self.events.failed(chosen, str(exc))
            self.events.failed(rejected, str(exc))
            return
        row["score_chosen"] = pair.chosen_score
        row["score_rejected"] = pair.rejected_score
        provenance = None
        if chosen_prov is not None or rejected_prov is not None:
            provenance = {"chosen": chosen_prov, "rejected": rejected_prov}
        self.files.write(row, provenance)
        self.events.kept(chosen)
        self.events.kept(rejected)
