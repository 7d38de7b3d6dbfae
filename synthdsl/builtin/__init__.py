"""The built-in strategies: recipes (``recipes/``), their prompts (``prompts/``) and data.

Package data, found by ``synthdsl.compile.resolve`` through ``importlib.resources``;
``use: self_instruct`` works from any folder once synthdsl is installed.
"""
