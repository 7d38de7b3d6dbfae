"""The recipe language: text -> checked values (load, schema, params, expr, templates)."""
