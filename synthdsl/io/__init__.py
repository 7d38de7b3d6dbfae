"""Readers and writers of data files.

``readers`` (one module per source format, ``SourceReader`` to drive them), ``writers``
(the dataset, rejects and atomic JSON writers), ``chat`` (the dataset layouts rows are
exported in), ``json_text`` (the JSON rules every output follows, ``SinkError``) and
``arrow_types`` (Parquet column typing). Nothing is imported here: import the module
you need. Raises nothing.
"""
