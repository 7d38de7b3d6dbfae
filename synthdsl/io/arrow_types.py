"""Column types for the Parquet writer: one Arrow type per column, inferred from rows.

Input: the ``pyarrow`` module (passed in: it is imported lazily by the writer), batches
of column values, and the types found so far. Output: ``infer`` (the type of one
batch's values, or None when they share none), ``unify`` (one type holding two: ints
and floats meet at float64, lists unify their items, structs the union of their
fields, null gives way to anything), and ``final_types`` (the type each column is
written with: ``JSON_COLUMN`` when its values share no type or Parquet cannot store
it, a string column for nulls only).

Raises nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["JSON_COLUMN", "JsonColumn", "final_types", "infer", "unify"]


class JsonColumn:
    """Column-type marker: the column stores each value's JSON text."""


JSON_COLUMN = JsonColumn()


def infer(pa: Any, values: list[Any]) -> Any:
    """The Arrow type of one batch's values, or None when they do not share one."""
    try:
        return pa.array(values).type
    except (pa.lib.ArrowException, ValueError, TypeError, OverflowError):
        return None


def unify(pa: Any, a: Any, b: Any) -> Any:
    """One Arrow type holding values of types ``a`` and ``b``, or None.

    Null (nothing known yet) gives way to anything, int64 and float64 meet at float64,
    lists unify their items and structs the union of their fields.
    """
    if pa.types.is_null(a):
        return b
    if pa.types.is_null(b) or a.equals(b):
        return a
    numeric = (pa.int64(), pa.float64())
    if any(a.equals(t) for t in numeric) and any(b.equals(t) for t in numeric):
        return pa.float64()
    if pa.types.is_list(a) and pa.types.is_list(b):
        item = unify(pa, a.value_type, b.value_type)
        return None if item is None else pa.list_(item)
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        fields: dict[str, Any] = {a.field(i).name: a.field(i).type for i in range(a.num_fields)}
        for i in range(b.num_fields):
            field = b.field(i)
            if field.name in fields:
                joined = unify(pa, fields[field.name], field.type)
                if joined is None:
                    return None
                fields[field.name] = joined
            else:
                fields[field.name] = field.type
        return pa.struct(list(fields.items()))
    return None


def _writable(pa: Any, typ: Any) -> bool:
    """False for Arrow types Parquet cannot store (a struct with no fields)."""
    if pa.types.is_struct(typ):
        return typ.num_fields > 0 and all(
            _writable(pa, typ.field(i).type) for i in range(typ.num_fields)
        )
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return _writable(pa, typ.value_type)
    return True


def final_types(pa: Any, columns: dict[str, Any]) -> dict[str, Any]:
    """The type each column is written with, from the types unified over all rows."""
    out: dict[str, Any] = {}
    for name, typ in columns.items():
        if typ is JSON_COLUMN or not _writable(pa, typ):
            out[name] = JSON_COLUMN
        elif pa.types.is_null(typ):
            out[name] = pa.string()
        else:
            out[name] = typ
    return out
