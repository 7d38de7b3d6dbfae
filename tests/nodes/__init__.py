"""Unit tests of each node kind (``synthdsl.nodes``), without the compiler or the runtime.

A package, so that its module names (``nodes.test_verify``) do not clash with the
end-to-end tests of the same basename in ``tests/``.
"""
