"""The provider layer: the only package that talks to LLMs.

``run`` uses it; nothing else does. litellm is imported lazily, by
``litellm_backend`` alone.
"""
