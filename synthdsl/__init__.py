"""synthdsl: declarative recipes for synthetic LLM training data.

Importing this package does no work: every heavy dependency (litellm, xllamacpp,
pyarrow) is imported lazily by the one module that needs it.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
