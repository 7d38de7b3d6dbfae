"""Unit tests of the compiler's stages (``synthdsl.compile``), one module per stage.

A package (with this file) so that its module names (``compile.test_graph``, ...) cannot
clash with test modules of the same name in other test folders.
"""
