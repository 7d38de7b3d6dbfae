"""Filter expressions: ``score >= 8 and words(text) > 3``.

Input: the text of a ``filter:`` (or any expression field) and the ``Span`` where it
starts in the recipe. Output: ``parse_expression`` returns an ``Expression`` whose
``fields()``/``field_spans()`` say which record fields it reads and whose
``evaluate(record)`` computes its value (callers use ``bool()`` to filter). Errors:
``parse_expression`` raises ``RecipeError`` (syntax errors at their exact position in
the recipe file, unknown functions with a did-you-mean hint, wrong arities, invalid
regex literals); ``evaluate`` raises ``ExpressionRuntimeError`` (a ``RunError``) for a
missing field or a type error, which the runtime records as that record's failure.

Language (grammar in ``filter.lark``), loosest binding first:

- ``or``, ``and``, ``not``: short-circuit; ``and``/``or`` return an operand like Python.
- comparisons ``== != < <= > >= in``, ``not in``; chains like ``1 <= x < 10`` work.
  ``==``/``!=`` never raise (``x == null`` tests for null; a boolean only equals a
  boolean). Ordering needs two numbers or two strings: ``"a" < 3`` and ``null > 1``
  raise. ``in`` tests a substring, a list item or an object key.
- ``+ -`` then ``* / %``, unary ``-``/``+``; ``+`` also joins two strings or two lists;
  ``/`` is true division; division by zero raises.
- field access: ``score``, ``meta.source``, ``items[0]``, ``items[-1]``, ``row["key"]``.
- literals: ``12``, ``1.5``, ``2e3``, ``"double"`` or ``'single'`` quoted strings,
  ``true``, ``false``, ``null``, lists ``[1, 2]``. String escapes: ``\\n \\t \\r \\\\
  \\" \\' \\/ \\xHH \\uHHHH \\UHHHHHHHH``; any other backslash sequence is kept as
  written, so regexes read naturally: ``matches(text, "\\d+")``.

Functions (the whitelist, ``FUNCTIONS``):

- ``len(x)``: length of a string, list or object.
- ``words(s)``: number of whitespace-separated words of a string.
- ``entropy(s)``: Shannon entropy in bits of the string's token distribution
  (``synthdsl.textproc.tokens.tokenize``); 0 for fewer than two tokens. Low values flag
  repetitive, degenerate text.
- ``lines(s)``: number of lines of a string (``""`` has 0).
- ``chars(s)``: number of characters of a string.
- ``lower(s)``, ``upper(s)``, ``strip(s)``: string transforms.
- ``contains(s, sub)``: substring test (or list membership when ``s`` is a list).
- ``startswith(s, prefix)``, ``endswith(s, suffix)``.
- ``matches(s, regex)``: ``re.search``; regexes are compiled once and cached, and an
  invalid literal regex is reported when the recipe is checked.
- ``int(x)``, ``float(x)``: from numbers, booleans or numeric strings.
- ``str(x)``: strings unchanged, numbers as text, null/booleans/lists/objects as JSON.
- ``abs(x)``, ``round(x)``/``round(x, digits)``.
- ``min(list)``/``min(a, b, ...)``, ``max(...)``: over all numbers or all strings.
- ``any(list)``, ``all(list)``: truthiness of the items.
- ``exists(field)``: true when a field path (``exists(meta.source)``) is present, even
  if null; never raises. Null checks: ``x == null`` / ``x != null``.

Installed plugins add functions (entry point group ``synthdsl.functions``,
``plugin_functions.py``); their names, arities and declared argument types are checked
like the built-ins' (``docs/plugins.md``).
"""

from __future__ import annotations

from collections.abc import Mapping

from synthdsl.lang.expr.errors import ExpressionRuntimeError
from synthdsl.lang.expr.expression import Expression, parse_expression
from synthdsl.lang.expr.functions import FUNCTION_SPECS, FunctionSpec

__all__ = ["FUNCTIONS", "Expression", "ExpressionRuntimeError", "FunctionSpec", "parse_expression"]

FUNCTIONS: Mapping[str, FunctionSpec] = FUNCTION_SPECS
"""The function whitelist: name → ``FunctionSpec`` (arity, signature, one-line doc)."""
